import Redis, { type RedisOptions } from 'ioredis';
import { classifyRedisError } from './connectError';
import { type RedisEndpoint, describeEndpoint, parseRedisUrl } from './url';

/**
 * Connection settings, named after the redis-py options users of this setup already tune.
 * There is no `max_connections`: every read shares one multiplexed connection per server.
 */
export interface ConnectionSettings {
  /** Seconds a command may wait for its reply (redis-py `socket_timeout`). */
  socketTimeout: number;
  /** Seconds a connection attempt may take (`socket_connect_timeout`). */
  socketConnectTimeout: number;
  /**
   * Seconds between health-check PINGs (`health_check_interval`). A PING unanswered within
   * twice this (at least 0.5 s) counts as Redis down, so a frozen server is noticed in < 1 s.
   */
  healthCheckInterval: number;
  /** Reconnect back-off: first delay and cap, in ms (exponential, with jitter). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** PING latency above this marks Redis as degraded (still used, but flagged). */
  degradedLatencyMs: number;
}

export const DEFAULT_CONNECTION_SETTINGS: ConnectionSettings = {
  socketTimeout: 5,
  socketConnectTimeout: 2,
  healthCheckInterval: 0.25,
  retryBaseMs: 50,
  retryMaxMs: 1000,
  degradedLatencyMs: 100,
};

/** A Sentinel set: the store follows whichever replica the sentinels promote. */
export interface SentinelConfig {
  sentinels: Array<{ host: string; port: number }>;
  /** The master group name (`sentinel monitor <name> ...`). */
  name: string;
  sentinelPassword?: string;
}

/** Parses "host:port,host:port" as users write sentinel lists. */
export function parseSentinelList(text: string): Array<{ host: string; port: number }> {
  return text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((hp) => {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hp);
      if (!m) throw new Error(`invalid sentinel address "${hp}" (expected host:port)`);
      return { host: m[1], port: Number(m[2]) };
    });
}

export interface ClientOptions {
  settings?: Partial<ConnectionSettings>;
  /** Overrides the URL's password (from SecretStorage or the environment). */
  password?: string;
  /** Keep reconnecting with capped, jittered back-off (a long-lived store) or fail at once. */
  reconnect?: boolean;
  connectionName?: string;
  sentinel?: SentinelConfig;
}

export function redisOptions(endpoint: RedisEndpoint, opts: ClientOptions = {}): RedisOptions {
  const s = { ...DEFAULT_CONNECTION_SETTINGS, ...opts.settings };
  const backoff = (times: number) => {
    const cap = Math.min(s.retryMaxMs, s.retryBaseMs * 2 ** Math.min(times - 1, 16));
    return Math.round(cap / 2 + Math.random() * (cap / 2));
  };
  const where = opts.sentinel
    ? {
        sentinels: opts.sentinel.sentinels,
        name: opts.sentinel.name,
        sentinelPassword: opts.sentinel.sentinelPassword,
        sentinelRetryStrategy: opts.reconnect ? backoff : () => null,
        failoverDetector: true,
      }
    : { host: endpoint.host, port: endpoint.port };
  return {
    ...where,
    db: endpoint.db,
    username: endpoint.username,
    password: opts.password ?? endpoint.password,
    tls: endpoint.tls ? {} : undefined,
    connectionName: opts.connectionName,
    lazyConnect: true,
    connectTimeout: s.socketConnectTimeout * 1000,
    commandTimeout: s.socketTimeout * 1000,
    // Fail fast while disconnected: no unbounded offline queue, no silent retry of reads.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    enableAutoPipelining: true,
    // The health check's PING leaves at once, not in the next setImmediate batch: its deadline
    // counts from when it was sent.
    autoPipeliningIgnoredCommands: ['ping'],
    retryStrategy: opts.reconnect ? backoff : () => null,
  };
}

/** Connects once (for the CLI): resolves when the server answered PING, or throws a RedisConnectError. */
export async function connectOnce(url: string, opts: ClientOptions = {}): Promise<Redis> {
  const endpoint = parseRedisUrl(url);
  const where = describeEndpoint(endpoint);
  const redis = new Redis(redisOptions(endpoint, { ...opts, reconnect: false }));
  // ioredis rejects connect() with a bare "Connection is closed"; the cause (refused,
  // WRONGPASS, NOAUTH) only arrives as an 'error' event, so keep the last one.
  let cause: unknown;
  redis.on('error', (e) => (cause = e));
  try {
    await redis.connect();
    // ioredis only logs a failed SELECT and stays on database 0: refuse, as Redis does.
    if (endpoint.db !== 0) await redis.select(endpoint.db);
    await redis.ping();
    return redis;
  } catch (e) {
    redis.disconnect();
    throw classifyRedisError(cause ?? e, where);
  }
}
