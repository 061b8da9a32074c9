import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type Redis from 'ioredis';
import { sleep } from '../abort';
import { processAlive } from '../processAlive';
import { connectOnce } from './connect';
import { RedisConnectError } from './connectError';
import { redactConfigSecrets } from './serverConfig';
import { describeEndpoint } from './url';

/** Redis refused a config file; `line` and `directive` as its FATAL CONFIG FILE ERROR names them. */
export class ConfigValidationError extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly line?: number,
    readonly directive?: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/**
 * Reads redis-server's complaint about a config:
 *   *** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***
 *   Reading the configuration file, at line 3
 *   >>> 'maxmemory-policy allkeys-lruu'
 *   argument(s) must be one of the following: ...
 */
export function parseFatalConfigError(
  output: string,
): { line: number; directive: string; reason: string } | null {
  const m = /FATAL CONFIG FILE ERROR[^\n]*\n[^\n]*at line (\d+)\s*\n>>> '(.*)'\s*\n([^\n]*)/.exec(
    output,
  );
  return m ? { line: Number(m[1]), directive: m[2], reason: m[3].trim() } : null;
}

/** A free loopback port for a scratch server (bound, then released). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether anything accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Connects and PINGs, trying without a password first (a server without one refuses AUTH). */
export async function connectLocal(host: string, port: number, password?: string): Promise<Redis> {
  return (await connectLocalAuth(host, port, password)).redis;
}

/**
 * connectLocal, also saying whether the server asked for the password: a PING without one
 * was refused (requirepass, or an ACL default user that needs one).
 */
export async function connectLocalAuth(
  host: string,
  port: number,
  password?: string,
): Promise<{ redis: Redis; passwordRequired: boolean }> {
  const url = describeEndpoint({ host, port, db: 0, tls: false });
  const options = { connectionName: 'optuna-storage-deploy', settings: { socketTimeout: 120 } };
  try {
    return { redis: await connectOnce(url, options), passwordRequired: false };
  } catch (e) {
    if (!(e instanceof RedisConnectError && e.failure === 'auth' && password)) throw e;
    return { redis: await connectOnce(url, { ...options, password }), passwordRequired: true };
  }
}

function spawnFailure(e: NodeJS.ErrnoException, binary: string): Error {
  if (e.code === 'ENOENT')
    return new Error(
      `${binary} is not installed or not on PATH (Debian/Ubuntu: apt-get install -y redis-server)`,
    );
  return e;
}

/**
 * Runs `redis-server <config>` in the foreground (the config must say `daemonize no` and log
 * to stdout) until it answers PING, then shuts it down. Rejects with a ConfigValidationError
 * carrying Redis's own explanation when it exits instead.
 */
export async function validateWithScratchServer(opts: {
  binary: string;
  configPath: string;
  cwd: string;
  host: string;
  port: number;
  password?: string;
  timeoutMs?: number;
}): Promise<void> {
  const child = spawn(opts.binary, [opts.configPath], {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(spawnFailure(e, opts.binary))),
  );
  spawnError.catch(() => undefined);
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  try {
    for (;;) {
      await Promise.race([sleep(50), spawnError]);
      if (exited) break;
      if (await portOpen(opts.host, opts.port, 200)) {
        const c = await connectOnce(
          describeEndpoint({ host: opts.host, port: opts.port, db: 0, tls: false }),
          { password: opts.password },
        ).catch(() => undefined);
        if (c) {
          await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the reply never comes: it exits
          c.disconnect();
          await Promise.race([exit, sleep(5000)]);
          return;
        }
      }
      if (Date.now() > deadline)
        throw new ConfigValidationError(
          `redis-server did not answer on the scratch port ${opts.port} within ${Math.round((opts.timeoutMs ?? 15_000) / 1000)} s`,
          redactConfigSecrets(output),
        );
    }
  } finally {
    // Our own scratch child, should it still run after a failure above.
    if (!exited) child.kill('SIGKILL');
  }
  // What redis-server said quotes the config line it refuses: a password there is hidden.
  const said = redactConfigSecrets(output);
  const fatal = parseFatalConfigError(said);
  if (fatal)
    throw new ConfigValidationError(
      `Redis refuses the config at line ${fatal.line}: '${fatal.directive}': ${fatal.reason}`,
      said,
      fatal.line,
      fatal.directive,
      fatal.reason,
    );
  const last = said.trim().split('\n').slice(-5).join('\n');
  throw new ConfigValidationError(
    `redis-server exited with status ${exited!.code ?? exited!.signal} while starting with this config:\n${last}`,
    said,
  );
}

