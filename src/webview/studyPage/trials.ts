// The trials section: the virtualized table over the store, its sort, its filters (states, the
// expression, the parallel-coordinates brush), the status line, jump-to-trial, and which trial
// is selected and opened. Sort and filters are index permutations and masks (table.model), never
// copies of rows; a live update merges its rows into the order instead of sorting again.
import type { ParallelBrush } from './brush';
import { ColumnChooser } from './columnChooser';
import { h } from './dom';
import { TrialFilters } from './filters';
import type { Host } from './host';
import type { PageStore } from './store';
import { VirtualTable } from './table';
import {
  type TableColumn,
  filterMask,
  mergeSorted,
  sortRows,
  tableColumns,
  visibleRows,
} from './table.model';
import { TrialActions } from './trialActions';

export class Trials {
  readonly section: HTMLElement;
  private readonly table: VirtualTable;
  private readonly filters: TrialFilters;
  private readonly chooser: ColumnChooser;
  private readonly actions: TrialActions;
  private readonly status = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
  private columns: TableColumn[] = [];
  private shownColumns: TableColumn[] = [];
  private order: Uint32Array = new Uint32Array(0);
  private mask: Uint8Array | undefined;
  private selected = -1;
  /** The trials opened last (most recent first): their learning curves are drawn as lines. */
  private selectedForCurves: number[] = [];
  private statusNote = '';
  private sortMs: number | undefined;
  /** False between a snapshot's rows and its columns (params, times…), which expressions read. */
  private columnsIn = false;

  constructor(
    private readonly host: Host,
    private readonly store: PageStore,
    private readonly brush: ParallelBrush,
  ) {
    this.filters = new TrialFilters(host, () => this.applyFilters());
    this.chooser = new ColumnChooser(host, () => this.rebuildColumns());
    this.actions = new TrialActions(host, store, {
      shownRows: () => this.table.shownRows,
      isShown: (row) => !this.mask || this.mask[row] === 1,
      selected: () => this.selected,
      showStale: () => this.filters.use('stale'),
    });
    this.table = new VirtualTable({
      sort: (c) => {
        const sort = host.state.sort;
        const descending = sort?.column === c.id ? !sort.descending : false;
        host.save({ sort: { column: c.id, descending } });
        this.resort(true);
      },
      select: (row) => {
        this.selected = row;
        this.actions.update();
      },
      activate: (row) => this.open(row),
    });
    this.table.setRowClass(
      (row) => `s-${store.stateName(row)}${store.stale.has(row) ? ' stale' : ''}`,
    );
    const toolbar = h(
      'div',
      { class: 'toolbar' },
      this.filters.states,
      this.filters.expressionBox,
      this.jumpInput(),
      this.chooser.el,
      ...this.actions.buttons,
    );
    this.section = h(
      'section',
      { class: 'trials', 'aria-label': 'Trials' },
      h('h2', {}, 'Trials'),
      toolbar,
      this.table.root,
      this.status,
    );
  }

  get shownCount(): number {
    return this.table.shownRows.length;
  }

  focus(): void {
    this.table.focus();
  }

  /** A snapshot's rows are in (its columns follow): everything from scratch. */
  snapshot(): void {
    this.columnsIn = false;
    this.rebuildColumns();
    this.resort();
    this.applyFilters();
  }

  /** The snapshot's columns are in: cells fill, and a sort or filter on them applies. */
  columnsArrived(): void {
    this.columnsIn = true;
    this.table.paint(true);
    if (this.host.state.sort && this.host.state.sort.column !== 'number') this.resort();
    this.applyFilters();
  }

  /**
   * A live update wrote `rows`: merged into the sorted order (no full sort), then filtered.
   * Returns the time of each step, in words.
   */
  rowsChanged(rows: number[]): string {
    const sort = this.host.state.sort;
    const t0 = performance.now();
    this.order = mergeSorted(this.order, rows, this.sortColumn().key, !!sort?.descending);
    const t1 = performance.now();
    const shown = this.applyFilters();
    return `order ${(t1 - t0).toFixed(1)} ms, filters ${shown.filter.toFixed(1)} ms, table ${shown.table.toFixed(1)} ms`;
  }

  /** The host found other stale trials. */
  staleChanged(): void {
    this.table.paint(true);
    this.actions.update();
    if (this.filters.expression.includes('stale')) this.applyFilters();
  }

