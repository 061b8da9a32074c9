import { type ActivityState, JournalActivity } from './activity';
import { storedDatetime } from './datetimeMicros';
import { DistributionCache, compatible, toExternal } from './distributions';
import { OpCode, directionOfCode, trialStateOfCode } from './journal/protocol';
import {
  type Distribution,
  type ReadIssue,
  type Study,
  type StudyDirection,
  type TrialState,
  isFinished,
} from './model';
import { type JsonObject, type JsonValue, parsePyJson, setOwn } from './pythonJsonParse';
import { tableStudy } from './tableStudy';
import type { TrialRow } from './trialTable';
import { TrialTable, type TrialTableData } from './trialTable';

/** A record Optuna's replay would refuse: we skip it and report it, the rest still applies. */
class InvalidOp extends Error {}

/**
 * Everything a replay knows, as plain data for the local replay cache: mostly typed arrays,
 * which v8.serialize writes and reads as raw bytes.
 */
export interface ReplayState {
  /** Every study ever created (deleted ones keep their trials' ids), by ascending id. */
  studies: Array<{
    study: Omit<Study, 'trials'>;
    live: boolean;
    table: TrialTableData;
    firstWithParam: Array<[string, number]>;
  }>;
  nextStudyId: number;
  issues: ReadIssue[];
  entriesRead: number;
  activity: ActivityState;
}

