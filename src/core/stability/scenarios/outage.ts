import { setMaxListeners } from 'node:events';
import * as path from 'node:path';
import { FailoverStore } from '../../storage/failoverStore';
import type { StateEvent } from '../../storage/storeState';
import { pollUntil, raceAbort, sleep } from '../../abort';
import { SuiteCancelled } from '../abort';
import { connectOnce } from '../../redis/connect';
import {
  type Scenario,
  type ScenarioContext,
  type ScenarioOutcome,
  errorMessage,
  plural,
  readBack,
  verdict,
} from '../context';
import type { DisposableRedis } from '../disposableRedis';
import { JournalWorker } from '../journalWorker';
import { floatDistribution } from '../../optuna/distributions';
import { PROMISES, check } from '../scenarios';
import { FALLBACK_STUDY } from '../scratchSqlite';
import { SqliteReader } from '../../storage/sqliteReader';
import { round } from '../stats';
import type { Check } from '../types';
import { PythonWriters, type WriterTrial, tallyWriters } from '../pythonWriters';
import { tallyProblems, writerReport } from './writerReport';

const X = floatDistribution(-10, 10);
export const STUDY = 'suite-outage';
/** The study the Python writers optimize (beside the journal writers' STUDY, same prefix). */
export const PY_STUDY = 'suite-outage-python';
const WRITERS = 3;

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
    const companion = await ctx.companion();
    if (typeof companion === 'string') {
      this.pySkipped = companion;
      ctx.log(`no Python writers: ${companion}`);
      return;
    }
    this.py = new PythonWriters(companion, {
      url: this.d.url,
      password: this.d.password,
      prefix: ctx.prefix,
      // Their own fallback file: the user's is only ever read.
      sqlitePath: path.join(ctx.tempDir, `${ctx.id}-writers.db`),
      study: PY_STUDY,
      cwd: ctx.tempDir,
    });
    ctx.log(
      `${this.py.count} Python writers on the companion's storage (${companion.python}, Optuna ${companion.optuna}) optimizing ${PY_STUDY}`,
    );
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

  async startStore(): Promise<StateEvent> {
    const first = await raceAbort(this.store.start(), this.ctx.signal);
    this.refresher = setInterval(() => void this.store.refresh().catch(() => undefined), 50);
    return first;
  }

  startWriting(): void {
    this.loops = this.writers.map((w, i) => this.loop(w, i));
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

function failoverCheck(ms: number | null): Check {
  return check(
    'failover_ms',
    'time to serve the SQLite fallback',
    `< ${PROMISES.failoverMs} ms`,
    ms === null ? null : `${ms} ms`,
    ms !== null && ms < PROMISES.failoverMs,
  );
}

/**
 * Redis becomes unreachable while optimizers write, twice: first it freezes (SIGSTOP: no
 * answer, no connection reset — a hung server or a network partition, noticed only by the
 * health-check PING), then, once it is back, it crashes (SIGKILL: connections reset).
 * Measures how long the store takes each time to serve the SQLite fallback; `failover_ms` is
 * the slower of the two.
 */
export const failover: Scenario = async (ctx): Promise<ScenarioOutcome> => {
  const run = await OutageRun.start(ctx);
  try {
    const problems: string[] = [];
    // How long the store needs to load the fallback, with the reader it uses (read-only).
    let readMs: number | undefined;
    const reader = new SqliteReader(ctx.fallback.path);
    try {
      const t0 = performance.now();
      const n = reader.readAll().length;
      readMs = performance.now() - t0;
      ctx.log(
        `SQLite fallback ${ctx.fallback.scratch ? '(scratch file)' : ctx.fallback.path}: ${plural(n, 'study', 'studies')}, read in ${round(readMs, 1)} ms`,
      );
    } catch (e) {
      // Nothing to fail over to: say so once, instead of after two outages.
      const message = `the SQLite fallback cannot be read (${errorMessage(e)}): while Redis is unreachable the store would be offline`;
      return {
        status: 'failed',
        message,
        checks: [check('fallback_served', 'SQLite fallback served', 'yes', 'no', false)],
        server: 'disposable',
        metrics: { failover_ms: null, fallback: ctx.fallback.path },
      };
    } finally {
      reader.close();
    }
    const first = await run.startStore();
    if (first.state !== 'redis')
      throw new Error(`the failover store did not start on the disposable Redis: ${first.detail}`);
    run.startWriting();
    await pollUntil(() => run.claims.length >= 5 || run.errors.length > 0, 10_000, ctx.signal);
    if (run.errors.length > 0) throw new Error(run.errors[0]);
    await run.pyReach('redis', 0, 'wrote on Redis', 60_000, problems);
    await run.store.refresh();

    const frozenAt = Date.now();
    run.d.freeze();
    ctx.log('disposable redis-server frozen (SIGSTOP)');
    const frozen = await run.waitState((e) => e.state !== 'redis', 15_000);
    const freezeMs = frozen && frozen.state !== 'offline' ? frozen.at - frozenAt : null;
    const pf = run.failoverProblem(frozen, 'froze');
    if (pf) problems.push(pf);
    const fbFrozen = pf ? undefined : run.fallbackServed();
    // The writers notice a frozen server by their command timeout; they must be on SQLite
    // before the server continues.
    const pyFreeze = await run.pyReach(
      'sqlite',
      frozenAt,
      'wrote on SQLite while Redis was frozen',
      30_000,
      problems,
    );
    const thawedAt = Date.now();
    run.d.thaw();
    ctx.log(
      `the store served the fallback ${freezeMs ?? '—'} ms after the freeze; server continued (SIGCONT)`,
    );
    if (!(await run.waitState((e) => e.state === 'redis', 15_000)))
      problems.push(
        `the store did not return to Redis within 15 s of SIGCONT (${run.store.state.detail})`,
      );
    const before = run.claims.length;
    await pollUntil(
      () => run.claims.length >= before + 3 || run.errors.length > 0,
      10_000,
      ctx.signal,
    );
    // Back on Redis, with what they wrote on SQLite reconciled: every trial told so far must
    // now be in Redis once.
    const pyBack = await run.pyReach(
      'redis',
      thawedAt,
      'wrote on Redis again with its SQLite trials reconciled',
      60_000,
      problems,
      (t) => t.pending === 0,
    );
    let tally: ReturnType<typeof tallyWriters> | undefined;
    if (run.py && pyBack.reached) {
      const readAt = Date.now();
      const verifier = await connectOnce(run.d.url, { password: run.d.password });
      try {
        const fresh = await readBack(verifier, ctx.prefix);
        tally = tallyWriters(
          run.py.trials.filter((t) => t.at < readAt),
          fresh.studies.find((st) => st.name === PY_STUDY),
          false,
        );
        problems.push(...tallyProblems(tally));
      } finally {
        verifier.disconnect();
      }
    }

    const { killedAt, event } = await run.crash();
    const crashMs = event && event.state !== 'offline' ? event.at - killedAt : null;
    const p = run.failoverProblem(event, 'was killed');
    if (p) problems.push(p);
    const fb = run.fallbackServed();
    ctx.log(
      `failover after ${crashMs ?? '—'} ms (${plural(fb.studies, 'study', 'studies')} from SQLite shown)`,
    );
    const served = fb.served && (fbFrozen === undefined || fbFrozen.served);
    if (!p && !fb.served) problems.push(`the SQLite fallback is not served: ${fb.why}`);
    else if (fbFrozen && !fbFrozen.served)
      problems.push(`the SQLite fallback is not served while Redis is frozen: ${fbFrozen.why}`);
    if (!fb.keptRedis)
      problems.push('the studies read from Redis before the outage are no longer shown');
    const pyCrash = await run.pyReach(
      'sqlite',
      killedAt,
      'wrote on SQLite after Redis was killed',
      30_000,
      problems,
    );
    await run.py?.stop(false, 15_000);
    if (run.py && run.py.errors.length > 0) problems.push(`Python ${run.py.errors[0]}`);
    const failoverMs = freezeMs === null || crashMs === null ? null : Math.max(freezeMs, crashMs);
    const pyFailoverMs =
      pyFreeze.ms === null || pyCrash.ms === null ? null : Math.max(pyFreeze.ms, pyCrash.ms);
    const writers = writerReport(
      run,
      { failoverMs: pyFailoverMs, recoveryMs: pyBack.ms, tally },
      { writers_failover_freeze_ms: pyFreeze.ms, writers_failover_crash_ms: pyCrash.ms },
    );
    const checks = [
      failoverCheck(failoverMs),
      check('fallback_served', 'SQLite fallback served', 'yes', served ? 'yes' : 'no', served),
      ...writers.checks,
    ];
    const v = verdict(
      checks,
      problems,
      `the store served the SQLite fallback ${freezeMs} ms after Redis froze and ${crashMs} ms after it was killed (the fallback loads in ${round(readMs, 0)} ms)${writers.headline}`,
    );
    return {
      ...v,
      checks,
      server: 'disposable',
      prefix: ctx.prefix,
      metrics: {
        failover_ms: failoverMs,
        failover_freeze_ms: freezeMs,
        failover_crash_ms: crashMs,
        fallback_read_ms: round(readMs, 1),
        fallback_studies: fb.studies,
        trials_written: run.claims.length,
        fallback: ctx.fallback.scratch ? 'scratch' : ctx.fallback.path,
        ...writers.metrics,
      },
    };
  } finally {
    await run.close();
  }
};
