import type BetterSqlite3 from 'better-sqlite3';
import * as path from 'node:path';
import { shellQuote } from '../runs/shell';

/** Alembic heads of the Optuna releases whose RDB schema the reader knows. */
export const KNOWN_REVISIONS: Record<string, string> = {
  'v3.0.0.d': 'Optuna 3.0–3.1',
  'v3.2.0.a': 'Optuna 3.2–5.0',
};

/**
 * Revisions of Optuna before 3.0 (each is named for the release that introduced it), and the
 * steps of 3.0's own upgrade, where an interrupted `optuna storage upgrade` leaves a file.
 */
const OLD_REVISIONS: Record<string, string> = {
  'v0.9.0.a': 'Optuna 0.9–1.1',
  'v1.2.0.a': 'Optuna 1.2',
  'v1.3.0.a': 'Optuna 1.3–2.3',
  'v2.4.0.a': 'Optuna 2.4–2.5',
  'v2.6.0.a': 'Optuna 2.6–2.10',
  'v3.0.0.a': 'part-way through an upgrade to Optuna 3.0',
  'v3.0.0.b': 'part-way through an upgrade to Optuna 3.0',
  'v3.0.0.c': 'part-way through an upgrade to Optuna 3.0',
};

/**
 * Whether Optuna lists a trial's params by name for a file at this revision. Optuna 3.0–3.1
 * (the only releases that open a v3.0.0.d file without an upgrade) take the rows as SQLite's
 * unique index on (trial_id, param_name) yields them: by name, in byte order. Optuna 3.3 and
 * later sort them by param_id, the order they were suggested in (optuna#4775).
 */
export function listsParamsByName(revision: string): boolean {
  return revision === 'v3.0.0.d';
}

/** Longest text or blob value read from an Optuna SQLite file (names, JSON, datetimes). */
const MAX_VALUE_BYTES = 16 * 1024 * 1024;

const REQUIRED_TABLES = [
  'studies',
  'study_directions',
  'study_user_attributes',
  'study_system_attributes',
  'trials',
  'trial_params',
  'trial_values',
  'trial_intermediate_values',
  'trial_user_attributes',
  'trial_system_attributes',
  'alembic_version',
];

/** The file is not an Optuna RDB that the reader understands; the message says what it is. */
export class ForeignDatabaseError extends Error {}

/** An Optuna database in the schema of an Optuna before 3.0: the message says how to upgrade. */
export class OldOptunaDatabaseError extends ForeignDatabaseError {}

/**
 * Checks that `db` (opened from `file`) is an Optuna RDB storage the reader can read, and
 * returns its alembic revision; otherwise throws a ForeignDatabaseError saying what it is.
 */
export function checkSchema(db: BetterSqlite3.Database, file: string): string {
  let tables: string[];
  try {
    tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]
    ).sort();
  } catch (e) {
    const msg = (e as Error).message;
    if (/not a database|file is encrypted|malformed/i.test(msg))
      throw new ForeignDatabaseError(`${file} is not an SQLite database (${msg})`);
    throw e;
  }
  if (tables.length === 0)
    throw new ForeignDatabaseError(`${file} is an empty SQLite database, not an Optuna storage`);
  const missing = REQUIRED_TABLES.filter((t) => !tables.includes(t));
  if (missing.length > 0) {
    rejectOldOptuna(db, file, tables);
    const shown = tables.slice(0, 8).join(', ') + (tables.length > 8 ? ', …' : '');
    throw new ForeignDatabaseError(
      `${file} is an SQLite database but not an Optuna storage: it has tables ${shown} and lacks ${missing.join(', ')}`,
    );
  }
  checkColumns(db, file, REQUIRED_TABLES);
  const revs = db.prepare('SELECT version_num FROM alembic_version').pluck().all() as string[];
  if (revs.length !== 1)
    throw new ForeignDatabaseError(
      `${file} has ${revs.length} alembic revisions; an Optuna database has exactly one`,
    );
  if (revs[0] in KNOWN_REVISIONS) return revs[0];
  rejectOldOptuna(db, file, tables);
  const known = Object.entries(KNOWN_REVISIONS)
    .map(([r, v]) => `${r} (${v})`)
    .join(', ');
  throw new ForeignDatabaseError(
    `${file} is an Optuna database with schema revision "${revs[0]}", which this version does not know (known: ${known})`,
  );
}

/**
 * A file an Optuna before 3.0 set up (its alembic revision is one of theirs, or it has Optuna's
 * version_info table and none, as before 0.9) is named as such, with the upgrade to run on a
 * copy: `optuna storage upgrade` rewrites the file, after which the old Optuna cannot open it.
 */
