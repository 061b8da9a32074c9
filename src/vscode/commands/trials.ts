import * as vscode from 'vscode';
import { TRIAL_STATES, type TrialState } from '../../core/optuna/model';
import { studyFrom } from '../pickers';
import type { Services } from '../services';
import type { Node } from '../views/nodes';

/** Lists a study's trials in the Trials view (from the Studies view, or a picked study). */
export async function showTrials(s: Services, node?: Node): Promise<void> {
  const study = await studyFrom(s.store, node, 'Show the trials of which study?');
  if (!study) return;
  s.trials.show(study.key);
  s.trialsView.description = s.trials.description();
  await vscode.commands.executeCommand('optunaStorage.trials.focus');
}

/** Fills the Trials view with the study selected in the Studies view (without moving focus). */
export function selectStudy(s: Services, selection: readonly Node[]): void {
  const node = selection.length === 1 ? selection[0] : undefined;
  if (node?.kind !== 'study' || node.study.key === s.trials.studyKey) return;
  s.trials.show(node.study.key);
  s.trialsView.description = s.trials.description();
}

/** A new order starts at its top: the first row is revealed, not the old scroll position. */
export async function sortTrials(s: Services, sort: 'number' | 'best'): Promise<void> {
  s.trials.setSort(sort);
  s.trialsView.description = s.trials.description();
  const first = s.trials.getChildren()[0];
  if (first && s.trialsView.visible)
    await s.trialsView.reveal(first, { select: false, focus: false });
}

export async function filterStates(s: Services): Promise<void> {
  const picks = await vscode.window.showQuickPick(
    TRIAL_STATES.map((st) => ({ label: st, picked: s.trials.states.has(st) })),
    { canPickMany: true, placeHolder: 'Show trials in these states (none selected: all)' },
  );
  if (!picks) return;
  s.trials.setStates(new Set(picks.map((p) => p.label as TrialState)));
  s.trialsView.description = s.trials.description();
}

export function loadMore(s: Services, node?: Node): void {
  if (node?.kind !== 'loadMore') return;
  if (node.id.startsWith('trials:')) s.trials.loadMore();
  else s.studies.loadMore(node.studyKey);
}
