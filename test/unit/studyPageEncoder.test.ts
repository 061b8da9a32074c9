import * as assert from 'node:assert/strict';
import { type EncoderContext, StudyEncoder } from '../../src/core/studyPage/encoder';
import type { DeltaMessage, RowBlock, SnapshotMessage } from '../../src/core/studyPage/protocol';
import { HandJournal, type Params, dist } from '../helpers/handJournal';

const ctx: EncoderContext = {
  sources: ['test'],
  store: { state: 'redis', detail: '' },
  live: true,
  canWrite: true,
};

const ints = (b: ArrayBuffer | undefined) => [...new Int32Array(b!)];
const floats = (b: ArrayBuffer | undefined) => [...new Float64Array(b!)];
const bytes = (b: ArrayBuffer) => [...new Uint8Array(b)];
const rowsOf = (b: RowBlock) => (b.rows ? ints(b.rows) : [...Array(b.n).keys()]);

/** A study with two finished trials and one RUNNING trial with an intermediate value. */
function started(): { j: HandJournal; running: number } {
  const j = new HandJournal().study('study');
  const p = (x: number, opt: number): Params => ({
    x: [x, dist.float(0, 1)],
    opt: [opt, dist.cat(['adam', 'sgd'])],
  });
  const a = j.trial('w-1', 0, p(0.5, 1));
  j.finish('w-1', a, 10, [2.5]);
  const b = j.trial('w-2', 1, p(0.25, 0));
  j.finish('w-2', b, 12, [1.5]);
  const running = j.trial('w-1', 11, p(0.75, 0));
  j.report('w-1', running, 0, 9.0);
  return { j, running };
}

