// The study page's webview: header, plots (Apache ECharts, tree-shaken, canvas) and the
// virtualized trial table over columns. State survives reloads through getState/setState;
// the host sends a snapshot after "ready", then deltas while the page is visible.
import { BarChart, CustomChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
} from 'echarts/components';
import { type ECharts, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import {
  type CurvesMessage,
  type DetailsMessage,
  type HostMessage,
  type ImportanceMessage,
  type PageReport,
  type PageState,
  STATE_NAMES,
  StateCode,
  type StatusMessage,
  type WebviewMessage,
} from '../../core/studyPage/protocol';
import {
  type Built,
  curvesOption,
  historyOption,
  importanceOption,
  type ParallelAxisDef,
  parallelAxes,
  parallelOption,
  parallelRows,
  paretoOption,
  sliceOption,
  timelineOption,
} from './chartOptions';
import { clear, h } from './dom';
import { PageStore } from './store';
import { VirtualTable } from './table';
import {
  type TableColumn,
  filterMask,
  formatNumber,
  mergeSorted,
  sortRows,
  tableColumns,
  visibleRows,
} from './table.model';
import type { Palette } from './palette';
import { onThemeChange, palette } from './theme';

use([
  ScatterChart,
  LineChart,
  BarChart,
  ParallelChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  DataZoomComponent,
  LegendComponent,
  ParallelComponent,
  CanvasRenderer,
]);

interface VsCodeApi {
  postMessage(msg: WebviewMessage, transfer?: Transferable[]): void;
  getState(): PageState | undefined;
  setState(s: PageState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const store = new PageStore();
let state: PageState = vscode.getState() ?? { studyKey: '', studyName: '' };
let pal: Palette = palette();
let importance: ImportanceMessage | undefined;
let curves: CurvesMessage | undefined;
let cspViolations = 0;
document.addEventListener('securitypolicyviolation', (e) => {
  cspViolations++;
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
});

function post(msg: WebviewMessage, transfer?: Transferable[]): void {
  vscode.postMessage(msg, transfer);
}

function saveState(patch: Partial<PageState>): void {
  state = { ...state, ...patch };
  vscode.setState(state);
}

function report(r: Omit<PageReport, 'generation' | 'rows' | 'shown'>): void {
  const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  post({
    type: 'report',
    report: {
      at: Date.now(),
      generation: store.generation,
      rows: store.count,
      shown: table.shownRows.length,
      heapBytes: mem?.usedJSHeapSize,
      ...r,
    },
  });
}

// ---- layout ------------------------------------------------------------------------------

const banner = h('div', { class: 'banner', role: 'status', hidden: true });
const title = h('h1', {}, state.studyName || 'Study');
const chips = h('div', { class: 'chips' });
const live = h('span', { class: 'live', role: 'status' }, 'connecting…');
const notesEl = h('ul', { class: 'notes' });
const objectiveSelect = h('select', { 'aria-label': 'Objective' });
objectiveSelect.addEventListener('change', () => {
  saveState({ objective: Number(objectiveSelect.value) });
  renderCharts();
});
const chartBar = h('div', { class: 'chartbar' }, h('label', {}, 'Objective ', objectiveSelect));
const chartsEl = h('section', { class: 'charts', 'aria-label': 'Plots' });
const details = h('aside', {
  class: 'details',
  hidden: true,
  'aria-label': 'Trial details',
  tabindex: '-1',
});

interface Card {
  id: string;
  el: HTMLElement;
  body: HTMLElement;
  notes: HTMLElement;
  caption: HTMLElement;
  chart?: ECharts;
  built?: Built;
  build(): Built | undefined;
  hidden?(): string | undefined;
}
const cards: Card[] = [];

function card(
  id: string,
  name: string,
  caption: string,
  controls: HTMLElement[],
  build: () => Built | undefined,
  hidden?: () => string | undefined,
): Card {
  const body = h('div', { class: 'chart', role: 'img', 'aria-label': `${name}: ${caption}` });
  const notes = h('p', { class: 'cardnotes' });
  const cap = h('p', { class: 'caption' }, caption);
  const el = h(
    'section',
    { class: 'card', id: `card-${id}` },
    h('div', { class: 'cardhead' }, h('h2', {}, name), ...controls),
    cap,
    body,
    notes,
  );
  const c: Card = { id, el, body, notes, caption: cap, build, hidden };
  cards.push(c);
  chartsEl.append(el);
  return c;
}

function toggle(label: string, checked: boolean, onChange: (v: boolean) => void): HTMLElement {
  const box = h('input', { type: 'checkbox', checked });
  box.addEventListener('change', () => onChange(box.checked));
  return h('label', { class: 'toggle' }, box, ` ${label}`);
}

const objective = () => Math.min(state.objective ?? 0, Math.max(0, store.directions().length - 1));

card(
  'history',
  'Optimization history',
  'Every finished trial’s value by trial number; the line is the best value so far.',
  [
    toggle('log scale', !!state.logScale, (v) => {
      saveState({ logScale: v });
      renderCard('history');
    }),
    toggle('include PRUNED', state.includePruned !== false, (v) => {
      saveState({ includePruned: v });
      renderCard('history');
    }),
  ],
  () =>
    historyOption(
      store,
      objective(),
      { log: !!state.logScale, includePruned: state.includePruned !== false },
      pal,
    ),
);
card(
  'importance',
  'Parameter importance',
  'PED-ANOVA (Watanabe et al., IJCAI 2023; Optuna 5’s default): how much each param matters for reaching the best 10 % of values. Computed here, off the main thread, when the number of COMPLETE trials changes.',
  [],
  () => importanceOption(importance, objective(), pal),
);
card(
  'curves',
  'Intermediate values',
  'Learning curves: the best trials, RUNNING and selected trials as lines; past 100 curves the rest as a density.',
  [],
  () => curvesOption(curves, pal),
);
const sliceSelect = h('select', { 'aria-label': 'Param of the slice plot' });
sliceSelect.addEventListener('change', () => {
  saveState({ sliceParam: sliceSelect.value });
  renderCard('slice');
});
card(
  'slice',
  'Slice',
  'The value of every COMPLETE trial against one param.',
  [sliceSelect],
  () => {
    const id = store.params.findIndex((c) => c.meta.name === sliceSelect.value);
    return id >= 0 ? sliceOption(store, id, objective(), pal) : undefined;
  },
  () => (store.params.length ? undefined : 'This study has no params.'),
);
let axes: ParallelAxisDef[] = [];
let brushIntervals = new Map<number, number[][]>();
const clearBrush = h('button', { class: 'small', hidden: true }, 'Clear brush');
clearBrush.addEventListener('click', () => {
  brushIntervals = new Map();
  brush = undefined;
  clearBrush.hidden = true;
  renderCard('parallel');
  applyFilters();
});
card(
  'parallel',
  'Parallel coordinates',
  'Each line is a COMPLETE trial; drag along an axis to brush: the table then lists only the trials inside every brushed range.',
  [clearBrush],
  () => {
    axes = parallelAxes(store, importance);
    return axes.length ? parallelOption(store, axes, parallelRows(store), pal) : undefined;
  },
  () => (store.params.length ? undefined : 'This study has no params.'),
);
card(
  'pareto',
  'Pareto front',
  'COMPLETE trials by their objective values; the non-dominated ones in red.',
  [],
  () => paretoOption(store, pal),
  () => {
    const k = store.directions().length;
    return k === 2 || k === 3
      ? undefined
      : k > 3
        ? `The Pareto plot shows two or three objectives; this study has ${k}: see the history and slice per objective.`
        : 'Single objective: no Pareto front.';
  },
);
card(
  'timeline',
  'Timeline',
  'Trials per worker over time, coloured by state (blue COMPLETE, yellow PRUNED, red FAIL, green RUNNING); scroll or drag the slider to zoom; every trial is there.',
  [],
  () => timelineOption(store, Date.now(), pal),
);

// Trials section
const stateBoxes = new Map<string, HTMLInputElement>();
const stateFilter = h('fieldset', { class: 'states' }, h('legend', {}, 'States'));
for (const s of STATE_NAMES) {
  const box = h('input', { type: 'checkbox', checked: !state.states || state.states.includes(s) });
  box.addEventListener('change', () => {
    saveState({ states: STATE_NAMES.filter((n) => stateBoxes.get(n)!.checked) });
    applyFilters();
  });
  stateBoxes.set(s, box);
  stateFilter.append(h('label', { class: `st-${s}` }, box, ` ${s}`));
}
const filterInput = h('input', {
  type: 'text',
  class: 'filter',
  placeholder: 'filter, e.g. lr < 0.01 and state == COMPLETE',
  'aria-label': 'Filter expression',
  spellcheck: 'false',
  value: state.filter ?? '',
});
const filterError = h('div', { class: 'error', role: 'alert', hidden: true });
let filterTimer: number | undefined;
filterInput.addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => {
    saveState({ filter: filterInput.value });
    applyFilters();
  }, 250);
});
filterInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    clearTimeout(filterTimer);
    saveState({ filter: filterInput.value });
    applyFilters();
  }
});
const jumpInput = h('input', {
  type: 'number',
  class: 'jump',
  placeholder: '#',
  'aria-label': 'Jump to trial number',
  min: '0',
});
const status = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
jumpInput.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  const row = store.rowOf(Number(jumpInput.value));
  if (row === undefined) return setStatusNote(`There is no trial #${jumpInput.value}.`);
  if (!table.reveal(row)) setStatusNote(`Trial #${jumpInput.value} is hidden by the filters.`);
  else activate(row);
});
const exportCsv = h('button', {}, 'Export CSV');
const exportJson = h('button', {}, 'Export JSON');
for (const [b, format] of [
  [exportCsv, 'csv'],
  [exportJson, 'json'],
] as const)
  b.addEventListener('click', () => {
    const rows = Int32Array.from(table.shownRows);
    post({ type: 'export', format, rows: rows.buffer }, [rows.buffer]);
  });
