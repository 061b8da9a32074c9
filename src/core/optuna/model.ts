import type { JsonObject, JsonValue } from './pythonJsonParse';

/** Optuna's trial states and study directions, by the integer codes its journal uses. */
export const TRIAL_STATES = ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'] as const;
export type TrialState = (typeof TRIAL_STATES)[number];
export const STUDY_DIRECTIONS = ['NOT_SET', 'MINIMIZE', 'MAXIMIZE'] as const;
export type StudyDirection = (typeof STUDY_DIRECTIONS)[number];

export function isFinished(state: TrialState): boolean {
  return state === 'COMPLETE' || state === 'PRUNED' || state === 'FAIL';
}

/** A distribution exactly as `distribution_to_json` writes it. */
export interface Distribution {
  name: string;
  attributes: JsonObject;
}

/**
 * A trial as Optuna reports it. Readers hand out `TrialRow`s (optuna/trialTable.ts): handles
 * on a study's columns whose getters build each field when asked, so read a field once per
 * use rather than in a tight loop, and never modify what they return.
 */
export interface Trial {
  readonly trialId: number;
  readonly number: number;
  readonly studyId: number;
  readonly state: TrialState;
  readonly values: JsonValue[] | null;
  /** External values (what `trial.params` returns in Python). */
  readonly params: Record<string, JsonValue>;
  readonly distributions: Record<string, Distribution>;
  /** Keyed by the step as a decimal string. */
  readonly intermediateValues: Record<string, JsonValue>;
  readonly userAttrs: JsonObject;
  readonly systemAttrs: JsonObject;
  /** ISO 8601 with 'T' and microseconds, naive or with the stored offset. */
  readonly datetimeStart: string | null;
  readonly datetimeComplete: string | null;
}

export interface Study {
  studyId: number;
  name: string;
  directions: StudyDirection[];
  userAttrs: JsonObject;
  systemAttrs: JsonObject;
  /** Ascending by number. */
  readonly trials: readonly Trial[];
}

/** Something a reader could not read: the rest was read, but the result is not complete. */
export interface ReadIssue {
  kind: 'gap' | 'malformed' | 'invalid-op';
  /** Journal entry index (Redis log number or file line number, 0-based). */
  index: number;
  /** Consecutive entries from `index` the issue covers (a run of missing ones); absent: 1. */
  count?: number;
  message: string;
}

/** Journal entries the issues cover (a run of missing entries is one issue of many entries). */
export function issueEntries(issues: readonly ReadIssue[]): number {
  let n = 0;
  for (const i of issues) n += i.count ?? 1;
  return n;
}

const ISO_RE =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$/;

/**
 * Optuna parses datetimes with `fromisoformat` and we report them as
 * `isoformat(timespec="microseconds")` would: 'T', six fraction digits, offset kept.
 */
export function normalizeDatetime(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const m = ISO_RE.exec(text);
  if (!m) throw new Error(`invalid datetime ${JSON.stringify(text)}`);
  const frac = (m[3] ?? '').padEnd(6, '0');
  const offset = m[4] === 'Z' ? '+00:00' : (m[4] ?? '');
  return `${m[1]}T${m[2]}.${frac}${offset}`;
}