/**
 * Starts `redis-server <config>` whose config says `daemonize yes`: the launcher exits once
 * the daemon is forked, then the daemon must answer PING (LOADING while it reads the AOF).
 */
export async function startDaemon(opts: {
  binary: string;
  configPath: string;
  args?: string[];
  host: string;
  port: number;
  password?: string;
  /** '' when the config logs nowhere. */
  logFile: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Working directory of redis-server (a relative `dir` is resolved against it). */
  cwd?: string;
  /** The config's pid file: a daemon that wrote it and died is reported at once, not at the timeout. */
  pidFile?: string;
}): Promise<void> {
  const readPid = () => {
    try {
      const pid = Number(fs.readFileSync(opts.pidFile!, 'utf8').trim());
      return Number.isInteger(pid) && pid > 1 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const stalePid = opts.pidFile ? readPid() : undefined;
  const child = spawn(opts.binary, [opts.configPath, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    cwd: opts.cwd,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) => reject(spawnFailure(e, opts.binary)));
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0)
    throw new Error(
      `redis-server ${opts.configPath} exited with status ${code}:\n${redactConfigSecrets(output).trim()}${logTailText(opts.logFile)}`,
    );
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: string;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const c = await connectLocal(opts.host, opts.port, opts.password);
      c.disconnect();
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    const pid = opts.pidFile ? readPid() : undefined;
    if (pid !== undefined && pid !== stalePid && !processAlive(pid))
      throw new Error(
        `redis-server (pid ${pid}) exited while starting, before it answered PING on ${opts.host}:${opts.port}${logTailText(opts.logFile)}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `Redis did not answer PING on ${opts.host}:${opts.port} within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s (${last})${logTailText(opts.logFile)}`,
      );
    await sleep(100);
  }
}

/** The last lines of a log file, for error messages (config secrets it may quote hidden). */
export function logTail(file: string, lines = 20): string {
  try {
    return redactConfigSecrets(
      fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'),
    );
  } catch {
    return '';
  }
}

function logTailText(file: string): string {
  if (file === '') return '\n(the config sets no logfile, so Redis logged nowhere)';
  const tail = logTail(file);
  return tail ? `\nLast lines of ${file}:\n${tail}` : `\n(${file} is empty or missing)`;
}

/**
 * Stops a server the way an operator would: SHUTDOWN SAVE over the protocol (Redis fsyncs
 * the AOF and writes a final snapshot, then exits), then waits until the port is closed.
 * An error reply (e.g. the save failed) leaves the server running and is thrown.
 */
export async function shutdownSave(
  redis: Redis,
  host: string,
  port: number,
  timeoutMs = 120_000,
): Promise<void> {
  try {
    await redis.call('SHUTDOWN', 'SAVE');
  } catch (e) {
    const msg = (e as Error).message;
    if (!/Connection is closed|ECONNRESET|Stream isn't writeable/i.test(msg))
      throw new Error(`Redis refused to shut down: ${msg}`, { cause: e });
  } finally {
    redis.disconnect();
  }
  const deadline = Date.now() + timeoutMs;
  while (await portOpen(host, port, 500)) {
    if (Date.now() > deadline)
      throw new Error(
        `Redis on ${host}:${port} is still accepting connections ${Math.round(timeoutMs / 1000)} s after SHUTDOWN SAVE`,
      );
    await sleep(100);
  }
}
