// The study page's webview (the esbuild entry): the header, the plots (Apache ECharts on canvas)
// and the virtualized trial table over columns, put together here and fed by the host's
// messages. The page's own choices survive reloads (Host.state); the host sends a snapshot after
// "ready" (rows first, then the other columns), then deltas while the page is visible.
import type { HostMessage } from '../../core/studyPage/protocol';
import { ParallelBrush } from './brush';
import { DetailsPanel } from './details';
import { h } from './dom';
import { Header } from './header';
import { Host } from './host';
import { Plots } from './plots';
import { PageStore } from './store';
import { onThemeChange } from './theme';
import { Trials } from './trials';

/** When this script started (the benchmark tells the webview's start from the page's). */
const startedAt = Date.now();
const store = new PageStore();
const host: Host = new Host(() => ({
  generation: store.generation,
  rows: store.count,
  shown: trials.shownCount,
}));
const header = new Header(host.state.studyName);
const brush = new ParallelBrush(store, {
  brushed: () => trials.applyFilters(),
  cleared: () => {
    plots.render('parallel');
    trials.applyFilters();
  },
});
const plots = new Plots(host, store, brush, (row) => trials.pick(row));
const trials = new Trials(host, store, brush);
const details = new DetailsPanel(() => trials.focus());

document.body.append(
  h(
    'main',
    { class: 'page' },
    header.banner,
    header.head,
    header.notes,
    plots.bar,
    plots.section,
    trials.section,
  ),
  details.el,
);

/** The header and the objective picker follow the study's header. */
function renderHeader(): void {
  if (!store.header) return;
  header.render(store.header, store);
  plots.syncObjectives(store.header.directions);
}

function onMessage(m: HostMessage): void {
  switch (m.type) {
    case 'snapshot': {
      const t0 = performance.now();
      const arrivedAt = Date.now();
      store.apply(m);
      plots.reset(m.encodedAt);
      brush.reset();
      host.save({ studyKey: m.header.key, studyName: m.header.name });
      renderHeader();
      trials.snapshot();
      host.report({
        event: 'table',
        ms: performance.now() - t0,
        encodedAt: m.encodedAt,
        arrivedAt,
        detail: `csp violations: ${host.cspViolations}`,
      });
      plots.draw.first();
      return;
    }
    case 'columns': {
      const t0 = performance.now();
      const arrivedAt = Date.now();
      if (!store.applyColumns(m)) return;
      trials.columnsArrived();
      host.report({ event: 'columns', ms: performance.now() - t0, arrivedAt });
      plots.draw.others();
      reserveWhenIdle();
      return;
    }
    case 'delta': {
      // Each step's time goes into the report: the benchmark prints where an update's time goes.
      const t0 = performance.now();
      const arrivedAt = Date.now();
      const before = store.params.length + store.userAttrs.length;
      const rows = store.apply(m);
      if (rows === 'all' || m.generation !== store.generation) return;
      const t1 = performance.now();
      renderHeader();
      if (store.params.length + store.userAttrs.length !== before) trials.rebuildColumns();
      brush.grow(store.count);
      const t2 = performance.now();
      const steps = trials.rowsChanged(rows);
      const t3 = performance.now();
      host.report({
        event: 'applied',
        ms: t3 - t0,
        encodedAt: m.encodedAt,
        arrivedAt,
        detail: `${rows.length} rows: store ${ms(t1 - t0)}, header ${ms(t2 - t1)}, ${steps}`,
      });
      plots.draw.live();
      return;
    }
    case 'stale':
      if (m.generation !== store.generation) return;
      store.stale = new Map(m.items.map((x) => [x.row, x.reasons]));
      renderHeader();
      trials.staleChanged();
      return;
    case 'importance':
      plots.setImportance(m);
      return;
    case 'curves':
      if (m.generation === store.generation) plots.setCurves(m);
      return;
    case 'details':
      details.show(m, store.stale.get(m.row));
      return;
    case 'status':
      header.status(m);
      return;
  }
}

/**
 * Once the page is idle after a snapshot, room for the rows live updates will add (an eighth
 * more, at least 1,024), so that an update writes its rows instead of first copying every
 * column. Reported with its time: the benchmark shows this cost next to the update's.
 */
function reserveWhenIdle(): void {
  const generation = store.generation;
  requestIdleCallback(
    () => {
      if (store.generation !== generation) return;
      const t0 = performance.now();
      const rows = store.count + Math.max(1024, Math.ceil(store.count / 8));
      store.reserve(rows);
      host.report({ event: 'reserved', ms: performance.now() - t0, detail: `${rows} rows` });
    },
    { timeout: 5000 },
  );
}

/** "12.3 ms" */
function ms(v: number): string {
  return `${v.toFixed(1)} ms`;
}

host.onMessage(onMessage);
onThemeChange(() => plots.retheme());
host.post({
  type: 'ready',
  state: host.state.studyKey ? host.state : undefined,
  documentAt: Math.round(performance.timeOrigin),
  startedAt,
  at: Date.now(),
});
