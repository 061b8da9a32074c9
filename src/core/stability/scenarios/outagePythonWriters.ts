import * as path from 'node:path';
import type { Study } from '../../optuna/model';
import { type ScenarioContext, plural } from '../context';
import type { DisposableRedis } from '../disposableRedis';
import { PythonWriters, type WriterTrial, tallyWriters } from '../pythonWriters';
import { PROMISES, check } from '../scenarios';
import type { Check, MetricValue } from '../types';

// The Python writers' part of the outage scenarios: real optimizers on the companion's failover
// storage, started beside the journal writers, tallied against Redis and reported beside the
// reader's figures. OutageRun waits for them (pyReach); everything else about them is here.

/** The study the Python writers optimize (beside the journal writers' STUDY, same prefix). */
export const PY_STUDY = 'suite-outage-python';

/**
 * Starts the Python writers on the disposable server `d`, or says why there are none (no
 * companion, no Python with Optuna): the scenarios then run and report without them.
 */
export async function startPythonWriters(
  ctx: ScenarioContext,
  d: DisposableRedis,
): Promise<PythonWriters | string> {
  const companion = await ctx.companion();
  if (typeof companion === 'string') {
    ctx.log(`no Python writers: ${companion}`);
    return companion;
  }
  const py = new PythonWriters(companion, {
    url: d.url,
    password: d.password,
    prefix: ctx.prefix,
    // Their own fallback file: the user's is only ever read.
    sqlitePath: path.join(ctx.tempDir, `${ctx.id}-writers.db`),
    study: PY_STUDY,
    cwd: ctx.tempDir,
  });
  ctx.log(
    `${py.count} Python writers on the companion's storage (${companion.python}, Optuna ${companion.optuna}) optimizing ${PY_STUDY}`,
  );
  return py;
}

/**
 * Tallies the trials the writers told against `studies` (a fresh read of Redis), adding to
 * `problems` what is lost, duplicated or (once they have `stopped`) left RUNNING.
 */
export function tallyOnRedis(
  told: readonly WriterTrial[],
  studies: readonly Study[],
  stopped: boolean,
  problems: string[],
): ReturnType<typeof tallyWriters> {
  const tally = tallyWriters(
    told,
    studies.find((s) => s.name === PY_STUDY),
    stopped,
  );
  problems.push(...tallyProblems(tally));
  return tally;
}

/** What the Python writers measured in an outage scenario. */
export interface WriterFigures {
  failoverMs: number | null;
  recoveryMs: number | null;
  tally?: ReturnType<typeof tallyWriters>;
}

/**
 * The Python writers' checks (beside the reader's), metrics and a headline clause; without
 * writers only the reason. `problems` gets what went wrong with them.
 */
export function writerReport(
  run: { py?: PythonWriters; pySkipped?: string },
  f: WriterFigures,
  extra: Record<string, MetricValue> = {},
): { checks: Check[]; metrics: Record<string, MetricValue>; headline: string } {
  const py = run.py;
  if (!py)
    return {
      checks: [],
      metrics: { writers: `not run: ${run.pySkipped ?? 'unknown'}` },
      headline: `; no Python writers (${run.pySkipped})`,
    };
  const t = f.tally;
  const ms = (v: number | null) => (v === null ? null : `${v} ms`);
  const count = (v: number | undefined) => (v === undefined ? null : String(v));
  return {
    checks: [
      check(
        'writers_failover_ms',
        'Python writers: time to write on SQLite',
        `< ${PROMISES.failoverMs} ms`,
        ms(f.failoverMs),
        f.failoverMs !== null && f.failoverMs < PROMISES.failoverMs,
      ),
      check(
        'writers_recovery_ms',
        'Python writers: time to write on Redis again',
        `< ${PROMISES.recoveryMs} ms`,
        ms(f.recoveryMs),
        f.recoveryMs !== null && f.recoveryMs < PROMISES.recoveryMs,
      ),
      check('writers_lost', 'Python writers: trials lost', '0', count(t?.lost), t?.lost === 0),
      check(
        'writers_duplicated',
        'Python writers: trials duplicated',
        '0',
        count(t?.duplicated),
        t?.duplicated === 0,
      ),
    ],
    metrics: {
      writers: `${py.count} × ${py.companion.python} (Optuna ${py.companion.optuna})`,
      writers_failover_ms: f.failoverMs,
      writers_recovery_ms: f.recoveryMs,
      ...extra,
      writers_trials: py.trials.length,
      writers_trials_checked: t?.checked ?? null,
      writers_lost: t?.lost ?? null,
      writers_duplicated: t?.duplicated ?? null,
      writers_running_left: t?.running ?? null,
    },
    headline: `; ${py.count} Python writers wrote on SQLite ${f.failoverMs} ms after Redis went away and on Redis again ${f.recoveryMs} ms after it was back, ${t?.checked ?? 0} of their trials checked: ${t?.lost ?? '?'} lost, ${t?.duplicated ?? '?'} duplicated`,
  };
}

/** Problems with the writers' read-back: lost, duplicated, or left RUNNING. */
function tallyProblems(t: ReturnType<typeof tallyWriters>): string[] {
  const out: string[] = [];
  if (t.lost > 0)
    out.push(`${plural(t.lost, 'trial')} the Python writers told are missing from Redis`);
  if (t.duplicated > 0)
    out.push(`${plural(t.duplicated, 'trial')} of the Python writers are in Redis twice`);
  if (t.running !== null && t.running > 0)
    out.push(`${plural(t.running, 'trial')} of the Python writers left RUNNING in Redis`);
  return out;
}
