import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { sleep } from '../../core/abort';
import { Disposable } from '../lifecycle';
import { processAlive as alive } from '../../core/processAlive';
import { type RunRecord, stateText } from '../../core/runs/record';
import { parseStatus, type RunFiles, runFiles } from '../../core/runs/runner';
import { Tmux } from '../../core/runs/tmux';
import { which } from '../../core/which';
import type { RunHistory } from './runHistory';
import { readRunSettings } from './runSettings';

export const TERMINAL_PREFIX = 'Optuna run: ';

/** What the watcher tells its owner. */
export interface ProcessEvents {
  /** Something shown about a run changed (state, terminal, tmux session). */
  changed(): void;
  /** A run ended (exited or lost): its last trials are still to be read. */
  ended(run: RunRecord): void;
}

/** The pid is the run script of this run (not a recycled pid), where /proc can tell. */
function isRunScript(pid: number, files: RunFiles): boolean {
  if (!alive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(files.script);
  } catch {
    return process.platform !== 'linux';
  }
}

/** The run script leads its process group (terminal and tmux pane); if not, at least the script. */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Watches the processes of running runs: the exit-status file each run script writes, its
 * pid, its terminal or tmux session; stops runs (Ctrl-C, then SIGTERM, then SIGKILL) and
 * re-attaches to tmux sessions.
 */
export class RunProcesses extends Disposable {
  private readonly terminals = new Map<string, vscode.Terminal>();
  /** Runs whose terminal closed: when, to give the script a moment to write its status. */
  private readonly closedAt = new Map<string, { at: number; code: number | undefined }>();
  /** Runs Stop had to SIGKILL (their script could not record a status). */
  private readonly killed = new Set<string>();
  private readonly lastTmuxCheck = new Map<string, number>();
  /** Whether each tmux run's session existed at the last check (checked here, not in views). */
  readonly tmuxAlive = new Map<string, boolean>();

  constructor(
    private readonly history: RunHistory,
    private readonly log: vscode.LogOutputChannel,
    private readonly on: ProcessEvents,
  ) {
    super();
    this._register(vscode.window.onDidCloseTerminal((t) => this.terminalClosed(t)));
    this._register(vscode.window.onDidOpenTerminal((t) => this.adoptTerminal(t)));
  }

  /** Terminals VS Code restored after a restart, given back to their runs. */
  adoptRestoredTerminals(): void {
    for (const t of vscode.window.terminals) this.adoptTerminal(t);
  }

  private adoptTerminal(t: vscode.Terminal): void {
    if (!t.name.startsWith(TERMINAL_PREFIX)) return;
    const run = this.history.all.find((r) => r.terminalName === t.name);
    if (run && !this.terminalOf(run)) this.terminals.set(run.id, t);
  }

  /** A terminal now shows the run (its launch, or a re-attach). */
  attach(run: RunRecord, t: vscode.Terminal): void {
    this.terminals.set(run.id, t);
  }

  terminalOf(run: RunRecord): vscode.Terminal | undefined {
    const t = this.terminals.get(run.id);
    return t && vscode.window.terminals.includes(t) ? t : undefined;
  }

  tmux(run?: RunRecord): Tmux {
    return new Tmux(run?.tmux ? run.tmux.socket : readRunSettings().tmuxSocket);
  }

  /** Before a finished run is forgotten: its tmux session (an ended run's pane) is closed. */
  async forget(run: RunRecord): Promise<void> {
    if (run.tmux && vscode.workspace.isTrusted) await this.tmux(run).killSession(run.tmux.session);
    this.terminals.delete(run.id);
    this.tmuxAlive.delete(run.id);
  }

  // ---------------------------------------------------------------------------- stop

  /**
   * Ctrl-C first: the optimizer can finish its trials and exit cleanly. After the grace period,
   * SIGTERM to the run's process group (the run script outlives it to record the status); 3 s
   * later, close the terminal or kill the tmux session and SIGKILL the group.
   */
  async stop(run: RunRecord): Promise<void> {
    if (run.state !== 'running') return;
    const grace = readRunSettings().graceMs;
    run.stopRequestedAt = Date.now();
    this.history.save(true);
    this.on.changed();
    await this.readPid(run);
    const files = runFiles(run.dir);
    const tmux = run.tmux ? this.tmux(run) : undefined;
    const terminal = this.terminalOf(run);
    const group = () => (run.pid && isRunScript(run.pid, files) ? run.pid : undefined);
    this.log.info(`runs: stopping ${run.label} (Ctrl-C, then ${grace / 1000} s grace)`);
    if (tmux) await tmux.interrupt(run.tmux!.session);
    else if (terminal) terminal.sendText('\x03', false);
    else if (group()) signalGroup(group()!, 'SIGINT');
    if (await this.waitEnded(run, grace)) return;

    this.log.warn(`runs: ${run.label} still running ${grace / 1000} s after Ctrl-C: SIGTERM`);
    const pgid = group();
    if (pgid) signalGroup(pgid, 'SIGTERM');
    else if (tmux) await tmux.killSession(run.tmux!.session);
    else terminal?.dispose();
    if (await this.waitEnded(run, 3000)) return;

    const what = tmux ? 'tmux session' : 'terminal';
    this.log.warn(`runs: ${run.label} still running after SIGTERM: closing its ${what}, SIGKILL`);
    this.killed.add(run.id);
    if (tmux) await tmux.killSession(run.tmux!.session);
    else terminal?.dispose();
    const last = group();
    if (last) signalGroup(last, 'SIGKILL');
    if (await this.waitEnded(run, 2000)) return;
    this.end(run, { state: 'lost', note: 'still running after SIGKILL?' });
  }

