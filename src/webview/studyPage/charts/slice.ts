// The slice plot: the value of every COMPLETE trial against one param.
import { StateCode } from '../../../core/studyPage/protocol';
import type { Palette } from '../palette';
import type { PageStore } from '../store';
import { formatNumber } from '../table.model';
import {
  type Built,
  axis,
  base,
  finite,
  nonFiniteNote,
  pointSize,
  scatter,
  trialTooltip,
} from './common';
import { paramAxis } from './paramAxis';

export function sliceOption(
  store: PageStore,
  paramId: number,
  objective: number,
  p: Palette,
): Built {
  const ax = paramAxis(store, paramId);
  const v = store.values[objective]?.data;
  const data: number[] = [];
  const rows: number[] = [];
  let left = 0;
  for (let r = 0; r < store.count; r++) {
    if (store.state.data[r] !== StateCode.Complete || !v) continue;
    const x = ax.value(r);
    const y = v[r];
    if (Number.isNaN(x)) continue;
    if (!finite(y)) {
      left++;
      continue;
    }
    data.push(x, y);
    rows.push(r);
  }
  const name = store.params[paramId].meta.name;
  const notes = left ? [nonFiniteNote(left)] : [];
  if (store.params[paramId].meta.kind === 'mixed')
    notes.push(`"${name}" changes type between trials: only its numeric values are plotted.`);
  const rowsOf = [{ series: 0, rows }];
  return {
    notes,
    rowsOf,
    option: {
      ...base(p),
      grid: { left: 64, right: 16, top: 16, bottom: 40 },
      xAxis: axis(p, { ...ax.axis, name, nameLocation: 'middle', nameGap: 26 }),
      yAxis: axis(p, { type: 'value', scale: true }),
      tooltip: trialTooltip(p, rowsOf, (r) => {
        const x = ax.value(r);
        return `#${store.number.data[r]}  ${name}=${ax.categories ? ax.categories[x] : formatNumber(x)}  value ${formatNumber(v![r])}`;
      }),
      series: [
        scatter(data, [name, 'value'], {
          symbolSize: pointSize(rows.length),
          itemStyle: { color: p.accent, opacity: 0.6 },
        }),
      ],
    },
  };
}
