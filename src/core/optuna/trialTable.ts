import { datetimeMicros, formatMicros } from './datetimeMicros';
import { toExternal } from './distributions';
import { type Distribution, type Study, TRIAL_STATES, type Trial, type TrialState } from './model';
import { type JsonObject, type JsonValue, setOwn } from './pythonJsonParse';

/**
 * The trials of one study, column by column. A 100,000-trial study as objects (a Trial, its
 * params, distributions, intermediate values, attribute objects and datetime strings) took
 * ~1 KB per trial; in typed-array columns it takes ~200 bytes, the garbage collector walks
 * a handful of arrays instead of a million objects, and the local replay cache serializes it
 * as raw bytes. Trials still read as `Trial` objects: each row has a small handle
 * (`TrialRow`) whose getters build params, values, … from the columns when asked.
 *
 * What most trials share is stored once: the param names and distributions of a trial (its
 * "shape", like a hidden class) are one shared record; a row holds the shape's number and
 * one float per param (the internal value, as Optuna stores it). Values a column cannot hold
 * exactly (a bigint, a string where a float was expected, a datetime with an offset, …) are
 * kept as they are in per-row side maps, flagged on the row, so nothing is ever rounded.
 */

const STATE_CODE = new Map<TrialState, number>(TRIAL_STATES.map((s, i) => [s, i]));

/** Row flags: which side map holds part of the row. */
const F_VALUES = 1;
const F_PARAMS = 2;
const F_INTER = 4;
const F_DATES = 8;

/** valueCount: values is null, or kept whole in the side map. */
const NO_VALUES = -1;
const SIDE_VALUES = -2;
/** Most objectives a row keeps in columns. */
const MAX_VALUE_COLUMNS = 16;

/** In a datetime column: null is NaN, a datetime kept as text in the side map is -Infinity. */
const SIDE_DATE = -Infinity;

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;

/** Param names and distributions a trial has, in the order it got them; shared by rows. */
export interface ParamShape {
  readonly names: readonly string[];
  readonly dists: readonly Distribution[];
  /** Per name: its param column. */
  readonly cols: readonly number[];
  /** The trials' `distributions` object: the same frozen object for every row of the shape. */
  readonly distributions: Readonly<Record<string, Distribution>>;
  readonly position: ReadonlyMap<string, number>;
}

/** The table as plain data (v8-serializable), for the local replay cache. */
export interface TrialTableData {
  studyId: number;
  length: number;
  trialIds: Float64Array;
  numbers: Float64Array;
  states: Uint8Array;
  flags: Uint8Array;
  starts: Float64Array;
  completes: Float64Array;
  valueCount: Int8Array;
  valueCols: Float64Array[];
  shapeOf: Uint32Array;
  shapes: Array<{ names: string[]; dists: number[] }>;
  dists: Distribution[];
  paramNames: string[];
  paramCols: Float64Array[];
  interHead: Int32Array;
  interLength: number;
  interStep: Int32Array;
  interValue: Float64Array;
  interPrev: Int32Array;
  sideValues: Map<number, JsonValue[]>;
  sideParams: Map<number, JsonObject>;
  sideInter: Map<number, [string, JsonValue]>;
  sideDates: Map<number, [string | null, string | null]>;
  userAttrs: Array<JsonObject | undefined>;
  systemAttrs: Array<JsonObject | undefined>;
}

function grown<T extends Float64Array | Int32Array | Int8Array | Uint8Array | Uint32Array>(
  a: T,
  capacity: number,
  fill?: number,
): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}

