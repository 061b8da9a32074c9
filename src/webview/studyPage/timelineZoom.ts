// The timeline's zoom from the keyboard: buttons in the card's head (zoom in/out, pan, reset)
// and keys on the focused plot (+ and − zoom, ← and → pan, 0 resets), the same window the mouse
// moves with the wheel or the slider. The user's window is kept across redraws (a live update
// redraws the timeline), and said in words for screen readers.
import type { ECharts } from 'echarts/core';
import { h } from './dom';
import { type ZoomStep, type ZoomWindow, zoomKey, zoomText, zoomWindow } from './zoom';

type ZoomModel = { getPercentRange(): number[] };

export class TimelineZoom {
  /** The window the user chose; undefined until they zoom (the plot's default applies). */
  user: ZoomWindow | undefined;
  /** The buttons for the card's head. */
  readonly controls: HTMLElement[];
  private readonly said = h('span', { class: 'zoomtext small', 'aria-live': 'polite' });
  private chart: ECharts | undefined;
  /** The window a reset returns to: the plot's default for this many trials. */
  private initial: ZoomWindow = { start: 0, end: 100 };

  /** `redraw`: draws the timeline again (a reset goes back to its default window). */
  constructor(private readonly redraw: () => void) {
    const button = (label: string, title: string, step: ZoomStep) => {
      const b = h('button', { class: 'small', type: 'button', title, 'aria-label': title }, label);
      b.addEventListener('click', () => this.step(step));
      return b;
    };
    this.controls = [
      this.said,
      button('−', 'Zoom out (−)', 'out'),
      button('+', 'Zoom in (+)', 'in'),
      button('←', 'Earlier (←)', 'left'),
      button('→', 'Later (→)', 'right'),
      button('Reset', 'Reset zoom (0)', 'reset'),
    ];
  }

  /** The chart was made: keys on it, and the mouse's zooming remembered. */
  attach(chart: ECharts, body: HTMLElement): void {
    this.chart = chart;
    body.tabIndex = 0;
    body.setAttribute('aria-keyshortcuts', '+ - ArrowLeft ArrowRight 0');
    body.addEventListener('keydown', (e) => {
      const step = zoomKey(e.key);
      if (!step || e.altKey || e.ctrlKey || e.metaKey) return;
      e.preventDefault();
      this.step(step);
    });
    chart.on('datazoom', () => {
      this.user = this.current();
      this.say();
    });
  }

  /** The plot was drawn with `initial` as its default window. */
  drawn(initial: ZoomWindow): void {
    this.initial = initial;
    this.say();
  }

  step(step: ZoomStep): void {
    const chart = this.chart;
    if (!chart) return;
    if (step === 'reset') {
      this.user = undefined;
      this.redraw();
      return;
    }
    const w = zoomWindow(this.current(), step, this.initial);
    // Through ECharts' own action: the slider and the wheel zoom follow, and 'datazoom' fires.
    chart.dispatchAction({ type: 'dataZoom', dataZoomIndex: 0, start: w.start, end: w.end });
  }

  /** The window shown now, read from the chart's model. */
  private current(): ZoomWindow {
    const model = (
      this.chart as unknown as { getModel(): { getComponent(t: string, i: number): unknown } }
    )
      .getModel()
      .getComponent('dataZoom', 0) as ZoomModel | undefined;
    const [start, end] = model?.getPercentRange() ?? [this.initial.start, this.initial.end];
    return { start, end };
  }

  private say(): void {
    this.said.textContent = zoomText(this.user ?? (this.chart ? this.current() : this.initial));
  }
}
