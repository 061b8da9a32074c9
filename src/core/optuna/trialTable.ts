import { DateColumns, type DateColumnsData } from './dateColumns';
import { grown } from './growColumn';
import { IntermediateLog, type IntermediateLogData } from './intermediateLog';
import { TRIAL_STATES, type Distribution, type Trial, type TrialState } from './model';
import { ParamColumns, type ParamColumnsData } from './paramColumns';
import type { ParamShape } from './paramShapes';
import { type JsonObject, type JsonValue, setOwn } from './pythonJsonParse';
import { ValueColumns, type ValueColumnsData } from './valueColumns';

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
 *
 * Each kind of column has its module: datetimes (dateColumns), objective values
 * (valueColumns), params (paramColumns, with the shared shapes in paramShapes) and
 * intermediate values (intermediateLog). This one keeps the rows' ids, numbers, states and
 * attributes, and their handles; a study over a table is tableStudy, a study sent to another
 * thread studyData.
 */

const STATE_CODE = new Map<TrialState, number>(TRIAL_STATES.map((s, i) => [s, i]));

/**
 * Row flags: the row keeps params or intermediate values on the side, so reading the other
 * rows skips the look-up. The bits are those the replay cache's files already hold.
 */
const F_PARAMS = 2;
const F_INTER = 4;

const EMPTY: JsonObject = Object.freeze({}) as JsonObject;

/** The table as plain data (v8-serializable), for the local replay cache. */
export interface TrialTableData
  extends DateColumnsData, ValueColumnsData, ParamColumnsData, IntermediateLogData {
  studyId: number;
  length: number;
  trialIds: Float64Array;
  numbers: Float64Array;
  states: Uint8Array;
  flags: Uint8Array;
  interHead: Int32Array;
  userAttrs: Array<JsonObject | undefined>;
  systemAttrs: Array<JsonObject | undefined>;
}

export class TrialTable {
  length = 0;
  private capacity = 0;
  trialIds: Float64Array = new Float64Array(0);
  numbers: Float64Array = new Float64Array(0);
  states: Uint8Array = new Uint8Array(0);
  private flags: Uint8Array = new Uint8Array(0);
  private readonly dates: DateColumns;
  private readonly valueColumns: ValueColumns;
  private readonly paramColumns: ParamColumns;
  /** Per row: its newest entry in the intermediate log (-1: none). */
  private interHead: Int32Array = new Int32Array(0);
  private readonly inter: IntermediateLog;
  private readonly userAttrs: Array<JsonObject | undefined>;
  private readonly systemAttrs: Array<JsonObject | undefined>;
  /** One handle per row, made when first asked for (a CLI summary or dump never needs them). */
  private handles: TrialRow[] | undefined;

  constructor(
    readonly studyId: number,
    data?: TrialTableData,
  ) {
    this.dates = new DateColumns(data);
    this.valueColumns = new ValueColumns(data);
    this.paramColumns = new ParamColumns(data);
    this.inter = new IntermediateLog(data);
    if (!data) {
      this.userAttrs = [];
      this.systemAttrs = [];
      return;
    }
    this.length = this.capacity = data.length;
    this.trialIds = data.trialIds;
    this.numbers = data.numbers;
    this.states = data.states;
    this.flags = data.flags;
    this.interHead = data.interHead;
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
    return {
      studyId: this.studyId,
      length: n,
      trialIds: this.trialIds.slice(0, n),
      numbers: this.numbers.slice(0, n),
      states: this.states.slice(0, n),
      flags: this.flags.slice(0, n),
      ...this.dates.toData(n),
      ...this.valueColumns.toData(n),
      ...this.paramColumns.toData(n),
      interHead: this.interHead.slice(0, n),
      ...this.inter.toData(),
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
    this.dates.grow(cap);
    this.valueColumns.grow(cap);
    this.paramColumns.grow(cap);
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
    this.dates.set(r, 'start', null);
    this.dates.set(r, 'complete', null);
    this.valueColumns.set(r, null);
    this.paramColumns.clear(r);
    this.interHead[r] = -1;
    this.handles?.push(new TrialRow(this, r));
    return r;
  }

  setState(row: number, state: TrialState): void {
    this.states[row] = STATE_CODE.get(state)!;
  }

  /** A datetime in the form storedDatetime returns: micros, normalized text, or null. */
  setDatetime(row: number, which: 'start' | 'complete', v: number | string | null): void {
    this.dates.set(row, which, v);
  }

  setValues(row: number, values: readonly JsonValue[] | null): void {
    this.valueColumns.set(row, values);
  }

  /** Sets objective `objective`'s value, as `values[objective] = v` (missing ones null). */
  setValue(row: number, objective: number, v: JsonValue): void {
    this.valueColumns.setOne(row, objective, v);
  }

  /**
   * Sets a param (new, or replacing the value and distribution of one the trial has, which
   * keeps its place) from the internal value Optuna stores; throws, changing nothing, on a
   * value the distribution cannot hold.
   */
  setParam(row: number, name: string, d: Distribution, internal: JsonValue): void {
    const hasSide = (this.flags[row] & F_PARAMS) !== 0;
    if (this.paramColumns.set(row, name, d, internal, hasSide)) this.flags[row] |= F_PARAMS;
    else this.flags[row] &= ~F_PARAMS;
  }

  /** Drops every param of the row (an exact re-read sets them again). */
  clearParams(row: number): void {
    this.paramColumns.clear(row);
    this.flags[row] &= ~F_PARAMS;
  }

  /** Sets the intermediate value of `step` (a canonical decimal string, as stepKey makes it). */
  setIntermediate(row: number, step: string, value: JsonValue): void {
    const e = this.inter.append(this.interHead[row], step, value);
    this.interHead[row] = e;
    if (this.inter.onSide(e)) this.flags[row] |= F_INTER;
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
    return this.dates.text(row, which);
  }

  /**
   * The datetime as microseconds for ordering: NaN for null; a datetime kept as text (an
   * offset) is taken at its naive wall time, as the texts compare.
   */
  datetimeOrder(row: number, which: 'start' | 'complete'): number {
    return this.dates.order(row, which);
  }

  /** The datetime columns, for whole-table scans (see DateColumns for what they hold). */
  get starts(): Float64Array {
    return this.dates.starts;
  }
  get completes(): Float64Array {
    return this.dates.completes;
  }

  values(row: number): JsonValue[] | null {
    return this.valueColumns.get(row);
  }

  // Fields a dump writes for every trial, as strict JSON (toStrictJson of the getter's
  // result) written from the columns without building the objects.

  valuesJson(row: number): string {
    return this.valueColumns.json(row);
  }

  datetimeJson(row: number, which: 'start' | 'complete'): string {
    return this.dates.json(row, which);
  }

  /** `values[0]` without building the list; undefined when there is none. */
  firstValue(row: number): JsonValue | undefined {
    return this.valueColumns.first(row);
  }

  paramShape(row: number): ParamShape {
    return this.paramColumns.shape(row);
  }

  params(row: number): Record<string, JsonValue> {
    return this.paramColumns.get(row, (this.flags[row] & F_PARAMS) !== 0);
  }

  intermediateValues(row: number): Record<string, JsonValue> {
    return this.inter.collect(this.interHead[row], (this.flags[row] & F_INTER) !== 0);
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
