/**
 * The normal distribution's CDF in log space, accurate to ~1e-15, for PED-ANOVA's truncated
 * Gaussian kernels. erfc by its power series near 0 (all terms positive, no cancellation) and
 * by its continued fraction in the tails, where it is evaluated together with e^{-x²} so that
 * far tails stay representable in log space.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const LOG_SQRT_PI = Math.log(SQRT_PI);
const SQRT2 = Math.SQRT2;
/** Where the series hands over to the continued fraction. */
const SPLIT = 2.5;

/** erf(x) for |x| < SPLIT: (2/√π) e^{-x²} Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)). */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/**
 * The continued fraction K(x) = 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) with
 * erfc(x) = e^{-x²} K(x) / √π, for x ≥ SPLIT (modified Lentz, to full precision).
 */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / f;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= SPLIT) return (Math.exp(-x * x) * erfcFraction(x)) / SQRT_PI;
  if (x <= -SPLIT) return 2 - (Math.exp(-x * x) * erfcFraction(-x)) / SQRT_PI;
  return 1 - erfSeries(x);
}

/** log(erfc(x)) without underflow for large x. */
function logErfc(x: number): number {
  if (x >= SPLIT) return -x * x + Math.log(erfcFraction(x)) - LOG_SQRT_PI;
  return Math.log(erfc(x));
}

/** Φ(a), the standard normal CDF. */
export function ndtr(a: number): number {
  return 0.5 * erfc(-a / SQRT2);
}

/** log Φ(a). */
export function logNdtr(a: number): number {
  if (a > 6) return Math.log1p(-ndtr(-a));
  return Math.log(0.5) + logErfc(-a / SQRT2);
}

/** log(Φ(b) − Φ(a)) for a < b, computed where it is accurate (the left tail). */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

export function logDiff(logP: number, logQ: number): number {
  return logP + Math.log1p(-Math.exp(logQ - logP));
}
