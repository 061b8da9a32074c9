import {
  categoricalDistribution,
  floatDistribution,
  intDistribution,
  toExternal,
} from '../../src/core/optuna/distributions';
import { JournalRecords } from '../../src/core/optuna/journal/records';
import type { Distribution, StudyDirection, TrialState } from '../../src/core/optuna/model';
import type { JsonValue } from '../../src/core/optuna/pythonJsonParse';
import { JournalReplay } from '../../src/core/optuna/replay';
import type { MergedStudy } from '../../src/core/storage/mergedView';
import { mergeTrials } from '../../src/core/storage/mergedView';

export const dist = {
  float: (low: number, high: number, log = false) => floatDistribution(low, high, { log }),
  int: (low: number, high: number) => intDistribution(low, high),
  cat: (choices: JsonValue[]) => categoricalDistribution(choices),
};

/** Params of a trial: name -> [internal value, distribution]. */
export type Params = Record<string, [JsonValue, Distribution]>;

/** "2026-01-01T10:00:05.000000": a naive local datetime `s` seconds after a fixed origin. */
export function at(s: number): string {
  const d = new Date(2026, 0, 1, 10, 0, 0, 0);
  d.setTime(d.getTime() + s * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return `${day}T${time}.${p(d.getMilliseconds() * 1000, 6)}`;
}

export function atMs(s: number): number {
  return Date.parse(at(s));
}

/**
 * A journal being written by several workers, as Optuna's records: each record is applied to a
 * JournalReplay as it is added (so a test can look at the study between writes, as the page
 * does between refreshes).
 */
export class HandJournal {
  readonly replay = new JournalReplay();
  private index = 0;
  private nextTrialId = 0;

  private add(text: string): this {
    this.replay.applyText(this.index++, text);
    return this;
  }

  study(name: string, directions: StudyDirection[] = ['MINIMIZE']): this {
    return this.add(new JournalRecords('w-setup-1').createStudy(name, directions));
  }

  deleteStudy(worker: string, studyId: number): this {
    return this.add(new JournalRecords(worker).deleteStudy(studyId));
  }

  /** CREATE_TRIAL (RUNNING), then one SET_TRIAL_PARAM per param; returns the trial_id. */
  trial(worker: string, start: number, params: Params = {}, studyId = 0): number {
    const id = this.nextTrialId++;
    this.add(new JournalRecords(worker).createTrial(studyId, at(start)));
    for (const [name, [internal, d]] of Object.entries(params))
      this.param(worker, id, name, internal, d);
    return id;
  }

  /** CREATE_TRIAL with params and distributions in the record (Optuna checks no compatibility then). */
  trialWith(worker: string, start: number, params: Params): number {
    const id = this.nextTrialId++;
    const external = Object.entries(params).map(([k, [v, d]]) => [k, toExternal(d, v)]);
    this.add(
      new JournalRecords(worker).createTrialFromTemplate(0, {
        state: 'RUNNING',
        values: null,
        params: Object.fromEntries(external),
        distributions: Object.fromEntries(Object.entries(params).map(([k, [, d]]) => [k, d])),
        intermediateValues: {},
        userAttrs: {},
        systemAttrs: {},
        datetimeStart: at(start),
        datetimeComplete: null,
      }),
    );
    return id;
  }

  param(worker: string, trialId: number, name: string, internal: JsonValue, d: Distribution): this {
    return this.add(new JournalRecords(worker).setTrialParam(trialId, name, internal, d));
  }

  report(worker: string, trialId: number, step: number, value: number): this {
    return this.add(new JournalRecords(worker).setTrialIntermediateValue(trialId, step, value));
  }

  finish(
    worker: string,
    trialId: number,
    end: number,
    values: number[] | null,
    state: TrialState = 'COMPLETE',
  ): this {
    return this.add(
      new JournalRecords(worker).setTrialStateValues(trialId, state, values, at(end)),
    );
  }

  userAttr(worker: string, trialId: number, attrs: Record<string, JsonValue>): this {
    const w = new JournalRecords(worker);
    for (const [k, v] of Object.entries(attrs)) this.add(w.setTrialUserAttr(trialId, k, v));
    return this;
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
