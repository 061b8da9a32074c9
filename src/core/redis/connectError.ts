// Redis failures in words a user can act on. Apart from the client (connect.ts) so that code
// which only needs to recognise or word a failure does not load ioredis.

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
