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
      return;
    }
    case 'delta': {
      const t0 = performance.now();
      const before = store.params.length + store.userAttrs.length;
      const rows = store.apply(m);
      if (rows === 'all' || m.generation !== store.generation) return;
      renderHeader();
      if (store.params.length + store.userAttrs.length !== before) trials.rebuildColumns();
      brush.grow(store.count);
      trials.rowsChanged(rows);
      host.report({
        event: 'applied',
        ms: performance.now() - t0,
        encodedAt: m.encodedAt,
        detail: `${rows.length} rows`,
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

host.onMessage(onMessage);
onThemeChange(() => plots.retheme());
host.post({ type: 'ready', state: host.state.studyKey ? host.state : undefined });
