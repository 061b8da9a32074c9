import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { raceAbort } from '../abort';
import type { JournalActivity } from '../optuna/activity';
import type { ReadIssue } from '../optuna/model';
import type { LinkStatus } from '../redis/link';
import { type MergedStudy, mergeStudies } from './mergedView';
import { type FailoverOptions, type StoreLink, type StoreParts, storeParts } from './storeParts';
import { type StateEvent, type StoreInputs, startingState, transition } from './storeState';
import type { JournalSource } from './studySource';

export interface RefreshSummary {
  redisEntries: number;
  /** Of the read's time: waiting for Redis' replies, and replaying the entries (ms). */
  redisWaitMs: number;
  replayMs: number;
  sqliteReloaded: boolean;
  errors: string[];
}

export interface RefreshOptions {
  /** Scan the server for new journal prefixes now, not only every `rediscoverMs`. */
  rediscover?: boolean;
  /** Read anew rather than share a read that began before this call (it may predate a write). */
  fresh?: boolean;
  /** Ends this caller's wait; the read itself stops once no caller waits for it any more. */
  signal?: AbortSignal;
}

/** How long after new data is shown the local replay cache is written. */
const CACHE_SAVE_DELAY_MS = 2000;

/**
 * The failover store every view reads from: Redis first, the SQLite fallback file while Redis
 * is unreachable, and back to Redis — resuming each journal where it stopped — once Redis
 * answers again. The studies it shows are the merge of both sources. Its state follows the
 * pure transition in storeState.ts, fed by the link's health and the fallback's status.
 */
/**
 * Events: `state` when the state or degradation changes, `cause` when the state stays but
 * its reason changes (for the views), `data` after a read that changed the studies.
 */
