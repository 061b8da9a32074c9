// What a user can do with the trials the table shows: export them (the host writes the CSV or
// JSON), list the stale RUNNING ones, and mark as FAIL the selected RUNNING trial or else every
// stale trial shown. Mark as FAIL shows only where the host can write to the store; the host
// asks for confirmation before it writes anything.
import { StateCode } from '../../core/studyPage/protocol';
import { h } from './dom';
import type { Host } from './host';
import type { PageStore } from './store';

/** The table's side of the actions. */
export interface ActionTarget {
  shownRows(): Uint32Array;
  /** Whether the table shows `row` (the filters let it through). */
  isShown(row: number): boolean;
  /** The selected row, or -1. */
  selected(): number;
  /** Filters the table down to the stale trials. */
  showStale(): void;
}

export class TrialActions {
  /** The buttons, in the toolbar's order. */
  readonly buttons: HTMLElement[];
  private readonly markFail = h('button', { class: 'danger', hidden: true }, 'Mark as FAIL…');
  private readonly staleButton = h('button', { hidden: true }, 'Show stale');

  constructor(
    host: Host,
    private readonly store: PageStore,
    private readonly target: ActionTarget,
  ) {
    const exportCsv = h('button', {}, 'Export CSV');
    const exportJson = h('button', {}, 'Export JSON');
    for (const [b, format] of [
      [exportCsv, 'csv'],
      [exportJson, 'json'],
    ] as const)
      b.addEventListener('click', () => {
        // Transferred, not cloned: the host takes the buffer as it is, whatever the row count.
        const rows = Int32Array.from(target.shownRows());
        host.post({ type: 'export', format, rows: rows.buffer }, [rows.buffer]);
      });
    this.markFail.addEventListener('click', () => {
      const rows = this.markFailRows();
      if (rows.length) host.post({ type: 'markFail', rows });
    });
    this.staleButton.addEventListener('click', () => target.showStale());
    this.buttons = [exportCsv, exportJson, this.staleButton, this.markFail];
  }

  /** Shows the buttons that apply now (after a filter, a selection or new stale findings). */
  update(): void {
    const store = this.store;
    const rows = store.header?.canWrite ? this.markFailRows() : [];
    this.markFail.hidden = rows.length === 0;
    this.markFail.textContent =
      rows.length === 1
        ? `Mark #${store.number.data[rows[0]]} as FAIL…`
        : `Mark ${rows.length} stale trials as FAIL…`;
    this.staleButton.hidden = store.stale.size === 0;
    this.staleButton.textContent = `Show ${store.stale.size} stale`;
  }

  private markFailRows(): number[] {
    const selected = this.target.selected();
    if (selected >= 0 && this.store.state.data[selected] === StateCode.Running) return [selected];
    // The few stale rows, not every row shown: this runs on each live update of a large study.
    return [...this.store.stale.keys()].filter((r) => this.target.isShown(r)).sort((a, b) => a - b);
  }
}
