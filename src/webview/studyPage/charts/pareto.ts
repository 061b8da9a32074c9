// The Pareto front of a study with two or three objectives: a scatter per pair of objectives,
// the non-dominated trials highlighted.
import { StateCode } from '../../../core/studyPage/protocol';
import type { Palette } from '../palette';
import type { PageStore } from '../store';
import { formatNumber } from '../table.model';
import { type Built, axis, base, finite, flat, scatter, trialTooltip } from './common';

/** Indexes (into `points`) of the Pareto-optimal ones, everything minimized. */
export function paretoFront(points: number[][]): number[] {
  const order = points
    .map((_p, i) => i)
    .sort(
      (a, b) =>
        points[a][0] - points[b][0] ||
        points[a][1] - points[b][1] ||
        (points[a][2] ?? 0) - (points[b][2] ?? 0),
    );
  const front: number[] = [];
  for (const i of order) {
    const q = points[i];
    const dominated = front.some((j) => {
      const f = points[j];
      let strictly = false;
      for (let k = 0; k < q.length; k++) {
        if (f[k] > q[k]) return false;
        if (f[k] < q[k]) strictly = true;
      }
      return strictly;
    });
    if (!dominated) front.push(i);
  }
  return front;
}

export function paretoOption(store: PageStore, p: Palette): Built {
  const dirs = store.directions();
  const k = dirs.length;
  const rows: number[] = [];
  const pts: number[][] = [];
  for (let r = 0; r < store.count; r++) {
    if (store.state.data[r] !== StateCode.Complete) continue;
    const x = dirs.map((_d, i) => store.values[i].data[r]);
    if (!x.every(finite)) continue;
    rows.push(r);
    pts.push(x);
  }
  const signs = dirs.map((d) => (d === 'MAXIMIZE' ? -1 : 1));
  const front = new Set(paretoFront(pts.map((x) => x.map((v, i) => v * signs[i]))));
  const pairs: Array<[number, number]> =
    k === 2
      ? [[0, 1]]
      : [
          [0, 1],
          [0, 2],
          [1, 2],
        ];
  const grids = pairs.map((_pr, g) => ({
    left: `${6 + (g * 94) / pairs.length}%`,
    width: `${94 / pairs.length - 8}%`,
    top: 28,
    bottom: 36,
  }));
  const series: Record<string, unknown>[] = [];
  const rowsOf: Built['rowsOf'] = [];
  pairs.forEach(([a, b], g) => {
    const others: number[] = [];
    const otherRows: number[] = [];
    const best: number[] = [];
    const bestRows: number[] = [];
    pts.forEach((x, i) => {
      if (front.has(i)) {
        best.push(x[a], x[b]);
        bestRows.push(rows[i]);
      } else {
        others.push(x[a], x[b]);
        otherRows.push(rows[i]);
      }
    });
    rowsOf.push({ series: series.length, rows: otherRows });
    series.push(
      scatter(others, [`v${a}`, `v${b}`], {
        name: 'trials',
        xAxisIndex: g,
        yAxisIndex: g,
        symbolSize: otherRows.length > 20000 ? 2 : 4,
        itemStyle: { color: p.accent, opacity: 0.35 },
      }),
    );
    rowsOf.push({ series: series.length, rows: bestRows });
    series.push({
      type: 'scatter',
      name: 'Pareto front',
      xAxisIndex: g,
      yAxisIndex: g,
      ...flat(best, [`v${a}`, `v${b}`]),
      symbolSize: 6,
      itemStyle: { color: p.front },
    });
  });
  const name = (i: number) => `values[${i}] (${dirs[i] === 'MAXIMIZE' ? 'max' : 'min'})`;
  return {
    notes: [
      `${front.size.toLocaleString('en-US')} Pareto-optimal of ${pts.length.toLocaleString('en-US')} COMPLETE trials.`,
    ],
    rowsOf,
    option: {
      ...base(p),
      legend: { top: 0, textStyle: { color: p.muted }, data: ['trials', 'Pareto front'] },
      grid: grids,
      xAxis: pairs.map(([a], g) =>
        axis(p, {
          type: 'value',
          scale: true,
          gridIndex: g,
          name: name(a),
          nameLocation: 'middle',
          nameGap: 22,
        }),
      ),
      yAxis: pairs.map(([, b], g) =>
        axis(p, { type: 'value', scale: true, gridIndex: g, name: name(b), nameLocation: 'end' }),
      ),
      tooltip: trialTooltip(p, rowsOf, (r) => {
        const v = dirs.map((_d, i) => formatNumber(store.values[i].data[r]));
        return `#${store.number.data[r]}  (${v.join(', ')})`;
      }),
      series,
    },
  };
}
