import * as vscode from 'vscode';
import {
  DEFAULT_PYTHONS,
  findPython,
  reconcileArgs,
  runCompanion,
} from '../../core/python/companion';
import { type MergedStudy, trialsOnlyInSqlite } from '../../core/storage/mergedView';
import { splitPassword } from '../../core/redis/url';
import { isCancelled, withCancellableProgress } from '../progress';
import type { Services } from '../services';
import type { StoreService } from '../storeService';
import { requireTrust } from '../trust';
import type { Node } from '../views/nodes';

/** The companion's exit status for a refused reconcile (journal gap or rollback, unverified). */
const EXIT_REFUSED = 1;

/** One study of the companion's `reconcile --json` report. */
export interface StudyReconcile {
  study: string;
  copied: number;
  completed: number;
  already: number;
  skipped_running: number;
  refused: string | null;
  refused_trials: number;
  verified: boolean | null;
  mismatches: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * "Heal Split Study": the trials an outage left only in the SQLite fallback are appended to
 * the Redis journal by the Python companion's reconcile (the one implementation, also behind
 * `optuna-storage reconcile` and the Python storage's own return to Redis). A dry run first
 * gives the exact numbers for a modal confirmation; Cancel kills the companion (a reconcile
 * stopped halfway is finished by running it again, each trial still once).
 */
export async function healStudy(s: Services, node?: Node): Promise<StudyReconcile | undefined> {
  if (!requireTrust('Healing a split study')) return undefined;
  const study = await splitStudyFrom(s, node);
  if (!study) return undefined;
  const settings = s.store.settings;
  if (!study.redis || !study.sqlite || !settings.redisUrl || !settings.sqlitePath) {
    void vscode.window.showInformationMessage(
      `"${study.name}" is not split: it is not in both the Redis journal and the SQLite fallback.`,
    );
    return undefined;
  }
  if (s.store.state.state !== 'redis') {
    void vscode.window.showErrorMessage(
      `Redis is not reachable now: "${study.name}" can be healed once Redis is back (nothing was written).`,
    );
    return undefined;
  }
  const { url, password: inUrl } = splitPassword(settings.redisUrl);
  // The password kept for this endpoint: with Sentinel, only one the user agreed to send
  // through those sentinels (the store asked when it connected).
  const password =
    inUrl ??
    (await s.passwords.get(settings.redisUrl, settings.sentinel).then(undefined, () => undefined));
  const root = s.context.extensionPath;
  const reconcile = async (dryRun: boolean, signal: AbortSignal, report?: (m: string) => void) => {
    const { python } = await findPython(DEFAULT_PYTHONS, root, signal);
    const r = await runCompanion({
      python,
      extensionRoot: root,
      args: reconcileArgs({
        redisUrl: url,
        sentinel: settings.sentinel,
        prefix: study.prefix ?? '',
        sqlitePath: settings.sqlitePath!,
        study: study.name,
        dryRun,
        json: true,
        progress: !dryRun,
      }),
      password,
      signal,
      onStderrLine: (line) => {
        const m = /^progress .* (\d+)\/(\d+)$/.exec(line);
        if (m) report?.(`${m[1]} of ${m[2]} trials`);
        else if (line.trim()) s.log.info(`heal: ${line}`);
      },
    });
    const parsed = r.code === 0 || r.code === EXIT_REFUSED ? parseReport(r.stdout) : undefined;
    return { code: r.code, stderr: r.stderr.trim(), study: parsed };
  };

  let plan;
  try {
    plan = await withCancellableProgress(`Checking "${study.name}" for trials to heal`, (_, sig) =>
      reconcile(true, sig),
    );
  } catch (e) {
    if (isCancelled(e)) return undefined;
    throw e;
  }
  if (!plan.study) return refused(s, study.name, plan.code, plan.stderr);
  if (plan.study.refused) return refused(s, study.name, EXIT_REFUSED, plan.study.refused);
  const toCopy = plan.study.copied;
  const toComplete = plan.study.completed;
  if (toCopy + toComplete === 0) {
    void vscode.window.showInformationMessage(
      `"${study.name}" needs no healing: ${plural(plan.study.already, 'finished SQLite trial')} already in Redis${plan.study.skipped_running ? `, ${plan.study.skipped_running} still running in SQLite (heal again once they finish)` : ''}.`,
    );
    await s.refresh.refresh('wrote');
    return plan.study;
  }
  const what = [
    toCopy ? `copy ${plural(toCopy, 'trial')}` : undefined,
    toComplete ? `complete ${plural(toComplete, 'trial')} left RUNNING` : undefined,
  ]
    .filter(Boolean)
    .join(' and ');
  const answer = await vscode.window.showWarningMessage(
    `Heal study "${study.name}": ${what} from the SQLite fallback into Redis?`,
    {
      modal: true,
      detail:
        `The trials are appended to the Redis journal (prefix "${study.prefix ?? ''}") as Optuna's own records, each exactly once, and read back to verify. ` +
        `The SQLite file ${settings.sqlitePath} is only read.` +
        (plan.study.skipped_running
          ? ` ${plural(plan.study.skipped_running, 'trial')} still RUNNING in SQLite ${plan.study.skipped_running === 1 ? 'is' : 'are'} left for a later heal.`
          : ''),
    },
    'Heal Study',
  );
  if (answer !== 'Heal Study') return undefined;
  let done;
  try {
    done = await withCancellableProgress(`Healing "${study.name}"`, (report, sig) =>
      reconcile(false, sig, report),
    );
  } catch (e) {
    if (isCancelled(e)) {
      s.log.info(`heal: "${study.name}" cancelled`);
      void vscode.window.showInformationMessage(
        `Healing "${study.name}" cancelled. Trials already appended stay in Redis (each once); Heal Split Study again finishes the job.`,
      );
      await s.refresh.refresh('wrote');
      return undefined;
    }
    throw e;
  }
  await s.refresh.refresh('wrote');
  const r = done.study;
  if (!r) return refused(s, study.name, done.code, done.stderr);
  if (r.refused || r.verified === false) {
    refused(
      s,
      study.name,
      EXIT_REFUSED,
      r.refused ?? `the read-back differs: ${r.mismatches.slice(0, 3).join('; ')}`,
    );
    return r;
  }
  const counts = `copied ${r.copied}, completed ${r.completed}, already there ${r.already}, skipped (still running) ${r.skipped_running}, refused ${r.refused_trials}`;
  s.log.info(`heal: "${study.name}" ${counts}; verified`);
  void vscode.window.showInformationMessage(
    `Healed "${study.name}": ${counts}. Read back from Redis and verified.`,
  );
  return r;
}

/**
 * Keeps the context key `optunaStorage.splitStudies` current: package.json offers Heal Split
 * Study in the Command Palette only while some study has trials only in SQLite.
 */
export function trackSplitStudies(svc: StoreService): vscode.Disposable {
  let last: boolean | undefined;
  const set = () => {
    const any = svc.studies().some((x) => trialsOnlyInSqlite(x) > 0);
    if (any === last) return;
    last = any;
    void vscode.commands.executeCommand('setContext', 'optunaStorage.splitStudies', any);
  };
  set();
  return svc.onDidChangeData(set);
}

/** The node's study, or one picked among the studies in both stores (split ones first). */
async function splitStudyFrom(s: Services, node?: Node): Promise<MergedStudy | undefined> {
  if (node?.kind === 'study') return s.store.findStudy(node.study.key) ?? node.study;
  const both = s.store
    .studies()
    .filter((x) => x.redis && x.sqlite)
    .sort((a, b) => trialsOnlyInSqlite(b) - trialsOnlyInSqlite(a));
  if (both.length === 0) {
    void vscode.window.showInformationMessage(
      'No study is split: none is in both the Redis journal and the SQLite fallback.',
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    both.map((x) => ({
      label: x.name,
      description: `split: ${trialsOnlyInSqlite(x)} trials only in SQLite · Redis prefix "${x.prefix ?? ''}"`,
      study: x,
    })),
    { placeHolder: 'Heal which split study?' },
  );
  return pick?.study;
}

function parseReport(stdout: string): StudyReconcile | undefined {
  try {
    const out = JSON.parse(stdout) as { studies: StudyReconcile[] };
    return out.studies[0];
  } catch {
    return undefined;
  }
}

/** A failed or refused reconcile as one error with what to do; nothing more is written. */
function refused(s: Services, name: string, code: number, why: string): undefined {
  const last = why.trim().split('\n').pop() ?? '';
  const cause = last.replace(/^reconcile: (refused, nothing written: )?/, '') || `exit ${code}`;
  s.log.error(`heal: "${name}" failed (exit ${code}): ${why}`);
  void vscode.window.showErrorMessage(
    code === EXIT_REFUSED
      ? `Heal of "${name}" refused, nothing written: ${cause}. When the Redis journal lost entries or was emptied or rolled back since the outage, restore it from a backup (Restore Redis) or check that this is the Redis the optimizers used, then heal again; the trials stay in the SQLite file.`
      : `Heal of "${name}" failed: ${cause}`,
  );
  return undefined;
}
