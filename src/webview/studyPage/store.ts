// The webview's copy of a study as columns, filled by a snapshot and patched by deltas. No DOM
// here: this file is unit-tested under Node.
import { Growable, f64, i32, u8 } from '../../core/studyPage/growable';
import {
  type ColumnsMessage,
  type DeltaMessage,
  type ParamMeta,
  type RowBlock,
  STATE_NAMES,
  type SnapshotMessage,
  type StudyHeader,
  type UserAttrMeta,
  type ValueColumn,
} from '../../core/studyPage/protocol';

export interface StoreColumn<M> {
  meta: M;
  num: Growable<Float64Array>;
  cat: Growable<Int32Array>;
  labels: string[];
}

export class PageStore {
  generation = -1;
  count = 0;
  header: StudyHeader | undefined;
  notes: string[] = [];
  number = i32();
  source = u8();
  state = u8();
  hasValues = u8();
  values: Array<Growable<Float64Array>> = [];
  start = f64();
  complete = f64();
  worker = i32();
  steps = i32(0);
  params: Array<StoreColumn<ParamMeta>> = [];
  userAttrs: Array<StoreColumn<UserAttrMeta>> = [];
  workers: string[] = [];
  /** Stale RUNNING trials: row → reasons. */
  stale = new Map<number, string[]>();
  private rowOfNumber: Map<number, number> | undefined;

  /** Applies a message; returns the rows it wrote (all of them for a snapshot). */
  apply(msg: SnapshotMessage | DeltaMessage): number[] | 'all' {
    if (msg.type === 'snapshot') this.reset(msg);
    else if (msg.generation !== this.generation) return [];
    this.header = msg.header;
    this.notes = msg.notes;
    const d = msg.dict;
    for (const m of d.params) this.params.push(column(m, this.capacity()));
    for (const m of d.userAttrs) this.userAttrs.push(column(m, this.capacity()));
    for (const [id, labels] of Object.entries(d.paramLabels))
      this.params[+id].labels.push(...labels);
    for (const [id, labels] of Object.entries(d.userLabels))
      this.userAttrs[+id].labels.push(...labels);
    for (const [id, m] of Object.entries(d.paramsChanged ?? {})) this.params[+id].meta = m;
    for (const [id, m] of Object.entries(d.userAttrsChanged ?? {})) this.userAttrs[+id].meta = m;
    this.workers.push(...d.workers);
    const rows = this.write(msg.block);
    this.rowOfNumber = undefined;
    return msg.type === 'snapshot' ? 'all' : rows;
  }

  private capacity(): number {
    return this.number.data.length;
  }

  private reset(msg: SnapshotMessage): void {
    this.generation = msg.generation;
    const n = msg.block.n;
    // Snapshot buffers become the columns as they are: no copy.
    const b = msg.block;
    this.number = wrap(Int32Array, -1, b.number);
    this.source = wrap(Uint8Array, 0, b.source);
    this.state = wrap(Uint8Array, 0, b.state);
    this.hasValues = wrap(Uint8Array, 0, b.hasValues);
    this.values = b.values.map((v) => wrap(Float64Array, NaN, v));
    this.start = wrap(Float64Array, NaN, b.start ?? new Float64Array(n).fill(NaN).buffer);
    this.complete = wrap(Float64Array, NaN, b.complete ?? new Float64Array(n).fill(NaN).buffer);
    this.worker = wrap(Int32Array, -1, b.worker ?? new Int32Array(n).fill(-1).buffer);
    this.steps = wrap(Int32Array, 0, b.steps ?? new Int32Array(n).buffer);
    this.params = [];
    this.userAttrs = [];
    this.workers = [];
    this.stale = new Map();
    this.count = n;
  }

