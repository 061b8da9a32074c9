import type { Trial } from '../optuna/model';
import type { MergedStudy } from '../storage/mergedView';
import type { StudyEncoder } from './encoder';
import { type CurvesMessage, StateCode } from './protocol';

/** Up to this many trials with intermediate values, every curve is drawn as a line. */
export const ALL_LINES_MAX = 100;
const BEST_K = 10;
const MAX_RUNNING = 50;
const MAX_SELECTED = 50;
const STEP_BINS = 120;
const VALUE_BINS = 80;
/** The heat layer of finished trials is rebuilt at most this often while trials keep finishing. */
const DENSITY_MIN_INTERVAL_MS = 10_000;

/**
 * Learning curves without drawing 100,000 lines: the best K finished trials, every RUNNING
 * trial and the trials the user selected as lines, all the other finished curves as a 2-D
 * histogram (steps × values). Finished curves never change, so the histogram is rebuilt only
 * when the count of finished trials changes, and not more often than every few seconds.
 */
export class CurveBuilder {
  private density: CurvesMessage['density'];
  private densityGen = -1;
  private densityFinished = -1;
  private densityAt = 0;
  private counted = { withCurves: 0, nonFinite: 0 };

  build(
    study: MergedStudy,
    enc: StudyEncoder,
    selected: number[],
    now = Date.now(),
  ): CurvesMessage {
    const cols = enc.columns();
    const lines: CurvesMessage['lines'] = [];
    const drawn = new Set<number>();
    const add = (row: number, role: CurvesMessage['lines'][number]['role']) => {
      if (drawn.has(row) || cols.steps[row] === 0) return;
      const t = enc.trialAt(study, row)?.trial;
      if (!t) return;
      const { steps, values } = curveOf(t);
      drawn.add(row);
      lines.push({
        row,
        number: cols.number[row],
        role,
        steps: steps.buffer as ArrayBuffer,
        values: values.buffer as ArrayBuffer,
      });
    };

    let withCurves = 0;
    for (let r = 0; r < cols.rows; r++) if (cols.steps[r] > 0) withCurves++;
    if (withCurves <= ALL_LINES_MAX) {
      for (let r = 0; r < cols.rows; r++) add(r, 'all');
      const nonFinite = lines.reduce((a, l) => a + countNonFinite(new Float64Array(l.values)), 0);
      return { type: 'curves', generation: enc.generation, lines, withCurves, nonFinite };
    }

    for (const r of selected.slice(0, MAX_SELECTED)) add(r, 'selected');
    let running = 0;
    for (let r = 0; r < cols.rows && running < MAX_RUNNING; r++)
      if (cols.state[r] === StateCode.Running && cols.steps[r] > 0) {
        add(r, 'running');
        running++;
      }
    for (const r of bestRows(
      cols,
      study.redis?.directions ?? study.sqlite?.directions ?? [],
      BEST_K,
    ))
      add(r, 'best');

    // The heat layer: finished trials' curves (they never change).
    let finished = 0;
    for (let r = 0; r < cols.rows; r++) {
      const st = cols.state[r];
      if (st !== StateCode.Running && st !== StateCode.Waiting && cols.steps[r] > 0) finished++;
    }
    const due =
      this.densityGen !== enc.generation ||
      (finished !== this.densityFinished && now - this.densityAt >= DENSITY_MIN_INTERVAL_MS);
    if (due) {
      this.rebuildDensity(study);
      this.densityGen = enc.generation;
      this.densityFinished = finished;
      this.densityAt = now;
    }
    return {
      type: 'curves',
      generation: enc.generation,
      density: this.density,
      lines,
      withCurves,
      nonFinite: this.counted.nonFinite,
    };
  }

  private rebuildDensity(study: MergedStudy): void {
    let stepMin = Infinity;
    let stepMax = -Infinity;
    let vMin = Infinity;
    let vMax = -Infinity;
    let nonFinite = 0;
    let trials = 0;
    const finished = study.trials.filter(
      (m) => m.trial.state !== 'RUNNING' && m.trial.state !== 'WAITING',
    );
    for (const { trial } of finished) {
      let any = false;
      for (const k in trial.intermediateValues) {
        const v = toNumber(trial.intermediateValues[k]);
        if (!Number.isFinite(v)) {
          nonFinite++;
          continue;
        }
        any = true;
        const s = Number(k);
        if (s < stepMin) stepMin = s;
        if (s > stepMax) stepMax = s;
        if (v < vMin) vMin = v;
        if (v > vMax) vMax = v;
      }
      if (any) trials++;
    }
    this.counted = { withCurves: trials, nonFinite };
    if (trials === 0) {
      this.density = undefined;
      return;
    }
    const logValue = vMin > 0 && vMax / vMin > 1e3;
    const tv = (v: number) => (logValue ? Math.log10(v) : v);
    const lo = tv(vMin);
    const hi = tv(vMax);
    const stepBins = Math.max(1, Math.min(STEP_BINS, stepMax - stepMin + 1));
    const counts = new Float32Array(stepBins * VALUE_BINS);
    const sSpan = stepMax - stepMin || 1;
    const vSpan = hi - lo || 1;
    for (const { trial } of finished)
      for (const k in trial.intermediateValues) {
        const v = toNumber(trial.intermediateValues[k]);
        if (!Number.isFinite(v)) continue;
        const si = Math.min(stepBins - 1, Math.floor(((Number(k) - stepMin) / sSpan) * stepBins));
        const vi = Math.min(VALUE_BINS - 1, Math.floor(((tv(v) - lo) / vSpan) * VALUE_BINS));
        counts[si * VALUE_BINS + vi]++;
      }
    this.density = {
      stepBins,
      valueBins: VALUE_BINS,
      stepMin,
      stepMax,
      valueMin: vMin,
      valueMax: vMax,
      logValue,
      counts: counts.buffer,
      trials,
    };
  }
}

/** A trial's intermediate values by ascending step. */
export function curveOf(t: Trial): { steps: Float64Array; values: Float64Array } {
  const iv = t.intermediateValues; // built on each read (TrialRow): once
  const keys = Object.keys(iv).sort((a, b) => Number(a) - Number(b));
  return {
    steps: Float64Array.from(keys, Number),
    values: Float64Array.from(keys, (k) => toNumber(iv[k])),
  };
}

/** The k best COMPLETE rows by the first objective. */
function bestRows(
  cols: ReturnType<StudyEncoder['columns']>,
  directions: string[],
  k: number,
): number[] {
  const v = cols.values[0];
  if (!v) return [];
  const sign = directions[0] === 'MAXIMIZE' ? -1 : 1;
  const rows: number[] = [];
  for (let r = 0; r < cols.rows; r++)
    if (cols.state[r] === StateCode.Complete && cols.steps[r] > 0 && Number.isFinite(v[r]))
      rows.push(r);
  return rows.sort((a, b) => sign * (v[a] - v[b])).slice(0, k);
}

function countNonFinite(xs: Float64Array): number {
  let n = 0;
  for (const x of xs) if (!Number.isFinite(x)) n++;
  return n;
}

function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
}
