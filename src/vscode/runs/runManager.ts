import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { redactUrl, splitPassword } from '../../core/redis/url';
import type { Values } from '../../core/runs/params';
import { nextStageValues, type Profile, STAGED_RAMP, stageOf } from '../../core/runs/profiles';
import { computeProgress, detectStudy } from '../../core/runs/progress';
import { loadHistory, type RunRecord, stateText, trimHistory } from '../../core/runs/record';
import {
  ENV,
  parseStatus,
  type RunFiles,
  runFiles,
  runScript,
  tmuxLauncher,
  tmuxSessionName,
} from '../../core/runs/runner';
import { buildCommand, runLabel, studyParam, trialsParam } from '../../core/runs/template';
import { Tmux } from '../../core/runs/tmux';
import type { MergedStudy } from '../../core/storage/mergedView';
import type { Services } from '../services';
import { readRunSettings, runCommand } from './runSettings';
import { processAlive as alive } from '../../core/processAlive';
import { which } from '../../core/which';

export const HISTORY_KEY = 'optunaStorage.runs.history';
export const LAST_KEY = 'optunaStorage.runs.last';
const SEQ_KEY = 'optunaStorage.runs.seq';
export const TERMINAL_PREFIX = 'Optuna run: ';

/** What to launch: validated again here, whatever the caller (form, relaunch, next stage). */
export interface LaunchRequest {
  values: Values;
  profile?: string;
  stage?: number;
  tmux: boolean;
  /** For templates without `{study}`: a study picked at launch, or detect it after launch. */
  study?: { name: string } | 'auto';
  /** Journal prefix the run writes under; default: the only configured prefix, else "". */
  prefix?: string;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How often a running run's study is read while the views are hidden. */
const PROGRESS_READ_MS = 2000;

/**
 * Launches optimizer runs in terminals (or tmux sessions), watches their processes through
 * the exit-status file each run script writes, their progress through the store, and keeps
 * the history in workspaceState so it survives restarts.
 */
export class RunManager implements vscode.Disposable {
  private runs: RunRecord[];
  private readonly terminals = new Map<string, vscode.Terminal>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  /** Held while runs are running: their progress needs data even with the views hidden. */
  private keepFresh: vscode.Disposable | undefined;
  private lastPersist = 0;
  private readonly lastTmuxCheck = new Map<string, number>();
  private ticking = false;
  private readonly disposables: vscode.Disposable[] = [];
  /** Runs whose terminal closed: when, to give the script a moment to write its status. */
  private readonly closedAt = new Map<string, { at: number; code: number | undefined }>();
  /** Runs Stop had to SIGKILL (their script could not record a status). */
  private readonly killed = new Set<string>();
  /** Whether each tmux run's session existed at the last check (checked here, not in views). */
  readonly tmuxAlive = new Map<string, boolean>();

  constructor(
    private readonly s: Services,
    private readonly storageDir: string,
  ) {
    this.runs = loadHistory(s.context.workspaceState.get(HISTORY_KEY));
    this.disposables.push(
      this.changed,
      vscode.window.onDidCloseTerminal((t) => this.terminalClosed(t)),
      vscode.window.onDidOpenTerminal((t) => this.adoptTerminal(t)),
      s.store.onDidChangeData(() => this.updateProgress()),
    );
  }

  /** Newest first. */
  get all(): readonly RunRecord[] {
    return this.runs;
  }

  get(id: string): RunRecord | undefined {
    return this.runs.find((r) => r.id === id);
  }

  terminalOf(run: RunRecord): vscode.Terminal | undefined {
    const t = this.terminals.get(run.id);
    return t && vscode.window.terminals.includes(t) ? t : undefined;
  }

  tmux(run?: RunRecord): Tmux {
    return new Tmux(run?.tmux ? run.tmux.socket : readRunSettings().tmuxSocket);
  }

