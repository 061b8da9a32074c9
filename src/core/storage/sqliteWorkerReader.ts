import { Worker } from 'node:worker_threads';
import type { Study } from '../optuna/model';
import { type StudyData, studyFromData } from '../optuna/studyData';
import { ForeignDatabaseError } from './sqliteSchema';

export interface SqliteWorkerRequest {
  id: number;
  path: string;
  /** Send the next slice of read `id` (the receiver has yielded since the last one). */
  next?: boolean;
  busyTimeoutMs?: number;
  close?: boolean;
}

/** A read's reply, in order: each study with its trials' columns; done. */
export type SqliteWorkerReply =
  | { id: number; study: StudyData }
  | { id: number; done: true }
  | { id: number; error: string; foreign: boolean };

/** How long one read may take before the worker is ended and the read fails. */
const READ_TIMEOUT_MS = 120_000;

/**
 * SqliteReader's readAll in a worker thread (dist/sqliteWorker.js): the same studies, the
 * same errors (ForeignDatabaseError stays one), but the caller's thread never blocks. A read
 * that does not finish within READ_TIMEOUT_MS ends the worker (a hung open() cannot be
 * interrupted otherwise) and fails; the next read starts a new worker.
 */
export class SqliteWorkerReader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { studies: Study[]; resolve: (s: Study[]) => void; reject: (e: Error) => void }
  >();

  constructor(
    readonly path: string,
    private readonly workerFile: string,
    private readonly busyTimeoutMs = 2000,
    private readonly timeoutMs = READ_TIMEOUT_MS,
  ) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerFile);
    w.unref();
    w.on('message', (m: SqliteWorkerReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if ('study' in m) {
        p.studies.push(studyFromData(m.study));
        // Ask for the next slice only after timers and I/O of this thread had their turn.
        setImmediate(() => w.postMessage({ id: m.id, path: this.path, next: true }));
      } else {
        this.pending.delete(m.id);
        if ('done' in m) p.resolve(p.studies);
        else p.reject(m.foreign ? new ForeignDatabaseError(m.error) : new Error(m.error));
      }
    });
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on('error', (e) => fail(new Error(`the SQLite reader thread failed: ${e.message}`)));
    w.on('exit', (code) => fail(new Error(`the SQLite reader thread ended (status ${code})`)));
    this.worker = w;
    return w;
  }

  readAll(): Promise<Study[]> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<Study[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `reading ${this.path} took more than ${Math.round(this.timeoutMs / 1000)} s: stopped (is it a regular, local file?)`,
          ),
        );
        void this.terminate();
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, {
        studies: [],
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      w.postMessage({ id, path: this.path, busyTimeoutMs: this.busyTimeoutMs });
    });
  }

  private async terminate(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  close(): void {
    void this.terminate();
  }
}
