import { datetimeMicros, formatMicros } from './datetimeMicros';
import { grown } from './growColumn';

/**
 * The start and completion datetimes of a TrialTable's trials: microseconds in two float
 * columns (see datetimeMicros), which compare without parsing. A datetime a number cannot
 * give back exactly (one with an offset) is kept as its text on the side.
 */

/** In a datetime column: null is NaN, a datetime kept as text on the side is -Infinity. */
const SIDE_DATE = -Infinity;

type Which = 'start' | 'complete';

/** The datetimes as plain data (part of TrialTableData). */
export interface DateColumnsData {
  starts: Float64Array;
  completes: Float64Array;
  sideDates: Map<number, [string | null, string | null]>;
}

export class DateColumns {
  /** Microseconds; NaN: null; -Infinity: kept as text (summaries scan these directly). */
  starts: Float64Array;
  completes: Float64Array;
  /** Per row with a datetime kept as text: [start, complete] (null: in the column). */
  private readonly side: Map<number, [string | null, string | null]>;

  constructor(data?: DateColumnsData) {
    this.starts = data?.starts ?? new Float64Array(0);
    this.completes = data?.completes ?? new Float64Array(0);
    this.side = data?.sideDates ?? new Map();
  }

  /** Makes room for `capacity` rows (the table's capacity). */
  grow(capacity: number): void {
    this.starts = grown(this.starts, capacity);
    this.completes = grown(this.completes, capacity);
  }

  /** A datetime in the form storedDatetime returns: micros, normalized text, or null. */
  set(row: number, which: Which, v: number | string | null): void {
    (which === 'start' ? this.starts : this.completes)[row] =
      v === null ? NaN : typeof v === 'number' ? v : SIDE_DATE;
    if (typeof v === 'string' || this.side.has(row)) {
      const entry = this.side.get(row) ?? [null, null];
      entry[which === 'start' ? 0 : 1] = typeof v === 'string' ? v : null;
      if (entry[0] === null && entry[1] === null) this.side.delete(row);
      else this.side.set(row, entry);
    }
  }

  text(row: number, which: Which): string | null {
    const v = (which === 'start' ? this.starts : this.completes)[row];
    if (v === SIDE_DATE) return this.side.get(row)![which === 'start' ? 0 : 1];
    return Number.isNaN(v) ? null : formatMicros(v);
  }

  /** `JSON.stringify(text(row, which))`: formatMicros' text needs no escaping. */
  json(row: number, which: Which): string {
    const v = (which === 'start' ? this.starts : this.completes)[row];
    if (v === SIDE_DATE) return JSON.stringify(this.side.get(row)![which === 'start' ? 0 : 1]);
    return Number.isNaN(v) ? 'null' : `"${formatMicros(v)}"`;
  }

  /**
   * The datetime as microseconds for ordering: NaN for null; a datetime kept as text (an
   * offset) is taken at its naive wall time, as the texts compare.
   */
  order(row: number, which: Which): number {
    const v = (which === 'start' ? this.starts : this.completes)[row];
    if (v !== SIDE_DATE) return v;
    const text = this.side.get(row)![which === 'start' ? 0 : 1]!;
    return datetimeMicros(text.slice(0, 26));
  }

  /** The first `length` rows' columns (copies) and the side map, as plain data. */
  toData(length: number): DateColumnsData {
    return {
      starts: this.starts.slice(0, length),
      completes: this.completes.slice(0, length),
      sideDates: this.side,
    };
  }
}