function rejectOldOptuna(db: BetterSqlite3.Database, file: string, tables: string[]): void {
  const hasRevision = tables.includes('alembic_version');
  if (!tables.includes('studies') || !tables.includes('trials')) return;
  if (!hasRevision && !tables.includes('version_info')) return;
  const own = ['alembic_version', 'version_info'].filter((t) => tables.includes(t));
  checkColumns(db, file, own);
  let schema: string;
  if (hasRevision) {
    const revs = db.prepare('SELECT version_num FROM alembic_version').pluck().all() as unknown[];
    const rev = revs.length === 1 ? String(revs[0]) : '';
    if (!(rev in OLD_REVISIONS)) return;
    schema = `schema revision ${rev} (${OLD_REVISIONS[rev]})`;
  } else schema = 'no schema revision (Optuna before 0.9)';
  const version = own.includes('version_info')
    ? db.prepare('SELECT library_version FROM version_info LIMIT 1').pluck().get()
    : undefined;
  const by =
    typeof version === 'string' && /^[0-9A-Za-z.+-]{1,40}$/.test(version)
      ? `, set up by Optuna ${version}`
      : '';
  const ext = path.extname(file);
  const copy = `${file.slice(0, file.length - ext.length)}-upgraded${ext || '.db'}`;
  throw new OldOptunaDatabaseError(
    `${file} is an Optuna database from before Optuna 3.0: ${schema}${by}. This version reads the schemas of Optuna 3.0 and later. Upgrade a copy with Optuna 3.0 or later (pip install -U optuna), then open the copy: cp ${shellQuote(file)} ${shellQuote(copy)} && optuna storage upgrade --storage ${shellQuote(`sqlite:///${copy}`)}`,
  );
}

/**
 * Optuna's tables are plain tables of plain columns holding short values. A crafted file can
 * make a column Optuna names a generated one (an expression evaluated on every read, e.g.
 * a 100 MB string from a 53 KB file) or a virtual table: refused. Any text or blob value we
 * read is capped at MAX_VALUE_BYTES (one scan, no value kept).
 */
function checkColumns(db: BetterSqlite3.Database, file: string, tables: string[]): void {
  const virtual = db
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%' AND name IN (${tables.map(() => '?').join(', ')})`,
    )
    .pluck()
    .all(...tables) as string[];
  if (virtual.length > 0)
    throw new ForeignDatabaseError(
      `${file} is not an Optuna storage: ${virtual.join(', ')} ${virtual.length === 1 ? 'is a virtual table' : 'are virtual tables'}`,
    );
  // No value is longer than the database that holds it: a small one needs no scan at all.
  const small = databaseBytes(db) <= MAX_VALUE_BYTES;
  const payloads = small ? undefined : largestPayloads(db);
  for (const table of tables) {
    const cols = db.prepare(`PRAGMA table_xinfo("${table}")`).all() as Array<{
      name: string;
      hidden: number;
    }>;
    const odd = cols.filter((c) => c.hidden !== 0).map((c) => c.name);
    if (odd.length > 0)
      throw new ForeignDatabaseError(
        `${file} is not an Optuna storage: ${table}.${odd.join(`, ${table}.`)} ${odd.length === 1 ? 'is a generated or hidden column' : 'are generated or hidden columns'}, where Optuna's schema has plain ones`,
      );
    // A table whose largest row is short holds no long value: no need to read its values.
    if (small || (payloads?.get(table) ?? Infinity) <= MAX_VALUE_BYTES) continue;
    // Every column, whatever its declared type: SQLite stores any value in any column.
    const long = db
      .prepare(
        `SELECT 1 FROM "${table}" WHERE ${cols.map((c) => `length(CAST("${c.name.replace(/"/g, '""')}" AS BLOB)) > ${MAX_VALUE_BYTES}`).join(' OR ')} LIMIT 1`,
      )
      .pluck()
      .get();
    if (long !== undefined)
      throw new ForeignDatabaseError(
        `${file} is not an Optuna storage this reader accepts: ${table} holds a value longer than ${MAX_VALUE_BYTES / 1024 / 1024} MB`,
      );
  }
}

/**
 * The database's size, its pages (those its write-ahead log adds included) times their size:
 * every value it holds is stored whole in those pages (SQLite neither compresses values nor
 * stores a zeroblob sparsely).
 */
function databaseBytes(db: BetterSqlite3.Database): number {
  const pages = db.prepare('PRAGMA page_count').pluck().get() as number;
  const size = db.prepare('PRAGMA page_size').pluck().get() as number;
  return pages * size;
}

/**
 * The largest record of each table, in bytes, as SQLite's `dbstat` table reports it (read from
 * the b-tree pages, without decoding a value), or undefined when this SQLite has no `dbstat`.
 * A value is never longer than its record: the long-value scan (~0.1 s of a 20,000-trial
 * file's ~0.3 s read, ~0.4 s at 100,000) is needed only for a table with a record that large.
 * Called as a table-valued function: a crafted file's own table named dbstat fails that call
 * (and is then scanned like any file without dbstat) instead of answering it.
 */
function largestPayloads(db: BetterSqlite3.Database): Map<string, number> | undefined {
  try {
    const rows = db
      .prepare("SELECT name, mx_payload FROM dbstat('main', 1)")
      .raw(true)
      .all() as Array<[string, number]>;
    return new Map(rows);
  } catch {
    return undefined;
  }
}
