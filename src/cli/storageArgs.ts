import * as os from 'node:os';
import * as path from 'node:path';
import type { ReadOptions, Snapshot } from '../core/storage/snapshot';
import { ForeignJournalError } from '../core/optuna/journal/redisLog';
import { ForeignDatabaseError } from '../core/storage/sqliteSchema';
import { RedisConnectError } from '../core/redis/connectError';
import { type CliIo, EXIT_BAD_INPUT, EXIT_UNREACHABLE, UsageError } from './command';

/** Environment variable the CLI reads a Redis password from (never from the command line). */
export const PASSWORD_ENV = 'OPTUNA_STORAGE_REDIS_PASSWORD';

export const STORAGE_HELP = `STORAGE is one of:
  redis://[[user]:password@]host[:port][/db]   Optuna journal in Redis (rediss:// for TLS);
                                               the password may instead be given in $${PASSWORD_ENV}
  sqlite:///path/to/file.db                    Optuna RDB storage in SQLite, path relative to
                                               the current directory (SQLAlchemy's rule);
  sqlite:////abs/path/to/file.db               four slashes for an absolute path; or just a
                                               path ending in .db, .sqlite or .sqlite3
  path/to/journal.log                          Optuna journal file (any other existing file)`;

export const CACHE_HELP = `  --no-cache   do not use or write the local replay cache of large Redis journals
               (kept in $XDG_CACHE_HOME/optuna-storage-manager, checked against the journal)`;

/**
 * The CLI's folder for the local replay cache: $XDG_CACHE_HOME (or ~/.cache)/
 * optuna-storage-manager/journals.
 */
function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return path.join(
    env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
    'optuna-storage-manager',
    'journals',
  );
}

/** Redis password from the environment, local replay cache unless --no-cache; stops on `signal`. */
export function readOptions(
  values: { 'no-cache'?: boolean },
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): ReadOptions {
  return {
    signal,
    redis: { password: env[PASSWORD_ENV] || undefined },
    cacheDir: values['no-cache'] ? undefined : defaultCacheDir(env),
  };
}

/** Maps an error from reading a storage to the contract's exit status and a message. */
export function exitStatusFor(e: unknown): { status: number; message: string } {
  if (e instanceof RedisConnectError)
    return {
      status: e.failure === 'unreachable' ? EXIT_UNREACHABLE : EXIT_BAD_INPUT,
      message: e.message,
    };
  if (
    e instanceof UsageError ||
    e instanceof ForeignDatabaseError ||
    e instanceof ForeignJournalError
  )
    return { status: EXIT_BAD_INPUT, message: e.message };
  const msg = e instanceof Error ? e.message : String(e);
  return { status: EXIT_BAD_INPUT, message: msg };
}

/** A warning line when a Redis prefix holds no journal (Optuna then reports no studies). */
export function noJournalWarning(snap: Snapshot, prefix: string): string | undefined {
  if (!snap.noJournal) return undefined;
  const found = snap.noJournal.prefixesFound.map((p) => JSON.stringify(p));
  return `warning: no Optuna journal under prefix ${JSON.stringify(prefix)} on this server; ${found.length ? `journals are under --prefix ${found.join(', ')}` : 'the server holds no Optuna journal at all'}\n`;
}

/**
 * Writes the local replay cache a read made worth keeping. Called once the output is out: the
 * user sees the result without waiting for it, and a cache that cannot be written is only a
 * warning (the next run reads the whole journal).
 */
export function saveCacheAfterOutput(snap: Snapshot, io: CliIo): void {
  try {
    snap.saveCache?.();
  } catch (e) {
    io.stderr(
      `warning: the local replay cache could not be written (${(e as Error).message}); the next run reads the whole journal\n`,
    );
  }
}
