import {
  categoricalDistribution,
  floatDistribution,
  intDistribution,
} from '../../optuna/distributions';
import { optunaNow } from '../../optuna/journal/records';
import type { Distribution, Study, Trial, TrialState } from '../../optuna/model';
import { normalizeDatetime } from '../../optuna/model';
import type { JsonValue } from '../../optuna/pythonJsonParse';
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
import { check } from '../scenarios';
import { latencySummary, round } from '../stats';

const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'];
export const DISTRIBUTIONS: Record<string, Distribution> = {
  x: floatDistribution(-10, 10),
  lr: floatDistribution(1e-5, 0.1, { log: true }),
  n: intDistribution(1, 100),
  opt: categoricalDistribution(OPTIMIZERS),
};

/** A small deterministic generator: the same run writes the same values. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** What a trial must look like when read back. */
export interface ExpectedTrial {
  trialId: number;
  number: number;
  state: TrialState;
  values: number[] | null;
  params: Record<string, JsonValue>;
  distributions: Record<string, Distribution>;
  intermediate: Record<string, number>;
  userAttrs: Record<string, JsonValue>;
  systemAttrs: Record<string, JsonValue>;
  datetimeStart: string;
  datetimeComplete: string;
}

/** Every field of one trial, compared; each difference as a sentence. */
export function compareTrial(e: ExpectedTrial, t: Trial | undefined): string[] {
  const at = `trial #${e.number} (id ${e.trialId})`;
  if (!t) return [`${at} is missing`];
  const out: string[] = [];
  if (t.trialId !== e.trialId) out.push(`${at} has trial_id ${t.trialId}`);
  if (t.state !== e.state) out.push(`${at} is ${t.state}, expected ${e.state}`);
  if (!sameJson(t.values, e.values))
    out.push(`${at} has values ${JSON.stringify(t.values)}, expected ${JSON.stringify(e.values)}`);
  for (const [k, v] of Object.entries(e.params))
    if (!sameJson(t.params[k], v))
      out.push(`${at} param ${k} is ${String(t.params[k])}, expected ${String(v)}`);
  if (Object.keys(t.params).length !== Object.keys(e.params).length)
    out.push(`${at} has params ${Object.keys(t.params).join(',')}`);
  for (const [k, want] of Object.entries(e.distributions)) {
    const got = t.distributions[k];
    if (!got || got.name !== want.name || !sameJson(got.attributes, want.attributes))
      out.push(`${at} distribution of ${k} differs`);
  }
  if (!sameJson(t.intermediateValues, e.intermediate)) out.push(`${at} intermediate values differ`);
  if (!sameJson(t.userAttrs, e.userAttrs)) out.push(`${at} user attrs differ`);
  if (!sameJson(t.systemAttrs, e.systemAttrs)) out.push(`${at} system attrs differ`);
  if (t.datetimeStart !== normalizeDatetime(e.datetimeStart))
    out.push(`${at} datetime_start is ${t.datetimeStart}, expected ${e.datetimeStart}`);
  if (t.datetimeComplete !== (e.state === 'RUNNING' ? null : normalizeDatetime(e.datetimeComplete)))
    out.push(`${at} datetime_complete is ${t.datetimeComplete}`);
  return out;
}

/** Compares a study as read back with what was written; missing entries named first. */
export function describeDifferences(
  study: Study | undefined,
  name: string,
  expected: ExpectedTrial[],
  gaps: string[],
): string[] {
  const out: string[] = [];
  const missingEntries = missingEntriesProblem(gaps);
  if (missingEntries) out.push(missingEntries);
  if (!study) {
    out.push(`study "${name}" is not in the journal`);
    return out;
  }
  const byId = new Map(study.trials.map((t) => [t.trialId, t]));
  const diffs = expected.flatMap((e) => compareTrial(e, byId.get(e.trialId)));
  const missing = diffs.filter((d) => d.endsWith('is missing')).length;
  if (missing > 0) out.push(`${plural(missing, 'trial')} of ${expected.length} missing`);
  const other = diffs.filter((d) => !d.endsWith('is missing'));
  if (other.length > 0)
    out.push(
      `${plural(other.length, 'field')} differ: ${other.slice(0, 3).join('; ')}${other.length > 3 ? '; …' : ''}`,
    );
  if (study.trials.length > expected.length)
    out.push(`${study.trials.length - expected.length} unexpected extra trials`);
  return out;
}

/**
 * One optimizer writes one study through Optuna's journal protocol — an enqueued trial popped
 * from the queue, then ordinary ones with float, log-float, int and categorical params,
 * intermediate values, user attrs, and COMPLETE, PRUNED and FAIL endings — and the journal is
 * read back and compared field by field.
 */
