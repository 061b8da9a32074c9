import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import {
  type ClientOptions,
  type ConnectionSettings,
  DEFAULT_CONNECTION_SETTINGS,
  redisOptions,
} from './connect';
import { RedisConnectError, type RedisCause, classifyRedisError } from './connectError';
import { PatientCommand, bytesReceived, onSilence } from '../patientCommand';
import { describeEndpoint, parseRedisUrl } from './url';

export interface LinkStatus {
  up: boolean;
  /** Last PING round trip, when up. */
  latencyMs?: number;
  degraded: boolean;
  /** Why Redis is down or degraded, in words a user can act on. */
  reason?: string;
  /** Why Redis is down, as a kind the UI maps to words and a next step. */
  cause?: RedisCause;
  /** Epoch ms of the last health check or connection event. */
  checkedAt: number;
}

/** Milliseconds of this thread's work during a PING that say nothing about a block. */
const BUSY_NOISE_MS = 10;

/**
 * The one long-lived connection to a Redis server (or Sentinel-managed master) used for reads.
 * ioredis multiplexes and auto-pipelines every read on it; commands fail fast while it is
 * down (no offline queue), it reconnects with capped, jittered back-off, and a PING on the
 * configured interval measures latency and notices a server that stopped answering.
 */
export class RedisLink extends EventEmitter<{ status: [LinkStatus] }> {
  readonly client: Redis;
  readonly where: string;
  private readonly settings: ConnectionSettings;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastError: unknown;
  private checking = false;
  private readonly db: number;
  private probing = false;
  private noTls: RedisConnectError | undefined;
  /** ioredis only logs a failed SELECT and stays on database 0: this keeps the link down. */
  private wrongDb: unknown;
  status: LinkStatus = {
    up: false,
    degraded: false,
    reason: 'not connected yet',
    checkedAt: Date.now(),
  };

  constructor(url: string, opts: ClientOptions = {}) {
    super();
    const endpoint = parseRedisUrl(url);
    this.settings = { ...DEFAULT_CONNECTION_SETTINGS, ...opts.settings };
    this.where = opts.sentinel
      ? `Sentinel master "${opts.sentinel.name}" via ${opts.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
      : describeEndpoint(endpoint);
    this.client = new Redis(
      redisOptions(endpoint, {
        ...opts,
        reconnect: true,
        connectionName: opts.connectionName ?? 'optuna-storage-manager',
      }),
    );
    this.client.on('error', (e) => {
      const timedOut = /ETIMEDOUT|timed? ?out/i.test(String(e));
      // Once known, the TLS mismatch stays the reason for the next attempts' timeouts.
      if (timedOut && this.noTls) return;
      this.lastError = e;
      if (timedOut && endpoint.tls && !opts.sentinel)
        void this.probeTls(endpoint.host, endpoint.port);
    });
    this.client.on('close', () => this.markDown());
    this.db = endpoint.db;
    this.client.on('ready', () => {
      this.lastError = undefined; // a new connection: an earlier failure is no longer the reason
      this.noTls = undefined;
      void this.checkDatabase().then(() => this.check());
    });
  }

  start(): void {
    this.client.connect().catch(() => undefined); // failures arrive as 'error'/'close'; reconnect is automatic
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, this.settings.healthCheckInterval * 1000);
  }

  /** One health check: PING with a deadline. */
  async check(): Promise<LinkStatus> {
    if (this.closed || this.checking) return this.status;
    if (this.client.status !== 'ready' || this.wrongDb) {
      if (this.wrongDb) this.lastError = this.wrongDb;
      this.markDown();
      return this.status;
    }
    this.checking = true;
    const deadline = Math.max(500, this.settings.healthCheckInterval * 2000);
    const t0 = performance.now();
    const loop0 = performance.eventLoopUtilization();
    try {
      await this.ping(deadline);
      const latencyMs = performance.now() - t0;
      const slow = latencyMs > this.settings.degradedLatencyMs;
      // The answer waits in the socket while this thread works (a large journal's replay, or
      // another extension): a PING that is slow only by the time the thread was busy timed
      // the thread, not the server, and leaves the degradation as it was (a cold load of
      // 100,000 trials flagged a healthy Redis as slow several times).
      // A few milliseconds of work (the PING's own callbacks) are no such block.
      const busyMs = performance.eventLoopUtilization(loop0).active;
      const inconclusive =
        slow && busyMs > BUSY_NOISE_MS && latencyMs - busyMs <= this.settings.degradedLatencyMs;
      const kept = inconclusive && this.status.up && this.status.degraded;
      const degraded = inconclusive ? kept : slow;
      this.update({
        up: true,
        latencyMs,
        degraded,
        reason: kept
          ? this.status.reason
          : degraded
            ? `PING took ${latencyMs.toFixed(0)} ms (over ${this.settings.degradedLatencyMs} ms)`
            : undefined,
        checkedAt: Date.now(),
      });
    } catch (e) {
      this.lastError = e;
      this.markDown();
    } finally {
      this.checking = false;
    }
    return this.status;
  }

  /**
   * Waits for a PING's answer; rejects when the server sent nothing for a whole deadline
   * (onSilence): its answer queues behind the replies to reads on this connection.
   */
  private ping(deadline: number): Promise<void> {
    const received = bytesReceived(this.client);
    return new Promise<void>((resolve, reject) => {
      const stop = onSilence(received, deadline, () =>
        reject(new Error(`no answer to PING within ${deadline} ms`)),
      );
      // Patient too: ioredis' own command timeout would fail it behind a long read's replies.
      const pong = this.client.sendCommand(new PatientCommand('ping', [], {}, received));
      (pong as Promise<unknown>).then(
        () => {
          stop();
          resolve();
        },
        (e: unknown) => {
          stop();
          reject(e as Error);
        },
      );
    });
  }

  /**
   * A TLS handshake that times out against a port that accepts TCP at once is almost always a
   * server without TLS reached with rediss://: say that instead of "not answering".
   */
  private async probeTls(host: string, port: number): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    const answered = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    this.probing = false;
    if (!answered || this.closed || this.client.status === 'ready') return;
    this.lastError = this.noTls = new RedisConnectError(
      `Redis at ${this.where}: the port accepts connections but no TLS handshake: use redis:// unless the server has TLS on`,
      'unreachable',
      'tls',
    );
    this.markDown();
  }

  private async checkDatabase(): Promise<void> {
    if (this.db === 0) return;
    try {
      await this.client.select(this.db);
      this.wrongDb = undefined;
    } catch (e) {
      this.wrongDb = e;
    }
  }

  private markDown(): void {
    if (this.closed) return;
    const error = this.lastError ? classifyRedisError(this.lastError, this.where) : undefined;
    const reason = error?.message ?? `Redis at ${this.where} is not connected`;
    this.update({ up: false, degraded: false, reason, cause: error?.kind, checkedAt: Date.now() });
  }

  private update(s: LinkStatus): void {
    const changed =
      s.up !== this.status.up ||
      s.degraded !== this.status.degraded ||
      (!s.up && s.reason !== this.status.reason);
    this.status = s;
    if (changed) this.emit('status', s);
  }

  /** Forces an immediate reconnect attempt (the "Reconnect" command). */
  reconnect(): void {
    if (this.client.status === 'ready') return;
    this.client.disconnect(true);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.client.disconnect();
    this.removeAllListeners();
  }
}
