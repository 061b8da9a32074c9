import type { StudyDirection, TrialState } from '../model';

/**
 * Optuna's journal operations (`JournalOperation` in optuna/storages/journal/_storage.py, the
 * same codes in 3.1 … 5.0). The only place in the project that knows these numbers: readers
 * dispatch on them, writers build records with them (records.ts).
 */
export const OpCode = {
  CreateStudy: 0,
  DeleteStudy: 1,
  SetStudyUserAttr: 2,
  SetStudySystemAttr: 3,
  CreateTrial: 4,
  SetTrialParam: 5,
  SetTrialStateValues: 6,
  SetTrialIntermediateValue: 7,
  SetTrialUserAttr: 8,
  SetTrialSystemAttr: 9,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** Ops that carry attributes (their values keep Python's int/float typing in exports). */
export const ATTRIBUTE_OPS: ReadonlySet<number> = new Set([
  OpCode.SetStudyUserAttr,
  OpCode.SetStudySystemAttr,
  OpCode.SetTrialUserAttr,
  OpCode.SetTrialSystemAttr,
]);

/** `TrialState` as the journal writes it (an IntEnum). */
const TRIAL_STATE_CODES = {
  RUNNING: 0,
  COMPLETE: 1,
  PRUNED: 2,
  FAIL: 3,
  WAITING: 4,
} as const satisfies Record<TrialState, number>;
const TRIAL_STATE_NAMES = invert(TRIAL_STATE_CODES);

/** `StudyDirection` as the journal writes it. */
const DIRECTION_CODES = {
  NOT_SET: 0,
  MINIMIZE: 1,
  MAXIMIZE: 2,
} as const satisfies Record<StudyDirection, number>;
const DIRECTION_NAMES = invert(DIRECTION_CODES);

export function trialStateCode(state: TrialState): number {
  return TRIAL_STATE_CODES[state];
}

/** The state a journal code stands for; undefined for a code Optuna does not know. */
export function trialStateOfCode(code: unknown): TrialState | undefined {
  return typeof code === 'number' ? TRIAL_STATE_NAMES.get(code) : undefined;
}

export function directionCode(direction: StudyDirection): number {
  return DIRECTION_CODES[direction];
}

export function directionOfCode(code: unknown): StudyDirection | undefined {
  return typeof code === 'number' ? DIRECTION_NAMES.get(code) : undefined;
}

function invert<K extends string>(codes: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(codes).map(([name, code]) => [code as number, name as K]));
}
