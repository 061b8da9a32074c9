import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import {
  type DriverProbes,
  type NodeSqliteModule,
  type NodeSqliteStatement,
  openWithNodeSqlite,
  selectDriver,
} from '../../src/core/storage/sqliteDriver';

const ABI_MISMATCH =
  "The module '/ext/native/abi-137/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 137. This version of Node.js requires\nNODE_MODULE_VERSION 141.";
const FakeBetter = function FakeBetter() {} as unknown as typeof Database;
const fakeNodeSqlite = {} as NodeSqliteModule;

function probes(
  over: Partial<DriverProbes> & { loads?: Record<string, boolean>; nodeSqlite?: boolean },
): { p: DriverProbes; tried: string[] } {
  const tried: string[] = [];
  const loads = over.loads ?? {};
  const p: DriverProbes = {
    node: 'v24.21.0',
    abi: '137',
    shippedAbis: ['115', '127', '137'],
    shippedBinding: '/ext/native/abi-137/better_sqlite3.node',
    loadBetter: (binding) => {
      const key = binding ?? 'node_modules';
      tried.push(key);
      if (loads[key]) return FakeBetter;
      throw new Error(
        binding
          ? ABI_MISMATCH
          : 'Could not locate the bindings file. Tried:\n → /ext/node_modules/better-sqlite3/build/better_sqlite3.node',
      );
    },
    loadNodeSqlite: () => {
      tried.push('node:sqlite');
      if (over.nodeSqlite) return fakeNodeSqlite;
      throw new Error('No such built-in module: node:sqlite');
    },
    ...over,
  };
  return { p, tried };
}

describe('SQLite driver choice', () => {
  it('uses the binding shipped for the running ABI', () => {
    const { p, tried } = probes({
      loads: { '/ext/native/abi-137/better_sqlite3.node': true },
      nodeSqlite: true,
    });
    const d = selectDriver(p);
    assert.equal(d.kind, 'better-sqlite3');
    assert.equal(
      d.kind === 'better-sqlite3' && d.nativeBinding,
      '/ext/native/abi-137/better_sqlite3.node',
    );
    assert.deepEqual(tried, ['/ext/native/abi-137/better_sqlite3.node']);
  });

  it("uses node_modules' own build when no binding is shipped for the ABI (source checkout, CLI)", () => {
    const { p, tried } = probes({ shippedBinding: undefined, loads: { node_modules: true } });
    const d = selectDriver(p);
    assert.equal(d.kind, 'better-sqlite3');
    assert.equal(d.kind === 'better-sqlite3' && d.nativeBinding, undefined);
    assert.deepEqual(tried, ['node_modules']);
  });

  it('falls back to node:sqlite when the shipped binding does not load (e.g. a glibc too old for it)', () => {
    const { p, tried } = probes({ nodeSqlite: true });
    const d = selectDriver(p);
    assert.equal(d.kind, 'node:sqlite');
    assert.deepEqual(tried, [
      '/ext/native/abi-137/better_sqlite3.node',
      'node_modules',
      'node:sqlite',
    ]);
    assert.match(
      d.detail,
      /node:sqlite of Node v24\.21\.0, because better-sqlite3 does not load here/,
    );
    assert.match(d.detail, /NODE_MODULE_VERSION 137/);
  });

  it('falls back to node:sqlite on a future Node with no binding for its ABI', () => {
    const { p, tried } = probes({
      node: 'v25.2.0',
      abi: '141',
      shippedBinding: undefined,
      nodeSqlite: true,
    });
    assert.equal(selectDriver(p).kind, 'node:sqlite');
    assert.deepEqual(tried, ['node_modules', 'node:sqlite']);
  });

  it('without any driver, says which Node and ABI, what ships and what to do (no raw NODE_MODULE_VERSION crash)', () => {
    const { p } = probes({ node: 'v21.7.3', abi: '120', shippedBinding: undefined });
    assert.throws(
      () => selectDriver(p),
      (e: Error) => {
        assert.match(
          e.message,
          /^No SQLite driver works in this Node\.js v21\.7\.3 \(ABI 120, Node 21\)/,
        );
        assert.match(
          e.message,
          /ships the SQLite driver \(better-sqlite3\) for ABI 115 \(Node 20\), ABI 127 \(Node 22\), ABI 137 \(Node 24\)/,
        );
        assert.match(e.message, /node:sqlite needs Node 22\.13 or newer/);
        assert.match(e.message, /Update the extension to a release built for Node 21/);
        assert.match(
          e.message,
          /Details: better-sqlite3: Could not locate the bindings file\. Tried: → \S+; node:sqlite: No such built-in module/,
        );
        return true;
      },
    );
  });

  it('OSM_SQLITE_DRIVER=node:sqlite skips better-sqlite3; =better-sqlite3 never falls back', () => {
    const a = probes({
      forced: 'node:sqlite',
      loads: { '/ext/native/abi-137/better_sqlite3.node': true },
      nodeSqlite: true,
    });
    assert.equal(selectDriver(a.p).kind, 'node:sqlite');
    assert.deepEqual(a.tried, ['node:sqlite']);
    const b = probes({ forced: 'better-sqlite3', nodeSqlite: true });
    assert.throws(
      () => selectDriver(b.p),
      /No SQLite driver works in this Node\.js v24\.21\.0 \(ABI 137, Node 24\)/,
    );
    assert.ok(!b.tried.includes('node:sqlite'));
  });
});

