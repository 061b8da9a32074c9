import type { ResolvedOptions } from './context';
import type { MetricValue, SuiteOptions } from './types';

function int(v: number | undefined, dflt: number, name: string, min: number, max: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min || x > max)
    throw new RangeError(`${name} must be a whole number from ${min} to ${max} (got ${String(v)})`);
  return x;
}

/** Fills in defaults and validates ranges; throws a RangeError naming the bad option. */
export function resolveOptions(o: SuiteOptions): ResolvedOptions {
  const jobs = int(o.jobs, 30, 'jobs', 1, 1000);
  return {
    jobs,
    trials: int(o.trials, 10 * jobs, 'trials', 1, 10_000_000),
    singleStudyTrials: int(o.singleStudyTrials, 40, 'singleStudyTrials', 1, 100_000),
    concurrentStudies: int(o.concurrentStudies, 4, 'concurrentStudies', 2, 100),
    concurrentTrials: int(o.concurrentTrials, 25, 'concurrentTrials', 1, 100_000),
    connectAttempts: int(o.connectAttempts, 200, 'connectAttempts', 1, 100_000),
    pings: int(o.pings, 200, 'pings', 1, 1_000_000),
    outageMs: int(o.outageMs, 1500, 'outageMs', 0, 3_600_000),
    appendRetryMs: int(o.appendRetryMs, 5000, 'appendRetryMs', 0, 3_600_000),
    keepData: o.keepData ?? false,
  };
}

/** The options as the report shows them: what was asked for and the values the run used. */
export function describeOptions(o: SuiteOptions, r: ResolvedOptions): Record<string, MetricValue> {
  return {
    only: o.only ? o.only.join(',') : null,
    jobs: r.jobs,
    trials: r.trials,
    single_study_trials: r.singleStudyTrials,
    concurrent_studies: r.concurrentStudies,
    concurrent_trials: r.concurrentTrials,
    connect_attempts: r.connectAttempts,
    pings: r.pings,
    outage_ms: r.outageMs,
    append_retry_ms: r.appendRetryMs,
    sqlite: o.sqlitePath ?? null,
    pythons: o.pythons ? o.pythons.join(',') : null,
    redis_config: o.redisConfigFile ?? null,
    keep_data: r.keepData,
  };
}
