import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { JournalActivity } from '../optuna/activity';
import type { Study } from '../optuna/model';
import type { ConnectionSettings, RedisCause, SentinelConfig } from '../redis/connect';
import { type LinkStatus, RedisLink } from '../redis/link';
import { type MergedStudy, mergeTrials } from './mergedView';
import { discoverPrefixes } from '../optuna/journal/redisLog';
import { RedisJournalReader } from './redisJournalReader';
import { ReplayCache } from './replayCache';
import { SqliteReader } from './sqliteReader';
import { SqliteWorkerReader } from './sqliteWorkerReader';

export type StoreState = 'redis' | 'sqlite' | 'offline';

/** Why Redis is not used (while the state is sqlite or offline): its failure, or none set up. */
export type StoreCause = RedisCause | 'not-configured';

/** A state transition: when, why, and whether Redis is slow or erroring (`degraded`). */
export interface StateEvent {
  state: StoreState;
  degraded: boolean;
  at: number;
  detail: string;
  latencyMs?: number;
  /** Set when Redis is not used, so that views can name the cause and the next step. */
  cause?: StoreCause;
}

export interface FailoverOptions {
  /** Redis URL (`redis://` or `rediss://`); with `sentinel`, only its db and credentials are used. */
  redisUrl?: string;
  password?: string;
  sentinel?: SentinelConfig;
  /** Journal prefixes to read; undefined discovers every prefix on the server. */
  prefixes?: string[];
  /** The SQLite fallback file (Optuna RDB) served when Redis is unreachable. */
  sqlitePath?: string;
  settings?: Partial<ConnectionSettings>;
  /** Folder for the local replay cache of large journals. */
  cacheDir?: string;
  /** How often a refresh re-scans the server for new journal prefixes. */
  rediscoverMs?: number;
  /**
   * The SQLite worker script (dist/sqliteWorker.js): the fallback file is then read in a
   * worker thread, never on the caller's thread (the extension host's main thread).
   */
  sqliteWorkerFile?: string;
}

export interface RefreshSummary {
  redisEntries: number;
  sqliteReloaded: boolean;
  errors: string[];
}

/**
 * The failover store every view reads from: Redis first, the SQLite fallback file while Redis
 * is unreachable, and back to Redis — resuming each journal where it stopped — once Redis
 * answers again. The studies it shows are the merge of both sources.
 */
