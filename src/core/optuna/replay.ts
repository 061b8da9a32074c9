import { type ActivityState, JournalActivity } from './activity';
import { DistributionCache, compatible, toExternal } from './distributions';
import { OpCode, directionOfCode, trialStateOfCode } from './journal/protocol';
import {
  type Distribution,
  type ReadIssue,
  type Study,
  type StudyDirection,
  type Trial,
  type TrialState,
  isFinished,
  normalizeDatetime,
} from './model';
import { type JsonObject, type JsonValue, parsePyJson, setOwn } from './pythonJsonParse';

/** A record Optuna's replay would refuse: we skip it and report it, the rest still applies. */
class InvalidOp extends Error {}

/** Everything a replay knows, as plain data (v8-serializable) for the local replay cache. */
export interface ReplayState {
  studies: Map<number, Study>;
  trials: Trial[];
  states: Map<number, StudyState>;
  liveNames: Map<string, number>;
  nextStudyId: number;
  issues: ReadIssue[];
  entriesRead: number;
  activity?: ActivityState;
}

interface StudyState {
  study: Study;
  /** First trial (by number) holding each param: the reference for compatibility checks. */
  firstWithParam: Map<string, Trial>;
}

/**
 * Replays journal records exactly as Optuna's `JournalStorageReplayResult` does, as a reader
 * that is not one of the writing workers: records Optuna would refuse for their own worker are
 * silently ignored, unknown op codes (e.g. 10, DISCARD_TRIALS of newer Optuna) are skipped.
 * The model is updated in place, so feeding it only new entries is an incremental refresh.
 */
export class JournalReplay {
  /** Live (not deleted) studies by id. */
  readonly studies: Map<number, Study>;
  /** Every trial ever created, by trial_id (deleted studies' trials included). */
  private readonly trials: Trial[];
  private readonly states: Map<number, StudyState>;
  private readonly liveNames: Map<string, number>;
  private nextStudyId: number;
  /** Parses distribution texts once each; a subclass may parse them differently (typed, for exports). */
  protected readonly distributions = new DistributionCache();
  readonly issues: ReadIssue[];

  /** Number of journal entries consumed so far (applied, skipped or reported). */
  entriesRead: number;
  /** Who wrote what: the workers behind the trials (for the stale-trial classifier). */
  readonly activity: JournalActivity;
  /** Journal index and worker of the record being applied. */
  private at = -1;
  private by = -1;

  constructor(state?: ReplayState) {
    this.studies = state?.studies ?? new Map();
    this.trials = state?.trials ?? [];
    this.states = state?.states ?? new Map();
    this.liveNames = state?.liveNames ?? new Map();
    this.nextStudyId = state?.nextStudyId ?? 0;
    this.issues = state?.issues ?? [];
    this.entriesRead = state?.entriesRead ?? 0;
    this.activity = new JournalActivity((id) => this.trials[id], state?.activity);
  }

  /** The replay's data, shared (not copied): serialize it before applying more entries. */
  toState(): ReplayState {
    const { studies, trials, states, liveNames, nextStudyId, issues, entriesRead } = this;
    const activity = this.activity.toState();
    return { studies, trials, states, liveNames, nextStudyId, issues, entriesRead, activity };
  }

  get trialCount(): number {
    return this.trials.length;
  }

  /** Studies in ascending id order. */
  allStudies(): Study[] {
    return [...this.studies.values()].sort((a, b) => a.studyId - b.studyId);
  }

  /** Applies one raw entry; `index` is its journal position, for issue reports. */
  applyText(index: number, text: string): void {
    let record: JsonValue;
    try {
      record = parsePyJson(text);
    } catch (e) {
      this.issues.push({
        kind: 'malformed',
        index,
        message: `entry ${index} is not valid JSON: ${(e as Error).message}`,
      });
      this.entriesRead++;
      return;
    }
    this.apply(index, record);
  }

