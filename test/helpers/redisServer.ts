import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { DisposableRedis } from '../../src/core/stability/disposableRedis';

export interface RedisServerOptions {
  /** Extra `--name value` arguments, e.g. ['--appendonly', 'yes']; they win over the defaults. */
  args?: string[];
  port?: number;
  /** A config file the server reads first (included). */
  configFile?: string;
  password?: string;
}

/**
 * A real redis-server process owned by a test: the stability suite's DisposableRedis (one
 * implementation of a server we start and own), on a free loopback port, without persistence
 * unless asked, without a password unless given one; killed, stopped, continued or restarted
 * (same port, same data dir) on demand, and a client for the test's own setup and assertions.
 */
export class RedisServer {
  private readonly server: DisposableRedis;
  private readonly parent: string;
  private started = false;

  constructor(private readonly opts: RedisServerOptions = {}) {
    this.parent = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-redis-'));
    this.server = new DisposableRedis({
      binary: 'redis-server',
      parentDir: this.parent,
      name: 'server',
      configFile: opts.configFile,
      password: opts.password ?? null,
      port: opts.port,
      args: ['--save', '', '--appendonly', 'no', ...(opts.args ?? [])],
    });
  }

  /** The server's data folder (its working directory, log and data files). */
  get dir(): string {
    return this.server.dir;
  }

  get port(): number {
    return this.server.port;
  }

  get url(): string {
    return this.server.url;
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const s = new RedisServer(opts);
    await s.start();
    return s;
  }

  /** Starts the server; after kill() or stop(), again on the same port with the same data. */
  async start(): Promise<void> {
    if (this.started) await this.server.restart();
    else await this.server.start();
    this.started = true;
  }

  logTail(): string {
    return this.server.logTail(10);
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
    this.server.signal(sig);
  }

  /** SIGKILL (continued first, should it be stopped) and wait for the process to be gone. */
  async kill(): Promise<void> {
    await this.server.kill();
  }

  async stop(): Promise<void> {
    await this.server.kill();
  }

  async dispose(): Promise<void> {
    await this.server.dispose();
    fs.rmSync(this.parent, { recursive: true, force: true });
  }
}