const markFail = h('button', { class: 'danger', hidden: true }, 'Mark as FAIL…');
markFail.addEventListener('click', () => {
  const rows = markFailRows();
  if (rows.length) post({ type: 'markFail', rows });
});
const staleButton = h('button', { hidden: true }, 'Show stale');
staleButton.addEventListener('click', () => {
  filterInput.value = 'stale';
  saveState({ filter: 'stale' });
  applyFilters();
});
const chooser = h('details', { class: 'chooser' }, h('summary', {}, 'Columns'));
const chooserList = h('div', { class: 'chooserlist' });
chooser.append(chooserList);
const toolbar = h(
  'div',
  { class: 'toolbar' },
  stateFilter,
  h('div', { class: 'filterbox' }, filterInput, filterError),
  jumpInput,
  chooser,
  exportCsv,
  exportJson,
  staleButton,
  markFail,
);

const table = new VirtualTable({
  sort: (c) => {
    const descending = state.sort?.column === c.id ? !state.sort.descending : false;
    saveState({ sort: { column: c.id, descending } });
    resort(true);
  },
  select: (row) => {
    selected = row;
    updateMarkFail();
  },
  activate: (row) => activate(row),
});
table.setRowClass((row) => `s-${store.stateName(row)}${store.stale.has(row) ? ' stale' : ''}`);