export class TrialTable {
  length = 0;
  private capacity = 0;
  trialIds: Float64Array = new Float64Array(0);
  numbers: Float64Array = new Float64Array(0);
  states: Uint8Array = new Uint8Array(0);
  private flags: Uint8Array = new Uint8Array(0);
  /** Microseconds (see datetimeMicros); NaN: null. */
  starts: Float64Array = new Float64Array(0);
  completes: Float64Array = new Float64Array(0);
  private valueCount: Int8Array = new Int8Array(0);
  private valueCols: Float64Array[] = [];
  private shapeOf: Uint32Array = new Uint32Array(0);
  private readonly shapes: ParamShape[] = [];
  private readonly shapeIds = new Map<string, number>();
  /** Shape transitions already seen: `${shape}\0${distribution}\0${name}` → shape. */
  private readonly transitions = new Map<string, number>();
  private readonly dists: Distribution[] = [];
  private readonly distIds = new Map<Distribution, number>();
  private readonly paramNames: string[] = [];
  private readonly paramColOf = new Map<string, number>();
  private paramCols: Float64Array[] = [];
  /** Intermediate values: one entry per report, chained per row from the newest back. */
  private interHead: Int32Array = new Int32Array(0);
  private interLength = 0;
  private interStep: Int32Array = new Int32Array(0);
  private interValue: Float64Array = new Float64Array(0);
  private interPrev: Int32Array = new Int32Array(0);
  private readonly sideValues: Map<number, JsonValue[]>;
  private readonly sideParams: Map<number, JsonObject>;
  private readonly sideInter: Map<number, [string, JsonValue]>;
  private readonly sideDates: Map<number, [string | null, string | null]>;
  private readonly userAttrs: Array<JsonObject | undefined>;
  private readonly systemAttrs: Array<JsonObject | undefined>;
  /** One handle per row, made when first asked for (a CLI summary or dump never needs them). */
  private handles: TrialRow[] | undefined;

  constructor(
    readonly studyId: number,
    data?: TrialTableData,
  ) {
    this.shape([], []); // shape 0: no params
    if (!data) {
      this.sideValues = new Map();
      this.sideParams = new Map();
      this.sideInter = new Map();
      this.sideDates = new Map();
      this.userAttrs = [];
      this.systemAttrs = [];
      return;
    }
    this.length = this.capacity = data.length;
    this.trialIds = data.trialIds;
    this.numbers = data.numbers;
    this.states = data.states;
    this.flags = data.flags;
    this.starts = data.starts;
    this.completes = data.completes;
    this.valueCount = data.valueCount;
    this.valueCols = data.valueCols;
    this.shapeOf = data.shapeOf;
    data.paramNames.forEach((n, i) => {
      this.paramNames.push(n);
      this.paramColOf.set(n, i);
    });
    this.paramCols = data.paramCols;
    for (const d of data.dists) this.distId(d);
    for (const s of data.shapes.slice(1))
      this.shape(
        s.names,
        s.dists.map((i) => this.dists[i]),
      );
    this.interHead = data.interHead;
    this.interLength = data.interLength;
    this.interStep = data.interStep;
    this.interValue = data.interValue;
    this.interPrev = data.interPrev;
    this.sideValues = data.sideValues;
    this.sideParams = data.sideParams;
    this.sideInter = data.sideInter;
    this.sideDates = data.sideDates;
    this.userAttrs = data.userAttrs;
    this.systemAttrs = data.systemAttrs;
  }

  /** One handle per row, in row order (made once, then kept up to date as rows are added). */
  get rows(): readonly TrialRow[] {
    if (!this.handles) {
      this.handles = new Array<TrialRow>(this.length);
      for (let r = 0; r < this.length; r++) this.handles[r] = new TrialRow(this, r);
    }
    return this.handles;
  }

  /** The handle of one row (without making every row's when they were not made yet). */
  row(r: number): TrialRow {
    return this.handles?.[r] ?? new TrialRow(this, r);
  }

  /** The columns up to `length` (copies), the shapes and side maps: for v8.serialize. */
  toData(): TrialTableData {
    const n = this.length;
    const m = this.interLength;
    return {
      studyId: this.studyId,
      length: n,
      trialIds: this.trialIds.slice(0, n),
      numbers: this.numbers.slice(0, n),
      states: this.states.slice(0, n),
      flags: this.flags.slice(0, n),
      starts: this.starts.slice(0, n),
      completes: this.completes.slice(0, n),
      valueCount: this.valueCount.slice(0, n),
      valueCols: this.valueCols.map((c) => c.slice(0, n)),
      shapeOf: this.shapeOf.slice(0, n),
      shapes: this.shapes.map((s) => ({
        names: [...s.names],
        dists: s.dists.map((d) => this.distIds.get(d)!),
      })),
      dists: this.dists,
      paramNames: this.paramNames,
      paramCols: this.paramCols.map((c) => c.slice(0, n)),
      interHead: this.interHead.slice(0, n),
      interLength: m,
      interStep: this.interStep.slice(0, m),
      interValue: this.interValue.slice(0, m),
      interPrev: this.interPrev.slice(0, m),
      sideValues: this.sideValues,
      sideParams: this.sideParams,
      sideInter: this.sideInter,
      sideDates: this.sideDates,
      userAttrs: this.userAttrs,
      systemAttrs: this.systemAttrs,
    };
  }

