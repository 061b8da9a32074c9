import type { Study, Trial } from '../optuna/model';
import { toStrictJson } from '../optuna/pyjson';

export type SourceKind = 'redis' | 'sqlite';

export interface MergedTrial {
  trial: Trial;
  /** Where this trial was found; 'both' when the same trial is in Redis and in SQLite. */
  source: SourceKind | 'both';
}

export interface MergedStudy {
  /** Stable across refreshes: used as the tree node id. */
  key: string;
  name: string;
  /** Journal prefix when the study lives in Redis. */
  prefix: string | undefined;
  redis: Study | undefined;
  sqlite: Study | undefined;
  trials: MergedTrial[];
}

/**
 * The same trial written to both storages (e.g. a study copied into the fallback with
 * optuna.copy_study) keeps its start time, params and values but not its id or number.
 */
function fingerprint(t: Trial): string {
  return toStrictJson([t.state, t.datetimeStart, t.datetimeComplete, t.values, t.params as never]);
}

/**
 * Merges a study found in Redis with the SQLite study of the same name: every Redis trial,
 * then the SQLite trials that are not copies of a Redis trial, each labelled by source.
 * Nothing is counted twice and nothing is dropped.
 */
export function mergeTrials(redis: Study | undefined, sqlite: Study | undefined): MergedTrial[] {
  if (!sqlite) return (redis?.trials ?? []).map((trial) => ({ trial, source: 'redis' }));
  if (!redis) return sqlite.trials.map((trial) => ({ trial, source: 'sqlite' }));
  const sqliteFps = sqlite.trials.map(fingerprint);
  const inSqlite = new Map<string, number>();
  for (const f of sqliteFps) inSqlite.set(f, (inSqlite.get(f) ?? 0) + 1);
  const out: MergedTrial[] = [];
  const matched = new Map<string, number>();
  for (const trial of redis.trials) {
    const f = fingerprint(trial);
    const left = (inSqlite.get(f) ?? 0) - (matched.get(f) ?? 0);
    if (left > 0) matched.set(f, (matched.get(f) ?? 0) + 1);
    out.push({ trial, source: left > 0 ? 'both' : 'redis' });
  }
  for (const [i, trial] of sqlite.trials.entries()) {
    const f = sqliteFps[i];
    const m = matched.get(f) ?? 0;
    if (m > 0) {
      matched.set(f, m - 1);
      continue;
    }
    out.push({ trial, source: 'sqlite' });
  }
  return out;
}
