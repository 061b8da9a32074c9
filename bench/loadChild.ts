/**
 * One cold load in a fresh process, so time and peak memory (VmHWM) belong to this load only.
 * Usage: loadChild redis URL PREFIX [CACHE_DIR] | file PATH | sqlite PATH
 * With CACHE_DIR the Redis reader starts from the local replay cache (written when absent).
 */
import * as fs from 'node:fs';
import Redis from 'ioredis';
import { JournalFileReader } from '../src/core/storage/journalFileReader';
import { RedisJournalReader } from '../src/core/storage/redisJournalReader';
import { ReplayCache } from '../src/core/storage/replayCache';
import { SqliteReader } from '../src/core/storage/sqliteReader';
import type { Study } from '../src/core/optuna/model';

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const [kind, target, prefix, cacheDir] = process.argv.slice(2);
  const baseline = peakRssMb();
  let studies: Study[];
  let ms: number;
  let fromCache = false;
  if (kind === 'redis') {
    const redis = new Redis(target, { lazyConnect: true });
    await redis.connect();
    const t0 = performance.now();
    const cache = cacheDir
      ? { cache: new ReplayCache(cacheDir), key: `${target}|${prefix}`, saveEvery: Infinity }
      : undefined;
    const r = new RedisJournalReader(redis, prefix ?? '', cache);
    const { entries } = await r.refresh();
    studies = r.replay.allStudies();
    ms = performance.now() - t0;
    fromCache = cacheDir !== undefined && entries < r.replay.entriesRead;
    if (cacheDir && !fromCache) r.saveCache();
    redis.disconnect();
  } else if (kind === 'file') {
    const t0 = performance.now();
    const r = new JournalFileReader(target);
    await r.refresh();
    studies = r.replay.allStudies();
    ms = performance.now() - t0;
  } else {
    const t0 = performance.now();
    const r = new SqliteReader(target);
    studies = r.readAll();
    ms = performance.now() - t0;
    r.close();
  }
  const trials = studies.reduce((n, s) => n + s.trials.length, 0);
  global.gc?.();
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  process.stdout.write(
    JSON.stringify({
      ms,
      trials,
      fromCache,
      peakRssMb: peakRssMb(),
      baselineRssMb: baseline,
      heapAfterMb: heapMb,
    }) + '\n',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
