import type BetterSqlite3 from 'better-sqlite3';
import { DistributionCache, toExternal } from '../optuna/distributions';
import { type Distribution, STUDY_DIRECTIONS, type Study, type StudyDirection, TRIAL_STATES, type Trial, type TrialState, normalizeDatetime } from '../optuna/model';
import { type JsonObject, type JsonValue, parsePyJson } from '../optuna/pyjson';
import { openSqlite } from './sqliteDriver';

/** Alembic heads of the Optuna releases whose RDB schema this reader knows. */
export const KNOWN_REVISIONS: Record<string, string> = {
  'v3.0.0.d': 'Optuna 3.0–3.1',
  'v3.2.0.a': 'Optuna 3.2–5.0',
};

const REQUIRED_TABLES = [
  'studies', 'study_directions', 'study_user_attributes', 'study_system_attributes', 'trials', 'trial_params',
  'trial_values', 'trial_intermediate_values', 'trial_user_attributes', 'trial_system_attributes', 'alembic_version',
];

/** The file is not an Optuna RDB that this reader understands; the message says what it is. */
export class ForeignDatabaseError extends Error {}

type Row = unknown[];

/**
 * Reads Optuna's RDB storage from an SQLite file. Opened read-only with a busy timeout, and
 * each read is one short SELECT: an optimizer writing the file must never see
 * "database is locked" because of us.
 */
export class SqliteReader {
  private db: BetterSqlite3.Database | undefined;
  readonly distributions = new DistributionCache();
  revision = '';

  constructor(
    readonly path: string,
    private readonly busyTimeoutMs = 2000,
  ) {}

  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  private open(): BetterSqlite3.Database {
    if (this.db) return this.db;
    const db = openSqlite(this.path, { readonly: true, timeout: this.busyTimeoutMs });
    try {
      this.check(db);
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
    return db;
  }

  private check(db: BetterSqlite3.Database): void {
    let tables: string[];
    try {
      tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).sort();
    } catch (e) {
      const msg = (e as Error).message;
      if (/not a database|file is encrypted|malformed/i.test(msg)) throw new ForeignDatabaseError(`${this.path} is not an SQLite database (${msg})`);
      throw e;
    }
    if (tables.length === 0) throw new ForeignDatabaseError(`${this.path} is an empty SQLite database, not an Optuna storage`);
    const missing = REQUIRED_TABLES.filter((t) => !tables.includes(t));
    if (missing.length > 0) {
      const shown = tables.slice(0, 8).join(', ') + (tables.length > 8 ? ', …' : '');
      throw new ForeignDatabaseError(`${this.path} is an SQLite database but not an Optuna storage: it has tables ${shown} and lacks ${missing.join(', ')}`);
    }
    const revs = db.prepare('SELECT version_num FROM alembic_version').pluck().all() as string[];
    if (revs.length !== 1) throw new ForeignDatabaseError(`${this.path} has ${revs.length} alembic revisions; an Optuna database has exactly one`);
    if (!(revs[0] in KNOWN_REVISIONS)) {
      const known = Object.entries(KNOWN_REVISIONS).map(([r, v]) => `${r} (${v})`).join(', ');
      throw new ForeignDatabaseError(`${this.path} is an Optuna database with schema revision "${revs[0]}", which this version does not know (known: ${known})`);
    }
    this.revision = revs[0];
  }

