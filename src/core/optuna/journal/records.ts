import { randomUUID } from 'node:crypto';
import { distributionJson, internalRepr, pythonFloat } from '../distributions';
import { type Distribution, type StudyDirection, type Trial, type TrialState } from '../model';
import type { JsonObject, JsonValue } from '../pythonJsonParse';
import { pythonDumps } from '../pythonJsonDumps';
import { OpCode, directionCode, trialStateCode } from './protocol';

/**
 * A worker id in Optuna's shape, `<uuid4>-<thread ident>`; the ident is random, in the range
 * of CPython's thread idents on Linux.
 */
export function newWorkerId(): string {
  return `${randomUUID()}-${140_000_000_000_000 + Math.floor(Math.random() * 1e12)}`;
}

/** The worker id of the records this process writes by a command (delete, import). */
export const PROCESS_WORKER_ID = newWorkerId();

/**
 * `datetime.now().isoformat(timespec="microseconds")`: naive local time, as Optuna 3.1–4.x
 * writes it (5.0 adds `+00:00`; readers accept both).
 */
export function optunaNow(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  // Date has milliseconds; the sub-millisecond part comes from the monotonic clock.
  const micros = date.getMilliseconds() * 1000 + Math.floor((performance.now() * 1000) % 1000);
  const day = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
  const time = `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
  return `${day}T${time}.${p(micros, 6)}`;
}

/** One record as `JournalStorage._write_log` builds it: op code and worker id first. */
export function journalRecord(op: number, workerId: string, fields: JsonObject): string {
  return pythonDumps({ op_code: BigInt(op), worker_id: workerId, ...fields });
}

/** What `create_new_trial(study_id, template_trial)` takes from a template trial. */
export type TrialTemplate = Pick<
  Trial,
  | 'state'
  | 'values'
  | 'params'
  | 'distributions'
  | 'intermediateValues'
  | 'userAttrs'
  | 'systemAttrs'
  | 'datetimeStart'
  | 'datetimeComplete'
>;

/**
 * The records one Optuna worker (one `JournalStorage` in one thread) writes for each storage
 * call, byte for byte as Optuna 3.1–5.0 writes them to Redis (`json.dumps`, default
 * separators), ids as given. Values typed as Optuna's: pass a bigint where Python has an int.
 */
export class JournalRecords {
  constructor(readonly workerId: string = newWorkerId()) {}

  private rec(op: OpCode, fields: JsonObject): string {
    return journalRecord(op, this.workerId, fields);
  }

  createStudy(name: string, directions: StudyDirection[] = ['MINIMIZE']): string {
    return this.rec(OpCode.CreateStudy, {
      study_name: name,
      directions: directions.map((d) => BigInt(directionCode(d))),
    });
  }

  deleteStudy(studyId: number): string {
    return this.rec(OpCode.DeleteStudy, { study_id: BigInt(studyId) });
  }

  setStudyUserAttr(studyId: number, key: string, value: JsonValue): string {
    return this.rec(OpCode.SetStudyUserAttr, {
      study_id: BigInt(studyId),
      user_attr: { [key]: value },
    });
  }

  setStudySystemAttr(studyId: number, key: string, value: JsonValue): string {
    return this.rec(OpCode.SetStudySystemAttr, {
      study_id: BigInt(studyId),
      system_attr: { [key]: value },
    });
  }

  /** `create_new_trial` without a template: a RUNNING trial. */
  createTrial(studyId: number, datetimeStart = optunaNow()): string {
    return this.rec(OpCode.CreateTrial, {
      study_id: BigInt(studyId),
      datetime_start: datetimeStart,
    });
  }

  /**
   * `create_new_trial(study_id, template_trial)`, as `add_trial`, `enqueue_trial` and
   * `copy_study` call it: the template's state, values (`value` for one objective, `values`
   * for several), datetimes, distributions, internal params, attributes, intermediate values.
   */
  createTrialFromTemplate(studyId: number, t: TrialTemplate): string {
    const r: JsonObject = { study_id: BigInt(studyId), datetime_start: t.datetimeStart };
    r.state = BigInt(trialStateCode(t.state));
    if (t.values !== null && t.values.length > 1) {
      r.value = null;
      r.values = t.values.map(pythonFloat);
    } else {
      r.value = t.values === null ? null : pythonFloat(t.values[0]);
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
    for (const [step, v] of Object.entries(t.intermediateValues)) iv[step] = pythonFloat(v);
    r.intermediate_values = iv;
    return this.rec(OpCode.CreateTrial, r);
  }

  /**
   * `study.enqueue_trial(params)`: a WAITING template with no start time, the params only as
   * the `fixed_params` system attribute.
   */
  enqueueTrial(studyId: number, fixedParams: JsonObject, userAttrs: JsonObject = {}): string {
    return this.createTrialFromTemplate(studyId, {
      state: 'WAITING',
      values: null,
      params: {},
      distributions: {},
      intermediateValues: {},
      userAttrs,
      systemAttrs: { fixed_params: fixedParams },
      datetimeStart: null,
      datetimeComplete: null,
    });
  }

  /** `set_trial_param` with the internal value (see `internalRepr`). */
  setTrialParam(trialId: number, name: string, internal: JsonValue, d: Distribution): string {
    return this.rec(OpCode.SetTrialParam, {
      trial_id: BigInt(trialId),
      param_name: name,
      param_value_internal: internal,
      distribution: distributionJson(d),
    });
  }

  /** `set_trial_state_values`: `datetime_start` for RUNNING, `datetime_complete` when finished. */
  setTrialStateValues(
    trialId: number,
    state: TrialState,
    values: number[] | null = null,
    at = optunaNow(),
  ): string {
    const fields: JsonObject = {
      trial_id: BigInt(trialId),
      state: BigInt(trialStateCode(state)),
      values,
    };
    if (state === 'RUNNING') fields.datetime_start = at;
    else if (state !== 'WAITING') fields.datetime_complete = at;
    return this.rec(OpCode.SetTrialStateValues, fields);
  }

  setTrialIntermediateValue(trialId: number, step: number, value: number): string {
    return this.rec(OpCode.SetTrialIntermediateValue, {
      trial_id: BigInt(trialId),
      step: BigInt(step),
      intermediate_value: value,
    });
  }

  setTrialUserAttr(trialId: number, key: string, value: JsonValue): string {
    return this.rec(OpCode.SetTrialUserAttr, {
      trial_id: BigInt(trialId),
      user_attr: { [key]: value },
    });
  }

  setTrialSystemAttr(trialId: number, key: string, value: JsonValue): string {
    return this.rec(OpCode.SetTrialSystemAttr, {
      trial_id: BigInt(trialId),
      system_attr: { [key]: value },
    });
  }
}