  /** New params or user attributes: the columns again, with the user's choice of them. */
  rebuildColumns(): void {
    this.columns = tableColumns(this.store);
    this.shownColumns = this.chooser.choose(this.columns);
    this.setColumns();
  }

  /** A plot's point: the trial in the table (saying so if filtered out), and opened. */
  pick(row: number): void {
    if (!this.table.reveal(row))
      this.setStatusNote(`Trial #${this.store.number.data[row]} is hidden by the filters.`);
    this.open(row);
  }

  /** Filters every row again and shows them; returns how long filtering and showing took. */
  applyFilters(): { filter: number; table: number } {
    const { store, filters, brush } = this;
    // An expression over params not yet in would hide every row: it applies once they are.
    if (!this.columnsIn && filters.expression.trim()) {
      this.mask = undefined;
      const t = performance.now();
      this.show();
      return { filter: 0, table: performance.now() - t };
    }
    const t0 = performance.now();
    const states = filters.checkedStates();
    const r = filterMask(store, this.columns, {
      states,
      expression: filters.expression,
      brush: brush.mask,
    });
    filters.showError(r.error);
    // With a bad expression, the other filters still apply.
    this.mask = r.error
      ? filterMask(store, this.columns, { states, brush: brush.mask }).mask
      : r.mask;
    const t1 = performance.now();
    this.show();
    const t2 = performance.now();
    this.host.report({
      event: 'filtered',
      ms: t2 - t0,
      detail: r.error ?? (brush.mask ? `brush: ${brush.text()}` : undefined),
    });
    return { filter: t1 - t0, table: t2 - t1 };
  }

  /** Sorts every row (a full sort; `timed` reports how long it took). */
  private resort(timed = false): void {
    const t0 = performance.now();
    const c = this.sortColumn();
    this.order = sortRows(this.store.count, c.key, !!this.host.state.sort?.descending);
    const ms = performance.now() - t0;
    if (timed) this.sortMs = ms;
    this.setColumns();
    this.show();
    if (timed) this.host.report({ event: 'sorted', ms, detail: c.id });
  }

  private setColumns(): void {
    const sort = this.host.state.sort;
    this.table.setColumns(
      this.shownColumns,
      sort ? { id: sort.column, descending: sort.descending } : undefined,
    );
  }

  private sortColumn(): TableColumn {
    return this.columns.find((c) => c.id === this.host.state.sort?.column) ?? this.columns[0];
  }

  private show(): void {
    this.table.setRows(visibleRows(this.order, this.mask));
    this.updateStatus();
    this.actions.update();
  }

  private jumpInput(): HTMLElement {
    const input = h('input', {
      type: 'number',
      class: 'jump',
      placeholder: '#',
      'aria-label': 'Jump to trial number',
      min: '0',
    });
    input.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      const row = this.store.rowOf(Number(input.value));
      if (row === undefined) return this.setStatusNote(`There is no trial #${input.value}.`);
      if (!this.table.reveal(row))
        this.setStatusNote(`Trial #${input.value} is hidden by the filters.`);
      else this.open(row);
    });
    return input;
  }

  /** Opens a trial: its details here, the trial in the Trials view, and its learning curve. */
  private open(row: number): void {
    const host = this.host;
    host.post({ type: 'details', row });
    host.post({ type: 'reveal', row });
    this.selectedForCurves = [row, ...this.selectedForCurves.filter((r) => r !== row)].slice(0, 10);
    if (this.store.steps.data[row] > 0) host.post({ type: 'curves', rows: this.selectedForCurves });
  }

  private setStatusNote(text: string): void {
    this.statusNote = text;
    this.updateStatus();
  }

  private updateStatus(): void {
    const { store, brush, sortMs } = this;
    const c = this.sortColumn();
    const descending = this.host.state.sort?.descending;
    const parts = [
      `${this.shownCount.toLocaleString('en-US')} of ${store.count.toLocaleString('en-US')} trials`,
      c
        ? `sorted by ${c.title} ${descending ? '▼' : '▲'}${sortMs !== undefined ? ` (${sortMs.toFixed(0)} ms)` : ''}`
        : '',
      brush.mask ? `brushed on the parallel coordinates: ${brush.text()}` : '',
      this.statusNote,
    ];
    this.status.textContent = parts.filter(Boolean).join(' · ');
  }
}
