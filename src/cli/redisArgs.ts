import type Redis from 'ioredis';
import { connectOnce } from '../core/redis/connect';
import { isLoopbackHost, parseRedisUrl } from '../core/redis/url';
import { UsageError } from './command';
import { PASSWORD_ENV } from './storageArgs';

export const REDIS_OPTION_HELP = `  --redis URL     redis://[[user]:password@]host[:port][/db] or rediss:// (the password is
                  better given in $${PASSWORD_ENV}: a command line is visible to every user)`;

/** Connects for a one-shot verb; a bad URL is a usage error, the rest RedisConnectError. */
export async function connectFromArgs(url: string, env: NodeJS.ProcessEnv): Promise<Redis> {
  try {
    parseRedisUrl(url);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Long operations (rewrites, big scans) must not trip the reader's 5 s reply timeout.
  return connectOnce(url, {
    password: env[PASSWORD_ENV] || undefined,
    connectionName: 'optuna-storage',
    settings: { socketTimeout: 60 },
  });
}

/** Whether the server is on this machine: then /proc facts and its files apply to it. */
export function isLocalHost(url: string): boolean {
  return isLoopbackHost(parseRedisUrl(url).host);
}