const trialsEl = h(
  'section',
  { class: 'trials', 'aria-label': 'Trials' },
  h('h2', {}, 'Trials'),
  toolbar,
  table.root,
  status,
);
const page = h(
  'main',
  { class: 'page' },
  banner,
  h('header', { class: 'head' }, h('div', { class: 'titlerow' }, title, live), chips),
  notesEl,
  chartBar,
  chartsEl,
  trialsEl,
);
document.body.append(page, details);

// ---- table state -------------------------------------------------------------------------

let columns: TableColumn[] = [];
let shownColumns: TableColumn[] = [];
let order: Uint32Array = new Uint32Array(0);
let mask: Uint8Array | undefined;
let brush: Uint8Array | undefined;
let selected = -1;
let selectedForCurves: number[] = [];
let statusNote = '';
let sortMs: number | undefined;

function rebuildColumns(): void {
  columns = tableColumns(store);
  const shown = new Set(state.shownColumns ?? []);
  const hiddenSet = new Set(state.hiddenColumns ?? []);
  shownColumns = columns.filter((c) =>
    c.shownByDefault ? !hiddenSet.has(c.title) : shown.has(c.title),
  );
  clear(chooserList);
  for (const c of columns) {
    const box = h('input', { type: 'checkbox', checked: shownColumns.includes(c) });
    box.addEventListener('change', () => {
      const hide = new Set(state.hiddenColumns ?? []);
      const show = new Set(state.shownColumns ?? []);
      if (box.checked) {
        hide.delete(c.title);
        show.add(c.title);
      } else {
        show.delete(c.title);
        hide.add(c.title);
      }
      saveState({ hiddenColumns: [...hide], shownColumns: [...show] });
      rebuildColumns();
    });
    chooserList.append(h('label', {}, box, ` ${c.title}`));
  }
  table.setColumns(
    shownColumns,
    state.sort ? { id: state.sort.column, descending: state.sort.descending } : undefined,
  );
}

