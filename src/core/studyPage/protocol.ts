/**
 * The messages between the extension host and a study page's webview. Trials travel as
 * columns (typed arrays sent as ArrayBuffers, strings as append-only dictionaries), never as
 * one object per trial: a 100,000-trial study is a few dozen buffers, and a live update is the
 * rows that are new or changed, nothing else.
 *
 * Types only (and a few constants): both the host and the webview bundle import this file.
 */

import type { StoreState } from '../storage/storeState';

/** Bumped when the layout changes; a webview restored from an older build asks again. */
export const PAGE_PROTOCOL = 1;

/** Optuna's trial states by the codes the `state` column holds (TRIAL_STATES order). */
export const STATE_NAMES = ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'] as const;
export const enum StateCode {
  Running = 0,
  Complete = 1,
  Pruned = 2,
  Fail = 3,
  Waiting = 4,
}

/** Where a row's trial was read: the `source` column. */
export const SOURCE_NAMES = ['redis', 'sqlite', 'both'] as const;

/** What kind of values a param (or user attribute) column holds. */
export type ColumnKind = 'float' | 'int' | 'categorical' | 'mixed' | 'text';

export interface ParamMeta {
  name: string;
  kind: ColumnKind;
  /** Drawn on a log axis (every distribution seen for it is log). */
  log: boolean;
  /** Union of the distributions' bounds (numeric kinds). */
  low?: number;
  high?: number;
}

export interface UserAttrMeta {
  name: string;
  /** 'float': every value seen is a number; otherwise values are shown as text. */
  kind: ColumnKind;
}

/**
 * One param or user-attribute column for the rows of a block. Only what the column's kind
 * uses travels: numbers for float/int columns, label codes for categorical/text ones, both
 * for mixed ones; an absent part means "none" for every row (NaN, -1).
 */
export interface ValueColumn {
  /** Index into the params (or user attributes) announced so far. */
  id: number;
  /** Float64: the number; NaN when the row has no number here. */
  num?: ArrayBuffer;
  /** Int32: code into the column's labels (categorical or text values); -1 for none. */
  cat?: ArrayBuffer;
}

/** Rows of the table: all of them in a snapshot, the new or changed ones in a delta. */
export interface RowBlock {
  /** Int32 row indexes the columns below are for; absent: rows 0..n-1 (a snapshot). */
  rows?: ArrayBuffer;
  /** Number of rows in this block. */
  n: number;
  /** Int32 */
  number: ArrayBuffer;
  /** Uint8: SOURCE_NAMES index. */
  source: ArrayBuffer;
  /** Uint8: StateCode. */
  state: ArrayBuffer;
  /** Float64 per objective; NaN where the trial has no values (see `hasValues`). */
  values: ArrayBuffer[];
  /** Uint8: 1 when the trial has values (a NaN value is then a real NaN). */
  hasValues: ArrayBuffer;
  /** Float64 epoch ms; NaN when not set. Absent: in a ColumnsMessage. */
  start?: ArrayBuffer;
  complete?: ArrayBuffer;
  /** Int32: code into the workers dictionary, -1 when unknown (SQLite). Absent: in a ColumnsMessage. */
  worker?: ArrayBuffer;
  /** Int32: intermediate values reported. Absent: in a ColumnsMessage. */
  steps?: ArrayBuffer;
  params: ValueColumn[];
  userAttrs: ValueColumn[];
}

/** Append-only dictionaries: entries added since the previous message. */
export interface DictionaryAppend {
  params: ParamMeta[];
  /** New labels per param id (categorical choices or text). */
  paramLabels: Record<number, string[]>;
  userAttrs: UserAttrMeta[];
  userLabels: Record<number, string[]>;
  workers: string[];
  /** Columns announced before whose kind or bounds changed (a float param got a categorical value: 'mixed'). */
  paramsChanged?: Record<number, ParamMeta>;
  userAttrsChanged?: Record<number, UserAttrMeta>;
}

export interface StudyHeader {
  key: string;
  name: string;
  directions: string[];
  counts: Record<(typeof STATE_NAMES)[number], number>;
  /** Best COMPLETE trial of a single-objective study. */
  best?: { number: number; value: number; row: number };
  /** Where the study lives, in words ("Redis 127.0.0.1:6379, prefix \"autodl\""). */
  sources: string[];
  /** Latest start or completion time among the trials, as stored. */
  lastActivity: string | null;
  store: { state: StoreState; detail: string };
  /** The page follows the store (false while the store is offline). */
  live: boolean;
  /** Mark as FAIL is offered (trusted workspace). */
  canWrite: boolean;
}

export interface SnapshotMessage {
  type: 'snapshot';
  protocol: number;
  /** Increases with every snapshot: deltas name the snapshot they apply to. */
  generation: number;
  header: StudyHeader;
  dict: DictionaryAppend;
  block: RowBlock;
  /** What the page leaves out and why (params over the column budget, …). */
  notes: string[];
  /** Epoch ms when the host started encoding (for the page's timing report). */
  encodedAt: number;
}

