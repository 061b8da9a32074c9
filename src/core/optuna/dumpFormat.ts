import type { Study, Trial } from './model';
import type { JsonObject, JsonValue } from './pyjson';

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
