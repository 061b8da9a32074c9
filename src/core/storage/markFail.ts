import type Redis from 'ioredis';
import { JournalRecords, PROCESS_WORKER_ID, optunaNow } from '../optuna/journal/records';
import { appendToJournal } from '../optuna/journal/redisLog';
import { openSqlite } from './sqliteDriver';

/**
 * The completion time in the form the journal already uses for this trial: aware UTC when its
 * start carries an offset (Optuna 5), naive local time otherwise (Optuna 3.1–4.x).
 */
export function completionTime(datetimeStart: string | null, now = new Date()): string {
  if (datetimeStart && /[+-]\d{2}:\d{2}$/.test(datetimeStart))
    return `${now.toISOString().slice(0, 23)}000+00:00`;
  return optunaNow(now);
}

/**
 * Fails RUNNING trials of a Redis journal as Optuna itself would (`set_trial_state_values(
 * trial_id, TrialState.FAIL)`, as `fail_stale_trials` does): one SET_TRIAL_STATE_VALUES record
 * each, state FAIL, no values, `datetime_complete` now. Every reader, Optuna included, then
 * sees FAIL; a worker still holding such a trial gets Optuna's error on its next write to it.
 * Written under the writers' rule (appendToJournal): a journal whose counter vanished is refused.
 */
export async function failJournalTrials(
  redis: Redis,
  prefix: string,
  trials: Array<{ trialId: number; datetimeStart: string | null }>,
  now = new Date(),
): Promise<void> {
  const records = new JournalRecords(PROCESS_WORKER_ID);
  await appendToJournal(
    redis,
    prefix,
    trials.map((t) =>
      records.setTrialStateValues(t.trialId, 'FAIL', null, completionTime(t.datetimeStart, now)),
    ),
  );
}

/**
 * Fails RUNNING trials of an Optuna SQLite file (RDBStorage's `set_trial_state_values` with
 * FAIL: state and `datetime_complete`, naive local time), in one short immediate transaction;
 * trials that are no longer RUNNING are left alone. Returns the trial ids it changed.
 */
export function failSqliteTrials(path: string, trialIds: number[], now = new Date()): number[] {
  const db = openSqlite(path, { timeout: 5000 });
  try {
    const at = optunaNow(now).replace('T', ' ');
    const update = db.prepare(
      "UPDATE trials SET state = 'FAIL', datetime_complete = ? WHERE trial_id = ? AND state = 'RUNNING'",
    );
    const changed: number[] = [];
    // IMMEDIATE: take the write lock first, so an optimizer writing meanwhile waits briefly
    // (busy timeout) instead of either side failing halfway.
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const id of trialIds) if (update.run(at, id).changes === 1) changed.push(id);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
    return changed;
  } finally {
    db.close();
  }
}
