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
import { floatDistribution } from '../../optuna/distributions';
import { optunaNow } from '../../optuna/journal/records';
import { check } from '../scenarios';
import { latencySummary, round } from '../stats';

const X = floatDistribution(-1000, 1000);

/**
 * K studies in one journal, each written at the same time by its own optimizer connection.
 * Every trial carries its study's index (value, param and user attr), so a trial that landed
 * in the wrong study, or a study missing trials, shows up when the journal is read back.
 */
export const concurrentStudies: Scenario = async (ctx) => {
  const u = ctx.user;
  const k = ctx.options.concurrentStudies;
  const perStudy = ctx.options.concurrentTrials;
  const evictedBefore = await evictionInfo(u.client);
  const workers = Array.from(
    { length: k },
    () =>
      new JournalWorker({
        url: u.url,
        password: u.password,
        settings: u.settings,
        prefix: ctx.prefix,
        signal: ctx.signal,
        retryForMs: ctx.options.appendRetryMs,
      }),
  );
  const written: Array<Array<{ trialId: number; number: number; value: number }>> = workers.map(
    () => [],
  );
  const studyIds: number[] = [];
  const errors: string[] = [];
  const t0 = performance.now();
  try {
    await Promise.allSettled(
      workers.map(async (w, i) => {
        try {
          await w.connect();
          const sid = await w.createStudy(`suite-concurrent-${i}`, ['MAXIMIZE']);
          studyIds[i] = sid;
          await w.setStudyUserAttr(sid, 'study_index', BigInt(i));
          for (let n = 0; n < perStudy; n++) {
            const { trialId, number } = await w.createTrial(sid, optunaNow());
            await w.setParam(trialId, 'x', X, i + n / 1000);
            await w.setTrialUserAttr(trialId, 'study_index', BigInt(i));
            const value = i * 1000 + number;
            await w.setState(trialId, 'COMPLETE', [value]);
            written[i].push({ trialId, number, value });
          }
        } catch (e) {
          errors.push(`study ${i}: ${errorMessage(e)}`);
          throw e;
        }
      }),
    );
  } finally {
    for (const w of workers) w.close();
  }
  const writeS = (performance.now() - t0) / 1000;
  const total = written.reduce((a, t) => a + t.length, 0);
  ctx.log(
    `${plural(k, 'writer')} wrote ${plural(total, 'trial')} into ${plural(k, 'study', 'studies')} in ${round(writeS, 2)} s`,
  );

  const problems: string[] = [];
  if (errors.length > 0) problems.push(`${plural(errors.length, 'writer')} stopped: ${errors[0]}`);
  let missing = 0;
  let crossTalk = 0;
  let gaps = 0;
  try {
    const back = await readBack(u.client, ctx.prefix);
    gaps = back.gaps.length;
    const missingEntries = missingEntriesProblem(back.gaps);
    if (missingEntries) problems.push(missingEntries);
    const ids = new Set<number>();
    for (let i = 0; i < k; i++) {
      const s = back.studies.find((x) => x.name === `suite-concurrent-${i}`);
      if (!s) {
        problems.push(`study suite-concurrent-${i} is missing`);
        missing += written[i].length;
        continue;
      }
      if (ids.has(s.studyId)) problems.push(`two studies share study_id ${s.studyId}`);
      ids.add(s.studyId);
      if (studyIds[i] !== undefined && s.studyId !== studyIds[i])
        problems.push(`study ${i} has id ${s.studyId}, its writer was told ${studyIds[i]}`);
      const byId = new Map(s.trials.map((t) => [t.trialId, t]));
      for (const w of written[i]) {
        const t = byId.get(w.trialId);
        if (!t || t.state !== 'COMPLETE' || !sameJson(t.values, [w.value]) || t.number !== w.number)
          missing++;
      }
      for (const t of s.trials) {
        const tag = t.userAttrs.study_index as JsonValue;
        if (tag !== undefined && !sameJson(tag, i)) crossTalk++;
        const v = t.values?.[0];
        if (typeof v === 'number' && Math.floor(v / 1000) !== i) crossTalk++;
      }
      if (s.trials.length !== written[i].length)
        problems.push(
          `study ${i} holds ${s.trials.length} trials, its writer finished ${written[i].length}`,
        );
    }
    if (missing > 0)
      problems.push(`${plural(missing, 'finished trial')} missing or not as written`);
    if (crossTalk > 0) problems.push(`${plural(crossTalk, 'trial')} landed in the wrong study`);
    ctx.log(
      `read back ${back.entries} entries: ${back.studies.length} studies, ${missing} missing, ${crossTalk} in the wrong study`,
    );
  } catch (e) {
    problems.push(`the journal could not be read back: ${u.explain(e)}`);
  }
  await addEvictionNote(problems, u.client, evictedBefore);
  const checks = [
    check(
      'missing',
      'studies complete and independent',
      'every trial in its own study',
      problems.length === 0
        ? `${k} × ${perStudy} trials`
        : `${missing} missing, ${crossTalk} misplaced`,
      problems.length === 0,
    ),
  ];
  const appendMs = workers.flatMap((w) => w.appendMs);
  const v = verdict(
    checks,
    problems,
    `${plural(k, 'study', 'studies')} × ${plural(perStudy, 'trial')} written at once, each complete and independent`,
  );
  return {
    ...v,
    checks,
    server: 'user',
    prefix: ctx.prefix,
    metrics: {
      studies: k,
      trials_per_study: perStudy,
      trials: total,
      missing,
      misplaced: crossTalk,
      missing_entries: gaps,
      write_s: round(writeS, 3),
      ...latencySummary(appendMs, 'append'),
    },
  };
};
