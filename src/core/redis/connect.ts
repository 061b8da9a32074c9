import Redis, { type RedisOptions } from 'ioredis';
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

export type RedisFailure = 'unreachable' | 'auth' | 'protocol';

/**
 * Why Redis cannot be used, precisely enough to say what to do: `refused` (nothing listens),
 * `unknown-host`, `auth` (wrong password or user), `no-password` (the server needs one),
 * `tls` (a TLS handshake failed), `db-range` (no such database number), `timeout` (no
 * answer, or the connection dropped).
 */
export type RedisCause =
  'refused' | 'unknown-host' | 'auth' | 'no-password' | 'tls' | 'db-range' | 'timeout' | 'other';

/** A Redis problem in words a user can act on; never carries the password. */
export class RedisConnectError extends Error {
  constructor(
    message: string,
    readonly failure: RedisFailure,
    readonly kind: RedisCause = failure === 'auth' ? 'auth' : 'other',
  ) {
    super(message);
  }
}

export function classifyRedisError(e: unknown, where: string): RedisConnectError {
  if (e instanceof RedisConnectError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n')[0].replace(/^ReplyError: /, '');
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  if (/NOAUTH|Authentication required/i.test(msg))
    return new RedisConnectError(
      `Redis at ${where} needs a password (${first}): give it (Configure Connection, or OPTUNA_STORAGE_REDIS_PASSWORD)`,
      'auth',
      'no-password',
    );
  if (/WRONGPASS|invalid username-password|AUTH.*without any password|invalid password/i.test(msg))
    return new RedisConnectError(
      /without any password/i.test(msg)
        ? `Redis at ${where} has no password set, but one was sent (${first}): remove the stored password`
        : `Redis at ${where} refused the credentials (${first}): check the password (URL, OPTUNA_STORAGE_REDIS_PASSWORD, or the extension's stored password)`,
      'auth',
      'auth',
    );
  if (/DB index is out of range/i.test(msg))
    return new RedisConnectError(
      `Redis at ${where} has no such database: the number after the last "/" must be below the server's "databases" setting (16 unless changed)`,
      'protocol',
      'db-range',
    );
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg))
    return new RedisConnectError(
      `Redis at ${where} refused the connection: is redis-server running on that port?`,
      'unreachable',
      'refused',
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(msg))
    return new RedisConnectError(
      `Redis host of ${where} cannot be resolved: check the host name`,
      'unreachable',
      'unknown-host',
    );
  if (
    /^ERR_SSL|^ERR_TLS|CERT|EPROTO/.test(code) ||
    /SSL routines|wrong version number|secure TLS connection|certificate/i.test(msg)
  )
    return new RedisConnectError(
      `Redis at ${where}: the TLS handshake failed (${first}): use rediss:// only for a server with TLS on, redis:// otherwise`,
      'unreachable',
      'tls',
    );
  if (
    /ETIMEDOUT|timed? ?out|Command timed out|Connection is closed|ECONNRESET|EHOSTUNREACH|ENETUNREACH|max retries|Stream isn't writeable|enableOfflineQueue|no answer/i.test(
      msg,
    ) ||
    code === 'ETIMEDOUT'
  ) {
    // A server that hangs up at once may be a TLS-only port reached without TLS.
    const closed = /Connection is closed|ECONNRESET/i.test(msg) && !where.startsWith('rediss:');
    return new RedisConnectError(
      `Redis at ${where} is not answering (${first}): check that the server is up and reachable${closed ? ' (a server with TLS needs a rediss:// URL)' : ''}`,
      'unreachable',
      'timeout',
    );
  }
  return new RedisConnectError(`Redis at ${where}: ${first}`, 'protocol');
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