/**
 * A stand-in for node:sqlite built on better-sqlite3, so the adapter is exercised on any
 * Node; `arrays: false` plays Node 22.13–22.15, whose statements lack setReturnArrays.
 */
function fakeSqliteModule(arrays: boolean): NodeSqliteModule {
  class DatabaseSync {
    private readonly db: Database.Database;
    constructor(file: string, o: { readOnly?: boolean; timeout?: number } = {}) {
      this.db = new Database(file, {
        readonly: o.readOnly ?? false,
        fileMustExist: o.readOnly ?? false,
        timeout: o.timeout,
      });
    }
    prepare(sql: string): NodeSqliteStatement {
      const s = this.db.prepare(sql);
      let raw = false;
      const reader = () => (s.reader ? s.raw(raw) : s);
      const st: NodeSqliteStatement = {
        all: (...p) => reader().all(...p),
        iterate: (...p) => reader().iterate(...p),
        get: (...p) => reader().get(...p),
        run: (...p) => s.run(...p),
      };
      if (arrays) st.setReturnArrays = (on) => void (raw = on);
      return st;
    }
    exec(sql: string): void {
      this.db.exec(sql);
    }
    close(): void {
      this.db.close();
    }
  }
  return { DatabaseSync } as unknown as NodeSqliteModule;
}

function realNodeSqlite(): NodeSqliteModule | undefined {
  const p = process as unknown as { getBuiltinModule?: (id: string) => unknown };
  try {
    return (p.getBuiltinModule?.('node:sqlite') ?? undefined) as NodeSqliteModule | undefined;
  } catch {
    return undefined;
  }
}

/** node_modules' better-sqlite3 is built for one ABI: run under another Node, only real node:sqlite is tested. */
function betterLoads(): boolean {
  try {
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

const variants: Array<[string, NodeSqliteModule | undefined]> = [
  ['stand-in with setReturnArrays', betterLoads() ? fakeSqliteModule(true) : undefined],
  ['stand-in without setReturnArrays', betterLoads() ? fakeSqliteModule(false) : undefined],
  [`real node:sqlite of ${process.version}`, realNodeSqlite()],
];

for (const [name, sqlite] of variants) {
  describe(`node:sqlite adapter (${name})`, function () {
    let dir: string;
    let file: string;
    before(function () {
      if (!sqlite) this.skip();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-sqlite-driver-'));
      file = path.join(dir, 'a.db');
      const db = openWithNodeSqlite(sqlite!, file);
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL)');
      const ins = db.prepare('INSERT INTO t (name, v) VALUES (?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 5; i++) ins.run(`n${i}`, i / 2);
      })();
      db.close();
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    it('reads rows as objects, arrays (raw) and first values (pluck), like better-sqlite3', () => {
      const db = openWithNodeSqlite(sqlite!, file, { readonly: true, timeout: 100 });
      try {
        assert.deepEqual(db.prepare('SELECT id, name FROM t WHERE id = ?').get(2), {
          id: 2,
          name: 'n1',
        });
        assert.deepEqual(
          db.prepare('SELECT id, name, v FROM t ORDER BY id').raw(true).all().slice(0, 2),
          [
            [1, 'n0', 0],
            [2, 'n1', 0.5],
          ],
        );
        assert.deepEqual(db.prepare('SELECT name FROM t ORDER BY id DESC').pluck().all(), [
          'n4',
          'n3',
          'n2',
          'n1',
          'n0',
        ]);
        assert.deepEqual(
          [...db.prepare('SELECT id, v FROM t WHERE id > ? ORDER BY id').raw(true).iterate(3)],
          [
            [4, 1.5],
            [5, 2],
          ],
        );
        assert.deepEqual(
          [...db.prepare('SELECT name FROM t WHERE id < 3 ORDER BY id').iterate()],
          [{ name: 'n0' }, { name: 'n1' }],
        );
        assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 5);
        assert.equal(db.prepare('SELECT name FROM t WHERE id = 99').pluck().get(), undefined);
        const s = db.prepare('SELECT id, name FROM t WHERE id = 1').pluck();
        assert.deepEqual(s.raw(true).get(), [1, 'n0'], 'raw() turns pluck off');
        assert.equal(s.pluck(true).get(), 1, 'pluck() turns raw off');
        assert.throws(() => db.prepare('DELETE FROM t').run(), /readonly|read-only/i);
      } finally {
        db.close();
      }
    });

    it('commits a transaction, rolls back one that throws, reports changes', () => {
      const db = openWithNodeSqlite(sqlite!, file);
      try {
        const del = db.prepare('DELETE FROM t WHERE id = ?');
        assert.throws(
          () =>
            db.transaction(() => {
              del.run(1);
              throw new Error('abort');
            })(),
          /abort/,
        );
        assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 5);
        const removed = db.transaction((id: number) => del.run(id).changes)(5);
        assert.equal(removed, 1);
        assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 4);
      } finally {
        db.close();
      }
    });
  });
}
