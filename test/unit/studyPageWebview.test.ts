import * as assert from 'node:assert/strict';
import { type EncoderContext, StudyEncoder, splitSnapshot } from '../../src/core/studyPage/encoder';
import type { DeltaMessage, SnapshotMessage } from '../../src/core/studyPage/protocol';
import { historyOption } from '../../src/webview/studyPage/charts/history';
import { parallelAxes } from '../../src/webview/studyPage/charts/parallel';
import { paretoFront } from '../../src/webview/studyPage/charts/pareto';
import { timelineLanes } from '../../src/webview/studyPage/charts/timeline';
import type { Palette } from '../../src/webview/studyPage/palette';
import { PageStore } from '../../src/webview/studyPage/store';
import {
  filterMask,
  formatNumber,
  mergeSorted,
  sortRows,
  tableColumns,
  visibleRows,
} from '../../src/webview/studyPage/table.model';
import { f64 } from '../../src/core/studyPage/growable';
import { HandJournal, dist } from '../helpers/handJournal';

const ctx: EncoderContext = {
  sources: [],
  store: { state: 'redis', detail: '' },
  live: true,
  canWrite: true,
};

/** A study with ten finished trials and one RUNNING. */
function journal(): { j: HandJournal; running: number } {
  const j = new HandJournal().study('study');
  for (let k = 0; k < 10; k++) {
    const t = j.trial(k % 2 ? 'w-a' : 'w-b', k * 10, {
      lr: [10 ** -(k % 4) / 10, dist.float(1e-5, 1, true)],
      opt: [k % 3, dist.cat(['adam', 'sgd', 'rmsprop'])],
    });
    j.finish(k % 2 ? 'w-a' : 'w-b', t, k * 10 + 5, [10 - k]);
  }
  const running = j.trial('w-a', 200, { lr: [0.5, dist.float(1e-5, 1, true)] });
  return { j, running };
}

