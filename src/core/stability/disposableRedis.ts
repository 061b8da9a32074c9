import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { sleep } from '../abort';
import { freeLoopbackPort } from '../redis/redisProcess';
import { formatDirective } from '../redis/configRender';
import { configReplyToMap } from '../redis/serverConfig';
import { processAlive as alive } from '../processAlive';
import { ensurePrivateDir, privateDirProblem } from '../privateDir';
import { which } from '../which';

/**
 * Settings copied from the server under test (CONFIG GET) to the disposable one: memory limit
 * and eviction, persistence, and timeouts — what decides whether a journal survives an outage.
 * Nothing that names files, ports, users or replication is copied.
 */
export const COPIED_SETTINGS = [
  'maxmemory',
  'maxmemory-policy',
  'maxmemory-samples',
  'appendonly',
  'appendfsync',
  'save',
  'hz',
  'timeout',
  'tcp-keepalive',
] as const;

/** redis-server to use: an explicit path (must exist) or the first on PATH. */
export function findRedisServer(
  explicit: string | undefined,
  searchPath = process.env.PATH ?? '',
): { path?: string; why?: string } {
  if (explicit) {
    try {
      fs.accessSync(explicit, fs.constants.X_OK);
      return { path: explicit };
    } catch {
      return { why: `the redis-server binary ${explicit} does not exist or is not executable` };
    }
  }
  const found = which('redis-server', searchPath);
  if (found) return { path: found };
  return {
    why: 'no redis-server binary on PATH (install redis-server, or give its path with --redis-server)',
  };
}

/** The user's settings worth copying, read with CONFIG GET; a note when they cannot be read. */
export async function readUserSettings(
  client: Redis,
): Promise<{ settings: Record<string, string>; note?: string }> {
  try {
    const flat = (await client.config('GET', '*')) as string[];
    const all = configReplyToMap(flat);
    const settings: Record<string, string> = {};
    for (const k of COPIED_SETTINGS) if (all.has(k)) settings[k] = all.get(k)!;
    return { settings };
  } catch (e) {
    return {
      settings: {},
      note: `CONFIG GET is not allowed on the server under test (${(e as Error).message.split('\n')[0]}): the disposable server runs with redis-server defaults`,
    };
  }
}

export interface DisposableOptions {
  binary: string;
  /** The run's temp folder; the server gets a sub-folder of its own. */
  parentDir: string;
  name: string;
  settings?: Record<string, string>;
  configFile?: string;
}

/**
 * Disposable servers still running. They live in their own process group, so should this
 * process end without cleaning up (process.exit, an uncaught exception), they are killed on
 * the way out; after a SIGKILL of this process the next run removes them (removeStaleTempDirs,
 * which finds them by their working directory, never by a pid written to a file).
 */
const LIVE = new Set<number>();
let exitHook = false;
function killLiveOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const pid of LIVE) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * A redis-server the suite owns: loopback only, a free port, a random password, its own data
 * folder and log, in its own process group (a Ctrl-C in the terminal reaches the suite, not
 * the server, so the suite decides when it stops). It can be killed (a crash) and restarted
 * on the same port with the same data, and is always disposed of by the suite. It runs in its
 * data folder inside the run's private temp folder, which is how the next run recognises it
 * should this one crash. The password reaches it through a 0600 config file, not argv (which
 * every local user can read in /proc).
 */
