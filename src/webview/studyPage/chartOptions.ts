// ECharts options for each plot, built from the store's columns. No DOM here: unit-tested
// under Node with a fixed palette. Every tooltip uses the richText renderer (drawn on the
// canvas), because ECharts' HTML tooltip writes inline styles that the CSP forbids.
import type { CurvesMessage, ImportanceMessage } from '../../core/studyPage/protocol';
import { StateCode } from '../../core/studyPage/protocol';
import type { PageStore } from './store';
import { formatNumber, formatTime } from './table.model';
import type { Palette } from './palette';

/** What a chart builder returns: the option, and what the caption should add. */
export interface Built {
  option: Record<string, unknown>;
  /** Said under the chart: what was left out and why. */
  notes: string[];
  /** Row of each data item of series `rowsOf.series`, for clicks. */
  rowsOf?: { series: number; rows: number[] }[];
}

/** Above this many points a series draws in ECharts' large mode (one path, no per-point hover effects). */
const LARGE = 2000;
/** Parallel coordinates draw at most this many lines; brushing still filters every row. */
export const PARALLEL_MAX_LINES = 4000;
export const PARALLEL_MAX_AXES = 8;

function base(p: Palette): Record<string, unknown> {
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: p.fg, fontFamily: p.font },
    tooltip: {
      renderMode: 'richText',
      confine: true,
      backgroundColor: p.bg,
      borderColor: p.grid,
      textStyle: { color: p.fg },
    },
  };
}

function axis(p: Palette, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    axisLine: { lineStyle: { color: p.grid } },
    axisLabel: { color: p.muted, hideOverlap: true },
    splitLine: { lineStyle: { color: p.grid, opacity: 0.4 } },
    nameTextStyle: { color: p.muted },
    ...extra,
  };
}

function finite(v: number): boolean {
  return Number.isFinite(v);
}

/**
 * Points as one flat typed array (x0, y0, x1, y1, …) with named dimensions: ECharts reads it
 * without an object or array per point, which is what makes 100,000 points cheap.
 */
function flat(
  values: number[],
  dimensions: string[],
): { data: Float64Array; dimensions: string[] } {
  return { data: Float64Array.from(values), dimensions };
}

/** A tooltip naming the trial of a point, found by the point's index in its series. */
function trialTooltip(
  p: Palette,
  rowsOf: Array<{ series: number; rows: number[] }>,
  text: (row: number, seriesName: string) => string,
): Record<string, unknown> {
  return {
    ...(base(p).tooltip as object),
    trigger: 'item',
    formatter: (i: { seriesIndex: number; dataIndex: number; seriesName: string }) => {
      const row = rowsOf.find((x) => x.series === i.seriesIndex)?.rows[i.dataIndex];
      return row === undefined ? '' : text(row, i.seriesName);
    },
  };
}

/** Rows by trial number (ascending). */
export function byNumber(store: PageStore): number[] {
  const rows = Array.from({ length: store.count }, (_v, r) => r);
  const n = store.number.data;
  return rows.sort((a, b) => n[a] - n[b]);
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
  if (nonFinite)
    notes.push(
      `${nonFinite} trial${nonFinite === 1 ? '' : 's'} with a NaN or infinite value not plotted.`,
    );
  if (nonPositive)
    notes.push(
      `${nonPositive} value${nonPositive === 1 ? '' : 's'} ≤ 0 left out of the log scale.`,
    );
  const n = completeRows.length + prunedRows.length;
  const size = n > 20000 ? 2 : n > 2000 ? 3 : 5;
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
        {
          type: 'scatter',
          name: 'COMPLETE',
          ...flat(complete, ['trial', 'value']),
          symbolSize: size,
          large: completeRows.length > LARGE,
          largeThreshold: LARGE,
          itemStyle: { color: p.states.COMPLETE, opacity: 0.7 },
        },
        {
          type: 'scatter',
          name: 'PRUNED',
          ...flat(pruned, ['trial', 'value']),
          symbolSize: size,
          large: prunedRows.length > LARGE,
          largeThreshold: LARGE,
          itemStyle: { color: p.states.PRUNED, opacity: 0.6 },
        },
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
      tooltip: {
        ...(base(p).tooltip as object),
        trigger: 'item',
        formatter: (i: { name: string; value: number }) =>
          `${i.name}: ${(i.value * 100).toFixed(1)} %`,
      },
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
  const notes = left
    ? [`${left} trial${left === 1 ? '' : 's'} with a NaN or infinite value not plotted.`]
    : [];
  if (store.params[paramId].meta.kind === 'mixed')
    notes.push(`"${name}" changes type between trials: only its numeric values are plotted.`);
  const rowsOf = [{ series: 0, rows }];
  const n = rows.length;
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
        {
          type: 'scatter',
          ...flat(data, [name, 'value']),
          symbolSize: n > 20000 ? 2 : n > 2000 ? 3 : 5,
          large: n > LARGE,
          largeThreshold: LARGE,
          itemStyle: { color: p.accent, opacity: 0.6 },
        },
      ],
    },
  };
}

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
    series.push({
      type: 'scatter',
      name: 'trials',
      xAxisIndex: g,
      yAxisIndex: g,
      ...flat(others, [`v${a}`, `v${b}`]),
      symbolSize: otherRows.length > 20000 ? 2 : 4,
      large: otherRows.length > LARGE,
      largeThreshold: LARGE,
      itemStyle: { color: p.accent, opacity: 0.35 },
    });
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

