import * as vscode from 'vscode';
import type { Values } from '../../core/runs/params';
import type { Profile } from '../../core/runs/profiles';
import type { RunRecord } from '../../core/runs/record';
import type { Tmux } from '../../core/runs/tmux';
import type { MergedStudy } from '../../core/storage/mergedView';
import { BackgroundWork, Disposable } from '../lifecycle';
import type { Services } from '../services';
import { RunHistory } from './runHistory';
import {
  LAST_KEY,
  type LaunchRequest,
  launchRun,
  nextStage,
  nextStageRequest,
  rampOf,
  relaunchRequest,
} from './runLauncher';
import { RunProcesses } from './runProcesses';
import { RunProgress } from './runProgress';

export { LAST_KEY, type LaunchRequest };

/** How often a running run's study is read while the views are hidden. */
const PROGRESS_READ_MS = 2000;

/**
 * Optimizer runs, put together: launching (runLauncher.ts), watching their processes
 * (runProcesses.ts), their progress from the store (runProgress.ts) and the history kept in
 * workspaceState (runHistory.ts). Work started in the background is awaited by `shutdown`.
 */
export class RunManager extends Disposable {
  private readonly history: RunHistory;
  private readonly processes: RunProcesses;
  private readonly progress: RunProgress;
  private readonly work: BackgroundWork;
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  /** Held while runs are running: their progress needs data even with the views hidden. */
  private keepFresh: vscode.Disposable | undefined;

  constructor(
    private readonly s: Services,
    private readonly storageDir: string,
  ) {
    super();
    this.history = new RunHistory(s.context.workspaceState);
    this.progress = new RunProgress(s.store, this.history, s.log);
    this.work = new BackgroundWork((what, e) =>
      s.log.error(`runs: ${what}: ${(e as Error)?.message ?? String(e)}`),
    );
    this.processes = this._register(
      new RunProcesses(this.history, s.log, {
        changed: () => this.changed.fire(),
        ended: (run) => this.work.run(`final read of ${run.label}`, () => this.finish(run)),
      }),
    );
    this._register(s.store.onDidChangeData(() => this.updateProgress()));
  }

  /** Newest first. */
  get all(): readonly RunRecord[] {
    return this.history.all;
  }

  get(id: string): RunRecord | undefined {
    return this.history.get(id);
  }

  get tmuxAlive(): ReadonlyMap<string, boolean> {
    return this.processes.tmuxAlive;
  }

  terminalOf(run: RunRecord): vscode.Terminal | undefined {
    return this.processes.terminalOf(run);
  }

  tmux(run?: RunRecord): Tmux {
    return this.processes.tmux(run);
  }

  /**
   * After activation (e.g. VS Code restarted): find what became of the runs the history says
   * are running, and re-adopt terminals VS Code restored. Runs in the background.
   */
  start(): void {
    this.work.run('reconciling the run history', () => this.init());
  }

  private async init(): Promise<void> {
    this.processes.adoptRestoredTerminals();
    // Runs that ended in an earlier session keep the progress they had then.
    for (const run of this.history.all) if (run.state !== 'running') run.final = true;
    for (const run of this.history.running()) await this.processes.check(run, true);
    await this.processes.checkTmuxSessions();
    this.history.save();
    this.changed.fire();
    this.schedule();
  }

  /** Re-reads the history from workspaceState and reconciles it, as a fresh activation would. */
  async reload(): Promise<void> {
    this.history.reload();
    await this.init();
  }

  // ---------------------------------------------------------------------------- launch

  async launch(req: LaunchRequest): Promise<RunRecord> {
    const { run, terminal, last } = await launchRun(this.s, this.progress, this.storageDir, req);
    this.processes.attach(run, terminal);
    this.history.add(run);
    this.history.deleteRunsBeyondLimit();
    this.history.save(true);
    this.changed.fire();
    this.schedule();
    await this.s.context.workspaceState.update(LAST_KEY, last);
    return run;
  }

  /** The same parameters again (a new run, a new number). */
  relaunch(run: RunRecord): Promise<RunRecord> {
    return this.launch(relaunchRequest(run));
  }

  rampOf(run: RunRecord): Profile {
    return rampOf(run);
  }

  nextStage(run: RunRecord): { profile: Profile; stage: number; values: Values } | undefined {
    return nextStage(run);
  }

  launchNextStage(run: RunRecord): Promise<RunRecord> | undefined {
    const req = nextStageRequest(run);
    return req && this.launch(req);
  }

  // ---------------------------------------------------------------------------- processes

  stop(run: RunRecord): Promise<void> {
    return this.processes.stop(run);
  }

  reattach(run: RunRecord): Promise<vscode.Terminal | undefined> {
    return this.processes.reattach(run);
  }

  tmuxSessionExists(run: RunRecord): Promise<boolean> {
    return this.processes.tmuxSessionExists(run);
  }

  checkTmuxSessions(): Promise<void> {
    return this.processes.checkTmuxSessions();
  }

  private schedule(): void {
    if (this.timer || this.history.running().length === 0 || this.work.isClosed) return;
    this.timer = setInterval(() => this.work.run('checking runs', () => this.tick()), 1000);
    this.keepFresh ??= this.s.refresh.keepFresh(PROGRESS_READ_MS);
  }

  private ticking = false;

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const run of this.history.running()) await this.processes.check(run, false);
      // New trials update the progress through onDidChangeData; this keeps the rate current.
      this.updateProgress();
      if (this.history.running().length === 0) this.unschedule();
    } finally {
      this.ticking = false;
    }
  }

  private unschedule(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.keepFresh?.dispose();
    this.keepFresh = undefined;
  }

  /**
   * After a run ended: one more read so that its last trials are counted (a fresh one: a read
   * already in flight may have begun before they were written); then its progress is final.
   */
  private async finish(run: RunRecord): Promise<void> {
    await this.s.refresh.refresh('run-ended');
    this.updateProgress();
    run.final = true;
    this.history.save(true);
    await this.processes.tmuxSessionExists(run);
  }

  // ---------------------------------------------------------------------------- history

  /** Forgets a finished run, closes its tmux session and deletes its folder. */
  async remove(run: RunRecord): Promise<void> {
    if (run.state === 'running') throw new Error(`${run.label} is still running: stop it first`);
    await this.processes.forget(run);
    this.history.deleteRun(run);
    this.history.save(true);
    this.changed.fire();
  }

  async clearFinished(): Promise<number> {
    const done = this.history.all.filter((r) => r.state !== 'running');
    for (const r of done) await this.remove(r);
    return done.length;
  }

  // ---------------------------------------------------------------------------- progress

  /** The study a run writes to, resolving "detect automatically" when it shows up. */
  studyOf(run: RunRecord): MergedStudy | undefined {
    return this.progress.studyOf(run);
  }

  private updateProgress(): void {
    if (!this.progress.update()) return;
    this.history.save();
    this.changed.fire();
  }

  /** Stops watching, waits for the work in flight (final reads, checks) and the last save. */
  async shutdown(): Promise<void> {
    this.unschedule();
    await this.work.close();
    this.history.save(true);
    await this.history.saved();
  }

  override dispose(): void {
    void this.shutdown();
    super.dispose();
  }
}
