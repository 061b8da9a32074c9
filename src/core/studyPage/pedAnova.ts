import type { Distribution } from '../optuna/model';
import type { JsonValue } from '../optuna/pythonJsonParse';
import { toStrictJson } from '../optuna/strictJson';
import { logDiff, logNdtr } from './normal';

/**
 * PED-ANOVA parameter importance (S. Watanabe, A. Bansal, F. Hutter, "PED-ANOVA: Efficiently
 * Quantifying Hyperparameter Importance in Arbitrary Subspaces", IJCAI 2023), as Optuna 5's
 * default `PedAnovaImportanceEvaluator` computes it with its defaults: target quantile 0.1 of
 * the COMPLETE trials with finite values, the whole study as the region, 50 grid steps, Scott's
 * rule bandwidth, prior weight 1, and — from Optuna 5's conditional variant — trials grouped by
 * the distribution a param had (a changed search space is several "regimes").
 *
 * Per param: Parzen estimators of the top trials and of all trials on a grid over the
 * param's domain (log params binned in log space, categoricals as smoothed counts); the
 * importance is the Pearson divergence between the two, and the result is normalized to sum 1
 * like `optuna.importance.get_param_importances`. O(N log N + N·P).
 */

export interface ImportanceParam {
  name: string;
  /** Optuna's internal representation per trial (categoricals: the choice index); NaN when absent. */
  internal: Float64Array;
  /** Code into `dists` per trial; -1 when the trial does not have this param. */
  dist: Int32Array;
  dists: Distribution[];
}

export interface ImportanceInput {
  /** Per COMPLETE trial, lower is better (a maximized objective negated); non-finite values are left out. */
  loss: Float64Array;
  params: ImportanceParam[];
}

export interface ImportanceResult {
  params: Array<{ name: string; importance: number }>;
  /** Trials used (COMPLETE with a finite value). */
  trials: number;
  /** Set when importances are all equal for lack of data. */
  note?: string;
}

const TARGET_QUANTILE = 0.1;
const N_STEPS = 50;
const PRIOR_WEIGHT = 1.0;
const MIN_TRIALS_IN_REGIME = 2;
const EPS = 1e-12;

/** A distribution in Optuna 3+'s classes (legacy ones are read as these, as Optuna does). */
interface Domain {
  kind: 'float' | 'int' | 'categorical';
  low: number;
  high: number;
  log: boolean;
  step: number | null;
  choices: number;
}

function num(v: JsonValue | undefined): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
}

function domainOf(d: Distribution): Domain {
  const a = d.attributes;
  const base = { low: num(a.low), high: num(a.high), choices: 0 };
  switch (d.name) {
    case 'FloatDistribution':
      return {
        ...base,
        kind: 'float',
        log: a.log === true,
        step: a.step == null ? null : num(a.step),
      };
    case 'UniformDistribution':
      return { ...base, kind: 'float', log: false, step: null };
    case 'LogUniformDistribution':
      return { ...base, kind: 'float', log: true, step: null };
    case 'DiscreteUniformDistribution':
      return { ...base, kind: 'float', log: false, step: num(a.q) };
    case 'IntDistribution':
      return { ...base, kind: 'int', log: a.log === true, step: a.step == null ? 1 : num(a.step) };
    case 'IntUniformDistribution':
      return { ...base, kind: 'int', log: false, step: a.step == null ? 1 : num(a.step) };
    case 'IntLogUniformDistribution':
      return { ...base, kind: 'int', log: true, step: 1 };
    default:
      return {
        kind: 'categorical',
        low: NaN,
        high: NaN,
        log: false,
        step: null,
        choices: (a.choices as JsonValue[]).length,
      };
  }
}

/** Python's `Distribution.__eq__`: same class after the legacy mapping, same attributes. */
function regimeKey(d: Distribution): string {
  const m = domainOf(d);
  return m.kind === 'categorical'
    ? toStrictJson(['c', d.attributes.choices])
    : toStrictJson([m.kind, m.low, m.high, m.log, m.step]);
}

/** `Distribution.single()` */
function single(m: Domain): boolean {
  if (m.kind === 'categorical') return m.choices === 1;
  if (m.low === m.high) return true;
  if (m.kind === 'int') return !m.log && m.high - m.low < (m.step ?? 1);
  return m.step !== null && m.high - m.low < m.step;
}

/** Python's round(): halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The grid a param's values are counted on (`_count_numerical_param_in_grid` and its categorical twin). */
interface Grid {
  size: number;
  bin(internal: number): number;
}

