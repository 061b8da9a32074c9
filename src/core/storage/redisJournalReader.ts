import type Redis from 'ioredis';
import { raceAbort } from '../abort';
import { logKey, logNumberKey, nextEntryIndex, readLogNumber } from '../optuna/journal/redisLog';
import { type LogRanges, ownLogRanges, sharedLogRanges } from '../optuna/journal/redisRange';
import type { JournalActivity } from '../optuna/activity';
import type { MgetValues } from '../optuna/journal/mgetReplies';
import type { ReadIssue, Study } from '../optuna/model';
import { JournalReplay } from '../optuna/replay';
import { type ReplayCache, hashEntry } from './replayCache';
import type { JournalRefresh, JournalSource } from './studySource';
import type { SourceStatus } from './storeState';

/** Keys per MGET, and MGETs in flight at once: bounded memory, few round trips. */
const BATCH = 5000;
const WINDOW = 3;
/** Missing entries in a row after which the next existing entry is searched for (SCAN). */
const GAP_PROBE = 4 * BATCH;
/** Entries to read beyond which a connection of its own is opened for them. */
const OWN_CONNECTION_FROM = 2 * BATCH;

/**
 * One run of consecutive missing entries, reported as a single issue (index = the first,
 * count = how many): a journal that lost a million entries is one issue, not a million.
 */
