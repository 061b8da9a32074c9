import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { companionDir } from '../../core/python/companion';
import { redactUrl, splitPassword } from '../../core/redis/url';
import type { Values } from '../../core/runs/params';
import { nextStageValues, type Profile, STAGED_RAMP, stageOf } from '../../core/runs/profiles';
import type { RunRecord } from '../../core/runs/record';
import { ENV, runFiles, runScript, tmuxLauncher, tmuxSessionName } from '../../core/runs/runner';
import { buildCommand, runLabel, studyParam, trialsParam } from '../../core/runs/template';
import type { Services } from '../services';
import type { LastLaunch } from './launchForm';
import { TERMINAL_PREFIX } from './runProcesses';
import type { RunProgress } from './runProgress';
import { readRunSettings, runCommand } from './runSettings';

/** The last launch's choices, offered again by the next launch form. */
export const LAST_KEY = 'optunaStorage.runs.last';
const SEQ_KEY = 'optunaStorage.runs.seq';

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

/**
 * Starts a run: its folder with the run script (and tmux launcher), the storage settings in
 * its environment (the password only there), and its terminal. Reads the store first, so
 * that only trials written after the launch count as the run's progress.
 */
export async function launchRun(
  s: Services,
  progress: RunProgress,
  storageDir: string,
  req: LaunchRequest,
): Promise<{ run: RunRecord; terminal: vscode.Terminal; last: LastLaunch }> {
  if (process.platform === 'win32')
    throw new Error('optimizer runs need bash: use WSL or a Remote-SSH/Dev Container window');
  const set = readRunSettings();
  const cmd = runCommand(set, req.profile);
  const { command, values, params } = buildCommand(cmd.template, cmd.params, req.values);
  const st = s.store.settings;
  const prefix = req.prefix ?? (st.prefixes?.length ? st.prefixes[0] : undefined);

  const seq = (s.context.workspaceState.get<number>(SEQ_KEY) ?? 0) + 1;
  await s.context.workspaceState.update(SEQ_KEY, seq);
  const label = `${runLabel(cmd.nameTemplate, values)} #${seq}`;
  const unique = randomBytes(3).toString('hex');
  const id = `${Date.now().toString(36)}-${unique}`;
  const dir = path.join(storageDir, 'runs', id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = runFiles(dir);

  // The environment: storage settings for the optimizer; the password only here.
  const env: Record<string, string> = {};
  let password: string | undefined;
  if (st.redisUrl) {
    // The password never travels in the URL variable (nor in the logged environment below),
    // whether or not the URL parses: the optimizer says what else is wrong with it.
    const split = splitPassword(st.redisUrl);
    env[ENV.url] = split.url;
    password =
      (await s.passwords.get(st.redisUrl, st.sentinel).then(undefined, () => undefined)) ??
      split.password;
  }
  env[ENV.prefix] = prefix ?? '';
  if (st.sqlitePath) env[ENV.sqlite] = st.sqlitePath;
  env[ENV.runId] = id;
  if (st.sentinel) {
    env[ENV.sentinels] = st.sentinel.sentinels.map((x) => `${x.host}:${x.port}`).join(',');
    env[ENV.sentinelMaster] = st.sentinel.name;
  }

  await s.refresh.refresh('run-started');
  const sp = studyParam(params);
  const tp = trialsParam(params);
  const picked = req.study && req.study !== 'auto' ? req.study.name : undefined;
  const studyName = (sp ? values[sp.name] : picked) || undefined;
  const study = progress.studyAtLaunch(prefix, studyName, sp ? 'parameter' : 'picked');

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
      pythonPath: set.companion ? companionDir(s.context.extensionPath) : undefined,
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
  terminal.show(true);
  const envText = Object.entries(env)
    .map(([k, v]) => `${k}=${JSON.stringify(k === ENV.url ? redactUrl(v) : v)}`)
    .join(' ');
  const where = tmuxSession ? ` in tmux session ${tmuxSession}` : '';
  const pw = `${ENV.password} ${password ? '(set, from SecretStorage)' : '(not set)'}`;
  s.log.info(`runs: launched ${label}${where} in ${set.cwd}: ${command} [env ${envText} ${pw}]`);
  const last: LastLaunch = {
    values,
    profile: req.profile,
    stage: req.stage,
    tmux: useTmux,
    study: sp ? undefined : (studyName ?? ''),
    prefix,
  };
  return { run, terminal, last };
}

/** The same parameters again (a new run, a new number). */
export function relaunchRequest(run: RunRecord): LaunchRequest {
  return {
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
  };
}

/** The ramp a run belongs to: its profile when that has stages, else the built-in ramp. */
export function rampOf(run: RunRecord): Profile {
  const profiles = readRunSettings().profiles;
  const p = profiles.find((x) => x.name === run.profile);
  return p?.stages ? p : (profiles.find((x) => x.name === STAGED_RAMP.name) ?? STAGED_RAMP);
}

/** The next stage's values, or undefined at the last stage. */
export function nextStage(
  run: RunRecord,
): { profile: Profile; stage: number; values: Values } | undefined {
  const ramp = rampOf(run);
  const stage = stageOf(ramp, run.values, run.profile === ramp.name ? run.stage : undefined);
  const next = nextStageValues(ramp, run.values, stage);
  return next ? { profile: ramp, ...next } : undefined;
}

/** The run again at the next stage of its ramp; undefined at the last stage. */
export function nextStageRequest(run: RunRecord): LaunchRequest | undefined {
  const next = nextStage(run);
  if (!next) return undefined;
  return {
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
  };
}