export class FailoverStore extends EventEmitter<{
  state: [StateEvent];
  cause: [StateEvent];
  data: [];
}> {
  private link: StoreLink | undefined;
  private readonly journals = new Map<string, JournalSource>();
  private lastDiscovery = 0;
  private discoveryComplete = true;
  private running: SharedRefresh | undefined;
  /** Aborted when Redis goes away during a read: a frozen server would hold it until the timeout. */
  private redisRead: AbortController | undefined;
  private closed = false;
  private cacheSave: NodeJS.Timeout | undefined;
  /** The merged view, rebuilt only after a refresh that read something. */
  private merged: MergedStudy[] | undefined;
  state: StateEvent = startingState(Date.now());
  /** When Redis data was last read successfully (epoch ms). */
  redisReadAt: number | undefined;

  constructor(
    readonly options: FailoverOptions,
    private readonly parts: StoreParts = storeParts(options),
  ) {
    super();
  }

  get redisWhere(): string | undefined {
    return this.link?.where;
  }

  get linkStatus(): LinkStatus | undefined {
    return this.link?.status;
  }

  /** Connects and settles the first state (within the connect timeout). */
  async start(): Promise<StateEvent> {
    const open = this.parts.link;
    if (open) {
      const link = open();
      this.link = link;
      const settleMs = ((this.options.settings?.socketConnectTimeout ?? 2) + 0.5) * 1000;
      const settled = new Promise<void>((resolve) => {
        const t = setTimeout(resolve, settleMs);
        link.once('status', () => {
          clearTimeout(t);
          resolve();
        });
      });
      link.on('status', (st) => {
        if (!st.up) this.redisRead?.abort(new Error(st.reason ?? 'Redis went away'));
        this.evaluate();
      });
      link.start();
      await settled;
    }
    this.evaluate();
    return this.state;
  }

  private inputs(): StoreInputs {
    const { link } = this;
    const fallback = this.parts.fallback;
    return {
      redis: link && { where: link.where, status: link.status },
      fallback: fallback && { path: fallback.path, status: fallback.status() },
    };
  }

  /** Moves to the state the link and the fallback call for; emits when that is news. */
  private evaluate(): void {
    if (this.closed) return;
    const { next, news } = transition(this.state, this.inputs(), Date.now());
    this.state = next;
    if (news) this.emit(news, next);
  }

  /**
   * Reads what is new: each Redis journal from where it stopped (when Redis is up) and the
   * fallback file when it changed. A call while a read runs shares that read, unless it asks
   * for a fresh read or a rediscovery the running read does not make: then it reads again
   * after it (callers arriving meanwhile share that second read).
   */
  refresh(opts: RefreshOptions = {}): Promise<RefreshSummary> {
    const run = this.running;
    if (run && !opts.fresh && (run.rediscover || !opts.rediscover)) return run.join(opts.signal);
    if (run) {
      const after = { ...opts, fresh: false };
      return raceAbort(run.done, opts.signal).then(() => this.refresh(after));
    }
    const next: SharedRefresh = new SharedRefresh(!!opts.rediscover, async (signal) => {
      try {
        return await this.read(!!opts.rediscover, signal);
      } finally {
        // Before the callers resume: a call right after this one ends starts a new read.
        if (this.running === next) this.running = undefined;
      }
    });
    this.running = next;
    return next.join(opts.signal);
  }

  /** One read of every source; never rejects (failures are in `errors`). */
  private async read(rediscover: boolean, signal: AbortSignal): Promise<RefreshSummary> {
    const summary: RefreshSummary = {
      redisEntries: 0,
      redisWaitMs: 0,
      replayMs: 0,
      sqliteReloaded: false,
      errors: [],
    };
    let changed = false;
    const link = this.link;
    if (link?.status.up) {
      const redisRead = new AbortController();
      this.redisRead = redisRead;
      const forward = () => redisRead.abort(signal.reason);
      signal.addEventListener('abort', forward, { once: true });
      try {
        changed = await this.readJournals(link, rediscover, redisRead.signal, summary);
        this.redisReadAt = Date.now();
      } catch (e) {
        summary.errors.push((e as Error).message);
        await link.check(); // a read that failed usually means Redis just went away
      } finally {
        signal.removeEventListener('abort', forward);
        this.redisRead = undefined;
      }
    }
    const fallback = this.parts.fallback;
    if (fallback) {
      try {
        summary.sqliteReloaded = (await fallback.refresh(signal)).changed;
        changed ||= summary.sqliteReloaded;
      } catch (e) {
        const st = fallback.status();
        summary.errors.push(st.ok ? (e as Error).message : st.message);
      }
    }
    this.evaluate();
    if (changed && !this.closed) {
      this.merged = undefined;
      this.emit('data');
    }
    if (summary.redisEntries > 0) this.scheduleCacheSave();
    return summary;
  }

  /**
   * Writes the local replay cache of journals that read enough new entries, a moment after
   * the views had the new data: a 100,000-trial study is shown first, cached afterwards.
   */
  private scheduleCacheSave(): void {
    if (this.cacheSave) return;
    this.cacheSave = setTimeout(() => {
      this.cacheSave = undefined;
      if (this.closed) return;
      for (const j of this.journals.values()) {
        try {
          j.saveCacheIfDue?.();
        } catch {
          // A cache that cannot be written (disk full, permissions) only costs the next
          // session a full read.
        }
      }
    }, CACHE_SAVE_DELAY_MS);
    this.cacheSave.unref?.();
  }

  /** Reads every journal from where it stopped; whether any of them changed. */
  private async readJournals(
    link: StoreLink,
    rediscover: boolean,
    signal: AbortSignal,
    summary: RefreshSummary,
  ): Promise<boolean> {
    let prefixes = this.options.prefixes;
    if (!prefixes) {
      const due =
        rediscover ||
        this.journals.size === 0 ||
        Date.now() - this.lastDiscovery > (this.options.rediscoverMs ?? 30_000);
      if (due) {
        const found = await this.parts.discover(link, signal);
        this.discoveryComplete = found.complete;
        this.lastDiscovery = Date.now();
        for (const p of found.prefixes) this.journal(link, p);
      }
      prefixes = [...this.journals.keys()];
    }
    let changed = false;
    for (const p of prefixes) {
      const res = await this.journal(link, p).refresh(signal);
      summary.redisEntries += res.entries;
      summary.redisWaitMs += res.waitMs ?? 0;
      summary.replayMs += res.replayMs ?? 0;
      changed ||= res.changed;
    }
    return changed;
  }

  private journal(link: StoreLink, prefix: string): JournalSource {
    let j = this.journals.get(prefix);
    if (!j) {
      j = this.parts.journal(link, prefix);
      this.journals.set(prefix, j);
    }
    return j;
  }

  /** Journal prefixes read so far, and whether the last discovery scan finished. */
  prefixes(): { prefixes: string[]; complete: boolean } {
    return { prefixes: [...this.journals.keys()].sort(), complete: this.discoveryComplete };
  }

  /**
   * How far the journal reads in progress got (entries replayed, of those they read), for a
   * first read that takes seconds; undefined when no journal is being read.
   */
  progress(): { read: number; total: number } | undefined {
    let sum: { read: number; total: number } | undefined;
    for (const j of this.journals.values()) {
      const p = j.progress?.();
      if (p) sum = { read: (sum?.read ?? 0) + p.read, total: (sum?.total ?? 0) + p.total };
    }
    return sum;
  }

  /** Who wrote what in the journal under `prefix` (worker ids, for the stale-trial classifier). */
  journalActivity(prefix: string): JournalActivity | undefined {
    return this.journals.get(prefix)?.activity();
  }

  /** Problems found while reading (gaps, skipped entries), per prefix. */
  issues(): Array<{ prefix: string; issues: ReadIssue[] }> {
    return [...this.journals]
      .map(([prefix, j]) => ({ prefix, issues: j.issues() }))
      .filter((x) => x.issues.length > 0);
  }

  /**
   * Every study from both sources. A SQLite study whose name matches a Redis study of the
   * first prefix (the one the optimizers fall back from) is merged into it.
   */
  studies(): MergedStudy[] {
    if (!this.merged) {
      const primary =
        this.options.prefixes?.[0] ??
        (this.journals.has('') ? '' : [...this.journals.keys()].sort()[0]);
      const journals = new Map([...this.journals].map(([p, j]) => [p, j.studies()] as const));
      this.merged = mergeStudies(journals, this.parts.fallback?.studies() ?? [], primary);
    }
    return this.merged;
  }

  /** The Redis client of the store, for commands that write through Optuna's protocol. */
  get redisClient(): Redis | undefined {
    return this.link?.client;
  }

  reconnect(): void {
    this.link?.reconnect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.cacheSave);
    this.running?.abort.abort(new Error('the store was closed'));
    this.link?.close();
    for (const j of this.journals.values()) j.close();
    this.parts.fallback?.close();
    this.removeAllListeners();
  }
}

/**
 * One read in flight, shared by every caller that asks while it runs. A caller's signal ends
 * its own wait; the read is aborted only when every caller waiting for it has given up (a
 * caller without a signal keeps it running).
 */
class SharedRefresh {
  readonly abort = new AbortController();
  readonly promise: Promise<RefreshSummary>;
  /** Settles when the read ends, never rejects. */
  readonly done: Promise<void>;
  private waiting = 0;
  private kept = false;

  constructor(
    readonly rediscover: boolean,
    run: (signal: AbortSignal) => Promise<RefreshSummary>,
  ) {
    this.promise = run(this.abort.signal);
    this.done = this.promise.then(
      () => undefined,
      () => undefined,
    );
  }

  join(signal?: AbortSignal): Promise<RefreshSummary> {
    if (!signal) {
      this.kept = true;
      return this.promise;
    }
    const leave = () => {
      if (--this.waiting === 0 && !this.kept) this.abort.abort(signal.reason);
    };
    this.waiting++;
    if (signal.aborted) leave();
    else {
      signal.addEventListener('abort', leave, { once: true });
      void this.done.then(() => signal.removeEventListener('abort', leave));
    }
    return raceAbort(this.promise, signal);
  }
}
