import { isNumeric, isLog, pyEquals } from '../optuna/distributions';
import { type Distribution, TRIAL_STATES, type Trial, isFinished } from '../optuna/model';
import { type JsonValue } from '../optuna/pythonJsonParse';
import { toStrictJson } from '../optuna/strictJson';
import type { MergedStudy, MergedTrial } from '../storage/mergedView';
import { Dictionary, type Growable, f64, i32, u8 } from './growable';
import type {
  ColumnKind,
  ColumnsMessage,
  DeltaMessage,
  DictionaryAppend,
  ParamMeta,
  RowBlock,
  SnapshotMessage,
  StudyHeader,
  UserAttrMeta,
  ValueColumn,
} from './protocol';
import { PAGE_PROTOCOL } from './protocol';

/** What the encoder cannot know from the study itself. */
export interface EncoderContext {
  /** The journal worker id of a trial read from Redis (undefined: unknown). */
  workerOf?: (t: MergedTrial) => string | undefined;
  sources: string[];
  store: StudyHeader['store'];
  live: boolean;
  canWrite: boolean;
}

/**
 * Cells (rows × param/attribute columns) the page holds at most. 100,000 trials then get 80
 * columns; the others are named in the notes and stay in each trial's details.
 */
export const DEFAULT_CELL_BUDGET = 8_000_000;

const STATE_CODE = new Map(TRIAL_STATES.map((s, i) => [s, i]));

/** A param (or user-attribute) column on the host. */
interface HostColumn {
  meta: ParamMeta | UserAttrMeta;
  num: Growable<Float64Array>;
  cat: Growable<Int32Array>;
  /** Params only: code into `dists` per row (-1: the row does not have this param). */
  dist?: Growable<Int32Array>;
  dists?: Distribution[];
  distCodes?: Map<string, number>;
  /** The distribution objects seen (the replay shares one per distinct text): code and kind. */
  distByObject?: Map<Distribution, { code: number; numeric: boolean }>;
  labels: Dictionary;
  /** Kind changed since it was last sent. */
  kindDirty: boolean;
}

/**
 * Turns a study into the page's columns: a snapshot, then deltas holding only the rows that
 * are new or changed. A finished trial never changes (Optuna refuses updates to it), so only
 * the unfinished rows are re-checked on each update: a RUNNING trial that stays RUNNING sends
 * nothing, and never makes finished trials travel again.
 */
export class StudyEncoder {
  generation = 0;
  private rows = 0;
  private readonly rowOf = new Map<number, number>();
  /** Unfinished rows: their trial and what was last sent about it. */
  private readonly open = new Map<number, { m: MergedTrial; sig: string }>();
  private readonly number = i32();
  private readonly trialId = i32();
  private readonly source = u8();
  private readonly state = u8();
  private values: Array<Growable<Float64Array>> = [];
  private readonly hasValues = u8();
  private readonly start = f64();
  private readonly complete = f64();
  private readonly worker = i32();
  private readonly steps = i32(0);
  private readonly params: HostColumn[] = [];
  private readonly paramIds = new Map<string, number>();
  private readonly userAttrs: HostColumn[] = [];
  private readonly userIds = new Map<string, number>();
  private readonly leftOutParams = new Set<string>();
  private readonly leftOutAttrs = new Set<string>();
  private workers = new Dictionary();
  private paramsSent = 0;
  private userSent = 0;
  private counts = emptyCounts();
  private best: StudyHeader['best'];
  private lastActivity: string | null = null;
  /** What the last scan saw, to tell an append from a rewrite. */
  private seen: { redis?: object; sqlite?: object; redisLen: number; studyIds: string } = {
    redisLen: 0,
    studyIds: '',
  };
  private directions: string[] = [];

  constructor(private readonly cellBudget = DEFAULT_CELL_BUDGET) {}

  get rowCount(): number {
    return this.rows;
  }

