import { type Distribution, TRIAL_STATES, type Trial, isFinished } from '../optuna/model';
import { toStrictJson } from '../optuna/strictJson';
import type { MergedStudy, MergedTrial } from '../storage/mergedView';
import type { Take } from './growable';
import { NamedColumns } from './namedColumns';
import type {
  ColumnsMessage,
  DeltaMessage,
  DictionaryAppend,
  RowBlock,
  SnapshotMessage,
  StudyHeader,
} from './protocol';
import { PAGE_PROTOCOL } from './protocol';
import { NEW_ROW, TrialColumns } from './trialColumns';

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

/**
 * Turns a study into the page's columns: a snapshot, then deltas holding only the rows that
 * are new or changed. A finished trial never changes (Optuna refuses updates to it), so only
 * the unfinished rows are re-checked on each update: a RUNNING trial that stays RUNNING sends
 * nothing, and never makes finished trials travel again. The cells themselves are written by
 * trialColumns (what every trial has) and namedColumns (params and user attributes).
 */
export class StudyEncoder {
  generation = 0;
  private rows = 0;
  private readonly rowOf = new Map<number, number>();
  /** Unfinished rows: their trial and what was last sent about it. */
  private readonly open = new Map<number, { m: MergedTrial; sig: string }>();
  private readonly cols = new TrialColumns();
  private readonly named: NamedColumns;
  private counts = emptyCounts();
  private best: StudyHeader['best'];
  private lastActivity: string | null = null;
  /** What the last scan saw, to tell an append from a rewrite. */
  private seen: { redis?: object; sqlite?: object; redisLen: number; studyIds: string } = {
    redisLen: 0,
    studyIds: '',
  };
  private directions: string[] = [];
  constructor(cellBudget = DEFAULT_CELL_BUDGET) {
    this.named = new NamedColumns(cellBudget);
  }

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
    if (changed.length === 0 && !this.named.kindsDirty()) return undefined;
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
      sqliteOnly: this.cols.source.data[row] === 1,
      number: this.cols.number.data[row],
      trialId: this.cols.trialId.data[row],
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
    const c = this.cols;
    return {
      rows: n,
      state: c.state.data.subarray(0, n),
      values: c.values.map((v) => v.data.subarray(0, n)),
      start: c.start.data.subarray(0, n),
      complete: c.complete.data.subarray(0, n),
      steps: c.steps.data.subarray(0, n),
      worker: c.worker.data.subarray(0, n),
      trialId: c.trialId.data.subarray(0, n),
      number: c.number.data.subarray(0, n),
      sqliteOnly: c.source.data.subarray(0, n).map((s) => (s === 1 ? 1 : 0)),
      params: this.named.numericParams(n),
    };
  }

  workerName(code: number): string | undefined {
    return this.cols.workers.labels[code];
  }

  // ---- scanning ------------------------------------------------------------------------

  private reset(study: MergedStudy): void {
    this.rows = 0;
    this.rowOf.clear();
    this.open.clear();
    this.named.reset();
    this.counts = emptyCounts();
    this.best = undefined;
    this.lastActivity = null;
    this.directions = (study.redis ?? study.sqlite)?.directions ?? [];
    this.cols.reset(this.directions.length);
    // Every row's room at once, and some for live updates (new named columns start with the
    // same): growing by doubling to 100,000 rows allocated twice what it kept, and sized the
    // columns for 131,072. Memory freed in such pieces stays in the extension host's RSS.
    const n = study.trials.length;
    this.cols.reserve(n + Math.max(1024, Math.ceil(n / 8)));
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
      if (stale || this.cols.source.data[row] !== src) {
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
    this.cols.state.set(row, NEW_ROW);
    this.encodeRow(row, t, ctx);
    return row;
  }

  /** Writes every column of one row (and keeps the header's running figures). */
  private encodeRow(row: number, m: MergedTrial, ctx: EncoderContext): void {
    const t = m.trial;
    const prevState = this.cols.state.data[row];
    if (prevState !== NEW_ROW) this.counts[TRIAL_STATES[prevState]]--;
    this.counts[t.state]++;
    const { datetimeStart, datetimeComplete } = this.cols.encode(row, m, ctx.workerOf?.(m));
    this.named.encode(row, t, this.rows, this.cols.capacity, prevState !== NEW_ROW);
    for (const d of [datetimeStart, datetimeComplete])
      if (d !== null && (this.lastActivity === null || d > this.lastActivity))
        this.lastActivity = d;
    if (isFinished(t.state)) {
      this.open.delete(row);
      if (t.state === 'COMPLETE' && this.directions.length === 1) {
        const v = this.cols.values[0].data[row];
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

  // ---- messages ------------------------------------------------------------------------

  private dictAppend(): DictionaryAppend {
    return { ...this.named.dictAppend(), workers: this.cols.workers.unsent() };
  }

  private block(rows: number[] | undefined): RowBlock {
    const n = rows ? rows.length : this.rows;
    const take: Take = (g) => (rows ? g.pick(rows) : g.head(n));
    return {
      rows: rows ? new Int32Array(rows).buffer : undefined,
      n,
      ...this.cols.block(take),
      ...this.named.block(take),
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
    return this.named.notes(this.rows);
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
