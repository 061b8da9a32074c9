import { setMaxListeners } from 'node:events';
import { FailoverStore } from '../../storage/failoverStore';
import type { StateEvent } from '../../storage/storeState';
import { pollUntil, raceAbort, sleep } from '../../abort';
import { SuiteCancelled } from '../abort';
import { type ScenarioContext, errorMessage } from '../context';
import type { DisposableRedis } from '../disposableRedis';
import { JournalWorker } from '../journalWorker';
import { floatDistribution } from '../../optuna/distributions';
import { FALLBACK_STUDY } from '../scratchSqlite';
import type { PythonWriters, WriterTrial } from '../pythonWriters';
import { startPythonWriters } from './outagePythonWriters';

const X = floatDistribution(-10, 10);
/** The study the journal writers write (the Python writers' is PY_STUDY, same prefix). */
export const STUDY = 'suite-outage';
const WRITERS = 3;

/** A trial a journal writer finished and Redis acknowledged: it must be there after the outage. */
export interface Claim {
  worker: number;
  trialId: number;
  number: number;
  value: number;
  startedAt: number;
  finishedAt: number;
}

/**
 * A disposable redis-server with the user's settings, optimizer-like writers appending to it
 * (retrying while it is down), and the failover store reading it with the SQLite fallback,
 * refreshed every 50 ms as a visible view would be: what both outage scenarios run.
 */
export class OutageRun {
  readonly claims: Claim[] = [];
  readonly errors: string[] = [];
  readonly events: StateEvent[] = [];
  private readonly writers: JournalWorker[] = [];
  private readonly stopWriters = new AbortController();
  private loops: Array<Promise<void>> = [];
  private stopping = false;
  private refresher: NodeJS.Timeout | undefined;
  private readonly unlink: () => void;
  store!: FailoverStore;
  studyId = -1;
  /** Real optimizers on the companion's storage, when a Python with Optuna is available. */
  py: PythonWriters | undefined;
  /** Why there are no Python writers. */
  pySkipped: string | undefined;

  private constructor(
    private readonly ctx: ScenarioContext,
    readonly d: DisposableRedis,
  ) {
    setMaxListeners(0, this.stopWriters.signal);
    const stop = () => this.stopWriters.abort(new SuiteCancelled());
    ctx.signal.addEventListener('abort', stop, { once: true });
    this.unlink = () => ctx.signal.removeEventListener('abort', stop);
  }

  static async start(ctx: ScenarioContext): Promise<OutageRun> {
    const d = await ctx.startDisposable();
    ctx.log(
      `disposable redis-server on 127.0.0.1:${d.port} (${d.describeSettings()}); fallback ${ctx.fallback.scratch ? 'scratch file' : ctx.fallback.path}`,
    );
    const run = new OutageRun(ctx, d);
    try {
      await run.setup();
    } catch (e) {
      await run.close();
      throw e;
    }
    return run;
  }

  private async setup(): Promise<void> {
    const ctx = this.ctx;
    // Writers retry for as long as the outage may last, and are stopped explicitly at the end.
    const retryForMs = ctx.options.outageMs + 120_000;
    for (let i = 0; i < WRITERS; i++)
      this.writers.push(
        new JournalWorker({
          url: this.d.url,
          password: this.d.password,
          prefix: ctx.prefix,
          signal: this.stopWriters.signal,
          retryForMs,
        }),
      );
    await Promise.all(this.writers.map((w) => w.connect()));
    this.studyId = await this.writers[0].createStudy(STUDY);
    this.store = new FailoverStore({
      redisUrl: this.d.url,
      password: this.d.password,
      prefixes: [ctx.prefix],
      sqlitePath: ctx.fallback.path,
      settings: ctx.user.settings,
    });
    this.store.on('state', (e) => {
      this.events.push(e);
      ctx.log(`store: ${e.state} (${e.detail})`);
    });
    const writers = await startPythonWriters(ctx, this.d);
    if (typeof writers === 'string') this.pySkipped = writers;
    else this.py = writers;
  }

  /**
   * Waits until every Python writer told a trial on `storage` at or after `since` (one that
   * also satisfies `also`), adding to `problems` what went wrong. `ms`: from `since` until
   * the slowest writer's first trial there (null without writers, or when one never did).
   */
  async pyReach(
    storage: string,
    since: number,
    what: string,
    timeoutMs: number,
    problems: string[],
    also: (t: WriterTrial) => boolean = () => true,
  ): Promise<{ ms: number | null; reached: boolean }> {
    const py = this.py;
    if (!py) return { ms: null, reached: false };
    const reached = await py.waitEach(
      (t) => t.storage === storage && t.at >= since && also(t),
      timeoutMs,
      this.ctx.signal,
    );
    if (!reached)
      problems.push(
        py.errors.length > 0
          ? `Python ${py.errors[0]}`
          : `not every Python writer ${what} within ${timeoutMs / 1000} s`,
      );
    return { ms: py.slowest(storage, since), reached };
  }

