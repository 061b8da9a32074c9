import type Redis from 'ioredis';
import { discoverPrefixes, logKey, logNumberKey, nextEntryIndex } from '../optuna/journal/redisLog';

/** Keys per EXISTS and EXISTS calls in flight: one round trip checks a thousand entries. */
const BATCH = 1000;
const WINDOW = 4;
/** Missing ranges kept in a report; the count is always exact. */
const MAX_RANGES = 50;
/** Missing entries in a row after which the next existing entry is searched for (SCAN). */
const GAP_PROBE = 20_000;

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

  const check = async (start: number): Promise<number[]> => {
    const keys: string[] = [];
    for (let i = start; i < Math.min(start + BATCH, limit); i++) keys.push(logKey(prefix, i));
    const present = await redis.exists(...keys);
    if (present === keys.length) return [];
    if (present === 0) return keys.map((_, j) => start + j);
    const each = await Promise.all(keys.map((k) => redis.exists(k)));
    return each.flatMap((e, j) => (e === 0 ? [start + j] : []));
  };
  let pos = 0;
  let inFlight: Array<{ start: number; missing: Promise<number[]> }> = [];
  const request = () => {
    while (inFlight.length < WINDOW && pos < limit) {
      inFlight.push({ start: pos, missing: check(pos) });
      pos += BATCH;
    }
  };
  // Nobody awaits the batches in flight once scanning stops.
  const drop = () => {
    inFlight.forEach((b) => b.missing.catch(() => undefined));
    inFlight = [];
  };
  let run = 0; // missing entries in a row up to the last one checked
  request();
  while (inFlight.length > 0) {
    const b = inFlight.shift()!;
    try {
      opts.signal?.throwIfAborted();
      const missing = await b.missing;
      const end = Math.min(b.start + BATCH, limit);
      for (const index of missing) addMissing(report, index);
      run =
        missing.length === end - b.start ? run + missing.length : end - 1 - lastOf(missing, end);
      opts.onProgress?.(prefix, end, limit);
      // A long run of missing entries: find the next entry that exists (one SCAN) instead of
      // checking every key a counter far beyond its entries names.
      if (run >= GAP_PROBE && pos < limit) {
        drop();
        const next = await nextEntryIndex(redis, prefix, end, opts.signal);
        // Nothing after it: every entry up to the counter is missing, known without checking.
        if (next === undefined) report.checked = entries;
        const resume = next === undefined ? limit : Math.min(next, limit);
        addMissingRange(report, end, (next === undefined ? entries : resume) - 1);
        opts.onProgress?.(prefix, resume, limit);
        pos = resume;
        run = 0;
      }
    } catch (e) {
      drop();
      b.missing.catch(() => undefined);
      throw e;
    }
    request();
  }
  return report;
}

/** The index after the last present entry of a batch [.., end) whose missing ones are given. */
function lastOf(missing: number[], end: number): number {
  let i = end - 1;
  for (let k = missing.length - 1; k >= 0 && missing[k] === i; k--) i--;
  return i;
}

/** Missing entries first..last (inclusive), counted exactly, kept as one range. */
function addMissingRange(r: JournalGaps, first: number, last: number): void {
  if (last < first) return;
  r.missing += last - first + 1;
  const lastRange = r.ranges[r.ranges.length - 1];
  if (lastRange && lastRange[1] === first - 1) lastRange[1] = last;
  else if (r.ranges.length < MAX_RANGES) r.ranges.push([first, last]);
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
