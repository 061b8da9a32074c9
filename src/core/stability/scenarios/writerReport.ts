import { plural } from '../context';
import type { PythonWriters, tallyWriters } from '../pythonWriters';
import { PROMISES, check } from '../scenarios';
import type { Check, MetricValue } from '../types';

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
export function tallyProblems(t: ReturnType<typeof tallyWriters>): string[] {
  const out: string[] = [];
  if (t.lost > 0)
    out.push(`${plural(t.lost, 'trial')} the Python writers told are missing from Redis`);
  if (t.duplicated > 0)
    out.push(`${plural(t.duplicated, 'trial')} of the Python writers are in Redis twice`);
  if (t.running !== null && t.running > 0)
    out.push(`${plural(t.running, 'trial')} of the Python writers left RUNNING in Redis`);
  return out;
}