  /**
   * Starts the store and the writers on the healthy server and waits until they all write
   * there (a few journal trials, every Python writer's first trial): where each outage begins.
   * Throws if the store does not start on Redis or a journal writer fails, as nothing after
   * would measure an outage.
   */
  async startOnRedis(problems: string[]): Promise<void> {
    const first = await raceAbort(this.store.start(), this.ctx.signal);
    if (first.state !== 'redis')
      throw new Error(`the failover store did not start on the disposable Redis: ${first.detail}`);
    this.refresher = setInterval(() => void this.store.refresh().catch(() => undefined), 50);
    this.loops = this.writers.map((w, i) => this.loop(w, i));
    await pollUntil(
      () => this.claims.length >= 5 || this.errors.length > 0,
      10_000,
      this.ctx.signal,
    );
    if (this.errors.length > 0) throw new Error(this.errors[0]);
    await this.pyReach('redis', 0, 'wrote on Redis', 60_000, problems);
  }

  private async loop(w: JournalWorker, i: number): Promise<void> {
    try {
      while (!this.stopping) {
        const startedAt = Date.now();
        const t = await w.createTrial(this.studyId);
        const x = ((t.trialId * 7919) % 2000) / 100 - 10;
        await w.setParam(t.trialId, 'x', X, x);
        await w.setState(t.trialId, 'COMPLETE', [x * x]);
        this.claims.push({
          worker: i,
          trialId: t.trialId,
          number: t.number,
          value: x * x,
          startedAt,
          finishedAt: Date.now(),
        });
        await sleep(20, this.stopWriters.signal);
      }
    } catch (e) {
      if (!(e instanceof SuiteCancelled)) this.errors.push(`writer ${i}: ${errorMessage(e)}`);
    }
  }

  /** Lets each writer finish the trial it is on, then stops them. */
  async stopWriting(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const t = setTimeout(() => this.stopWriters.abort(new SuiteCancelled()), graceMs);
    await Promise.all(this.loops);
    clearTimeout(t);
  }

  /** The first state event (from now or already current) that satisfies `pred`, or undefined after `timeoutMs`. */
  waitState(pred: (e: StateEvent) => boolean, timeoutMs: number): Promise<StateEvent | undefined> {
    if (pred(this.store.state)) return Promise.resolve(this.store.state);
    return raceAbort(
      new Promise<StateEvent | undefined>((resolve) => {
        const t = setTimeout(() => {
          this.store.off('state', on);
          resolve(undefined);
        }, timeoutMs);
        const on = (e: StateEvent) => {
          if (!pred(e)) return;
          clearTimeout(t);
          this.store.off('state', on);
          resolve(e);
        };
        this.store.on('state', on);
      }),
      this.ctx.signal,
    );
  }

  /** Kills the server; resolves with when, and the failover store's switch (if it came). */
  async crash(): Promise<{ killedAt: number; event?: StateEvent }> {
    const killedAt = Date.now();
    await this.d.kill();
    this.ctx.log('disposable redis-server killed (SIGKILL)');
    const event = await this.waitState((e) => e.state !== 'redis', 15_000);
    return { killedAt, event };
  }

  /** What to say about a failed switch. */
  failoverProblem(event: StateEvent | undefined, what = 'was killed'): string | undefined {
    if (!event)
      return `the store still reported Redis 15 s after the server ${what} (${this.store.state.detail})`;
    if (event.state === 'offline')
      return `the store went offline instead of serving the SQLite fallback: ${event.detail}`;
    return undefined;
  }

  /** Whether the store now serves the SQLite fallback (and still shows what it read from Redis). */
  fallbackServed(): { served: boolean; keptRedis: boolean; studies: number; why?: string } {
    const studies = this.store.studies();
    const fromSqlite = studies.filter((s) => s.sqlite);
    const keptRedis = studies.some((s) => s.redis && s.name === STUDY);
    let served = this.store.state.state === 'sqlite';
    let why: string | undefined = served
      ? undefined
      : `the store is ${this.store.state.state}: ${this.store.state.detail}`;
    if (served && this.ctx.fallback.scratch && !fromSqlite.some((s) => s.name === FALLBACK_STUDY)) {
      served = false;
      why = 'the SQLite fallback study is not shown';
    }
    return { served, keptRedis, studies: fromSqlite.length, why };
  }

  /** A note on the disposable server's persistence, for explaining data lost in a crash. */
  persistenceNote(): string {
    return `the disposable server ran with ${this.d.describeSettings()}: a crashed Redis keeps only what it persisted (appendonly yes keeps every acknowledged append)`;
  }

  async close(): Promise<void> {
    await this.py?.dispose();
    this.stopping = true;
    this.stopWriters.abort(new SuiteCancelled());
    clearInterval(this.refresher);
    await Promise.all(this.loops);
    for (const w of this.writers) w.close();
    this.store?.close();
    this.unlink();
    await this.d.dispose();
  }
}