  // ---- writing ------------------------------------------------------------------------------

  private growRows(): void {
    const cap = Math.max(16, this.capacity * 2);
    this.trialIds = grown(this.trialIds, cap);
    this.numbers = grown(this.numbers, cap);
    this.states = grown(this.states, cap);
    this.flags = grown(this.flags, cap);
    this.starts = grown(this.starts, cap);
    this.completes = grown(this.completes, cap);
    this.valueCount = grown(this.valueCount, cap);
    this.valueCols = this.valueCols.map((c) => grown(c, cap));
    this.shapeOf = grown(this.shapeOf, cap);
    this.paramCols = this.paramCols.map((c) => grown(c, cap));
    this.interHead = grown(this.interHead, cap);
    this.capacity = cap;
  }

  /** A new row (no params, values, intermediate values or attributes); returns its index. */
  add(trialId: number, number: number, state: TrialState): number {
    if (this.length === this.capacity) this.growRows();
    const r = this.length++;
    this.trialIds[r] = trialId;
    this.numbers[r] = number;
    this.states[r] = STATE_CODE.get(state)!;
    this.flags[r] = 0;
    this.starts[r] = NaN;
    this.completes[r] = NaN;
    this.valueCount[r] = NO_VALUES;
    this.shapeOf[r] = 0;
    this.interHead[r] = -1;
    this.handles?.push(new TrialRow(this, r));
    return r;
  }

  setState(row: number, state: TrialState): void {
    this.states[row] = STATE_CODE.get(state)!;
  }

  /** A datetime in the form storedDatetime returns: micros, normalized text, or null. */
  setDatetime(row: number, which: 'start' | 'complete', v: number | string | null): void {
    (which === 'start' ? this.starts : this.completes)[row] =
      v === null ? NaN : typeof v === 'number' ? v : SIDE_DATE;
    if (typeof v === 'string' || this.flags[row] & F_DATES) {
      const entry = this.sideDates.get(row) ?? [null, null];
      entry[which === 'start' ? 0 : 1] = typeof v === 'string' ? v : null;
      if (entry[0] === null && entry[1] === null) {
        this.sideDates.delete(row);
        this.flags[row] &= ~F_DATES;
      } else {
        this.sideDates.set(row, entry);
        this.flags[row] |= F_DATES;
      }
    }
  }

  setValues(row: number, values: readonly JsonValue[] | null): void {
    if (this.flags[row] & F_VALUES) {
      this.sideValues.delete(row);
      this.flags[row] &= ~F_VALUES;
    }
    if (values === null) {
      this.valueCount[row] = NO_VALUES;
      return;
    }
    let numeric = values.length <= MAX_VALUE_COLUMNS;
    for (let j = 0; numeric && j < values.length; j++) numeric = typeof values[j] === 'number';
    if (!numeric) {
      this.valueCount[row] = SIDE_VALUES;
      this.sideValues.set(row, [...values]);
      this.flags[row] |= F_VALUES;
      return;
    }
    while (this.valueCols.length < values.length)
      this.valueCols.push(new Float64Array(this.capacity));
    for (let j = 0; j < values.length; j++) this.valueCols[j][row] = values[j] as number;
    this.valueCount[row] = values.length;
  }

  /** Sets objective `objective`'s value, as `values[objective] = v` (missing ones null). */
  setValue(row: number, objective: number, v: JsonValue): void {
    const n = this.valueCount[row];
    const numeric = n !== SIDE_VALUES && typeof v === 'number' && objective < MAX_VALUE_COLUMNS;
    if (numeric && objective <= Math.max(n, 0)) {
      if (objective === this.valueCols.length) this.valueCols.push(new Float64Array(this.capacity));
      this.valueCols[objective][row] = v as number;
      if (objective === n || n === NO_VALUES) this.valueCount[row] = objective + 1;
      return;
    }
    const values = this.values(row) ?? [];
    for (let j = values.length; j < objective; j++) values[j] = null;
    values[objective] = v;
    this.setValues(row, values);
  }