  /** Everything, from scratch (also what a page that becomes visible again gets). */
  snapshot(study: MergedStudy, ctx: EncoderContext): SnapshotMessage {
    const encodedAt = Date.now();
    this.reset(study);
    this.scanAll(study, ctx, []);
    this.generation++;
    return {
      type: 'snapshot',
      protocol: PAGE_PROTOCOL,
      generation: this.generation,
      header: this.header(study, ctx),
      dict: this.dictAppend(),
      block: this.block(undefined),
      notes: this.notes(),
      encodedAt,
    };
  }

  /**
   * The rows that changed since the last message, or undefined when none did. When the study
   * was rewritten under us (deleted and recreated, rows merged away) a snapshot comes instead.
   */
  update(study: MergedStudy, ctx: EncoderContext): DeltaMessage | SnapshotMessage | undefined {
    const encodedAt = Date.now();
    if (studyIds(study) !== this.seen.studyIds) return this.snapshot(study, ctx);
    const changed: number[] = [];
    const redisLen = study.redis?.trials.length ?? 0;
    const sqliteOnly = this.rows - this.seen.redisLen;
    const appendOnly =
      study.redis === this.seen.redis &&
      study.sqlite === this.seen.sqlite &&
      redisLen >= this.seen.redisLen &&
      study.trials.length === redisLen + sqliteOnly;
    if (appendOnly) {
      // Same sources: an open row's trial object is the live one (the replay updates it in place).
      for (const [row, o] of this.open) if (this.signature(o.m.trial) !== o.sig) changed.push(row);
      for (const row of changed) this.encodeRow(row, this.open.get(row)!.m, ctx);
      // Redis trials come first in the merged list; new ones are appended to them.
      for (let i = this.seen.redisLen; i < redisLen; i++) {
        const row = this.appendRow(study.trials[i], ctx);
        changed.push(row);
      }
      this.seen.redisLen = redisLen;
    } else if (!this.scanAll(study, ctx, changed)) {
      return this.snapshot(study, ctx);
    }
    if (changed.length === 0 && !this.kindsDirty()) return undefined;
    changed.sort((a, b) => a - b);
    return {
      type: 'delta',
      generation: this.generation,
      header: this.header(study, ctx),
      dict: this.dictAppend(),
      block: this.block(changed),
      notes: this.notes(),
      encodedAt,
    };
  }

  /** Which trial a row shows: its source and number. */
  rowTrial(row: number): { sqliteOnly: boolean; number: number; trialId: number } | undefined {
    if (row < 0 || row >= this.rows) return undefined;
    return {
      sqliteOnly: this.source.data[row] === 1,
      number: this.number.data[row],
      trialId: this.trialId.data[row],
    };
  }

  /** The trial a row shows, looked up in the study as it is now. */
  trialAt(study: MergedStudy, row: number): MergedTrial | undefined {
    const r = this.rowTrial(row);
    if (!r) return undefined;
    const key = r.trialId * 2 + (r.sqliteOnly ? 1 : 0);
    const guess = study.trials[row];
    if (guess && trialKey(guess) === key) return guess;
    return study.trials.find((t) => trialKey(t) === key);
  }

  /** Host copies of the columns the importance computation and the stale classifier read. */
  columns(): {
    rows: number;
    state: Uint8Array;
    values: Float64Array[];
    start: Float64Array;
    complete: Float64Array;
    steps: Int32Array;
    worker: Int32Array;
    trialId: Int32Array;
    number: Int32Array;
    sqliteOnly: Uint8Array;
    params: Array<{
      name: string;
      num: Float64Array;
      dist: Int32Array;
      dists: Distribution[];
    }>;
  } {
    const n = this.rows;
    return {
      rows: n,
      state: this.state.data.subarray(0, n),
      values: this.values.map((v) => v.data.subarray(0, n)),
      start: this.start.data.subarray(0, n),
      complete: this.complete.data.subarray(0, n),
      steps: this.steps.data.subarray(0, n),
      worker: this.worker.data.subarray(0, n),
      trialId: this.trialId.data.subarray(0, n),
      number: this.number.data.subarray(0, n),
      sqliteOnly: this.source.data.subarray(0, n).map((s) => (s === 1 ? 1 : 0)),
      params: this.params.map((p) => ({
        name: p.meta.name,
        num: p.num.data.subarray(0, n),
        dist: p.dist!.data.subarray(0, n),
        dists: p.dists!,
      })),
    };
  }

