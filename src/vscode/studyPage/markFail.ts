import * as vscode from 'vscode';
import { failJournalTrials, failSqliteTrials } from '../../core/storage/markFail';
import type { MergedStudy, MergedTrial } from '../../core/storage/mergedView';
import { studyFrom } from '../pickers';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';

/** "#3, #17 and #40" (at most 12 named). */
function names(trials: MergedTrial[]): string {
  const n = trials.map((t) => `#${t.trial.number}`);
  if (n.length > 12) return `${n.slice(0, 12).join(', ')} and ${n.length - 12} more`;
  return n.length > 1 ? `${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}` : n[0];
}

/**
 * "Mark as FAIL" for RUNNING trials that will never finish (zombies): after a modal
 * confirmation naming the trials, writes Optuna's own record — SET_TRIAL_STATE_VALUES with FAIL
 * and datetime_complete into the Redis journal; for trials that live only in the SQLite file,
 * and only after a second confirmation naming that file, an update in one short transaction.
 * Never done automatically; needs a trusted workspace.
 */
export async function markTrialsFailed(
  s: Services,
  study: MergedStudy,
  trials: MergedTrial[],
): Promise<boolean> {
  if (!requireTrust('Marking trials as FAIL')) return false;
  const running = trials.filter((t) => t.trial.state === 'RUNNING');
  if (running.length === 0) {
    void vscode.window.showInformationMessage('Only RUNNING trials can be marked as FAIL.');
    return false;
  }
  const inRedis = running.filter((t) => t.source !== 'sqlite');
  const inSqlite = running.filter((t) => t.source === 'sqlite');
  const sqlitePath = s.store.settings.sqlitePath;
  const where = [
    inRedis.length
      ? `the Redis journal ${s.store.current?.redisWhere ?? ''} (prefix "${study.prefix}")`
      : undefined,
    inSqlite.length ? `the SQLite file ${sqlitePath}` : undefined,
  ]
    .filter(Boolean)
    .join(' and ');
  const answer = await vscode.window.showWarningMessage(
    `Mark ${running.length === 1 ? 'trial' : `${running.length} trials`} ${names(running)} of "${study.name}" as FAIL?`,
    {
      modal: true,
      detail: `Each is set to FAIL with the completion time now, as Optuna's fail_stale_trials would, by writing Optuna's own record into ${where}. If a worker is in fact still running one of them, its next write to that trial fails (Optuna refuses updates to finished trials). This cannot be undone from here.`,
    },
    'Mark as FAIL',
  );
  if (answer !== 'Mark as FAIL') return false;
  if (inSqlite.length) {
    const ok = await vscode.window.showWarningMessage(
      `Write to the SQLite file ${sqlitePath}?`,
      {
        modal: true,
        detail: `${names(inSqlite)} ${inSqlite.length === 1 ? 'lives' : 'live'} only in this file, which the optimizers use as their fallback while Redis is down. The change is one short transaction; optimizers writing at the same moment wait for it.`,
      },
      'Write to SQLite File',
    );
    if (ok !== 'Write to SQLite File') return false;
  }
  const done: MergedTrial[] = [];
  try {
    if (inRedis.length) {
      const client = s.store.current?.redisClient;
      if (!client || s.store.state.state !== 'redis')
        throw new Error('Redis is not reachable now; nothing was written to it');
      await failJournalTrials(
        client,
        study.prefix ?? '',
        inRedis.map((t) => ({ trialId: t.trial.trialId, datetimeStart: t.trial.datetimeStart })),
      );
      done.push(...inRedis);
    }
    if (inSqlite.length && sqlitePath) {
      const changed = new Set(
        failSqliteTrials(
          sqlitePath,
          inSqlite.map((t) => t.trial.trialId),
        ),
      );
      done.push(...inSqlite.filter((t) => changed.has(t.trial.trialId)));
    }
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Could not mark trials of "${study.name}" as FAIL${done.length ? ` (done: ${names(done)})` : ''}: ${(e as Error).message}`,
    );
    return false;
  } finally {
    if (done.length) {
      s.log.info(`marked ${names(done)} of study "${study.name}" as FAIL in ${where}`);
      await s.refresh.refresh('wrote');
    }
  }
  void vscode.window.showInformationMessage(`Marked ${names(done)} of "${study.name}" as FAIL.`);
  return true;
}

/** The command from the trees (a RUNNING trial node) or the palette (pick a study, then trials). */
export async function markTrialsFailedCommand(s: Services, node?: Node): Promise<boolean> {
  if (!requireTrust('Marking trials as FAIL')) return false;
  if (node?.kind === 'trial') {
    const study = s.store.findStudy(node.studyKey) ?? node.study;
    const t = study.trials.find((x) => x.trial === node.trial.trial) ?? node.trial;
    return markTrialsFailed(s, study, [t]);
  }
  const study = await studyFrom(s.store, node, 'Mark RUNNING trials of which study as FAIL?');
  if (!study) return false;
  const running = study.trials.filter((t) => t.trial.state === 'RUNNING');
  if (running.length === 0) {
    void vscode.window.showInformationMessage(`"${study.name}" has no RUNNING trials.`);
    return false;
  }
  const picks = await vscode.window.showQuickPick(
    running.map((t) => ({
      label: `#${t.trial.number}`,
      description: `started ${t.trial.datetimeStart ?? '—'}`,
      t,
    })),
    { canPickMany: true, placeHolder: 'RUNNING trials to mark as FAIL' },
  );
  if (!picks?.length) return false;
  return markTrialsFailed(
    s,
    study,
    picks.map((p) => p.t),
  );
}