function gridOf(m: Domain): Grid {
  if (m.kind === 'categorical') return { size: m.choices, bin: (v) => Math.trunc(v) };
  let nSteps = N_STEPS;
  if (m.kind === 'int' && m.log) {
    nSteps = Math.min(Math.ceil(Math.log(m.high - m.low + 1) / Math.log(2)) + 1, nSteps);
  } else if (m.step !== null) {
    nSteps = Math.min(roundHalfEven((m.high - m.low) / m.step) + 1, nSteps);
  }
  const low = m.log ? Math.log(m.low) : m.low;
  const high = m.log ? Math.log(m.high) : m.high;
  const stepSize = (high - low) / (nSteps - 1);
  const last = nSteps - 1;
  return {
    size: nSteps,
    bin: (raw) => {
      const v = m.log ? Math.log(raw) : raw;
      // Midpoint ties go to the lower cell, as in Optuna.
      const i = Math.ceil((v - low) / stepSize - 0.5);
      return i < 0 ? 0 : i > last ? last : i;
    },
  };
}

/**
 * The density on grid points 0..n-1 of the Parzen estimator built from grid counts: for a
 * numerical param Scott's-rule Gaussians truncated to the grid (`ScottParzenEstimator`), for a
 * categorical one smoothed counts; both mixed with a prior of weight 1.
 */
function densityOnGrid(counts: Float64Array, categorical: boolean): Float64Array {
  const n = counts.length;
  const obs: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < n; i++)
    if (counts[i] > 0) {
      obs.push(i);
      w.push(counts[i]);
    }
  const total = w.reduce((a, b) => a + b, 0);
  const mixW = obs.length ? [...w, PRIOR_WEIGHT].map((x) => x / (total + PRIOR_WEIGHT)) : [1];
  const pdf = new Float64Array(n);
  if (categorical) {
    const kernels = obs.length + 1;
    for (let k = 0; k < mixW.length; k++) {
      // Row k: prior/kernels everywhere, +1 at the observed choice; normalized.
      const base = PRIOR_WEIGHT / kernels;
      const observed = k < obs.length;
      const rowSum = base * n + (observed ? 1 : 0);
      for (let c = 0; c < n; c++) {
        const cell = base + (observed && obs[k] === c ? 1 : 0);
        pdf[c] += mixW[k] * (cell / rowSum);
      }
    }
    return pdf;
  }
  // Scott's rule on the grid indexes, weighted by counts.
  const mean = obs.reduce((a, x, i) => a + x * w[i], 0) / total;
  let sigma = Math.sqrt(
    obs.reduce((a, x, i) => a + w[i] * (x - mean) ** 2, 0) / Math.max(1, total - 1),
  );
  const cum: number[] = [];
  w.reduce((a, x) => (cum.push(a + x), a + x), 0);
  const q1 = searchLeft(cum, Math.floor(total / 4));
  const q3 = searchRight(cum, Math.floor((total * 3) / 4));
  const iqr = obs[Math.min(obs.length - 1, q3)] - obs[q1];
  sigma = 1.059 * Math.min(iqr / 1.34, sigma) * total ** -0.2;
  sigma = Math.max(sigma, 0.5 / 1.64);
  // Kernel k's mass on grid cell x is Φ((x+½−μ)/σ) − Φ((x−½−μ)/σ), normalized by its mass
  // on the whole grid. The observed kernels share σ and sit on integers, so their cell edges
  // are one table of offsets; the prior kernel (μ = (n−1)/2, σ = n) gets its own.
  const logW = mixW.map(Math.log);
  const terms: Float64Array[] = Array.from({ length: n }, () => new Float64Array(mixW.length));
  const shared = edges((m) => (m - n - 0.5) / sigma, 2 * n + 1);
  obs.forEach((mu, k) => kernelTerms(terms, k, logW[k], shared, n - mu, n));
  const prior = edges((j) => (j - 0.5 - (n - 1) / 2) / n, n + 1);
  kernelTerms(terms, obs.length, logW[obs.length], prior, 0, n);
  for (let x = 0; x < n; x++) {
    const t = terms[x];
    let max = -Infinity;
    for (const v of t) if (v > max) max = v;
    let sum = 0;
    for (const v of t) sum += Math.exp(v - max);
    pdf[x] = Math.exp(max) * sum;
  }
  return pdf;
}

/** log Φ(z_j) and log Φ(−z_j) at cell edges z_j = edge(j), j = 0..count-1. */
function edges(
  edge: (j: number) => number,
  count: number,
): { z: Float64Array; L: Float64Array; U: Float64Array } {
  const z = new Float64Array(count);
  const L = new Float64Array(count);
  const U = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    z[j] = edge(j);
    L[j] = logNdtr(z[j]);
    U[j] = logNdtr(-z[j]);
  }
  return { z, L, U };
}

/** log of the Gaussian mass between edges i < j (`_log_gauss_mass`'s three cases). */
function logMass(
  e: { z: Float64Array; L: Float64Array; U: Float64Array },
  i: number,
  j: number,
): number {
  if (e.z[j] <= 0) return logDiff(e.L[j], e.L[i]);
  if (e.z[i] > 0) return logDiff(e.U[i], e.U[j]);
  return Math.log1p(-Math.exp(e.L[i]) - Math.exp(e.U[j]));
}

