import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { StudyEncoder } from '../../src/core/studyPage/encoder';
import { ImportanceService } from '../../src/core/studyPage/importance';
import { HandJournal, dist } from '../helpers/handJournal';

const ctx = {
  sources: [],
  store: { state: 'redis' as const, detail: '' },
  live: true,
  canWrite: true,
};

describe('importance service', () => {
  it('computes only when the number of COMPLETE trials changed, and not more often than every few seconds', async () => {
    const j = new HandJournal().study('study');
    const add = (k: number) => {
      const t = j.trial('w', k, {
        x: [k / 40, dist.float(0, 1)],
        y: [((k * 7) % 40) / 40, dist.float(0, 1)],
      });
      j.finish('w', t, k + 1, [k / 40]);
    };
    for (let k = 0; k < 30; k++) add(k);
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    const svc = new ImportanceService(undefined);
    const first = await svc.update(enc, ['MINIMIZE'], true, 0);
    assert.equal(first?.completeCount, 30);
    assert.equal(first?.objectives[0].params[0].name, 'x', 'the value is x: x matters most');
    assert.equal(await svc.update(enc, ['MINIMIZE'], true, 1), undefined, 'same count: nothing');
    j.trial('w', 100); // RUNNING: the COMPLETE count stays
    enc.update(j.merged(), ctx);
    assert.equal(await svc.update(enc, ['MINIMIZE'], false, 10_000), undefined);
    add(31);
    enc.update(j.merged(), ctx);
    assert.equal(
      await svc.update(enc, ['MINIMIZE'], false, 1_000),
      undefined,
      'too soon after the last',
    );
    const again = await svc.update(enc, ['MINIMIZE'], false, 10_000);
    assert.equal(again?.completeCount, 31);
  });

  it('computes in a worker thread that lives for one computation only', async () => {
    const j = new HandJournal().study('study');
    for (let k = 0; k < 30; k++) {
      const t = j.trial('w', k, {
        x: [k / 40, dist.float(0, 1)],
        y: [(k % 7) / 7, dist.float(0, 1)],
      });
      j.finish('w', t, k + 1, [k / 40]);
    }
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    // The worker's source (test/helpers/importanceWorker.js loads it under tsx).
    const svc = new ImportanceService(path.resolve(__dirname, '../helpers/importanceWorker.js'));
    try {
      const pending = svc.update(enc, ['MINIMIZE'], true, 0);
      assert.ok(svc.computing, 'a worker computes');
      const result = await pending;
      assert.equal(
        result?.objectives[0].params[0].name,
        'x',
        "the worker's answer: x matters most",
      );
      assert.equal(svc.computing, false, 'no worker kept (and no memory) after the result');
    } finally {
      svc.dispose();
    }
  });

  it('a page closed mid-computation stops its worker and reports nothing', async () => {
    const j = new HandJournal().study('study');
    for (let k = 0; k < 30; k++) {
      const t = j.trial('w', k, { x: [k / 40, dist.float(0, 1)] });
      j.finish('w', t, k + 1, [k / 40]);
    }
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    const svc = new ImportanceService(path.resolve(__dirname, '../helpers/importanceWorker.js'));
    const pending = svc.update(enc, ['MINIMIZE'], true, 0);
    svc.dispose();
    assert.equal(await pending, undefined);
    assert.equal(svc.computing, false);
  });
});