  workerName(code: number): string | undefined {
    return this.workers.labels[code];
  }

  // ---- scanning ------------------------------------------------------------------------

  private reset(study: MergedStudy): void {
    this.rows = 0;
    this.rowOf.clear();
    this.open.clear();
    this.params.length = 0;
    this.paramIds.clear();
    this.userAttrs.length = 0;
    this.userIds.clear();
    this.leftOutParams.clear();
    this.leftOutAttrs.clear();
    this.workers = new Dictionary();
    this.paramsSent = 0;
    this.userSent = 0;
    this.counts = emptyCounts();
    this.best = undefined;
    this.lastActivity = null;
    this.directions = (study.redis ?? study.sqlite)?.directions ?? [];
    this.values = this.directions.map(() => f64());
    this.seen = { redisLen: 0, studyIds: studyIds(study) };
  }

  /**
   * Walks every trial: new ones are appended, open ones re-checked. Returns false when a row
   * we have is gone (the caller then sends a snapshot).
   */
  private scanAll(study: MergedStudy, ctx: EncoderContext, changed: number[]): boolean {
    let seen = 0;
    for (const t of study.trials) {
      const key = trialKey(t);
      const row = this.rowOf.get(key);
      if (row === undefined) {
        changed.push(this.appendRow(t, ctx));
        seen++;
        continue;
      }
      seen++;
      const o = this.open.get(row);
      const src = t.source === 'redis' ? 0 : t.source === 'sqlite' ? 1 : 2;
      const stale = o && (o.m.trial !== t.trial || this.signature(t.trial) !== o.sig);
      if (stale || this.source.data[row] !== src) {
        this.encodeRow(row, t, ctx);
        changed.push(row);
      }
    }
    if (seen !== this.rows) return false;
    this.seen.redis = study.redis;
    this.seen.sqlite = study.sqlite;
    this.seen.redisLen = study.redis?.trials.length ?? 0;
    return true;
  }

  private appendRow(t: MergedTrial, ctx: EncoderContext): number {
    const row = this.rows++;
    this.rowOf.set(trialKey(t), row);
    this.state.set(row, 255);
    this.encodeRow(row, t, ctx);
    return row;
  }

