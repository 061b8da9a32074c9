import type { ResolvedOptions } from './context';
import type { RedisEndpoint } from '../redis/url';
import { PROMISES, check, scenarioInfo } from './scenarios';
import { describeOptions } from './suiteOptions';
import type { ScenarioId, ScenarioResult, SuiteOptions, SuiteResult } from './types';

/**
 * A run's result before anything ran: the target and options described, nothing cleaned up.
 * runSuite fills in the scenarios as they end and the cleanup and times at the end, so even a
 * run that fails to connect returns a complete result.
 */
export function emptySuiteResult(run: {
  runId: string;
  prefix: string;
  endpoint: RedisEndpoint;
  where: string;
  options: SuiteOptions;
  opts: ResolvedOptions;
  startedAt: number;
}): SuiteResult {
  const { endpoint, options } = run;
  return {
    runId: run.runId,
    prefix: run.prefix,
    target: {
      where: run.where,
      tls: endpoint.tls,
      db: endpoint.db,
      auth: !!(options.password || endpoint.password),
    },
    options: describeOptions(options, run.opts),
    startedAt: run.startedAt,
    finishedAt: run.startedAt,
    durationMs: 0,
    cancelled: false,
    scenarios: [],
    cleanup: {
      removedKeys: 0,
      leftoverPrefixes: [],
      leftoverKeys: 0,
      staleTempDirs: 0,
      errors: [],
    },
  };
}

/** A scenario's result before its outcome is known (skipped, no message, empty log). */
export function blankResult(id: ScenarioId, startedAt: number): ScenarioResult {
  const info = scenarioInfo(id);
  return {
    id,
    label: info.label,
    status: 'skipped',
    message: '',
    metrics: {},
    checks: [],
    startedAt,
    durationMs: 0,
    log: [],
  };
}

/**
 * A scenario's result when the user's Redis cannot be used at all: basic-connection is what
 * failed (0 of 1 connections, so its check reads as a failure, not a skip); every other
 * scenario is skipped with the same reason.
 */
export function unreachableResult(id: ScenarioId, startedAt: number, why: string): ScenarioResult {
  const r = blankResult(id, startedAt);
  if (id !== 'basic-connection')
    return Object.assign(r, { status: 'skipped', message: `not run: ${why}` });
  return Object.assign(r, {
    status: 'failed',
    message: why,
    metrics: { connect_attempts: 1, connect_successes: 0, connection_success_rate: 0 },
    checks: [
      check(
        'connection_success_rate',
        'connection success rate',
        `> ${PROMISES.connectionSuccessRate * 100}%`,
        '0% (0/1)',
        false,
      ),
    ],
  });
}
