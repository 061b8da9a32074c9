import type { ReadIssue, Study, Trial } from './model';
import { type JsonObject, type JsonValue } from './pythonJsonParse';
import { toStrictJson } from './strictJson';
import { TrialRow } from './trialTable';

/** A study in the shape of `optuna-storage dump` (cli-contract.md). */
export function studyToJson(s: Study): JsonObject {
  return {
    study_id: s.studyId,
    study_name: s.name,
    directions: s.directions,
    user_attrs: s.userAttrs,
    system_attrs: s.systemAttrs,
    trials: s.trials.map(trialToJson),
  };
}

export function trialToJson(t: Trial): JsonObject {
  return {
    trial_id: t.trialId,
    number: t.number,
    state: t.state,
    values: t.values,
    params: t.params,
    distributions: t.distributions as unknown as JsonValue,
    intermediate_values: t.intermediateValues,
    user_attrs: t.userAttrs,
    system_attrs: t.systemAttrs,
    datetime_start: t.datetimeStart,
    datetime_complete: t.datetimeComplete,
  };
}

const json = (v: unknown) => toStrictJson(v as JsonValue);

/**
 * The text of each trials' `distributions` object: one frozen object shared by every trial of
 * the same param shape (trialTable.ts), so written once, not once per trial (it is the
 * longest field of most trials).
 */
const distributionsText = new WeakMap<object, string>();

function distributionsJson(d: Trial['distributions']): string {
  let text = distributionsText.get(d);
  if (text === undefined) {
    text = json(d);
    if (Object.isFrozen(d)) distributionsText.set(d, text);
  }
  return text;
}

/** Attributes as JSON: most trials have none. */
function attrsJson(attrs: JsonObject): string {
  for (const _ in attrs) return json(attrs);
  return '{}';
}

/** An id or number as JSON: a safe integer as its digits, anything else exactly. */
const intJson = (n: number) => (Number.isSafeInteger(n) ? String(n) : json(n));

/**
 * `toStrictJson(trialToJson(t))`, written field by field without building the object; a
 * table's row writes its values and datetimes from its columns.
 */
export function trialText(t: Trial): string {
  const r = t instanceof TrialRow ? t : undefined;
  return (
    `{"trial_id":${intJson(t.trialId)},"number":${intJson(t.number)},"state":${json(t.state)}` +
    `,"values":${r ? r.table.valuesJson(r.row) : json(t.values)},"params":${json(t.params)}` +
    `,"distributions":${distributionsJson(t.distributions)}` +
    `,"intermediate_values":${json(t.intermediateValues)}` +
    `,"user_attrs":${attrsJson(t.userAttrs)},"system_attrs":${attrsJson(t.systemAttrs)}` +
    `,"datetime_start":${r ? r.table.datetimeJson(r.row, 'start') : json(t.datetimeStart)}` +
    `,"datetime_complete":${r ? r.table.datetimeJson(r.row, 'complete') : json(t.datetimeComplete)}}`
  );
}

/** Output is handed over in pieces of about this many characters. */
const CHUNK = 1 << 16;

/**
 * Writes the `dump` document (cli-contract.md) study by study, trial by trial, in pieces of
 * ~64 KB, waiting whenever `write` returns a promise (a full pipe): memory stays flat however
 * many trials there are. The text equals `toStrictJson({studies: studies.map(studyToJson)})`
 * (plus `"issues"` when given) and a newline.
 */
export async function writeDump(
  studies: readonly Study[],
  issues: readonly ReadIssue[] | undefined,
  write: (chunk: string) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let buf = '{"studies":[';
  const flush = async () => {
    signal?.throwIfAborted();
    const chunk = buf;
    buf = '';
    await write(chunk);
  };
  for (let i = 0; i < studies.length; i++) {
    const s = studies[i];
    buf +=
      `${i > 0 ? ',' : ''}{"study_id":${json(s.studyId)},"study_name":${json(s.name)}` +
      `,"directions":${json(s.directions)},"user_attrs":${json(s.userAttrs)}` +
      `,"system_attrs":${json(s.systemAttrs)},"trials":[`;
    const trials = s.trials;
    for (let j = 0; j < trials.length; j++) {
      buf += (j > 0 ? ',' : '') + trialText(trials[j]);
      if (buf.length >= CHUNK) await flush();
    }
    buf += ']}';
  }
  buf += ']';
  if (issues)
    buf += `,"issues":${json(issues.map((x) => ({ kind: x.kind, index: x.index, ...(x.count !== undefined && x.count !== 1 ? { count: x.count } : {}), message: x.message })))}`;
  buf += '}\n';
  await flush();
}