  private distId(d: Distribution): number {
    let id = this.distIds.get(d);
    if (id === undefined) {
      id = this.dists.length;
      this.dists.push(d);
      this.distIds.set(d, id);
    }
    return id;
  }

  private paramCol(name: string): number {
    let col = this.paramColOf.get(name);
    if (col === undefined) {
      col = this.paramCols.length;
      this.paramCols.push(new Float64Array(this.capacity));
      this.paramNames.push(name);
      this.paramColOf.set(name, col);
    }
    return col;
  }

  private shape(names: readonly string[], dists: readonly Distribution[]): number {
    const key = `${names.join('\0')}\0\0${dists.map((d) => this.distId(d)).join(',')}`;
    let id = this.shapeIds.get(key);
    if (id !== undefined) return id;
    id = this.shapes.length;
    const distributions: Record<string, Distribution> = {};
    names.forEach((n, i) => setOwn(distributions as unknown as JsonObject, n, dists[i] as never));
    this.shapes.push({
      names: [...names],
      dists: [...dists],
      cols: names.map((n) => this.paramCol(n)),
      distributions: Object.freeze(distributions),
      position: new Map(names.map((n, i) => [n, i])),
    });
    this.shapeIds.set(key, id);
    return id;
  }

  /**
   * Sets a param (new, or replacing the value and distribution of one the trial has, which
   * keeps its place) from the internal value Optuna stores; throws, changing nothing, on a
   * value the distribution cannot hold.
   */
  setParam(row: number, name: string, d: Distribution, internal: JsonValue): void {
    const external = toExternal(d, internal); // throws on what Optuna would refuse
    const from = this.shapeOf[row];
    const tkey = `${from}\0${this.distId(d)}\0${name}`;
    let to = this.transitions.get(tkey);
    if (to === undefined) {
      const s = this.shapes[from];
      const at = s.position.get(name);
      const names = at === undefined ? [...s.names, name] : s.names;
      const dists = [...s.dists];
      if (at === undefined) dists.push(d);
      else dists[at] = d;
      to = this.shape(names, dists);
      this.transitions.set(tkey, to);
    }
    this.shapeOf[row] = to;
    const col = this.paramColOf.get(name)!;
    const side = this.flags[row] & F_PARAMS ? this.sideParams.get(row) : undefined;
    if (typeof internal === 'number') {
      this.paramCols[col][row] = internal;
      if (side && name in side) {
        delete side[name];
        if (Object.keys(side).length === 0) {
          this.sideParams.delete(row);
          this.flags[row] &= ~F_PARAMS;
        }
      }
      return;
    }
    const entry = side ?? {};
    setOwn(entry, name, external);
    this.sideParams.set(row, entry);
    this.flags[row] |= F_PARAMS;
  }

  /** Drops every param of the row (an exact re-read sets them again). */
  clearParams(row: number): void {
    this.shapeOf[row] = 0;
    this.sideParams.delete(row);
    this.flags[row] &= ~F_PARAMS;
  }

  /** Sets the intermediate value of `step` (a canonical decimal string, as stepKey makes it). */
  setIntermediate(row: number, step: string, value: JsonValue): void {
    const e = this.interLength++;
    if (e === this.interStep.length) {
      const cap = Math.max(64, this.interStep.length * 2);
      this.interStep = grown(this.interStep, cap);
      this.interValue = grown(this.interValue, cap);
      this.interPrev = grown(this.interPrev, cap);
    }
    this.interPrev[e] = this.interHead[row];
    this.interHead[row] = e;
    const n = Number(step);
    if (typeof value === 'number' && (n | 0) === n && String(n) === step) {
      this.interStep[e] = n;
      this.interValue[e] = value;
      return;
    }
    this.sideInter.set(e, [step, value]);
    this.flags[row] |= F_INTER;
  }

  /** Merges attributes into the row's (Object.assign: existing keys keep their place). */
  assignAttrs(row: number, which: 'user' | 'system', attrs: JsonObject): void {
    const all = which === 'user' ? this.userAttrs : this.systemAttrs;
    const target = all[row] ?? (all[row] = {});
    for (const k of Object.keys(attrs)) setOwn(target, k, attrs[k]);
  }

  /** Sets one attribute (added last, or replaced in its place). */
  setAttr(row: number, which: 'user' | 'system', key: string, value: JsonValue): void {
    const all = which === 'user' ? this.userAttrs : this.systemAttrs;
    setOwn(all[row] ?? (all[row] = {}), key, value);
  }

