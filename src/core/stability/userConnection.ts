import Redis from 'ioredis';
import { connectOnce, redisOptions } from '../redis/connect';
import { RedisConnectError, classifyRedisError } from '../redis/connectError';
import type { RedisEndpoint } from '../redis/url';
import { errorMessage } from './context';
import type { SuiteOptions } from './types';

/** The suite's own connection to the Redis under test, and how to word its errors. */
export interface UserConnection {
  client: Redis;
  /** An error of `client` in words a user can act on (the cause, not ioredis' "Connection is closed."). */
  explain(e: unknown): string;
}

/**
 * Connects to the user's Redis; throws a RedisConnectError that says why it cannot (refused,
 * credentials, TLS). The first connection is a one-shot probe because only a connection that
 * does not retry reports the cause; the suite's own connection then reconnects, so a blip does
 * not stop read-backs and cleanup.
 */
export async function connectUser(
  options: SuiteOptions,
  endpoint: RedisEndpoint,
  where: string,
): Promise<UserConnection> {
  let client: Redis | undefined;
  // A reconnecting client's commands fail with "Connection is closed."; the cause is the
  // last 'error' it emitted.
  let lastClientError: unknown;
  try {
    const probe = await connectOnce(options.redisUrl, {
      password: options.password,
      settings: options.settings,
    });
    probe.disconnect();
    client = new Redis(
      redisOptions(endpoint, {
        password: options.password,
        settings: options.settings,
        reconnect: true,
        connectionName: 'optuna-storage-suite',
      }),
    );
    client.on('error', (e) => (lastClientError = e));
    await client.connect();
  } catch (e) {
    client?.disconnect();
    throw e instanceof RedisConnectError ? e : classifyRedisError(lastClientError ?? e, where);
  }
  const explain = (e: unknown): string => {
    const msg = errorMessage(e);
    if (
      /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|timed out/.test(
        msg,
      )
    )
      return classifyRedisError(lastClientError ?? e, where).message;
    return msg;
  };
  return { client, explain };
}

/** The server's redis_version, or undefined where INFO is not allowed. */
export async function serverVersion(client: Redis): Promise<string | undefined> {
  try {
    return /redis_version:(\S+)/.exec(await client.info('server'))?.[1];
  } catch {
    return undefined;
  }
}
