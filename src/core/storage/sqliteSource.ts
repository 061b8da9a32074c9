import * as fs from 'node:fs';
import type { ReadIssue, Study } from '../optuna/model';
import { type SqliteReadParts, SqliteReader } from './sqliteReader';
import { SqliteWorkerReader } from './sqliteWorkerReader';
import type { SourceRefresh, StudySource } from './studySource';
import type { SourceStatus } from './storeState';

/**
 * An Optuna SQLite file as a study source: re-read whole, but only when the file (or its WAL)
 * changed since the last read. A failed read rejects with the reader's own error and stays the
 * status until a read succeeds. For a fallback file, not existing (yet) is a status, not an
 * error: the optimizers create it at their first fallback.
 */
export class SqliteSource implements StudySource {
  private reader: Pick<SqliteWorkerReader, 'readAll' | 'close'> | undefined;
  private studyList: Study[] = [];
  private token = '';
  private error: string | undefined;

  private readonly what: string;
  private readonly optional: boolean;
  private readonly workerFile: string | undefined;
  private readonly parts: SqliteReadParts;

  constructor(
    readonly path: string,
    /**
     * `what` the file is to the user, for messages; `optional`: it may not exist yet;
     * `workerFile`: read it in a worker thread (dist/sqliteWorker.js), not on this one;
     * `parts`: what an in-process read reads (SqliteReader.readAll; a worker reads it all).
     */
    o: { what?: string; optional?: boolean; workerFile?: string; parts?: SqliteReadParts } = {},
  ) {
    this.what = o.what ?? 'the SQLite file';
    this.optional = o.optional ?? false;
    this.workerFile = o.workerFile;
    this.parts = o.parts ?? 'all';
  }

  get label(): string {
    return this.path;
  }

  status(): SourceStatus {
    if (!fs.existsSync(this.path))
      return {
        ok: false,
        problem: 'file-missing',
        message: `${this.what} ${this.path} does not exist yet`,
      };
    if (this.error) return { ok: false, problem: 'file-unreadable', message: this.error };
    return { ok: true };
  }

  async refresh(signal?: AbortSignal): Promise<SourceRefresh> {
    signal?.throwIfAborted();
    const token = fileToken(this.path) + fileToken(`${this.path}-wal`);
    if (token === this.token) return { entries: 0, changed: false };
    this.token = token;
    if (this.optional && !fs.existsSync(this.path)) {
      this.reader?.close();
      this.reader = undefined;
      const had = this.studyList.length > 0;
      this.studyList = [];
      return { entries: 0, changed: had };
    }
    try {
      this.reader ??= this.workerFile
        ? new SqliteWorkerReader(this.path, this.workerFile)
        : inProcess(new SqliteReader(this.path), this.parts);
      this.studyList = await this.reader.readAll();
      this.error = undefined;
    } catch (e) {
      this.reader?.close();
      this.reader = undefined;
      this.token = ''; // try again next refresh
      this.error = `${this.what} cannot be read: ${(e as Error).message}`;
      throw e;
    }
    return { entries: 0, changed: true };
  }

  studies(): Study[] {
    return this.studyList;
  }

  issues(): ReadIssue[] {
    return [];
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }
}

function fileToken(p: string): string {
  try {
    const st = fs.statSync(p);
    return `${st.ino}:${st.size}:${st.mtimeMs};`;
  } catch {
    return '-;';
  }
}

/** An in-process reader behind the worker reader's (async) shape. */
function inProcess(
  r: SqliteReader,
  parts: SqliteReadParts,
): Pick<SqliteWorkerReader, 'readAll' | 'close'> {
  return { readAll: async () => r.readAll(parts), close: () => r.close() };
}
