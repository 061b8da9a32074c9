// The optimization history: every finished trial's value by trial number, and the best so far.
import { StateCode } from '../../../core/studyPage/protocol';
import type { Palette } from '../palette';
import type { PageStore } from '../store';
import { formatNumber } from '../table.model';
import {
  type Built,
  axis,
  base,
  finite,
  flat,
  nonFiniteNote,
  pointSize,
  scatter,
  trialTooltip,
} from './common';

/**
 * Rows by trial number (ascending). Rows are mostly in that order already (a journal's trials
 * are appended as they are created): then no sort (at 100,000 trials it was a third of the
 * plot's option).
 */
function byNumber(store: PageStore): Int32Array {
  const count = store.count;
  const n = store.number.data;
  const rows = new Int32Array(count);
  let sorted = true;
  for (let r = 0; r < count; r++) {
    rows[r] = r;
    if (r > 0 && n[r] < n[r - 1]) sorted = false;
  }
  return sorted ? rows : rows.sort((a, b) => n[a] - n[b]);
}

export function historyOption(
  store: PageStore,
  objective: number,
  opts: { log: boolean; includePruned: boolean },
  p: Palette,
): Built {
  const dir = store.directions()[objective];
  const maximize = dir === 'MAXIMIZE';
  const v = store.values[objective]?.data;
  const notes: string[] = [];
  const complete: number[] = [];
  const pruned: number[] = [];
  const completeRows: number[] = [];
  const prunedRows: number[] = [];
  // The best-so-far step line needs only the points where the best changed (and the last x).
  const best: number[] = [];
  let bestSoFar = NaN;
  let lastX = NaN;
  let nonFinite = 0;
  let nonPositive = 0;
  for (const r of byNumber(store)) {
    const st = store.state.data[r];
    if (!v || !store.hasValues.data[r]) continue;
    if (st !== StateCode.Complete && !(opts.includePruned && st === StateCode.Pruned)) continue;
    const y = v[r];
    const x = store.number.data[r];
    if (!finite(y)) {
      nonFinite++;
      continue;
    }
    if (opts.log && y <= 0) {
      nonPositive++;
      continue;
    }
    if (st === StateCode.Complete) {
      complete.push(x, y);
      completeRows.push(r);
      if (Number.isNaN(bestSoFar) || (maximize ? y > bestSoFar : y < bestSoFar)) {
        bestSoFar = y;
        best.push(x, y);
      }
      lastX = x;
    } else {
      pruned.push(x, y);
      prunedRows.push(r);
    }
  }
  if (best.length && best[best.length - 2] !== lastX) best.push(lastX, bestSoFar);
  if (nonFinite) notes.push(nonFiniteNote(nonFinite));
  if (nonPositive)
    notes.push(
      `${nonPositive} value${nonPositive === 1 ? '' : 's'} ≤ 0 left out of the log scale.`,
    );
  const n = completeRows.length + prunedRows.length;
  const size = pointSize(n);
  const rowsOf = [
    { series: 0, rows: completeRows },
    { series: 1, rows: prunedRows },
  ];
  return {
    notes,
    rowsOf,
    option: {
      ...base(p),
      grid: { left: 64, right: 16, top: 28, bottom: 36 },
      legend: {
        top: 0,
        textStyle: { color: p.muted },
        data: ['COMPLETE', ...(opts.includePruned ? ['PRUNED'] : []), 'best so far'],
      },
      xAxis: axis(p, {
        type: 'value',
        name: 'trial',
        nameLocation: 'middle',
        nameGap: 22,
        min: 'dataMin',
        max: 'dataMax',
      }),
      yAxis: axis(p, { type: opts.log ? 'log' : 'value', scale: true }),
      tooltip: trialTooltip(
        p,
        rowsOf,
        (r, name) => `#${store.number.data[r]}  ${formatNumber(v![r])}  (${name})`,
      ),
      series: [
        scatter(complete, ['trial', 'value'], {
          name: 'COMPLETE',
          symbolSize: size,
          itemStyle: { color: p.states.COMPLETE, opacity: 0.7 },
        }),
        scatter(pruned, ['trial', 'value'], {
          name: 'PRUNED',
          symbolSize: size,
          itemStyle: { color: p.states.PRUNED, opacity: 0.6 },
        }),
        {
          type: 'line',
          name: 'best so far',
          ...flat(best, ['trial', 'best']),
          step: 'end',
          showSymbol: false,
          lineStyle: { color: p.best, width: 2 },
          itemStyle: { color: p.best },
          silent: true,
        },
      ],
    },
  };
}