  /**
   * After activation (e.g. VS Code restarted): find what became of the runs the history says
   * are running, and re-adopt terminals VS Code restored.
   */
  async init(): Promise<void> {
    for (const t of vscode.window.terminals) this.adoptTerminal(t);
    // Runs that ended in an earlier session keep the progress they had then.
    for (const run of this.runs) if (run.state !== 'running') run.final = true;
    for (const run of this.runs.filter((r) => r.state === 'running'))
      await this.checkProcess(run, true);
    await this.checkTmuxSessions();
    this.persist();
    this.changed.fire();
    this.schedule();
  }

  /** Re-reads the history from workspaceState and reconciles it, as a fresh activation would. */
  async reload(): Promise<void> {
    this.runs = loadHistory(this.s.context.workspaceState.get(HISTORY_KEY));
    await this.init();
  }

  private adoptTerminal(t: vscode.Terminal): void {
    if (!t.name.startsWith(TERMINAL_PREFIX)) return;
    const run = this.runs.find((r) => r.terminalName === t.name);
    if (run && !this.terminalOf(run)) this.terminals.set(run.id, t);
  }

  private files(run: RunRecord): RunFiles {
    return runFiles(run.dir);
  }

  // ---------------------------------------------------------------------------- launch

  async launch(req: LaunchRequest): Promise<RunRecord> {
    if (process.platform === 'win32')
      throw new Error('optimizer runs need bash: use WSL or a Remote-SSH/Dev Container window');
    const set = readRunSettings();
    const cmd = runCommand(set, req.profile);
    const { command, values, params } = buildCommand(cmd.template, cmd.params, req.values);
    const st = this.s.store.settings;
    const prefix = req.prefix ?? (st.prefixes?.length ? st.prefixes[0] : undefined);

    const seq = (this.s.context.workspaceState.get<number>(SEQ_KEY) ?? 0) + 1;
    await this.s.context.workspaceState.update(SEQ_KEY, seq);
    const label = `${runLabel(cmd.nameTemplate, values)} #${seq}`;
    const unique = randomBytes(3).toString('hex');
    const id = `${Date.now().toString(36)}-${unique}`;
    const dir = path.join(this.storageDir, 'runs', id);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = runFiles(dir);

    // The environment: storage settings for the optimizer; the password only here.
    const env: Record<string, string> = {};
    let password: string | undefined;
    if (st.redisUrl) {
      // The password never travels in the URL variable (nor in the logged environment below),
      // whether or not the URL parses: the optimizer says what else is wrong with it.
      const split = splitPassword(st.redisUrl);
      password = split.password;
      env[ENV.url] = split.url;
      password =
        (await this.s.passwords.get(st.redisUrl, st.sentinel).then(undefined, () => undefined)) ??
        password;
    }
    env[ENV.prefix] = prefix ?? '';
    if (st.sqlitePath) env[ENV.sqlite] = st.sqlitePath;
    if (st.sentinel) {
      env[ENV.sentinels] = st.sentinel.sentinels.map((x) => `${x.host}:${x.port}`).join(',');
      env[ENV.sentinelMaster] = st.sentinel.name;
    }

    // Where progress comes from: the study as it is now, so that only new trials count.
    await this.s.refresh.refresh('run-started');
    const sp = studyParam(params);
    const tp = trialsParam(params);
    const studyName = sp
      ? values[sp.name]
      : req.study && req.study !== 'auto'
        ? req.study.name
        : undefined;
    const under = this.studiesUnder(prefix);
    const existing = studyName ? under.find((x) => x.name === studyName) : undefined;
    const study: RunRecord['study'] = studyName
      ? {
          name: studyName,
          prefix,
          source: sp ? 'parameter' : 'picked',
          baseline: existing ? trialsOf(existing).length : 0,
        }
      : {
          prefix,
          source: 'detecting',
          baseline: 0,
          counts: Object.fromEntries(under.map((x) => [x.name, trialsOf(x).length])),
        };

    const useTmux = req.tmux;
    const tmuxSession = useTmux
      ? tmuxSessionName(label.replace(/ #\d+$/, ''), seq, unique)
      : undefined;
    const terminalName = `${TERMINAL_PREFIX}${label}`;
    fs.writeFileSync(
      files.script,
      runScript({
        files,
        label,
        command,
        cwd: set.cwd,
        keepShell: !useTmux,
        passwordFromFifo: useTmux,
        exports: useTmux ? env : undefined,
      }),
      { mode: 0o700 },
    );
    if (useTmux)
      fs.writeFileSync(
        files.launcher,
        tmuxLauncher({ files, session: tmuxSession!, socket: set.tmuxSocket, cwd: set.cwd }),
        { mode: 0o700 },
      );

    const run: RunRecord = {
      id,
      seq,
      label,
      terminalName,
      profile: req.profile,
      stage: req.stage,
      values,
      command,
      cwd: set.cwd,
      dir,
      tmux: tmuxSession ? { session: tmuxSession, socket: set.tmuxSocket } : undefined,
      study,
      planned: tp ? Number(values[tp.name]) : undefined,
      startedAt: Date.now(),
      state: 'running',
    };
    const termEnv: Record<string, string | null> = {
      ...env,
      ...(password ? { [ENV.password]: password } : {}),
    };
    if (useTmux) termEnv.TMUX = null;
    const terminal = vscode.window.createTerminal({
      name: terminalName,
      cwd: set.cwd,
      shellPath: '/bin/bash',
      shellArgs: [useTmux ? files.launcher : files.script],
      env: termEnv,
      // Never persisted or revived by VS Code: its environment may carry the password.
      isTransient: true,
      iconPath: new vscode.ThemeIcon('rocket'),
    });
    this.terminals.set(id, terminal);
    terminal.show(true);
    this.runs.unshift(run);
    const envText = Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(k === ENV.url ? redactUrl(v) : v)}`)
      .join(' ');
    this.s.log.info(
      `runs: launched ${label}${tmuxSession ? ` in tmux session ${tmuxSession}` : ''} in ${set.cwd}: ${command} [env ${envText} ${ENV.password} ${password ? '(set, from SecretStorage)' : '(not set)'}]`,
    );
    await this.s.context.workspaceState.update(LAST_KEY, {
      values,
      profile: req.profile,
      stage: req.stage,
      tmux: useTmux,
      study: sp ? undefined : (studyName ?? ''),
      prefix,
    });
    this.persist(true);
    this.changed.fire();
    this.schedule();
    return run;
  }

  /** The same parameters again (a new run, a new number). */
  relaunch(run: RunRecord): Promise<RunRecord> {
    return this.launch({
      values: run.values,
      profile: run.profile,
      stage: run.stage,
      tmux: !!run.tmux,
      study:
        run.study.source === 'picked' && run.study.name
          ? { name: run.study.name }
          : run.study.source === 'parameter'
            ? undefined
            : 'auto',
      prefix: run.study.prefix,
    });
  }

  /** The ramp a run belongs to: its profile when that has stages, else the built-in ramp. */
  rampOf(run: RunRecord): Profile {
    const profiles = readRunSettings().profiles;
    const p = profiles.find((x) => x.name === run.profile);
    return p?.stages ? p : (profiles.find((x) => x.name === STAGED_RAMP.name) ?? STAGED_RAMP);
  }

  /** The next stage's values, or undefined at the last stage. */
  nextStage(run: RunRecord): { profile: Profile; stage: number; values: Values } | undefined {
    const ramp = this.rampOf(run);
    const stage = stageOf(ramp, run.values, run.profile === ramp.name ? run.stage : undefined);
    const next = nextStageValues(ramp, run.values, stage);
    return next ? { profile: ramp, ...next } : undefined;
  }

  launchNextStage(run: RunRecord): Promise<RunRecord> | undefined {
    const next = this.nextStage(run);
    if (!next) return undefined;
    return this.launch({
      values: next.values,
      profile: next.profile.name,
      stage: next.stage,
      tmux: !!run.tmux,
      study:
        run.study.source === 'parameter'
          ? undefined
          : run.study.name
            ? { name: run.study.name }
            : 'auto',
      prefix: run.study.prefix,
    });
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
    this.persist(true);
    this.changed.fire();
    await this.readPid(run);
    const files = this.files(run);
    const tmux = run.tmux ? this.tmux(run) : undefined;
    const terminal = this.terminalOf(run);
    const group = () => (run.pid && isRunScript(run.pid, files) ? run.pid : undefined);
    this.s.log.info(`runs: stopping ${run.label} (Ctrl-C, then ${grace / 1000} s grace)`);
    if (tmux) await tmux.interrupt(run.tmux!.session);
    else if (terminal) terminal.sendText('\x03', false);
    else if (group()) signalGroup(group()!, 'SIGINT');
    if (await this.waitEnded(run, grace)) return;

    this.s.log.warn(`runs: ${run.label} still running ${grace / 1000} s after Ctrl-C: SIGTERM`);
    const pgid = group();
    if (pgid) signalGroup(pgid, 'SIGTERM');
    else if (tmux) await tmux.killSession(run.tmux!.session);
    else terminal?.dispose();
    if (await this.waitEnded(run, 3000)) return;

    this.s.log.warn(
      `runs: ${run.label} still running after SIGTERM: closing its ${tmux ? 'tmux session' : 'terminal'}, SIGKILL`,
    );
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
      await this.checkProcess(run, false);
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
    this.terminals.set(run.id, t);
    t.show();
    this.changed.fire();
    this.s.log.info(`runs: re-attached to tmux session ${run.tmux.session} (${run.label})`);
    return t;
  }

  async tmuxSessionExists(run: RunRecord): Promise<boolean> {
    if (!run.tmux || !vscode.workspace.isTrusted) return false;
    const alive = await this.tmux(run).hasSession(run.tmux.session);
    if (this.tmuxAlive.get(run.id) !== alive) {
      this.tmuxAlive.set(run.id, alive);
      this.changed.fire();
    }
    return alive;
  }

  /** Session state of every tmux run (an ended run's pane is kept until its session is closed). */
  async checkTmuxSessions(): Promise<void> {
    for (const run of this.runs) if (run.tmux) await this.tmuxSessionExists(run);
  }

  // ---------------------------------------------------------------------------- history

  async remove(run: RunRecord): Promise<void> {
    if (run.state === 'running') throw new Error(`${run.label} is still running: stop it first`);
    if (run.tmux && vscode.workspace.isTrusted) await this.tmux(run).killSession(run.tmux.session);
    this.terminals.delete(run.id);
    this.tmuxAlive.delete(run.id);
    fs.rmSync(run.dir, { recursive: true, force: true });
    this.runs = this.runs.filter((r) => r !== run);
    this.persist(true);
    this.changed.fire();
  }

  async clearFinished(): Promise<number> {
    const done = this.runs.filter((r) => r.state !== 'running');
    for (const r of done) await this.remove(r);
    return done.length;
  }

  private persist(now = false): void {
    if (!now && Date.now() - this.lastPersist < 10_000) return;
    this.lastPersist = Date.now();
    const { keep, drop } = trimHistory(this.runs);
    for (const r of drop) fs.rmSync(r.dir, { recursive: true, force: true });
    this.runs = keep;
    void this.s.context.workspaceState.update(HISTORY_KEY, this.runs);
  }

  // ---------------------------------------------------------------------------- watching

  private schedule(): void {
    if (this.timer || !this.runs.some((r) => r.state === 'running')) return;
    this.timer = setInterval(() => void this.tick(), 1000);
    this.keepFresh ??= this.s.refresh.keepFresh(PROGRESS_READ_MS);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const running = this.runs.filter((r) => r.state === 'running');
      for (const run of running) await this.checkProcess(run, false);
      // New trials update the progress through onDidChangeData; this keeps the rate current.
      this.updateProgress();
      if (!this.runs.some((r) => r.state === 'running')) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.keepFresh?.dispose();
        this.keepFresh = undefined;
      }
    } finally {
      this.ticking = false;
    }
  }

  private async readPid(run: RunRecord): Promise<void> {
    if (run.pid) return;
    try {
      const pid = Number(fs.readFileSync(this.files(run).pid, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) run.pid = pid;
    } catch {
      /* not started yet */
    }
  }

  /** Exit status file first; then whether the process, terminal or tmux session is gone. */
  private async checkProcess(run: RunRecord, startup: boolean): Promise<void> {
    if (run.state !== 'running') return;
    const files = this.files(run);
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
    return (
      closed &&
      `its terminal was closed${closed.code !== undefined ? ` (terminal exit status ${closed.code})` : ''}`
    );
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
    this.s.log.info(`runs: ${run.label} ${stateText(run)}`);
    this.persist(true);
    this.changed.fire();
    // One more read so that the last trials are counted (a fresh one: a read already in
    // flight may have begun before they were written); then the run's progress is final.
    void (async () => {
      await this.s.refresh.refresh('run-ended');
      this.updateProgress();
      run.final = true;
      this.persist(true);
      await this.tmuxSessionExists(run);
    })();
  }

  private terminalClosed(t: vscode.Terminal): void {
    for (const [id, term] of this.terminals) {
      if (term !== t) continue;
      this.terminals.delete(id);
      const run = this.get(id);
      if (run?.state === 'running' && !run.tmux)
        this.closedAt.set(id, { at: Date.now(), code: t.exitStatus?.code });
      this.changed.fire();
    }
  }

  // ---------------------------------------------------------------------------- progress

  private studiesUnder(prefix: string | undefined): MergedStudy[] {
    return this.s.store
      .studies()
      .filter((x) => prefix === undefined || (x.redis ? x.prefix === prefix : true));
  }

  /** The study a run writes to, resolving "detect automatically" when it shows up. */
  studyOf(run: RunRecord): MergedStudy | undefined {
    const under = this.studiesUnder(run.study.prefix);
    if (run.study.name !== undefined)
      return (
        under.find((x) => x.name === run.study.name && x.redis) ??
        under.find((x) => x.name === run.study.name)
      );
    if (run.study.source !== 'detecting' || run.final) return undefined;
    const found = detectStudy(
      under.map((x) => ({ name: x.name, trials: trialsOf(x).length, study: x })),
      run.study.counts ?? {},
    );
    if (!found) return undefined;
    run.study = {
      name: found.name,
      prefix: run.study.prefix,
      source: 'detected',
      baseline: run.study.counts?.[found.name] ?? 0,
    };
    this.s.log.info(`runs: ${run.label} writes to study ${found.name} (detected)`);
    this.persist(true);
    return found.study;
  }

  private updateProgress(): void {
    let any = false;
    for (const run of this.runs) {
      if (run.final) continue;
      const study = this.studyOf(run);
      if (!study) continue;
      run.progress = computeProgress({
        directions: (study.redis ?? study.sqlite)!.directions,
        trials: trialsOf(study),
        baseline: run.study.baseline,
        startedAt: run.startedAt,
        until: run.endedAt ?? Date.now(),
        planned: run.planned,
      });
      any = true;
    }
    if (any) {
      this.persist();
      this.changed.fire();
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.keepFresh?.dispose();
    this.persist(true);
    for (const d of this.disposables) d.dispose();
  }
}

/** Trials numbered as the optimizer's storage numbers them (Redis when there, else SQLite). */
function trialsOf(s: MergedStudy) {
  return (s.redis ?? s.sqlite)?.trials ?? [];
}
