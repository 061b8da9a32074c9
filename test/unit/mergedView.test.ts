import * as assert from 'node:assert/strict';
import type { Study, Trial } from '../../src/core/optuna/model';
import { TRIAL_UID_ATTR } from '../../src/core/python/trialUid';
import {
  type MergedStudy,
  mergeTrials,
  trialsOnlyInSqlite,
} from '../../src/core/storage/mergedView';

function trial(number: number, over: Partial<Trial> = {}): Trial {
  return {
    trialId: number,
    number,
    studyId: 0,
    state: 'COMPLETE',
    values: [number],
    params: { x: number },
    distributions: {},
    intermediateValues: {},
    userAttrs: {},
    systemAttrs: {},
    datetimeStart: `2026-12-02T00:00:0${number}.000000`,
    datetimeComplete: `2026-12-02T00:00:0${number}.500000`,
    ...over,
  };
}

function study(trials: Trial[]): Study {
  return {
    studyId: 0,
    name: 's',
    directions: ['MINIMIZE'],
    userAttrs: {},
    systemAttrs: {},
    trials,
  };
}

const uid = (u: string) => ({ systemAttrs: { [TRIAL_UID_ATTR]: u } });

describe('mergeTrials: a study in Redis and in the SQLite fallback', () => {
  it('a copy is matched by fingerprint when it has no unique id', () => {
    const m = mergeTrials(
      study([trial(0), trial(1)]),
      study([trial(1, { trialId: 7, number: 0 }), trial(2)]),
    );
    assert.deepEqual(
      m.map((x) => [x.trial.number, x.source]),
      [
        [0, 'redis'],
        [1, 'both'],
        [2, 'sqlite'],
      ],
    );
  });

  it('a Redis trial left RUNNING that an outage finished in SQLite shows once, finished, under its Redis number', () => {
    const running = trial(3, {
      ...uid('u3'),
      state: 'RUNNING',
      values: null,
      datetimeComplete: null,
    });
    const finished = trial(3, { ...uid('u3'), trialId: 900, number: 0, values: [0.25] });
    const m = mergeTrials(study([trial(0), running]), study([finished, trial(5, uid('u5'))]));
    assert.equal(m.length, 3, 'no trial counted twice');
    const shown = m.find((x) => x.source === 'both')!.trial;
    assert.deepEqual(
      [shown.number, shown.trialId, shown.state, shown.values],
      [3, 3, 'COMPLETE', [0.25]],
    );
    assert.deepEqual(
      m.map((x) => [x.trial.number, x.source]),
      [
        [0, 'redis'],
        [3, 'both'],
        [5, 'sqlite'],
      ],
    );
  });

  it('a reconciled trial (same unique id, same content in both) is one trial', () => {
    const m = mergeTrials(
      study([trial(1, uid('a'))]),
      study([trial(1, { ...uid('a'), number: 0 })]),
    );
    assert.deepEqual(
      m.map((x) => x.source),
      ['both'],
    );
  });
});

describe('trialsOnlyInSqlite: what makes a study split (the Heal Split Study badge)', () => {
  const merged = (redis: Study | undefined, sqlite: Study | undefined): MergedStudy => ({
    key: 'k',
    name: 's',
    prefix: '',
    redis,
    sqlite,
    trials: mergeTrials(redis, sqlite),
  });

  it('counts the SQLite trials Redis lacks, not the copies of Redis trials', () => {
    const m = merged(
      study([trial(0), trial(1)]),
      study([trial(1, { number: 0 }), trial(2), trial(3)]),
    );
    assert.equal(trialsOnlyInSqlite(m), 2);
  });

  it('is 0 for a study in one store, and once every SQLite trial is in Redis', () => {
    assert.equal(trialsOnlyInSqlite(merged(undefined, study([trial(0)]))), 0);
    assert.equal(trialsOnlyInSqlite(merged(study([trial(0)]), undefined)), 0);
    assert.equal(
      trialsOnlyInSqlite(merged(study([trial(0, uid('a'))]), study([trial(0, uid('a'))]))),
      0,
    );
  });
});