  /** Writes every column of one row (and keeps the header's running figures). */
  private encodeRow(row: number, m: MergedTrial, ctx: EncoderContext): void {
    const t = m.trial;
    const prevState = this.state.data[row];
    const state = STATE_CODE.get(t.state)!;
    if (prevState !== 255) this.counts[TRIAL_STATES[prevState]]--;
    this.counts[t.state]++;
    this.number.set(row, t.number);
    this.trialId.set(row, t.trialId);
    this.source.set(row, m.source === 'redis' ? 0 : m.source === 'sqlite' ? 1 : 2);
    this.state.set(row, state);
    // A trial's fields may be getters that build them on each read (TrialRow): read each once.
    const values = t.values;
    const datetimeStart = t.datetimeStart;
    const datetimeComplete = t.datetimeComplete;
    this.hasValues.set(row, values ? 1 : 0);
    for (let i = 0; i < this.values.length; i++) this.values[i].set(row, toNumber(values?.[i]));
    this.start.set(row, datetimeStart ? Date.parse(datetimeStart) : NaN);
    this.complete.set(row, datetimeComplete ? Date.parse(datetimeComplete) : NaN);
    const w = ctx.workerOf?.(m);
    this.worker.set(row, w === undefined ? -1 : this.workers.code(w));
    let steps = 0;
    for (const _k in t.intermediateValues) steps++;
    this.steps.set(row, steps);
    const params = t.params;
    const distributions = t.distributions;
    const userAttrs = t.userAttrs;
    for (const name in params) this.encodeParam(row, name, params[name], distributions[name]);
    for (const name in userAttrs) this.encodeUserAttr(row, name, userAttrs[name]);
    // A param that is no longer set (a rewritten trial) must not keep its old value.
    if (prevState !== 255)
      for (const p of this.params)
        if (!(p.meta.name in params)) {
          p.num.set(row, NaN);
          p.cat.set(row, -1);
          p.dist!.set(row, -1);
        }

    for (const d of [datetimeStart, datetimeComplete])
      if (d !== null && (this.lastActivity === null || d > this.lastActivity))
        this.lastActivity = d;
    if (isFinished(t.state)) {
      this.open.delete(row);
      if (t.state === 'COMPLETE' && this.directions.length === 1) {
        const v = this.values[0].data[row];
        const max = this.directions[0] === 'MAXIMIZE';
        if (!Number.isNaN(v) && (!this.best || (max ? v > this.best.value : v < this.best.value)))
          this.best = { number: t.number, value: v, row };
      }
    } else {
      this.open.set(row, { m, sig: this.signature(t) });
    }
  }

  /** What can change on an unfinished trial, cheaply compared. */
  private signature(t: Trial): string {
    let steps = 0;
    let last = '';
    const iv = t.intermediateValues;
    for (const k in iv) {
      steps++;
      last = k;
    }
    const values = t.values;
    return `${t.state}|${t.datetimeStart}|${values ? values.map(String).join(',') : '-'}|${Object.keys(t.params).length}|${steps}:${last}:${String(iv[last])}|${toStrictJson(t.userAttrs)}`;
  }

  private admit(ids: Map<string, number>, cols: HostColumn[], name: string): boolean {
    const columns = this.params.length + this.userAttrs.length + 1;
    if (columns * Math.max(this.rows, 1000) > this.cellBudget) return false;
    ids.set(name, cols.length);
    return true;
  }

  private encodeParam(row: number, name: string, v: JsonValue, d: Distribution | undefined): void {
    let id = this.paramIds.get(name);
    if (id === undefined) {
      if (this.leftOutParams.has(name) || !this.admit(this.paramIds, this.params, name)) {
        this.leftOutParams.add(name);
        return;
      }
      id = this.params.length;
      this.params.push({
        meta: { name, kind: d ? kindOf(d) : 'float', log: d ? isLog(d) : false },
        num: f64(NaN, this.number.data.length),
        cat: i32(-1, this.number.data.length),
        dist: i32(-1, this.number.data.length),
        dists: [],
        distCodes: new Map(),
        distByObject: new Map(),
        labels: new Dictionary(),
        kindDirty: false,
      });
    }
    const col = this.params[id];
    if (!d) return;
    let known = col.distByObject!.get(d);
    if (!known) {
      known = { code: this.distCode(col, d), numeric: isNumeric(d) };
      col.distByObject!.set(d, known);
    }
    col.dist!.set(row, known.code);
    if (known.numeric) {
      col.num.set(row, toNumber(v));
      col.cat.set(row, -1);
    } else {
      const choices = d.attributes.choices as JsonValue[];
      col.num.set(
        row,
        choices.findIndex((c) => pyEquals(c, v)),
      );
      col.cat.set(row, col.labels.code(labelOf(v)));
    }
  }

