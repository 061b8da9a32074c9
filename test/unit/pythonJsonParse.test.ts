import * as assert from 'node:assert/strict';
import {
  type JsonValue,
  MAX_DEPTH,
  PyJsonError,
  parsePyJson,
  parseTypedPyJson,
} from '../../src/core/optuna/pythonJsonParse';
import { toStrictJson } from '../../src/core/optuna/strictJson';
import { pythonFloatRepr } from '../../src/core/optuna/pythonJsonDumps';
import { pythonDumps } from '../../src/core/optuna/pythonJsonDumps';

/** A tiny seeded PRNG so fuzz failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const SPECIAL_FLOATS = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1e-320,
  5e-324,
  1.7976931348623157e308,
  0.1,
  -2.5e-7,
  1e16,
  123456.789,
];
const SPECIAL_INTS: JsonValue[] = [
  0,
  -1,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2n ** 62n + 1n,
  -(2n ** 70n),
  2n ** 53n + 1n,
  10n ** 30n,
];
const STRINGS = [
  '',
  'adam',
  'naïve ☃',
  '😀 emoji',
  'quote " back\\slash',
  'ctl\n\t\u0001',
  'NaN',
  'Infinity',
  '12345678901234567890',
];

function randomValue(r: () => number, depth: number): JsonValue {
  const k = Math.floor(r() * (depth > 3 ? 6 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return SPECIAL_FLOATS[Math.floor(r() * SPECIAL_FLOATS.length)];
    case 3:
      return SPECIAL_INTS[Math.floor(r() * SPECIAL_INTS.length)];
    case 4:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 5:
      return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, JsonValue> = {};
      for (let i = Math.floor(r() * 4); i > 0; i--)
        o[STRINGS[Math.floor(r() * STRINGS.length)] + i] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Reads back our strict output: {"__float__": ...} objects become the floats again. */
function fromStrict(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(fromStrict);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '__float__') return Number(v.__float__);
    return Object.fromEntries(keys.map((k) => [k, fromStrict(v[k])]));
  }
  return v;
}

describe('Python JSON parser', () => {
  it('reads Python tokens, big integers, -0.0 and subnormals exactly', () => {
    const v = parsePyJson(
      '{"a": NaN, "b": Infinity, "c": -Infinity, "big": 4611686018427387905, "neg": -1180591620717411303424, "z": -0.0, "sub": 1e-320, "i": 3, "f": 3.0}',
    ) as Record<string, JsonValue>;
    assert.ok(Number.isNaN(v.a));
    assert.equal(v.b, Infinity);
    assert.equal(v.c, -Infinity);
    assert.equal(v.big, 4611686018427387905n);
    assert.equal(v.neg, -(2n ** 70n));
    assert.ok(Object.is(v.z, -0));
    assert.equal(v.sub, 1e-320);
    assert.equal(v.i, 3);
    assert.equal(
      toStrictJson(v),
      '{"a":{"__float__": "NaN"},"b":{"__float__": "Infinity"},"c":{"__float__": "-Infinity"},"big":4611686018427387905,"neg":-1180591620717411303424,"z":-0.0,"sub":1e-320,"i":3,"f":3}',
    );
  });

  it('keeps an integer -0 as 0, as Python does, and safe 16-digit integers as numbers', () => {
    assert.ok(Object.is(parsePyJson('-0'), 0));
    assert.equal(parsePyJson('1234567890123456'), 1234567890123456);
  });

  it('writes integral doubles beyond 2^53 so they read back as floats', () => {
    assert.equal(toStrictJson(1e16), '1e+16');
    assert.equal(parsePyJson(toStrictJson(1e16)), 1e16);
  });

  it('fuzz: the native fast path writes exactly what the exact writer defines', () => {
    // The format by definition (cli-contract.md), written the slow way, value by value.
    const ref = (v: JsonValue): string => {
      if (typeof v === 'number') {
        if (Number.isNaN(v)) return '{"__float__": "NaN"}';
        if (!Number.isFinite(v)) return `{"__float__": "${v > 0 ? 'Infinity' : '-Infinity'}"}`;
        if (Object.is(v, -0)) return '-0.0';
        return Number.isInteger(v) && Math.abs(v) >= 2 ** 53 ? v.toExponential() : String(v);
      }
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'string') return JSON.stringify(v);
      if (v === null || typeof v === 'boolean') return String(v);
      if (Array.isArray(v)) return `[${v.map(ref).join(',')}]`;
      return `{${Object.keys(v)
        .map((k) => `${JSON.stringify(k)}:${ref(v[k])}`)
        .join(',')}}`;
    };
    const r = rng(11);
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      assert.equal(toStrictJson(v), ref(v));
    }
    for (const x of [...SPECIAL_FLOATS, ...SPECIAL_INTS, 2 ** 53, -(2 ** 53), 1e21, 1e300])
      assert.equal(toStrictJson({ a: [x, 1.5] }), ref({ a: [x, 1.5] }), String(x));
  });

  it('keeps a "__proto__" key as data', () => {
    const v = parsePyJson('{"__proto__": NaN}') as Record<string, JsonValue>;
    assert.deepEqual(Object.keys(v), ['__proto__']);
  });

  it('rejects malformed text with a position', () => {
    for (const bad of [
      '',
      '{',
      '{"a": }',
      '[1,]',
      '{"a" 1}',
      'nan',
      'Inf',
      '"\\x"',
      '01',
      '1.',
      '-',
      '{"a": 1} x',
      '"\u0001"',
    ]) {
      assert.throws(
        () => parsePyJson(bad),
        (e: unknown) => e instanceof PyJsonError || e instanceof SyntaxError,
        bad,
      );
      assert.throws(() => parsePyJson(bad), PyJsonError, `${bad} should fail with a PyJsonError`);
    }
  });

  it('fuzz: round-trips random Python-written documents in both separator styles', () => {
    const r = rng(42);
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      for (const compact of [false, true]) {
        const text = pythonDumps(v, compact);
        const parsed = parsePyJson(text);
        assert.deepStrictEqual(parsed, v, text);
        assert.deepStrictEqual(fromStrict(parsePyJson(toStrictJson(parsed))), v, text);
      }
    }
  });

  it('fuzz: mutated text either parses like JSON.parse or fails with PyJsonError', () => {
    const r = rng(7);
    const alphabet = '{}[],:"\\0123456789.eE+-ntrufalsNIy ';
    for (let i = 0; i < 5000; i++) {
      const base = JSON.stringify(randomValue(r, 0) ?? null, (_k, x) =>
        typeof x === 'bigint' ? Number(x) : x,
      );
      const chars = [...(base ?? 'null')];
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
        const pos = Math.floor(r() * (chars.length + 1));
        const op = r();
        if (op < 0.4) chars.splice(pos, 1);
        else if (op < 0.8) chars.splice(pos, 0, alphabet[Math.floor(r() * alphabet.length)]);
        else chars[pos] = alphabet[Math.floor(r() * alphabet.length)];
      }
      const text = chars.join('');
      let ours: JsonValue | Error;
      try {
        ours = parsePyJson(text);
      } catch (e) {
        assert.ok(e instanceof PyJsonError, `non-PyJsonError for ${text}: ${String(e)}`);
        ours = e;
      }
      let native: unknown;
      try {
        native = JSON.parse(text);
      } catch {
        native = undefined;
      }
      if (native !== undefined && !/NaN|Infinity|\d{16,}|-0(?![.\deE])/.test(text))
        assert.deepStrictEqual(ours, native, text);
    }
  });
});

