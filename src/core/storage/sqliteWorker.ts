// Worker thread that reads Optuna SQLite files for the extension host, so that a slow disk,
// a large file or a crafted one never stalls the host's main thread (open() and every query
// of better-sqlite3 are synchronous). Bundled to dist/sqliteWorker.js; the ABI-specific
// better-sqlite3 binding is chosen here exactly as in the host (sqliteDriver).
import { parentPort } from 'node:worker_threads';
import { ForeignDatabaseError, SqliteReader } from './sqliteReader';
import type { Study } from '../optuna/model';
import type { SqliteWorkerReply, SqliteWorkerRequest } from './sqliteWorkerReader';

/** One reader per file, kept open between reads as in-process readers are. */
const readers = new Map<string, SqliteReader>();

/**
 * Trials per message. The receiving thread deserializes a message in one go and Node delivers
 * queued messages back to back, so a large file goes out one slice at a time, the next only
 * when the receiver asks for it (after yielding to its event loop).
 */
const TRIALS_PER_MESSAGE = 2000;

/** Slices of the read in progress, per request id. */
const outgoing = new Map<number, Generator<SqliteWorkerReply>>();

function* slices(id: number, studies: Study[]): Generator<SqliteWorkerReply> {
  for (const s of studies) {
    yield { id, study: { ...s, trials: s.trials.slice(0, TRIALS_PER_MESSAGE) } };
    for (let i = TRIALS_PER_MESSAGE; i < s.trials.length; i += TRIALS_PER_MESSAGE)
      yield { id, trials: s.trials.slice(i, i + TRIALS_PER_MESSAGE) };
  }
  yield { id, done: true };
}

function sendNext(id: number): void {
  const it = outgoing.get(id);
  if (!it) return;
  const r = it.next();
  if (r.done || 'done' in r.value) outgoing.delete(id);
  if (!r.done) parentPort!.postMessage(r.value);
}

parentPort?.on('message', (req: SqliteWorkerRequest) => {
  if (req.next) return sendNext(req.id);
  try {
    if (req.close) {
      readers.get(req.path)?.close();
      readers.delete(req.path);
      return;
    }
    let r = readers.get(req.path);
    if (!r) readers.set(req.path, (r = new SqliteReader(req.path, req.busyTimeoutMs)));
    outgoing.set(req.id, slices(req.id, r.readAll()));
    sendNext(req.id);
  } catch (e) {
    readers.get(req.path)?.close();
    readers.delete(req.path);
    parentPort!.postMessage({
      id: req.id,
      error: (e as Error).message,
      foreign: e instanceof ForeignDatabaseError,
    } satisfies SqliteWorkerReply);
  }
});
