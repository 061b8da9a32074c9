/**
 * Typed-array columns that grow by doubling (rows only ever get appended) and append-only
 * string dictionaries. Used by the host's encoder and by the webview's store alike.
 */

type TypedArray = Float64Array | Int32Array | Uint8Array;
type Ctor<T extends TypedArray> = { new (n: number): T; new (b: ArrayBuffer): T };

export class Growable<T extends TypedArray> {
  data: T;

  constructor(
    private readonly ctor: Ctor<T>,
    private readonly fill: number,
    capacity = 64,
  ) {
    this.data = new ctor(Math.max(1, capacity));
    if (fill !== 0) this.data.fill(fill);
  }

  /** Makes index `n - 1` addressable; new cells hold the fill value. */
  ensure(n: number): void {
    if (n <= this.data.length) return;
    // An empty column (a snapshot's empty buffer) grows from 1: doubling 0 never gets there.
    let cap = Math.max(1, this.data.length);
    while (cap < n) cap *= 2;
    const next = new this.ctor(cap);
    if (this.fill !== 0) next.fill(this.fill, this.data.length);
    next.set(this.data);
    this.data = next;
  }

  /** Room for exactly `n` rows (when it has less): a size known ahead needs no doubling. */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = new this.ctor(n);
    if (this.fill !== 0) next.fill(this.fill, this.data.length);
    next.set(this.data);
    this.data = next;
  }

  set(i: number, v: number): void {
    this.ensure(i + 1);
    this.data[i] = v;
  }

  /** A copy of rows 0..n-1 as a standalone buffer (transferable). */
  head(n: number): ArrayBuffer {
    return (this.data.slice(0, n) as T).buffer as ArrayBuffer;
  }

  /** A buffer with the cells at `rows`. */
  pick(rows: ArrayLike<number>): ArrayBuffer {
    const out = new this.ctor(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = this.data[rows[k]];
    return out.buffer as ArrayBuffer;
  }
}

/** Picks a column's cells for a message: all rows (head) or the changed ones (pick). */
export type Take = <T extends TypedArray>(g: Growable<T>) => ArrayBuffer;

export const f64 = (fill = NaN, capacity?: number) => new Growable(Float64Array, fill, capacity);
export const i32 = (fill = -1, capacity?: number) => new Growable(Int32Array, fill, capacity);
export const u8 = (fill = 0, capacity?: number) => new Growable(Uint8Array, fill, capacity);

/** Strings by code, codes by string; codes never change once given. */
export class Dictionary {
  readonly labels: string[] = [];
  private readonly codes = new Map<string, number>();
  /** How many labels the other side already has. */
  sent = 0;

  code(label: string): number {
    let c = this.codes.get(label);
    if (c === undefined) {
      c = this.labels.length;
      this.labels.push(label);
      this.codes.set(label, c);
    }
    return c;
  }

  /** Labels added since the last call. */
  unsent(): string[] {
    const out = this.labels.slice(this.sent);
    this.sent = this.labels.length;
    return out;
  }
}
