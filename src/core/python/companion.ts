import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV } from '../runs/runner';
import type { SentinelConfig } from '../redis/connect';

/**
 * The Python companion (`python/enhanced_redis_storage`, shipped in the VSIX): the optimizer-side
 * storage that keeps writing through a Redis outage, and the one implementation of reconcile
 * (healing a study an outage split between Redis and the SQLite fallback). Runs started from
 * the extension get its folder first on PYTHONPATH; the CLI's `reconcile` verb and the Heal
 * command run it as `python3 -m enhanced_redis_storage reconcile ...`.
 */
export const COMPANION_PACKAGE = 'enhanced_redis_storage';

/** The folder to put on PYTHONPATH, inside the extension (or the repository in development). */
export function companionDir(extensionRoot: string): string {
  return path.join(extensionRoot, 'python');
}

/** An interpreter that runs the companion: its path, its Optuna version, the companion's root. */
export interface CompanionPython {
  python: string;
  optuna: string;
  root: string;
}

/** Interpreters tried when none is configured: the one on PATH, then Debian's. */
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3'];

export interface CompanionRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CompanionOptions {
  python: string;
  extensionRoot: string;
  args: string[];
  /** Only in the child's environment, never on its command line. */
  password?: string;
  signal?: AbortSignal;
  /** Each line the companion writes to stderr, as it comes (progress). */
  onStderrLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * The environment of a companion process: the companion first on PYTHONPATH, and the password
 * (if any) only here, never on a command line; a password inherited from `base` is dropped.
 */
export function companionEnv(
  extensionRoot: string,
  password: string | undefined,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    PYTHONPATH: [companionDir(extensionRoot), base.PYTHONPATH].filter(Boolean).join(path.delimiter),
    PYTHONWARNINGS: 'ignore',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  delete env[ENV.password];
  if (password) env[ENV.password] = password;
  return env;
}

/**
 * The folder holding `python/enhanced_redis_storage` (the installed extension, or the
 * repository in development), searched upwards from `start`; undefined when it is missing.
 */
export function findCompanionRoot(start: string): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(companionDir(dir), COMPANION_PACKAGE, '__init__.py'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Runs `python -m enhanced_redis_storage ARGS` with the companion first on PYTHONPATH. The
 * arguments go to the child as an argv array (no shell); an abort kills the child (SIGTERM,
 * then SIGKILL after 2 s) and the promise then rejects with the abort's reason.
 */
export function runCompanion(o: CompanionOptions): Promise<CompanionRun> {
  const env = companionEnv(o.extensionRoot, o.password, o.env);
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(o.signal.reason ?? new Error('aborted'));
    const child = spawn(o.python, ['-m', COMPANION_PACKAGE, ...o.args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) o.onStderrLine?.(l);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, sig) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (pending) o.onStderrLine?.(pending);
      if (o.signal?.aborted) return reject(o.signal.reason ?? new Error('aborted'));
      resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr });
    });
  });
}

/**
 * The first interpreter that imports Optuna, redis-py and the companion, with its Optuna
 * version; the error says what each candidate lacked.
 */
export async function findPython(
  candidates: string[],
  extensionRoot: string,
  signal?: AbortSignal,
): Promise<{ python: string; optuna: string }> {
  const problems: string[] = [];
  for (const python of candidates) {
    const r = await new Promise<CompanionRun>((resolve) => {
      const child = spawn(
        python,
        ['-c', `import optuna, redis, ${COMPANION_PACKAGE}; print(optuna.__version__)`],
        {
          env: {
            ...process.env,
            PYTHONPATH: companionDir(extensionRoot),
            PYTHONWARNINGS: 'ignore',
            PYTHONDONTWRITEBYTECODE: '1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
          signal,
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: e.message }));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout: out, stderr: err }));
    });
    if (r.code === 0) return { python, optuna: r.stdout.trim() };
    const last = r.stderr.trim().split('\n').pop() ?? '';
    problems.push(`${python}: ${last || `exit ${r.code}`}`);
  }
  throw new Error(
    `no Python with Optuna and redis-py found (${problems.join('; ')}); name one with --python`,
  );
}

export interface ReconcileRequest {
  /** With `sentinel`, only its username and db count: the master is the one the sentinels name. */
  redisUrl: string;
  sentinel?: SentinelConfig;
  prefix: string;
  sqlitePath: string;
  study?: string;
  dryRun?: boolean;
  json?: boolean;
  progress?: boolean;
}

/** The companion's command line for a reconcile (the password is not part of it). */
export function reconcileArgs(r: ReconcileRequest): string[] {
  const args = ['reconcile', '--redis', r.redisUrl, '--prefix', r.prefix, '--sqlite', r.sqlitePath];
  if (r.sentinel)
    args.push(
      '--sentinels',
      r.sentinel.sentinels.map((x) => `${x.host}:${x.port}`).join(','),
      '--sentinel-master',
      r.sentinel.name,
    );
  if (r.study !== undefined) args.push('--study', r.study);
  if (r.dryRun) args.push('--dry-run');
  if (r.json) args.push('--json');
  if (r.progress) args.push('--progress');
  return args;
}
