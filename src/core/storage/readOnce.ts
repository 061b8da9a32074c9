import * as fs from 'node:fs';
import type { ReadIssue, Study } from '../optuna/model';
import type { JournalReplay } from '../optuna/replay';
import { type ClientOptions, classifyRedisError, connectOnce } from '../redis/connect';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { ForeignJournalError, discoverPrefixes } from '../optuna/journal/redisLog';
import { JournalFileReader } from './journalFileReader';
import { RedisJournalReader } from './redisJournalReader';
import { ReplayCache } from './replayCache';
import { SqliteSource } from './sqliteSource';
import type { StorageSpec } from './storageSpec';
import type { StudySource } from './studySource';

export interface Snapshot {
  studies: Study[];
  /** Gaps and skipped entries: when non-empty the snapshot is not the whole storage. */
  issues: ReadIssue[];
  /** Redis only: no journal under the prefix asked for; the prefixes that have one. */
  noJournal?: { prefixesFound: string[] };
}

export interface ReadOptions {
  redis?: ClientOptions;
  /** Folder of the local replay cache for Redis journals; none when undefined. */
  cacheDir?: string;
  /** A replay of another kind (e.g. the exact one exports use); the cache is then not used. */
  newReplay?: () => JournalReplay;
  signal?: AbortSignal;
}

/** Journals smaller than this replay fast enough that a local cache would not pay off. */
const CACHE_MIN_ENTRIES = 10_000;

/** Reads a whole storage once, as `optuna-storage dump` does. */
export async function readOnce(spec: StorageSpec, opts: ReadOptions = {}): Promise<Snapshot> {
  if (spec.kind === 'sqlite') return readClosing(new SqliteSource(spec.path), opts.signal);
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
  const endpoint = describeEndpoint(parseRedisUrl(spec.url));
  const redis = await connectOnce(spec.url, opts.redis);
  try {
    const cache =
      opts.cacheDir && !opts.newReplay
        ? {
            cache: new ReplayCache(opts.cacheDir),
            key: `${endpoint}|${spec.prefix}`,
            saveEvery: Infinity,
          }
        : undefined;
    const r = new RedisJournalReader(redis, spec.prefix, cache);
    if (opts.newReplay) r.replay = opts.newReplay();
    const snap = await readClosing(r, opts.signal);
    if (r.replay.entriesRead >= CACHE_MIN_ENTRIES) r.saveCache();
    // Optuna reports an empty storage for a mistyped prefix: say which prefixes exist.
    if (r.replay.entriesRead === 0)
      snap.noJournal = {
        prefixesFound: (await discoverPrefixes(redis, 100_000, opts.signal)).prefixes,
      };
    return snap;
  } catch (e) {
    if (e instanceof ForeignJournalError) throw e;
    if (opts.signal?.aborted) throw opts.signal.reason; // cancelled, not a Redis problem
    throw classifyRedisError(e, endpoint);
  } finally {
    redis.disconnect();
  }
}

/** One read of a source, which is closed after it. */
async function readClosing(source: StudySource, signal?: AbortSignal): Promise<Snapshot> {
  try {
    await source.refresh(signal);
    return { studies: source.studies(), issues: source.issues() };
  } finally {
    source.close();
  }
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
