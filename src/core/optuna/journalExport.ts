import { pythonDumps } from './pythonJson';
import { isNumeric, pyEquals } from './distributions';
import { type Distribution, STUDY_DIRECTIONS, type Study, TRIAL_STATES, type Trial } from './model';
import type { JsonObject, JsonValue } from './pyjson';

/** Python `float(x)`: JS numbers are floats already; a bigint becomes one. */
const pyFloat = (v: JsonValue): number => (typeof v === 'bigint' ? Number(v) : (v as number));

/**
 * `Distribution.to_internal_repr`: a float for Float/Int distributions (3 -> 3.0), the index
 * of the first equal choice (Python `==`, NaN equal to NaN) for categoricals.
 */
export function internalRepr(d: Distribution, external: JsonValue): JsonValue {
  if (isNumeric(d)) return pyFloat(external);
  const choices = d.attributes.choices as JsonValue[];
  const i = choices.findIndex((c) => pyEquals(c, external));
  if (i < 0)
    throw new Error(`${pythonDumps(external)} is not one of the choices ${pythonDumps(choices)}`);
  return BigInt(i);
}

/** `distribution_to_json`: the class name and its attributes in their own order. */
export function distributionJson(d: Distribution): string {
  return pythonDumps({ name: d.name, attributes: d.attributes });
}

/** A trial as `JournalStorage.create_new_trial(study_id, template_trial)` logs it in Optuna 3.1. */
function templateTrialRecord(t: Trial, studyId: bigint, workerId: string): JsonObject {
  const r: JsonObject = {
    op_code: 4n,
    worker_id: workerId,
    study_id: studyId,
    datetime_start: t.datetimeStart,
    state: BigInt(TRIAL_STATES.indexOf(t.state)),
  };
  if (t.values !== null && t.values.length > 1) {
    r.value = null;
    r.values = t.values.map(pyFloat);
  } else {
    r.value = t.values === null ? null : pyFloat(t.values[0]);
    r.values = null;
  }
  if (t.datetimeComplete) r.datetime_complete = t.datetimeComplete;
  const distributions: JsonObject = {};
  const params: JsonObject = {};
  for (const [k, d] of Object.entries(t.distributions)) distributions[k] = distributionJson(d);
  for (const [k, v] of Object.entries(t.params)) params[k] = internalRepr(t.distributions[k], v);
  r.distributions = distributions;
  r.params = params;
  r.user_attrs = t.userAttrs;
  r.system_attrs = t.systemAttrs;
  const iv: JsonObject = {};
  for (const [step, v] of Object.entries(t.intermediateValues)) iv[step] = pyFloat(v);
  r.intermediate_values = iv;
  return r;
}

/**
 * The journal records `optuna.copy_study` writes for a study in Optuna 3.1, one JSON text per
 * record as `json.dumps` formats them: CREATE_STUDY, each study system attribute, each user
 * attribute, then one CREATE_TRIAL per trial (by number) carrying its state, values,
 * datetimes, distributions, params, attributes and intermediate values.
 * `studyId` is the id the study gets where the records are replayed.
 */
export function studyJournalRecords(study: Study, studyId: number, workerId: string): string[] {
  return [
    createStudyRecord(study, workerId),
    ...studyAttrRecords(study, studyId, workerId),
    ...trialRecords(study, studyId, workerId),
  ];
}

export function createStudyRecord(study: Study, workerId: string): string {
  return pythonDumps({
    op_code: 0n,
    worker_id: workerId,
    study_name: study.name,
    directions: study.directions.map((d) => BigInt(STUDY_DIRECTIONS.indexOf(d))),
  });
}

/** Study system attributes, then user attributes, one record per key (copy_study's order). */
export function studyAttrRecords(study: Study, studyId: number, workerId: string): string[] {
  const sid = BigInt(studyId);
  return [
    ...Object.entries(study.systemAttrs).map(([k, v]) =>
      pythonDumps({ op_code: 3n, worker_id: workerId, study_id: sid, system_attr: { [k]: v } }),
    ),
    ...Object.entries(study.userAttrs).map(([k, v]) =>
      pythonDumps({ op_code: 2n, worker_id: workerId, study_id: sid, user_attr: { [k]: v } }),
    ),
  ];
}

/** One CREATE_TRIAL per trial, by number. */
export function trialRecords(study: Study, studyId: number, workerId: string): string[] {
  const sid = BigInt(studyId);
  return study.trials.map((t) => pythonDumps(templateTrialRecord(t, sid, workerId)));
}
