import { DistributionCache } from '../optuna/distributions';
import type { ReadIssue, Study } from '../optuna/model';
import { type JsonObject, type JsonValue, parsePyJson } from '../optuna/pythonJsonParse';
import { ATTRIBUTE_OPS, OpCode } from '../optuna/journal/protocol';
import { JournalReplay } from '../optuna/replay';
import type { TrialRow } from '../optuna/trialTable';
import { parseTypedPyJson } from '../optuna/pythonJsonParse';
import type { ClientOptions } from '../redis/connect';
import { readOnce } from './readOnce';
import { openSqlite } from './sqliteDriver';
import { SqliteReader } from './sqliteReader';
import type { StorageSpec } from './storageSpec';

/** Record fields that are ids, codes or steps: numbers for the replay, whatever the typing. */
const STRUCTURAL = ['op_code', 'study_id', 'trial_id', 'state', 'step'];
/** Fields that are floats by Optuna's semantics (values, intermediate values, internal params). */
const FLOATS = ['value', 'param_value_internal'];
const FLOAT_LISTS = ['values'];
const FLOAT_MAPS = ['intermediate_values', 'params'];

const toNumber = (v: JsonValue): JsonValue => (typeof v === 'bigint' ? Number(v) : v);

/**
 * Journal replay whose model keeps what an exact export needs: attribute values and
 * distributions with Python ints (bigint) apart from floats (number). Only records that carry
 * attributes are parsed the slow, typed way; distributions are parsed once per distinct text.
 */
export class ExactJournalReplay extends JournalReplay {
  protected override readonly distributions = new DistributionCache(parseTypedPyJson);

  override applyText(index: number, text: string): void {
    let record: JsonValue;
    try {
      record = parsePyJson(text);
    } catch {
      super.applyText(index, text); // records the malformed entry
      return;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return this.apply(index, record);
    const op = record.op_code;
    const attrs = (o: JsonValue | undefined) =>
      typeof o === 'object' && o !== null && Object.keys(o).length > 0;
    if (
      (typeof op === 'number' && ATTRIBUTE_OPS.has(op)) ||
      (op === OpCode.CreateTrial && (attrs(record.user_attrs) || attrs(record.system_attrs)))
    ) {
      record = narrow(parseTypedPyJson(text) as JsonObject);
    }
    this.apply(index, record);
  }
}

/** A typed record with its ids, codes and float fields back to numbers, as the replay expects. */
function narrow(r: JsonObject): JsonObject {
  for (const k of [...STRUCTURAL, ...FLOATS]) if (k in r) r[k] = toNumber(r[k]);
  for (const k of FLOAT_LISTS) if (Array.isArray(r[k])) r[k] = (r[k] as JsonValue[]).map(toNumber);
  for (const k of FLOAT_MAPS) {
    const m = r[k];
    if (typeof m === 'object' && m !== null && !Array.isArray(m))
      for (const key of Object.keys(m)) m[key] = toNumber(m[key]);
  }
  return r;
}

export interface ExactSnapshot {
  studies: Study[];
  issues: ReadIssue[];
}

/**
 * Reads a storage for export: the same studies `readOnce` returns, but with attribute values
 * and distributions typed (Python int as bigint, float as number), so they can be written
 * back exactly as Optuna wrote them.
 */
export async function readExact(
  spec: StorageSpec,
  opts: { redis?: ClientOptions; signal?: AbortSignal } = {},
): Promise<ExactSnapshot> {
  if (spec.kind === 'sqlite') return { studies: readSqliteExact(spec.path), issues: [] };
  return readOnce(spec, { ...opts, newReplay: () => new ExactJournalReplay() });
}

/**
 * The SQLite reader's studies, with attributes and distributions re-read typed, and keyed in
 * the order Optuna's RDBStorage returns them: by name, as SQLite walks the (trial_id,
 * param_name) and (…, key) unique indexes.
 */
function readSqliteExact(path: string): Study[] {
  const reader = new SqliteReader(path);
  let studies: Study[];
  try {
    studies = reader.readAll();
  } finally {
    reader.close();
  }
  const byStudy = new Map(studies.map((s) => [s.studyId, s]));
  // The reader's trials are rows of its tables: their attributes and params are read again.
  const byTrial = new Map(
    studies.flatMap((s) => s.trials.map((t) => [t.trialId, t as TrialRow] as const)),
  );
  for (const s of studies) {
    s.userAttrs = {};
    s.systemAttrs = {};
  }
  for (const t of byTrial.values()) {
    t.table.setAttrs(t.row, 'user', undefined);
    t.table.setAttrs(t.row, 'system', undefined);
    t.table.clearParams(t.row);
  }
  const dists = new DistributionCache(parseTypedPyJson);
  const db = openSqlite(path, { readonly: true });
  try {
    const rows = (sql: string) => db.prepare(sql).raw(true).iterate() as Iterable<unknown[]>;
    for (const [table, key] of [
      ['study_user_attributes', 'userAttrs'],
      ['study_system_attributes', 'systemAttrs'],
    ] as const) {
      for (const [sid, k, v] of rows(
        `SELECT study_id, key, value_json FROM ${table} ORDER BY study_id, key`,
      )) {
        const s = byStudy.get(sid as number);
        if (s) s[key][k as string] = parseTypedPyJson(v as string);
      }
    }
    for (const [table, which] of [
      ['trial_user_attributes', 'user'],
      ['trial_system_attributes', 'system'],
    ] as const) {
      for (const [tid, k, v] of rows(
        `SELECT trial_id, key, value_json FROM ${table} ORDER BY trial_id, key`,
      )) {
        const t = byTrial.get(tid as number);
        if (t) t.table.setAttr(t.row, which, k as string, parseTypedPyJson(v as string));
      }
    }
    for (const [tid, name, value, json] of rows(
      'SELECT trial_id, param_name, param_value, distribution_json FROM trial_params ORDER BY trial_id, param_name',
    )) {
      const t = byTrial.get(tid as number);
      if (!t) continue;
      t.table.setParam(t.row, name as string, dists.parse(json as string), value as number);
    }
  } finally {
    db.close();
  }
  return studies;
}
