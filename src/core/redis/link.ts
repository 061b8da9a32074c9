import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import {
  type ClientOptions,
  type ConnectionSettings,
  DEFAULT_CONNECTION_SETTINGS,
  classifyRedisError,
  redisOptions,
} from './connect';
import { describeEndpoint, parseRedisUrl } from './url';

export interface LinkStatus {
  up: boolean;
  /** Last PING round trip, when up. */
  latencyMs?: number;
  degraded: boolean;
  /** Why Redis is down or degraded, in words a user can act on. */
  reason?: string;
  /** Epoch ms of the last health check or connection event. */
  checkedAt: number;
}

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
    this.client.on('error', (e) => (this.lastError = e));
    this.client.on('close', () => this.markDown());
    this.client.on('ready', () => {
      this.lastError = undefined; // a new connection: an earlier failure is no longer the reason
      void this.check();
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
    if (this.client.status !== 'ready') {
      this.markDown();
      return this.status;
    }
    this.checking = true;
    const deadline = Math.max(500, this.settings.healthCheckInterval * 2000);
    const t0 = performance.now();
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_r, reject) => {
          timeout = setTimeout(
            () => reject(new Error(`no answer to PING within ${deadline} ms`)),
            deadline,
          );
        }),
      ]);
      const latencyMs = performance.now() - t0;
      const degraded = latencyMs > this.settings.degradedLatencyMs;
      this.update({
        up: true,
        latencyMs,
        degraded,
        reason: degraded
          ? `PING took ${latencyMs.toFixed(0)} ms (over ${this.settings.degradedLatencyMs} ms)`
          : undefined,
        checkedAt: Date.now(),
      });
    } catch (e) {
      this.lastError = e;
      this.markDown();
    } finally {
      clearTimeout(timeout);
      this.checking = false;
    }
    return this.status;
  }

  private markDown(): void {
    if (this.closed) return;
    const reason = this.lastError
      ? classifyRedisError(this.lastError, this.where).message
      : `Redis at ${this.where} is not connected`;
    this.update({ up: false, degraded: false, reason, checkedAt: Date.now() });
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