  private async waitEnded(run: RunRecord, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      await this.check(run, false);
      if (run.state !== 'running') return true;
      if (Date.now() >= deadline) return false;
      await sleep(200);
    }
  }

  // ---------------------------------------------------------------------------- tmux

  /** A terminal attached to the run's tmux session (the session must still exist). */
  async reattach(run: RunRecord): Promise<vscode.Terminal | undefined> {
    if (!run.tmux) return undefined;
    const tmux = this.tmux(run);
    if (!(await tmux.hasSession(run.tmux.session))) {
      void vscode.window.showInformationMessage(
        `The tmux session ${run.tmux.session} of ${run.label} no longer exists.`,
      );
      return undefined;
    }
    const existing = this.terminalOf(run);
    if (existing) {
      existing.show();
      return existing;
    }
    const bin = which('tmux');
    if (!bin) throw new Error('tmux is not on PATH');
    const t = vscode.window.createTerminal({
      name: run.terminalName,
      cwd: run.cwd,
      shellPath: bin,
      shellArgs: tmux.attachArgs(run.tmux.session),
      env: { TMUX: null },
      isTransient: true,
      iconPath: new vscode.ThemeIcon('rocket'),
    });
    this.attach(run, t);
    t.show();
    this.on.changed();
    this.log.info(`runs: re-attached to tmux session ${run.tmux.session} (${run.label})`);
    return t;
  }

  async tmuxSessionExists(run: RunRecord): Promise<boolean> {
    if (!run.tmux || !vscode.workspace.isTrusted) return false;
    const exists = await this.tmux(run).hasSession(run.tmux.session);
    if (this.tmuxAlive.get(run.id) !== exists) {
      this.tmuxAlive.set(run.id, exists);
      this.on.changed();
    }
    return exists;
  }

  /** Session state of every tmux run (an ended run's pane is kept until its session is closed). */
  async checkTmuxSessions(): Promise<void> {
    for (const run of this.history.all) if (run.tmux) await this.tmuxSessionExists(run);
  }

  // ---------------------------------------------------------------------------- watching

  private async readPid(run: RunRecord): Promise<void> {
    if (run.pid) return;
    try {
      const pid = Number(fs.readFileSync(runFiles(run.dir).pid, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) run.pid = pid;
    } catch {
      /* not started yet */
    }
  }

  /**
   * Whether a running run still runs: its exit status file first; then whether its process,
   * terminal or tmux session is gone. `startup`: VS Code was closed meanwhile.
   */
  async check(run: RunRecord, startup: boolean): Promise<void> {
    if (run.state !== 'running') return;
    const files = runFiles(run.dir);
    let status: number | undefined;
    try {
      status = parseStatus(fs.readFileSync(files.status, 'utf8'));
    } catch {
      /* still running, or gone without a status */
    }
    if (status !== undefined) return this.end(run, { state: 'exited', exitCode: status });
    await this.readPid(run);
    if (run.pid && !isRunScript(run.pid, files)) {
      // The script writes its status before it exits: re-read once to close that race.
      try {
        status = parseStatus(fs.readFileSync(files.status, 'utf8'));
      } catch {
        /* none */
      }
      const why =
        this.closedNote(run) ??
        (startup ? 'the process ended while VS Code was closed' : 'the process is gone');
      return this.end(
        run,
        status !== undefined ? { state: 'exited', exitCode: status } : { state: 'lost', note: why },
      );
    }
    if (run.tmux) {
      if (!vscode.workspace.isTrusted) return;
      const due =
        startup || Date.now() - (this.lastTmuxCheck.get(run.id) ?? 0) > 5000 || run.stopRequestedAt;
      if (due && Date.now() - run.startedAt > 3000) {
        this.lastTmuxCheck.set(run.id, Date.now());
        if (!(await this.tmuxSessionExists(run)))
          this.end(run, { state: 'lost', note: 'the tmux session is gone' });
      }
      return;
    }
    const closed = this.closedAt.get(run.id);
    if (closed !== undefined && Date.now() - closed.at > 1500)
      return this.end(run, { state: 'lost', note: this.closedNote(run) });
    if (!run.pid && startup) return this.end(run, { state: 'lost', note: 'it never started' });
    if (!run.pid && !this.terminalOf(run) && Date.now() - run.startedAt > 15_000)
      this.end(run, { state: 'lost', note: 'its terminal is gone' });
  }

  private closedNote(run: RunRecord): string | undefined {
    const closed = this.closedAt.get(run.id);
    const code = closed?.code !== undefined ? ` (terminal exit status ${closed.code})` : '';
    return closed && `its terminal was closed${code}`;
  }

  private end(
    run: RunRecord,
    how: { state: 'exited' | 'lost'; exitCode?: number; note?: string },
  ): void {
    if (run.state !== 'running') return;
    run.state = how.state;
    run.exitCode = how.exitCode;
    run.note = how.note;
    run.endedAt = Date.now();
    if (how.state === 'lost' && this.killed.has(run.id))
      run.note = 'killed with SIGKILL after the grace period';
    this.killed.delete(run.id);
    this.closedAt.delete(run.id);
    this.log.info(`runs: ${run.label} ${stateText(run)}`);
    this.history.save(true);
    this.on.changed();
    this.on.ended(run);
  }

  private terminalClosed(t: vscode.Terminal): void {
    for (const [id, term] of this.terminals) {
      if (term !== t) continue;
      this.terminals.delete(id);
      const run = this.history.get(id);
      if (run?.state === 'running' && !run.tmux)
        this.closedAt.set(id, { at: Date.now(), code: t.exitStatus?.code });
      this.on.changed();
    }
  }
}
