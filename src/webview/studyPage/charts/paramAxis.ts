// A param as a plot axis, shared by the slice plot and the parallel coordinates: categories in
// natural order (so "2" sorts before "10"), numbers on a log axis when the param is log-scaled.
import type { PageStore } from '../store';

/** A param as an axis: its values per row (numbers, or category indexes), and the axis. */
export function paramAxis(
  store: PageStore,
  id: number,
): { value(row: number): number; axis: Record<string, unknown>; categories?: string[] } {
  const c = store.params[id];
  const categorical = c.meta.kind === 'categorical';
  if (categorical) {
    const labels = c.labels;
    const order = labels
      .map((_l, i) => i)
      .sort((a, b) => labels[a].localeCompare(labels[b], 'en', { numeric: true }));
    const pos = new Int32Array(labels.length);
    order.forEach((code, k) => (pos[code] = k));
    return {
      categories: order.map((k) => labels[k]),
      value: (row) => (c.cat.data[row] >= 0 ? pos[c.cat.data[row]] : NaN),
      axis: { type: 'category', data: order.map((k) => labels[k]) },
    };
  }
  return {
    value: (row) => (c.cat.data[row] >= 0 ? NaN : c.num.data[row]),
    axis: { type: c.meta.log ? 'log' : 'value', scale: true },
  };
}
