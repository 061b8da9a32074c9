import type Redis from 'ioredis';
import { pollUntil, sleep } from '../../abort';
import { connectOnce } from '../../redis/connect';
import { SuiteCancelled } from '../abort';
import { type Scenario, errorMessage, plural, readBack, sameJson, verdict } from '../context';
import { PROMISES, check } from '../scenarios';
import { type Claim, OutageRun, STUDY } from './outageRun';
import { tallyOnRedis, writerReport } from './outagePythonWriters';

/**
 * Redis crashes and comes back while writers keep retrying: how long until the store reads
 * Redis again, and whether every trial finished before, during and after the outage is there.
 */
export const connectionRecovery: Scenario = async (ctx) => {
  const run = await OutageRun.start(ctx);
  let verifier: Redis | undefined;
  try {
    const problems: string[] = [];
    await run.startOnRedis(problems);
    const { killedAt, event } = await run.crash();
    const failoverMs = event && event.state !== 'offline' ? event.at - killedAt : null;
    const p = run.failoverProblem(event);
    if (p) problems.push(p);
    // The outage lasts until every Python writer is on SQLite, and at least outageMs.
    const pyDown = await run.pyReach(
      'sqlite',
      killedAt,
      'wrote on SQLite after Redis was killed',
      30_000,
      problems,
    );
    await sleep(Math.max(0, killedAt + ctx.options.outageMs - Date.now()), ctx.signal);
    const restartAt = Date.now();
    await run.d.restart(ctx.signal);
    const upAt = Date.now();
    ctx.log(
      `disposable redis-server restarted after an outage of ${upAt - killedAt} ms (answering ${upAt - restartAt} ms after its start)`,
    );
    const back = await pollUntil(
      () => run.store.state.state === 'redis' && (run.store.redisReadAt ?? 0) >= upAt,
      60_000,
      ctx.signal,
      10,
    );
    const recoveryMs = back ? Math.max(0, run.store.redisReadAt! - upAt) : null;
    if (!back)
      problems.push(
        `the store did not read from Redis again within 60 s of its return (${run.store.state.detail})`,
      );
    else ctx.log(`the store read from Redis again ${recoveryMs} ms after it answered`);
    // Every writer finishes at least one trial after the return, then they stop.
    await pollUntil(
      () =>
        run.errors.length > 0 ||
        [0, 1, 2].every((i) => run.claims.some((c) => c.worker === i && c.startedAt >= upAt)),
      15_000,
      ctx.signal,
    );
    const pyBack = await run.pyReach(
      'redis',
      upAt,
      'wrote on Redis again after its return',
      60_000,
      problems,
    );
    await run.stopWriting();
    if (run.errors.length > 0)
      problems.push(`${plural(run.errors.length, 'writer')} stopped: ${run.errors[0]}`);
    // Each Python writer ends as an optimizer does: back on Redis, its SQLite trials reconciled.
    await run.py?.stop(true);
    if (run.py && run.py.errors.length > 0) problems.push(`Python ${run.py.errors[0]}`);
    const notBack = run.py?.finalStorage().filter((st) => st !== 'redis') ?? [];
    if (notBack.length > 0)
      problems.push(`Python writers ended on ${notBack.join(', ')} instead of Redis`);
    let tally: ReturnType<typeof tallyOnRedis> | undefined;

    // Ground truth: a fresh full read of the restarted server, and the store's own view.
    const phase = (c: Claim) =>
      c.finishedAt < killedAt ? 'before' : c.startedAt >= upAt ? 'after' : 'during';
    const counts = { before: 0, during: 0, after: 0 };
    const lostBy = { before: 0, during: 0, after: 0 };
    for (const c of run.claims) counts[phase(c)]++;
    let lost: number | null = null;
    let duplicates: number | null = null;
    let orphaned: number | null = null;
    let storeMatches = false;
    try {
      verifier = await connectOnce(run.d.url, { password: run.d.password });
      const fresh = await readBack(verifier, ctx.prefix);
      const study = fresh.studies.find((s) => s.name === STUDY);
      const byId = new Map((study?.trials ?? []).map((t) => [t.trialId, t]));
      lost = 0;
      const owners = new Map<number, number>();
      for (const c of run.claims) {
        owners.set(c.trialId, (owners.get(c.trialId) ?? 0) + 1);
        const t = byId.get(c.trialId);
        if (
          !t ||
          t.number !== c.number ||
          t.state !== 'COMPLETE' ||
          !sameJson(t.values, [c.value])
        ) {
          lost++;
          lostBy[phase(c)]++;
        }
      }
      duplicates = [...owners.values()].reduce((a, n) => a + n - 1, 0);
      orphaned = (study?.trials ?? []).filter((t) => t.state === 'RUNNING').length;
      if (run.py) tally = tallyOnRedis(run.py.trials, fresh.studies, true, problems);
      if (fresh.gaps.length > 0)
        problems.push(
          `${plural(fresh.gaps.length, 'journal entry', 'journal entries')} missing after the restart`,
        );
      if (lost > 0)
        problems.push(
          `${plural(lost, 'acknowledged trial')} missing after the restart (before the outage ${lostBy.before}, during ${lostBy.during}, after ${lostBy.after}); ${run.persistenceNote()}`,
        );
      if (duplicates > 0) problems.push(`${plural(duplicates, 'trial')} claimed by two writers`);
      // The store, resumed where it stopped, must show exactly the fresh read (a read of its
      // own: one already in flight may have begun before the last writes).
      await run.store.refresh({ fresh: true });
      const view = run.store.studies().find((s) => s.redis && s.name === STUDY);
      const a = (view?.trials ?? []).map((t) => `${t.trial.number}:${t.trial.state}`).join(',');
      const b = (study?.trials ?? []).map((t) => `${t.number}:${t.state}`).join(',');
      storeMatches = a === b && !!view === !!study;
      if (!storeMatches)
        problems.push(
          `the store's view after recovery differs from a fresh read (${view?.trials.length ?? 0} vs ${study?.trials.length ?? 0} trials)`,
        );
      ctx.log(
        `fresh read: ${study?.trials.length ?? 0} trials; writers finished ${counts.before} before, ${counts.during} across and ${counts.after} after the outage; ${lost} lost`,
      );
    } catch (e) {
      if (e instanceof SuiteCancelled) throw e;
      problems.push(`the restarted server could not be read: ${errorMessage(e)}`);
    }
    const writers = writerReport(run, {
      failoverMs: pyDown.ms,
      recoveryMs: pyBack.ms,
      tally,
    });
    const checks = [
      check(
        'recovery_ms',
        'time to read Redis again',
        `< ${PROMISES.recoveryMs} ms`,
        recoveryMs === null ? null : `${recoveryMs} ms`,
        recoveryMs !== null && recoveryMs < PROMISES.recoveryMs,
      ),
      check(
        'lost',
        'trials lost across the outage',
        '0',
        lost === null ? null : String(lost),
        lost === 0,
      ),
      ...writers.checks,
    ];
    const v = verdict(
      checks,
      problems,
      `back on Redis ${recoveryMs} ms after it returned; all ${run.claims.length} trials kept (${counts.before} before, ${counts.during} across, ${counts.after} after a ${ctx.options.outageMs} ms outage)${writers.headline}`,
    );
    return {
      ...v,
      checks,
      server: 'disposable',
      prefix: ctx.prefix,
      metrics: {
        failover_ms: failoverMs,
        recovery_ms: recoveryMs,
        restart_ms: upAt - restartAt,
        outage_ms: upAt - killedAt,
        trials: run.claims.length,
        trials_before: counts.before,
        trials_during: counts.during,
        trials_after: counts.after,
        lost,
        duplicates,
        orphaned_running: orphaned,
        store_view_matches: storeMatches,
        persistence: run.d.describeSettings(),
        ...writers.metrics,
      },
    };
  } finally {
    verifier?.disconnect();
    await run.close();
  }
};
