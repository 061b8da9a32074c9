// Worker thread that reads Optuna SQLite files for the extension host, so that a slow disk,
// a large file or a crafted one never stalls the host's main thread (open() and every query
// of better-sqlite3 are synchronous). Bundled to dist/sqliteWorker.js; the ABI-specific
// better-sqlite3 binding is chosen here exactly as in the host (sqliteDriver).
import { parentPort } from 'node:worker_threads';
import { SqliteReader } from './sqliteReader';
import { ForeignDatabaseError } from './sqliteSchema';
import type { Study } from '../optuna/model';
import { studyData, studyDataBuffers } from '../optuna/studyData';
import type { SqliteWorkerReply, SqliteWorkerRequest } from './sqliteWorkerReader';

/** One reader per file, kept open between reads as in-process readers are. */
const readers = new Map<string, SqliteReader>();

/** Slices of the read in progress, per request id. */
const outgoing = new Map<number, Generator<SqliteWorkerReply>>();

/**
 * One message per study: its fields and its trials' columns, whose buffers are transferred,
 * not copied. The receiver asks for the next study only after yielding to its event loop.
 */
function* slices(id: number, studies: Study[]): Generator<SqliteWorkerReply> {
  for (const s of studies) yield { id, study: studyData(s) };
  yield { id, done: true };
}

function sendNext(id: number): void {
  const it = outgoing.get(id);
  if (!it) return;
  const r = it.next();
  if (r.done || 'done' in r.value) outgoing.delete(id);
  if (r.done) return;
  const reply = r.value;
  parentPort!.postMessage(reply, 'study' in reply ? studyDataBuffers(reply.study) : []);
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