interface StudyState {
  study: Study;
  table: TrialTable;
  /** First trial (its row) holding each param: the reference for compatibility checks. */
  firstWithParam: Map<string, number>;
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
  /**
   * Every trial ever created, by trial_id (deleted studies' trials included): its study and
   * row, in two growing columns.
   */
  private trialStudy: Int32Array = new Int32Array(1024);
  private trialRow: Int32Array = new Int32Array(1024);
  private trialCountValue = 0;
  /** Every study ever created, deleted ones included. */
  private readonly states = new Map<number, StudyState>();
  private readonly liveNames = new Map<string, number>();
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
    this.studies = new Map();
    this.nextStudyId = state?.nextStudyId ?? 0;
    this.issues = state?.issues ?? [];
    this.entriesRead = state?.entriesRead ?? 0;
    this.activity = new JournalActivity((id) => this.trial(id), state?.activity);
    for (const s of state?.studies ?? []) {
      const table = new TrialTable(s.study.studyId, s.table);
      const study: Study = tableStudy({ ...s.study }, table);
      this.states.set(study.studyId, {
        study,
        table,
        firstWithParam: new Map(s.firstWithParam),
      });
      for (let r = 0; r < table.length; r++) this.noteTrial(table.trialIds[r], study.studyId, r);
      if (s.live) {
        this.studies.set(study.studyId, study);
        this.liveNames.set(study.name, study.studyId);
      }
    }
  }

  /**
   * The replay's data for the cache: the columns copied, attribute objects shared (serialize
   * it before applying more entries).
   */
  toState(): ReplayState {
    return {
      studies: [...this.states.values()].map((st) => {
        const { studyId, name, directions, userAttrs, systemAttrs } = st.study;
        return {
          study: { studyId, name, directions, userAttrs, systemAttrs },
          live: this.studies.has(studyId),
          table: st.table.toData(),
          firstWithParam: [...st.firstWithParam],
        };
      }),
      nextStudyId: this.nextStudyId,
      issues: this.issues,
      entriesRead: this.entriesRead,
      activity: this.activity.toState(),
    };
  }

  get trialCount(): number {
    return this.trialCountValue;
  }

  /** The trial with this trial_id (of a live or deleted study), if there is one. */
  trial(trialId: number): TrialRow | undefined {
    if (!(trialId >= 0 && trialId < this.trialCountValue)) return undefined;
    return this.states.get(this.trialStudy[trialId])!.table.row(this.trialRow[trialId]);
  }

  private noteTrial(trialId: number, studyId: number, row: number): void {
    if (trialId >= this.trialStudy.length) {
      const cap = Math.max(trialId + 1, this.trialStudy.length * 2);
      const grow = (a: Int32Array) => {
        const b = new Int32Array(cap);
        b.set(a);
        return b;
      };
      this.trialStudy = grow(this.trialStudy);
      this.trialRow = grow(this.trialRow);
    }
    this.trialStudy[trialId] = studyId;
    this.trialRow[trialId] = row;
    if (trialId >= this.trialCountValue) this.trialCountValue = trialId + 1;
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
        const step = stepKey(r.step);
        t.table.setIntermediate(t.row, step, required(r, 'intermediate_value'));
        this.activity.reported(this.at, t.trialId);
        return;
      }
      case OpCode.SetTrialUserAttr:
      case OpCode.SetTrialSystemAttr: {
        const t = this.updatableTrial(r.trial_id);
        if (!t) return;
        const user = r.op_code === OpCode.SetTrialUserAttr;
        const attr = asObject(user ? r.user_attr : r.system_attr, 'attribute');
        t.table.assignAttrs(t.row, user ? 'user' : 'system', attr);
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
    const table = new TrialTable(studyId);
    const study: Study = tableStudy(
      { studyId, name, directions, userAttrs: {}, systemAttrs: {} },
      table,
    );
    this.studies.set(studyId, study);
    this.states.set(studyId, { study, table, firstWithParam: new Map() });
    this.liveNames.set(name, studyId);
  }

  private createTrial(r: JsonObject): void {
    const s = this.liveStudy(r.study_id);
    if (!s) return;
    // Everything is checked before the trial is added: a record Optuna refuses adds nothing.
    const state = 'state' in r ? stateName(r.state) : 'RUNNING';
    const distributions = new Map<string, Distribution>();
    if ('distributions' in r) {
      const ds = asObject(r.distributions, 'distributions');
      for (const k of Object.keys(ds)) distributions.set(k, this.distributions.parse(ds[k]));
    }
    const params = 'params' in r ? asObject(r.params, 'params') : {};
    const paramNames = Object.keys(params);
    for (const k of paramNames) {
      const d = distributions.get(k);
      if (!d) throw new InvalidOp(`param "${k}" has no distribution`);
      toExternal(d, params[k]);
    }
    const value = r.value ?? null;
    const values = r.values ?? null;
    if (value !== null && values !== null) throw new InvalidOp('both value and values are set');
    if (values !== null && !Array.isArray(values)) throw new InvalidOp('values is not a list');
    const inter = asObject(r.intermediate_values ?? {}, 'intermediate_values');
    const steps = Object.keys(inter).map(stepKey);
    const start = storedDatetime(asDatetime(required(r, 'datetime_start')));
    const complete =
      'datetime_complete' in r ? storedDatetime(asDatetime(r.datetime_complete)) : null;
    const userAttrs = asObject(r.user_attrs ?? {}, 'user_attrs');
    const systemAttrs = asObject(r.system_attrs ?? {}, 'system_attrs');

    const st = this.states.get(s.studyId)!;
    const trialId = this.trialCountValue;
    const row = st.table.add(trialId, st.table.length, state);
    st.table.setDatetime(row, 'start', start);
    st.table.setDatetime(row, 'complete', complete);
    st.table.setValues(row, value !== null ? [value] : (values as JsonValue[] | null));
    for (const k of paramNames) st.table.setParam(row, k, distributions.get(k)!, params[k]);
    Object.keys(inter).forEach((k, i) => st.table.setIntermediate(row, steps[i], inter[k]));
    if (Object.keys(userAttrs).length > 0) st.table.assignAttrs(row, 'user', userAttrs);
    if (Object.keys(systemAttrs).length > 0) st.table.assignAttrs(row, 'system', systemAttrs);
    this.noteTrial(trialId, s.studyId, row);
    this.activity.started(this.at, this.by, trialId, state === 'RUNNING');
    for (const k of paramNames) if (!st.firstWithParam.has(k)) st.firstWithParam.set(k, row);
  }

  private setParam(r: JsonObject): void {
    const t = this.updatableTrial(r.trial_id);
    if (!t) return;
    const name = r.param_name;
    if (typeof name !== 'string') throw new InvalidOp('param_name is not a string');
    const d = this.distributions.parse(required(r, 'distribution'));
    const st = this.states.get(t.studyId)!;
    const first = st.firstWithParam.get(name);
    if (first !== undefined && !compatible(st.table.paramShape(first).distributions[name], d))
      return; // incompatible: ignored
    t.table.setParam(t.row, name, d, required(r, 'param_value_internal'));
    if (first === undefined || t.number < st.table.numbers[first])
      st.firstWithParam.set(name, t.row);
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
      state === 'RUNNING' ? storedDatetime(asDatetime(required(r, 'datetime_start'))) : undefined;
    const complete = isFinished(state)
      ? storedDatetime(asDatetime(required(r, 'datetime_complete')))
      : undefined;
    const { table, row } = t;
    if (start !== undefined) table.setDatetime(row, 'start', start);
    if (complete !== undefined) table.setDatetime(row, 'complete', complete);
    table.setState(row, state);
    if (values !== null) table.setValues(row, values);
    if (state === 'RUNNING') this.activity.started(this.at, this.by, t.trialId, true);
    else if (isFinished(state)) this.activity.finished(this.at, t.trialId);
  }

  private liveStudy(id: JsonValue | undefined): Study | undefined {
    return typeof id === 'number' ? this.studies.get(id) : undefined;
  }

  /** Ops 5–9 apply only to an existing trial that is not finished (WAITING and RUNNING are). */
  private updatableTrial(id: JsonValue | undefined): TrialRow | undefined {
    if (typeof id !== 'number' || !Number.isInteger(id)) return undefined;
    const t = this.trial(id);
    return t && !isFinished(t.table.state(t.row)) ? t : undefined;
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
