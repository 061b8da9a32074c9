import type { ReadIssue, Study } from '../optuna/model';
import type { JournalReplay } from '../optuna/replay';
import { type ClientOptions, classifyRedisError, connectOnce } from '../redis/connect';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { JournalFileReader } from './journalFileReader';
import { ForeignJournalError } from '../optuna/journal/redisLog';
import { RedisJournalReader } from './redisJournalReader';
import { ReplayCache } from './replayCache';
import { SqliteReader } from './sqliteReader';
import type { StorageSpec } from './storageSpec';

export interface Snapshot {
  studies: Study[];
  /** Gaps and skipped entries: when non-empty the snapshot is not the whole storage. */
  issues: ReadIssue[];
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
  switch (spec.kind) {
    case 'journal-file': {
      const r = new JournalFileReader(spec.path);
      if (opts.newReplay) r.replay = opts.newReplay();
      r.refresh();
      return { studies: r.replay.allStudies(), issues: r.replay.issues };
    }
    case 'sqlite': {
      const r = new SqliteReader(spec.path);
      try {
        return { studies: r.readAll(), issues: [] };
      } finally {
        r.close();
      }
    }
    case 'redis': {
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
        await r.refresh(opts.signal);
        if (r.replay.entriesRead >= CACHE_MIN_ENTRIES) r.saveCache();
        return { studies: r.replay.allStudies(), issues: r.replay.issues };
      } catch (e) {
        if (e instanceof ForeignJournalError) throw e;
        throw classifyRedisError(e, endpoint);
      } finally {
        redis.disconnect();
      }
    }
  }
}
