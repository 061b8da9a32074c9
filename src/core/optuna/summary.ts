import { type Study, TRIAL_STATES, type Trial, type TrialState } from './model';
import { tableOf } from './tableStudy';
import { datetimeMicros } from './datetimeMicros';
import type { JsonValue } from './pythonJsonParse';
import { type TrialTable, TrialRow } from './trialTable';

export interface StudySummary {
  counts: Record<TrialState, number>;
  /** Best COMPLETE trial of a single-objective study (Optuna's `best_trial`), if any. */
  best: Trial | undefined;
  /** Latest start or completion time among the trials, as stored. */
  lastActivity: string | null;
}

/** The first objective value as a number (a Python int beyond 2^53 included), if any. */
export function firstValue(t: Trial | undefined): number | undefined {
  const v = t === undefined ? undefined : firstValueOf(t);
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

export function summarizeStudy(s: Study): StudySummary {
  const table = tableOf(s);
  if (table) return summarizeTable(table, s.directions);
  const counts = Object.fromEntries(TRIAL_STATES.map((st) => [st, 0])) as Record<
    TrialState,
    number
  >;
  let best: Trial | undefined;
  let bestValue = 0;
  // The latest start or completion, compared as microseconds; its text is built once.
  let latest: Trial | undefined;
  let latestWhich: 'start' | 'complete' = 'start';
  let latestAt = -Infinity;
  const maximize = s.directions[0] === 'MAXIMIZE';
  for (const t of s.trials) {
    const state = t.state;
    counts[state]++;
    for (const which of ['start', 'complete'] as const) {
      const at = datetimeOrderOf(t, which);
      if (at > latestAt) {
        latestAt = at;
        latest = t;
        latestWhich = which;
      }
    }
    if (s.directions.length !== 1 || state !== 'COMPLETE') continue;
    const v = firstValue(t);
    if (v === undefined || Number.isNaN(v)) continue;
    if (best === undefined || (maximize ? v > bestValue : v < bestValue)) {
      best = t;
      bestValue = v;
    }
  }
  const lastActivity = !latest
    ? null
    : latestWhich === 'start'
      ? latest.datetimeStart
      : latest.datetimeComplete;
  return { counts, best, lastActivity };
}

const COMPLETE = TRIAL_STATES.indexOf('COMPLETE');

/** summarizeStudy over a table's columns: no handle, no text, per trial. */
function summarizeTable(t: TrialTable, directions: readonly string[]): StudySummary {
  const byCode = new Array<number>(TRIAL_STATES.length).fill(0);
  const single = directions.length === 1;
  const maximize = directions[0] === 'MAXIMIZE';
  let bestRow = -1;
  let bestValue = 0;
  let latestRow = -1;
  let latestWhich: 'start' | 'complete' = 'start';
  let latestAt = -Infinity;
  const { states, starts, completes } = t;
  for (let r = 0; r < t.length; r++) {
    const state = states[r];
    byCode[state]++;
    // -Infinity marks a datetime kept as text (an offset): compared by its wall time.
    const start = starts[r] === -Infinity ? t.datetimeOrder(r, 'start') : starts[r];
    if (start > latestAt) {
      latestAt = start;
      latestRow = r;
      latestWhich = 'start';
    }
    const complete = completes[r] === -Infinity ? t.datetimeOrder(r, 'complete') : completes[r];
    if (complete > latestAt) {
      latestAt = complete;
      latestRow = r;
      latestWhich = 'complete';
    }
    if (!single || state !== COMPLETE) continue;
    const raw = t.firstValue(r);
    const v = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : NaN;
    if (Number.isNaN(v)) continue;
    if (bestRow < 0 || (maximize ? v > bestValue : v < bestValue)) {
      bestRow = r;
      bestValue = v;
    }
  }
  const counts = Object.fromEntries(TRIAL_STATES.map((st, i) => [st, byCode[i]])) as Record<
    TrialState,
    number
  >;
  return {
    counts,
    best: bestRow < 0 ? undefined : t.row(bestRow),
    lastActivity: latestRow < 0 ? null : t.datetime(latestRow, latestWhich),
  };
}

/** `t.values[0]` (undefined when there is none), without building the list for a table row. */
function firstValueOf(t: Trial): JsonValue | undefined {
  return t instanceof TrialRow ? t.table.firstValue(t.row) : (t.values?.[0] ?? undefined);
}

/**
 * A trial's datetime as microseconds, for ordering and finding the latest (NaN when it has
 * none): the naive wall time, as the stored texts compare. No text is built for a table row.
 */
function datetimeOrderOf(t: Trial, which: 'start' | 'complete'): number {
  if (t instanceof TrialRow) return t.table.datetimeOrder(t.row, which);
  const text = which === 'start' ? t.datetimeStart : t.datetimeComplete;
  return text === null ? NaN : datetimeMicros(text.slice(0, 26));
}