/** Writes kernel k's log-weighted cell masses; grid edge j is table index j + offset. */
function kernelTerms(
  terms: Float64Array[],
  k: number,
  logW: number,
  e: { z: Float64Array; L: Float64Array; U: Float64Array },
  offset: number,
  n: number,
): void {
  const norm = logMass(e, offset, offset + n);
  for (let x = 0; x < n; x++) terms[x][k] = logW + logMass(e, offset + x, offset + x + 1) - norm;
}

function searchLeft(a: number[], v: number): number {
  let i = 0;
  while (i < a.length && a[i] < v) i++;
  return i;
}

function searchRight(a: number[], v: number): number {
  let i = 0;
  while (i < a.length && a[i] <= v) i++;
  return i;
}

function pearsonDivergence(categorical: boolean, top: Float64Array, region: Float64Array): number {
  const pTop = densityOnGrid(top, categorical);
  const pLocal = densityOnGrid(region, categorical);
  let d = 0;
  for (let g = 0; g < pTop.length; g++) {
    const t = pTop[g] + EPS;
    const l = pLocal[g] + EPS;
    d += l * (t / l - 1) ** 2;
  }
  return d;
}

/** The k-th smallest value (0-based) of a copy of `xs`. */
function kthSmallest(xs: Float64Array, k: number): number {
  return Float64Array.from(xs).sort()[k];
}

export function pedAnova(input: ImportanceInput): ImportanceResult {
  const { loss, params } = input;
  const names = params.filter((p) => p.dist.some((c) => c >= 0)).map((p) => p.name);
  let nFinite = 0;
  for (let i = 0; i < loss.length; i++) if (Number.isFinite(loss[i])) nFinite++;
  const finite = new Int32Array(nFinite);
  for (let i = 0, k = 0; i < loss.length; i++) if (Number.isFinite(loss[i])) finite[k++] = i;
  const equal = (note: string): ImportanceResult => ({
    params: names.map((name) => ({ name, importance: names.length ? 1 / names.length : 0 })),
    trials: finite.length,
    note,
  });
  if (names.length === 0)
    return { params: [], trials: finite.length, note: 'no params in COMPLETE trials' };
  if (finite.length <= 1)
    return equal(
      `${finite.length} COMPLETE trial${finite.length === 1 ? '' : 's'} with a finite value: too few to rank params`,
    );

  // _QuantileFilter: everything at or below the ceil(q·n)-th smallest loss (ties included).
  const finiteLoss = Float64Array.from(finite, (i) => loss[i]);
  const cutoff = kthSmallest(finiteLoss, Math.ceil(TARGET_QUANTILE * finite.length) - 1);
  const isTop = new Uint8Array(loss.length);
  let nTop = 0;
  for (const i of finite)
    if (loss[i] <= cutoff) {
      isTop[i] = 1;
      nTop++;
    }
  const quantile = nTop / finite.length;

  const scores = params
    .filter((p) => names.includes(p.name))
    .map((p) => {
      // Regimes: the trials that had this param with the same distribution, counted on its grid.
      const byKey = new Map<string, number>();
      const regimes: Array<{
        m: Domain;
        grid: Grid;
        all: Float64Array;
        top: Float64Array;
        nAll: number;
        nTop: number;
      }> = [];
      const regimeOf = Int32Array.from(p.dists, (d) => {
        const key = regimeKey(d);
        let r = byKey.get(key);
        if (r === undefined) {
          const m = domainOf(d);
          const grid = gridOf(m);
          r = regimes.length;
          byKey.set(key, r);
          regimes.push({
            m,
            grid,
            all: new Float64Array(grid.size),
            top: new Float64Array(grid.size),
            nAll: 0,
            nTop: 0,
          });
        }
        return r;
      });
      for (let k = 0; k < finite.length; k++) {
        const i = finite[k];
        const c = p.dist[i];
        if (c < 0) continue;
        const r = regimes[regimeOf[c]];
        const b = r.grid.bin(p.internal[i]);
        r.all[b]++;
        r.nAll++;
        if (isTop[i]) {
          r.top[b]++;
          r.nTop++;
        }
      }
      let importance = 0;
      for (const r of regimes) {
        if (r.nAll < MIN_TRIALS_IN_REGIME || single(r.m) || r.nTop === 0) continue;
        const alpha = r.nTop / nTop;
        const beta = r.nAll / finite.length;
        importance +=
          (alpha ** 2 / beta) * pearsonDivergence(r.m.kind === 'categorical', r.top, r.all);
      }
      return { name: p.name, importance: importance * quantile ** 2 };
    });
  const sum = scores.reduce((a, s) => a + s.importance, 0);
  if (sum === 0) return equal('every param is equally (un)important here');
  return {
    params: scores
      .map((s) => ({ name: s.name, importance: s.importance / sum }))
      .sort((a, b) => b.importance - a.importance),
    trials: finite.length,
  };
}
