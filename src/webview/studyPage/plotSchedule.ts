// When the plots draw. After a snapshot the optimization history draws at once (the first plot a
// user waits for) and the others one per task, so the page answers input in between.
//
// After a live update the header and the table are up to date already; the plots follow once
// updates pause (QUIET_MS), or at the latest a second after the first update they have not drawn
// (3 s past 20,000 trials), and only the plots on screen: one scrolled into view later is drawn
// then. A round of redraws draws one plot per task and stops at the next update, whose round
// starts with the plots the last one did not reach: an update never waits for more than the one
// plot being drawn (at 100,000 trials, redrawing every plot after each update held updates for
// 0.2-1 s). Each round is reported ('drawn', with each plot's time) for the tests and the
// benchmark.
import type { ChartCard } from './chartCard';
import type { Host } from './host';
import type { PageStore } from './store';

/** The plot drawn first. */
const FIRST = 'history';
/** Live updates this close together are drawn once, after the last. */
const QUIET_MS = 300;

export class PlotSchedule {
  /** When the host encoded the snapshot being drawn: the reports measure from there. */
  encodedAt: number | undefined;
  /** The generation whose first plot was reported (reported once per snapshot). */
  private drawnReported = -1;
  private startedAt = 0;
  private readonly took: string[] = [];
  /** Plots out of date, the longest waiting first (a Set keeps the order of first insertion). */
  private readonly stale = new Set<ChartCard>();
  private readonly onScreen = new Set<ChartCard>();
  private timer: number | undefined;
  /** When the first update the plots have not drawn arrived (undefined: none waiting). */
  private lagSince: number | undefined;
  /** Bumped by every update: a round of redraws in progress stops when it changes. */
  private round = 0;
  private inRound = false;

  /** `beforeOthers`: brings the plots' inputs up to date before the others draw. */
  constructor(
    private readonly cards: ChartCard[],
    private readonly store: PageStore,
    private readonly host: Host,
    private readonly beforeOthers: () => void,
  ) {
    const observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const card = this.cards.find((c) => c.el === e.target);
        if (!card) continue;
        if (e.isIntersecting) this.onScreen.add(card);
        else this.onScreen.delete(card);
      }
      // A plot scrolled into view while out of date: drawn now unless a round is due anyway.
      if (this.timer === undefined) this.redrawStale();
    });
    for (const c of cards) observer.observe(c.el);
  }

  /** The first plot, drawn as soon as rows are in. */
  first(): void {
    this.startedAt = performance.now();
    this.took.length = 0;
    // Everything is drawn from here: nothing left over from live updates.
    this.round++;
    this.stale.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lagSince = undefined;
    const card = this.cards.find((c) => c.id === FIRST)!;
    this.timed(card, this.took);
    card.chart?.getZr().flush();
    if (this.drawnReported !== this.store.generation) {
      this.drawnReported = this.store.generation;
      this.host.report({
        event: 'drawn',
        charts: [FIRST],
        ms: performance.now() - this.startedAt,
        encodedAt: this.encodedAt,
      });
    }
  }

  /** The other plots, one per task so the page stays responsive in between. */
  others(): void {
    this.beforeOthers();
    const rest = this.cards.filter((c) => c.id !== FIRST);
    let k = 0;
    const next = () => {
      if (k >= rest.length) {
        this.host.report({
          event: 'drawn',
          charts: this.drawnIds(),
          ms: performance.now() - this.startedAt,
          encodedAt: this.encodedAt,
          detail: this.took.join(', '),
        });
        return;
      }
      this.timed(rest[k++], this.took);
      setTimeout(next, 0);
    };
    setTimeout(next, 0);
  }

  all(): void {
    this.first();
    this.others();
  }

  /** After a live update: every plot is out of date; those on screen redraw once updates pause. */
  live(): void {
    this.round++;
    for (const c of this.cards) this.stale.add(c);
    const now = Date.now();
    this.lagSince ??= now;
    const maxLag = this.store.count > 20000 ? 3000 : 1000;
    const at = Math.min(now + QUIET_MS, this.lagSince + maxLag);
    clearTimeout(this.timer);
    this.timer = window.setTimeout(
      () => {
        this.timer = undefined;
        this.redrawStale();
      },
      Math.max(0, at - now),
    );
  }

  /** Some plots' inputs changed (importance, curves): redrawn in the next round, if on screen. */
  soon(ids: string[]): void {
    for (const c of this.cards) if (ids.includes(c.id)) this.stale.add(c);
    if (this.timer === undefined) this.redrawStale();
  }

  /** A round: the out-of-date plots on screen, one per task, until the next update. */
  private redrawStale(): void {
    if (this.inRound) return;
    const round = this.round;
    const t0 = performance.now();
    const took: string[] = [];
    this.lagSince = undefined;
    this.inRound = true;
    if (this.stale.size) this.beforeOthers();
    const next = () => {
      const card = round === this.round ? this.nextStale() : undefined;
      if (!card) {
        this.inRound = false;
        if (took.length)
          this.host.report({
            event: 'drawn',
            charts: this.drawnIds(),
            ms: performance.now() - t0,
            detail: `after live updates: ${took.join(', ')}`,
          });
        return;
      }
      this.stale.delete(card);
      this.timed(card, took);
      setTimeout(next, 0);
    };
    next();
  }

  private nextStale(): ChartCard | undefined {
    for (const c of this.stale) if (this.onScreen.has(c)) return c;
    return undefined;
  }

  private drawnIds(): string[] {
    return this.cards.filter((c) => c.chart).map((c) => c.id);
  }

  private timed(card: ChartCard, took: string[]): void {
    const t = performance.now();
    card.render();
    took.push(
      `${card.id} ${(performance.now() - t).toFixed(0)} ms (option ${card.buildMs.toFixed(0)})`,
    );
  }
}
