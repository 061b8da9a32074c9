import * as vscode from 'vscode';
import type { RunRecord } from '../../core/runs/record';
import { studyFrom } from '../pickers';
import type { RunsApi } from '../runs/register';
import type { Services } from '../services';
import type { Node } from '../views/nodes';

/**
 * Opens (or reveals) the page of a study: from a study or trial node, a run of the Runs view
 * (its study), a study key, or a picker.
 */
export async function openStudyPage(
  s: Services,
  arg?: Node | { run: RunRecord } | string,
): Promise<unknown> {
  if (typeof arg === 'string') {
    const study = s.store.findStudy(arg) ?? s.store.studies().find((x) => x.name === arg);
    if (!study) throw new Error(`no study ${JSON.stringify(arg)} in the store`);
    return s.studyPages.open(study);
  }
  if (arg && 'run' in arg) {
    const manager = (s as Services & { runs?: RunsApi }).runs?.manager;
    const study = manager?.studyOf(manager.get(arg.run.id) ?? arg.run);
    if (!study) {
      void vscode.window.showInformationMessage(
        `The study of run "${arg.run.label}" is not in the store (yet): it appears once the run has written to it.`,
      );
      return undefined;
    }
    return s.studyPages.open(study);
  }
  const study = await studyFrom(s.store, arg, 'Open the page of which study?');
  return study ? s.studyPages.open(study) : undefined;
}
