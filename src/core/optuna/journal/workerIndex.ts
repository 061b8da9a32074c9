import { isFinished, type TrialState } from '../model';
import { type JsonValue, parsePyJson } from '../pythonJsonParse';
import { OpCode, trialStateOfCode } from './protocol';

interface IndexedTrial {
  studyId: number;
  number: number;
  state: TrialState;
  fixedParams?: Record<string, JsonValue>;
}

/**
 * The part of Optuna's `JournalStorageReplayResult` a writing worker needs to act: study ids
 * by name, trial ids, numbers and states, and which trial this worker created last or owns
 * (won the RUNNING race for). Same rules as Optuna: a CREATE_STUDY with a live name is
 * ignored, a CREATE_TRIAL on a missing study is ignored, RUNNING over RUNNING and updates of
 * finished trials are ignored. Much lighter than the full replay: a worker replays every
 * record of the journal after each write.
 */
export class WorkerIndex {
  private readonly studies = new Map<number, { name: string; trialIds: number[] }>();
  private readonly liveNames = new Map<string, number>();
  private nextStudyId = 0;
  readonly trials: IndexedTrial[] = [];
  lastCreated = -1;
  owned: number | undefined;
  entries = 0;

  constructor(readonly workerId: string) {}

  apply(text: string): void {
    this.entries++;
    let r: Record<string, JsonValue>;
    try {
      r = JSON.parse(text);
    } catch {
      try {
        r = parsePyJson(text) as Record<string, JsonValue>; // bare NaN/Infinity from Python
      } catch {
        return;
      }
    }
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return;
    const mine = r.worker_id === this.workerId;
    switch (r.op_code) {
      case OpCode.CreateStudy: {
        if (typeof r.study_name !== 'string' || this.liveNames.has(r.study_name)) return;
        const id = this.nextStudyId++;
        this.studies.set(id, { name: r.study_name, trialIds: [] });
        this.liveNames.set(r.study_name, id);
        return;
      }
      case OpCode.DeleteStudy: {
        const s = this.studies.get(Number(r.study_id));
        if (!s) return;
        this.studies.delete(Number(r.study_id));
        this.liveNames.delete(s.name);
        return;
      }
      case OpCode.CreateTrial: {
        const studyId = Number(r.study_id);
        const s = this.studies.get(studyId);
        if (!s) return;
        const state = r.state === undefined ? 'RUNNING' : trialStateOfCode(r.state);
        if (!state) return;
        const id = this.trials.length;
        const sys = r.system_attrs as Record<string, JsonValue> | undefined;
        const fixed =
          sys && typeof sys.fixed_params === 'object' && sys.fixed_params !== null
            ? (sys.fixed_params as Record<string, JsonValue>)
            : undefined;
        this.trials.push({ studyId, number: s.trialIds.length, state, fixedParams: fixed });
        s.trialIds.push(id);
        if (mine) {
          this.lastCreated = id;
          if (state === 'RUNNING') this.owned = id;
        }
        return;
      }
      case OpCode.SetTrialStateValues: {
        const id = Number(r.trial_id);
        const t = this.trials[id];
        const state = trialStateOfCode(r.state);
        if (!t || !state || isFinished(t.state)) return;
        if (state === 'RUNNING' && t.state === 'RUNNING') return;
        if (state === 'RUNNING' && mine) this.owned = id;
        t.state = state;
        return;
      }
      default:
        return;
    }
  }

  studyId(name: string): number | undefined {
    return this.liveNames.get(name);
  }

  /** WAITING trials of a study, by number (what `get_all_trials(states=(WAITING,))` returns). */
  waiting(
    studyId: number,
  ): Array<{ trialId: number; number: number; fixedParams?: Record<string, JsonValue> }> {
    const s = this.studies.get(studyId);
    if (!s) return [];
    return s.trialIds
      .filter((id) => this.trials[id].state === 'WAITING')
      .map((id) => ({
        trialId: id,
        number: this.trials[id].number,
        fixedParams: this.trials[id].fixedParams,
      }));
  }
}