  /** Replaces the row's attributes (taken as they are, not copied). */
  setAttrs(row: number, which: 'user' | 'system', attrs: JsonObject | undefined): void {
    (which === 'user' ? this.userAttrs : this.systemAttrs)[row] = attrs;
  }

  // ---- reading ------------------------------------------------------------------------------

  state(row: number): TrialState {
    return TRIAL_STATES[this.states[row]];
  }

  datetime(row: number, which: 'start' | 'complete'): string | null {
    const v = (which === 'start' ? this.starts : this.completes)[row];
    if (v === SIDE_DATE) return this.sideDates.get(row)![which === 'start' ? 0 : 1];
    return Number.isNaN(v) ? null : formatMicros(v);
  }

  /**
   * The datetime as microseconds for ordering: NaN for null; a datetime kept as text (an
   * offset) is taken at its naive wall time, as the texts compare.
   */
  datetimeOrder(row: number, which: 'start' | 'complete'): number {
    const v = (which === 'start' ? this.starts : this.completes)[row];
    if (v !== SIDE_DATE) return v;
    const text = this.sideDates.get(row)![which === 'start' ? 0 : 1]!;
    return datetimeMicros(text.slice(0, 26));
  }

  values(row: number): JsonValue[] | null {
    const n = this.valueCount[row];
    if (n === NO_VALUES) return null;
    if (n === SIDE_VALUES) return [...this.sideValues.get(row)!];
    const out = new Array<JsonValue>(n);
    for (let j = 0; j < n; j++) out[j] = this.valueCols[j][row];
    return out;
  }

  /** `values[0]` without building the list; undefined when there is none. */
  firstValue(row: number): JsonValue | undefined {
    const n = this.valueCount[row];
    if (n > 0) return this.valueCols[0][row];
    return n === SIDE_VALUES ? this.sideValues.get(row)![0] : undefined;
  }

  paramShape(row: number): ParamShape {
    return this.shapes[this.shapeOf[row]];
  }

  params(row: number): Record<string, JsonValue> {
    const s = this.shapes[this.shapeOf[row]];
    const side = this.flags[row] & F_PARAMS ? this.sideParams.get(row) : undefined;
    const out: Record<string, JsonValue> = {};
    for (let i = 0; i < s.names.length; i++) {
      const name = s.names[i];
      const v =
        side && name in side ? side[name] : toExternal(s.dists[i], this.paramCols[s.cols[i]][row]);
      setOwn(out, name, v);
    }
    return out;
  }

  intermediateValues(row: number): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    let e = this.interHead[row];
    if (e < 0) return out;
    const chain: number[] = [];
    for (; e >= 0; e = this.interPrev[e]) chain.push(e);
    const side = (this.flags[row] & F_INTER) !== 0;
    // Oldest first: a step set again keeps its first place and takes the latest value.
    for (let i = chain.length - 1; i >= 0; i--) {
      const x = chain[i];
      const s = side ? this.sideInter.get(x) : undefined;
      if (s) setOwn(out, s[0], s[1]);
      else out[this.interStep[x]] = this.interValue[x];
    }
    return out;
  }

  attrs(row: number, which: 'user' | 'system'): JsonObject {
    return (which === 'user' ? this.userAttrs : this.systemAttrs)[row] ?? EMPTY;
  }
}

/**
 * One trial of a TrialTable, read as a `Trial`: every getter reads the columns now, so a
 * handle always shows the trial as it is (the replay updates rows in place). Objects it
 * returns (params, values, …) are built per call, except `distributions` (shared, frozen) and
 * the attribute objects (the table's own: do not modify them).
 */
export class TrialRow implements Trial {
  constructor(
    readonly table: TrialTable,
    readonly row: number,
  ) {}

