// The brush on the parallel coordinates. ECharts keeps the ranges a user drags along each axis;
// here they become a mask over every row (not only the lines drawn), which the table's filters
// apply, and words for the status line.
import type { ECharts } from 'echarts/core';
import type { ParallelAxisDef } from './charts/parallel';
import { h } from './dom';
import type { PageStore } from './store';
import { formatNumber } from './table.model';

export interface BrushEvents {
  /** The user brushed: the mask changed. */
  brushed(): void;
  /** The user cleared the brush: the plot must drop its ranges too. */
  cleared(): void;
}

export class ParallelBrush {
  /** 1 for each row inside every brushed range; undefined without a brush. */
  mask: Uint8Array | undefined;
  /** The axes the parallel coordinates were last drawn with (the ranges index them). */
  axes: ParallelAxisDef[] = [];
  readonly clearButton = h('button', { class: 'small clearbrush', hidden: true }, 'Clear brush');
  private intervals = new Map<number, number[][]>();

  constructor(
    private readonly store: PageStore,
    private readonly on: BrushEvents,
  ) {
    this.clearButton.addEventListener('click', () => {
      this.reset();
      on.cleared();
    });
  }

  /** No brush (a new snapshot, or the user cleared it). */
  reset(): void {
    this.intervals = new Map();
    this.mask = undefined;
    this.clearButton.hidden = true;
  }

  /** A brush on `chart`: every row (not only the drawn lines) inside all ranges. */
  read(chart: ECharts): void {
    // The event names one axis; read every axis's intervals back from the chart's model.
    const opt = chart.getOption() as { parallelAxis?: Array<{ dim: number }> };
    const model = (
      chart as unknown as {
        getModel(): {
          getComponent(t: string, i: number): { activeIntervals: number[][] } | undefined;
        };
      }
    ).getModel();
    const intervals = new Map<number, number[][]>();
    (opt.parallelAxis ?? []).forEach((_a, i) => {
      const iv = model.getComponent('parallelAxis', i)?.activeIntervals ?? [];
      if (iv.length) intervals.set(i, iv);
    });
    this.apply(intervals);
  }

  /**
   * A range typed for axis `axis` (the keyboard's way to brush), or none to clear that axis.
   * With the plot drawn, it goes through ECharts' own brush action, exactly as a drag would:
   * the plot shows the range and its 'axisareaselected' event brings it back through read().
   */
  setRange(chart: ECharts | undefined, axis: number, interval: [number, number] | undefined): void {
    const intervals = interval ? [interval] : [];
    if (chart) {
      chart.dispatchAction({ type: 'axisAreaSelect', parallelAxisIndex: axis, intervals });
      // ECharts skips redrawing the brushed axis for its own action (a drag has drawn it
      // already): an empty update draws the typed range on the axis too.
      chart.setOption({});
      return;
    }
    const next = new Map(this.intervals);
    if (intervals.length) next.set(axis, intervals);
    else next.delete(axis);
    this.apply(next);
  }

  /** The ranges of every axis: the mask over all rows, and the table filters again. */
  private apply(intervals: Map<number, number[][]>): void {
    this.intervals = intervals;
    if (intervals.size === 0) this.mask = undefined;
    else {
      const n = this.store.count;
      const mask = new Uint8Array(n);
      for (let r = 0; r < n; r++) {
        let ok = true;
        for (const [i, iv] of intervals) {
          const v = this.axes[i].value(r);
          if (Number.isNaN(v) || !iv.some(([a, b]) => v >= a && v <= b)) {
            ok = false;
            break;
          }
        }
        mask[r] = ok ? 1 : 0;
      }
      this.mask = mask;
    }
    this.clearButton.hidden = !this.mask;
    this.on.brushed();
  }

  /** The range brushed on axis `i`, if any (the keyboard form shows it). */
  rangeOf(i: number): number[][] | undefined {
    return this.intervals.get(i);
  }

  /** New rows (a live update) start outside the brush until the user brushes again. */
  grow(count: number): void {
    if (!this.mask || this.mask.length >= count) return;
    const b = new Uint8Array(count);
    b.set(this.mask);
    this.mask = b;
  }

  /** "lr 0.0001–0.01, optimizer adam–sgd": the brushed ranges, in the axes' own terms. */
  text(): string {
    return [...this.intervals]
      .map(([i, iv]) => {
        const a = this.axes[i];
        const show = (v: number) =>
          a.categories ? (a.categories[Math.round(v)] ?? '') : formatNumber(v);
        return `${a.name} ${iv.map(([x, y]) => `${show(x)}–${show(y)}`).join(' or ')}`;
      })
      .join(', ');
  }
}
