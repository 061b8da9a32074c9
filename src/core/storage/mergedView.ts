import type { Study, Trial } from '../optuna/model';
import { toStrictJson } from '../optuna/strictJson';
import { TRIAL_UID_ATTR } from '../python/trialUid';

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
 * optuna.copy_study) keeps its start time, params and values but not its id or number, nor
 * the order of its params (Optuna 3.1's SQLite lists them by name, a journal as suggested).
 */
function fingerprint(t: Trial): string {
  const params = Object.keys(t.params)
    .sort()
    .map((k) => [k, t.params[k]]);
  return toStrictJson([t.state, t.datetimeStart, t.datetimeComplete, t.values, params as never]);
}

/** The unique id the Python companion writes with each trial, if the trial has one. */
function uidOf(t: Trial): string | undefined {
  const v = t.systemAttrs[TRIAL_UID_ATTR];
  return typeof v === 'string' ? v : undefined;
}

/** `finished` (read from SQLite) under the number and ids of its Redis copy `at`. */
function finishedAs(finished: Trial, at: Trial): Trial {
  // Field by field: readers hand out rows whose fields are getters, which a spread drops.
  return {
    trialId: at.trialId,
    number: at.number,
    studyId: at.studyId,
    state: finished.state,
    values: finished.values,
    params: finished.params,
    distributions: finished.distributions,
    intermediateValues: finished.intermediateValues,
    userAttrs: finished.userAttrs,
    systemAttrs: finished.systemAttrs,
    datetimeStart: finished.datetimeStart,
    datetimeComplete: finished.datetimeComplete,
  };
}

/**
 * Merges a study found in Redis with the SQLite study of the same name: every Redis trial,
 * then the SQLite trials that are not copies of a Redis trial, each labelled by source.
 * A copy is recognised by the companion's unique trial id, else by its fingerprint. When the
 * Redis copy is still RUNNING and the SQLite one finished (an outage ended it there), the
 * finished one is shown. Nothing is counted twice and nothing is dropped.
 */
export function mergeTrials(redis: Study | undefined, sqlite: Study | undefined): MergedTrial[] {
  if (!sqlite) return (redis?.trials ?? []).map((trial) => ({ trial, source: 'redis' }));
  if (!redis) return sqlite.trials.map((trial) => ({ trial, source: 'sqlite' }));
  const sqliteByUid = new Map<string, Trial>();
  for (const t of sqlite.trials) {
    const uid = uidOf(t);
    if (uid !== undefined) sqliteByUid.set(uid, t);
  }
  const twinOf = new Map<Trial, Trial>();
  for (const t of redis.trials) {
    const uid = uidOf(t);
    const twin = uid === undefined ? undefined : sqliteByUid.get(uid);
    if (twin) twinOf.set(t, twin);
  }
  const paired = new Set(twinOf.values());
  const rest = sqlite.trials.filter((t) => !paired.has(t));
  const restFps = rest.map(fingerprint);
  const inSqlite = new Map<string, number>();
  for (const f of restFps) inSqlite.set(f, (inSqlite.get(f) ?? 0) + 1);
  const out: MergedTrial[] = [];
  const matched = new Map<string, number>();
  for (const trial of redis.trials) {
    const twin = twinOf.get(trial);
    if (twin) {
      // Its Redis number and ids, with what SQLite says happened to it.
      const shown =
        trial.state === 'RUNNING' && twin.state !== 'RUNNING' ? finishedAs(twin, trial) : trial;
      out.push({ trial: shown, source: 'both' });
      continue;
    }
    const f = fingerprint(trial);
    const left = (inSqlite.get(f) ?? 0) - (matched.get(f) ?? 0);
    if (left > 0) matched.set(f, (matched.get(f) ?? 0) + 1);
    out.push({ trial, source: left > 0 ? 'both' : 'redis' });
  }
  for (const [i, trial] of rest.entries()) {
    const f = restFps[i];
    const m = matched.get(f) ?? 0;
    if (m > 0) {
      matched.set(f, m - 1);
      continue;
    }
    out.push({ trial, source: 'sqlite' });
  }
  return out;
}

/** Trials of a study in both stores that only the SQLite fallback holds (an outage split it). */
export function trialsOnlyInSqlite(study: MergedStudy): number {
  if (!study.redis || !study.sqlite) return 0;
  return study.trials.reduce((n, t) => n + (t.source === 'sqlite' ? 1 : 0), 0);
}

/**
 * Every study of the journals (by prefix) and the SQLite file. A SQLite study whose name
 * matches a study of the `primary` prefix (the one the optimizers fall back from) is merged
 * into it; the others are listed on their own.
 */
export function mergeStudies(
  journals: ReadonlyMap<string, Study[]>,
  sqlite: Study[],
  primary: string | undefined,
): MergedStudy[] {
  const out: MergedStudy[] = [];
  const sqliteByName = new Map(sqlite.map((s) => [s.name, s]));
  const merged = new Set<string>();
  for (const [prefix, studies] of [...journals].sort(([a], [b]) => a.localeCompare(b))) {
    for (const s of studies) {
      const twin = prefix === primary ? sqliteByName.get(s.name) : undefined;
      if (twin) merged.add(twin.name);
      out.push({
        key: `redis\u0000${prefix}\u0000${s.name}`,
        name: s.name,
        prefix,
        redis: s,
        sqlite: twin,
        trials: mergeTrials(s, twin),
      });
    }
  }
  for (const s of sqlite) {
    if (merged.has(s.name)) continue;
    out.push({
      key: `sqlite\u0000${s.name}`,
      name: s.name,
      prefix: undefined,
      redis: undefined,
      sqlite: s,
      trials: mergeTrials(undefined, s),
    });
  }
  return out;
}
