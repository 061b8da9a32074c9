import type { Trial } from './model';
import type { TrialTable } from './trialTable';

const studyTables = new WeakMap<object, TrialTable>();

/**
 * A study whose trials are `table`'s rows in row order: whole-study scans (summaries,
 * dumps) then read the columns instead of a handle per trial. Its `trials` are the table's
 * handles, made only when something asks for them.
 */
export function tableStudy<S extends object>(
  study: S,
  table: TrialTable,
): S & { trials: readonly Trial[] } {
  Object.defineProperty(study, 'trials', {
    get: () => table.rows,
    enumerable: true,
    configurable: true,
  });
  studyTables.set(study, table);
  return study as S & { trials: readonly Trial[] };
}

/** The table behind a study made by tableStudy, if it is one. */
export function tableOf(study: object): TrialTable | undefined {
  return studyTables.get(study);
}