export class DisposableRedis {
  readonly dir: string;
  readonly password = randomBytes(18).toString('base64url');
  port = 0;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(private readonly o: DisposableOptions) {
    killLiveOnExit();
    this.dir = path.join(o.parentDir, o.name);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** The settings in use, as a short text for reports. */
  describeSettings(): string {
    if (this.o.configFile) return `config file ${this.o.configFile}`;
    const s = this.o.settings ?? {};
    const keys = Object.keys(s);
    return keys.length
      ? keys.map((k) => `${k}=${s[k] === '' ? '""' : s[k]}`).join(' ')
      : 'redis-server defaults';
  }

  /** The config file given to redis-server: the user's (included) and the password. */
  private writeAuthConfig(): string {
    const file = path.join(this.dir, 'suite-auth.conf');
    const lines = [];
    if (this.o.configFile)
      lines.push(formatDirective('include', [path.resolve(this.o.configFile)]));
    lines.push(formatDirective('requirepass', [this.password]));
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600, flag: 'wx' });
    return file;
  }

  private args(): string[] {
    const a: string[] = [this.writeAuthConfig()];
    if (!this.o.configFile)
      for (const [k, v] of Object.entries(this.o.settings ?? {})) a.push(`--${k}`, v);
    a.push(
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--supervised',
      'no',
      '--logfile',
      path.join(this.dir, 'redis.log'),
      '--pidfile',
      path.join(this.dir, 'redis.pid'),
      // Never take over the user's unix socket, nor replicate from the user's master.
      '--unixsocket',
      '',
      '--replicaof',
      'no',
      'one',
    );
    if (this.o.configFile) {
      const text = fs.readFileSync(this.o.configFile, 'utf8');
      if (/^\s*tls-port\s+[1-9]/m.test(text)) a.push('--tls-port', '0');
      if (/^\s*cluster-enabled\s+yes/m.test(text)) a.push('--cluster-enabled', 'no');
    }
    return a;
  }

  async start(signal?: AbortSignal): Promise<void> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.port || attempt > 0) this.port = await freeLoopbackPort();
      try {
        await this.spawnAndWait(signal);
        return;
      } catch (e) {
        lastError = e as Error;
        if (!/Address already in use/.test(lastError.message)) throw lastError;
      }
    }
    throw lastError!;
  }

  /** Starts again on the same port with the same data folder (after kill()). */
  async restart(signal?: AbortSignal): Promise<void> {
    if (this.proc) throw new Error('the disposable server is still running');
    await this.spawnAndWait(signal);
  }

  private async spawnAndWait(signal?: AbortSignal): Promise<void> {
    const proc = spawn(this.o.binary, this.args(), {
      cwd: this.dir,
      stdio: 'ignore',
      detached: true,
    });
    this.proc = proc;
    if (proc.pid) LIVE.add(proc.pid);
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, sig) => {
        if (proc.pid) LIVE.delete(proc.pid);
        exitInfo = sig ? `signal ${sig}` : `exit status ${code}`;
        if (this.proc === proc) this.proc = undefined;
        resolve();
      });
      proc.once('error', (e) => {
        exitInfo = e.message;
        if (this.proc === proc) this.proc = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exitInfo)
        throw new Error(
          `the disposable redis-server ended at start (${exitInfo}): ${this.logTail()}`,
        );
      if (await this.ping()) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(
          `the disposable redis-server on port ${this.port} did not answer within 20 s: ${this.logTail()}`,
        );
      }
      try {
        await sleep(25, signal);
      } catch (e) {
        await this.kill();
        throw e;
      }
    }
  }

  private async ping(): Promise<boolean> {
    const c = new Redis({
      host: '127.0.0.1',
      port: this.port,
      password: this.password,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      enableOfflineQueue: false,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false; // not listening yet, or still loading its data
    } finally {
      c.disconnect();
    }
  }

  logTail(lines = 5): string {
    try {
      return fs
        .readFileSync(path.join(this.dir, 'redis.log'), 'utf8')
        .trim()
        .split('\n')
        .slice(-lines)
        .join(' | ');
    } catch {
      return '(no log)';
    }
  }

  /** SIGSTOP: the server hangs — connections stay open, nothing is answered. */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    this.proc?.kill('SIGCONT');
  }

  /** SIGKILL (a crash: no final save) and wait until the process is gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    try {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
    await this.exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The real uid of a process, from /proc (undefined when it cannot be read). */
function processUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * redis-server processes of this user whose working directory is inside `dir`: the
 * disposable servers a suite run started there (each runs in its data folder). Found by what
 * the kernel says about the process, so a file naming some other pid cannot point us at a
 * server that is not ours.
 */
export function ownRedisServersUnder(dir: string): number[] {
  const root = fs.realpathSync(dir) + path.sep;
  const uid = process.getuid?.();
  const pids: number[] = [];
  for (const d of safeReaddir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid || !/^\S*redis-server(\s|$)/.test(cmdline(pid))) continue;
    if (uid !== undefined && processUid(pid) !== uid) continue;
    try {
      if ((fs.readlinkSync(`/proc/${pid}/cwd`) + path.sep).startsWith(root)) pids.push(pid);
    } catch {
      // gone, or not ours to inspect
    }
  }
  return pids;
}

/** Prefix of each run's temp folder inside the suite's private folder. */
export const TEMP_DIR_PREFIX = 'optuna-storage-suite-';

/**
 * The suite's private folder under `base` (the system temp directory by default): one per
 * user, mode 0700, verified to be ours before anything in it is believed. Undefined with the
 * reason when the name is taken by something that is not ours (then the run uses a fresh
 * mkdtemp folder and cleans up nothing from earlier runs).
 */
export function suiteTempRoot(base: string): { dir?: string; problem?: string } {
  return ensurePrivateDir(base, `optuna-storage-${process.getuid?.() ?? 'user'}`);
}

/**
 * Removes what crashed earlier runs left in the private folder `root`: their temp folders
 * (scratch SQLite, disposable server data) and the disposable redis-servers still running in
 * them. A folder is only touched when the suite process that created it is gone; a server is
 * only killed when it is one of this user's redis-server processes running inside that
 * folder. Does nothing when `root` is not a private folder of ours.
 */
export function removeStaleTempDirs(root: string, currentDir?: string): number {
  if (privateDirProblem(root)) return 0;
  let removed = 0;
  const entries = safeReaddir(root).filter((n) =>
    /^optuna-storage-suite-\d{8}T\d{6}Z-[a-z0-9]{6}$/.test(n),
  );
  for (const name of entries) {
    const dir = path.join(root, name);
    if (currentDir && path.resolve(dir) === path.resolve(currentDir)) continue;
    let owner: { pid?: number } = {};
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
    } catch {
      // no owner file: a run that crashed while creating its folder
    }
    if (owner.pid === process.pid) continue;
    if (owner.pid && alive(owner.pid) && /node|optuna-storage/.test(cmdline(owner.pid))) continue;
    for (const pid of ownRedisServersUnder(dir)) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