  /** Every study with all its trials, ascending by id and number. */
  readAll(): Study[] {
    const db = this.open();
    // Rows are handled as they come: holding 200,000 row arrays at once would push them into
    // the old generation and make garbage collection the largest cost of a load.
    const q = (sql: string): Iterable<Row> => db.prepare(sql).raw(true).iterate() as Iterable<Row>;

    const studies = new Map<number, Study>();
    for (const [id, name] of q('SELECT study_id, study_name FROM studies ORDER BY study_id')) {
      studies.set(id as number, { studyId: id as number, name: name as string, directions: [], userAttrs: {}, systemAttrs: {}, trials: [] });
    }
    for (const [sid, dir] of q('SELECT study_id, direction FROM study_directions ORDER BY study_id, objective')) {
      studies.get(sid as number)?.directions.push(enumName(STUDY_DIRECTIONS, dir, 'direction') as StudyDirection);
    }
    for (const [table, key] of [['study_user_attributes', 'userAttrs'], ['study_system_attributes', 'systemAttrs']] as const) {
      for (const [sid, k, v] of q(`SELECT study_id, key, value_json FROM ${table} ORDER BY study_id, ${attrOrder(table)}`)) {
        const s = studies.get(sid as number);
        if (s) setAttr(s[key], k as string, v as string);
      }
    }

    const trials = new Map<number, Trial>();
    for (const [tid, num, sid, state, ds, dc] of q('SELECT trial_id, number, study_id, state, datetime_start, datetime_complete FROM trials ORDER BY study_id, number, trial_id')) {
      const s = studies.get(sid as number);
      if (!s) continue;
      const t: Trial = {
        trialId: tid as number,
        number: num as number,
        studyId: sid as number,
        state: enumName(TRIAL_STATES, state, 'state') as TrialState,
        values: null,
        params: {},
        distributions: {},
        intermediateValues: {},
        userAttrs: {},
        systemAttrs: {},
        datetimeStart: normalizeDatetime(ds as string | null),
        datetimeComplete: normalizeDatetime(dc as string | null),
      };
      trials.set(t.trialId, t);
      s.trials.push(t);
    }
    for (const [tid, name, value, dist] of q('SELECT trial_id, param_name, param_value, distribution_json FROM trial_params ORDER BY param_id')) {
      const t = trials.get(tid as number);
      if (!t) continue; // a row of a trial written after we listed trials
      const d: Distribution = this.distributions.parse(dist as string);
      t.distributions[name as string] = d;
      t.params[name as string] = toExternal(d, value as number);
    }
    for (const [tid, objective, value, type] of q('SELECT trial_id, objective, value, value_type FROM trial_values ORDER BY trial_id, objective')) {
      const t = trials.get(tid as number);
      if (!t) continue;
      (t.values ??= [])[objective as number] = storedFloat(value as number | null, type as string);
    }
    for (const [tid, step, value, type] of q('SELECT trial_id, step, intermediate_value, intermediate_value_type FROM trial_intermediate_values ORDER BY trial_id, step')) {
      const t = trials.get(tid as number);
      if (t) t.intermediateValues[String(step)] = storedFloat(value as number | null, type as string);
    }
    for (const [table, key] of [['trial_user_attributes', 'userAttrs'], ['trial_system_attributes', 'systemAttrs']] as const) {
      for (const [tid, k, v] of q(`SELECT trial_id, key, value_json FROM ${table} ORDER BY trial_id, ${attrOrder(table)}`)) {
        const t = trials.get(tid as number);
        if (t) setAttr(t[key], k as string, v as string);
      }
    }
    return [...studies.values()];
  }
}

/** Primary key column of an attribute table (names differ across tables). */
function attrOrder(table: string): string {
  return `${table.replace(/_attributes$/, '_attribute')}_id`;
}

function setAttr(target: JsonObject, key: string, json: string): void {
  target[key] = parsePyJson(json);
}

function enumName<T extends readonly string[]>(names: T, v: unknown, what: string): T[number] {
  if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v;
  throw new ForeignDatabaseError(`unknown ${what} ${JSON.stringify(v)} in the database`);
}

/** Non-finite floats are stored as a type column with a NULL value. */
function storedFloat(value: number | null, type: string): JsonValue {
  switch (type) {
    case 'FINITE':
      return value;
    case 'INF_POS':
      return Infinity;
    case 'INF_NEG':
      return -Infinity;
    case 'NAN':
      return NaN;
    default:
      throw new ForeignDatabaseError(`unknown value type ${JSON.stringify(type)} in the database`);
  }
}
