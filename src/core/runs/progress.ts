import type { StudyDirection, Trial } from '../optuna/model';
import { firstValue, summarizeStudy } from '../optuna/summary';

/** How far a run got, from the trials its study gained since the run started. */
export interface RunProgress {
  /** COMPLETE + PRUNED + FAIL trials of this run. */
  finished: number;
  planned: number | undefined;
  complete: number;
  pruned: number;
  failed: number;
  running: number;
  /** Finished trials per minute over the run's life so far. */
  perMinute: number | undefined;
  /** Milliseconds to the planned count at the current rate. */
  etaMs: number | undefined;
  /** Best value among this run's trials (first objective, single-objective studies). */
  best: number | undefined;
  bestTrial: number | undefined;
  /** Best value of the whole study. */
  studyBest: number | undefined;
  studyTrials: number;
}

export interface ProgressInput {
  directions: StudyDirection[];
  /** The study's trials, ascending by number. */
  trials: readonly Trial[];
  /** Trials the study had when the run started: this run's trials are numbered from here. */
  baseline: number;
  startedAt: number;
  /** When the run ended, or now. */
  until: number;
  planned: number | undefined;
}

export function computeProgress(i: ProgressInput): RunProgress {
  const mine = i.trials.filter((t) => t.number >= i.baseline);
  const run = summarizeStudy({
    studyId: 0,
    name: '',
    directions: i.directions,
    userAttrs: {},
    systemAttrs: {},
    trials: mine,
  });
  const all = summarizeStudy({
    studyId: 0,
    name: '',
    directions: i.directions,
    userAttrs: {},
    systemAttrs: {},
    trials: i.trials,
  });
  const c = run.counts;
  const finished = c.COMPLETE + c.PRUNED + c.FAIL;
  const minutes = (i.until - i.startedAt) / 60_000;
  const perMinute = minutes >= 1 / 60 && finished > 0 ? finished / minutes : undefined;
  const left = i.planned !== undefined ? Math.max(0, i.planned - finished) : undefined;
  return {
    finished,
    planned: i.planned,
    complete: c.COMPLETE,
    pruned: c.PRUNED,
    failed: c.FAIL,
    running: c.RUNNING,
    perMinute,
    etaMs: left !== undefined && perMinute ? (left / perMinute) * 60_000 : undefined,
    best: firstValue(run.best),
    bestTrial: run.best?.number,
    studyBest: firstValue(all.best),
    studyTrials: i.trials.length,
  };
}

/**
 * The study an unnamed run writes to: one that did not exist at launch, else the one that
 * gained the most trials since launch. `baseline` maps study name → trial count at launch.
 */
export function detectStudy<S extends { name: string; trials: number }>(
  studies: S[],
  baseline: Record<string, number>,
): S | undefined {
  const fresh = studies.filter((s) => !(s.name in baseline));
  if (fresh.length) return fresh.reduce((a, b) => (b.trials > a.trials ? b : a));
  let best: S | undefined;
  let growth = 0;
  for (const s of studies) {
    const g = s.trials - (baseline[s.name] ?? 0);
    if (g > growth) {
      best = s;
      growth = g;
    }
  }
  return best;
}

/** "12 s", "4 min", "2 h 5 min" */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
}
