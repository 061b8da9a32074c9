// A range typed for a parallel-coordinates axis, in the axis's own values (pure: unit-tested in
// Node); the keyboard's brush (brushForm) reads it.
import type { ParallelAxisDef } from './charts/parallel';

/** The smallest and largest value on an axis over `count` rows (NaN and ±inf left out). */
export function axisExtent(axis: ParallelAxisDef, count: number): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < count; r++) {
    const v = axis.value(r);
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * The interval typed for an axis, in the axis's own values (a category's position on a
 * categorical axis). An empty bound means the axis's end; bounds typed the wrong way round are
 * swapped. Or the reason the input is not a range.
 */
export function axisInterval(
  axis: ParallelAxisDef,
  minText: string,
  maxText: string,
  extent: [number, number] | undefined,
): { interval: [number, number] } | { error: string } {
  const cats = axis.categories;
  const bound = (text: string, which: 0 | 1): number | string => {
    const t = text.trim();
    if (cats) {
      if (!t) return which === 0 ? 0 : cats.length - 1;
      const k = cats.findIndex((c) => c === t);
      const i = k >= 0 ? k : cats.findIndex((c) => c.toLowerCase() === t.toLowerCase());
      return i >= 0 ? i : `"${t}" is not a value of ${axis.name} (${cats.join(', ')})`;
    }
    if (!t) return extent ? extent[which] : `${axis.name} has no values to brush`;
    const v = Number(t);
    if (!Number.isFinite(v)) return `"${t}" is not a number`;
    if (axis.log && v <= 0) return `${axis.name} is on a log axis: bounds must be above 0`;
    return v;
  };
  const a = bound(minText, 0);
  if (typeof a === 'string') return { error: a };
  const b = bound(maxText, 1);
  if (typeof b === 'string') return { error: b };
  return { interval: a <= b ? [a, b] : [b, a] };
}
