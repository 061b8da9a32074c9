import * as assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import { datetimeMicros, formatMicros, storedDatetime } from '../../src/core/optuna/datetimeMicros';
import { trialText, trialToJson } from '../../src/core/optuna/dumpFormat';
import { toStrictJson } from '../../src/core/optuna/strictJson';
import type { Distribution } from '../../src/core/optuna/model';
import type { JsonValue } from '../../src/core/optuna/pythonJsonParse';
import { JournalReplay } from '../../src/core/optuna/replay';
import { TrialTable } from '../../src/core/optuna/trialTable';
import { extraRules, optunaCompatibleRules } from '../fixtures/replayRules';

const FLOAT: Distribution = {
  name: 'FloatDistribution',
  attributes: { step: null, low: 0, high: 1, log: false },
};
const INT: Distribution = {
  name: 'IntDistribution',
  attributes: { log: false, step: 1, low: 0, high: 10 },
};
const CAT: Distribution = {
  name: 'CategoricalDistribution',
  attributes: { choices: ['a', null, 3] },
};

/** A tiny seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('trial datetimes as microseconds', () => {
  it('read back to exactly the text they came from, across the years a double holds', () => {
    const r = rng(3);
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor((r() * 2 - 0.8) * 8e12 * 1.1);
      const d = new Date(ms);
      if (d.getUTCFullYear() < 1000 || d.getUTCFullYear() > 2250) continue;
      const text = d.toISOString().slice(0, 23) + String(Math.floor(r() * 1000)).padStart(3, '0');
      assert.equal(formatMicros(datetimeMicros(text)), text);
    }
  });

  it('keep as text what a number cannot hold, and refuse what is no datetime', () => {
    assert.ok(Number.isNaN(datetimeMicros('2026-11-26T10:00:00.000001+05:30')));
    assert.ok(Number.isNaN(datetimeMicros('2300-01-01T00:00:00.000000')), 'beyond 2^53 µs');
    assert.ok(Number.isNaN(datetimeMicros('0999-01-01T00:00:00.000000')));
    assert.equal(storedDatetime('2026-11-26T10:00:00Z'), '2026-11-26T10:00:00.000000+00:00');
    assert.equal(storedDatetime('2026-11-26 10:00:00.5'), datetimeMicros('2026-11-26T10:00:00.5'));
    assert.equal(
      formatMicros(storedDatetime('2024-02-29 23:59:59.999999') as number),
      '2024-02-29T23:59:59.999999',
    );
    assert.equal(storedDatetime(null), null);
    // Not a calendar date, but a datetime's shape: kept as the text it is, as before.
    assert.equal(storedDatetime('2026-02-29T00:00:00.000000'), '2026-02-29T00:00:00.000000');
    assert.throws(() => storedDatetime('yesterday'));
  });
});

describe('trial table (columns behind the Trial objects)', () => {
  it('keeps params in the order they were set, a re-set param in its place', () => {
    const t = new TrialTable(0);
    const a = t.row(t.add(5, 0, 'RUNNING'));
    const b = t.row(t.add(6, 1, 'RUNNING'));
    t.setParam(a.row, 'x', FLOAT, 0.25);
    t.setParam(a.row, 'c', CAT, 2);
    t.setParam(b.row, 'c', CAT, 0);
    t.setParam(b.row, 'x', FLOAT, 0.5);
    t.setParam(a.row, 'x', { ...FLOAT }, 0.75); // same name, another (compatible) distribution
    assert.deepEqual(a.params, { x: 0.75, c: 3 });
    assert.deepEqual(Object.keys(b.params), ['c', 'x']);
    assert.deepEqual(b.params, { c: 'a', x: 0.5 });
    assert.notEqual(a.distributions.x, FLOAT);
    assert.equal(b.distributions.x, FLOAT);
    assert.ok(Object.isFrozen(a.distributions));
    assert.throws(() => t.setParam(b.row, 'c', CAT, 7), /out of range/);
    assert.deepEqual(b.params, { c: 'a', x: 0.5 }, 'a refused value changes nothing');
  });

  it('keeps what a column cannot hold exactly, as it was', () => {
    const t = new TrialTable(0);
    const r = t.add(0, 0, 'COMPLETE');
    t.setParam(r, 'n', INT, 2n ** 64n);
    t.setParam(r, 'f', FLOAT, 'text' as JsonValue);
    t.setParam(r, 'g', FLOAT, -0);
    t.setValues(r, [1, 2n ** 70n, NaN]);
    t.setIntermediate(r, '3', 0.5);
    t.setIntermediate(r, '99999999999999999999', Infinity);
    t.setIntermediate(r, '4', 7n);
    t.setIntermediate(r, '3', -0); // a step set again keeps its place and takes the new value
    t.setDatetime(r, 'start', storedDatetime('2026-11-26T10:00:00+05:00'));
    t.setDatetime(r, 'complete', storedDatetime('2026-11-26T10:00:01.000002'));
    const row = t.rows[0];
    assert.deepEqual(row.params, { n: 2n ** 64n, f: 'text', g: -0 });
    assert.ok(Object.is(row.params.g, -0));
    assert.deepEqual(row.values, [1, 2n ** 70n, NaN]);
    assert.deepEqual(row.intermediateValues, {
      '3': -0,
      '4': 7n,
      '99999999999999999999': Infinity,
    });
    assert.ok(Object.is(row.intermediateValues['3'], -0));
    assert.equal(row.datetimeStart, '2026-11-26T10:00:00.000000+05:00');
    assert.equal(row.datetimeComplete, '2026-11-26T10:00:01.000002');
    // ... and forgets the side copy once the column can hold the value again.
    t.setParam(r, 'n', INT, 3);
    t.setValues(r, [0.5]);
    t.setDatetime(r, 'start', null);
    assert.deepEqual(row.params, { n: 3, f: 'text', g: -0 });
    assert.deepEqual(row.values, [0.5]);
    assert.equal(row.datetimeStart, null);
  });

  it('writes a row as the strict JSON of its Trial object, from the columns', () => {
    const t = new TrialTable(0);
    const rows: number[] = [];
    const row = (state: 'COMPLETE' | 'RUNNING' = 'COMPLETE') =>
      rows[rows.push(t.add(rows.length + 1, rows.length, state)) - 1];
    // Intermediate values whose key order is the order of the reports, and those whose is not:
    // steps set out of order or again, negative or beyond int32, values a column cannot hold.
    const reports: Array<Array<[string, JsonValue]>> = [
      [],
      [
        ['0', 0.1],
        ['1', NaN],
        ['2', -Infinity],
        ['5', -0],
        ['7', 2 ** 53],
        ['9', 1e-320],
      ],
      [
        ['3', 1],
        ['1', 2],
      ],
      [
        ['1', 1],
        ['1', 2],
      ],
      [
        ['-1', 1],
        ['0', 2],
      ],
      [
        ['0', 1],
        ['4294967296', 2],
      ],
      [
        ['0', 1],
        ['1', 5n],
      ],
      [['0', Infinity]],
    ];
    for (const rs of reports) {
      const r = row();
      for (const [step, v] of rs) t.setIntermediate(r, step, v);
    }
    // Values: none, empty, plain, non-finite, -0, beyond 2^53, a bigint, more objectives
    // than the columns hold; datetimes: none, micros, kept as text; attributes.
    const values: Array<JsonValue[] | null> = [
      null,
      [],
      [0.5],
      [NaN, Infinity, -Infinity],
      [-0, 2 ** 60, -(2 ** 53)],
      [1, 2n ** 70n],
      Array.from({ length: 20 }, (_, i) => i / 3),
    ];
    for (const v of values) t.setValues(row(), v);
    const r = row('RUNNING');
    t.setDatetime(r, 'start', storedDatetime('2026-11-26T10:00:00+05:00'));
    t.setDatetime(r, 'complete', storedDatetime('2026-11-26 10:00:01.000002'));
    t.setDatetime(row(), 'start', storedDatetime('1999-12-31 23:59:59.000000'));
    t.assignAttrs(row(), 'user', { k: NaN, j: [1, 2n ** 64n] });
    for (const x of t.rows) {
      const expected = toStrictJson(trialToJson(x));
      assert.equal(trialText(x), expected);
      assert.equal(trialText(x.toJSON()), expected, 'a Trial object');
    }
  });

  it('sets values objective by objective as SQLite lists them', () => {
    const t = new TrialTable(0);
    const r = t.add(0, 0, 'COMPLETE');
    assert.equal(t.rows[0].values, null);
    t.setValue(r, 0, 1.5);
    t.setValue(r, 1, -2);
    assert.deepEqual(t.rows[0].values, [1.5, -2]);
    t.setValue(r, 3, NaN);
    assert.deepEqual(t.rows[0].values, [1.5, -2, null, NaN]);
    t.setValue(r, 0, 0.25);
    assert.deepEqual(t.rows[0].values, [0.25, -2, null, NaN]);
    assert.equal(t.firstValue(r), 0.25);
  });

  it('attributes: merged in place, shared empty object when there are none', () => {
    const t = new TrialTable(0);
    const [a, b] = [t.row(t.add(0, 0, 'RUNNING')), t.row(t.add(1, 1, 'RUNNING'))];
    t.assignAttrs(a.row, 'user', { k: 1, j: [1, 2] });
    t.assignAttrs(a.row, 'user', { k: 2, ['__proto__']: 'data' });
    assert.deepEqual(Object.keys(a.userAttrs), ['k', 'j', '__proto__']);
    assert.equal(a.userAttrs.k, 2);
    assert.deepEqual(b.userAttrs, {});
    assert.ok(Object.isFrozen(b.systemAttrs));
  });

  it('grows without losing rows, and survives v8 serialization as the same trials', () => {
    const t = new TrialTable(3);
    const r = rng(5);
    for (let i = 0; i < 1000; i++) {
      const row = t.add(100 + i, i, i % 7 === 0 ? 'RUNNING' : 'COMPLETE');
      t.setDatetime(row, 'start', datetimeMicros('2026-11-26T10:00:00.000001') + i);
      if (i % 7) t.setValues(row, [r()]);
      if (i % 3 === 0) t.setParam(row, 'x', FLOAT, r());
      t.setParam(row, `p${i % 5}`, CAT, i % 3);
      for (let s = 0; s < i % 4; s++) t.setIntermediate(row, String(s), r());
      if (i % 100 === 0) t.setAttr(row, 'system', 'i', i);
    }
    const copy = new TrialTable(3, v8.deserialize(v8.serialize(t.toData())));
    assert.equal(copy.rows.length, 1000);
    assert.deepEqual(copy.rows.map(trialToJson), t.rows.map(trialToJson));
    // The copy takes new rows and params like the original.
    copy.setParam(copy.add(2000, 1000, 'RUNNING'), 'new', INT, 4);
    assert.deepEqual(copy.rows[1000].params, { new: 4 });
  });
});

describe('journal replay as columns', () => {
  it('a replay restored from its state (as the local cache stores it) is the same replay', () => {
    const lines = [...optunaCompatibleRules(), ...extraRules()];
    const a = new JournalReplay();
    lines.slice(0, 25).forEach((l, i) => a.applyText(i, l));
    const b = new JournalReplay(v8.deserialize(v8.serialize(a.toState())));
    for (const r of [a, b]) lines.slice(25).forEach((l, i) => r.applyText(25 + i, l));
    const dump = (r: JournalReplay) =>
      r.allStudies().map((s) => ({ ...s, trials: s.trials.map(trialToJson) }));
    assert.deepStrictEqual(dump(b), dump(a));
    assert.deepEqual(b.issues, a.issues);
    assert.equal(b.trialCount, a.trialCount);
  });
});
