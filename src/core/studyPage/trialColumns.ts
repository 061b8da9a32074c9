import { TRIAL_STATES } from '../optuna/model';
import type { MergedTrial } from '../storage/mergedView';
import { Dictionary, type Growable, type Take, f64, i32, u8 } from './growable';
import type { RowBlock } from './protocol';
import { toNumber } from './cellValues';

const STATE_CODE = new Map(TRIAL_STATES.map((s, i) => [s, i]));

/** A row's state before it was first encoded (no trial state has this code). */
export const NEW_ROW = 255;

/** A block's per-trial part: every field of RowBlock but the named columns and the row list. */
type TrialBlock = Omit<RowBlock, 'rows' | 'n' | 'params' | 'userAttrs'>;

/**
 * The columns every trial of the study page fills, one cell per row: number, id, source,
 * state, objective values, datetimes, worker and how many steps it reported. Params and
 * user attributes, which differ between studies, are namedColumns'.
 */
export class TrialColumns {
  readonly number = i32();
  readonly trialId = i32();
  /** 0: Redis, 1: SQLite only, 2: both (see MergedTrial). */
  readonly source = u8();
  /** Code into TRIAL_STATES; NEW_ROW until the row is first encoded. */
  readonly state = u8();
  values: Array<Growable<Float64Array>> = [];
  readonly hasValues = u8();
  /** Milliseconds since the epoch (Date.parse of the stored text); NaN: none. */
  readonly start = f64();
  readonly complete = f64();
  /** Code into `workers`; -1: unknown. */
  readonly worker = i32();
  readonly steps = i32(0);
  workers = new Dictionary();

  /** A new study: `objectives` value columns, no worker names. The other columns are reused. */
  reset(objectives: number): void {
    this.workers = new Dictionary();
    this.values = Array.from({ length: objectives }, () => f64());
  }

  /** Room for `rows` rows in every column, at once (a snapshot knows how many it writes). */
  reserve(rows: number): void {
    for (const g of [this.number, this.trialId, this.source, this.state, this.hasValues])
      g.reserve(rows);
    for (const g of [...this.values, this.start, this.complete]) g.reserve(rows);
    for (const g of [this.worker, this.steps]) g.reserve(rows);
  }

  /** Rows the columns hold now (new named columns start with this capacity). */
  get capacity(): number {
    return this.number.data.length;
  }

  /**
   * Writes one row. Returns the datetimes it read: a trial's fields may be getters that build
   * them on each read (TrialRow), so each is read once.
   */
  encode(
    row: number,
    m: MergedTrial,
    worker: string | undefined,
  ): { datetimeStart: string | null; datetimeComplete: string | null } {
    const t = m.trial;
    this.number.set(row, t.number);
    this.trialId.set(row, t.trialId);
    this.source.set(row, m.source === 'redis' ? 0 : m.source === 'sqlite' ? 1 : 2);
    this.state.set(row, STATE_CODE.get(t.state)!);
    const values = t.values;
    const datetimeStart = t.datetimeStart;
    const datetimeComplete = t.datetimeComplete;
    this.hasValues.set(row, values ? 1 : 0);
    for (let i = 0; i < this.values.length; i++) this.values[i].set(row, toNumber(values?.[i]));
    this.start.set(row, datetimeStart ? Date.parse(datetimeStart) : NaN);
    this.complete.set(row, datetimeComplete ? Date.parse(datetimeComplete) : NaN);
    this.worker.set(row, worker === undefined ? -1 : this.workers.code(worker));
    let steps = 0;
    for (const _k in t.intermediateValues) steps++;
    this.steps.set(row, steps);
    return { datetimeStart, datetimeComplete };
  }

  /** The columns' cells of `take`'s rows, for a message. */
  block(take: Take): TrialBlock {
    return {
      number: take(this.number),
      source: take(this.source),
      state: take(this.state),
      values: this.values.map(take),
      hasValues: take(this.hasValues),
      start: take(this.start),
      complete: take(this.complete),
      worker: take(this.worker),
      steps: take(this.steps),
    };
  }
}
