import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  readWriters,
  summarizeWriters,
  type WritersRead,
  type WriterStatus,
  type WritersSummary,
  writersDir,
} from '../core/python/writersStatus';
import { Disposable } from './lifecycle';
import type { RefreshManager } from './refreshManager';
import type { StoreService } from './storeService';

/**
 * The writers' side for the status bar and the Runs view: the state each process using the
 * Python storage with the configured fallback file publishes next to it. Read with every
 * refresh the RefreshManager makes (it owns when). While such processes exist it keeps that
 * refresh running with the views hidden, so that the status bar follows them; while none is
 * known, a file watcher on their folder asks for a read when the first one appears.
 */
export class WritersService extends Disposable {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private last: WritersRead = { writers: [], ignored: [] };
  private lastText = '';
  private refresh: RefreshManager | undefined;
  private keeper: vscode.Disposable | undefined;
  private readonly watchers: vscode.Disposable[] = [];
  private watched: string | undefined;
  private asked = false;
  summary: WritersSummary = summarizeWriters([]);

  constructor(
    private readonly store: StoreService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this._register({
      dispose: () => {
        this.keeper?.dispose();
        for (const w of this.watchers) w.dispose();
      },
    });
    // A new store may use another fallback file: its writers, and watch their folder.
    this._register(
      store.onDidChangeState(() => {
        if (store.settings.sqlitePath !== this.watched) void this.read();
      }),
    );
  }

  /** Starts following the writers through `refresh` (whose read calls `read`). */
  watch(refresh: RefreshManager): void {
    this.refresh = refresh;
    void this.read();
  }

  get writers(): readonly WriterStatus[] {
    return this.last.writers;
  }

  /** The processes of a run the extension launched (they carry its id). */
  ofRun(runId: string): WriterStatus[] {
    return this.last.writers.filter((w) => w.runId === runId);
  }

  /** Reads the status files; never rejects. Called by the RefreshManager's read. */
  async read(): Promise<void> {
    const fallback = this.store.settings.sqlitePath;
    this.rewatch(fallback);
    const r = fallback ? await readWriters(fallback) : { writers: [], ignored: [] };
    if (this.isDisposed) return;
    this.asked = false;
    for (const i of r.ignored)
      if (!this.last.ignored.some((j) => j.file === i.file))
        this.log.debug(`writers: not counted: ${i.file}: ${i.why}`);
    this.last = r;
    this.updateKeeper();
    // Only a change is an event (a heartbeat moves `updated` every few seconds).
    const text = JSON.stringify(
      r.writers.map((w) => [w.file, w.storage, w.cause, w.since, w.runId, w.pending]),
    );
    if (text === this.lastText) return;
    const before = this.summary;
    this.lastText = text;
    this.summary = summarizeWriters(r.writers);
    if (before.onSqlite !== this.summary.onSqlite || before.total !== this.summary.total)
      this.log.info(
        `writers: ${this.summary.onSqlite} of ${this.summary.total} on SQLite${this.summary.cause ? ` (${this.summary.cause})` : ''}`,
      );
    this.changed.fire();
  }

  private updateKeeper(): void {
    const want = this.last.writers.length > 0 && this.refresh !== undefined;
    if (want && !this.keeper) this.keeper = this.refresh!.keepFresh();
    else if (!want && this.keeper) {
      this.keeper.dispose();
      this.keeper = undefined;
    }
  }

  /**
   * Watches the writers' folder of this fallback file without recursion (the fallback file's
   * folder may hold a data set): the folder's creation and removal in its parent, and the
   * status files in it while it exists (a new file, or one a heartbeat rewrote).
   */
  private rewatch(fallback: string | undefined): void {
    if (fallback === this.watched || this.isDisposed) return;
    this.watched = fallback;
    for (const w of this.watchers.splice(0)) w.dispose();
    if (!fallback) return;
    const dir = writersDir(fallback);
    const folder = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(path.dirname(dir)), path.basename(dir)),
    );
    let files: vscode.FileSystemWatcher | undefined;
    const watchFiles = () => {
      files?.dispose();
      files = fs.existsSync(dir)
        ? vscode.workspace.createFileSystemWatcher(
            new vscode.RelativePattern(vscode.Uri.file(dir), '*.json'),
            false,
            false,
            true,
          )
        : undefined;
      files?.onDidCreate(() => this.appeared());
      files?.onDidChange(() => this.appeared());
    };
    // A folder removed and made again at once may come as one change.
    const made = () => {
      watchFiles();
      this.appeared();
    };
    folder.onDidCreate(made);
    folder.onDidChange(made);
    folder.onDidDelete(() => watchFiles());
    watchFiles();
    this.watchers.push(folder, { dispose: () => files?.dispose() });
  }

  /** A status file appeared: read, unless writers are followed already (the keeper). */
  private appeared(): void {
    if (this.keeper || this.asked || !this.refresh) return;
    this.asked = true;
    void this.refresh.refresh('writers').finally(() => (this.asked = false));
  }
}
