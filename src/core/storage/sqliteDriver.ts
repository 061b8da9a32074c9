import * as fs from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

export interface OpenOptions {
  readonly?: boolean;
  /** Busy timeout in ms. */
  timeout?: number;
}

/**
 * Opens an SQLite file. The extension may run in a Node whose ABI differs from the one
 * node_modules was built for (VS Code's remote server ships Node 20, 22 or 24), so the
 * driver is chosen once per process (see selectDriver): better-sqlite3 with the binding
 * prebuilt for this ABI in `native/abi-<N>/better_sqlite3.node` when present, else the one
 * in node_modules, else Node's built-in `node:sqlite` behind the small part of the
 * better-sqlite3 API this project uses; else a readable error naming Node and ABI,
 * never a raw NODE_MODULE_VERSION crash.
 *
 * With node:sqlite the returned object implements only: prepare(sql) -> statement with
 * all/get/iterate/run, raw(), pluck(); exec, transaction(fn) and close.
 */
export function openSqlite(file: string, opts: OpenOptions = {}): BetterSqlite3.Database {
  if (opts.readonly && !fs.existsSync(file)) throw new Error(`SQLite file ${file} does not exist`);
  assertRegularFiles(file);
  const driver = sqliteDriver();
  if (driver.kind === 'node:sqlite') {
    return openWithNodeSqlite(driver.sqlite, file, opts);
  }
  return new driver.Database(file, {
    readonly: opts.readonly ?? false,
    fileMustExist: opts.readonly ?? false,
    timeout: opts.timeout ?? 2000,
    ...(driver.nativeBinding ? { nativeBinding: driver.nativeBinding } : {}),
  });
}

/** Thrown for a path that is not a regular file (opening a FIFO blocks until a writer comes). */
export class NotRegularFileError extends Error {}

/**
 * The database and the side files SQLite opens with it must be regular files (symlinks
 * followed): a FIFO named `*.db` (or `*.db-wal`) blocks open() forever, a device reads
 * without end. Missing side files are fine.
 */
export function assertRegularFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(f, { throwIfNoEntry: false });
    } catch (e) {
      throw new NotRegularFileError(`${f} cannot be inspected: ${(e as Error).message}`);
    }
    if (st && !st.isFile())
      throw new NotRegularFileError(
        `${f} is not a regular file (it is ${st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : 'a device'}): not an SQLite database`,
      );
  }
}

/** The binding shipped for this runtime's ABI, if the package carries one. */
export function abiBinding(): string | undefined {
  const candidate = path.join(
    nativeDir(),
    `abi-${process.versions.modules}`,
    'better_sqlite3.node',
  );
  return fs.existsSync(candidate) ? candidate : undefined;
}

// The bundle lives in <extension>/dist, the bindings in <extension>/native.
function nativeDir(): string {
  return path.join(__dirname, '..', 'native');
}

