import * as vscode from 'vscode';
import type { MergedStudy, MergedTrial } from '../core/storage/mergedView';
import type { StoreService } from './storeService';
import type { Node } from './views/nodes';
import { orderTrials } from './views/trialOrder';
import { show } from './views/nodes';

/** The study a command acts on: the tree node it was invoked on, or one the user picks. */
export async function studyFrom(
  service: StoreService,
  node: Node | undefined,
  placeHolder: string,
): Promise<MergedStudy | undefined> {
  if (node?.kind === 'study') return service.findStudy(node.study.key) ?? node.study;
  if (node?.kind === 'trial') return service.findStudy(node.studyKey) ?? node.study;
  const studies = service.studies();
  if (studies.length === 0) {
    void vscode.window.showInformationMessage('No studies in the Optuna storage yet.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    studies.map((s) => ({
      label: s.name,
      description: `${s.trials.length} trials · ${s.redis ? `Redis prefix "${s.prefix}"` : ''}${s.redis && s.sqlite ? ' + ' : ''}${s.sqlite ? 'SQLite' : ''}`,
      study: s,
    })),
    { placeHolder, matchOnDescription: true },
  );
  return pick?.study;
}

/** The trial a command acts on: the node, or a study then a trial picked by the user. */
export async function trialFrom(
  service: StoreService,
  node: Node | undefined,
  placeHolder: string,
): Promise<{ study: MergedStudy; trial: MergedTrial } | undefined> {
  if (node?.kind === 'trial') return { study: node.study, trial: node.trial };
  const study = await studyFrom(service, node, 'Pick the study');
  if (!study) return undefined;
  const pick = await vscode.window.showQuickPick(
    orderTrials(study, 'best').map((t) => ({
      label: `#${t.trial.number}`,
      description: `${t.trial.state}${t.trial.values ? ` · ${t.trial.values.map(show).join(', ')}` : ''}`,
      trial: t,
    })),
    { placeHolder },
  );
  return pick ? { study, trial: pick.trial } : undefined;
}