describe('pyjson limits', () => {
  const nested = (depth: number, inner: string) => '['.repeat(depth) + inner + ']'.repeat(depth);

  it('integers beyond 1e308 stay exact (JSON.parse reads them as Infinity)', () => {
    const big = 10n ** 400n;
    assert.deepEqual(parsePyJson(`{"a": ${big}, "b": [-${big}], "c": 1}`), {
      a: big,
      b: [-big],
      c: 1,
    });
    assert.equal(toStrictJson({ a: big }), `{"a":${big}}`);
    // A float that large is a float, as in Python: inf.
    assert.equal(parsePyJson('1e400'), Infinity);
    assert.equal(parsePyJson('-1.5e999'), -Infinity);
    assert.deepEqual(parseTypedPyJson(`[${big}, 1e400]`), [big, Infinity]);
  });

  it(`reads ${MAX_DEPTH} levels of nesting and writes them back, on both paths`, () => {
    for (const inner of ['2.5', 'NaN']) {
      const text = nested(MAX_DEPTH, inner);
      let v = parsePyJson(text);
      for (let i = 1; i < MAX_DEPTH; i++) v = (v as JsonValue[])[0];
      assert.ok(Array.isArray(v) && v.length === 1);
      const strict = toStrictJson(parsePyJson(text));
      assert.equal(strict, text.replace('NaN', '{"__float__": "NaN"}'));
      assert.equal(pythonDumps(parsePyJson(text)), text);
      assert.ok(Array.isArray(parseTypedPyJson(text)));
    }
  });

  it('refuses deeper nesting with a PyJsonError at the bracket that goes too deep', () => {
    for (const depth of [MAX_DEPTH + 1, 5_000, 300_000])
      for (const inner of ['1', 'NaN', '{"a": 1}', `${10n ** 400n}`]) {
        // The object is level 1 (brackets inside a string do not count).
        const text = `{"k": "[[[", "v": ${nested(depth - 1, inner)}}`;
        const tooDeep = text.indexOf('"v": ') + 5 + MAX_DEPTH - 1;
        for (const parse of [parsePyJson, parseTypedPyJson])
          assert.throws(
            () => parse(text),
            (e: unknown) =>
              e instanceof PyJsonError &&
              /Nested deeper than 1000 levels/.test(e.message) &&
              e.position === tooDeep,
            `${parse.name} ${depth} ${inner}`,
          );
      }
  });
});

describe('pythonDumps', () => {
  it('writes floats as Python repr does', () => {
    const cases: Array<[number, string]> = [
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1.5e-7, '1.5e-07'],
      [1e16, '1e+16'],
      [1.2345e22, '1.2345e+22'],
      [123456789012345.6, '123456789012345.6'],
      [3, '3.0'],
      [-2.5, '-2.5'],
      [0.1, '0.1'],
      [5e-324, '5e-324'],
      [1e-320, '1e-320'],
    ];
    for (const [v, py] of cases) assert.equal(pythonFloatRepr(v), py, String(v));
  });
});
