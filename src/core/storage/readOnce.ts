import type { ReadIssue, Study } from '../optuna/model';
import { type ClientOptions, classifyRedisError, connectOnce } from '../redis/connect';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { JournalFileReader } from './journalFileReader';
import { ForeignJournalError, RedisJournalReader } from './redisJournalReader';
import { SqliteReader } from './sqliteReader';
import type { StorageSpec } from './storageSpec';

export interface Snapshot {
  studies: Study[];
  /** Gaps and skipped entries: when non-empty the snapshot is not the whole storage. */
  issues: ReadIssue[];
}

/** Reads a whole storage once, as `optuna-storage dump` does. */
export async function readOnce(spec: StorageSpec, redisOptions: ClientOptions = {}): Promise<Snapshot> {
  switch (spec.kind) {
    case 'journal-file': {
      const r = new JournalFileReader(spec.path);
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
      const redis = await connectOnce(spec.url, redisOptions);
      try {
        const r = new RedisJournalReader(redis, spec.prefix);
        await r.refresh();
        return { studies: r.replay.allStudies(), issues: r.replay.issues };
      } catch (e) {
        if (e instanceof ForeignJournalError) throw e;
        throw classifyRedisError(e, describeEndpoint(parseRedisUrl(spec.url)));
      } finally {
        redis.disconnect();
      }
    }
  }
}
