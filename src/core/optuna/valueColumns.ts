import { grown } from './growColumn';
import type { JsonValue } from './pythonJsonParse';
import { numberJson, toStrictJson } from './strictJson';

/**
 * The objective values of a TrialTable's trials: up to MAX_VALUE_COLUMNS floats per row in
 * columns, and a list a column cannot hold exactly (a bigint, a string, more objectives) kept
 * whole on the side, so nothing is ever rounded.
 */

/** count: values is null, or kept whole on the side. */
const NO_VALUES = -1;
const SIDE_VALUES = -2;
/** Most objectives a row keeps in columns. */
const MAX_VALUE_COLUMNS = 16;

/** The values as plain data (part of TrialTableData). */
export interface ValueColumnsData {
  valueCount: Int8Array;
  valueCols: Float64Array[];
  sideValues: Map<number, JsonValue[]>;
}

export class ValueColumns {
  /** Per row: how many values it has in columns, or NO_VALUES / SIDE_VALUES. */
  private count: Int8Array;
  private cols: Float64Array[];
  private readonly side: Map<number, JsonValue[]>;

  constructor(data?: ValueColumnsData) {
    this.count = data?.valueCount ?? new Int8Array(0);
    this.cols = data?.valueCols ?? [];
    this.side = data?.sideValues ?? new Map();
  }

  /** Makes room for `capacity` rows (the table's capacity). */
  grow(capacity: number): void {
    this.count = grown(this.count, capacity);
    this.cols = this.cols.map((c) => grown(c, capacity));
  }

  set(row: number, values: readonly JsonValue[] | null): void {
    if (this.count[row] === SIDE_VALUES) this.side.delete(row);
    if (values === null) {
      this.count[row] = NO_VALUES;
      return;
    }
    let numeric = values.length <= MAX_VALUE_COLUMNS;
    for (let j = 0; numeric && j < values.length; j++) numeric = typeof values[j] === 'number';
    if (!numeric) {
      this.count[row] = SIDE_VALUES;
      this.side.set(row, [...values]);
      return;
    }
    while (this.cols.length < values.length) this.cols.push(new Float64Array(this.count.length));
    for (let j = 0; j < values.length; j++) this.cols[j][row] = values[j] as number;
    this.count[row] = values.length;
  }

  /** Sets objective `objective`'s value, as `values[objective] = v` (missing ones null). */
  setOne(row: number, objective: number, v: JsonValue): void {
    const n = this.count[row];
    const numeric = n !== SIDE_VALUES && typeof v === 'number' && objective < MAX_VALUE_COLUMNS;
    if (numeric && objective <= Math.max(n, 0)) {
      if (objective === this.cols.length) this.cols.push(new Float64Array(this.count.length));
      this.cols[objective][row] = v as number;
      if (objective === n || n === NO_VALUES) this.count[row] = objective + 1;
      return;
    }
    const values = this.get(row) ?? [];
    for (let j = values.length; j < objective; j++) values[j] = null;
    values[objective] = v;
    this.set(row, values);
  }

  get(row: number): JsonValue[] | null {
    const n = this.count[row];
    if (n === NO_VALUES) return null;
    if (n === SIDE_VALUES) return [...this.side.get(row)!];
    const out = new Array<JsonValue>(n);
    for (let j = 0; j < n; j++) out[j] = this.cols[j][row];
    return out;
  }

  /** `toStrictJson(get(row))`, written from the columns. */
  json(row: number): string {
    const n = this.count[row];
    if (n === NO_VALUES) return 'null';
    if (n === SIDE_VALUES) return toStrictJson(this.side.get(row)!);
    let text = '[';
    for (let j = 0; j < n; j++) text += (j > 0 ? ',' : '') + numberJson(this.cols[j][row]);
    return text + ']';
  }

  /** `values[0]` without building the list; undefined when there is none. */
  first(row: number): JsonValue | undefined {
    const n = this.count[row];
    if (n > 0) return this.cols[0][row];
    return n === SIDE_VALUES ? this.side.get(row)![0] : undefined;
  }

  /** The first `length` rows' columns (copies) and the side map, as plain data. */
  toData(length: number): ValueColumnsData {
    return {
      valueCount: this.count.slice(0, length),
      valueCols: this.cols.map((c) => c.slice(0, length)),
      sideValues: this.side,
    };
  }
}
