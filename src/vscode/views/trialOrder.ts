import type { TrialState } from '../../core/optuna/model';
import { firstValue } from '../../core/optuna/summary';
import type { MergedStudy, MergedTrial } from '../../core/storage/mergedView';

export type TrialSort = 'number' | 'best';

function first(m: MergedTrial): number | undefined {
  const v = firstValue(m.trial);
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

/**
 * Trials as a view lists them: by number (Redis trials, then SQLite-only ones), or best
 * first — COMPLETE trials by their first objective in the study's direction, the rest after.
 */
export function orderTrials(
  study: MergedStudy,
  sort: TrialSort,
  states?: ReadonlySet<TrialState>,
): MergedTrial[] {
  const list =
    states && states.size > 0
      ? study.trials.filter((t) => states.has(t.trial.state))
      : [...study.trials];
  if (sort === 'number') return list;
  const maximize = (study.redis ?? study.sqlite)!.directions[0] === 'MAXIMIZE';
  // Each trial's key once (a trial's fields are read from its columns on every access).
  const keyed = list.map((m) => ({
    m,
    v: m.trial.state === 'COMPLETE' ? first(m) : undefined,
    n: m.trial.number,
  }));
  keyed.sort((a, b) => {
    if (a.v === undefined || b.v === undefined)
      return a.v === undefined ? (b.v === undefined ? a.n - b.n : 1) : -1;
    return (maximize ? b.v - a.v : a.v - b.v) || a.n - b.n;
  });
  return keyed.map((k) => k.m);
}

/** The best COMPLETE trial (single objective), as Optuna's `best_trial` picks it. */
export function bestTrial(study: MergedStudy): MergedTrial | undefined {
  const directions = (study.redis ?? study.sqlite)!.directions;
  if (directions.length !== 1) return undefined;
  const maximize = directions[0] === 'MAXIMIZE';
  let best: MergedTrial | undefined;
  let bestValue = 0;
  for (const m of study.trials) {
    const v = m.trial.state === 'COMPLETE' ? first(m) : undefined;
    if (v === undefined) continue;
    if (best === undefined || (maximize ? v > bestValue : v < bestValue)) {
      best = m;
      bestValue = v;
    }
  }
  return best;
}