/** Lanes of the timeline: one per journal worker; without worker ids, trials packed greedily. */
export function timelineLanes(
  store: PageStore,
  now: number,
): { lane: Int32Array; names: string[] } {
  const lane = new Int32Array(store.count).fill(-1);
  const known = store.workers.length > 0;
  if (known) {
    const used = new Map<number, number>();
    const names: string[] = [];
    for (let r = 0; r < store.count; r++) {
      const w = store.worker.data[r];
      if (w < 0) continue;
      let l = used.get(w);
      if (l === undefined) {
        l = names.length;
        used.set(w, l);
        const id = store.workers[w];
        const m = /^([0-9a-f]{8})[0-9a-f-]*-(\d+)$/i.exec(id);
        names.push(m ? `${m[1]}…-${m[2]}` : id.slice(0, 14));
      }
      lane[r] = l;
    }
    if (names.length) return { lane, names };
  }
  // Greedy interval packing by start time: a trial goes to the first lane free at its start.
  const rows = Array.from({ length: store.count }, (_v, r) => r).filter((r) =>
    finite(store.start.data[r]),
  );
  rows.sort((a, b) => store.start.data[a] - store.start.data[b]);
  const freeAt: number[] = [];
  for (const r of rows) {
    const s = store.start.data[r];
    const e = finite(store.complete.data[r]) ? store.complete.data[r] : now;
    let l = freeAt.findIndex((t) => t <= s);
    if (l < 0) {
      l = freeAt.length;
      freeAt.push(e);
    } else freeAt[l] = e;
    lane[r] = l;
  }
  return { lane, names: freeAt.map((_t, i) => `slot ${i + 1}`) };
}

export function timelineOption(store: PageStore, now: number, p: Palette): Built {
  const { lane, names } = timelineLanes(store, now);
  const data: number[] = [];
  const rows: number[] = [];
  let t0 = Infinity;
  let t1 = -Infinity;
  for (let r = 0; r < store.count; r++) {
    const s = store.start.data[r];
    if (!finite(s) || lane[r] < 0) continue;
    const e = finite(store.complete.data[r]) ? store.complete.data[r] : now;
    data.push(lane[r], s, Math.max(e, s), store.state.data[r]);
    rows.push(r);
    t0 = Math.min(t0, s);
    t1 = Math.max(t1, e);
  }
  const colors = [
    p.states.RUNNING,
    p.states.COMPLETE,
    p.states.PRUNED,
    p.states.FAIL,
    p.states.WAITING,
  ];
  const stateNames = ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'];
  // Start zoomed on the latest trials (about 3,000 bars); every bar is reachable by zooming out.
  const startPct = rows.length > 3000 ? Math.max(0, 100 - (3000 / rows.length) * 100) : 0;
  return {
    notes: store.workers.length
      ? []
      : ['No worker ids here (SQLite): trials are packed into slots by time.'],
    rowsOf: [{ series: 0, rows }],
    option: {
      ...base(p),
      grid: { left: 96, right: 16, top: 8, bottom: 56 },
      xAxis: axis(p, { type: 'time', min: t0, max: t1 }),
      yAxis: axis(p, {
        type: 'value',
        min: -0.5,
        max: Math.max(names.length - 0.5, 0.5),
        interval: 1,
        inverse: true,
        splitLine: { show: false },
        axisLabel: { color: p.muted, formatter: (v: number) => names[v] ?? '' },
      }),
      dataZoom: [
        { type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter', start: startPct, end: 100 },
        {
          type: 'slider',
          xAxisIndex: 0,
          filterMode: 'weakFilter',
          start: startPct,
          end: 100,
          height: 18,
          bottom: 8,
          textStyle: { color: p.muted },
          borderColor: p.grid,
        },
      ],
      tooltip: trialTooltip(
        p,
        [{ series: 0, rows }],
        (r) =>
          `#${store.number.data[r]} ${stateNames[store.state.data[r]]}  ${formatTime(store.start.data[r])} → ${formatTime(finite(store.complete.data[r]) ? store.complete.data[r] : now)}`,
      ),
      series: [
        {
          type: 'custom',
          ...flat(data, ['lane', 'start', 'end', 'state']),
          encode: { x: [1, 2], y: 0 },
          progressive: 4000,
          progressiveThreshold: 8000,
          renderItem: (
            _params: unknown,
            api: {
              value(i: number): number;
              coord(v: number[]): number[];
              size(v: number[]): number[];
            },
          ) => {
            const l = api.value(0);
            const a = api.coord([api.value(1), l]);
            const b = api.coord([api.value(2), l]);
            const height = Math.max(2, api.size([0, 1])[1] * 0.7);
            return {
              type: 'rect',
              shape: { x: a[0], y: a[1] - height / 2, width: Math.max(b[0] - a[0], 1), height },
              style: { fill: colors[api.value(3)] },
            };
          },
        },
      ],
    },
  };
}

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
      tooltip: {
        ...(base(p).tooltip as object),
        trigger: 'item',
        formatter: (i: { seriesName: string; value: number[] }) =>
          `${i.seriesName}  step ${i.value[0]}: ${formatNumber(i.value[1])}`,
      },
      series,
    },
  };
}
