// Intermediate values (learning curves): lines for the best, RUNNING and selected trials, and
// past a hundred curves the rest as a density the host binned.
import type { CurvesMessage } from '../../../core/studyPage/protocol';
import type { Palette } from '../palette';
import { formatNumber } from '../table.model';
import { type Built, axis, base, finite, itemTooltip } from './common';

export function curvesOption(msg: CurvesMessage | undefined, p: Palette): Built {
  const notes: string[] = [];
  if (!msg || (msg.lines.length === 0 && !msg.density))
    return { notes: ['No intermediate values reported in this study.'], option: { ...base(p) } };
  const series: Record<string, unknown>[] = [];
  const d = msg.density;
  const log = d?.logValue ?? false;
  if (d) {
    const counts = new Float32Array(d.counts);
    let max = 0;
    for (const c of counts) max = Math.max(max, c);
    const cells: number[][] = [];
    const stepW = (d.stepMax - d.stepMin || 1) / d.stepBins;
    const tv = (v: number) => (log ? Math.log10(v) : v);
    const lo = tv(d.valueMin);
    const valW = (tv(d.valueMax) - lo || 1) / d.valueBins;
    const back = (x: number) => (log ? 10 ** x : x);
    for (let s = 0; s < d.stepBins; s++)
      for (let v = 0; v < d.valueBins; v++) {
        const c = counts[s * d.valueBins + v];
        if (c > 0)
          cells.push([
            d.stepMin + s * stepW,
            back(lo + v * valW),
            d.stepMin + (s + 1) * stepW,
            back(lo + (v + 1) * valW),
            Math.log1p(c) / Math.log1p(max),
            c,
          ]);
      }
    series.push({
      type: 'custom',
      name: 'density',
      data: cells,
      silent: true,
      encode: { x: [0, 2], y: [1, 3] },
      renderItem: (
        _x: unknown,
        api: { value(i: number): number; coord(v: number[]): number[] },
      ) => {
        const a = api.coord([api.value(0), api.value(3)]);
        const b = api.coord([api.value(2), api.value(1)]);
        return {
          type: 'rect',
          shape: {
            x: a[0],
            y: a[1],
            width: Math.max(b[0] - a[0], 1),
            height: Math.max(b[1] - a[1], 1),
          },
          style: { fill: p.accent, opacity: 0.08 + 0.6 * api.value(4) },
        };
      },
    });
    notes.push(
      `${d.trials.toLocaleString('en-US')} finished curves as a density; lines for the best ${msg.lines.filter((l) => l.role === 'best').length}, the RUNNING and the selected trials.`,
    );
  }
  const roleColor = { best: p.best, running: p.states.RUNNING, selected: p.front, all: p.accent };
  for (const l of msg.lines) {
    const steps = new Float64Array(l.steps);
    const values = new Float64Array(l.values);
    const pts: number[][] = [];
    for (let k = 0; k < steps.length; k++)
      if (finite(values[k]) && (!log || values[k] > 0)) pts.push([steps[k], values[k]]);
    series.push({
      type: 'line',
      name: `#${l.number}`,
      data: pts,
      showSymbol: pts.length < 30,
      symbolSize: 3,
      lineStyle: {
        width: l.role === 'all' ? 1 : 1.5,
        color: roleColor[l.role],
        opacity: l.role === 'all' ? 0.7 : 0.9,
      },
      itemStyle: { color: roleColor[l.role] },
      emphasis: { focus: 'series' },
    });
  }
  if (msg.nonFinite)
    notes.push(
      `${msg.nonFinite.toLocaleString('en-US')} NaN or infinite intermediate values not plotted.`,
    );
  return {
    notes,
    option: {
      ...base(p),
      grid: { left: 64, right: 16, top: 16, bottom: 36 },
      xAxis: axis(p, {
        type: 'value',
        name: 'step',
        nameLocation: 'middle',
        nameGap: 22,
        min: 'dataMin',
        max: 'dataMax',
      }),
      yAxis: axis(p, { type: log ? 'log' : 'value', scale: true }),
      tooltip: itemTooltip(
        p,
        (i: { seriesName: string; value: number[] }) =>
          `${i.seriesName}  step ${i.value[0]}: ${formatNumber(i.value[1])}`,
      ),
      series,
    },
  };
}
