import * as assert from 'node:assert/strict';
import {
  type JsonObject,
  type JsonValue,
  parsePyJson,
} from '../../src/core/optuna/pythonJsonParse';

/** Turns {"__float__": "NaN"} markers back into floats so both sides compare as values. */
export function decodeFloats(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(decodeFloats);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '__float__') return Number(v.__float__);
    const out: JsonObject = {};
    for (const k of keys) out[k] = decodeFloats(v[k]);
    return out;
  }
  return v;
}

export function parseDump(text: string): JsonObject[] {
  const doc = decodeFloats(parsePyJson(text)) as JsonObject;
  assert.ok(Array.isArray(doc.studies), 'dump has a "studies" list');
  return doc.studies as JsonObject[];
}

/**
 * Asserts our dump equals Optuna's, study by study and trial by trial, so a failure names the
 * study, trial and field. Values compare exactly (Object.is: -0.0 and NaN included; big
 * integers as BigInt); dict key order is ignored.
 */
export function assertSameDump(
  ours: string,
  optuna: string,
  label: string,
): { studies: number; trials: number } {
  const a = parseDump(ours);
  const b = parseDump(optuna);
  assert.deepEqual(
    a.map((s) => [s.study_id, s.study_name]),
    b.map((s) => [s.study_id, s.study_name]),
    `${label}: study ids and names`,
  );
  let trials = 0;
  for (let i = 0; i < a.length; i++) {
    const sa = a[i];
    const sb = b[i];
    const where = `${label}: study ${String(sb.study_name)} (id ${String(sb.study_id)})`;
    for (const k of ['directions', 'user_attrs', 'system_attrs'])
      assert.deepStrictEqual(sa[k], sb[k], `${where}: ${k}`);
    const ta = sa.trials as JsonObject[];
    const tb = sb.trials as JsonObject[];
    assert.equal(ta.length, tb.length, `${where}: number of trials`);
    for (let j = 0; j < ta.length; j++) {
      assert.deepStrictEqual(
        Object.keys(ta[j]).sort(),
        Object.keys(tb[j]).sort(),
        `${where}, trial #${j}: fields`,
      );
      for (const k of Object.keys(tb[j]))
        assert.deepStrictEqual(
          ta[j][k],
          tb[j][k],
          `${where}, trial #${String(tb[j].number)}: ${k}`,
        );
      trials++;
    }
    assert.deepEqual(Object.keys(sa).sort(), Object.keys(sb).sort(), `${where}: fields`);
  }
  return { studies: a.length, trials };
}
