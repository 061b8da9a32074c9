// Parameter importance (PED-ANOVA, computed by the host): one bar per param, most important on top.
import type { ImportanceMessage } from '../../../core/studyPage/protocol';
import type { Palette } from '../palette';
import { type Built, axis, base, itemTooltip } from './common';

export function importanceOption(
  msg: ImportanceMessage | undefined,
  objective: number,
  p: Palette,
): Built {
  const o = msg?.objectives.find((x) => x.objective === objective);
  const top = (o?.params ?? []).slice(0, 20).reverse();
  const notes: string[] = [];
  if ((o?.params.length ?? 0) > 20)
    notes.push(`The 20 most important of ${o!.params.length} params.`);
  if (msg?.note) notes.push(msg.note);
  return {
    notes,
    option: {
      ...base(p),
      grid: { left: 8, right: 48, top: 8, bottom: 24, containLabel: true },
      xAxis: axis(p, { type: 'value', max: 1 }),
      yAxis: axis(p, {
        type: 'category',
        data: top.map((x) => x.name),
        axisLabel: { color: p.fg, width: 140, overflow: 'truncate' },
      }),
      tooltip: itemTooltip(
        p,
        (i: { name: string; value: number }) => `${i.name}: ${(i.value * 100).toFixed(1)} %`,
      ),
      series: [
        {
          type: 'bar',
          data: top.map((x) => x.importance),
          itemStyle: { color: p.accent },
          label: {
            show: true,
            position: 'right',
            color: p.muted,
            formatter: (i: { value: number }) => `${(i.value * 100).toFixed(1)}%`,
          },
        },
      ],
    },
  };
}
