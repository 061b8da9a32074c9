import * as vscode from 'vscode';
import type { Trial } from '../../core/optuna/model';
import { CurveBuilder } from '../../core/studyPage/curves';
import { StudyEncoder, splitSnapshot } from '../../core/studyPage/encoder';
import { ImportanceService } from '../../core/studyPage/importance';
import type {
  DeltaMessage,
  HostMessage,
  ImportanceMessage,
  PageReport,
  SnapshotMessage,
  WebviewMessage,
} from '../../core/studyPage/protocol';
import { type StaleContext, type StaleVerdict, classifyStale } from '../../core/studyPage/stale';
import type { MergedStudy, MergedTrial } from '../../core/storage/mergedView';
import type { Services } from '../services';
import { pageHtml, webviewOptions } from './html';
import { encoderContext, statusBanner } from './pageStatus';
import { trialDetails } from './trialDetails';

/** Live updates reach the page at most this often (coalesced in between). */
const MIN_UPDATE_GAP_MS = 250;
/** Stale classification, learning curves and importance are looked at this often while visible. */
const SLOW_TICK_MS = 5_000;

/** What the page needs from the rest of the extension (so the panel stays testable and small). */
export interface PageHost {
  revealTrial(study: MergedStudy, trial: MergedTrial): Promise<void>;
  exportRows(study: MergedStudy, trials: Trial[], format: 'csv' | 'json'): Promise<void>;
  markFail(study: MergedStudy, trials: MergedTrial[]): Promise<void>;
  staleContext(study: MergedStudy): StaleContext;
  workerFile: string;
}

/**
 * One study page: a webview panel that follows the failover store. It sends the page a
 * snapshot when the page is ready or becomes visible again, then only the rows that changed,
 * coalesced, while it is visible; a hidden page costs nothing (its columns are dropped and
 * rebuilt on return). Reports from the page (charts drawn, rows, timings) are kept for the
 * log, the tests and the benchmark.
 */
export class StudyPagePanel implements vscode.Disposable {
  private encoder = new StudyEncoder();
  private readonly curves = new CurveBuilder();
  private readonly importance: ImportanceService;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private slow: NodeJS.Timeout | undefined;
  private lastUpdate = 0;
  private curvesDirty = false;
  private selected: number[] = [];
  private staleKey = '';
  private readonly disposables: vscode.Disposable[] = [];
  private readonly reportEmitter = new vscode.EventEmitter<PageReport>();
  readonly onDidReport = this.reportEmitter.event;
  readonly reports: PageReport[] = [];
  /** Epoch ms: the panel made, and the page's last "ready" (its script loaded and running). */
  readonly createdAt = Date.now();
  readyAt: number | undefined;
  /**
   * Epoch ms, from the page: its document began loading, its script started, and it posted
   * "ready" (for the benchmark).
   */
  pageDocumentAt: number | undefined;
  pageStartedAt: number | undefined;
  readySentAt: number | undefined;
  /** Epoch ms the first snapshot's encoding started and ended (for the benchmark). */
  preparedSpan: { from: number; to: number } | undefined;
  /** Epoch ms the last snapshot was posted to the page. */
  snapshotPostedAt: number | undefined;
  /** The last importance result sent (computed in the worker thread). */
  lastImportance: ImportanceMessage | undefined;
  /** The last message encoded for the page: what, how many rows, how long (for the benchmark). */
  lastEncode: { type: 'snapshot' | 'delta'; rows: number; ms: number } | undefined;
  disposed = false;

  constructor(
    private readonly s: Services,
    readonly panel: vscode.WebviewPanel,
    readonly studyKey: string,
    private readonly host: PageHost,
  ) {
    this.importance = new ImportanceService(host.workerFile);
    const w = panel.webview;
    w.options = webviewOptions(s.context.extensionUri);
    w.html = pageHtml(w, s.context.extensionUri, panel.title);
    panel.iconPath = vscode.Uri.joinPath(s.context.extensionUri, 'media', 'optuna-storage.svg');
    this.disposables.push(
      w.onDidReceiveMessage((m: WebviewMessage) => this.onMessage(m).catch((e) => this.fail(e))),
      panel.onDidChangeViewState(() => this.visibilityChanged()),
      panel.onDidDispose(() => this.dispose()),
      s.store.onDidChangeData(() => this.schedule()),
      s.store.onDidChangeState(() => {
        this.postStatus();
        this.schedule();
      }),
      s.refresh.track({
        get visible() {
          return panel.visible;
        },
        onDidChangeVisibility: (l) =>
          panel.onDidChangeViewState((e) => l({ visible: e.webviewPanel.visible })),
      }),
      this.reportEmitter,
    );
    // Encode the first snapshot while the webview loads its script (another process). Not on
    // setImmediate: VS Code sends the panel's creation and its HTML to the workbench from a
    // timer (its protocol writer batches on setTimeout), which an immediate encode held back
    // until done (0.6-2.6 s at 100,000 trials) before the webview could even start loading.
    setTimeout(() => this.prepare(), 0);
  }