/**
 * The rest of a snapshot's columns (times, params, user attributes, workers, steps), sent right
 * after it: the snapshot itself carries what the table's rows and the first plot need (number,
 * state, values), so that they show while the larger part is still on its way.
 */
export interface ColumnsMessage {
  type: 'columns';
  generation: number;
  params: ValueColumn[];
  userAttrs: ValueColumn[];
  worker: ArrayBuffer;
  steps: ArrayBuffer;
  start: ArrayBuffer;
  complete: ArrayBuffer;
}

export interface DeltaMessage {
  type: 'delta';
  generation: number;
  header: StudyHeader;
  dict: DictionaryAppend;
  block: RowBlock;
  notes: string[];
  encodedAt: number;
}

export interface StaleMessage {
  type: 'stale';
  generation: number;
  /** RUNNING trials that look abandoned, with the reasons (never failed automatically). */
  items: Array<{ row: number; number: number; reasons: string[] }>;
}

export interface ImportanceMessage {
  type: 'importance';
  /** Per objective: importances normalized to sum 1, most important first. */
  objectives: Array<{ objective: number; params: Array<{ name: string; importance: number }> }>;
  completeCount: number;
  ms: number;
  /** Why there is nothing to show, when there is not. */
  note?: string;
}

export interface CurvesMessage {
  type: 'curves';
  generation: number;
  /** Heat layer of every finished trial's curve not drawn as a line. */
  density?: {
    stepBins: number;
    valueBins: number;
    stepMin: number;
    stepMax: number;
    valueMin: number;
    valueMax: number;
    logValue: boolean;
    /** Float32 stepBins × valueBins counts, row-major by step. */
    counts: ArrayBuffer;
    trials: number;
  };
  lines: Array<{
    row: number;
    number: number;
    role: 'best' | 'running' | 'selected' | 'all';
    steps: ArrayBuffer;
    values: ArrayBuffer;
  }>;
  /** Trials with intermediate values; values left out (NaN/±inf) are counted. */
  withCurves: number;
  nonFinite: number;
}

export interface DetailsMessage {
  type: 'details';
  row: number;
  /** Name/value pairs per section, values as display text. */
  sections: Array<{ title: string; entries: Array<[string, string]> }>;
}

export interface StatusMessage {
  type: 'status';
  /** A banner over the page (fallback in use, offline, a write that failed); undefined clears it. */
  banner?: { kind: 'info' | 'warning' | 'error'; text: string };
}

export type HostMessage =
  | SnapshotMessage
  | ColumnsMessage
  | DeltaMessage
  | StaleMessage
  | ImportanceMessage
  | CurvesMessage
  | DetailsMessage
  | StatusMessage;

/** What the webview keeps across reloads (getState/setState) and tells the host at start. */
export interface PageState {
  studyKey: string;
  studyName: string;
  objective?: number;
  logScale?: boolean;
  includePruned?: boolean;
  sort?: { column: string; descending: boolean };
  filter?: string;
  states?: string[];
  hiddenColumns?: string[];
  shownColumns?: string[];
  sliceParam?: string;
}

export type WebviewMessage =
  | {
      type: 'ready';
      state: PageState | undefined;
      /**
       * Epoch ms: the page's document began loading (performance.timeOrigin), its script
       * started, and it said ready (for the benchmark).
       */
      documentAt?: number;
      startedAt?: number;
      at?: number;
    }
  | { type: 'curves'; rows: number[] }
  | { type: 'details'; row: number }
  | { type: 'reveal'; row: number }
  | { type: 'export'; format: 'csv' | 'json'; rows: ArrayBuffer }
  | { type: 'markFail'; rows: number[] }
  | {
      type: 'report';
      /** What was drawn or measured, for the log, the tests and the benchmark. */
      report: PageReport;
    };

export interface PageReport {
  /**
   * table: rows shown (a snapshot's first part); columns: every column in; reserved: room made
   * for the rows live updates will add (in idle time after a snapshot).
   */
  event: 'drawn' | 'table' | 'columns' | 'sorted' | 'filtered' | 'applied' | 'reserved';
  generation: number;
  rows: number;
  /** Rows shown after filters. */
  shown: number;
  charts?: string[];
  ms?: number;
  /** Host epoch ms of the message this report answers (snapshot/delta encodedAt). */
  encodedAt?: number;
  heapBytes?: number;
  detail?: string;
  /** Epoch ms in the page when it reported (the same machine's clock as the host's). */
  at?: number;
  /** Epoch ms when the message this report answers reached the page. */
  arrivedAt?: number;
  /** Set by the host: epoch ms when the report arrived. */
  receivedAt?: number;
}