function sortColumn(): TableColumn {
  return columns.find((c) => c.id === state.sort?.column) ?? columns[0];
}

/** Sorts every row (a full sort; `timed` reports how long it took). */
function resort(timed = false): void {
  const t0 = performance.now();
  const c = sortColumn();
  order = sortRows(store.count, c.key, !!state.sort?.descending);
  const ms = performance.now() - t0;
  if (timed) sortMs = ms;
  table.setColumns(
    shownColumns,
    state.sort ? { id: state.sort.column, descending: state.sort.descending } : undefined,
  );
  show();
  if (timed) report({ event: 'sorted', ms, detail: c.id });
}

/** A live update merges its rows into the sorted order (no full sort). */
function mergeRows(changed: number[]): void {
  order = mergeSorted(order, changed, sortColumn().key, !!state.sort?.descending);
}

/** False between a snapshot's rows and its columns (params, times…), which expressions read. */
let columnsIn = false;

function applyFilters(): void {
  // An expression over params not yet in would hide every row: it applies once they are.
  if (!columnsIn && filterInput.value.trim()) {
    mask = undefined;
    show();
    return;
  }
  const t0 = performance.now();
  const states = new Set(STATE_NAMES.filter((s) => stateBoxes.get(s)!.checked));
  const r = filterMask(store, columns, { states, expression: filterInput.value, brush });
  filterError.hidden = !r.error;
  filterError.textContent = r.error ? `Filter: ${r.error}` : '';
  filterInput.setAttribute('aria-invalid', String(!!r.error));
  mask = r.error ? maskWithout(states) : r.mask;
  show();
  report({
    event: 'filtered',
    ms: performance.now() - t0,
    detail: r.error ?? (brush ? `brush: ${brushText()}` : undefined),
  });
}

/** With a bad expression, the other filters still apply. */
function maskWithout(states: Set<string>): Uint8Array | undefined {
  return filterMask(store, columns, { states, brush }).mask;
}

function show(): void {
  table.setRows(visibleRows(order, mask));
  updateStatus();
  updateMarkFail();
}

function setStatusNote(text: string): void {
  statusNote = text;
  updateStatus();
}

function updateStatus(): void {
  const shown = table.shownRows.length;
  const c = sortColumn();
  const parts = [
    `${shown.toLocaleString('en-US')} of ${store.count.toLocaleString('en-US')} trials`,
    c
      ? `sorted by ${c.title} ${state.sort?.descending ? '▼' : '▲'}${sortMs !== undefined ? ` (${sortMs.toFixed(0)} ms)` : ''}`
      : '',
    brush ? `brushed on the parallel coordinates: ${brushText()}` : '',
    statusNote,
  ];
  status.textContent = parts.filter(Boolean).join(' · ');
}

function markFailRows(): number[] {
  if (selected >= 0 && store.state.data[selected] === StateCode.Running) return [selected];
  return [...table.shownRows].filter((r) => store.stale.has(r));
}

