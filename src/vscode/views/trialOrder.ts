import type { TrialState } from '../../core/optuna/model';
import type { MergedStudy, MergedTrial } from '../../core/storage/mergedView';

export type TrialSort = 'number' | 'best';

function first(m: MergedTrial): number | undefined {
  const v = m.trial.values?.[0];
  return typeof v === 'number' && !Number.isNaN(v)
    ? v
    : typeof v === 'bigint'
      ? Number(v)
      : undefined;
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
  const key = (m: MergedTrial) => (m.trial.state === 'COMPLETE' ? first(m) : undefined);
  return list.sort((a, b) => {
    const va = key(a);
    const vb = key(b);
    if (va === undefined || vb === undefined)
      return va === undefined ? (vb === undefined ? a.trial.number - b.trial.number : 1) : -1;
    return (maximize ? vb - va : va - vb) || a.trial.number - b.trial.number;
  });
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
