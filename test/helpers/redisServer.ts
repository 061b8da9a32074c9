import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { freePort } from './ports';

export interface RedisServerOptions {
  /** Extra `--name value` arguments, e.g. ['--requirepass', 'pw']. */
  args?: string[];
  port?: number;
  /** A config file passed as the first argument. */
  configFile?: string;
  password?: string;
}

/**
 * A real redis-server process owned by a test: started on a free loopback port, and killed,
 * stopped, continued or restarted (same port, same data dir) on demand.
 */
export class RedisServer {
  private proc: ChildProcess | undefined;
  readonly dir: string;
  port = 0;

  constructor(private readonly opts: RedisServerOptions = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-redis-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const s = new RedisServer(opts);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = this.opts.port ?? (await freePort());
    const args = [
      ...(this.opts.configFile ? [this.opts.configFile] : []),
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      path.join(this.dir, 'redis.log'),
      ...(this.opts.password ? ['--requirepass', this.opts.password] : []),
      ...(this.opts.args ?? []),
    ];
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    this.proc = proc;
    proc.on('exit', () => {
      if (this.proc === proc) this.proc = undefined;
    });
    await this.waitUntilUp();
  }

  async waitUntilUp(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = new Redis({
        port: this.port,
        host: '127.0.0.1',
        password: this.opts.password,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        if ((await c.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        c.disconnect();
      }
      if (Date.now() > deadline)
        throw new Error(
          `redis-server on port ${this.port} did not come up; log: ${this.logTail()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  logTail(): string {
    try {
      return fs
        .readFileSync(path.join(this.dir, 'redis.log'), 'utf8')
        .split('\n')
        .slice(-10)
        .join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** A client for the test's own setup and assertions. */
  client(): Redis {
    const c = new Redis({
      port: this.port,
      host: '127.0.0.1',
      password: this.opts.password,
      maxRetriesPerRequest: 1,
    });
    c.on('error', () => undefined); // a test that kills the server expects its clients to fail
    return c;
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  /** SIGKILL and wait for the process to be gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    // A stopped (SIGSTOP) process must be continued to die on SIGKILL promptly on all kernels.
    this.proc?.kill('SIGCONT');
    await this.kill();
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
