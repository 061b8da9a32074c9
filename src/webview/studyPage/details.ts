// The trial details panel: the sections the host sends for the trial a user opened, and why the
// trial looks stale when it does. Escape or × closes it and gives the focus back (`closed`).
import type { DetailsMessage } from '../../core/studyPage/protocol';
import { clear, h } from './dom';

export class DetailsPanel {
  readonly el = h('aside', {
    class: 'details',
    hidden: true,
    'aria-label': 'Trial details',
    tabindex: '-1',
  });

  constructor(private readonly closed: () => void) {
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
  }

  show(m: DetailsMessage, staleReasons: string[] | undefined): void {
    const el = this.el;
    clear(el);
    const close = h('button', { class: 'close', 'aria-label': 'Close details' }, '×');
    close.addEventListener('click', () => this.close());
    el.append(close);
    if (staleReasons)
      el.append(
        h('div', { class: 'stalebox' }, h('strong', {}, 'Looks stale: '), staleReasons.join('; ')),
      );
    for (const s of m.sections) {
      el.append(h('h3', {}, s.title));
      const dl = h('dl', {});
      for (const [k, v] of s.entries) dl.append(h('dt', {}, k), h('dd', {}, v));
      el.append(dl);
    }
    el.hidden = false;
  }

  private close(): void {
    this.el.hidden = true;
    this.closed();
  }
}
