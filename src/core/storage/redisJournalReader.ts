import type Redis from 'ioredis';
import { raceAbort } from '../abort';
import { logKey, readLogNumber } from '../optuna/journal/redisLog';
import { JournalReplay } from '../optuna/replay';
import type { RefreshResult } from './journalFileReader';
import { type ReplayCache, hashEntry } from './replayCache';

/** Keys per MGET, and MGETs in flight at once: bounded memory, few round trips. */
const BATCH = 5000;
const WINDOW = 3;

export interface ReaderCacheOptions {
  cache: ReplayCache;
  /** Identifies server and prefix, e.g. "redis://127.0.0.1:6379/0|myprefix". */
  key: string;
  /** Save after at least this many new entries (default 5000). */
  saveEvery?: number;
}

/**
 * Reads a `JournalRedisStorage` log (keys `<prefix>:log_number`, `<prefix>:log:<n>`) with
 * batched MGETs, incrementally: each refresh reads only entries after the last one seen.
 * A missing entry (evicted or deleted key) is recorded as a gap and reading goes on; Optuna
 * itself would wait for it forever.
 */
export class RedisJournalReader {
  replay = new JournalReplay();
  /** Index of the next entry to read. */
  private next = 0;
  /** Text of entry `next - 1`, or null when that entry was a gap. */
  private lastEntry: Buffer | null = null;
  private triedCache = false;
  private unsaved = 0;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly cacheOptions?: ReaderCacheOptions,
  ) {}

  /**
   * Starts from the local replay cache when the journal still holds the entry the cache ended
   * with; otherwise from entry 0.
   */
  private async restoreFromCache(): Promise<boolean> {
    const c = this.cacheOptions;
    if (!c) return false;
    const cached = c.cache.load(c.key);
    if (!cached || cached.next <= 0) return false;
    const entry = await this.redis.getBuffer(logKey(this.prefix, cached.next - 1));
    if (!entry || hashEntry(entry) !== cached.lastEntryHash) {
      c.cache.delete(c.key);
      return false;
    }
    this.replay = new JournalReplay(cached.state);
    this.next = cached.next;
    this.lastEntry = entry;
    return true;
  }

  /** Writes the local replay cache (a no-op without one, or right after a gap). */
  saveCache(): void {
    const c = this.cacheOptions;
    if (!c || !this.lastEntry || this.unsaved === 0) return;
    c.cache.save(c.key, {
      next: this.next,
      lastEntryHash: hashEntry(this.lastEntry),
      state: this.replay.toState(),
    });
    this.unsaved = 0;
  }

  /** Index of the last entry read, -1 before the first. */
  get lastIndex(): number {
    return this.next - 1;
  }

  async refresh(signal?: AbortSignal): Promise<RefreshResult> {
    if (!this.triedCache) {
      this.triedCache = true;
      await this.restoreFromCache();
    }
    const last = await readLogNumber(this.redis, this.prefix, signal);
    let reset = false;
    if (last === null || last < this.next - 1) {
      // The journal was removed or rewritten under us: start again from what is there now.
      if (this.next > 0) {
        this.replay = new JournalReplay();
        this.next = 0;
        this.lastEntry = null;
        reset = true;
      }
      if (last === null) return { entries: 0, reset };
    }
    const from = this.next;
    const to = last!; // inclusive
    const batches: Array<[number, number]> = [];
    for (let i = from; i <= to; i += BATCH) batches.push([i, Math.min(i + BATCH - 1, to)]);

    // Buffers, not strings: ioredis decodes replies faster that way, and we decode once.
    // Only the batches in flight are referenced: a reply is garbage once replayed (keeping
    // them all held a 1,000,000-entry journal's text in memory until the end, ~400 MB of RSS).
    const inFlight: Array<Promise<Array<Buffer | null>>> = [];
    const fetch = (b: [number, number]) => {
      const keys: string[] = [];
      for (let i = b[0]; i <= b[1]; i++) keys.push(logKey(this.prefix, i));
      return this.redis.mgetBuffer(keys);
    };
    let requested = 0;
    while (requested < Math.min(WINDOW, batches.length)) inFlight.push(fetch(batches[requested++]));
    for (let k = 0; k < batches.length; k++) {
      if (signal?.aborted) {
        inFlight.forEach((p) => p.catch(() => undefined));
        throw signal.reason ?? new Error('aborted');
      }
      let values: Array<Buffer | null>;
      try {
        values = await raceAbort(inFlight.shift()!, signal);
      } catch (e) {
        // Later batches may reject too once the connection is gone: nobody awaits them.
        inFlight.forEach((p) => p.catch(() => undefined));
        throw e;
      }
      if (requested < batches.length) inFlight.push(fetch(batches[requested++]));
      const base = batches[k][0];
      for (let j = 0; j < values.length; j++) {
        const buf = values[j];
        const index = base + j;
        if (buf === null) {
          this.replay.entriesRead++;
          this.replay.issues.push({
            kind: 'gap',
            index,
            message: `journal entry ${logKey(this.prefix, index)} is missing (evicted or deleted)`,
          });
        } else {
          this.replay.applyText(index, buf.toString('utf8'));
        }
      }
      this.next = batches[k][1] + 1;
      this.lastEntry = values[values.length - 1];
    }
    const entries = to - from + 1;
    this.unsaved += entries;
    if (this.cacheOptions && this.unsaved >= (this.cacheOptions.saveEvery ?? 5000))
      this.saveCache();
    return { entries, reset };
  }
}
