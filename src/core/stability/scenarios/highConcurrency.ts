import { SuiteCancelled } from '../abort';
import {
  type Scenario,
  addEvictionNote,
  errorMessage,
  evictionInfo,
  missingEntriesProblem,
  plural,
  readBack,
  sameJson,
  verdict,
} from '../context';
import { JournalWorker } from '../journalWorker';
import { floatDistribution, intDistribution } from '../../optuna/distributions';
import { optunaNow } from '../../optuna/journal/records';
import { PROMISES, check } from '../scenarios';
import { latencySummary, round } from '../stats';

const X = floatDistribution(-10, 10);
const N = intDistribution(0, 1000);

interface Claim {
  worker: number;
  trialId: number;
  number: number;
  value: number;
  popped: boolean;
}

/**
 * `jobs` optimizers, each with its own connection and worker id, ask and tell `trials` trials
 * in total on one study exactly as Optuna 3.1 does (every write followed by a sync of the
 * journal). A few trials are enqueued first, so workers race to pop them (Optuna's WAITING ->
 * RUNNING race, which only one may win). Afterwards every trial a worker finished must be in
 * the journal, COMPLETE, with its value, and no trial may be owned by two workers.
 */
export const highConcurrency: Scenario = async (ctx) => {
  const u = ctx.user;
  const jobs = ctx.options.jobs;
  const total = ctx.options.trials;
  const name = 'suite-high-concurrency';
  const mk = () =>
    new JournalWorker({
      url: u.url,
      password: u.password,
      settings: u.settings,
      prefix: ctx.prefix,
      signal: ctx.signal,
      retryForMs: ctx.options.appendRetryMs,
    });
  const evictedBefore = await evictionInfo(u.client);
  const setup = mk();
  const workers = Array.from({ length: jobs }, mk);
  const claims: Claim[] = [];
  const errors: Array<{ worker: number; message: string }> = [];
  const enqueued = Math.min(jobs, Math.max(1, Math.floor(total / 10)));
  let studyId = -1;
  let wallS = 0;
  const problems: string[] = [];
  try {
    await setup.connect();
    studyId = await setup.createStudy(name);
    for (let k = 0; k < enqueued; k++)
      await setup.enqueueTrial(studyId, { x: k / 10, n: BigInt(k) });
    setup.close();
    const connected = await Promise.allSettled(workers.map((w) => w.connect()));
    const failedConnects = connected.filter(
      (r) => r.status === 'rejected',
    ) as PromiseRejectedResult[];
    if (failedConnects.length > 0)
      throw new Error(
        `${failedConnects.length} of ${jobs} workers could not connect: ${errorMessage(failedConnects[0].reason)}`,
      );
    ctx.log(
      `${plural(jobs, 'worker')} connected; study "${name}" with ${plural(enqueued, 'enqueued trial')}; ${plural(total, 'trial')} to run`,
    );

    let tickets = total;
    const t0 = performance.now();
    await Promise.allSettled(
      workers.map(async (w, i) => {
        try {
          while (tickets > 0) {
            tickets--;
            // ask(): pop a WAITING trial if one is left, else create one.
            const start = optunaNow();
            const popped = await w.popWaiting(studyId, start);
            const t = popped ?? (await w.createTrial(studyId, start));
            const x = popped
              ? Number(popped.fixedParams.x)
              : ((t.trialId * 7919) % 2000) / 100 - 10;
            const n = popped ? Number(popped.fixedParams.n) : t.trialId % 1000;
            await w.setParam(t.trialId, 'x', X, x);
            await w.setParam(t.trialId, 'n', N, n);
            await w.report(t.trialId, 0, x * x);
            const value = x * x + n / 1000;
            await w.setState(t.trialId, 'COMPLETE', [value]);
            claims.push({
              worker: i,
              trialId: t.trialId,
              number: t.number,
              value,
              popped: !!popped,
            });
          }
        } catch (e) {
          if (!(e instanceof SuiteCancelled)) errors.push({ worker: i, message: errorMessage(e) });
          throw e;
        }
      }),
    );
    wallS = (performance.now() - t0) / 1000;
    if (ctx.signal.aborted) throw new SuiteCancelled();
  } catch (e) {
    if (e instanceof SuiteCancelled) throw e;
    problems.push(errorMessage(e));
  } finally {
    setup.close();
    for (const w of workers) w.close();
  }
  const finished = claims.length;
  const perS = wallS > 0 ? finished / wallS : 0;
  const appendMs = workers.flatMap((w) => w.appendMs);
  const syncMs = workers.flatMap((w) => w.syncMs);
  const lat = latencySummary(appendMs, 'append');
  ctx.log(
    `${plural(finished, 'trial')} finished in ${round(wallS, 2)} s: ${round(perS, 1)} trials/s; append p50 ${lat.append_p50_ms} ms, p99 ${lat.append_p99_ms} ms`,
  );
  if (errors.length > 0) {
    const byMsg = new Map<string, number>();
    for (const e of errors) byMsg.set(e.message, (byMsg.get(e.message) ?? 0) + 1);
    const [msg] = [...byMsg].sort((a, b) => b[1] - a[1])[0];
    problems.push(
      `${errors.length} of ${jobs} workers stopped (${plural(finished, 'trial')} finished before that): ${msg}`,
    );
  }

  // Read back: every claimed trial must be there as its worker left it, and owned once.
  let lost = 0;
  let duplicates = 0;
  let orphaned = 0;
  let waitingLeft = 0;
  let gaps = 0;
  let verified = false;
  try {
    const back = await readBack(u.client, ctx.prefix);
    gaps = back.gaps.length;
    const study = back.studies.find((s) => s.name === name);
    const byId = new Map((study?.trials ?? []).map((t) => [t.trialId, t]));
    const claimsById = new Map<number, Claim[]>();
    for (const c of claims) {
      const list = claimsById.get(c.trialId) ?? [];
      list.push(c);
      claimsById.set(c.trialId, list);
      const t = byId.get(c.trialId);
      if (!t || t.number !== c.number || t.state !== 'COMPLETE' || !sameJson(t.values, [c.value]))
        lost++;
    }
    for (const list of claimsById.values()) if (list.length > 1) duplicates += list.length - 1;
    const numbers = new Set<number>();
    for (const t of study?.trials ?? []) {
      if (numbers.has(t.number)) duplicates++;
      numbers.add(t.number);
      if (t.state === 'RUNNING' && !claimsById.has(t.trialId)) orphaned++;
      if (t.state === 'WAITING') waitingLeft++;
    }
    verified = true;
    const missingEntries = missingEntriesProblem(back.gaps);
    if (missingEntries) problems.push(missingEntries);
    if (!study && finished > 0) problems.push(`study "${name}" is not in the journal`);
    ctx.log(
      `read back ${back.entries} entries: ${study?.trials.length ?? 0} trials, ${lost} lost, ${duplicates} duplicated, ${orphaned} orphaned RUNNING, ${waitingLeft} still WAITING`,
    );
  } catch (e) {
    problems.push(`the trials could not be read back: ${u.explain(e)}`);
  }
  await addEvictionNote(problems, u.client, evictedBefore);
  const popped = claims.filter((c) => c.popped).length;
  const racesLost = workers.reduce((a, w) => a + w.popRacesLost, 0);
  const complete = errors.length === 0 && problems.length === 0;
  const checks = [
    check('lost', 'lost trials', '0', verified ? String(lost) : null, verified && lost === 0),
    check(
      'duplicates',
      'duplicated trial numbers',
      '0',
      verified ? String(duplicates) : null,
      verified && duplicates === 0,
    ),
    check(
      'trials_per_s',
      `throughput with ${jobs} workers`,
      `≥ ${PROMISES.trialsPerSecond} trials/s (goal ${PROMISES.trialsPerSecondGoal}, with 30 workers)`,
      finished > 0 ? `${round(perS, 1)} trials/s` : null,
      complete && perS >= PROMISES.trialsPerSecond,
    ),
  ];
  if (verified && lost > 0)
    problems.push(
      `${plural(lost, 'finished trial')} lost (missing, or not COMPLETE with the value its worker wrote)`,
    );
  if (verified && duplicates > 0)
    problems.push(`${plural(duplicates, 'trial')} owned by more than one worker`);
  const v = verdict(
    checks,
    problems,
    `${plural(jobs, 'worker')}: ${finished} trials, ${round(perS, 1)} trials/s, append p50 ${lat.append_p50_ms} ms / p99 ${lat.append_p99_ms} ms, none lost or duplicated (${popped} popped from the queue, ${racesLost} pop races lost)`,
  );
  return {
    ...v,
    checks,
    server: 'user',
    prefix: ctx.prefix,
    metrics: {
      workers: jobs,
      trials_requested: total,
      trials_finished: finished,
      lost: verified ? lost : null,
      duplicates: verified ? duplicates : null,
      orphaned_running: verified ? orphaned : null,
      enqueued,
      popped,
      pop_races_lost: racesLost,
      waiting_left: verified ? waitingLeft : null,
      missing_entries: gaps,
      workers_failed: errors.length,
      duration_s: round(wallS, 3),
      trials_per_s: round(perS, 2),
      ...lat,
      appends: appendMs.length,
      append_retries: workers.reduce((a, w) => a + w.retries, 0),
      ...latencySummary(syncMs, 'sync'),
    },
  };
};
