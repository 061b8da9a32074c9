import * as vscode from 'vscode';

/** A view or panel whose visibility decides whether data is read (TreeView fits as is). */
export interface VisibilitySource {
  readonly visible: boolean;
  onDidChangeVisibility(listener: (e: { visible: boolean }) => unknown): vscode.Disposable;
}

/**
 * One place that decides when data is read: an interval that runs only while one of the
 * views is visible, debounced event-driven refreshes, and manual refreshes that run at once.
 */
export class RefreshManager implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly visibleViews = new Set<VisibilitySource>();

  constructor(
    private readonly refresh: () => Promise<unknown>,
    private intervalMs: number,
    views: VisibilitySource[],
    private readonly debounceMs = 300,
  ) {
    for (const v of views) this.subscriptions.push(this.track(v));
    this.reschedule();
  }

  /** Refreshes also while `v` is visible (a study page), until the returned disposable is disposed. */
  track(v: VisibilitySource): vscode.Disposable {
    if (v.visible) this.visibleViews.add(v);
    this.reschedule();
    const sub = v.onDidChangeVisibility((e) => {
      if (e.visible) this.visibleViews.add(v);
      else this.visibleViews.delete(v);
      this.reschedule();
      if (e.visible) this.request();
    });
    // A plain disposable: this file is unit-tested without the vscode module at run time.
    return {
      dispose: () => {
        sub.dispose();
        this.visibleViews.delete(v);
        this.reschedule();
      },
    };
  }

  get active(): boolean {
    return this.visibleViews.size > 0;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    this.reschedule();
  }

  private reschedule(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.active) this.timer = setInterval(() => void this.refresh(), this.intervalMs);
  }

  /** An event-driven refresh: coalesced, and skipped while no view is visible. */
  request(): void {
    if (!this.active) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), this.debounceMs);
  }

  /** A refresh the user asked for: now, visible or not. */
  now(): Promise<unknown> {
    clearTimeout(this.debounce);
    return this.refresh();
  }

  dispose(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    for (const d of this.subscriptions) d.dispose();
  }
}