function updateMarkFail(): void {
  const canWrite = !!store.header?.canWrite;
  const rows = canWrite ? markFailRows() : [];
  markFail.hidden = rows.length === 0;
  markFail.textContent =
    rows.length === 1
      ? `Mark #${store.number.data[rows[0]]} as FAIL…`
      : `Mark ${rows.length} stale trials as FAIL…`;
  staleButton.hidden = store.stale.size === 0;
  staleButton.textContent = `Show ${store.stale.size} stale`;
}

function activate(row: number): void {
  post({ type: 'details', row });
  post({ type: 'reveal', row });
  selectedForCurves = [row, ...selectedForCurves.filter((r) => r !== row)].slice(0, 10);
  if (store.steps.data[row] > 0) post({ type: 'curves', rows: selectedForCurves });
}

// ---- header ------------------------------------------------------------------------------

function renderHeader(): void {
  const hd = store.header;
  if (!hd) return;
  title.textContent = hd.name;
  document.title = hd.name;
  clear(chips);
  const chip = (text: string, cls = '') => chips.append(h('span', { class: `chip ${cls}` }, text));
  chip(hd.directions.map((d) => d.toLowerCase()).join(' / '));
  for (const s of STATE_NAMES)
    if (hd.counts[s]) chip(`${s} ${hd.counts[s].toLocaleString('en-US')}`, `st-${s}`);
  if (!store.count) chip('no trials yet');
  if (hd.best) chip(`best ${formatNumber(hd.best.value)} (#${hd.best.number})`, 'best');
  else if (hd.directions.length > 1) chip(`${hd.directions.length} objectives`);
  for (const s of hd.sources) chip(s, 'source');
  if (hd.lastActivity) chip(`last activity ${hd.lastActivity.replace('T', ' ').slice(0, 19)}`);
  if (store.stale.size) chip(`${store.stale.size} stale RUNNING`, 'stale');
  live.textContent = hd.live ? '● live' : '❚❚ paused';
  live.className = `live ${hd.live ? 'on' : 'off'}`;
  live.title = hd.store.detail;
  clear(notesEl);
  for (const n of store.notes) notesEl.append(h('li', {}, n));
  const dirs = hd.directions;
  if (objectiveSelect.options.length !== dirs.length) {
    clear(objectiveSelect);
    dirs.forEach((d, i) =>
      objectiveSelect.append(
        h(
          'option',
          { value: String(i) },
          dirs.length === 1 ? `value (${d.toLowerCase()})` : `values[${i}] (${d.toLowerCase()})`,
        ),
      ),
    );
  }
  objectiveSelect.value = String(objective());
  chartBar.hidden = dirs.length < 2;
}

function updateSliceParams(): void {
  const names = store.params.map((c) => c.meta.name);
  const ranked = importance?.objectives[objective()]?.params.map((p) => p.name) ?? [];
  const ordered = [
    ...ranked.filter((n) => names.includes(n)),
    ...names.filter((n) => !ranked.includes(n)).sort(),
  ];
  if (sliceSelect.options.length !== ordered.length) {
    clear(sliceSelect);
    for (const n of ordered) sliceSelect.append(h('option', { value: n }, n));
  }
  sliceSelect.value =
    state.sliceParam && names.includes(state.sliceParam) ? state.sliceParam : (ordered[0] ?? '');
}

// ---- charts ------------------------------------------------------------------------------

function renderCard(id: string): void {
  const c = cards.find((x) => x.id === id)!;
  const why = c.hidden?.();
  c.el.classList.toggle('empty', !!why);
  // A single-objective study has no Pareto front to speak of: no card at all.
  c.el.hidden = id === 'pareto' && store.directions().length < 2;
  if (why) {
    c.chart?.dispose();
    c.chart = undefined;
    c.body.hidden = true;
    c.notes.textContent = why;
    return;
  }
  c.body.hidden = false;
  let built: Built | undefined;
  try {
    built = c.build();
  } catch (e) {
    c.notes.textContent = `This plot could not be drawn: ${(e as Error).message}`;
    return;
  }
  if (!built) return;
  c.built = built;
  if (!c.chart) {
    const chart = init(c.body, undefined, { renderer: 'canvas' });
    c.chart = chart;
    new ResizeObserver(() => chart.resize()).observe(c.body);
    chart.on('click', (e) => {
      const p = e as unknown as { seriesIndex: number; dataIndex: number };
      const rows = c.built?.rowsOf?.find((x) => x.series === p.seriesIndex)?.rows;
      const row = rows?.[p.dataIndex];
      if (row === undefined) return;
      if (!table.reveal(row))
        setStatusNote(`Trial #${store.number.data[row]} is hidden by the filters.`);
      activate(row);
    });
    if (id === 'parallel') chart.on('axisareaselected', () => onBrush());
  }
  c.chart.setOption(built.option, { notMerge: true, lazyUpdate: false });
  c.notes.textContent = built.notes.join(' ');
}

