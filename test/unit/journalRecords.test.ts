import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  categoricalDistribution,
  floatDistribution,
  internalRepr,
  intDistribution,
} from '../../src/core/optuna/distributions';
import { JournalRecords, optunaNow } from '../../src/core/optuna/journal/records';
import { WorkerIndex } from '../../src/core/optuna/journal/workerIndex';
import { builderRecords, maskRecord } from '../fixtures/journalRecords';
import { FIXTURES } from '../helpers/python';

describe('journal record builder', () => {
  it('writes what real Optuna wrote for the same storage calls, byte for byte', () => {
    // Recorded from Optuna 3.1's JournalRedisStorage by journal_records.py; the integration
    // test re-records it live with Optuna 3.1, 3.6, 4.9 and 5.0 and checks it is unchanged.
    const file = path.join(FIXTURES, 'journal_records.optuna-3.1.0.log');
    const optuna = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map(maskRecord);
    const ours = builderRecords().map(maskRecord);
    assert.equal(ours.length, optuna.length, 'number of records');
    for (let i = 0; i < ours.length; i++) assert.equal(ours[i], optuna[i], `record ${i}`);
  });

  it('maps external values to internal ones with Python ==, NaN equal to NaN', () => {
    const cat = categoricalDistribution([null, true, 3n, 2.5, 'adam', NaN, 3]);
    assert.equal(internalRepr(cat, null), 0n);
    assert.equal(internalRepr(cat, 1), 1n, '1 == True: the first equal choice wins');
    assert.equal(internalRepr(cat, 3), 2n, '3 == 3n');
    assert.equal(internalRepr(cat, 2.5), 3n);
    assert.equal(internalRepr(cat, NaN), 5n);
    assert.throws(() => internalRepr(cat, 'sgd'), /"sgd" is not one of the choices/);
    assert.equal(internalRepr(intDistribution(0, 9), 3n), 3);
    assert.equal(internalRepr(floatDistribution(0, 1), 0.5), 0.5);
  });

  it("writes datetimes as Optuna's naive isoformat with microseconds", () => {
    assert.match(optunaNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  });

  it("assigns ids and decides the WAITING-pop race as Optuna's replay does", () => {
    const a = new JournalRecords('A');
    const b = new JournalRecords('B');
    const ia = new WorkerIndex('A');
    const log = [
      a.createStudy('s'),
      b.createStudy('s'),
      b.createStudy('t'),
      a.enqueueTrial(0, { x: 1n }),
      b.createTrial(1, 'D'),
      a.createTrial(0, 'D'),
      a.createTrial(7, 'D'),
    ];
    for (const l of log) ia.apply(l);
    assert.equal(ia.studyId('s'), 0, 'a second CREATE_STUDY with a live name is ignored');
    assert.equal(ia.studyId('t'), 1);
    assert.equal(ia.lastCreated, 2, 'trial ids are global; a trial on a missing study is ignored');
    assert.equal(ia.trials[2].number, 1);
    assert.deepEqual(
      ia.waiting(0).map((t) => [t.trialId, t.fixedParams]),
      [[0, { x: 1 }]],
    );
    // Both pop trial 0: B's RUNNING comes first, A's is ignored; A keeps owning trial 2.
    ia.apply(b.setTrialStateValues(0, 'RUNNING', null, 'D'));
    ia.apply(a.setTrialStateValues(0, 'RUNNING', null, 'D'));
    assert.equal(ia.owned, 2);
    assert.deepEqual(ia.waiting(0), []);
    // Finished trials do not change; an unknown state is ignored, as Optuna refuses it.
    ia.apply(a.setTrialStateValues(2, 'COMPLETE', [1], 'D'));
    ia.apply(a.setTrialStateValues(2, 'RUNNING', null, 'D'));
    assert.equal(ia.trials[2].state, 'COMPLETE');
    ia.apply(b.deleteStudy(1));
    assert.equal(ia.studyId('t'), undefined);
    ia.apply(a.createTrial(1, 'D'));
    assert.equal(ia.trials.length, 3, 'a trial of a deleted study is ignored');
    ia.apply('{"op_code": 6, "worker_id": "B", "trial_id": 0, "state": 9, "values": [NaN]}');
    assert.equal(ia.trials[0].state, 'RUNNING');
    assert.equal(ia.entries, log.length + 7);
  });
});
