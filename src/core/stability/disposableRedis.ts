import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { sleep } from '../abort';
import { freeLoopbackPort } from '../redis/redisProcess';
import { formatDirective } from '../redis/configRender';
import { configReplyToMap } from '../redis/serverConfig';
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
  /** The password; default a random one. `null`: none (the tests' servers that need none). */
  password?: string | null;
  /** A fixed port (default a free one). */
  port?: number;
  /** redis-server arguments given last, so that they win over everything above. */
  args?: string[];
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
  readonly password: string | undefined;
  port = 0;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(private readonly o: DisposableOptions) {
    killLiveOnExit();
    this.password =
      o.password === undefined ? randomBytes(18).toString('base64url') : (o.password ?? undefined);
    this.port = o.port ?? 0;
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
  private writeAuthConfig(password: string): string {
    const file = path.join(this.dir, 'suite-auth.conf');
    const lines = [];
    if (this.o.configFile)
      lines.push(formatDirective('include', [path.resolve(this.o.configFile)]));
    lines.push(formatDirective('requirepass', [password]));
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600, flag: 'wx' });
    return file;
  }

  private args(): string[] {
    // Without a password the user's file is the server's own config (CONFIG REWRITE writes it).
    const a: string[] =
      this.password !== undefined
        ? [this.writeAuthConfig(this.password)]
        : this.o.configFile
          ? [path.resolve(this.o.configFile)]
          : [];
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
    a.push(...(this.o.args ?? []));
    return a;
  }

  async start(signal?: AbortSignal): Promise<void> {
    let lastError: Error | undefined;
    // A port taken between finding it free and binding it: try another, unless it is fixed.
    for (let attempt = 0; attempt < (this.o.port ? 1 : 3); attempt++) {
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

  /** Sends a signal to the server (nothing when it is not running). */
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  /** SIGSTOP: the server hangs — connections stay open, nothing is answered. */
  freeze(): void {
    this.signal('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    this.signal('SIGCONT');
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
