import { studyToJson } from '../../src/core/optuna/dumpFormat';
import * as assert from 'node:assert/strict';
import { JournalReplay } from '../../src/core/optuna/replay';
import { extraRules, optunaCompatibleRules } from '../fixtures/replayRules';

function replay(lines: string[]): JournalReplay {
  const r = new JournalReplay();
  lines.forEach((l, i) => r.applyText(i, l));
  return r;
}

describe('journal replay (Optuna rules)', () => {
  const r = replay(optunaCompatibleRules());
  const byName = (n: string) => r.allStudies().find((s) => s.name === n)!;

  it('assigns study ids from accepted CREATE_STUDY only and never reuses deleted ids', () => {
    assert.deepEqual(
      r.allStudies().map((s) => [s.studyId, s.name, s.directions]),
      [
        [0, 'alpha', ['MINIMIZE']],
        [1, 'beta', ['MINIMIZE', 'MAXIMIZE']],
        [3, 'gamma', ['MAXIMIZE']],
      ],
    );
  });

  it('numbers trials per study and ids globally, deleted studies included', () => {
    assert.deepEqual(
      byName('alpha').trials.map((t) => [t.trialId, t.number]),
      [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
    );
    assert.deepEqual(
      byName('beta').trials.map((t) => [t.trialId, t.number]),
      [
        [3, 0],
        [4, 1],
      ],
    );
    assert.deepEqual(
      byName('gamma').trials.map((t) => [t.trialId, t.number]),
      [[6, 0]],
    );
    assert.equal(r.trialCount, 7);
  });

  it('applies params with external values and ignores incompatible distributions', () => {
    const [t0, t1] = byName('alpha').trials;
    assert.deepEqual(t0.params, { x: 0.25, c: 'adam', n: 7 });
    assert.deepEqual(Object.keys(t1.params), ['c', 'y']);
    assert.equal(t1.params.c, 1); // accepted: its own choices equal the first trial's under Python ==
    assert.equal(t1.distributions.y.name, 'UniformDistribution');
  });

  it('ignores updates of finished trials and lets op 7 overwrite a step', () => {
    const t0 = byName('alpha').trials[0];
    assert.equal(t0.state, 'COMPLETE');
    assert.deepEqual(t0.values, [0.5]);
    assert.deepEqual(t0.intermediateValues, { '0': 0.8 });
    assert.deepEqual(t0.userAttrs, { big: 2n ** 62n + 1n });
    assert.equal(t0.datetimeComplete, '2026-11-26T10:00:01.500000');
  });

  it('lets only the first worker pop a WAITING trial, and keeps values when op 6 has none', () => {
    const t2 = byName('alpha').trials[2];
    assert.equal(t2.state, 'FAIL');
    assert.equal(t2.values, null);
    assert.equal(t2.datetimeStart, '2026-11-26T10:00:01.500000');
    assert.equal(byName('beta').trials[1].values, null);
    assert.equal(byName('beta').trials[1].state, 'COMPLETE');
  });

  it('creates template trials (add_trial) with non-finite values and attrs', () => {
    const t = byName('beta').trials[0];
    assert.equal(t.state, 'COMPLETE');
    assert.equal(t.values![0], 1);
    assert.ok(Number.isNaN(t.values![1]));
    assert.deepEqual(t.intermediateValues, { '3': 0.1, '1': -Infinity });
    assert.deepEqual(t.userAttrs, { u: [1, { k: Infinity }] });
    assert.deepEqual(byName('beta').userAttrs, { owner: 'me' });
    assert.deepEqual(byName('beta').systemAttrs, { nested: { a: [1, 2] } });
  });

  it('reports nothing for a journal Optuna accepts', () => {
    assert.deepEqual(r.issues, []);
  });

  it('skips unknown op codes silently and reports malformed and invalid entries by index', () => {
    const base = optunaCompatibleRules();
    const r2 = replay([...base, ...extraRules()]);
    assert.deepEqual(
      r2.issues.map((i) => [i.kind, i.index]),
      [
        ['malformed', base.length + 2],
        ['invalid-op', base.length + 3],
      ],
    );
    assert.match(r2.issues[1].message, /unknown trial state 9/);
    assert.equal(r2.trialCount, 7);
    assert.equal(r2.entriesRead, base.length + 4);
  });

  it('is incremental: feeding entries in two halves gives the same model', () => {
    const lines = optunaCompatibleRules();
    const a = new JournalReplay();
    lines.slice(0, 20).forEach((l, i) => a.applyText(i, l));
    lines.slice(20).forEach((l, i) => a.applyText(20 + i, l));
    assert.deepStrictEqual(a.allStudies().map(studyToJson), r.allStudies().map(studyToJson));
  });
});