function shippedAbis(): string[] {
  try {
    return fs
      .readdirSync(nativeDir())
      .map((d) => /^abi-(\d+)$/.exec(d)?.[1])
      .filter((a): a is string => !!a)
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------
// Choosing the driver

/** The subset of node:sqlite (Node >= 22.13 unflagged) used here; @types/node 20 lacks it. */
export interface NodeSqliteStatement {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  /** Node >= 22.13 */
  iterate?(...params: unknown[]): IterableIterator<unknown>;
  /** Node >= 22.16 / 24 */
  setReturnArrays?(on: boolean): void;
}
export interface NodeSqliteDb {
  prepare(sql: string): NodeSqliteStatement;
  exec(sql: string): void;
  close(): void;
}
export interface NodeSqliteModule {
  DatabaseSync: new (
    file: string,
    options?: { readOnly?: boolean; timeout?: number },
  ) => NodeSqliteDb;
}

export type DriverChoice =
  | {
      kind: 'better-sqlite3';
      Database: typeof BetterSqlite3;
      nativeBinding?: string;
      detail: string;
    }
  | { kind: 'node:sqlite'; sqlite: NodeSqliteModule; detail: string };

/** What selectDriver may look at; injected so that the decision is testable anywhere. */
export interface DriverProbes {
  /** process.version */
  node: string;
  /** process.versions.modules */
  abi: string;
  /** OSM_SQLITE_DRIVER: 'better-sqlite3' or 'node:sqlite' forces one; anything else: automatic */
  forced?: string;
  /** ABIs with a binding under native/ */
  shippedAbis: string[];
  /** native/abi-<abi>/better_sqlite3.node when it exists */
  shippedBinding: string | undefined;
  /** Loads better-sqlite3 with this binding (undefined: node_modules' build) and opens a DB in memory, or throws. */
  loadBetter: (binding: string | undefined) => typeof BetterSqlite3;
  /** The node:sqlite module, or throws (Node 20, or 22 before 22.13 without --experimental-sqlite). */
  loadNodeSqlite: () => NodeSqliteModule;
}

const NODE_OF_ABI: Record<string, string> = {
  '108': '18',
  '115': '20',
  '120': '21',
  '127': '22',
  '131': '23',
  '137': '24',
  '141': '25',
  '147': '26',
};
const nodeOfAbi = (abi: string): string =>
  NODE_OF_ABI[abi] ? `Node ${NODE_OF_ABI[abi]}` : `ABI ${abi}`;
/** An error message on one line, cut short (bindings' "Tried:" lists run long). */
const brief = (e: unknown): string => {
  const m = String(e instanceof Error ? e.message : e)
    .replace(/\s+/g, ' ')
    .trim();
  return m.length > 240 ? `${m.slice(0, 239)}…` : m;
};

/**
 * better-sqlite3 (shipped binding for this ABI, then node_modules' build), then node:sqlite,
 * then a readable error. A binding that exists but does not load (wrong ABI, a glibc too old
 * for it) falls through like a missing one.
 */
export function selectDriver(p: DriverProbes): DriverChoice {
  const failures: string[] = [];
  if (p.forced !== 'node:sqlite') {
    const bindings = p.shippedBinding ? [p.shippedBinding, undefined] : [undefined];
    for (const binding of bindings) {
      try {
        const Database = p.loadBetter(binding);
        const detail = binding
          ? `better-sqlite3 (binding for ABI ${p.abi}: ${binding})`
          : 'better-sqlite3 (node_modules build)';
        return { kind: 'better-sqlite3', Database, nativeBinding: binding, detail };
      } catch (e) {
        failures.push(`better-sqlite3${binding ? ` with ${binding}` : ''}: ${brief(e)}`);
      }
    }
    if (p.forced === 'better-sqlite3') throw new Error(noDriverMessage(p, failures));
  }
  try {
    const sqlite = p.loadNodeSqlite();
    const why = failures.length
      ? `better-sqlite3 does not load here (${failures.join('; ')})`
      : 'OSM_SQLITE_DRIVER=node:sqlite';
    return { kind: 'node:sqlite', sqlite, detail: `node:sqlite of Node ${p.node}, because ${why}` };
  } catch (e) {
    failures.push(`node:sqlite: ${brief(e)}`);
  }
  throw new Error(noDriverMessage(p, failures));
}

function noDriverMessage(p: DriverProbes, failures: string[]): string {
  const shipped = p.shippedAbis.length
    ? `this build ships the SQLite driver (better-sqlite3) for ${p.shippedAbis.map((a) => `ABI ${a} (${nodeOfAbi(a)})`).join(', ')}`
    : 'this build ships no prebuilt SQLite driver (better-sqlite3) binding';
  return (
    `No SQLite driver works in this Node.js ${p.node} (ABI ${p.abi}, ${nodeOfAbi(p.abi)}): ${shipped}, ` +
    `and the fallback node:sqlite needs Node 22.13 or newer. ` +
    `Update the extension to a release built for ${nodeOfAbi(p.abi)}, or (CLI from a source checkout) run \`npm rebuild better-sqlite3\`. ` +
    `Details: ${failures.join('; ')}`
  );
}

let chosen: DriverChoice | undefined;

/** The driver of this process, chosen on first use. */
export function sqliteDriver(): DriverChoice {
  chosen ??= selectDriver({
    node: process.version,
    abi: process.versions.modules,
    forced: process.env.OSM_SQLITE_DRIVER,
    shippedAbis: shippedAbis(),
    shippedBinding: abiBinding(),
    loadBetter: (binding) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: the native addon may be missing or built for another ABI
      const Database = require('better-sqlite3') as typeof BetterSqlite3;
      // The addon itself loads only when a database is opened.
      new Database(':memory:', binding ? { nativeBinding: binding } : {}).close();
      return Database;
    },
    loadNodeSqlite: () => {
      const p = process as unknown as { getBuiltinModule?: (id: string) => unknown };
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:sqlite exists only in newer Node
      const m = (p.getBuiltinModule?.('node:sqlite') ?? require('node:sqlite')) as
        NodeSqliteModule | undefined;
      if (!m?.DatabaseSync)
        throw new Error(`node:sqlite is not available in Node ${process.version}`);
      return m;
    },
  });
  return chosen;
}

// ---------------------------------------------------------------------------------------
// node:sqlite behind the better-sqlite3 API subset used in this project

/** Opens `file` with node:sqlite behind the better-sqlite3 subset listed at openSqlite. */
export function openWithNodeSqlite(
  sqlite: NodeSqliteModule,
  file: string,
  opts: OpenOptions = {},
): BetterSqlite3.Database {
  return new NodeSqliteDatabase(sqlite, file, opts) as unknown as BetterSqlite3.Database;
}

type Params = unknown[];

class NodeSqliteStatementAdapter {
  private mode: 'objects' | 'raw' | 'pluck' = 'objects';

  constructor(private readonly stmt: NodeSqliteStatement) {}

  /** Rows as arrays (turns pluck off), as in better-sqlite3. */
  raw(on = true): this {
    this.mode = on ? 'raw' : this.mode === 'raw' ? 'objects' : this.mode;
    return this;
  }

  /** Only the first column's value (turns raw off), as in better-sqlite3. */
  pluck(on = true): this {
    this.mode = on ? 'pluck' : this.mode === 'pluck' ? 'objects' : this.mode;
    return this;
  }

  all(...params: Params): unknown[] {
    const arrays = this.prepareMode();
    return this.stmt.all(...params).map((r) => this.shape(r, arrays));
  }

  get(...params: Params): unknown {
    const arrays = this.prepareMode();
    const r = this.stmt.get(...params);
    return r === undefined ? undefined : this.shape(r, arrays);
  }

  /** Rows one at a time, without holding them all (falls back to all() where node:sqlite cannot). */
  *iterate(...params: Params): IterableIterator<unknown> {
    const arrays = this.prepareMode();
    const rows = this.stmt.iterate ? this.stmt.iterate(...params) : this.stmt.all(...params);
    for (const r of rows) yield this.shape(r, arrays);
  }

  run(...params: Params): { changes: number; lastInsertRowid: number | bigint } {
    const r = this.stmt.run(...params);
    return { changes: Number(r.changes), lastInsertRowid: r.lastInsertRowid };
  }

  /** Asks node:sqlite for arrays when it can (keeps duplicate column names); returns whether it does. */
  private prepareMode(): boolean {
    if (!this.stmt.setReturnArrays) return false;
    this.stmt.setReturnArrays(this.mode !== 'objects');
    return this.mode !== 'objects';
  }

  private shape(row: unknown, arrays: boolean): unknown {
    if (this.mode === 'objects') return { ...(row as object) };
    const values = arrays ? (row as unknown[]) : Object.values(row as object);
    return this.mode === 'pluck' ? values[0] : values;
  }
}

class NodeSqliteDatabase {
  private readonly db: NodeSqliteDb;
  private depth = 0;
  open = true;

  constructor(
    sqlite: NodeSqliteModule,
    readonly name: string,
    opts: OpenOptions,
  ) {
    this.db = new sqlite.DatabaseSync(name, {
      readOnly: opts.readonly ?? false,
      timeout: opts.timeout ?? 2000,
    });
    // `timeout` is ignored before Node 22.16: set the busy timeout directly as well.
    this.db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.timeout ?? 2000))}`);
  }

  prepare(sql: string): NodeSqliteStatementAdapter {
    return new NodeSqliteStatementAdapter(this.db.prepare(sql));
  }

  exec(sql: string): this {
    this.db.exec(sql);
    return this;
  }

  /** BEGIN/COMMIT around fn, ROLLBACK when it throws; nested calls use savepoints. */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const savepoint = this.depth > 0 ? `osm_tx_${this.depth}` : undefined;
      this.db.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN');
      this.depth++;
      try {
        const result = fn(...args);
        this.db.exec(savepoint ? `RELEASE ${savepoint}` : 'COMMIT');
        return result;
      } catch (e) {
        try {
          this.db.exec(savepoint ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : 'ROLLBACK');
        } catch {
          // no transaction left to roll back (SQLite already ended it)
        }
        throw e;
      } finally {
        this.depth--;
      }
    };
  }

  close(): this {
    if (this.open) this.db.close();
    this.open = false;
    return this;
  }
}
