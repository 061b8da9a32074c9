import type Redis from 'ioredis';
import { JournalRecords, PROCESS_WORKER_ID } from '../optuna/journal/records';
import { appendToJournal } from '../optuna/journal/redisLog';
import { openSqlite } from './sqliteDriver';

/**
 * Deletes a study from a Redis journal the way `optuna.delete_study` does: by appending a
 * DELETE_STUDY record. Optuna (and every reader) then hides the study; its records stay.
 */
export async function deleteJournalStudy(
  redis: Redis,
  prefix: string,
  studyId: number,
): Promise<void> {
  const records = new JournalRecords(PROCESS_WORKER_ID);
  await appendToJournal(redis, prefix, [records.deleteStudy(studyId)]);
}

/** Tables Optuna's RDBStorage.delete_study removes rows from (the ORM cascades; SQL must not miss one). */
const TRIAL_TABLES = [
  'trial_params',
  'trial_values',
  'trial_intermediate_values',
  'trial_user_attributes',
  'trial_system_attributes',
  'trial_heartbeats',
];
const STUDY_TABLES = ['study_directions', 'study_user_attributes', 'study_system_attributes'];

/** Deletes a study from an Optuna SQLite file in one transaction, as RDBStorage.delete_study does. */
export function deleteSqliteStudy(path: string, studyId: number): void {
  const db = openSqlite(path, { timeout: 5000 });
  try {
    const tables = new Set(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
    );
    db.transaction(() => {
      for (const t of TRIAL_TABLES) {
        if (tables.has(t))
          db.prepare(
            `DELETE FROM ${t} WHERE trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)`,
          ).run(studyId);
      }
      db.prepare('DELETE FROM trials WHERE study_id = ?').run(studyId);
      for (const t of STUDY_TABLES) db.prepare(`DELETE FROM ${t} WHERE study_id = ?`).run(studyId);
      const removed = db.prepare('DELETE FROM studies WHERE study_id = ?').run(studyId).changes;
      if (removed !== 1) throw new Error(`study ${studyId} is no longer in ${path}`);
    })();
  } finally {
    db.close();
  }
}