let drawnReported = -1;
/** Draws every card: the history first (the first chart a user waits for), the rest after. */
let chartsStartedAt = 0;
const took: string[] = [];

function timedCard(id: string): void {
  const t = performance.now();
  renderCard(id);
  took.push(`${id} ${(performance.now() - t).toFixed(0)} ms`);
}

/** The optimization history: the first plot a user waits for, drawn as soon as rows are in. */
function renderFirstChart(): void {
  chartsStartedAt = performance.now();
  took.length = 0;
  timedCard('history');
  cards
    .find((c) => c.id === 'history')!
    .chart?.getZr()
    .flush();
  if (drawnReported !== store.generation) {
    drawnReported = store.generation;
    report({
      event: 'drawn',
      charts: ['history'],
      ms: performance.now() - chartsStartedAt,
      encodedAt,
    });
  }
}

/** The other plots, one per task so the page stays responsive in between. */
function renderOtherCharts(): void {
  updateSliceParams();
  const rest = cards.filter((c) => c.id !== 'history');
  let k = 0;
  const next = () => {
    if (k >= rest.length) {
      report({
        event: 'drawn',
        charts: cards.filter((c) => c.chart).map((c) => c.id),
        ms: performance.now() - chartsStartedAt,
        encodedAt,
        detail: took.join(', '),
      });
      return;
    }
    timedCard(rest[k++].id);
    setTimeout(next, 0);
  };
  setTimeout(next, 0);
}

function renderCharts(): void {
  renderFirstChart();
  renderOtherCharts();
}

let chartTimer: number | undefined;
let chartsDueAt = 0;
/** Live updates redraw the plots at most every second (every 3 s past 20,000 trials). */
function scheduleCharts(): void {
  if (chartTimer !== undefined) return;
  const gap = store.count > 20000 ? 3000 : 1000;
  const wait = Math.max(0, chartsDueAt - Date.now());
  chartTimer = window.setTimeout(() => {
    chartTimer = undefined;
    chartsDueAt = Date.now() + gap;
    renderCharts();
  }, wait);
}

/** "lr 0.0001–0.01, optimizer adam–sgd": the brushed ranges, in the axes' own terms. */
function brushText(): string {
  return [...brushIntervals]
    .map(([i, iv]) => {
      const a = axes[i];
      const show = (v: number) =>
        a.categories ? (a.categories[Math.round(v)] ?? '') : formatNumber(v);
      return `${a.name} ${iv.map(([x, y]) => `${show(x)}–${show(y)}`).join(' or ')}`;
    })
    .join(', ');
}

/** A brush on the parallel coordinates: every row (not only the drawn lines) inside all ranges. */
function onBrush(): void {
  const chart = cards.find((c) => c.id === 'parallel')?.chart;
  if (!chart) return;
  // The event names one axis; read every axis's intervals back from the chart's model.
  const opt = chart.getOption() as { parallelAxis?: Array<{ dim: number }> };
  const model = (
    chart as unknown as {
      getModel(): {
        getComponent(t: string, i: number): { activeIntervals: number[][] } | undefined;
      };
    }
  ).getModel();
  brushIntervals = new Map();
  (opt.parallelAxis ?? []).forEach((_a, i) => {
    const iv = model.getComponent('parallelAxis', i)?.activeIntervals ?? [];
    if (iv.length) brushIntervals.set(i, iv);
  });
  if (brushIntervals.size === 0) brush = undefined;
  else {
    brush = new Uint8Array(store.count);
    for (let r = 0; r < store.count; r++) {
      let ok = true;
      for (const [i, iv] of brushIntervals) {
        const v = axes[i].value(r);
        if (Number.isNaN(v) || !iv.some(([a, b]) => v >= a && v <= b)) {
          ok = false;
          break;
        }
      }
      brush[r] = ok ? 1 : 0;
    }
  }
  clearBrush.hidden = !brush;
  applyFilters();
}

