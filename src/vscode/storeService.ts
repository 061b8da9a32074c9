import * as vscode from 'vscode';
import { Disposable } from './lifecycle';
import { FailoverStore, type RefreshSummary } from '../core/storage/failoverStore';
import { type StateEvent, offlineState, startingState } from '../core/storage/storeState';
import type { MergedStudy } from '../core/storage/mergedView';
import { redactUrl } from '../core/redis/url';
import { PasswordStore } from './secrets';
import { type Settings, readSettings } from './settings';

/**
 * Owns the failover store for the views and the status bar: builds it from settings and the
 * stored password, rebuilds it when those change, and turns its events into VS Code events.
 */
export class StoreService extends Disposable {
  private store: FailoverStore | undefined;
  /** The store once `start()` settled its first state: only its reads make `loaded` true. */
  private started: FailoverStore | undefined;
  private generation = 0;
  private readonly stateEmitter = this._register(new vscode.EventEmitter<StateEvent>());
  private readonly dataEmitter = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidChangeData = this.dataEmitter.event;
  settings: Settings;
  state: StateEvent = startingState(Date.now());
  /** False until the first refresh after (re)start finished: views show a loading node. */
  loaded = false;
  lastError: string | undefined;
  lastRefreshAt: number | undefined;
  /** Epoch ms when studies were first available to the views. */
  firstStudiesAt: number | undefined;

  constructor(
    private readonly passwords: PasswordStore,
    private readonly log: vscode.LogOutputChannel,
    /** Where large journals' replays are cached between sessions (extension global storage). */
    private readonly cacheDir?: string,
    /** dist/sqliteWorker.js: the fallback file is read off the extension host's main thread. */
    private readonly sqliteWorkerFile?: string,
  ) {
    super();
    this.settings = readSettings();
  }

  get current(): FailoverStore | undefined {
    return this.store;
  }

  /**
   * (Re)creates the store from the current settings; resolves once its first state is known.
   * Never rejects: callers fire and forget it, and a rejection's message (a URL that did not
   * parse) would end up in the extension host's persisted log.
   */
  async start(): Promise<void> {
    const gen = ++this.generation;
    try {
      await this.startStore(gen);
    } catch (e) {
      if (gen !== this.generation) return;
      const detail = `cannot start the store: ${redactUrl((e as Error).message ?? String(e))}`;
      this.log.warn(detail);
      this.setState(offlineState('settings-invalid', detail, Date.now()));
      this.loaded = true;
      this.dataEmitter.fire();
    }
  }

  private async startStore(gen: number): Promise<void> {
    this.store?.close();
    this.store = undefined;
    this.loaded = false;
    // The old store's state is not the new one's: "starting" until the new store reports.
    this.setState(startingState(Date.now()));
    this.lastError = undefined;
    let settings: Settings;
    try {
      settings = readSettings();
    } catch (e) {
      this.settings = { ...this.settings };
      const message = `invalid settings: ${(e as Error).message}`;
      this.setState(offlineState('settings-invalid', message, Date.now()));
      this.loaded = true;
      this.dataEmitter.fire();
      return;
    }
    this.settings = settings;
    this.startedWith = signature(settings);
    const password = settings.redisUrl
      ? await this.passwords
          .get(settings.redisUrl, settings.sentinel)
          .then(undefined, () => undefined)
      : undefined;
    if (password === undefined && settings.redisUrl && settings.sentinel)
      void this.offerPassword(settings, gen);
    if (gen !== this.generation) return;
    const store = new FailoverStore({
      redisUrl: settings.redisUrl || undefined,
      password,
      sentinel: settings.sentinel,
      prefixes: settings.prefixes,
      sqlitePath: settings.sqlitePath,
      settings: settings.connection,
      cacheDir: this.cacheDir,
      sqliteWorkerFile: this.sqliteWorkerFile,
    });
    this.store = store;
    const onState = (e: StateEvent) => {
      if (gen === this.generation) this.setState(e);
    };
    store.on('state', onState);
    store.on('cause', onState);
    store.on('data', () => {
      if (gen === this.generation) this.dataEmitter.fire();
    });
    this.log.info(
      `store: redis ${settings.redisUrl ? (settings.sentinel ? `via sentinels ${settings.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}` : store.options.redisUrl && redactUrl(store.options.redisUrl)) : '(none)'}, prefixes ${settings.prefixes ? JSON.stringify(settings.prefixes) : '(all)'}, SQLite fallback ${settings.sqlitePath ?? '(none)'}`,
    );
    await store.start();
    if (gen !== this.generation) return;
    this.started = store;
    // Fresh: a read begun while the store was still connecting read no journal.
    await this.refresh({ fresh: true, reason: 'start' });
  }

