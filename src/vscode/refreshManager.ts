import type * as vscode from 'vscode';
import { Disposable } from './lifecycle';

/** A view or panel whose visibility decides whether data is read (TreeView fits as is). */
export interface VisibilitySource {
  readonly visible: boolean;
  onDidChangeVisibility(listener: (e: { visible: boolean }) => unknown): vscode.Disposable;
}

/** Why a read is asked for. Each reason's policy is in POLICY below, and nowhere else. */
export type RefreshReason =
  /** The timer: while a view is visible, or something keeps the data fresh. */
  | 'interval'
  /** A view became visible: what it shows may be stale. */
  | 'visible'
  /** The store changed state (e.g. Redis is back): read what changed meanwhile. */
  | 'state'
  /** The Refresh command: now, visible or not, and rescan the server for journal prefixes. */
  | 'manual'
  /** This extension wrote to the storage (deleted, imported, marked trials): read it back. */
  | 'wrote'
  /** A report or form is about to show studies (health report, launch form). */
  | 'shown'
  /** A run starts: its study as it is now, so that only new trials count as progress. */
  | 'run-started'
  /** A run ended: its last trials, so that its progress is final. */
  | 'run-ended'
  /**
   * A process of the Python storage published its first status next to the fallback file
   * while none was known: now, visible or not, so that the status bar follows the writers.
   */
  | 'writers';

interface Policy {
  /** `now`: at once, whatever is visible; `soon`: debounced, and only while active. */
  when: 'now' | 'soon';
  /** Scan for new journal prefixes too. */
  rediscover?: boolean;
  /** Do not share a read that started before the request (it may predate a write). */
  fresh?: boolean;
}

const POLICY: Record<RefreshReason, Policy> = {
  interval: { when: 'soon' },
  visible: { when: 'soon' },
  state: { when: 'soon' },
  manual: { when: 'now', rediscover: true },
  // An import may have created the prefix it wrote to.
  wrote: { when: 'now', fresh: true, rediscover: true },
  shown: { when: 'now' },
  'run-started': { when: 'now' },
  'run-ended': { when: 'now', fresh: true },
  writers: { when: 'now' },
};

/** What a read is told: the reason (for the log) and the policy's options. */
export interface RefreshRequest {
  reason: RefreshReason;
  rediscover: boolean;
  fresh: boolean;
}

/**
 * One place that decides when data is read (vscode-docker's RefreshManager): an interval that
 * runs only while one of the views is visible or a holder of `keepFresh` needs data (the Runs
 * view while runs are running), debounced event-driven reads, and reads that must happen now.
 * Every read the extension makes comes through `refresh(reason)`.
 */
export class RefreshManager extends Disposable {
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly visibleViews = new Set<VisibilitySource>();
  /** Holders of keepFresh, each with the longest interval it accepts. */
  private readonly keepers = new Set<{ intervalMs: number }>();

  constructor(
    private readonly read: (request: RefreshRequest) => Promise<unknown>,
    private intervalMs: number,
    views: VisibilitySource[],
    private readonly debounceMs = 300,
  ) {
    super();
    for (const v of views) this._register(this.track(v));
    this._register({
      dispose: () => {
        clearTimeout(this.debounce);
        this.keepers.clear();
        clearInterval(this.timer);
      },
    });
    this.reschedule();
  }

  /** Reads also while `v` is visible (a study page), until the returned disposable is disposed. */
  track(v: VisibilitySource): vscode.Disposable {
    if (v.visible) this.visibleViews.add(v);
    this.reschedule();
    const sub = v.onDidChangeVisibility((e) => {
      if (e.visible) this.visibleViews.add(v);
      else this.visibleViews.delete(v);
      this.reschedule();
      if (e.visible) void this.refresh('visible');
    });
    // A plain disposable: this file is unit-tested without the vscode module at run time.
    return {
      dispose: () => {
        sub.dispose();
        if (this.visibleViews.delete(v)) this.reschedule();
      },
    };
  }

  /** A view or tracked panel is visible, or someone keeps the data fresh: the interval runs. */
  get active(): boolean {
    return this.visibleViews.size > 0 || this.keepers.size > 0;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    this.reschedule();
  }

  /**
   * Keeps the interval running while no view is visible, at `intervalMs` at most, until the
   * returned disposable is disposed (the Runs view while runs are running).
   */
  keepFresh(intervalMs = this.intervalMs): vscode.Disposable {
    const keeper = { intervalMs };
    this.keepers.add(keeper);
    this.reschedule();
    return {
      dispose: () => {
        if (this.keepers.delete(keeper)) this.reschedule();
      },
    };
  }

  private reschedule(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!this.active || this.isDisposed) return;
    const ms = Math.min(this.intervalMs, ...[...this.keepers].map((k) => k.intervalMs));
    this.timer = setInterval(() => void this.refresh('interval'), ms);
  }

  /**
   * Asks for a read. `now` reasons read at once and resolve when it is done; `soon` reasons
   * are coalesced (the interval is not delayed by them) and skipped while nothing is active.
   */
  refresh(reason: RefreshReason): Promise<void> {
    const p = POLICY[reason];
    const request = { reason, rediscover: !!p.rediscover, fresh: !!p.fresh };
    if (p.when === 'now') {
      clearTimeout(this.debounce);
      this.debounce = undefined;
      return this.read(request).then(noop);
    }
    if (!this.active) return Promise.resolve();
    // The reader reports its own failures; nothing awaits these reads.
    if (reason === 'interval') return this.read(request).then(noop, noop);
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.read(request).catch(noop), this.debounceMs);
    return Promise.resolve();
  }
}

const noop = (): void => undefined;
