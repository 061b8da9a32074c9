import * as vscode from 'vscode';
import { enqueueTrialSnippet } from '../../core/optuna/pythonSnippet';
import { toStrictJson } from '../../core/optuna/strictJson';
import { trialFrom } from '../pickers';
import type { Services } from '../services';
import type { Node } from '../views/nodes';

export async function copyParams(s: Services, node?: Node): Promise<void> {
  const picked = await trialFrom(s.store, node, 'Copy the params of which trial?');
  if (!picked) return;
  await vscode.env.clipboard.writeText(toStrictJson(picked.trial.trial.params, '  '));
  vscode.window.setStatusBarMessage(
    `Copied the params of trial #${picked.trial.trial.number} as JSON`,
    3000,
  );
}

export async function copyEnqueueSnippet(s: Services, node?: Node): Promise<void> {
  const picked = await trialFrom(s.store, node, 'Copy an enqueue_trial snippet for which trial?');
  if (!picked) return;
  await vscode.env.clipboard.writeText(enqueueTrialSnippet(picked.trial.trial.params));
  vscode.window.setStatusBarMessage(
    `Copied study.enqueue_trial(...) for trial #${picked.trial.trial.number}`,
    3000,
  );
}