  /** The column's code of a distribution (equal ones share it), noting kind and bounds. */
  private distCode(col: HostColumn, d: Distribution): number {
    const meta = col.meta as ParamMeta;
    const key = toStrictJson({ n: d.name, a: d.attributes });
    let dc = col.distCodes!.get(key);
    if (dc === undefined) {
      dc = col.dists!.length;
      col.dists!.push(d);
      col.distCodes!.set(key, dc);
      const kind = kindOf(d);
      if (kind !== meta.kind && meta.kind !== 'mixed') {
        meta.kind = numericKind(kind) && numericKind(meta.kind) ? 'float' : 'mixed';
        col.kindDirty = true;
      }
      if (!isLog(d) && meta.log) {
        meta.log = false;
        col.kindDirty = true;
      }
      if (isNumeric(d)) {
        const lo = toNumber(d.attributes.low);
        const hi = toNumber(d.attributes.high);
        if (meta.low === undefined || lo < meta.low) {
          meta.low = lo;
          col.kindDirty ||= dc > 0;
        }
        if (meta.high === undefined || hi > meta.high) {
          meta.high = hi;
          col.kindDirty ||= dc > 0;
        }
      }
    }
    return dc;
  }

  private encodeUserAttr(row: number, name: string, v: JsonValue): void {
    let id = this.userIds.get(name);
    if (id === undefined) {
      if (this.leftOutAttrs.has(name) || !this.admit(this.userIds, this.userAttrs, name)) {
        this.leftOutAttrs.add(name);
        return;
      }
      id = this.userAttrs.length;
      this.userAttrs.push({
        meta: { name, kind: numberLike(v) ? 'float' : 'text' },
        num: f64(NaN, this.number.data.length),
        cat: i32(-1, this.number.data.length),
        labels: new Dictionary(),
        kindDirty: false,
      });
    }
    const col = this.userAttrs[id];
    const numeric = numberLike(v);
    if ((numeric ? 'float' : 'text') !== col.meta.kind && col.meta.kind !== 'mixed') {
      col.meta.kind = 'mixed';
      col.kindDirty = true;
    }
    if (numeric) {
      col.num.set(row, toNumber(v));
      col.cat.set(row, -1);
    } else {
      col.num.set(row, NaN);
      col.cat.set(row, col.labels.code(typeof v === 'string' ? v : toStrictJson(v)));
    }
  }

  // ---- messages ------------------------------------------------------------------------

  private kindsDirty(): boolean {
    return (
      this.params.length > this.paramsSent ||
      this.userAttrs.length > this.userSent ||
      this.params.some((p) => p.kindDirty) ||
      this.userAttrs.some((p) => p.kindDirty)
    );
  }

  private dictAppend(): DictionaryAppend {
    const d: DictionaryAppend = {
      params: this.params.slice(this.paramsSent).map((p) => ({ ...(p.meta as ParamMeta) })),
      paramLabels: {},
      userAttrs: this.userAttrs.slice(this.userSent).map((p) => ({ ...p.meta })),
      userLabels: {},
      workers: this.workers.unsent(),
    };
    this.params.forEach((p, id) => {
      const l = p.labels.unsent();
      if (l.length) d.paramLabels[id] = l;
      if (p.kindDirty && id < this.paramsSent)
        (d.paramsChanged ??= {})[id] = { ...(p.meta as ParamMeta) };
      p.kindDirty = false;
    });
    this.userAttrs.forEach((p, id) => {
      const l = p.labels.unsent();
      if (l.length) d.userLabels[id] = l;
      if (p.kindDirty && id < this.userSent) (d.userAttrsChanged ??= {})[id] = { ...p.meta };
      p.kindDirty = false;
    });
    this.paramsSent = this.params.length;
    this.userSent = this.userAttrs.length;
    return d;
  }

