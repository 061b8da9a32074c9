// The page's plots: which cards there are, their inputs (the objective, log scale, PRUNED, the
// slice's param, the parallel-coordinates brush) and what they draw from (the store, the
// importance and learning curves the host computes, the theme's colours). The options
// themselves are in charts/; when the cards draw, in PlotSchedule.
import type { CurvesMessage, ImportanceMessage } from '../../core/studyPage/protocol';
import type { ParallelBrush } from './brush';
import { BrushForm } from './brushForm';
import { type CardSpec, ChartCard } from './chartCard';
import { curvesOption } from './charts/curves';
import { historyOption } from './charts/history';
import { importanceOption } from './charts/importance';
import { parallelAxes, parallelOption, parallelRows } from './charts/parallel';
import { paretoOption } from './charts/pareto';
import { sliceOption } from './charts/slice';
import { timelineOption } from './charts/timeline';
import { clear, h } from './dom';
import type { Host } from './host';
import type { Palette } from './palette';
import { PlotSchedule } from './plotSchedule';
import type { PageStore } from './store';
import { palette } from './theme';
import { TimelineZoom } from './timelineZoom';

export class Plots {
  /** The objective picker, shown for studies with several objectives. */
  readonly bar: HTMLElement;
  readonly section = h('section', { class: 'charts', 'aria-label': 'Plots' });
  readonly draw: PlotSchedule;
  private readonly cards: ChartCard[];
  private readonly objectiveSelect = h('select', { 'aria-label': 'Objective' });
  private readonly sliceSelect = h('select', { 'aria-label': 'Param of the slice plot' });
  private pal: Palette = palette();
  private importance: ImportanceMessage | undefined;
  private curves: CurvesMessage | undefined;
  /** The keyboard's ways to brush the parallel coordinates and to zoom the timeline. */
  private readonly brushForm: BrushForm;
  private readonly zoom = new TimelineZoom(() => this.render('timeline'));

  /** `pick`: the user clicked a trial's point. */
  constructor(
    private readonly host: Host,
    private readonly store: PageStore,
    brush: ParallelBrush,
    pick: (row: number) => void,
  ) {
    this.objectiveSelect.addEventListener('change', () => {
      host.save({ objective: Number(this.objectiveSelect.value) });
      this.draw.all();
    });
    this.bar = h('div', { class: 'chartbar' }, h('label', {}, 'Objective ', this.objectiveSelect));
    this.sliceSelect.addEventListener('change', () => {
      host.save({ sliceParam: this.sliceSelect.value });
      this.render('slice');
    });
    this.brushForm = new BrushForm(
      brush,
      () => store.count,
      () => this.cards.find((c) => c.id === 'parallel')?.chart,
    );
    this.cards = this.specs(brush).map((s) => new ChartCard(s, pick));
    this.section.append(...this.cards.map((c) => c.el));
    this.draw = new PlotSchedule(this.cards, store, host, () => this.updateSliceParams());
  }

  /** A new snapshot: what the host computed for the previous one no longer applies. */
  reset(encodedAt: number | undefined): void {
    this.draw.encodedAt = encodedAt;
    this.importance = undefined;
    this.curves = undefined;
  }

  /** The objective picker follows the study's directions. */
  syncObjectives(dirs: string[]): void {
    const select = this.objectiveSelect;
    if (select.options.length !== dirs.length) {
      clear(select);
      dirs.forEach((d, i) =>
        select.append(
          h(
            'option',
            { value: String(i) },
            dirs.length === 1 ? `value (${d.toLowerCase()})` : `values[${i}] (${d.toLowerCase()})`,
          ),
        ),
      );
    }
    select.value = String(this.objective());
    this.bar.hidden = dirs.length < 2;
  }

  /**
   * New importance also reorders the slice's params and the parallel coordinates' axes: those
   * two (each hundreds of milliseconds at 100,000 trials) redraw with the schedule's next round.
   */
  setImportance(m: ImportanceMessage): void {
    this.importance = m;
    this.updateSliceParams();
    this.render('importance');
    this.draw.soon(['parallel', 'slice']);
  }

  setCurves(m: CurvesMessage): void {
    this.curves = m;
    this.render('curves');
  }

  render(id: string): void {
    this.cards.find((c) => c.id === id)!.render();
  }

  /** VS Code switched the theme: the drawn plots again, in its colours. */
  retheme(): void {
    this.pal = palette();
    for (const c of this.cards) if (c.chart) c.render();
  }

  /** The objective plotted: the saved one, if the study has it. */
  private objective(): number {
    const last = Math.max(0, this.store.directions().length - 1);
    return Math.min(this.host.state.objective ?? 0, last);
  }

