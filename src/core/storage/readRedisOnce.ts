import { ForeignJournalError, discoverPrefixes } from '../optuna/journal/redisLog';
import { connectOnce } from '../redis/connect';
import { classifyRedisError } from '../redis/connectError';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { type ReadOptions, type Snapshot, readClosing } from './snapshot';
import { RedisJournalReader } from './redisJournalReader';
import { ReplayCache } from './replayCache';
import type { StorageSpec } from './storageSpec';

/** Journals smaller than this replay fast enough that a local cache would not pay off. */
const CACHE_MIN_ENTRIES = 10_000;

/** readOnce of a Redis journal. */
export async function readRedisOnce(
  spec: Extract<StorageSpec, { kind: 'redis' }>,
  opts: ReadOptions,
): Promise<Snapshot> {
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
    if (r.replay.entriesRead >= CACHE_MIN_ENTRIES) snap.saveCache = () => r.saveCache();
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
