import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { sleep } from './abort';
import { freeLoopbackPort } from '../redis/redisProcess';
import { configReplyToMap } from '../redis/serverConfig';
import { processAlive as alive } from '../processAlive';
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
 * the way out; after a SIGKILL of this process the next run removes them (removeStaleTempDirs).
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
 * on the same port with the same data, and is always disposed of by the suite. Its pid is
 * written to a pidfile so that the next run can remove it if this one crashed.
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

  private args(): string[] {
    const a: string[] = [];
    if (this.o.configFile) a.push(path.resolve(this.o.configFile));
    else for (const [k, v] of Object.entries(this.o.settings ?? {})) a.push(`--${k}`, v);
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
      '--requirepass',
      this.password,
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
    const proc = spawn(this.o.binary, this.args(), { stdio: 'ignore', detached: true });
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
    fs.writeFileSync(
      path.join(this.dir, 'server.json'),
      JSON.stringify({ pid: proc.pid, port: this.port }),
    );
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

export const TEMP_DIR_PREFIX = 'optuna-storage-suite-';

/**
 * Removes what crashed earlier runs left in `base`: their temp folders (scratch SQLite,
 * disposable server data) and a disposable redis-server still running from one of them.
 * A folder is only touched when the suite process that created it is gone; a server is only
 * killed when its pid still runs redis-server on the port recorded for it.
 */
export function removeStaleTempDirs(base: string, currentDir?: string): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = fs
      .readdirSync(base)
      .filter(
        (n) =>
          n.startsWith(TEMP_DIR_PREFIX) &&
          /^optuna-storage-suite-\d{8}T\d{6}Z-[a-z0-9]{6}$/.test(n),
      );
  } catch {
    return 0;
  }
  for (const name of entries) {
    const dir = path.join(base, name);
    if (currentDir && path.resolve(dir) === path.resolve(currentDir)) continue;
    let owner: { pid?: number } = {};
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
    } catch {
      // no owner file: a run that crashed while creating its folder
    }
    if (
      owner.pid &&
      owner.pid !== process.pid &&
      alive(owner.pid) &&
      /node|optuna-storage/.test(cmdline(owner.pid))
    )
      continue;
    if (owner.pid === process.pid) continue;
    for (const sub of safeReaddir(dir)) {
      try {
        const info = JSON.parse(fs.readFileSync(path.join(dir, sub, 'server.json'), 'utf8')) as {
          pid: number;
          port: number;
        };
        if (
          info.pid &&
          alive(info.pid) &&
          cmdline(info.pid).includes('redis-server') &&
          cmdline(info.pid).includes(`:${info.port}`)
        )
          process.kill(info.pid, 'SIGKILL');
      } catch {
        // no server in this sub-folder
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