  apply(index: number, record: JsonValue): void {
    this.entriesRead++;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      this.issues.push({
        kind: 'malformed',
        index,
        message: `entry ${index} is not a JSON object`,
      });
      return;
    }
    this.at = index;
    this.by = this.activity.wrote(index, record.worker_id);
    try {
      this.applyRecord(record);
    } catch (e) {
      if (!(e instanceof InvalidOp) && !(e instanceof Error)) throw e;
      this.issues.push({
        kind: 'invalid-op',
        index,
        message: `entry ${index} (op_code ${String(record.op_code)}) skipped: ${e.message}`,
      });
    }
  }

  private applyRecord(r: JsonObject): void {
    switch (r.op_code) {
      case OpCode.CreateStudy:
        return this.createStudy(r);
      case OpCode.DeleteStudy: {
        const s = this.liveStudy(r.study_id);
        if (!s) return;
        this.studies.delete(s.studyId);
        this.liveNames.delete(s.name);
        return;
      }
      case OpCode.SetStudyUserAttr:
      case OpCode.SetStudySystemAttr: {
        const s = this.liveStudy(r.study_id);
        if (!s) return;
        const attr = r.op_code === OpCode.SetStudyUserAttr ? r.user_attr : r.system_attr;
        const into = r.op_code === OpCode.SetStudyUserAttr ? s.userAttrs : s.systemAttrs;
        for (const [k, v] of Object.entries(asObject(attr, 'attribute'))) setOwn(into, k, v);
        return;
      }
      case OpCode.CreateTrial:
        return this.createTrial(r);
      case OpCode.SetTrialParam:
        return this.setParam(r);
      case OpCode.SetTrialStateValues:
        return this.setStateValues(r);
      case OpCode.SetTrialIntermediateValue: {
        const t = this.updatableTrial(r.trial_id);
        if (!t) return;
        t.intermediateValues[stepKey(r.step)] = required(r, 'intermediate_value');
        this.activity.reported(this.at, t.trialId);
        return;
      }
      case OpCode.SetTrialUserAttr:
      case OpCode.SetTrialSystemAttr: {
        const t = this.updatableTrial(r.trial_id);
        if (!t) return;
        const attr = r.op_code === OpCode.SetTrialUserAttr ? r.user_attr : r.system_attr;
        const into = r.op_code === OpCode.SetTrialUserAttr ? t.userAttrs : t.systemAttrs;
        for (const [k, v] of Object.entries(asObject(attr, 'attribute'))) setOwn(into, k, v);
        return;
      }
      default:
        // Unknown op codes (newer Optuna) are skipped, not fatal.
        return;
    }
  }

  private createStudy(r: JsonObject): void {
    const name = r.study_name;
    if (typeof name !== 'string') throw new InvalidOp('study_name is not a string');
    if (!Array.isArray(r.directions)) throw new InvalidOp('directions is not a list');
    const directions = r.directions.map(directionName);
    if (this.liveNames.has(name)) return; // a duplicate name is ignored
    const studyId = this.nextStudyId++;
    const study: Study = { studyId, name, directions, userAttrs: {}, systemAttrs: {}, trials: [] };
    this.studies.set(studyId, study);
    this.states.set(studyId, { study, firstWithParam: new Map() });
    this.liveNames.set(name, studyId);
  }

  private createTrial(r: JsonObject): void {
    const s = this.liveStudy(r.study_id);
    if (!s) return;
    const state = 'state' in r ? stateName(r.state) : 'RUNNING';
    const distributions: Record<string, Distribution> = {};
    if ('distributions' in r) {
      for (const [k, v] of Object.entries(asObject(r.distributions, 'distributions')))
        distributions[k] = this.distributions.parse(v);
    }
    const params: Record<string, JsonValue> = {};
    if ('params' in r) {
      for (const [k, v] of Object.entries(asObject(r.params, 'params'))) {
        const d = distributions[k];
        if (!d) throw new InvalidOp(`param "${k}" has no distribution`);
        params[k] = toExternal(d, v);
      }
    }
    const value = r.value ?? null;
    const values = r.values ?? null;
    if (value !== null && values !== null) throw new InvalidOp('both value and values are set');
    if (values !== null && !Array.isArray(values)) throw new InvalidOp('values is not a list');
    const intermediateValues: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(
      asObject(r.intermediate_values ?? {}, 'intermediate_values'),
    ))
      intermediateValues[stepKey(k)] = v;
    const datetimeStart = normalizeDatetime(asDatetime(required(r, 'datetime_start')));
    const datetimeComplete =
      'datetime_complete' in r ? normalizeDatetime(asDatetime(r.datetime_complete)) : null;
    const userAttrs = { ...asObject(r.user_attrs ?? {}, 'user_attrs') };
    const systemAttrs = { ...asObject(r.system_attrs ?? {}, 'system_attrs') };

    const trial: Trial = {
      trialId: this.trials.length,
      number: s.trials.length,
      studyId: s.studyId,
      state,
      values: value !== null ? [value] : (values as JsonValue[] | null),
      params,
      distributions,
      intermediateValues,
      userAttrs,
      systemAttrs,
      datetimeStart,
      datetimeComplete,
    };
    this.trials.push(trial);
    s.trials.push(trial);
    this.activity.started(this.at, this.by, trial.trialId, state === 'RUNNING');
    const st = this.states.get(s.studyId)!;
    for (const k of Object.keys(params))
      if (!st.firstWithParam.has(k)) st.firstWithParam.set(k, trial);
  }

  private setParam(r: JsonObject): void {
    const t = this.updatableTrial(r.trial_id);
    if (!t) return;
    const name = r.param_name;
    if (typeof name !== 'string') throw new InvalidOp('param_name is not a string');
    const d = this.distributions.parse(required(r, 'distribution'));
    const st = this.states.get(t.studyId)!;
    const first = st.firstWithParam.get(name);
    if (first && !compatible(first.distributions[name], d)) return; // incompatible: ignored
    const external = toExternal(d, required(r, 'param_value_internal'));
    t.params[name] = external;
    t.distributions[name] = d;
    if (!first || t.number < first.number) st.firstWithParam.set(name, t);
  }

  private setStateValues(r: JsonObject): void {
    const t = this.updatableTrial(r.trial_id);
    if (!t) return;
    const state = stateName(required(r, 'state'));
    // A second worker setting RUNNING loses the race to pop a WAITING trial.
    if (state === 'RUNNING' && t.state === 'RUNNING') return;
    const values = required(r, 'values');
    if (values !== null && !Array.isArray(values)) throw new InvalidOp('values is not a list');
    const start =
      state === 'RUNNING'
        ? normalizeDatetime(asDatetime(required(r, 'datetime_start')))
        : t.datetimeStart;
    const complete = isFinished(state)
      ? normalizeDatetime(asDatetime(required(r, 'datetime_complete')))
      : t.datetimeComplete;
    t.datetimeStart = start;
    t.datetimeComplete = complete;
    t.state = state;
    if (values !== null) t.values = values;
    if (state === 'RUNNING') this.activity.started(this.at, this.by, t.trialId, true);
    else if (isFinished(state)) this.activity.finished(this.at, t.trialId);
  }

  private liveStudy(id: JsonValue | undefined): Study | undefined {
    return typeof id === 'number' ? this.studies.get(id) : undefined;
  }

  /** Ops 5–9 apply only to an existing trial that is not finished (WAITING and RUNNING are). */
  private updatableTrial(id: JsonValue | undefined): Trial | undefined {
    if (typeof id !== 'number' || !Number.isInteger(id)) return undefined;
    const t = this.trials[id];
    return t && !isFinished(t.state) ? t : undefined;
  }
}

function required(r: JsonObject, key: string): JsonValue {
  if (!(key in r)) throw new InvalidOp(`"${key}" is missing`);
  return r[key];
}

function asObject(v: JsonValue | undefined, what: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidOp(`${what} is not an object`);
  return v;
}

function asDatetime(v: JsonValue): string | null {
  if (v !== null && typeof v !== 'string') throw new InvalidOp('datetime is not a string');
  return v;
}

function stateName(code: JsonValue): TrialState {
  const s = trialStateOfCode(code);
  if (!s) throw new InvalidOp(`unknown trial state ${String(code)}`);
  return s;
}

function directionName(code: JsonValue): StudyDirection {
  const d = directionOfCode(code);
  if (!d) throw new InvalidOp(`unknown study direction ${String(code)}`);
  return d;
}

/** Python's `int(k)` then `str()`: the step as a canonical decimal string. */
function stepKey(k: JsonValue): string {
  if (typeof k === 'number' && Number.isInteger(k)) return String(k);
  if (typeof k === 'bigint') return k.toString();
  if (typeof k === 'string' && /^\s*[+-]?\d+\s*$/.test(k))
    return BigInt(k.trim().replace(/^\+/, '')).toString();
  throw new InvalidOp(`invalid step ${String(k)}`);
}