export const singleStudy: Scenario = async (ctx) => {
  const u = ctx.user;
  const name = 'suite-single-study';
  const n = ctx.options.singleStudyTrials;
  const w = new JournalWorker({
    url: u.url,
    password: u.password,
    settings: u.settings,
    prefix: ctx.prefix,
    signal: ctx.signal,
    retryForMs: ctx.options.appendRetryMs,
  });
  const expected: ExpectedTrial[] = [];
  const evictedBefore = await evictionInfo(u.client);
  const problems: string[] = [];
  const t0 = performance.now();
  try {
    await w.connect();
    const studyId = await w.createStudy(name);
    await w.setStudyUserAttr(studyId, 'optuna_storage_suite', ctx.runId);
    const fixed: Record<string, JsonValue> = { x: 0.5, n: 3n, opt: 'sgd' };
    await w.enqueueTrial(studyId, fixed);
    const rnd = lcg(42);
    for (let i = 0; i < n; i++) {
      const start = optunaNow();
      let trialId: number;
      let number: number;
      let systemAttrs: Record<string, JsonValue> = {};
      const params: Record<string, JsonValue> = {};
      if (i === 0) {
        const popped = await w.popWaiting(studyId, start);
        if (!popped) throw new Error('the enqueued WAITING trial could not be popped');
        ({ trialId, number } = popped);
        systemAttrs = { fixed_params: fixed };
        Object.assign(params, { x: 0.5, lr: 1e-3, n: 3, opt: 'sgd' });
      } else {
        ({ trialId, number } = await w.createTrial(studyId, start));
        Object.assign(params, {
          x: round(rnd() * 20 - 10, 6)!,
          lr: 10 ** (-5 + 4 * rnd()),
          n: 1 + Math.floor(rnd() * 100),
          opt: OPTIMIZERS[Math.floor(rnd() * 3)],
        });
      }
      for (const [k, d] of Object.entries(DISTRIBUTIONS))
        await w.setParam(trialId, k, d, params[k]);
      const x = params.x as number;
      const intermediate: Record<string, number> = {};
      for (let step = 0; step < 3; step++) {
        const v = x * x + 1 / (step + 1);
        await w.report(trialId, step, v);
        intermediate[String(step)] = v;
      }
      await w.setTrialUserAttr(trialId, 'suite_index', BigInt(i));
      const state: TrialState = i % 11 === 10 ? 'FAIL' : i % 7 === 6 ? 'PRUNED' : 'COMPLETE';
      const values =
        state === 'FAIL'
          ? null
          : state === 'PRUNED'
            ? [intermediate['2']]
            : [x * x + (params.n as number) / 100];
      const end = optunaNow();
      await w.setState(trialId, state, values, end);
      expected.push({
        trialId,
        number,
        state,
        values,
        params,
        distributions: DISTRIBUTIONS,
        intermediate,
        userAttrs: { suite_index: i },
        systemAttrs,
        datetimeStart: start,
        datetimeComplete: end,
      });
    }
    ctx.log(
      `wrote ${plural(n, 'trial')} (${w.appendMs.length} journal entries) under ${ctx.prefix}`,
    );
  } catch (e) {
    problems.push(`writing stopped after ${plural(expected.length, 'trial')}: ${errorMessage(e)}`);
    ctx.log(problems[0]);
  } finally {
    w.close();
  }
  const writeS = (performance.now() - t0) / 1000;

  let readMs: number | null = null;
  let gaps = 0;
  let mismatches = 0;
  try {
    const back = await readBack(u.client, ctx.prefix);
    readMs = back.readMs;
    gaps = back.gaps.length;
    const study = back.studies.find((s) => s.name === name);
    const diffs = describeDifferences(study, name, expected, back.gaps);
    if (study && !sameJson(study.userAttrs, { optuna_storage_suite: ctx.runId }))
      diffs.push('the study user attr differs');
    if (study && study.directions.join() !== 'MINIMIZE')
      diffs.push(`the study directions are ${study.directions.join(',')}`);
    mismatches = diffs.length;
    problems.push(...diffs);
    ctx.log(
      `read back ${back.entries} entries in ${round(back.readMs, 1)} ms: ${diffs.length === 0 ? 'every trial and field as written' : diffs.join('; ')}`,
    );
  } catch (e) {
    problems.push(`the journal could not be read back: ${u.explain(e)}`);
  }
  await addEvictionNote(problems, u.client, evictedBefore);
  const checks = [
    check(
      'mismatches',
      'trials read back as written',
      'all, no missing entries',
      problems.length === 0
        ? `all ${expected.length}`
        : `${plural(gaps, 'missing entry', 'missing entries')}, ${plural(mismatches, 'difference')}`,
      problems.length === 0,
    ),
  ];
  const v = verdict(
    checks,
    problems,
    `${plural(expected.length, 'trial')} written with Optuna's protocol and read back identical (${w.appendMs.length} entries)`,
  );
  return {
    ...v,
    checks,
    server: 'user',
    prefix: ctx.prefix,
    metrics: {
      trials: expected.length,
      entries: w.appendMs.length,
      missing_entries: gaps,
      mismatches,
      write_s: round(writeS, 3),
      read_ms: round(readMs ?? undefined, 1),
      ...latencySummary(w.appendMs, 'append'),
    },
  };
};
