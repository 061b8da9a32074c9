import type Redis from 'ioredis';
import { discoverPrefixes } from '../optuna/journal/redisLog';
import type { JournalCheck } from '../redis/journalCheck';
import { RedisJournalReader } from './redisJournalReader';

/**
 * Reads every journal prefix to the end, as a worker replaying it would: the proof that a
 * restored server holds journals Optuna can load (a missing or unreadable entry is an issue).
 */
export async function readEveryJournal(
  redis: Redis,
  opts: { signal?: AbortSignal; onProgress?: (message: string) => void } = {},
): Promise<JournalCheck[]> {
  const { prefixes } = await discoverPrefixes(redis, undefined, opts.signal);
  const out: JournalCheck[] = [];
  for (const prefix of prefixes) {
    opts.onProgress?.(`reading journal prefix ${JSON.stringify(prefix)}`);
    const reader = new RedisJournalReader(redis, prefix);
    await reader.refresh(opts.signal);
    const studies = reader.replay.studies;
    out.push({
      prefix,
      entries: reader.replay.entriesRead,
      studies: studies.size,
      trials: [...studies.values()].reduce((n, s) => n + s.trials.length, 0),
      issues: reader.replay.issues,
    });
  }
  return out;
}
