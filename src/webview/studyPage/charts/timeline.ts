// The timeline: a bar per trial from start to completion (or now), a lane per worker,
// coloured by state, zoomable along time.
import type { Palette } from '../palette';
import type { PageStore } from '../store';
import { formatTime } from '../table.model';
import type { ZoomWindow } from '../zoom';
import { type Built, axis, base, finite, flat, trialTooltip } from './common';

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

/**
 * The timeline's option; `zoom`: the window the user chose (kept across redraws). `initial` is
 * the default window, where a reset goes back to.
 */
export function timelineOption(
  store: PageStore,
  now: number,
  p: Palette,
  zoom?: ZoomWindow,
): Built & { initial: ZoomWindow } {
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
  const initial = { start: startPct, end: 100 };
  const { start, end } = zoom ?? initial;
  return {
    initial,
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
        { type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter', start, end },
        {
          type: 'slider',
          xAxisIndex: 0,
          filterMode: 'weakFilter',
          start,
          end,
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
