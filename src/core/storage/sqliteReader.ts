import type BetterSqlite3 from 'better-sqlite3';
import { storedDatetime } from '../optuna/datetimeMicros';
import { DistributionCache } from '../optuna/distributions';
import {
  type Distribution,
  STUDY_DIRECTIONS,
  type Study,
  type StudyDirection,
  TRIAL_STATES,
  type Trial,
  type TrialState,
} from '../optuna/model';
import { type JsonValue, parsePyJson, setOwn } from '../optuna/pythonJsonParse';
import { tableStudy } from '../optuna/tableStudy';
import { TrialTable } from '../optuna/trialTable';
import { ParamsByName } from './paramsByName';
import { NotRegularFileError, openSqlite } from './sqliteDriver';
import { ForeignDatabaseError, checkSchema, listsParamsByName } from './sqliteSchema';

type Row = unknown[];

/** What SqliteReader.readAll reads: everything, or what a study's summary needs. */
export type SqliteReadParts = 'all' | 'summary';

/**
 * Reads Optuna's RDB storage from an SQLite file. Opened read-only with a busy timeout, and
 * each read is one short SELECT: an optimizer writing the file must never see
 * "database is locked" because of us.
 */
export class SqliteReader {
  private db: BetterSqlite3.Database | undefined;
  /** How this SQLite writes a float as exact JSON (decided once per connection). */
  private floatJson: FloatJson = plainFloat;
  readonly distributions = new DistributionCache();
  revision = '';

