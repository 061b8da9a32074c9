// Parallel coordinates: the most important params and the objectives as axes, a line per
// COMPLETE trial (at most PARALLEL_MAX_LINES of them; a brush still filters every row).
import { type ImportanceMessage, StateCode } from '../../../core/studyPage/protocol';
import type { Palette } from '../palette';
import type { PageStore } from '../store';
import { type Built, base, finite, flat } from './common';
import { paramAxis } from './paramAxis';

/** Parallel coordinates draw at most this many lines; brushing still filters every row. */
const PARALLEL_MAX_LINES = 4000;
const PARALLEL_MAX_AXES = 8;

export interface ParallelAxisDef {
  /** 'p<id>' for a param, 'v<i>' for an objective. */
  key: string;
  name: string;
  value(row: number): number;
  categories?: string[];
  /** A log-scaled param (every distribution of it is log). */
  log?: boolean;
}

/** The parallel-coordinates axes: the most important params (up to 8), then the objectives. */
export function parallelAxes(
  store: PageStore,
  importance: ImportanceMessage | undefined,
): ParallelAxisDef[] {
  const ranked = importance?.objectives[0]?.params.map((x) => x.name) ?? [];
  const ids = store.params.map((c, id) => ({ c, id })).filter(({ c }) => c.meta.kind !== 'text');
  ids.sort((a, b) => {
    const ra = ranked.indexOf(a.c.meta.name);
    const rb = ranked.indexOf(b.c.meta.name);
    return (ra < 0 ? 1e9 : ra) - (rb < 0 ? 1e9 : rb) || a.c.meta.name.localeCompare(b.c.meta.name);
  });
  const axes: ParallelAxisDef[] = ids.slice(0, PARALLEL_MAX_AXES).map(({ c, id }) => {
    const a = paramAxis(store, id);
    return {
      key: `p${id}`,
      name: c.meta.name,
      value: a.value,
      categories: a.categories,
      log: c.meta.log && c.meta.kind !== 'mixed',
    };
  });
  store.directions().forEach((_d, i) => {
    const v = store.values[i];
    axes.push({
      key: `v${i}`,
      name: store.directions().length === 1 ? 'value' : `values[${i}]`,
      value: (r) => (store.hasValues.data[r] ? v.data[r] : NaN),
    });
  });
  return axes;
}

/** Which rows get a line: the best ones first, then an even spread of the rest. */
export function parallelRows(store: PageStore, max = PARALLEL_MAX_LINES): number[] {
  const v = store.values[0]?.data;
  const rows: number[] = [];
  for (let r = 0; r < store.count; r++)
    if (store.state.data[r] === StateCode.Complete && v && finite(v[r])) rows.push(r);
  if (rows.length <= max) return rows;
  const sign = store.directions()[0] === 'MAXIMIZE' ? -1 : 1;
  const sorted = [...rows].sort((a, b) => sign * (v![a] - v![b]));
  const bestN = Math.floor(max / 10);
  const out = sorted.slice(0, bestN);
  const rest = sorted.slice(bestN);
  const step = rest.length / (max - bestN);
  for (let k = 0; k < max - bestN; k++) out.push(rest[Math.floor(k * step)]);
  return out;
}

export function parallelOption(
  store: PageStore,
  axes: ParallelAxisDef[],
  rows: number[],
  p: Palette,
): Built {
  const data: number[] = [];
  for (const r of rows) for (const a of axes) data.push(a.value(r));
  const complete = store.values[0] ? rows.length : 0;
  const notes: string[] = [];
  let total = 0;
  for (let r = 0; r < store.count; r++) if (store.state.data[r] === StateCode.Complete) total++;
  if (complete < total)
    notes.push(
      `Lines drawn for ${complete.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} COMPLETE trials (the best tenth of them, then an even spread); a brush filters all of them in the table.`,
    );
  const hiddenParams = store.params.length - axes.filter((a) => a.key.startsWith('p')).length;
  if (hiddenParams > 0)
    notes.push(
      `Axes for the ${PARALLEL_MAX_AXES} most important params; ${hiddenParams} more are in the table.`,
    );
  return {
    notes,
    rowsOf: [{ series: 0, rows }],
    option: {
      ...base(p),
      parallel: {
        left: 48,
        right: 64,
        top: 32,
        bottom: 24,
        parallelAxisDefault: { realtime: false },
      },
      parallelAxis: axes.map((a, dim) => ({
        dim,
        name: a.name,
        ...(a.categories
          ? { type: 'category', data: a.categories }
          : { type: a.log ? 'log' : 'value', scale: true }),
        nameTextStyle: { color: p.fg },
        axisLine: { lineStyle: { color: p.grid } },
        axisLabel: { color: p.muted },
        areaSelectStyle: { color: p.accent, opacity: 0.25 },
      })),
      series: [
        {
          type: 'parallel',
          ...flat(
            data,
            axes.map((_a, i) => `d${i}`),
          ),
          lineStyle: { color: p.accent, width: 1, opacity: rows.length > 1000 ? 0.15 : 0.4 },
          inactiveOpacity: 0.02,
          activeOpacity: 0.8,
          progressive: 1000,
          smooth: false,
        },
      ],
    },
  };
}