describe('study page webview model (store, sort, filters, plots data)', () => {
  it('rebuilds the host columns from a snapshot and keeps them in step with deltas', () => {
    const { j, running } = journal();
    const enc = new StudyEncoder();
    const store = new PageStore();
    store.apply(enc.snapshot(j.merged(), ctx) as SnapshotMessage);
    assert.equal(store.count, 11);
    assert.equal(store.stateName(10), 'RUNNING');
    assert.equal(store.cell(store.params[1], 2), 'rmsprop');
    j.finish('w-a', running, 300, [0.5]);
    j.trial('w-b', 301, { depth: [4, dist.int(1, 8)] });
    const d = enc.update(j.merged(), ctx) as DeltaMessage;
    assert.deepEqual(store.apply(d), [10, 11]);
    assert.equal(store.count, 12);
    assert.equal(store.stateName(10), 'COMPLETE');
    assert.equal(store.values[0].data[10], 0.5);
    assert.equal(store.params[2].meta.name, 'depth');
    assert.equal(store.cell(store.params[2], 11), 4);
    assert.equal(store.cell(store.params[2], 3), undefined);
    assert.equal(store.rowOf(11), 11);
    // A delta of another generation is ignored.
    assert.deepEqual(store.apply({ ...d, generation: 99 }), []);
  });

  it('makes room for new rows ahead, so a live update writes in place', () => {
    const { j, running } = journal();
    const enc = new StudyEncoder();
    const store = new PageStore();
    store.apply(enc.snapshot(j.merged(), ctx) as SnapshotMessage);
    store.reserve(64);
    const held = [store.number.data, store.values[0].data, store.params[0].num.data];
    assert.ok(held.every((d) => d.length >= 64));
    assert.ok(Number.isNaN(store.values[0].data[40]), 'new cells hold the fill value');
    j.finish('w-a', running, 300, [0.5]);
    j.trial('w-b', 301, { lr: [0.25, dist.float(1e-5, 1, true)] });
    assert.deepEqual(store.apply(enc.update(j.merged(), ctx) as DeltaMessage), [10, 11]);
    assert.deepEqual(
      [store.number.data, store.values[0].data, store.params[0].num.data],
      held,
      'the same arrays: nothing copied',
    );
    assert.equal(store.count, 12);
    assert.equal(store.values[0].data[10], 0.5);
    assert.equal(store.cell(store.params[0], 11), 0.25);
  });

  it('grows a column that arrived empty (doubling from 0 would never get there)', () => {
    const g = f64();
    g.data = new Float64Array(0);
    g.ensure(5);
    assert.ok(g.data.length >= 5);
    assert.ok(Number.isNaN(g.data[4]));
  });

  it('takes a snapshot in two parts: rows and values first, params and the rest right after', () => {
    const { j } = journal();
    const store = new PageStore();
    const [rows, rest] = splitSnapshot(new StudyEncoder().snapshot(j.merged(), ctx));
    assert.equal(rows.block.params.length, 0);
    assert.equal(rows.block.worker, undefined);
    store.apply(rows);
    assert.equal(store.count, 11);
    assert.equal(store.values[0].data[3], 7);
    assert.equal(store.cell(store.params[0], 3), undefined, 'params not in yet');
    assert.ok(store.applyColumns(rest));
    assert.equal(store.cell(store.params[1], 2), 'rmsprop');
    assert.equal(store.steps.data[0], 0);
    assert.equal(
      store.applyColumns({ ...rest, generation: 42 }),
      false,
      'another snapshot: ignored',
    );
  });

  it('sorts by any column with missing values last, and merges live rows into the order', () => {
    const { j } = journal();
    const store = new PageStore();
    const enc = new StudyEncoder();
    store.apply(enc.snapshot(j.merged(), ctx) as SnapshotMessage);
    const cols = tableColumns(store);
    const value = cols.find((c) => c.id === 'value0')!;
    assert.deepEqual(
      [...sortRows(store.count, value.key, false)],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10],
    );
    assert.deepEqual(
      [...sortRows(store.count, value.key, true)],
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    const opt = cols.find((c) => c.title === 'opt')!;
    // adam (0, 3, 6, 9), rmsprop (2, 5, 8), sgd (1, 4, 7); then the running trial without it.
    assert.deepEqual(
      [...sortRows(store.count, opt.key, false)],
      [0, 3, 6, 9, 2, 5, 8, 1, 4, 7, 10],
    );
    // Merging changed rows gives what a full sort gives.
    const order = sortRows(store.count, value.key, false);
    store.values[0].data[3] = 100;
    store.values[0].data[5] = -1;
    const merged = mergeSorted(order, [3, 5], value.key, false);
    assert.deepEqual([...merged], [...sortRows(store.count, value.key, false)]);
  });

  it('merges changed and new rows into a sorted order as a full sort would (random keys, ties, NaN)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rnd() * 60);
      // Few distinct keys (ties), some NaN (rows without a value).
      const keys = Array.from({ length: n }, () => (rnd() < 0.15 ? NaN : Math.floor(rnd() * 8)));
      const descending = rnd() < 0.5;
      const old = Math.floor(rnd() * n);
      const order = sortRows(old, (r) => keys[r], descending);
      const changed = new Set<number>();
      for (let r = old; r < n; r++) changed.add(r); // the new rows
      for (let k = 0; k < 3; k++)
        if (old > 0 && rnd() < 0.7) {
          const r = Math.floor(rnd() * old);
          changed.add(r);
          keys[r] = rnd() < 0.2 ? NaN : Math.floor(rnd() * 8);
        }
      const merged = mergeSorted(order, [...changed], (r) => keys[r], descending);
      assert.deepEqual(
        [...merged],
        [...sortRows(n, (r) => keys[r], descending)],
        `round ${round}: ${n} rows, ${old} sorted before, changed ${[...changed]}`,
      );
    }
  });

  it('combines the state filter, the expression and a brush into one mask', () => {
    const { j } = journal();
    const store = new PageStore();
    store.apply(new StudyEncoder().snapshot(j.merged(), ctx) as SnapshotMessage);
    const cols = tableColumns(store);
    const order = sortRows(store.count, (r) => r, false);
    const rows = (opts: Parameters<typeof filterMask>[2]) => [
      ...visibleRows(order, filterMask(store, cols, opts).mask),
    ];
    assert.deepEqual(rows({ expression: 'lr < 0.005 and state == COMPLETE' }), [2, 3, 6, 7]);
    assert.deepEqual(rows({ expression: 'opt == "sgd" or value > 8.5' }), [0, 1, 4, 7]);
    assert.deepEqual(rows({ states: new Set(['RUNNING']) }), [10]);
    const brush = new Uint8Array(store.count);
    brush[2] = brush[3] = brush[4] = 1;
    assert.deepEqual(rows({ expression: 'value < 8', brush }), [3, 4]);
    const bad = filterMask(store, cols, { expression: 'lrr < 1' });
    assert.match(bad.error!, /^unknown name "lrr"; names are number, state, value/);
    assert.equal(rows({}).length, 11);
  });

  it('sorts 100,000 rows (a permutation, the columns stay put)', () => {
    const n = 100_000;
    const keys = new Float64Array(n);
    for (let r = 0; r < n; r++) keys[r] = Math.sin(r) * 1e6;
    keys[17] = NaN;
    const perm = sortRows(n, (r) => keys[r], false);
    assert.equal(perm.length, n);
    for (let k = 1; k < n - 1; k++) assert.ok(keys[perm[k - 1]] <= keys[perm[k]]);
    assert.equal(perm[n - 1], 17);
  });

  it('finds the Pareto front, lanes per worker, and the parallel axes', () => {
    assert.deepEqual(
      paretoFront([
        [1, 5],
        [2, 2],
        [3, 3],
        [5, 1],
        [2, 2],
        [4, 0.5],
      ]).sort(),
      [0, 1, 4, 5], // [3, 3] is dominated by [2, 2]; [5, 1] by [4, 0.5]; duplicates both stay
    );
    const { j } = journal();
    const store = new PageStore();
    store.apply(
      new StudyEncoder().snapshot(j.merged(), {
        ...ctx,
        workerOf: (t) => j.replay.activity.workerName(j.replay.activity.ownerOf(t.trial.trialId)),
      }) as SnapshotMessage,
    );
    const lanes = timelineLanes(store, Date.now());
    assert.equal(lanes.names.length, 2);
    assert.deepEqual([...lanes.lane.slice(0, 4)], [0, 1, 0, 1]);
    const axes = parallelAxes(store, undefined);
    assert.deepEqual(
      axes.map((a) => a.name),
      ['lr', 'opt', 'value'],
    );
    assert.deepEqual(axes[1].categories, ['adam', 'rmsprop', 'sgd']);
    assert.equal(axes[1].value(1), 2);
  });

  it('plots the history by trial number, whether or not the rows are in that order', () => {
    const pal: Palette = {
      ...{ fg: '#000', muted: '#555', bg: '#fff', grid: '#ccc', accent: '#00f' },
      ...{ best: '#f00', front: '#f00', states: {}, series: [], font: 'sans-serif' },
    };
    const { j } = journal();
    const store = new PageStore();
    store.apply(new StudyEncoder().snapshot(j.merged(), ctx) as SnapshotMessage);
    const points = () => {
      const built = historyOption(store, 0, { log: false, includePruned: true }, pal);
      const series = (built.option as { series: Array<{ data: Float64Array }> }).series;
      return { complete: [...series[0].data], best: [...series[2].data] };
    };
    // Values 10, 9, …, 1 by trial number (minimized): each trial is the best so far.
    const inOrder = points();
    assert.deepEqual(
      inOrder.complete,
      [0, 10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 5, 6, 4, 7, 3, 8, 2, 9, 1],
    );
    assert.deepEqual(inOrder.best, inOrder.complete);
    // Rows out of number order (SQLite-only trials come after Redis's): sorted by number.
    const num = store.number.data;
    [num[0], num[9]] = [num[9], num[0]];
    const swapped = points();
    assert.deepEqual(swapped.complete.slice(0, 4), [0, 1, 1, 9]);
    assert.deepEqual(swapped.complete.slice(-2), [9, 10]);
    assert.deepEqual(swapped.best, [0, 1, 9, 1], 'trial 0 (value 1) is the best throughout');
  });

  it('formats numbers for the table', () => {
    assert.deepEqual([0.1234567, 12, 1e-7, 3.5e12, 2.5e9, NaN, -Infinity].map(formatNumber), [
      '0.123457',
      '12',
      '1.0000e-7',
      '3500000000000',
      '2500000000',
      'NaN',
      '-inf',
    ]);
  });
});