describe('study page encoder (columns, snapshot and deltas)', () => {
  it('encodes a study as columns with dictionaries, counts and the best trial', () => {
    const { j } = started();
    const snap = new StudyEncoder().snapshot(j.merged(), ctx);
    assert.equal(snap.type, 'snapshot');
    assert.equal(snap.block.n, 3);
    assert.equal(snap.block.rows, undefined);
    assert.deepEqual(ints(snap.block.number), [0, 1, 2]);
    assert.deepEqual(bytes(snap.block.state), [1, 1, 0]);
    assert.deepEqual(floats(snap.block.values[0]).slice(0, 2), [2.5, 1.5]);
    assert.ok(Number.isNaN(floats(snap.block.values[0])[2]));
    assert.deepEqual(bytes(snap.block.hasValues), [1, 1, 0]);
    assert.deepEqual(ints(snap.block.steps), [0, 0, 1]);
    assert.deepEqual(
      snap.dict.params.map((p) => [p.name, p.kind]),
      [
        ['x', 'float'],
        ['opt', 'categorical'],
      ],
    );
    assert.deepEqual(floats(snap.block.params[0].num), [0.5, 0.25, 0.75]);
    // Only what a kind uses travels: numbers for a float param, label codes for a categorical one.
    assert.equal(snap.block.params[0].cat, undefined);
    assert.equal(snap.block.params[1].num, undefined);
    const labels = snap.dict.paramLabels[1];
    assert.deepEqual(
      ints(snap.block.params[1].cat).map((c) => labels[c]),
      ['sgd', 'adam', 'adam'],
    );
    assert.deepEqual(snap.dict.workers, []);
    assert.deepEqual(snap.header.counts, {
      RUNNING: 1,
      COMPLETE: 2,
      PRUNED: 0,
      FAIL: 0,
      WAITING: 0,
    });
    assert.deepEqual(snap.header.best, { number: 1, value: 1.5, row: 1 });
  });

  it('names journal workers by dictionary code when it knows them', () => {
    const { j } = started();
    const snap = new StudyEncoder().snapshot(j.merged(), {
      ...ctx,
      workerOf: (t) => j.replay.activity.workerName(j.replay.activity.ownerOf(t.trial.trialId)),
    });
    const w = ints(snap.block.worker).map((c) => snap.dict.workers[c]);
    assert.deepEqual(w, ['w-1', 'w-2', 'w-1']);
  });

  it('sends nothing while a RUNNING trial stays RUNNING and unchanged', () => {
    const { j } = started();
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    assert.equal(enc.update(j.merged(), ctx), undefined);
    assert.equal(enc.update(j.merged(), ctx), undefined);
  });

  it('sends only the rows that are new or changed, never finished ones again', () => {
    const { j, running } = started();
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    j.report('w-1', running, 1, 8.0);
    let d = enc.update(j.merged(), ctx) as DeltaMessage;
    assert.equal(d.type, 'delta');
    assert.deepEqual(rowsOf(d.block), [2]);
    assert.deepEqual(ints(d.block.steps), [2]);

    const t = j.trial('w-2', 13, { x: [0.1, dist.float(0, 1)] });
    d = enc.update(j.merged(), ctx) as DeltaMessage;
    assert.deepEqual(rowsOf(d.block), [3]);
    assert.deepEqual(ints(d.block.number), [3]);
    assert.equal(d.header.counts.RUNNING, 2);

    j.finish('w-1', running, 20, [0.5]);
    j.finish('w-2', t, 21, [3]);
    d = enc.update(j.merged(), ctx) as DeltaMessage;
    assert.deepEqual(rowsOf(d.block), [2, 3]);
    assert.deepEqual(d.header.best, { number: 2, value: 0.5, row: 2 });
    assert.equal(d.header.counts.COMPLETE, 4);

    // Everything finished: a later new trial sends that row alone.
    j.trial('w-1', 30);
    d = enc.update(j.merged(), ctx) as DeltaMessage;
    assert.deepEqual(rowsOf(d.block), [4]);
    assert.equal(enc.update(j.merged(), ctx), undefined);
  });

  it('announces new params and labels in deltas, and only those', () => {
    const { j, running } = started();
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    j.param('w-1', running, 'depth', 3, dist.int(1, 8));
    j.param('w-1', running, 'act', 1, dist.cat(['relu', 'gelu']));
    const d = enc.update(j.merged(), ctx) as DeltaMessage;
    assert.deepEqual(
      d.dict.params.map((p) => [p.name, p.kind]),
      [
        ['depth', 'int'],
        ['act', 'categorical'],
      ],
    );
    assert.deepEqual(d.dict.paramLabels, { 3: ['gelu'] });
    assert.equal(d.block.params.length, 4);
  });

  it('keeps NaN and ±inf values apart from missing ones', () => {
    const j = new HandJournal().study('study');
    for (const [i, v] of [NaN, Infinity, -Infinity, null].entries()) {
      const t = j.trial('w', i);
      j.finish('w', t, 30, v === null ? null : [v], v === null ? 'FAIL' : 'COMPLETE');
    }
    const snap = new StudyEncoder().snapshot(j.merged(), ctx);
    const v = floats(snap.block.values[0]);
    assert.ok(Number.isNaN(v[0]));
    assert.deepEqual(v.slice(1, 3), [Infinity, -Infinity]);
    assert.deepEqual(bytes(snap.block.hasValues), [1, 1, 1, 0]);
    // The best value is a number: NaN is never best.
    assert.deepEqual(snap.header.best, { number: 2, value: -Infinity, row: 2 });
  });

  it('marks a param whose type changes between trials as mixed, and says so', () => {
    const j = new HandJournal().study('study');
    j.trialWith('w', 0, { p: [0.5, dist.float(0, 1)] });
    j.trialWith('w', 1, { p: [1, dist.cat(['a', 'b'])] });
    const snap = new StudyEncoder().snapshot(j.merged(), ctx);
    assert.equal(snap.dict.params[0].kind, 'mixed');
    assert.deepEqual(floats(snap.block.params[0].num), [0.5, 1]);
    assert.deepEqual(ints(snap.block.params[0].cat), [-1, 0]);
    assert.match(snap.notes.join('\n'), /"p" changes type between trials \(Float, Categorical\)/);
  });

  it('holds 400 params when they fit the cell budget, and names those left out when not', () => {
    const j = new HandJournal().study('study');
    const params: Params = {};
    for (let k = 0; k < 400; k++) params[`p${k}`] = [k / 400, dist.float(0, 1)];
    for (let i = 0; i < 20; i++) j.trial('w', i, params);
    const snap = new StudyEncoder().snapshot(j.merged(), ctx);
    assert.equal(snap.dict.params.length, 400);
    assert.deepEqual(snap.notes, []);
    const small = new StudyEncoder(100 * 1000).snapshot(j.merged(), ctx);
    assert.equal(small.dict.params.length, 100);
    assert.match(small.notes[0], /^300 of 400 params are left out of the table and plots/);
  });

  it('encodes a study with no trials, and one with five objectives', () => {
    const empty = new HandJournal().study('study');
    const s0 = new StudyEncoder().snapshot(empty.merged(), ctx);
    assert.equal(s0.block.n, 0);
    assert.equal(s0.header.best, undefined);
    const j = new HandJournal().study('study', [
      'MINIMIZE',
      'MAXIMIZE',
      'MINIMIZE',
      'MAXIMIZE',
      'MINIMIZE',
    ]);
    const t = j.trial('w', 0);
    j.finish('w', t, 1, [1, 2, 3, 4, 5]);
    const s5 = new StudyEncoder().snapshot(j.merged(), ctx);
    assert.equal(s5.block.values.length, 5);
    assert.deepEqual(
      s5.block.values.map((b) => floats(b)[0]),
      [1, 2, 3, 4, 5],
    );
    assert.equal(s5.header.best, undefined);
  });

  it('sends a fresh snapshot when the study was deleted and created again under its name', () => {
    const { j } = started();
    const enc = new StudyEncoder();
    const first = enc.snapshot(j.merged(), ctx);
    j.deleteStudy('w', 0);
    j.study('study');
    const m = j.merged();
    const again = enc.update(m, ctx) as SnapshotMessage;
    assert.equal(again.type, 'snapshot');
    assert.equal(again.generation, first.generation + 1);
    assert.equal(again.block.n, 0);
  });

  it('finds the trial behind a row, for export, reveal and Mark as FAIL', () => {
    const { j, running } = started();
    const enc = new StudyEncoder();
    enc.snapshot(j.merged(), ctx);
    assert.equal(enc.trialAt(j.merged(), 2)?.trial.trialId, running);
    assert.equal(enc.trialAt(j.merged(), 7), undefined);
  });
});
