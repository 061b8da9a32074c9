import * as fs from 'node:fs';
import { ForeignJournalError } from '../optuna/journal/redisLog';
import { JournalFileReader } from './journalFileReader';
import { type ReadOptions, type Snapshot, readClosing } from './snapshot';
import { SqliteSource } from './sqliteSource';
import type { StorageSpec } from './storageSpec';

/** Reads a whole storage once, as `optuna-storage dump` does. */
export async function readOnce(spec: StorageSpec, opts: ReadOptions = {}): Promise<Snapshot> {
  if (spec.kind === 'sqlite')
    return readClosing(
      new SqliteSource(spec.path, { parts: opts.summaryOnly ? 'summary' : 'all' }),
      opts.signal,
    );
  if (spec.kind === 'journal-file') {
    const r = new JournalFileReader(spec.path);
    if (opts.newReplay) r.replay = opts.newReplay();
    const snap = await readClosing(r, opts.signal);
    // Not one readable record: this is another kind of file, not a damaged journal.
    if (r.replay.entriesRead > 0 && r.replay.issues.length === r.replay.entriesRead)
      throw new ForeignJournalError(
        `${spec.path} is not an Optuna journal file: it is ${describeFile(spec.path)}`,
      );
    return snap;
  }
  // Loaded only for Redis: reading a file never loads the Redis client.
  const { readRedisOnce } = await import('./readRedisOnce');
  return readRedisOnce(spec, opts);
}

/** What a file that is not a journal looks like, so that the message can name the right verb. */
function describeFile(p: string): string {
  const head = Buffer.alloc(512);
  const fd = fs.openSync(p, 'r');
  let bytes: Buffer;
  try {
    bytes = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
  } finally {
    fs.closeSync(fd);
  }
  if (bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0')
    return `an SQLite database: give it as sqlite:///${p} (or a path ending in .db)`;
  if (bytes.includes(0)) return 'a binary file';
  const first = bytes.toString('utf8').split('\n')[0].trim();
  return `a text file whose lines are not journal records (first line: ${JSON.stringify(first.length > 60 ? `${first.slice(0, 60)}…` : first)})`;
}
