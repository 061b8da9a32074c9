// The "Columns" chooser over the trial table. A column the user hides or shows is remembered by
// title across reloads; every other column keeps its default.
import { clear, h } from './dom';
import type { Host } from './host';
import type { TableColumn } from './table.model';

export class ColumnChooser {
  readonly el = h('details', { class: 'chooser' }, h('summary', {}, 'Columns'));
  private readonly list = h('div', { class: 'chooserlist' });

  /** `changed`: the user ticked or unticked a column. */
  constructor(
    private readonly host: Host,
    private readonly changed: () => void,
  ) {
    this.el.append(this.list);
  }

  /** The columns to show, and a checkbox for each of `columns`. */
  choose(columns: TableColumn[]): TableColumn[] {
    const host = this.host;
    const shown = new Set(host.state.shownColumns ?? []);
    const hidden = new Set(host.state.hiddenColumns ?? []);
    const chosen = columns.filter((c) =>
      c.shownByDefault ? !hidden.has(c.title) : shown.has(c.title),
    );
    clear(this.list);
    for (const c of columns) {
      const box = h('input', { type: 'checkbox', checked: chosen.includes(c) });
      box.addEventListener('change', () => {
        const hide = new Set(host.state.hiddenColumns ?? []);
        const show = new Set(host.state.shownColumns ?? []);
        if (box.checked) {
          hide.delete(c.title);
          show.add(c.title);
        } else {
          show.delete(c.title);
          hide.add(c.title);
        }
        host.save({ hiddenColumns: [...hide], shownColumns: [...show] });
        this.changed();
      });
      this.list.append(h('label', {}, box, ` ${c.title}`));
    }
    return chosen;
  }
}