  /** The slice plot's params: the most important first, then the rest by name. */
  private updateSliceParams(): void {
    const select = this.sliceSelect;
    const names = this.store.params.map((c) => c.meta.name);
    const ranked = this.importance?.objectives[this.objective()]?.params.map((p) => p.name) ?? [];
    const ordered = [
      ...ranked.filter((n) => names.includes(n)),
      ...names.filter((n) => !ranked.includes(n)).sort(),
    ];
    if (select.options.length !== ordered.length) {
      clear(select);
      for (const n of ordered) select.append(h('option', { value: n }, n));
    }
    const saved = this.host.state.sliceParam;
    select.value = saved && names.includes(saved) ? saved : (ordered[0] ?? '');
  }

  private specs(brush: ParallelBrush): CardSpec[] {
    const { host, store } = this;
    let timelineInitial = { start: 0, end: 100 };
    const noParams = () => (store.params.length ? undefined : 'This study has no params.');
    const toggle = (label: string, checked: boolean, onChange: (v: boolean) => void) => {
      const box = h('input', { type: 'checkbox', checked });
      box.addEventListener('change', () => onChange(box.checked));
      return h('label', { class: 'toggle' }, box, ` ${label}`);
    };
    return [
      {
        id: 'history',
        name: 'Optimization history',
        caption: 'Every finished trial’s value by trial number; the line is the best value so far.',
        controls: [
          toggle('log scale', !!host.state.logScale, (v) => {
            host.save({ logScale: v });
            this.render('history');
          }),
          toggle('include PRUNED', host.state.includePruned !== false, (v) => {
            host.save({ includePruned: v });
            this.render('history');
          }),
        ],
        build: () =>
          historyOption(
            store,
            this.objective(),
            { log: !!host.state.logScale, includePruned: host.state.includePruned !== false },
            this.pal,
          ),
      },
      {
        id: 'importance',
        name: 'Parameter importance',
        caption:
          'PED-ANOVA (Watanabe et al., IJCAI 2023; Optuna 5’s default): how much each param matters for reaching the best 10 % of values. Computed here, off the main thread, when the number of COMPLETE trials changes.',
        controls: [],
        build: () => importanceOption(this.importance, this.objective(), this.pal),
      },
      {
        id: 'curves',
        name: 'Intermediate values',
        caption:
          'Learning curves: the best trials, RUNNING and selected trials as lines; past 100 curves the rest as a density.',
        controls: [],
        build: () => curvesOption(this.curves, this.pal),
      },
      {
        id: 'slice',
        name: 'Slice',
        caption: 'The value of every COMPLETE trial against one param.',
        controls: [this.sliceSelect],
        build: () => {
          const id = store.params.findIndex((c) => c.meta.name === this.sliceSelect.value);
          return id >= 0 ? sliceOption(store, id, this.objective(), this.pal) : undefined;
        },
        hidden: noParams,
      },
      {
        id: 'parallel',
        name: 'Parallel coordinates',
        caption:
          'Each line is a COMPLETE trial; drag along an axis (or type a range above) to brush: the table then lists only the trials inside every brushed range.',
        controls: [this.brushForm.el, brush.clearButton],
        build: () => {
          const axes = parallelAxes(store, this.importance);
          brush.axes = axes;
          this.brushForm.syncAxes(axes);
          return axes.length
            ? parallelOption(store, axes, parallelRows(store), this.pal)
            : undefined;
        },
        hidden: noParams,
        init: (chart) => chart.on('axisareaselected', () => brush.read(chart)),
      },
      {
        id: 'pareto',
        name: 'Pareto front',
        caption: 'COMPLETE trials by their objective values; the non-dominated ones in red.',
        controls: [],
        build: () => paretoOption(store, this.pal),
        hidden: () => {
          const k = store.directions().length;
          return k === 2 || k === 3
            ? undefined
            : k > 3
              ? `The Pareto plot shows two or three objectives; this study has ${k}: see the history and slice per objective.`
              : 'Single objective: no Pareto front.';
        },
        // A single-objective study has no Pareto front to speak of: no card at all.
        absent: () => store.directions().length < 2,
      },
      {
        id: 'timeline',
        name: 'Timeline',
        caption:
          'Trials per worker over time, coloured by state (blue COMPLETE, yellow PRUNED, red FAIL, green RUNNING); scroll or drag the slider to zoom, or use the buttons (on the focused plot: + − ← → 0); every trial is there.',
        controls: this.zoom.controls,
        build: () => {
          const built = timelineOption(store, Date.now(), this.pal, this.zoom.user);
          timelineInitial = built.initial;
          return built;
        },
        init: (chart, body) => this.zoom.attach(chart, body),
        drawn: () => this.zoom.drawn(timelineInitial),
      },
    ];
  }
}
