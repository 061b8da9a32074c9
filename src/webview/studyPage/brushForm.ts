// The parallel coordinates' brush from the keyboard: pick an axis, type a range (numbers, or
// category names on a categorical axis), Enter. The range goes through the same brush as a
// drag with the mouse (ParallelBrush.setRange), so the table gets the same mask over all rows.
import type { ECharts } from 'echarts/core';
import { axisExtent, axisInterval } from './axisRange';
import type { ParallelBrush } from './brush';
import type { ParallelAxisDef } from './charts/parallel';
import { clear, h } from './dom';
import { formatNumber } from './table.model';

export class BrushForm {
  readonly el: HTMLFormElement;
  private readonly axisSelect = h('select', { 'aria-label': 'Axis to brush' });
  private readonly min = h('input', { type: 'text', class: 'bound', 'aria-label': 'From' });
  private readonly max = h('input', { type: 'text', class: 'bound', 'aria-label': 'To' });
  private readonly error = h('span', { class: 'brusherror small', role: 'alert' });
  private axes: ParallelAxisDef[] = [];

  /** `chart`: the parallel coordinates' chart, once drawn. */
  constructor(
    private readonly brush: ParallelBrush,
    private readonly count: () => number,
    private readonly chart: () => ECharts | undefined,
  ) {
    const clearAxis = h('button', { type: 'button', class: 'small' }, 'Clear axis');
    this.el = h(
      'form',
      { class: 'brushform', 'aria-label': 'Brush an axis with the keyboard' },
      h('label', { class: 'small' }, 'Brush ', this.axisSelect),
      this.min,
      h('span', { class: 'small' }, '–'),
      this.max,
      h('button', { type: 'submit', class: 'small' }, 'Apply'),
      clearAxis,
      this.error,
    );
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      this.apply();
    });
    clearAxis.addEventListener('click', () => this.clearAxis());
    this.axisSelect.addEventListener('change', () => this.showAxis());
  }

  /** The plot was drawn with these axes: the picker lists them, keeping the axis picked. */
  syncAxes(axes: ParallelAxisDef[]): void {
    const keys = (a: ParallelAxisDef[]) => a.map((x) => x.key).join(' ');
    const same = keys(axes) === keys(this.axes);
    const picked = this.axes[Number(this.axisSelect.value)]?.key;
    this.axes = axes;
    if (!same) {
      clear(this.axisSelect);
      axes.forEach((a, i) => this.axisSelect.append(h('option', { value: String(i) }, a.name)));
      const k = axes.findIndex((a) => a.key === picked);
      this.axisSelect.value = String(Math.max(0, k));
    }
    this.el.hidden = axes.length === 0;
    this.showAxis();
  }

  private apply(): void {
    const i = Number(this.axisSelect.value);
    const axis = this.axes[i];
    if (!axis) return;
    const r = axisInterval(axis, this.min.value, this.max.value, axisExtent(axis, this.count()));
    this.error.textContent = 'error' in r ? r.error : '';
    for (const input of [this.min, this.max])
      input.setAttribute('aria-invalid', String('error' in r));
    if ('error' in r) return;
    this.brush.setRange(this.chart(), i, r.interval);
  }

  private clearAxis(): void {
    const i = Number(this.axisSelect.value);
    if (!this.axes[i]) return;
    this.min.value = '';
    this.max.value = '';
    this.error.textContent = '';
    this.brush.setRange(this.chart(), i, undefined);
  }

  /** Hints for the axis picked: its values' span, or its categories. */
  private showAxis(): void {
    const axis = this.axes[Number(this.axisSelect.value)];
    if (!axis) return;
    const ext = axis.categories ? undefined : axisExtent(axis, this.count());
    const [lo, hi] = axis.categories
      ? [axis.categories[0] ?? '', axis.categories[axis.categories.length - 1] ?? '']
      : ext
        ? ext.map(formatNumber)
        : ['', ''];
    this.min.placeholder = `from ${lo}`;
    this.max.placeholder = `to ${hi}`;
  }
}
