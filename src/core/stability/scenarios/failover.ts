import { pollUntil } from '../../abort';
import { connectOnce } from '../../redis/connect';
import { SqliteReader } from '../../storage/sqliteReader';
import {
  type Scenario,
  type ScenarioOutcome,
  errorMessage,
  plural,
  readBack,
  verdict,
} from '../context';
import { PROMISES, check } from '../scenarios';
import { round } from '../stats';
import type { Check } from '../types';
import { OutageRun } from './outageRun';
import { tallyOnRedis, writerReport } from './outagePythonWriters';

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
    await run.startOnRedis(problems);
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
    let tally: ReturnType<typeof tallyOnRedis> | undefined;
    if (run.py && pyBack.reached) {
      const readAt = Date.now();
      const verifier = await connectOnce(run.d.url, { password: run.d.password });
      try {
        const fresh = await readBack(verifier, ctx.prefix);
        tally = tallyOnRedis(
          run.py.trials.filter((t) => t.at < readAt),
          fresh.studies,
          false,
          problems,
        );
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
