import { openSqlite } from './sqliteDriver';

/**
 * Optuna's heartbeats of RUNNING trials in an SQLite study (`trial_heartbeats`, written when the
 * study's RDBStorage has `heartbeat_interval` set), with the database's own clock: Optuna
 * compares a heartbeat with the database's `CURRENT_TIMESTAMP`, so must we (both UTC).
 * Undefined when the file has no such table (heartbeats were never on).
 */
export function readHeartbeats(
  path: string,
  trialIds: number[],
): { at: Map<number, number>; dbNow: number } | undefined {
  const db = openSqlite(path, { readonly: true, timeout: 1000 });
  try {
    const table = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trial_heartbeats'")
      .get();
    if (!table) return undefined;
    const at = new Map<number, number>();
    const q = db.prepare('SELECT heartbeat FROM trial_heartbeats WHERE trial_id = ?');
    for (const id of trialIds) {
      const row = q.get(id) as { heartbeat: string } | undefined;
      if (row) at.set(id, utc(row.heartbeat));
    }
    const now = db.prepare('SELECT CURRENT_TIMESTAMP AS now').get() as { now: string };
    return { at, dbNow: utc(now.now) };
  } finally {
    db.close();
  }
}

/** SQLite's "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, as epoch ms. */
function utc(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}
