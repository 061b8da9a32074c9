// The top of the page: the banner the host raises (store down, read-only…), the study's name,
// live or paused, its chips (directions, trials per state, best, sources, last activity, stale)
// and the notes the host adds about the study.
import { STATE_NAMES, type StatusMessage, type StudyHeader } from '../../core/studyPage/protocol';
import { clear, h } from './dom';
import type { PageStore } from './store';
import { formatNumber } from './table.model';

export class Header {
  readonly banner = h('div', { class: 'banner', role: 'status', hidden: true });
  readonly notes = h('ul', { class: 'notes' });
  readonly head: HTMLElement;
  private readonly title: HTMLElement;
  private readonly chips = h('div', { class: 'chips' });
  private readonly live = h('span', { class: 'live', role: 'status' }, 'connecting…');

  /** `studyName`: the name saved before a reload, shown until the host's snapshot arrives. */
  constructor(studyName: string) {
    this.title = h('h1', {}, studyName || 'Study');
    this.head = h(
      'header',
      { class: 'head' },
      h('div', { class: 'titlerow' }, this.title, this.live),
      this.chips,
    );
  }

  render(hd: StudyHeader, store: PageStore): void {
    this.title.textContent = hd.name;
    document.title = hd.name;
    const chips = this.chips;
    clear(chips);
    const chip = (text: string, cls = '') =>
      chips.append(h('span', { class: `chip ${cls}` }, text));
    chip(hd.directions.map((d) => d.toLowerCase()).join(' / '));
    for (const s of STATE_NAMES)
      if (hd.counts[s]) chip(`${s} ${hd.counts[s].toLocaleString('en-US')}`, `st-${s}`);
    if (!store.count) chip('no trials yet');
    if (hd.best) chip(`best ${formatNumber(hd.best.value)} (#${hd.best.number})`, 'best');
    else if (hd.directions.length > 1) chip(`${hd.directions.length} objectives`);
    for (const s of hd.sources) chip(s, 'source');
    if (hd.lastActivity) chip(`last activity ${hd.lastActivity.replace('T', ' ').slice(0, 19)}`);
    if (store.stale.size) chip(`${store.stale.size} stale RUNNING`, 'stale');
    this.live.textContent = hd.live ? '● live' : '❚❚ paused';
    this.live.className = `live ${hd.live ? 'on' : 'off'}`;
    this.live.title = hd.store.detail;
    clear(this.notes);
    for (const n of store.notes) this.notes.append(h('li', {}, n));
  }

  /** The host's word on the store behind the page (a banner, or none). */
  status(m: StatusMessage): void {
    this.banner.hidden = !m.banner;
    this.banner.textContent = m.banner?.text ?? '';
    this.banner.className = `banner ${m.banner?.kind ?? ''}`;
  }
}
