import type { Check, ScenarioId, ScenarioInfo } from './types';

/** The scenarios in the order the suite runs them. */
export const SCENARIOS: readonly ScenarioInfo[] = [
  {
    id: 'basic-connection',
    label: 'Basic connection',
    description:
      'Connects repeatedly (success rate), PINGs for round-trip latency percentiles, and reports AUTH, TLS, database, server version and eviction policy.',
    usesDisposableServer: false,
  },
  {
    id: 'single-study',
    label: 'Single study',
    description:
      "Creates a study and writes trials through Optuna's own journal protocol (atomic append EVAL, records as Optuna 3.1 writes them), then reads them back and compares every field.",
    usesDisposableServer: false,
  },
  {
    id: 'concurrent-studies',
    label: 'Concurrent studies',
    description:
      'Several studies written at once, each by its own connection, into one journal; every study must be complete and hold only its own trials.',
    usesDisposableServer: false,
  },
  {
    id: 'failover',
    label: 'Failover to SQLite',
    description:
      'A disposable redis-server with your settings is killed while optimizers write; measures how long the failover store takes to serve the SQLite fallback.',
    usesDisposableServer: true,
  },
  {
    id: 'connection-recovery',
    label: 'Connection recovery',
    description:
      'The disposable redis-server crashes and comes back while writers retry their appends; measures how long until the store reads Redis again and checks nothing written before, during or after the outage is missing.',
    usesDisposableServer: true,
  },
  {
    id: 'high-concurrency',
    label: 'High concurrency',
    description:
      "Many workers (30 by default), each with its own connection, ask and tell trials on one study with Optuna's protocol, including the race to pop enqueued WAITING trials; no trial may be lost or duplicated.",
    usesDisposableServer: false,
  },
];

export const SCENARIO_IDS = SCENARIOS.map((s) => s.id) as readonly ScenarioId[];

export function scenarioInfo(id: ScenarioId): ScenarioInfo {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`unknown scenario "${id}"`);
  return s;
}

/** Parses "id,id" (as given to --only); throws naming the unknown ids and the known ones. */
export function parseScenarioList(text: string): ScenarioId[] {
  const ids = text.split(/[,\s]+/).filter(Boolean);
  const unknown = ids.filter((id) => !SCENARIO_IDS.includes(id as ScenarioId));
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${SCENARIO_IDS.join(', ')})`,
    );
  if (ids.length === 0) throw new Error(`no scenario given (known: ${SCENARIO_IDS.join(', ')})`);
  return SCENARIO_IDS.filter((id) => ids.includes(id));
}

/**
 * The figures promised for this setup (30 workers on one Redis journal with an SQLite
 * fallback, for two days). Every scenario compares what it measured against them.
 */
export const PROMISES = {
  connectionSuccessRate: 0.99,
  failoverMs: 5000,
  recoveryMs: 30_000,
  /** With 30 workers; the promise is 10–20 trials/s, the lower figure is the bar. */
  trialsPerSecond: 10,
  trialsPerSecondGoal: 20,
} as const;

export function check(
  metric: string,
  label: string,
  promised: string,
  measured: string | null,
  ok: boolean,
): Check {
  return { metric, label, promised, measured, ok };
}
