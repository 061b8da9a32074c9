// The virtualized trial table: a fixed row height, a pool of row elements recycled as the user
// scrolls (positioned by transform), so only the visible rows exist in the DOM whatever the
// number of trials. Keyboard: Tab into the grid, arrows/PageUp/PageDown/Home/End move, Enter
// opens the trial; header cells are buttons (Enter/Space sort).
import { clear, h } from './dom';
import type { TableColumn } from './table.model';

export const ROW_HEIGHT = 22;

export interface TableEvents {
  sort(column: TableColumn): void;
  select(row: number): void;
  activate(row: number): void;
}

export class VirtualTable {
  readonly root: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly header: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly layer: HTMLElement;
  private pool: HTMLElement[] = [];
  private columns: TableColumn[] = [];
  private rows: Uint32Array = new Uint32Array(0);
  private selected = -1;
  private first = -1;
  private stateClass: (row: number) => string = () => '';

  constructor(private readonly on: TableEvents) {
    this.header = h('div', { class: 'thead', role: 'row' });
    this.spacer = h('div', { class: 'spacer' });
    this.layer = h('div', { class: 'rows', role: 'rowgroup' });
    this.scroller = h(
      'div',
      { class: 'tscroll', tabindex: '0', role: 'grid', 'aria-label': 'Trials' },
      this.header,
      this.spacer,
      this.layer,
    );
    this.root = h('div', { class: 'table' }, this.scroller);
    this.scroller.addEventListener('scroll', () => this.paint());
    this.scroller.addEventListener('keydown', (e) => this.key(e));
    this.layer.addEventListener('click', (e) => {
      const el = (e.target as HTMLElement).closest('.tr') as HTMLElement | null;
      if (!el?.dataset.row) return;
      const row = Number(el.dataset.row);
      this.select(row);
      this.on.activate(row);
    });
    new ResizeObserver(() => this.paint(true)).observe(this.scroller);
  }

  setRowClass(f: (row: number) => string): void {
    this.stateClass = f;
  }

  setColumns(columns: TableColumn[], sort: { id: string; descending: boolean } | undefined): void {
    this.columns = columns;
    clear(this.header);
    let width = 0;
    for (const c of columns) {
      const arrow = sort?.id === c.id ? (sort.descending ? ' ▼' : ' ▲') : '';
      const b = h(
        'button',
        {
          class: `th${c.numeric ? ' num' : ''}`,
          role: 'columnheader',
          title: `Sort by ${c.title}`,
          'aria-sort': sort?.id === c.id ? (sort.descending ? 'descending' : 'ascending') : 'none',
        },
        c.title + arrow,
      );
      b.style.width = `${c.width}px`;
      b.addEventListener('click', () => this.on.sort(c));
      this.header.append(b);
      width += c.width;
    }
    this.spacer.style.width = `${width}px`;
    this.header.style.width = `${width}px`;
    for (const el of this.pool) el.remove();
    this.pool = [];
    this.paint(true);
  }

  setRows(rows: Uint32Array): void {
    this.rows = rows;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.scroller.setAttribute('aria-rowcount', String(rows.length));
    this.paint(true);
  }

  get shownRows(): Uint32Array {
    return this.rows;
  }

  /** Repaints the visible rows (after data changed in place). */
  paint(force = false): void {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - 2);
    const count = Math.min(this.rows.length - first, Math.ceil(height / ROW_HEIGHT) + 4);
    while (this.pool.length < Math.max(count, 0)) {
      const tr = h('div', { class: 'tr', role: 'row' });
      for (const c of this.columns) {
        const td = h('div', { class: `td${c.numeric ? ' num' : ''}`, role: 'gridcell' });
        td.style.width = `${c.width}px`;
        tr.append(td);
      }
      this.layer.append(tr);
      this.pool.push(tr);
    }
    if (!force && first === this.first) return;
    this.first = first;
    this.pool.forEach((tr, k) => {
      const i = first + k;
      if (k >= count || i >= this.rows.length) {
        tr.hidden = true;
        return;
      }
      const row = this.rows[i];
      tr.hidden = false;
      tr.dataset.row = String(row);
      tr.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      tr.className = `tr${row === this.selected ? ' selected' : ''} ${this.stateClass(row)}`;
      tr.setAttribute('aria-rowindex', String(i + 1));
      tr.setAttribute('aria-selected', String(row === this.selected));
      const cells = tr.children;
      for (let c = 0; c < this.columns.length; c++)
        (cells[c] as HTMLElement).textContent = this.columns[c].text(row);
    });
  }

  select(row: number, scroll = false): void {
    this.selected = row;
    if (scroll) {
      const i = this.rows.indexOf(row);
      if (i >= 0) {
        const top = i * ROW_HEIGHT;
        const h0 = this.scroller.clientHeight - 2 * ROW_HEIGHT;
        if (top < this.scroller.scrollTop || top > this.scroller.scrollTop + h0)
          this.scroller.scrollTop = Math.max(0, top - h0 / 2);
      }
    }
    this.paint(true);
    this.on.select(row);
  }

  /** Scrolls to trial row `row`; false when it is filtered out. */
  reveal(row: number): boolean {
    if (this.rows.indexOf(row) < 0) return false;
    this.select(row, true);
    this.scroller.focus();
    return true;
  }

  focus(): void {
    this.scroller.focus();
  }

  private key(e: KeyboardEvent): void {
    const i = this.rows.indexOf(this.selected);
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 2);
    let next: number;
    switch (e.key) {
      case 'ArrowDown':
        next = i + 1;
        break;
      case 'ArrowUp':
        next = i - 1;
        break;
      case 'PageDown':
        next = i + page;
        break;
      case 'PageUp':
        next = i - page;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = this.rows.length - 1;
        break;
      case 'Enter':
      case ' ':
        if (this.selected >= 0) this.on.activate(this.selected);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (this.rows.length === 0) return;
    next = Math.max(0, Math.min(this.rows.length - 1, next < 0 && i < 0 ? 0 : next));
    this.select(this.rows[next], true);
  }
}
