// The trial table's filter inputs: a checkbox per state and an expression in the filter language
// (core/studyPage/filterExpr), applied 250 ms after the last keystroke or at once on Enter, so
// typing into a large study does not filter it on every key. Both are kept across reloads.
import { STATE_NAMES } from '../../core/studyPage/protocol';
import { h } from './dom';
import type { Host } from './host';

export class TrialFilters {
  readonly states = h('fieldset', { class: 'states' }, h('legend', {}, 'States'));
  /** The expression and its error. */
  readonly expressionBox: HTMLElement;
  private readonly boxes = new Map<string, HTMLInputElement>();
  private readonly input: HTMLInputElement;
  private readonly error = h('div', { class: 'error', role: 'alert', hidden: true });
  private timer: number | undefined;

  constructor(
    private readonly host: Host,
    private readonly changed: () => void,
  ) {
    const state = host.state;
    for (const s of STATE_NAMES) {
      const box = h('input', {
        type: 'checkbox',
        checked: !state.states || state.states.includes(s),
      });
      box.addEventListener('change', () => {
        host.save({ states: STATE_NAMES.filter((n) => this.boxes.get(n)!.checked) });
        changed();
      });
      this.boxes.set(s, box);
      this.states.append(h('label', { class: `st-${s}` }, box, ` ${s}`));
    }
    const input = h('input', {
      type: 'text',
      class: 'filter',
      placeholder: 'filter, e.g. lr < 0.01 and state == COMPLETE',
      'aria-label': 'Filter expression',
      spellcheck: 'false',
      value: state.filter ?? '',
    });
    this.input = input;
    input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.apply(), 250);
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        clearTimeout(this.timer);
        this.apply();
      }
    });
    this.expressionBox = h('div', { class: 'filterbox' }, input, this.error);
  }

  /** The states ticked. */
  checkedStates(): Set<string> {
    return new Set(STATE_NAMES.filter((s) => this.boxes.get(s)!.checked));
  }

  get expression(): string {
    return this.input.value;
  }

  /** Puts `expression` in the box and applies it (the "Show stale" button). */
  use(expression: string): void {
    this.input.value = expression;
    this.apply();
  }

  /** Shows what is wrong with the expression, or that nothing is. */
  showError(error: string | undefined): void {
    this.error.hidden = !error;
    this.error.textContent = error ? `Filter: ${error}` : '';
    this.input.setAttribute('aria-invalid', String(!!error));
  }

  private apply(): void {
    this.host.save({ filter: this.input.value });
    this.changed();
  }
}
