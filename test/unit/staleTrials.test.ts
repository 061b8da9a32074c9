import * as assert from 'node:assert/strict';
import { StudyEncoder } from '../../src/core/studyPage/encoder';
import {
  type StaleContext,
  type StaleVerdict,
  classifyStale,
  formatDuration,
} from '../../src/core/studyPage/stale';
import { HandJournal, atMs } from '../helpers/handJournal';

const W1 = 'c0ffee00-1111-4000-8000-000000000001-140';
const W2 = 'c0ffee00-2222-4000-8000-000000000002-140';
const W3 = 'c0ffee00-3333-4000-8000-000000000003-77';

function classify(j: HandJournal, ctx: Partial<StaleContext> & { now: number }): StaleVerdict[] {
  const enc = new StudyEncoder();
  enc.snapshot(j.merged(), {
    sources: [],
    store: { state: 'redis', detail: '' },
    live: true,
    canWrite: true,
  });
  return classifyStale(enc.columns(), { journal: j.replay.activity, ...ctx });
}

/** Reasons by trial number. */
function reasons(v: StaleVerdict[]): Record<number, string[]> {
  return Object.fromEntries(v.map((x) => [x.number, x.reasons]));
}

describe('stale (zombie) RUNNING trials', () => {
  it('flags a trial whose worker has since started another trial', () => {
    const j = new HandJournal().study('study');
    j.trial(W1, 0); // #0: its write of the result was lost, the worker went on
    const b = j.trial(W1, 100);
    j.finish(W1, b, 150, [1]);
    j.trial(W2, 140); // #2: healthy, running
    const r = reasons(classify(j, { now: atMs(160) }));
    assert.deepEqual(r, { 0: ['its worker (c0ffee00…-140) has since started trial #1'] });
  });

  it('flags a trial whose worker fell silent while the others went on writing', () => {
    const j = new HandJournal().study('study');
    // W1 reports every second during its 100 s trials; W2 runs short trials.
    for (let k = 0; k < 3; k++) {
      const t = j.trial(W1, k * 100);
      for (let s = 0; s < 99; s++) j.report(W1, t, s, s);
      j.finish(W1, t, k * 100 + 100, [k]);
    }
    const zombie = j.trial(W1, 300);
    for (let s = 0; s < 5; s++) j.report(W1, zombie, s, s);
    for (let k = 0; k < 12; k++) {
      const t = j.trial(W2, 300 + k * 10);
      j.finish(W2, t, 300 + k * 10 + 9, [k]);
    }
    const r = reasons(classify(j, { now: atMs(420) }));
    assert.deepEqual(Object.keys(r), [String(3)]);
    assert.ok(
      r[3].some((x) =>
        /^its worker has written nothing for 2 min while others went on \(it usually writes every 1 s\)$/.test(
          x,
        ),
      ),
      r[3].join('\n'),
    );
  });

  it('flags a trial whose intermediate values stopped coming, though its worker still writes', () => {
    const j = new HandJournal().study('study');
    const t = j.trial(W1, 0);
    // Intermediate values carry no time: W2's timed records around them date them (~10 s apart).
    for (let s = 0; s < 10; s++) {
      const other = j.trial(W2, s * 10 + 1);
      j.finish(W2, other, s * 10 + 9, [s]);
      j.report(W1, t, s, s);
    }
    const last = j.trial(W2, 500);
    j.finish(W2, last, 590, [0]);
    j.userAttr(W1, t, { alive: 1 }); // the worker still writes; the trial is stuck
    const r = reasons(classify(j, { now: atMs(600) }));
    assert.ok(
      r[0].includes('no new intermediate value for 8 min (it reported one every 10 s)'),
      r[0].join('\n'),
    );
    assert.ok(!r[0].some((x) => x.startsWith('its worker has written nothing')));
  });

  it('flags a trial of a run started from the extension whose process is gone', () => {
    const j = new HandJournal().study('study');
    j.trial(W1, 10); // #0 during the run that died
    j.trial(W2, 60); // #1 after it: someone else's
    const runs = [
      {
        label: 'tpe multistage #3',
        startedAt: atMs(0),
        endedAt: atMs(50),
        alive: false,
        ended: 'exited with code 137',
      },
    ];
    const r = reasons(classify(j, { now: atMs(70), runs }));
    assert.deepEqual(Object.keys(r), ['0']);
    assert.match(
      r[0][0],
      /^the run "tpe multistage #3" that was writing this study has ended \(exited with code 137\) at /,
    );
    // While a run covering its start is alive, nothing is said.
    const alive = [...runs, { label: 'tpe #4', startedAt: atMs(5), alive: true }];
    assert.deepEqual(classify(j, { now: atMs(70), runs: alive }), []);
  });

  it("flags a trial running far longer than the study's finished trials took", () => {
    const j = new HandJournal().study('study');
    j.trial(W3, 0); // #0 running since the start
    for (let k = 0; k < 10; k++) {
      const t = j.trial(W2, k * 10);
      j.finish(W2, t, k * 10 + 10, [k]);
    }
    const r = reasons(classify(j, { now: atMs(1000) }));
    assert.deepEqual(r, {
      0: [
        "running for 17 min; the study's finished trials took 10 s (median), at most 10 s for 95%",
      ],
    });
    // Not yet far longer (three times the 95th percentile, at least a minute): nothing.
    assert.deepEqual(classify(j, { now: atMs(50) }), []);
  });

  it('flags an SQLite trial whose heartbeat is older than the grace period', () => {
    const cols = {
      rows: 3,
      state: Uint8Array.of(0, 0, 1),
      start: Float64Array.of(0, 0, 0),
      complete: Float64Array.of(NaN, NaN, 10),
      steps: new Int32Array(3),
      trialId: Int32Array.of(7, 8, 9),
      number: Int32Array.of(0, 1, 2),
      sqliteOnly: Uint8Array.of(1, 1, 1),
    };
    const v = classifyStale(cols, {
      now: 400_000,
      heartbeats: {
        at: new Map([
          [7, 100_000],
          [8, 370_000],
        ]),
        dbNow: 400_000,
        graceMs: 120_000,
      },
    });
    assert.deepEqual(reasons(v), { 0: ["no heartbeat for 5 min (Optuna's grace period: 2 min)"] });
  });

  it('says nothing about a healthy study, and nothing without RUNNING trials', () => {
    const j = new HandJournal().study('study');
    for (let k = 0; k < 6; k++) {
      const t = j.trial(k % 2 ? W1 : W2, k * 10);
      j.finish(k % 2 ? W1 : W2, t, k * 10 + 8, [k]);
    }
    assert.deepEqual(classify(j, { now: atMs(70) }), []);
    j.trial(W1, 60);
    j.trial(W2, 61);
    assert.deepEqual(classify(j, { now: atMs(75) }), []);
  });

  it('writes durations for people', () => {
    assert.deepEqual(
      [450, 5_000, 89_000, 600_000, 3 * 3600_000 + 10 * 60_000, 50 * 3600_000].map(formatDuration),
      ['450 ms', '5 s', '89 s', '10 min', '3 h 10 min', '2 d 2 h'],
    );
  });
});
