import type Redis from 'ioredis';
import { discoverPrefixes, logKey, logNumberKey } from '../optuna/journal/redisLog';

/** Keys per EXISTS and EXISTS calls in flight: one round trip checks a thousand entries. */
const BATCH = 1000;
const WINDOW = 4;
/** Missing ranges kept in a report; the count is always exact. */
const MAX_RANGES = 50;

export interface JournalGaps {
  prefix: string;
  /** Entries the counter says exist (`log_number + 1`); 0 when there is no counter. */
  entries: number;
  /** Entries checked, from 0; less than `entries` when the scan was bounded. */
  checked: number;
  /** Missing entries among those checked. */
  missing: number;
  /** Inclusive [first, last] index ranges of missing entries, the first MAX_RANGES. */
  ranges: Array<[number, number]>;
}

export interface ScanOptions {
  /** Entries checked per prefix at most (from index 0: Optuna replays from the start). */
  maxEntries?: number;
  signal?: AbortSignal;
  onProgress?: (prefix: string, checked: number, total: number) => void;
}

/**
 * Finds the journal entries that are missing (evicted, deleted, lost in a crash) under a
 * prefix: EXISTS over a thousand keys at a time, and only for a batch that comes up short,
 * one EXISTS per key to name them. Reads no entry bodies.
 */
export async function scanJournalGaps(
  redis: Redis,
  prefix: string,
  opts: ScanOptions = {},
): Promise<JournalGaps> {
  const raw = await redis.get(logNumberKey(prefix));
  const last = raw !== null && /^-?\d+$/.test(raw) ? Number(raw) : -1;
  const entries = last + 1;
  const limit = Math.min(entries, opts.maxEntries ?? 5_000_000);
  const report: JournalGaps = { prefix, entries, checked: limit, missing: 0, ranges: [] };
  const batches: number[] = [];
  for (let i = 0; i < limit; i += BATCH) batches.push(i);

  const check = async (start: number): Promise<number[]> => {
    const keys: string[] = [];
    for (let i = start; i < Math.min(start + BATCH, limit); i++) keys.push(logKey(prefix, i));
    const present = await redis.exists(...keys);
    if (present === keys.length) return [];
    const each = await Promise.all(keys.map((k) => redis.exists(k)));
    return each.flatMap((e, j) => (e === 0 ? [start + j] : []));
  };
  const inFlight: Array<Promise<number[]>> = [];
  for (let k = 0; k < Math.min(WINDOW, batches.length); k++) inFlight.push(check(batches[k]));
  for (let k = 0; k < batches.length; k++) {
    try {
      opts.signal?.throwIfAborted();
      const missing = await inFlight[k];
      if (k + WINDOW < batches.length) inFlight.push(check(batches[k + WINDOW]));
      for (const index of missing) addMissing(report, index);
      opts.onProgress?.(prefix, Math.min(batches[k] + BATCH, limit), limit);
    } catch (e) {
      // Batch k too: on cancellation it was never awaited. Nobody awaits the ones in flight.
      for (let j = k; j < inFlight.length; j++) inFlight[j].catch(() => undefined);
      throw e;
    }
  }
  return report;
}

function addMissing(r: JournalGaps, index: number): void {
  r.missing++;
  const lastRange = r.ranges[r.ranges.length - 1];
  if (lastRange && lastRange[1] === index - 1) lastRange[1] = index;
  else if (r.ranges.length < MAX_RANGES) r.ranges.push([index, index]);
}

/** Every journal prefix on the server, scanned for gaps. */
export async function scanAllJournals(
  redis: Redis,
  opts: ScanOptions = {},
): Promise<{ journals: JournalGaps[]; prefixesComplete: boolean }> {
  const { prefixes, complete } = await discoverPrefixes(redis);
  const journals: JournalGaps[] = [];
  for (const p of prefixes) journals.push(await scanJournalGaps(redis, p, opts));
  return { journals, prefixesComplete: complete };
}

/** "log:0–41, log:57" for messages. */
export function describeRanges(prefix: string, ranges: Array<[number, number]>): string {
  return ranges
    .map(([a, b]) => (a === b ? `${prefix}:log:${a}` : `${prefix}:log:${a}–${b}`))
    .join(', ');
}
