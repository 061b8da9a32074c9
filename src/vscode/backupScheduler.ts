import * as vscode from 'vscode';
import { listBackups, pruneBackups } from '../core/redis/backup';
import { backUpConnected, backupRootOf } from './commands/backupRedis';
import type { Services } from './services';
import { backupSettings } from './settings';

/** The first check waits for the store to connect and the window to settle. */
const FIRST_CHECK_MS = 60_000;
/** After a failure or while Redis is down, look again this soon (or at the interval). */
const RETRY_MS = 10 * 60_000;

/**
 * Backups on a schedule while the extension runs (`optunaStorage.backup.everyHours`, off by
 * default), in a trusted workspace only. The schedule counts from the newest backup in the
 * folder, so a box whose VS Code reconnects every day still gets its daily backup; after each
 * one, only the `backup.keep` newest backups are kept.
 */
export class BackupScheduler implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private warned = false;
  /** Backups this scheduler made in this session. */
  runs = 0;
  lastError: string | undefined;

  constructor(private readonly s: Services) {
    this.reschedule();
  }

  /** Whether backups are scheduled (on, and the workspace trusted). */
  get active(): boolean {
    return this.timer !== undefined;
  }

  /** Starts, moves or stops the schedule after a change of settings or trust. */
  reschedule(delayMs?: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const every = backupSettings().everyHours * 3_600_000;
    if (this.disposed || every <= 0 || !vscode.workspace.isTrusted) return;
    this.timer = setTimeout(() => void this.tick(), delayMs ?? Math.min(every, FIRST_CHECK_MS));
  }

  private async tick(): Promise<void> {
    const every = backupSettings().everyHours * 3_600_000;
    let next = Math.min(every, RETRY_MS);
    try {
      next = await this.runIfDue(every);
      this.warned = false;
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.s.log.warn(`scheduled backup: ${this.lastError}`);
      if (!this.warned)
        void vscode.window.showWarningMessage(
          `Scheduled Redis backup failed: ${this.lastError}. It is tried again later.`,
        );
      this.warned = true;
    } finally {
      this.reschedule(next);
    }
  }

  /** Backs up when the newest backup is older than `every`; resolves with ms to the next check. */
  private async runIfDue(every: number): Promise<number> {
    const client = this.s.store.current?.redisClient;
    if (!client || this.s.store.state.state !== 'redis') {
      this.s.log.info('scheduled backup: Redis is not reachable, trying again later');
      return Math.min(every, RETRY_MS);
    }
    const root = await backupRootOf(client);
    const newest = listBackups(root)[0];
    const age = newest ? Date.now() - Date.parse(newest.manifest.createdAt) : Infinity;
    if (age < every) return every - age;
    const b = await backUpConnected(this.s, {
      onProgress: (m) => this.s.log.debug(`scheduled backup: ${m}`),
    });
    this.runs++;
    const { removed } = pruneBackups(root, backupSettings().keep);
    this.s.log.info(
      `scheduled backup: ${b.path}${removed.length ? `; removed the older ${removed.map((r) => r.name).join(', ')}` : ''}`,
    );
    return every;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }
}
