import { JournalReplay } from '../../src/core/optuna/replay';
import type { MergedStudy } from '../../src/core/storage/mergedView';
import { mergeTrials } from '../../src/core/storage/mergedView';

/** Records as Optuna's journal writes them, built by hand for unit tests. */
export type Rec = Record<string, unknown>;

const float = (low: number, high: number, log = false) =>
  JSON.stringify({ name: 'FloatDistribution', attributes: { step: null, low, high, log } });
const int = (low: number, high: number) =>
  JSON.stringify({ name: 'IntDistribution', attributes: { log: false, step: 1, low, high } });
const cat = (choices: unknown[]) =>
  JSON.stringify({ name: 'CategoricalDistribution', attributes: { choices } });
export const dist = { float, int, cat };

/** "2026-01-01T10:00:05.000000": a naive local datetime `s` seconds after a fixed origin. */
export function at(s: number): string {
  const d = new Date(2026, 0, 1, 10, 0, 0, 0);
  d.setTime(d.getTime() + s * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

export function atMs(s: number): number {
  return Date.parse(at(s));
}

/**
 * A journal being written: records are applied to a JournalReplay as they are added (so a
 * test can look at the study between writes, as the page does between refreshes).
 */
export class HandJournal {
  readonly replay = new JournalReplay();
  private index = 0;
  private nextTrialId = 0;

  add(rec: Rec): this {
    return this.addText(JSON.stringify(rec));
  }

  /** A record as text (Python's NaN and Infinity tokens are not JSON). */
  addText(text: string): this {
    this.replay.applyText(this.index++, text);
    return this;
  }

  study(name: string, directions: number[] = [1]): this {
    return this.add({ op_code: 0, worker_id: 'w-setup-1', study_name: name, directions });
  }

  /** CREATE_TRIAL (RUNNING) with params set in the same record; returns the trial_id. */
  trial(
    worker: string,
    start: number,
    params: Record<string, [unknown, string]> = {},
    studyId = 0,
  ): number {
    const id = this.nextTrialId++;
    this.add({ op_code: 4, worker_id: worker, study_id: studyId, datetime_start: at(start) });
    for (const [name, [internal, distribution]] of Object.entries(params))
      this.add({
        op_code: 5,
        worker_id: worker,
        trial_id: id,
        param_name: name,
        param_value_internal: internal,
        distribution,
      });
    return id;
  }

  /** CREATE_TRIAL with params and distributions in the record itself (Optuna checks no compatibility then). */
  trialWith(worker: string, start: number, params: Record<string, [unknown, string]>): number {
    const id = this.nextTrialId++;
    this.add({
      op_code: 4,
      worker_id: worker,
      study_id: 0,
      datetime_start: at(start),
      params: Object.fromEntries(Object.entries(params).map(([k, [v]]) => [k, v])),
      distributions: Object.fromEntries(Object.entries(params).map(([k, [, d]]) => [k, d])),
    });
    return id;
  }

  report(worker: string, trialId: number, step: number, value: number): this {
    return this.add({
      op_code: 7,
      worker_id: worker,
      trial_id: trialId,
      step,
      intermediate_value: value,
    });
  }

  finish(worker: string, trialId: number, end: number, values: unknown[] | null, state = 1): this {
    return this.add({
      op_code: 6,
      worker_id: worker,
      trial_id: trialId,
      state,
      values,
      datetime_complete: at(end),
    });
  }

  userAttr(worker: string, trialId: number, attrs: Record<string, unknown>): this {
    return this.add({ op_code: 8, worker_id: worker, trial_id: trialId, user_attr: attrs });
  }

  /** The study as the failover store shows it (Redis only). */
  merged(name = 'study'): MergedStudy {
    const s = this.replay.allStudies().find((x) => x.name === name)!;
    return {
      key: `redis\u0000\u0000${name}`,
      name,
      prefix: '',
      redis: s,
      sqlite: undefined,
      trials: mergeTrials(s, undefined),
    };
  }
}
