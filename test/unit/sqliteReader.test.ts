import * as assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { exactFloatJson, plainFloat, quotedFloat } from '../../src/core/storage/sqliteReader';

/** Doubles across the whole range: random bit patterns, short decimals, edge values. */
function doubles(n: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  const out = [
    0,
    0.1 + 0.2,
    1 / 3,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    2 ** 53 + 2,
    1e22,
    1e23,
    4.35,
    1e-7,
  ];
  while (out.length < n) {
    view.setUint32(0, (Math.random() * 2 ** 32) >>> 0);
    view.setUint32(4, (Math.random() * 2 ** 32) >>> 0);
    const bits = view.getFloat64(0);
    if (Number.isFinite(bits)) out.push(bits);
    out.push(Number((Math.random() * 1000).toFixed(out.length % 15)));
  }
  return out;
}

describe('SQLite reader: floats travel as JSON text without rounding', () => {
  const db = new Database(':memory:');
  const values = doubles(50_000);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, x FLOAT)');
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  db.transaction(() => [...values, null].forEach((v) => insert.run(v)))(); // NULL: a value Optuna stored as NaN/±inf
  const stored = db.prepare('SELECT x FROM t ORDER BY id').pluck().all() as number[];

  for (const [name, f] of [
    ['plain', plainFloat],
    ['quote()', quotedFloat],
  ] as const) {
    it(`${name}: ${values.length} doubles read back bit for bit, NULL as null`, () => {
      const back = JSON.parse(
        db
          .prepare(`SELECT json_group_array(${f('x')}) FROM (SELECT x FROM t ORDER BY id)`)
          .pluck()
          .get() as string,
      ) as number[];
      assert.equal(back.length, stored.length);
      assert.equal(back.at(-1), null);
      const wrong = stored.flatMap((v, i) =>
        Object.is(back[i], v) ? [] : [`${v} came back as ${back[i]}`],
      );
      assert.deepEqual(wrong.slice(0, 5), []);
    });
  }

  it('this SQLite writes 17 digits, so the cheaper plain form is chosen', () => {
    assert.equal(exactFloatJson(db), plainFloat);
  });

  // An SQLite older than 3.53 writes 15 digits in json_array; simulated, since the one here does not.
  function sqliteWith(render: (sql: string, args: number[]) => string): Database.Database {
    const stmt = (sql: string) => ({
      pluck: () => ({
        get: (...args: number[]) => (sql.includes('sqlite_version') ? '3.45.1' : render(sql, args)),
      }),
    });
    return { prepare: stmt } as unknown as Database.Database;
  }
  const fifteen = (args: number[]) => `[${args.map((v) => v.toPrecision(15)).join(',')}]`;
  const exact = (args: number[]) => JSON.stringify(args);

  it('an SQLite writing 15 digits in JSON gets the quote() form', () => {
    assert.equal(
      exactFloatJson(
        sqliteWith((sql, args) => (sql.includes('quote(') ? exact(args) : fifteen(args))),
      ),
      quotedFloat,
    );
  });

  it('an SQLite rounding both ways is refused with its version, not read with rounded values', () => {
    assert.throws(
      () => exactFloatJson(sqliteWith((_, args) => fifteen(args))),
      /SQLite 3\.45\.1 does not write floats exactly/,
    );
  });
});
