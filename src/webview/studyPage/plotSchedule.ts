// When the plots draw. After a snapshot the optimization history draws at once (the first plot a
// user waits for) and the others one per task, so the page answers input in between; live
// updates redraw at most every second (every 3 s past 20,000 trials). Each round is reported
// ('drawn', with each plot's time) for the tests and the benchmark.
import type { ChartCard } from './chartCard';
import type { Host } from './host';
import type { PageStore } from './store';

/** The plot drawn first. */
const FIRST = 'history';

export class PlotSchedule {
  /** When the host encoded the snapshot being drawn: the reports measure from there. */
  encodedAt: number | undefined;
  /** The generation whose first plot was reported (reported once per snapshot). */
  private drawnReported = -1;
  private startedAt = 0;
  private readonly took: string[] = [];
  private timer: number | undefined;
  private dueAt = 0;

  /** `beforeOthers`: brings the plots' inputs up to date before the others draw. */
  constructor(
    private readonly cards: ChartCard[],
    private readonly store: PageStore,
    private readonly host: Host,
    private readonly beforeOthers: () => void,
  ) {}

  /** The first plot, drawn as soon as rows are in. */
  first(): void {
    this.startedAt = performance.now();
    this.took.length = 0;
    const card = this.cards.find((c) => c.id === FIRST)!;
    this.timed(card);
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
          charts: this.cards.filter((c) => c.chart).map((c) => c.id),
          ms: performance.now() - this.startedAt,
          encodedAt: this.encodedAt,
          detail: this.took.join(', '),
        });
        return;
      }
      this.timed(rest[k++]);
      setTimeout(next, 0);
    };
    setTimeout(next, 0);
  }

  all(): void {
    this.first();
    this.others();
  }

  /** After a live update: every plot, at most once a second (every 3 s past 20,000 trials). */
  live(): void {
    if (this.timer !== undefined) return;
    const gap = this.store.count > 20000 ? 3000 : 1000;
    const wait = Math.max(0, this.dueAt - Date.now());
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      this.dueAt = Date.now() + gap;
      this.all();
    }, wait);
  }

  private timed(card: ChartCard): void {
    const t = performance.now();
    card.render();
    this.took.push(`${card.id} ${(performance.now() - t).toFixed(0)} ms`);
  }
}