export class FailoverStore extends EventEmitter<{
  state: [StateEvent];
  cause: [StateEvent];
  data: [];
}> {
  private link: RedisLink | undefined;
  private readonly readers = new Map<string, RedisJournalReader>();
  private sqlite: Pick<SqliteWorkerReader, 'readAll' | 'close'> | undefined;
  private sqliteStudies: Study[] = [];
  private sqliteToken = '';
  private sqliteError: string | undefined;
  private lastDiscovery = 0;
  private discoveryComplete = true;
  private running: Promise<RefreshSummary> | undefined;
  private refreshAbort: AbortController | undefined;
  private closed = false;
  private announced = false;
  private readonly cache: ReplayCache | undefined;
  /** The merged view, rebuilt only after a refresh that read something. */
  private merged: MergedStudy[] | undefined;
  state: StateEvent;
  /** When Redis data was last read successfully (epoch ms). */
  redisReadAt: number | undefined;

  constructor(readonly options: FailoverOptions) {
    super();
    this.cache = options.cacheDir ? new ReplayCache(options.cacheDir) : undefined;
    this.state = { state: 'offline', degraded: false, at: Date.now(), detail: 'starting' };
  }

  get redisWhere(): string | undefined {
    return this.link?.where;
  }

  get linkStatus(): LinkStatus | undefined {
    return this.link?.status;
  }

  /** Connects and settles the first state (within the connect timeout). */
  async start(): Promise<StateEvent> {
    if (this.options.redisUrl) {
      const link = new RedisLink(this.options.redisUrl, {
        password: this.options.password,
        sentinel: this.options.sentinel,
        settings: this.options.settings,
      });
      this.link = link;
      const settled = new Promise<void>((resolve) => {
        const t = setTimeout(
          resolve,
          ((this.options.settings?.socketConnectTimeout ?? 2) + 0.5) * 1000,
        );
        link.once('status', () => {
          clearTimeout(t);
          resolve();
        });
      });
      link.on('status', (st) => {
        // A read in flight on a server that just froze would wait for the command timeout.
        if (!st.up) this.refreshAbort?.abort(new Error(st.reason ?? 'Redis went away'));
        this.evaluate();
      });
      link.start();
      await settled;
    }
    // The first event is the initial state, even when nothing changed since construction.
    this.evaluate(!this.announced);
    return this.state;
  }

  /** Re-derives the state from Redis health and the fallback file; emits on a change. */
  private evaluate(force = false): void {
    if (this.closed) return;
    const s = this.link?.status;
    let next: StateEvent;
    if (s?.up) {
      next = {
        state: 'redis',
        degraded: s.degraded,
        at: Date.now(),
        latencyMs: s.latencyMs,
        detail: s.degraded
          ? `${this.link!.where} is slow: ${s.reason}`
          : `${this.link!.where} answered PING in ${s.latencyMs!.toFixed(1)} ms`,
      };
    } else {
      const why = this.link ? (s?.reason ?? 'Redis is unreachable') : 'no Redis configured';
      const cause: StoreCause | undefined = this.link ? s?.cause : 'not-configured';
      const fallback = this.checkSqlite();
      const serving = this.link
        ? `${why}; serving the SQLite fallback ${this.options.sqlitePath}`
        : `serving the SQLite file ${this.options.sqlitePath} (no Redis configured)`;
      next = fallback.ok
        ? { state: 'sqlite', degraded: false, at: Date.now(), detail: serving, cause }
        : {
            state: 'offline',
            degraded: false,
            at: Date.now(),
            detail: `${why}; ${fallback.why}`,
            cause,
          };
    }
    if (force || next.state !== this.state.state || next.degraded !== this.state.degraded) {
      this.state = next;
      this.announced = true;
      this.emit('state', next);
    } else {
      const newCause = next.cause !== this.state.cause;
      this.state = { ...next, at: this.state.at };
      // Same state, new reason (refused, then a wrong password): news for the views only.
      if (newCause) this.emit('cause', this.state);
    }
  }

  private checkSqlite(): { ok: true } | { ok: false; why: string } {
    const p = this.options.sqlitePath;
    if (!p) return { ok: false, why: 'no SQLite fallback file is configured' };
    if (!fs.existsSync(p)) return { ok: false, why: `the SQLite fallback ${p} does not exist yet` };
    if (this.sqliteError) return { ok: false, why: this.sqliteError };
    return { ok: true };
  }

  /**
   * Reads what is new: each Redis journal from where it stopped (when Redis is up) and the
   * SQLite file when it changed. Concurrent calls share one refresh.
   */
  refresh(opts: { rediscover?: boolean; signal?: AbortSignal } = {}): Promise<RefreshSummary> {
    this.running ??= this.doRefresh(opts).finally(() => (this.running = undefined));
    return this.running;
  }

  private async doRefresh(opts: {
    rediscover?: boolean;
    signal?: AbortSignal;
  }): Promise<RefreshSummary> {
    const summary: RefreshSummary = { redisEntries: 0, sqliteReloaded: false, errors: [] };
    if (this.link?.status.up) {
      const abort = new AbortController();
      this.refreshAbort = abort;
      const outer = opts.signal;
      const forward = () => abort.abort(outer?.reason);
      outer?.addEventListener('abort', forward, { once: true });
      try {
        await this.refreshRedis({ ...opts, signal: abort.signal }, summary);
        this.redisReadAt = Date.now();
      } catch (e) {
        summary.errors.push((e as Error).message);
        await this.link.check(); // a read that failed usually means Redis just went away
      } finally {
        outer?.removeEventListener('abort', forward);
        this.refreshAbort = undefined;
      }
    }
    try {
      summary.sqliteReloaded = await this.refreshSqlite();
    } catch (e) {
      summary.errors.push((e as Error).message);
    }
    this.evaluate();
    if (summary.redisEntries > 0 || summary.sqliteReloaded) {
      this.merged = undefined;
      this.emit('data');
    }
    return summary;
  }

  private async refreshRedis(
    opts: { rediscover?: boolean; signal?: AbortSignal },
    summary: RefreshSummary,
  ): Promise<void> {
    const client = this.link!.client;
    let prefixes = this.options.prefixes;
    if (!prefixes) {
      const due =
        opts.rediscover ||
        this.readers.size === 0 ||
        Date.now() - this.lastDiscovery > (this.options.rediscoverMs ?? 30_000);
      if (due) {
        const found = await discoverPrefixes(client, undefined, opts.signal);
        this.discoveryComplete = found.complete;
        this.lastDiscovery = Date.now();
        for (const p of found.prefixes) this.reader(p);
      }
      prefixes = [...this.readers.keys()];
    }
    for (const p of prefixes) {
      const r = this.reader(p);
      const res = await r.refresh(opts.signal);
      summary.redisEntries += res.entries;
    }
  }

  private reader(prefix: string): RedisJournalReader {
    let r = this.readers.get(prefix);
    if (!r) {
      const key = `${this.link!.where}|${prefix}`;
      r = new RedisJournalReader(
        this.link!.client,
        prefix,
        this.cache ? { cache: this.cache, key } : undefined,
      );
      this.readers.set(prefix, r);
    }
    return r;
  }

  /** Re-reads the SQLite file only when it (or its WAL) changed since the last read. */
  private async refreshSqlite(): Promise<boolean> {
    const p = this.options.sqlitePath;
    if (!p) return false;
    const token = fileToken(p) + fileToken(`${p}-wal`);
    if (token === this.sqliteToken) return false;
    this.sqliteToken = token;
    if (!fs.existsSync(p)) {
      this.sqlite?.close();
      this.sqlite = undefined;
      const had = this.sqliteStudies.length > 0;
      this.sqliteStudies = [];
      return had;
    }
    try {
      this.sqlite ??= this.options.sqliteWorkerFile
        ? new SqliteWorkerReader(p, this.options.sqliteWorkerFile)
        : inProcess(new SqliteReader(p));
      this.sqliteStudies = await this.sqlite.readAll();
      this.sqliteError = undefined;
    } catch (e) {
      this.sqlite?.close();
      this.sqlite = undefined;
      this.sqliteToken = ''; // try again next refresh
      this.sqliteError = `the SQLite fallback cannot be read: ${(e as Error).message}`;
      throw new Error(this.sqliteError, { cause: e });
    }
    return true;
  }

  /** Journal prefixes read so far, and whether the last discovery scan finished. */
  prefixes(): { prefixes: string[]; complete: boolean } {
    return { prefixes: [...this.readers.keys()].sort(), complete: this.discoveryComplete };
  }

  /** Who wrote what in the journal under `prefix` (worker ids, for the stale-trial classifier). */
  journalActivity(prefix: string): JournalActivity | undefined {
    return this.readers.get(prefix)?.replay.activity;
  }

  /** Problems found while reading (gaps, skipped entries), per prefix. */
  issues(): Array<{ prefix: string; issues: RedisJournalReader['replay']['issues'] }> {
    return [...this.readers]
      .map(([prefix, r]) => ({ prefix, issues: r.replay.issues }))
      .filter((x) => x.issues.length > 0);
  }

  /**
   * Every study from both sources. A SQLite study whose name matches a Redis study of the
   * first prefix (the one the optimizers fall back from) is merged into it.
   */
  studies(): MergedStudy[] {
    this.merged ??= this.merge();
    return this.merged;
  }

  private merge(): MergedStudy[] {
    const out: MergedStudy[] = [];
    const primary =
      this.options.prefixes?.[0] ??
      (this.readers.has('') ? '' : [...this.readers.keys()].sort()[0]);
    const sqliteByName = new Map(this.sqliteStudies.map((s) => [s.name, s]));
    const merged = new Set<string>();
    for (const [prefix, r] of [...this.readers].sort(([a], [b]) => a.localeCompare(b))) {
      for (const s of r.replay.allStudies()) {
        const twin = prefix === primary ? sqliteByName.get(s.name) : undefined;
        if (twin) merged.add(twin.name);
        out.push({
          key: `redis\u0000${prefix}\u0000${s.name}`,
          name: s.name,
          prefix,
          redis: s,
          sqlite: twin,
          trials: mergeTrials(s, twin),
        });
      }
    }
    for (const s of this.sqliteStudies) {
      if (merged.has(s.name)) continue;
      out.push({
        key: `sqlite\u0000${s.name}`,
        name: s.name,
        prefix: undefined,
        redis: undefined,
        sqlite: s,
        trials: mergeTrials(undefined, s),
      });
    }
    return out;
  }

  /** The Redis client of the store, for commands that write through Optuna's protocol. */
  get redisClient() {
    return this.link?.client;
  }

  reconnect(): void {
    this.link?.reconnect();
  }

  close(): void {
    this.closed = true;
    this.link?.close();
    this.sqlite?.close();
    this.removeAllListeners();
  }
}

function fileToken(p: string): string {
  try {
    const st = fs.statSync(p);
    return `${st.ino}:${st.size}:${st.mtimeMs};`;
  } catch {
    return '-;';
  }
}

/** An in-process reader behind the worker reader's (async) shape. */
function inProcess(r: SqliteReader): Pick<SqliteWorkerReader, 'readAll' | 'close'> {
  return { readAll: async () => r.readAll(), close: () => r.close() };
}
