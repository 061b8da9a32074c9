import type Redis from 'ioredis';
import * as vscode from 'vscode';
import { type BackupEntry, createServerBackup, defaultBackupRoot } from '../../core/redis/backup';
import { formatBytes } from '../../core/redis/restore';
import { configReplyToMap } from '../../core/redis/serverConfig';
import { isLoopbackHost, parseRedisUrl } from '../../core/redis/url';
import { Cancelled, withCancellableProgress } from '../progress';
import type { Services } from '../services';
import { backupSettings } from '../settings';
import { requireTrust } from '../trust';

/** The folder backups of this server go to: the setting, else beside its data directory. */
export async function backupRootOf(redis: Redis): Promise<string> {
  const configured = backupSettings().dir;
  if (configured) return configured;
  const dir = configReplyToMap((await redis.call('CONFIG', 'GET', 'dir')) as string[]).get('dir');
  if (!dir) throw new Error('Redis did not say where its data directory is (CONFIG GET dir)');
  return defaultBackupRoot(dir);
}

/** One line of what a backup holds, for messages and the restore picker. */
export function describeBackup(b: BackupEntry): string {
  return `${formatBytes(b.bytes)} · ${b.manifest.server.appenddirname ? 'RDB + append-only file' : 'RDB only'}`;
}

/**
 * Backs up the connected Redis (BGSAVE, BGREWRITEAOF, files copied and hashed): the work of
 * "Back Up Redis" and of the scheduled backups. Runs on the store's own connection.
 */
export async function backUpConnected(
  s: Services,
  opts: { signal?: AbortSignal; onProgress?: (message: string) => void } = {},
): Promise<BackupEntry> {
  const client = s.store.current?.redisClient;
  const where = s.store.current?.redisWhere;
  if (!client || !where || s.store.state.state !== 'redis')
    throw new Error('Redis is not reachable now, so there is nothing to back up');
  const { redisUrl, sentinel } = s.store.settings;
  if (sentinel || !isLoopbackHost(parseRedisUrl(redisUrl).host))
    throw new Error(
      `a backup copies the server's data files, so it runs on the Redis host, and ${where} is not this machine: open VS Code on that host (Remote-SSH) or run optuna-storage backup create there`,
    );
  const root = await backupRootOf(client);
  return createServerBackup(client, { root, endpoint: where, ...opts });
}

/** "Back Up Redis": a backup with progress and a Cancel that stops it (nothing is left behind). */
export async function backupRedis(s: Services): Promise<BackupEntry | undefined> {
  if (!requireTrust('Backing up Redis')) return undefined;
  try {
    const b = await withCancellableProgress('Backing up Redis', (report, signal) =>
      backUpConnected(s, {
        signal,
        onProgress: (m) => {
          s.log.info(`backup: ${m}`);
          report(m);
        },
      }),
    );
    s.log.info(`backup: ${b.path} (${describeBackup(b)})`);
    void vscode.window.showInformationMessage(
      `Backed up Redis to ${b.path} (${describeBackup(b)}, ${b.manifest.files.length} files with SHA-256 sums).`,
    );
    return b;
  } catch (e) {
    if (e instanceof Cancelled) {
      s.log.info('backup: cancelled, nothing kept');
      void vscode.window.showInformationMessage('Backup cancelled: nothing was kept.');
    } else {
      s.log.error(`backup: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Backup failed: ${(e as Error).message}`);
    }
    return undefined;
  }
}
