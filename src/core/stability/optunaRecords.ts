import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../optuna/pyjson';
import { pythonDumps } from '../optuna/pythonJson';

/** Python's json.dumps and repr(float): the core's writer, re-exported under the suite's names. */
export { pythonDumps as pyDumps, pythonFloatRepr as pyFloatRepr } from '../optuna/pythonJson';

/** `datetime.now().isoformat(timespec="microseconds")`: naive local time, as Optuna 3.1 writes it. */
export function pyNow(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  // Date has milliseconds; the sub-millisecond part comes from the monotonic clock.
  const micros = date.getMilliseconds() * 1000 + Math.floor((performance.now() * 1000) % 1000);
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(micros, 6)}`;
}

/** A worker id in Optuna's shape: `<uuid4>-<thread ident>`, one per simulated worker. */
export function newWorkerId(): string {
  return `${randomUUID()}-${140_000_000_000_000 + Math.floor(Math.random() * 1e12)}`;
}

export const TrialStateCode = { RUNNING: 0, COMPLETE: 1, PRUNED: 2, FAIL: 3, WAITING: 4 } as const;
export type TrialStateName = keyof typeof TrialStateCode;

/** The distributions the suite's trials use, with `distribution_to_json`'s attribute order. */
export type SuiteDistribution =
  | { kind: 'float'; low: number; high: number; log?: boolean; step?: number | null }
  | { kind: 'int'; low: number; high: number; log?: boolean; step?: number }
  | { kind: 'categorical'; choices: Array<string | number | boolean | null> };

export function distributionJson(d: SuiteDistribution): string {
  switch (d.kind) {
    case 'float':
      return pythonDumps({
        name: 'FloatDistribution',
        attributes: { step: d.step ?? null, low: d.low, high: d.high, log: d.log ?? false },
      });
    case 'int':
      return pythonDumps({
        name: 'IntDistribution',
        attributes: {
          log: d.log ?? false,
          step: BigInt(d.step ?? 1),
          low: BigInt(d.low),
          high: BigInt(d.high),
        },
      });
    case 'categorical':
      return pythonDumps({
        name: 'CategoricalDistribution',
        attributes: {
          choices: d.choices.map((c) =>
            typeof c === 'number' && Number.isInteger(c) ? BigInt(c) : c,
          ),
        },
      });
  }
}

/** The distribution as `json.loads(distribution_to_json(d))`, the shape readers report. */
export function distributionObject(d: SuiteDistribution): {
  name: string;
  attributes: Record<string, JsonValue>;
} {
  switch (d.kind) {
    case 'float':
      return {
        name: 'FloatDistribution',
        attributes: { step: d.step ?? null, low: d.low, high: d.high, log: d.log ?? false },
      };
    case 'int':
      return {
        name: 'IntDistribution',
        attributes: { log: d.log ?? false, step: d.step ?? 1, low: d.low, high: d.high },
      };
    case 'categorical':
      return { name: 'CategoricalDistribution', attributes: { choices: d.choices } };
  }
}

/** `to_internal_repr`: floats stay, ints become floats (3 -> 3.0), categoricals their index (an int). */
export function internalRepr(
  d: SuiteDistribution,
  external: string | number | boolean | null,
): JsonValue {
  if (d.kind === 'categorical') {
    const i = d.choices.indexOf(external);
    if (i < 0) throw new Error(`${String(external)} is not one of the choices`);
    return BigInt(i);
  }
  return Number(external);
}

/** Builds the records of one worker (one `JournalStorage` instance in one thread). */
export class OptunaRecords {
  constructor(readonly workerId: string = newWorkerId()) {}

  private rec(op: number, fields: Record<string, JsonValue>): string {
    return pythonDumps({ op_code: BigInt(op), worker_id: this.workerId, ...fields });
  }

  /** create_new_study; directions 1 MINIMIZE, 2 MAXIMIZE. */
  createStudy(name: string, directions: number[] = [1]): string {
    return this.rec(0, { study_name: name, directions: directions.map(BigInt) });
  }

  setStudyUserAttr(studyId: number, key: string, value: JsonValue): string {
    return this.rec(2, { study_id: BigInt(studyId), user_attr: { [key]: value } });
  }

  setStudySystemAttr(studyId: number, key: string, value: JsonValue): string {
    return this.rec(3, { study_id: BigInt(studyId), system_attr: { [key]: value } });
  }

  /** create_new_trial without a template: a RUNNING trial. */
  createTrial(studyId: number, datetimeStart = pyNow()): string {
    return this.rec(4, { study_id: BigInt(studyId), datetime_start: datetimeStart });
  }

  /**
   * `study.enqueue_trial(params)` in 3.1: add_trial of a WAITING template with no start time,
   * the params only as the `fixed_params` system attribute.
   */
  enqueueTrial(
    studyId: number,
    fixedParams: Record<string, JsonValue>,
    userAttrs: Record<string, JsonValue> = {},
  ): string {
    return this.rec(4, {
      study_id: BigInt(studyId),
      datetime_start: null,
      state: BigInt(TrialStateCode.WAITING),
      value: null,
      values: null,
      distributions: {},
      params: {},
      user_attrs: userAttrs,
      system_attrs: { fixed_params: fixedParams },
      intermediate_values: {},
    });
  }

  setTrialParam(
    trialId: number,
    name: string,
    internal: JsonValue,
    dist: SuiteDistribution,
  ): string {
    return this.rec(5, {
      trial_id: BigInt(trialId),
      param_name: name,
      param_value_internal: internal,
      distribution: distributionJson(dist),
    });
  }

  /** set_trial_state_values: `datetime_start` for RUNNING, `datetime_complete` for finished states. */
  setTrialStateValues(
    trialId: number,
    state: TrialStateName,
    values: number[] | null = null,
    at = pyNow(),
  ): string {
    const fields: Record<string, JsonValue> = {
      trial_id: BigInt(trialId),
      state: BigInt(TrialStateCode[state]),
      values,
    };
    if (state === 'RUNNING') fields.datetime_start = at;
    else if (state !== 'WAITING') fields.datetime_complete = at;
    return this.rec(6, fields);
  }

  setTrialIntermediateValue(trialId: number, step: number, value: number): string {
    return this.rec(7, {
      trial_id: BigInt(trialId),
      step: BigInt(step),
      intermediate_value: value,
    });
  }

  setTrialUserAttr(trialId: number, key: string, value: JsonValue): string {
    return this.rec(8, { trial_id: BigInt(trialId), user_attr: { [key]: value } });
  }

  setTrialSystemAttr(trialId: number, key: string, value: JsonValue): string {
    return this.rec(9, { trial_id: BigInt(trialId), system_attr: { [key]: value } });
  }
}
