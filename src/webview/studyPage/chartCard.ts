// One plot on the page: a card with its name, controls, caption, the ECharts canvas and notes on
// what was left out. A click on a point picks its trial. ECharts is registered here, tree-shaken
// to the chart kinds and components the plots use, and draws on a canvas (no inline styles,
// which the CSP forbids).
import { BarChart, CustomChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
} from 'echarts/components';
import { type ECharts, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { Built } from './charts/common';
import { h } from './dom';

use([
  ScatterChart,
  LineChart,
  BarChart,
  ParallelChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  DataZoomComponent,
  LegendComponent,
  ParallelComponent,
  CanvasRenderer,
]);

export interface CardSpec {
  id: string;
  name: string;
  caption: string;
  controls: HTMLElement[];
  /** The option to draw, or undefined to leave the plot as it is. */
  build(): Built | undefined;
  /** Why this study has nothing to plot here (said instead of the plot), or undefined. */
  hidden?(): string | undefined;
  /** True when the card makes no sense for this study at all: not even shown. */
  absent?(): boolean;
  /** Listens to the chart's events beyond clicks (once for each chart made, with its element). */
  init?(chart: ECharts, body: HTMLElement): void;
  /** The chart has drawn the option `build` returned last. */
  drawn?(): void;
}

export class ChartCard {
  readonly el: HTMLElement;
  /** Undefined until the card first draws, and while it has nothing to plot. */
  chart: ECharts | undefined;
  private readonly body: HTMLElement;
  private readonly notes = h('p', { class: 'cardnotes' });
  private built: Built | undefined;
  /** How long the last render took to build its option (the rest is ECharts'), for the reports. */
  buildMs = 0;

  /** `pick`: a click on the point of a trial's row. */
  constructor(
    private readonly spec: CardSpec,
    private readonly pick: (row: number) => void,
  ) {
    const { id, name, caption } = spec;
    this.body = h('div', { class: 'chart', role: 'img', 'aria-label': `${name}: ${caption}` });
    this.el = h(
      'section',
      { class: 'card', id: `card-${id}` },
      h('div', { class: 'cardhead' }, h('h2', {}, name), ...spec.controls),
      h('p', { class: 'caption' }, caption),
      this.body,
      this.notes,
    );
  }

  get id(): string {
    return this.spec.id;
  }

  render(): void {
    const { spec, body, notes } = this;
    const why = spec.hidden?.();
    this.el.classList.toggle('empty', !!why);
    this.el.hidden = spec.absent?.() ?? false;
    if (why) {
      this.chart?.dispose();
      this.chart = undefined;
      body.hidden = true;
      notes.textContent = why;
      return;
    }
    body.hidden = false;
    let built: Built | undefined;
    const t0 = performance.now();
    try {
      built = spec.build();
      this.buildMs = performance.now() - t0;
    } catch (e) {
      notes.textContent = `This plot could not be drawn: ${(e as Error).message}`;
      return;
    }
    if (!built) return;
    this.built = built;
    if (!this.chart) {
      const chart = init(body, undefined, { renderer: 'canvas' });
      this.chart = chart;
      new ResizeObserver(() => chart.resize()).observe(body);
      chart.on('click', (e) => {
        const p = e as unknown as { seriesIndex: number; dataIndex: number };
        const rows = this.built?.rowsOf?.find((x) => x.series === p.seriesIndex)?.rows;
        const row = rows?.[p.dataIndex];
        if (row !== undefined) this.pick(row);
      });
      spec.init?.(chart, body);
    }
    this.chart.setOption(built.option, { notMerge: true, lazyUpdate: false });
    notes.textContent = built.notes.join(' ');
    spec.drawn?.();
  }
}
