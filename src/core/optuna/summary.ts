import { type Study, TRIAL_STATES, type Trial, type TrialState } from './model';

export interface StudySummary {
  counts: Record<TrialState, number>;
  /** Best COMPLETE trial of a single-objective study (Optuna's `best_trial`), if any. */
  best: Trial | undefined;
  /** Latest start or completion time among the trials, as stored. */
  lastActivity: string | null;
}

/** The first objective value as a number (a Python int beyond 2^53 included), if any. */
export function firstValue(t: Trial | undefined): number | undefined {
  const v = t?.values?.[0];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

export function summarizeStudy(s: Study): StudySummary {
  const counts = Object.fromEntries(TRIAL_STATES.map((st) => [st, 0])) as Record<
    TrialState,
    number
  >;
  let best: Trial | undefined;
  let bestValue = 0;
  let lastActivity: string | null = null;
  const maximize = s.directions[0] === 'MAXIMIZE';
  for (const t of s.trials) {
    counts[t.state]++;
    for (const d of [t.datetimeStart, t.datetimeComplete])
      if (d !== null && (lastActivity === null || d > lastActivity)) lastActivity = d;
    if (s.directions.length !== 1 || t.state !== 'COMPLETE') continue;
    const v = firstValue(t);
    if (v === undefined || Number.isNaN(v)) continue;
    if (best === undefined || (maximize ? v > bestValue : v < bestValue)) {
      best = t;
      bestValue = v;
    }
  }
  return { counts, best, lastActivity };
}