  get trialId(): number {
    return this.table.trialIds[this.row];
  }
  get number(): number {
    return this.table.numbers[this.row];
  }
  get studyId(): number {
    return this.table.studyId;
  }
  get state(): TrialState {
    return this.table.state(this.row);
  }
  get values(): JsonValue[] | null {
    return this.table.values(this.row);
  }
  get params(): Record<string, JsonValue> {
    return this.table.params(this.row);
  }
  get distributions(): Record<string, Distribution> {
    return this.table.paramShape(this.row).distributions as Record<string, Distribution>;
  }
  get intermediateValues(): Record<string, JsonValue> {
    return this.table.intermediateValues(this.row);
  }
  get userAttrs(): JsonObject {
    return this.table.attrs(this.row, 'user');
  }
  get systemAttrs(): JsonObject {
    return this.table.attrs(this.row, 'system');
  }
  get datetimeStart(): string | null {
    return this.table.datetime(this.row, 'start');
  }
  get datetimeComplete(): string | null {
    return this.table.datetime(this.row, 'complete');
  }

  /** The trial as a plain object (what JSON.stringify and logs show, not the table). */
  toJSON(): Trial {
    const { trialId, number, studyId, state, values, params, distributions } = this;
    const { intermediateValues, userAttrs, systemAttrs, datetimeStart, datetimeComplete } = this;
    return {
      trialId,
      number,
      studyId,
      state,
      values,
      params,
      distributions,
      intermediateValues,
      userAttrs,
      systemAttrs,
      datetimeStart,
      datetimeComplete,
    };
  }
}

/** `t.values[0]` (undefined when there is none), without building the list for a table row. */
export function firstValueOf(t: Trial): JsonValue | undefined {
  return t instanceof TrialRow ? t.table.firstValue(t.row) : (t.values?.[0] ?? undefined);
}

/**
 * A trial's datetime as microseconds, for ordering and finding the latest (NaN when it has
 * none): the naive wall time, as the stored texts compare. No text is built for a table row.
 */
export function datetimeOrderOf(t: Trial, which: 'start' | 'complete'): number {
  if (t instanceof TrialRow) return t.table.datetimeOrder(t.row, which);
  const text = which === 'start' ? t.datetimeStart : t.datetimeComplete;
  return text === null ? NaN : datetimeMicros(text.slice(0, 26));
}

const studyTables = new WeakMap<object, TrialTable>();

/**
 * A study whose trials are `table`'s rows in row order: whole-study scans (summaries,
 * dumps) then read the columns instead of a handle per trial. Its `trials` are the table's
 * handles, made only when something asks for them.
 */
export function tableStudy<S extends object>(
  study: S,
  table: TrialTable,
): S & { trials: readonly Trial[] } {
  Object.defineProperty(study, 'trials', {
    get: () => table.rows,
    enumerable: true,
    configurable: true,
  });
  studyTables.set(study, table);
  return study as S & { trials: readonly Trial[] };
}

/** The table behind a study made by tableStudy, if it is one. */
export function tableOf(study: object): TrialTable | undefined {
  return studyTables.get(study);
}

/** A study as plain data for another thread: its own fields, and its trials' table. */
export interface StudyData {
  study: Omit<Study, 'trials'>;
  table?: TrialTableData;
  /** The rows in the study's trial order, when that is not row order. */
  order?: Int32Array;
}

/** A study of TrialRows (or none) as StudyData; the table's columns are copies. */
export function studyData(s: Study): StudyData {
  const { studyId, name, directions, userAttrs, systemAttrs } = s;
  const study = { studyId, name, directions, userAttrs, systemAttrs };
  const bound = tableOf(s);
  if (bound) return { study, table: bound.toData() };
  if (s.trials.length === 0) return { study };
  const rows = s.trials as readonly TrialRow[];
  const table = rows[0].table;
  if (!rows.every((t) => t instanceof TrialRow && t.table === table))
    throw new Error(`study ${s.name}: its trials are not the rows of one table`);
  return { study, table: table.toData(), order: Int32Array.from(rows, (t) => t.row) };
}

/** The study StudyData describes, its trials rows of a table rebuilt from the data. */
export function studyFromData(d: StudyData): Study {
  if (!d.table) return { ...d.study, trials: [] };
  const table = new TrialTable(d.study.studyId, d.table);
  if (!d.order) return tableStudy({ ...d.study }, table);
  return { ...d.study, trials: Array.from(d.order, (r) => table.rows[r]) };
}

/** The buffers of a StudyData's columns, to transfer rather than copy to another thread. */
export function studyDataBuffers(d: StudyData): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (v: unknown) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
  };
  if (d.table) for (const v of Object.values(d.table)) (Array.isArray(v) ? v : [v]).forEach(add);
  add(d.order);
  return [...new Set(out)];
}