class GapRun {
  readonly issue: ReadIssue;
  private beyond: number | undefined;
  constructor(
    private readonly prefix: string,
    first: number,
  ) {
    this.issue = { kind: 'gap', index: first, count: 1, message: '' };
    this.describe();
  }
  get count(): number {
    return this.issue.count!;
  }
  /** The index after the run. */
  get end(): number {
    return this.issue.index + this.count;
  }
  extend(n: number): void {
    this.issue.count! += n;
  }
  /** No entry exists after the run up to the counter's `last`. */
  noneAfter(last: number): void {
    this.beyond = last;
  }
  describe(): void {
    const first = logKey(this.prefix, this.issue.index);
    const n = this.count;
    this.issue.message =
      n === 1
        ? `journal entry ${first} is missing (evicted or deleted)`
        : `journal entries ${first} … ${logKey(this.prefix, this.end - 1)} are missing (${n} entries; evicted or deleted)`;
    if (this.beyond !== undefined)
      this.issue.message += `: no entry exists after ${first} although the counter ${logNumberKey(this.prefix)} says ${this.beyond + 1} entries (a counter set by hand, or the entries were lost); reading stopped there`;
  }
}

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
export class RedisJournalReader implements JournalSource {
  replay = new JournalReplay();
  /** Index of the next entry to read. */
  private next = 0;
  /** Text of entry `next - 1`, or null when that entry was a gap. */
  private lastEntry: Buffer | string | null = null;
  private triedCache = false;
  private unsaved = 0;
  /** The run of missing entries that ends at `next - 1`, while it lasts. */
  private gap: GapRun | undefined;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly cacheOptions?: ReaderCacheOptions,
  ) {}

  get label(): string {
    return `journal prefix ${JSON.stringify(this.prefix)}`;
  }

  studies(): Study[] {
    return this.replay.allStudies();
  }

  issues(): ReadIssue[] {
    return this.replay.issues;
  }

  activity(): JournalActivity {
    return this.replay.activity;
  }

  /** Always readable: gaps are issues, and a down server fails the refresh. */
  status(): SourceStatus {
    return { ok: true };
  }

  /** Nothing to release: the connection belongs to whoever made it. */
  close(): void {}

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

  /**
   * Writes the local replay cache once `saveEvery` entries were read since it was last
   * written. Never part of a refresh: callers write it after the new data was shown.
   */
  saveCacheIfDue(): void {
    const c = this.cacheOptions;
    if (c && this.unsaved >= (c.saveEvery ?? 5000)) this.saveCache();
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

  /** Records entry `index` as missing, extending the current run of missing entries. */
  private gapAt(index: number): void {
    this.replay.entriesRead++;
    if (this.gap && this.gap.end === index) this.gap.extend(1);
    else {
      this.gap = new GapRun(this.prefix, index);
      this.replay.issues.push(this.gap.issue);
    }
  }

  private closeGap(): void {
    this.gap?.describe();
    this.gap = undefined;
  }

  /** The entries the refresh in progress reads (inclusive), while it runs. */
  private reading: { from: number; to: number } | undefined;

  /** How far the refresh in progress got: entries replayed of those it reads. */
  progress(): { read: number; total: number } | undefined {
    const r = this.reading;
    return r && { read: this.next - r.from, total: r.to - r.from + 1 };
  }

  /** Index of the last entry read, -1 before the first. */
  get lastIndex(): number {
    return this.next - 1;
  }

  /**
   * Where entries are read from: a long read (a cold load) on a connection of its own, whose
   * replies are parsed without ioredis; a short one (a refresh) on the shared connection,
   * without opening another. A server that refuses the second connection (maxclients) still
   * gets read, through the shared one.
   */
  private async rangesFor(count: number, signal?: AbortSignal): Promise<LogRanges> {
    if (count > OWN_CONNECTION_FROM) {
      try {
        return await ownLogRanges(this.redis, this.prefix, signal);
      } catch (e) {
        if (signal?.aborted) throw e;
      }
    }
    return sharedLogRanges(this.redis, this.prefix);
  }

  /** Reads and replays entries `from` … `to`, WINDOW batches of BATCH in flight. */
  private async readRange(
    ranges: LogRanges,
    from: number,
    to: number,
    signal?: AbortSignal,
  ): Promise<{ waitMs: number; replayMs: number }> {
    let pos = from; // next index to request
    // Only the batches in flight are referenced: a reply is garbage once replayed (keeping
    // them all held a 1,000,000-entry journal's text in memory until the end, ~400 MB of RSS).
    let inFlight: Array<{ first: number; reply: Promise<MgetValues> }> = [];
    const request = () => {
      while (inFlight.length < WINDOW && pos <= to) {
        const first = pos;
        const lastOf = Math.min(first + BATCH - 1, to);
        inFlight.push({ first, reply: ranges.get(first, lastOf) });
        pos = lastOf + 1;
      }
    };
    // Later batches may reject once the connection is gone or reading stops: nobody awaits them.
    const drop = () => {
      inFlight.forEach((b) => b.reply.catch(() => undefined));
      inFlight = [];
    };
    request();
    let waitMs = 0;
    let replayMs = 0;
    while (inFlight.length > 0) {
      if (signal?.aborted) {
        drop();
        throw signal.reason ?? new Error('aborted');
      }
      const batch = inFlight.shift()!;
      let values: MgetValues;
      const waited = performance.now();
      try {
        values = await raceAbort(batch.reply, signal);
      } catch (e) {
        drop();
        throw e;
      }
      const replayed = performance.now();
      waitMs += replayed - waited;
      for (let j = 0; j < values.length; j++) {
        const text = values[j];
        if (text === null) this.gapAt(batch.first + j);
        else {
          this.closeGap();
          this.replay.applyText(batch.first + j, text);
        }
      }
      this.next = batch.first + values.length;
      this.lastEntry = values[values.length - 1];
      this.gap?.describe();
      replayMs += performance.now() - replayed;
      // A long run of missing entries: look for the next entry that exists instead of asking
      // for every key the counter names (a counter set to 10^9 by hand or by a bug would
      // otherwise mean 200,000 MGETs and an issue per key).
      if (this.gap && this.gap.count >= GAP_PROBE && this.next <= to) {
        drop();
        const following = await nextEntryIndex(this.redis, this.prefix, this.next, signal);
        const resume = following === undefined || following > to ? to + 1 : following;
        this.gap.extend(resume - this.next);
        this.replay.entriesRead += resume - this.next;
        if (following === undefined || following > to) this.gap.noneAfter(to);
        this.gap.describe();
        this.next = resume;
        this.lastEntry = null;
        pos = resume;
      }
      request();
    }
    return { waitMs, replayMs };
  }

  async refresh(signal?: AbortSignal): Promise<JournalRefresh> {
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
      if (last === null) return { entries: 0, reset, changed: reset };
    }
    const from = this.next;
    const to = last!; // inclusive
    this.reading = { from, to };
    let timings;
    try {
      const ranges = await this.rangesFor(to - from + 1, signal);
      try {
        timings = await this.readRange(ranges, from, to, signal);
      } finally {
        ranges.close();
      }
    } finally {
      this.reading = undefined;
    }
    const entries = to - from + 1;
    this.unsaved += entries;
    return { entries, reset, changed: entries > 0 || reset, ...timings };
  }
}
