import { grown } from './growColumn';
import { type JsonValue, setOwn } from './pythonJsonParse';

/**
 * The intermediate values of a TrialTable's trials: one entry per report, in report order,
 * each pointing back to the same trial's previous report, so a trial reporting again costs
 * one entry and no per-trial object. The table keeps each row's newest entry (its head).
 * A step that is not a small integer, or a value that is not a float, is kept as it is on
 * the side.
 */

/** The log as plain data (part of TrialTableData). */
export interface IntermediateLogData {
  interLength: number;
  interStep: Int32Array;
  interValue: Float64Array;
  interPrev: Int32Array;
  sideInter: Map<number, [string, JsonValue]>;
}

export class IntermediateLog {
  private length = 0;
  private steps: Int32Array = new Int32Array(0);
  private values: Float64Array = new Float64Array(0);
  private prev: Int32Array = new Int32Array(0);
  private readonly side: Map<number, [string, JsonValue]>;

  constructor(data?: IntermediateLogData) {
    if (!data) {
      this.side = new Map();
      return;
    }
    this.length = data.interLength;
    this.steps = data.interStep;
    this.values = data.interValue;
    this.prev = data.interPrev;
    this.side = data.sideInter;
  }

  /**
   * Adds a report after entry `head` (-1: the trial's first) and returns the new entry: the
   * trial's new head. `step` is a canonical decimal string, as stepKey makes it.
   */
  append(head: number, step: string, value: JsonValue): number {
    const e = this.length++;
    if (e === this.steps.length) {
      const cap = Math.max(64, this.steps.length * 2);
      this.steps = grown(this.steps, cap);
      this.values = grown(this.values, cap);
      this.prev = grown(this.prev, cap);
    }
    this.prev[e] = head;
    const n = Number(step);
    if (typeof value === 'number' && (n | 0) === n && String(n) === step) {
      this.steps[e] = n;
      this.values[e] = value;
    } else {
      this.side.set(e, [step, value]);
    }
    return e;
  }

  /** Whether the entry is kept on the side (the table flags its row, to skip the look-ups). */
  onSide(entry: number): boolean {
    return this.side.has(entry);
  }

  /** The reports of the chain ending at `head`, as Optuna's intermediate_values. */
  collect(head: number, hasSide: boolean): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    if (head < 0) return out;
    const chain: number[] = [];
    for (let e = head; e >= 0; e = this.prev[e]) chain.push(e);
    // Oldest first: a step set again keeps its first place and takes the latest value.
    for (let i = chain.length - 1; i >= 0; i--) {
      const x = chain[i];
      const s = hasSide ? this.side.get(x) : undefined;
      if (s) setOwn(out, s[0], s[1]);
      else out[this.steps[x]] = this.values[x];
    }
    return out;
  }

  /** The entries (copies) and the side map, as plain data. */
  toData(): IntermediateLogData {
    const m = this.length;
    return {
      interLength: m,
      interStep: this.steps.slice(0, m),
      interValue: this.values.slice(0, m),
      interPrev: this.prev.slice(0, m),
      sideInter: this.side,
    };
  }
}