  constructor(
    readonly path: string,
    private readonly busyTimeoutMs = 2000,
    /** Rows per statement (CHUNK_ROWS; smaller in tests, to cross chunk boundaries). */
    private readonly chunkRows = CHUNK_ROWS,
  ) {}

  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  private open(): BetterSqlite3.Database {
    if (this.db) return this.db;
    let db: BetterSqlite3.Database;
    try {
      db = openSqlite(this.path, { readonly: true, timeout: this.busyTimeoutMs });
    } catch (e) {
      if (e instanceof NotRegularFileError) throw new ForeignDatabaseError(e.message);
      throw e;
    }
    try {
      // Nothing the file's schema names (views, triggers, generated columns) may call
      // functions with side effects or cost.
      db.exec('PRAGMA trusted_schema = OFF');
      this.revision = checkSchema(db, this.path);
      this.floatJson = exactFloatJson(db);
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
    return db;
  }

  /**
   * Every study with all its trials, ascending by id and number; with `parts` 'summary', only
   * what a study's summary reads (summary.ts: directions, trial numbers, states, datetimes and
   * values): the studies' attributes and the trials' params, intermediate values and
   * attributes are not read, and stay empty. `optuna-storage studies` reads this way: those
   * tables are most of the file (5 rows of intermediate values and 3 of params per trial in
   * the benchmark's study).
   */
  readAll(parts: SqliteReadParts = 'all'): Study[] {
    const db = this.open();
    const f = this.floatJson;
    const columns = (table: string, exprs: string[], params: unknown[] = []) =>
      tableColumns(db, table, exprs, params, this.chunkRows);
    const q = (sql: string): Iterable<Row> => db.prepare(sql).raw(true).iterate() as Iterable<Row>;

    const studies = new Map<number, Omit<Study, 'trials'>>();
    for (const [id, name] of q('SELECT study_id, study_name FROM studies ORDER BY study_id')) {
      studies.set(id as number, {
        studyId: id as number,
        name: name as string,
        directions: [],
        userAttrs: {},
        systemAttrs: {},
      });
    }
    for (const [sid, dir] of q(
      'SELECT study_id, direction FROM study_directions ORDER BY study_id, objective',
    )) {
      studies
        .get(sid as number)
        ?.directions.push(enumName(STUDY_DIRECTIONS, dir, 'direction') as StudyDirection);
    }
    if (parts === 'all') this.readStudyAttrs(q, studies);

    // Table and row by trial_id: trial ids are dense from 1, so arrays (sparse ones still work).
    const tables = new Map<number, TrialTable>();
    const tableOfId: TrialTable[] = [];
    const rowOfId: number[] = [];
    for (const [ids, numbers, studyIds, states, starts, completes] of columns('trials', [
      'trial_id',
      'number',
      'study_id',
      'state',
      'datetime_start',
      'datetime_complete',
    ])) {
      for (let i = 0; i < ids.length; i++) {
        const s = studies.get(studyIds[i] as number);
        if (!s) continue;
        let table = tables.get(s.studyId);
        if (!table) tables.set(s.studyId, (table = new TrialTable(s.studyId)));
        const state = enumName(TRIAL_STATES, states[i], 'state') as TrialState;
        const r = table.add(ids[i] as number, numbers[i] as number, state);
        table.setDatetime(r, 'start', storedDatetime(starts[i] as string | null));
        table.setDatetime(r, 'complete', storedDatetime(completes[i] as string | null));
        tableOfId[ids[i] as number] = table;
        rowOfId[ids[i] as number] = r;
      }
    }
    const out: Study[] = [];
    for (const s of studies.values()) {
      const table = tables.get(s.studyId);
      if (!table) out.push({ ...s, trials: [] });
      else if (inNumberOrder(table)) out.push(tableStudy({ ...s }, table));
      else out.push({ ...s, trials: [...table.rows].sort(byNumber) });
    }

    for (const [ids, objectives, values] of columns('trial_values', [
      'trial_id',
      'objective',
      storedFloat(f, 'value', 'value_type'),
    ])) {
      for (let i = 0; i < ids.length; i++) {
        const table = tableOfId[ids[i] as number];
        if (table)
          table.setValue(rowOfId[ids[i] as number], objectives[i] as number, floatOf(values[i]));
      }
    }
    if (parts === 'summary') return out;

    const pairs = this.paramPairs(db);
    // Optuna 3.1 lists a trial's params by name: they are set in that order (after the read).
    const byName = listsParamsByName(this.revision) ? new ParamsByName() : undefined;
    for (const [ids, keys, values] of columns(
      'trial_params',
      ['trial_id', pairs.sql, f('param_value')],
      pairs.params,
    )) {
      for (let i = 0; i < ids.length; i++) {
        const table = tableOfId[ids[i] as number];
        if (!table) continue; // a row of a trial written after we listed trials
        const key = keys[i];
        const [name, d] =
          typeof key === 'number'
            ? pairs.known[key]
            : [(key as string[])[0], this.distributions.parse((key as string[])[1])];
        if (byName) byName.add(table, rowOfId[ids[i] as number], name, d, values[i]);
        else table.setParam(rowOfId[ids[i] as number], name, d, values[i]);
      }
    }
    byName?.set();
    for (const [ids, steps, values] of columns('trial_intermediate_values', [
      'trial_id',
      'step',
      storedFloat(f, 'intermediate_value', 'intermediate_value_type'),
    ])) {
      for (let i = 0; i < ids.length; i++) {
        const table = tableOfId[ids[i] as number];
        if (table)
          table.setIntermediate(rowOfId[ids[i] as number], String(steps[i]), floatOf(values[i]));
      }
    }
    // A trial's attributes in the order of the unique index on (trial_id, key), by key, as
    // every Optuna release lists them (a study's, from get_all_studies, by id).
    for (const [attrTable, which] of [
      ['trial_user_attributes', 'user'],
      ['trial_system_attributes', 'system'],
    ] as const) {
      for (const [tid, k, v] of q(
        `SELECT trial_id, key, value_json FROM ${attrTable} ORDER BY trial_id, key`,
      )) {
        const table = tableOfId[tid as number];
        if (table)
          table.setAttr(
            rowOfId[tid as number],
            which,
            k as string,
            this.parseAttr(k as string, v as string, `${attrTable} of trial ${String(tid)}`),
          );
      }
    }
    return out;
  }

  private readStudyAttrs(
    q: (sql: string) => Iterable<Row>,
    studies: Map<number, Omit<Study, 'trials'>>,
  ): void {
    for (const [table, key] of [
      ['study_user_attributes', 'userAttrs'],
      ['study_system_attributes', 'systemAttrs'],
    ] as const) {
      for (const [sid, k, v] of q(
        `SELECT study_id, key, value_json FROM ${table} ORDER BY study_id, ${attrOrder(table)}`,
      )) {
        const s = studies.get(sid as number);
        if (s)
          setOwn(
            s[key],
            k as string,
            this.parseAttr(k as string, v as string, `${table} of study ${String(sid)}`),
          );
      }
    }
  }

  /** Optuna's json.loads fails on such a value too: the file is refused, naming the row. */
  private parseAttr(key: string, json: string, where: string): JsonValue {
    try {
      return parsePyJson(json);
    } catch (e) {
      throw new ForeignDatabaseError(
        `${this.path}: ${where}, key ${JSON.stringify(key)}: value_json is not JSON Optuna can read (${(e as Error).message})`,
      );
    }
  }

  /**
   * A study has few distinct (param_name, distribution_json) pairs but a row per trial and
   * param: SQL that gives the index of a known pair instead of copying both strings into every
   * row. Pairs beyond the first MAX_PAIRS (or written meanwhile) come as [name, json].
   */
  private paramPairs(db: BetterSqlite3.Database): {
    sql: string;
    params: string[];
    known: [string, Distribution][];
  } {
    const unknown = 'json_array(param_name, distribution_json)';
    const found = db
      .prepare(`SELECT DISTINCT param_name, distribution_json FROM trial_params LIMIT ${MAX_PAIRS}`)
      .raw(true)
      .all() as [string, string][];
    return {
      sql:
        found.length === 0
          ? unknown
          : `CASE ${found.map((_, i) => `WHEN param_name = ? AND distribution_json = ? THEN ${i}`).join(' ')} ELSE ${unknown} END`,
      params: found.flat(),
      known: found.map(([name, json]) => [name, this.distributions.parse(json)]),
    };
  }
}

/** Each row compares against every known pair, so their number is kept small. */
const MAX_PAIRS = 32;

/** Trials come in id order; Optuna lists them by number (ties by id), which is nearly always the same order. */
function inNumberOrder(t: TrialTable): boolean {
  for (let r = 1; r < t.length; r++) {
    const d = t.numbers[r] - t.numbers[r - 1];
    if (d < 0 || (d === 0 && t.trialIds[r] < t.trialIds[r - 1])) return false;
  }
  return true;
}

function byNumber(a: Trial, b: Trial): number {
  return a.number - b.number || a.trialId - b.trialId;
}

/** Rows per statement: each SELECT stays short, and the JSON text of a chunk stays a few MB. */
const CHUNK_ROWS = 50_000;

/**
 * A table's rows in rowid order, `chunkRows` at a time, as one array per column. SQLite builds
 * each column as JSON text (json_group_array) and JSON.parse turns it into an array: a few long
 * strings cost a fraction of what a JS row array and a value per cell cost (at 200,000 rows,
 * the difference between this and row-by-row reading is most of a cold load).
 */
function* tableColumns(
  db: BetterSqlite3.Database,
  table: string,
  exprs: string[],
  params: unknown[],
  chunkRows: number,
): Generator<JsonValue[][]> {
  const stmt = db
    .prepare(
      `SELECT count(*), max(rowid), ${exprs.map((e) => `json_group_array(${e})`).join(', ')} FROM (SELECT rowid, * FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ${chunkRows})`,
    )
    .raw(true);
  let after: number = -(2 ** 63);
  for (;;) {
    const [count, last, ...texts] = stmt.get(...params, after) as [number, number, ...string[]];
    if (count === 0) return;
    yield texts.map((t) => JSON.parse(t) as JsonValue[]);
    if (count < chunkRows) return;
    after = last;
  }
}

/** SQL that turns a float expression into JSON text that reads back as the same double. */
type FloatJson = (expr: string) => string;

// SQLite's json functions write floats with 17 significant digits from 3.53 on (15 before,
// which rounds); quote() round-trips in every version and json() keeps its digits, at about
// twice the cost, so that is the way for an older SQLite (e.g. node:sqlite's). quote(NULL) is
// the text NULL, which is not JSON: nullif keeps it SQL NULL, i.e. JSON null.
export const plainFloat: FloatJson = (expr) => expr;
export const quotedFloat: FloatJson = (expr) => `json(nullif(quote(${expr}), 'NULL'))`;

/** The cheapest of the two that this SQLite renders exactly; a clear error if neither does. */
export function exactFloatJson(db: BetterSqlite3.Database): FloatJson {
  const probe = [
    0.1 + 0.2,
    1 / 3,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -123456.78901234567,
  ];
  const exact = (f: FloatJson) => {
    const text = db
      .prepare(`SELECT json_array(${probe.map(() => f('CAST(? AS REAL)')).join(', ')})`)
      .pluck()
      .get(...probe) as string;
    const back = JSON.parse(text) as unknown[];
    return probe.every((v, i) => Object.is(back[i], v));
  };
  if (exact(plainFloat)) return plainFloat;
  if (exact(quotedFloat)) return quotedFloat;
  const version = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  throw new Error(
    `SQLite ${version} does not write floats exactly as text, so this file cannot be read without rounding its values`,
  );
}

/** Primary key column of an attribute table (names differ across tables). */
function attrOrder(table: string): string {
  return `${table.replace(/_attributes$/, '_attribute')}_id`;
}

function enumName<T extends readonly string[]>(names: T, v: unknown, what: string): T[number] {
  if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v;
  throw new ForeignDatabaseError(`unknown ${what} ${JSON.stringify(v)} in the database`);
}

/**
 * SQL for a float column and its type column (Optuna stores NULL with INF_POS/INF_NEG/NAN):
 * one JSON value per row, ±9e999 for infinities, the string 'NaN' (JSON has none), and for an
 * unknown type a string naming it, which floatOf reports.
 */
function storedFloat(f: FloatJson, value: string, type: string): string {
  return `CASE ${type} WHEN 'FINITE' THEN ${f(value)} WHEN 'INF_POS' THEN 9e999 WHEN 'INF_NEG' THEN -9e999 WHEN 'NAN' THEN 'NaN' ELSE 'type ' || quote(${type}) END`;
}

function floatOf(v: JsonValue): JsonValue {
  if (typeof v !== 'string') return v;
  if (v === 'NaN') return NaN;
  throw new ForeignDatabaseError(`unknown value ${v} in the database`);
}
