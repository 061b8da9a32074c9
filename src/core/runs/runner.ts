import * as path from 'node:path';
import { shellQuote } from './shell';

/** Environment variable names the optimizer reads its storage from. */
export const ENV = {
  url: 'OPTUNA_STORAGE_REDIS_URL',
  prefix: 'OPTUNA_STORAGE_REDIS_PREFIX',
  sqlite: 'OPTUNA_STORAGE_SQLITE_PATH',
  password: 'OPTUNA_STORAGE_REDIS_PASSWORD',
  sentinels: 'OPTUNA_STORAGE_REDIS_SENTINELS',
  sentinelMaster: 'OPTUNA_STORAGE_REDIS_SENTINEL_MASTER',
  /** The run's id: its processes name it in their status files (the Runs view's storage state). */
  runId: 'OPTUNA_STORAGE_RUN_ID',
} as const;

/** Files of one run, in the extension's storage (never in the workspace). */
export interface RunFiles {
  dir: string;
  /** The script that runs the command and records its exit status. */
  script: string;
  /** tmux runs: the script the terminal runs to start the session and attach. */
  launcher: string;
  /** Exit status of the command, written when it ends (also after Ctrl-C or SIGTERM). */
  status: string;
  /** PID of the run script (a session and process group leader). */
  pid: string;
  /** tmux runs: the FIFO that hands the password from the terminal to the session. */
  fifo: string;
}

export function runFiles(dir: string): RunFiles {
  return {
    dir,
    script: path.join(dir, 'run.sh'),
    launcher: path.join(dir, 'launch.sh'),
    status: path.join(dir, 'status'),
    pid: path.join(dir, 'pid'),
    fifo: path.join(dir, 'pw.fifo'),
  };
}

export interface RunScriptOptions {
  files: RunFiles;
  label: string;
  command: string;
  cwd: string;
  /** Non-secret variables written into the script (tmux sessions do not inherit the terminal's). */
  exports?: Record<string, string>;
  /** Read the password from the FIFO (tmux runs). */
  passwordFromFifo?: boolean;
  /** After the command, replace the script by an interactive shell so the output stays readable. */
  keepShell?: boolean;
  /**
   * A directory put first on the optimizer's PYTHONPATH (the extension's Python companion,
   * `enhanced_redis_storage`), ahead of whatever PYTHONPATH the run inherits.
   */
  pythonPath?: string;
}

/**
 * The run script. The command line is the filled template (values quoted); the password is
 * never in it: it arrives in the environment (terminal runs) or through the FIFO (tmux).
 * `trap ':'` (a handler, not "ignore") lets Ctrl-C and Stop reach the optimizer with the
 * default signal actions while this script lives on to write the exit status. A hangup (the
 * terminal closed, the tmux session killed) is not trapped: bash defers traps while it waits
 * for a command, which would leave the optimizer running; the script dies, and the kernel then
 * hangs up the optimizer (the foreground group of the session the script led). No status then.
 */
export function runScript(o: RunScriptOptions): string {
  const q = shellQuote;
  const f = o.files;
  const lines = [
    '#!/bin/bash',
    `# Optuna Storage Manager: optimizer run ${o.label.replace(/[\r\n]/g, ' ')}. Written at launch; safe to delete after the run.`,
    "trap ':' INT TERM",
    `echo $$ > ${q(f.pid)}`,
  ];
  if (o.passwordFromFifo) {
    lines.push(
      `if [ -p ${q(f.fifo)} ]; then`,
      `  IFS= read -r -d '' ${ENV.password} < ${q(f.fifo)}`,
      `  rm -f ${q(f.fifo)}`,
      `  if [ -n "$${ENV.password}" ]; then export ${ENV.password}; else unset ${ENV.password}; fi`,
      'fi',
    );
  }
  for (const [k, v] of Object.entries(o.exports ?? {})) lines.push(`export ${k}=${q(v)}`);
  if (o.pythonPath)
    lines.push(`export PYTHONPATH=${q(o.pythonPath)}"\${PYTHONPATH:+:$PYTHONPATH}"`);
  lines.push(
    `cd ${q(o.cwd)} || { echo 1 > ${q(f.status)}; exit 1; }`,
    `printf '%s\\n' ${q(`$ ${o.command}`)}`,
    o.command,
    'osm_status=$?',
    `printf '%s\\n' "$osm_status" > ${q(`${f.status}.tmp`)} && mv -f ${q(`${f.status}.tmp`)} ${q(f.status)}`,
    `printf '\\n[Optuna run %s exited with code %s]\\n' ${q(o.label)} "$osm_status"`,
    `unset ${ENV.password}`,
  );
  if (o.keepShell) lines.push('trap - INT TERM', '[ -t 0 ] && exec "${SHELL:-/bin/bash}" -i');
  lines.push('exit "$osm_status"', '');
  return lines.join('\n');
}

export interface TmuxLaunchOptions {
  files: RunFiles;
  session: string;
  socket?: string;
  cwd: string;
}

/** `tmux [-L socket]` as shell words. */
export function tmuxWords(socket?: string): string {
  return socket ? `tmux -L ${shellQuote(socket)}` : 'tmux';
}

/**
 * The terminal side of a tmux run: start a detached session that runs the run script (pane
 * kept after exit so the output stays readable), hand it the password through a FIFO (so it
 * is never on a command line, on disk or in the tmux server's environment), then attach.
 */
export function tmuxLauncher(o: TmuxLaunchOptions): string {
  const q = shellQuote;
  const f = o.files;
  const tmux = tmuxWords(o.socket);
  const inner = `/bin/bash ${q(f.script)}`;
  return [
    '#!/bin/bash',
    `# Optuna Storage Manager: starts tmux session ${o.session} and attaches to it.`,
    `osm_pw=\${${ENV.password}-}`,
    `unset ${ENV.password} TMUX`,
    `fifo=${q(f.fifo)}`,
    'rm -f "$fifo"',
    'mkfifo -m 600 "$fifo" || exit 1',
    '# Read-write open: does not block, and keeps the pipe alive until the run has read it.',
    'exec 3<>"$fifo"',
    `if ! ${tmux} new-session -d -s ${q(o.session)} -c ${q(o.cwd)} ${q(inner)} \\; set-option -w -t ${q(`=${o.session}:`)} remain-on-exit on; then`,
    '  exec 3>&-; rm -f "$fifo"',
    `  echo 127 > ${q(f.status)}`,
    `  printf '%s\\n' ${q(`could not start tmux session ${o.session}`)}`,
    "  read -r -p 'Press Enter to close this terminal. ' _",
    '  exit 1',
    'fi',
    `printf '%s\\0' "$osm_pw" >&3`,
    'osm_pw=',
    'for _ in $(seq 300); do [ -p "$fifo" ] || break; sleep 0.1; done',
    'exec 3>&-',
    'rm -f "$fifo"',
    `exec ${tmux} attach-session -t ${q(`=${o.session}`)}`,
    '',
  ].join('\n');
}

/** A tmux session name from a run label: letters, digits, `-` and `_` only (tmux rejects `.` and `:`). */
export function tmuxSessionName(label: string, seq: number, unique: string): string {
  const base =
    label
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'run';
  return `optuna-${base}-${seq}-${unique.replace(/[^a-z0-9]/gi, '').slice(0, 6)}`;
}

/** The exit status a run script wrote, or undefined while it has not. */
export function parseStatus(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}