// ---- details -----------------------------------------------------------------------------

function showDetails(m: DetailsMessage): void {
  clear(details);
  const close = h('button', { class: 'close', 'aria-label': 'Close details' }, '×');
  close.addEventListener('click', () => {
    details.hidden = true;
    table.focus();
  });
  details.append(close);
  const reasons = store.stale.get(m.row);
  if (reasons)
    details.append(
      h('div', { class: 'stalebox' }, h('strong', {}, 'Looks stale: '), reasons.join('; ')),
    );
  for (const s of m.sections) {
    details.append(h('h3', {}, s.title));
    const dl = h('dl', {});
    for (const [k, v] of s.entries) dl.append(h('dt', {}, k), h('dd', {}, v));
    details.append(dl);
  }
  details.hidden = false;
}
details.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    details.hidden = true;
    table.focus();
  }
});

// ---- messages ----------------------------------------------------------------------------

let encodedAt: number | undefined;

function onStatus(m: StatusMessage): void {
  banner.hidden = !m.banner;
  banner.textContent = m.banner?.text ?? '';
  banner.className = `banner ${m.banner?.kind ?? ''}`;
}

window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
  const m = ev.data;
  switch (m.type) {
    case 'snapshot': {
      const t0 = performance.now();
      const arrivedAt = Date.now();
      encodedAt = m.encodedAt;
      store.apply(m);
      columnsIn = false;
      importance = undefined;
      curves = undefined;
      brush = undefined;
      clearBrush.hidden = true;
      saveState({ studyKey: m.header.key, studyName: m.header.name });
      renderHeader();
      rebuildColumns();
      resort();
      applyFilters();
      report({
        event: 'table',
        ms: performance.now() - t0,
        encodedAt: m.encodedAt,
        arrivedAt,
        detail: `csp violations: ${cspViolations}`,
      });
      renderFirstChart();
      break;
    }
    case 'columns': {
      const t0 = performance.now();
      const arrivedAt = Date.now();
      if (!store.applyColumns(m)) break;
      columnsIn = true;
      table.paint(true);
      if (state.sort && state.sort.column !== 'number') resort();
      applyFilters();
      report({ event: 'columns', ms: performance.now() - t0, arrivedAt });
      renderOtherCharts();
      break;
    }
    case 'delta': {
      const t0 = performance.now();
      const before = store.params.length + store.userAttrs.length;
      const rows = store.apply(m);
      if (rows === 'all' || m.generation !== store.generation) break;
      renderHeader();
      if (store.params.length + store.userAttrs.length !== before) rebuildColumns();
      if (brush && brush.length < store.count) {
        const b = new Uint8Array(store.count);
        b.set(brush);
        brush = b;
      }
      mergeRows(rows as number[]);
      applyFilters();
      report({
        event: 'applied',
        ms: performance.now() - t0,
        encodedAt: m.encodedAt,
        detail: `${(rows as number[]).length} rows`,
      });
      scheduleCharts();
      break;
    }
    case 'stale': {
      if (m.generation !== store.generation) break;
      store.stale = new Map(m.items.map((x) => [x.row, x.reasons]));
      renderHeader();
      table.paint(true);
      updateMarkFail();
      if (filterInput.value.includes('stale')) applyFilters();
      break;
    }
    case 'importance':
      importance = m;
      updateSliceParams();
      renderCard('importance');
      renderCard('parallel');
      renderCard('slice');
      break;
    case 'curves':
      if (m.generation !== store.generation) break;
      curves = m;
      renderCard('curves');
      break;
    case 'details':
      showDetails(m);
      break;
    case 'status':
      onStatus(m);
      break;
  }
});

onThemeChange(() => {
  pal = palette();
  for (const c of cards) if (c.chart) renderCard(c.id);
});

post({ type: 'ready', state: state.studyKey ? state : undefined });