  private write(b: RowBlock): number[] {
    if (!b.rows) {
      // A snapshot: the fixed columns are the buffers already; the value columns too.
      for (const c of b.params) adopt(this.params[c.id], c, b.n);
      for (const c of b.userAttrs) adopt(this.userAttrs[c.id], c, b.n);
      return [];
    }
    const rows = new Int32Array(b.rows);
    const put = <T extends Float64Array | Int32Array | Uint8Array>(
      g: Growable<T>,
      buf: ArrayBuffer,
      ctor: { new (b: ArrayBuffer): T },
    ) => {
      const src = new ctor(buf);
      for (let k = 0; k < rows.length; k++) g.set(rows[k], src[k]);
    };
    put(this.number, b.number, Int32Array);
    put(this.source, b.source, Uint8Array);
    put(this.state, b.state, Uint8Array);
    put(this.hasValues, b.hasValues, Uint8Array);
    b.values.forEach((v, i) => put(this.values[i], v, Float64Array));
    if (b.start) put(this.start, b.start, Float64Array);
    if (b.complete) put(this.complete, b.complete, Float64Array);
    if (b.worker) put(this.worker, b.worker, Int32Array);
    if (b.steps) put(this.steps, b.steps, Int32Array);
    const putColumn = (col: StoreColumn<unknown>, c: ValueColumn) => {
      if (c.num) put(col.num, c.num, Float64Array);
      else for (const r of rows) col.num.set(r, NaN);
      if (c.cat) put(col.cat, c.cat, Int32Array);
      else for (const r of rows) col.cat.set(r, -1);
    };
    for (const c of b.params) putColumn(this.params[c.id], c);
    for (const c of b.userAttrs) putColumn(this.userAttrs[c.id], c);
    for (const r of rows) if (r + 1 > this.count) this.count = r + 1;
    return [...rows];
  }

  /** The rest of a snapshot (params, user attributes, workers, steps). */
  applyColumns(m: ColumnsMessage): boolean {
    if (m.generation !== this.generation) return false;
    const n = this.count;
    for (const c of m.params) adopt(this.params[c.id], c, n);
    for (const c of m.userAttrs) adopt(this.userAttrs[c.id], c, n);
    if (n > 0) {
      this.worker.data = new Int32Array(m.worker);
      this.steps.data = new Int32Array(m.steps);
      this.start.data = new Float64Array(m.start);
      this.complete.data = new Float64Array(m.complete);
    }
    return true;
  }

  /**
   * Room for `rows` rows in every column. A snapshot's columns are its buffers, exactly full:
   * without this, the first live update would copy every column into one twice its size (a
   * few ms per column at 100,000 rows, and garbage collection of the old ones).
   */
  reserve(rows: number): void {
    const all: Array<Growable<Float64Array | Int32Array | Uint8Array>> = [
      this.number,
      this.source,
      this.state,
      this.hasValues,
      ...this.values,
      this.start,
      this.complete,
      this.worker,
      this.steps,
    ];
    for (const c of [...this.params, ...this.userAttrs]) all.push(c.num, c.cat);
    for (const g of all) g.ensure(rows);
  }

  stateName(row: number): (typeof STATE_NAMES)[number] {
    return STATE_NAMES[this.state.data[row]];
  }

  /** The row showing trial #n, if any. */
  rowOf(number: number): number | undefined {
    if (!this.rowOfNumber) {
      this.rowOfNumber = new Map();
      for (let r = 0; r < this.count; r++) this.rowOfNumber.set(this.number.data[r], r);
    }
    return this.rowOfNumber.get(number);
  }

  /** A param's or attribute's value in a row: a label, a number, or undefined when it has none. */
  cell(c: StoreColumn<ParamMeta | UserAttrMeta>, row: number): string | number | undefined {
    const code = c.cat.data[row];
    if (code >= 0) return c.labels[code];
    const v = c.num.data[row];
    return Number.isNaN(v) ? undefined : v;
  }

  /** Seconds from start to completion (NaN while running or unknown). */
  duration(row: number): number {
    return (this.complete.data[row] - this.start.data[row]) / 1000;
  }

  directions(): string[] {
    return this.header?.directions ?? [];
  }
}

function column<M>(meta: M, capacity: number): StoreColumn<M> {
  return { meta, num: f64(NaN, capacity), cat: i32(-1, capacity), labels: [] };
}

function wrap<T extends Float64Array | Int32Array | Uint8Array>(
  ctor: { new (n: number): T; new (b: ArrayBuffer): T },
  fill: number,
  buf: ArrayBuffer,
): Growable<T> {
  const g = new Growable(ctor, fill, 1);
  g.data = new ctor(buf);
  if (g.data.length === 0) g.data = new ctor(1).fill(fill) as T;
  return g;
}

function adopt<M>(c: StoreColumn<M>, v: ValueColumn, n: number): void {
  if (n === 0) return;
  c.num.data = v.num ? new Float64Array(v.num) : new Float64Array(n).fill(NaN);
  c.cat.data = v.cat ? new Int32Array(v.cat) : new Int32Array(n).fill(-1);
}