  /**
   * Sentinels name the host that receives the password, and a workspace can set them: a
   * password stored for the URL alone is sent through sentinels only once the user agrees,
   * and is then kept for exactly that endpoint (sentinels and master name).
   */
  private async offerPassword(settings: Settings, gen: number): Promise<void> {
    const url = settings.redisUrl;
    const sentinel = settings.sentinel!;
    const plain = await this.passwords.get(url).then(undefined, () => undefined);
    if (plain === undefined) return;
    const list = sentinel.sentinels.map((x) => `${x.host}:${x.port}`).join(', ');
    const send = 'Send Password';
    const choice = await vscode.window.showWarningMessage(
      `The Redis password stored for ${redactUrl(url)} has not been used with the sentinels ${list} (master "${sentinel.name}"). ` +
        'They decide which server receives it, and workspace settings can set them. Send it to the master they name?',
      send,
      'Not Now',
    );
    if (choice !== send) {
      this.log.warn(`store: the stored password was not sent through sentinels ${list}`);
      return;
    }
    await this.passwords.set(url, plain, sentinel);
    if (gen === this.generation) await this.start();
  }

  private batching = 0;

  /**
   * Runs `fn` (which changes several connection settings) without a rebuild per setting; the
   * caller starts the store once afterwards.
   */
  async withoutRestarts<T>(fn: () => Promise<T>): Promise<T> {
    this.batching++;
    try {
      return await fn();
    } finally {
      this.batching--;
    }
  }

  /** The connection settings the current store was built from. */
  private startedWith: string | undefined;

  /**
   * A connection setting changed: a new store, unless a command is changing several (it
   * starts the store itself), or the change only repeats what the store was built from (a
   * late event of such a command).
   */
  settingsChanged(): void {
    if (this.batching > 0) return;
    try {
      if (signature(readSettings()) === this.startedWith) return;
    } catch {
      // invalid settings: start() says so
    }
    void this.start();
  }

  /** Picks up settings that need no new store (refresh interval, page size). */
  reloadSettings(): void {
    try {
      this.settings = readSettings();
    } catch (e) {
      this.log.warn(`settings: ${(e as Error).message}`);
    }
  }

  private setState(e: StateEvent): void {
    const changed = e.state !== this.state.state || e.degraded !== this.state.degraded;
    this.state = e;
    if (changed) this.log.info(`state: ${e.state}${e.degraded ? ' (degraded)' : ''}: ${e.detail}`);
    this.stateEmitter.fire(e);
  }

  /**
   * Reads what is new. Never rejects: failures become `lastError` and a log line. Called by
   * `start` for the first read, and otherwise only by the RefreshManager, with its reason.
   */
  async refresh(opts: {
    reason: string;
    rediscover?: boolean;
    fresh?: boolean;
  }): Promise<RefreshSummary | undefined> {
    const store = this.store;
    if (!store) return undefined;
    const wasLoaded = this.loaded;
    const afterStart = store === this.started;
    const t0 = Date.now();
    try {
      const r = await store.refresh({ rediscover: opts.rediscover, fresh: opts.fresh });
      this.lastError = r.errors[0];
      for (const err of r.errors) this.log.warn(`refresh: ${err}`);
      this.lastRefreshAt = Date.now();
      if (this.firstStudiesAt === undefined && store.studies().length > 0)
        this.firstStudiesAt = this.lastRefreshAt;
      // A large read (the first of a big journal) is worth a line with where its time went.
      if (r.redisEntries > 0)
        this.log[r.redisEntries >= 10_000 ? 'info' : 'debug'](
          `refresh (${opts.reason}): ${r.redisEntries} new journal entries in ${this.lastRefreshAt - t0} ms (waiting for Redis ${r.redisWaitMs.toFixed(0)} ms, replay ${r.replayMs.toFixed(0)} ms)`,
        );
      return r;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log.error(`refresh failed: ${this.lastError}`);
      return undefined;
    } finally {
      if (store === this.store && afterStart) {
        this.loaded = true;
        if (!wasLoaded) this.dataEmitter.fire();
      }
    }
  }

  studies(): MergedStudy[] {
    return this.store?.studies() ?? [];
  }

  findStudy(key: string): MergedStudy | undefined {
    return this.studies().find((s) => s.key === key);
  }

  reconnect(): void {
    this.store?.reconnect();
  }

  override dispose(): void {
    this.generation++;
    this.store?.close();
    this.store = undefined;
    super.dispose();
  }
}

/** What makes a store: two stores built from equal signatures read the same. */
function signature(s: Settings): string {
  return JSON.stringify([s.redisUrl, s.prefixes, s.sentinel, s.sqlitePath, s.connection]);
}