  private block(rows: number[] | undefined): RowBlock {
    const n = rows ? rows.length : this.rows;
    const take = <T extends Float64Array | Int32Array | Uint8Array>(g: Growable<T>) =>
      rows ? g.pick(rows) : g.head(n);
    const col = (c: HostColumn, id: number): ValueColumn => {
      const k = c.meta.kind;
      return {
        id,
        num: k === 'categorical' || k === 'text' ? undefined : take(c.num),
        cat: k === 'float' || k === 'int' ? undefined : take(c.cat),
      };
    };
    return {
      rows: rows ? new Int32Array(rows).buffer : undefined,
      n,
      number: take(this.number),
      source: take(this.source),
      state: take(this.state),
      values: this.values.map(take),
      hasValues: take(this.hasValues),
      start: take(this.start),
      complete: take(this.complete),
      worker: take(this.worker),
      steps: take(this.steps),
      params: this.params.map(col),
      userAttrs: this.userAttrs.map(col),
    };
  }

  private header(study: MergedStudy, ctx: EncoderContext): StudyHeader {
    return {
      key: study.key,
      name: study.name,
      directions: this.directions,
      counts: { ...this.counts },
      best: this.best,
      sources: ctx.sources,
      lastActivity: this.lastActivity,
      store: ctx.store,
      live: ctx.live,
      canWrite: ctx.canWrite,
    };
  }

  private notes(): string[] {
    const out: string[] = [];
    const list = (s: Set<string>) => {
      const names = [...s].slice(0, 8).join(', ');
      return s.size > 8 ? `${names} and ${s.size - 8} more` : names;
    };
    if (this.leftOutParams.size)
      out.push(
        `${this.leftOutParams.size} of ${this.leftOutParams.size + this.params.length} params are left out of the table and plots to keep ${this.rows.toLocaleString('en-US')} rows fast (${list(this.leftOutParams)}); each trial's details still list them.`,
      );
    if (this.leftOutAttrs.size)
      out.push(
        `${this.leftOutAttrs.size} user attributes are left out of the table (${list(this.leftOutAttrs)}); each trial's details still list them.`,
      );
    for (const p of this.params)
      if (p.meta.kind === 'mixed')
        out.push(
          `Param "${p.meta.name}" changes type between trials (${p.dists!.map((d) => d.name.replace('Distribution', '')).join(', ')}): numbers are plotted, the other values only listed.`,
        );
    return out;
  }
}

/** A snapshot as its two messages: rows and values first, params and the rest right after. */
export function splitSnapshot(msg: SnapshotMessage): [SnapshotMessage, ColumnsMessage] {
  const { params, userAttrs, worker, steps, start, complete, ...core } = msg.block;
  return [
    { ...msg, block: { ...core, params: [], userAttrs: [] } },
    {
      type: 'columns',
      generation: msg.generation,
      params,
      userAttrs,
      worker: worker!,
      steps: steps!,
      start: start!,
      complete: complete!,
    },
  ];
}

function emptyCounts(): StudyHeader['counts'] {
  return { RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0, WAITING: 0 };
}

/** One identity per row: the trial_id in its source (SQLite-only trials apart). */
function trialKey(t: MergedTrial): number {
  return t.trial.trialId * 2 + (t.source === 'sqlite' ? 1 : 0);
}

/** The studies behind a merged study: when they change, the rows are not the same ones. */
function studyIds(s: MergedStudy): string {
  return `${s.redis?.studyId ?? '-'}/${s.sqlite?.studyId ?? '-'}/${(s.redis ?? s.sqlite)?.directions.join(',')}`;
}

function kindOf(d: Distribution): ColumnKind {
  if (d.name === 'CategoricalDistribution') return 'categorical';
  return /^Int/.test(d.name) ? 'int' : 'float';
}

function numericKind(k: ColumnKind): boolean {
  return k === 'int' || k === 'float';
}

function numberLike(v: JsonValue): boolean {
  return typeof v === 'number' || typeof v === 'bigint';
}

function toNumber(v: JsonValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

/** A categorical choice as Python prints it. */
export function labelOf(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  }
  return typeof v === 'object' ? toStrictJson(v) : String(v);
}