  /** The first snapshot, encoded ahead of the page's "ready". */
  private prepared: SnapshotMessage | undefined;

  private prepare(): void {
    const study = this.study();
    if (this.disposed || this.ready || !study) return;
    const t0 = performance.now();
    const from = Date.now();
    this.encoder = new StudyEncoder();
    this.prepared = this.encoder.snapshot(study, encoderContext(this.s.store, study));
    this.lastEncode = { type: 'snapshot', rows: this.prepared.block.n, ms: performance.now() - t0 };
    this.preparedSpan = { from, to: Date.now() };
  }

  /** The importance worker thread is computing (for the benchmark's memory figures). */
  get importanceComputing(): boolean {
    return this.importance.computing;
  }

  study(): MergedStudy | undefined {
    return this.s.store.findStudy(this.studyKey);
  }

  private visibilityChanged(): void {
    if (this.panel.visible) {
      // The page is rebuilt from its state when shown again (no retainContextWhenHidden):
      // it says "ready" and gets a fresh snapshot then.
      this.startSlowTick();
      return;
    }
    this.ready = false;
    this.stopTimers();
    this.encoder = new StudyEncoder(); // a hidden page holds no columns
  }

  private startSlowTick(): void {
    clearInterval(this.slow);
    this.slow = setInterval(() => void this.slowTick().catch((e) => this.fail(e)), SLOW_TICK_MS);
  }

  private stopTimers(): void {
    clearTimeout(this.timer);
    clearTimeout(this.afterTimer);
    clearInterval(this.slow);
    this.timer = undefined;
    this.slow = undefined;
  }

  /** Coalesces store changes into at most one update every MIN_UPDATE_GAP_MS. */
  schedule(): void {
    if (!this.ready || !this.panel.visible || this.timer) return;
    const wait = Math.max(0, this.lastUpdate + MIN_UPDATE_GAP_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastUpdate = Date.now();
      this.update();
    }, wait);
  }

  /** Sends what changed (a snapshot the first time), then what follows from it. */
  private update(): void {
    if (!this.ready || !this.panel.visible) return;
    const study = this.study();
    if (!study) {
      this.postStatus();
      return;
    }
    const first = this.encoder.generation === 0;
    const t0 = performance.now();
    const ctx = encoderContext(this.s.store, study);
    const msg = first ? this.encoder.snapshot(study, ctx) : this.encoder.update(study, ctx);
    if (msg) this.lastEncode = { type: msg.type, rows: msg.block.n, ms: performance.now() - t0 };
    if (!msg) return;
    this.post(msg);
    if (msg.type === 'snapshot') {
      this.staleKey = '';
      this.curvesDirty = true;
      this.afterSnapshot();
    } else if (changedCurves(msg)) this.curvesDirty = true;
  }

  /**
   * Stale flags, curves and importance follow a snapshot once the page has all of it: computed
   * at once they would hold this thread while the snapshot's bytes are still being sent.
   */
  private afterSnapshot(): void {
    clearTimeout(this.afterTimer);
    this.afterTimer = setTimeout(() => void this.slowTick(true).catch((e) => this.fail(e)), 3000);
    this.afterPending = true;
  }
  private afterTimer: NodeJS.Timeout | undefined;
  private afterPending = false;

  /** Stale trials, learning curves and importance: cheap to skip, not needed every update. */
  private async slowTick(force = false): Promise<void> {
    if (!this.ready || !this.panel.visible || this.encoder.generation === 0) return;
    const study = this.study();
    if (!study) return;
    this.postStale(study);
    if (this.curvesDirty) {
      this.curvesDirty = false;
      this.post(this.curves.build(study, this.encoder, this.selected));
    }
    const directions = (study.redis ?? study.sqlite)!.directions;
    const enc = this.encoder;
    const msg = await this.importance.update(enc, directions, force);
    if (msg && enc === this.encoder && this.ready) {
      this.lastImportance = msg;
      this.post(msg);
    }
  }

  private postStale(study: MergedStudy): void {
    let items: StaleVerdict[] = [];
    try {
      items = classifyStale(this.encoder.columns(), this.host.staleContext(study));
    } catch (e) {
      this.s.log.warn(`study page: stale classification failed: ${(e as Error).message}`);
    }
    const key = `${this.encoder.generation}:${items.map((i) => `${i.row}:${i.reasons.join('|')}`).join(',')}`;
    if (key === this.staleKey) return;
    this.staleKey = key;
    this.post({ type: 'stale', generation: this.encoder.generation, items });
  }

  private postStatus(): void {
    this.post({ type: 'status', banner: statusBanner(this.s.store, this.study()) });
  }

  private post(msg: HostMessage): void {
    if (this.disposed) return;
    if (msg.type === 'snapshot') {
      this.snapshotPostedAt = Date.now();
      for (const part of splitSnapshot(msg)) void this.panel.webview.postMessage(part);
      return;
    }
    void this.panel.webview.postMessage(msg);
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        this.readyAt = Date.now();
        this.pageDocumentAt = m.documentAt;
        this.pageStartedAt = m.startedAt;
        this.readySentAt = m.at;
        this.startSlowTick();
        this.postStatus();
        this.lastUpdate = Date.now();
        const prepared = this.prepared;
        this.prepared = undefined;
        if (prepared && this.panel.visible) {
          // What changed while the page loaded follows as a delta.
          this.post(prepared);
          this.staleKey = '';
          this.curvesDirty = true;
          this.afterSnapshot();
        } else this.encoder = new StudyEncoder();
        this.update();
        return;
      }
      case 'report':
        this.reports.push({ ...m.report, receivedAt: Date.now() });
        if (this.reports.length > 200) this.reports.splice(0, this.reports.length - 200);
        this.s.log.debug(
          `study page "${this.panel.title}": ${m.report.event} ${m.report.rows} rows${m.report.ms !== undefined ? ` in ${m.report.ms.toFixed(1)} ms` : ''}${m.report.detail ? ` (${m.report.detail})` : ''}`,
        );
        this.reportEmitter.fire(m.report);
        if (m.report.event === 'columns' && this.afterPending) {
          this.afterPending = false;
          clearTimeout(this.afterTimer);
          void this.slowTick(true).catch((e) => this.fail(e));
        }
        return;
      case 'details': {
        const study = this.study();
        const t = study && this.encoder.trialAt(study, m.row);
        if (t)
          this.post(
            trialDetails(m.row, t, this.encoder.workerName(this.encoder.columns().worker[m.row])),
          );
        return;
      }
      case 'reveal': {
        const study = this.study();
        const t = study && this.encoder.trialAt(study, m.row);
        if (study && t) await this.host.revealTrial(study, t);
        return;
      }
      case 'curves': {
        this.selected = m.rows;
        const study = this.study();
        if (study && this.encoder.generation > 0)
          this.post(this.curves.build(study, this.encoder, this.selected));
        return;
      }
      case 'export': {
        const study = this.study();
        if (!study) return;
        const rows = new Int32Array(m.rows);
        const trials: Trial[] = [];
        for (const r of rows) {
          const t = this.encoder.trialAt(study, r);
          if (t) trials.push(t.trial);
        }
        await this.host.exportRows(study, trials, m.format);
        return;
      }
      case 'markFail': {
        const study = this.study();
        if (!study) return;
        const trials = m.rows
          .map((r) => this.encoder.trialAt(study, r))
          .filter((t): t is MergedTrial => !!t);
        await this.host.markFail(study, trials);
        return;
      }
    }
  }

  private fail(e: unknown): void {
    this.s.log.error(`study page "${this.panel.title}": ${(e as Error).stack ?? String(e)}`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTimers();
    this.importance.dispose();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

function changedCurves(msg: DeltaMessage | SnapshotMessage): boolean {
  const steps = new Int32Array(msg.block.steps!);
  for (const s of steps) if (s > 0) return true;
  return false;
}
