import type { ConnectionSettings } from '../redis/connect';

export type ScenarioId =
  | 'basic-connection'
  | 'single-study'
  | 'concurrent-studies'
  | 'failover'
  | 'connection-recovery'
  | 'high-concurrency';
export type ScenarioStatus = 'passed' | 'failed' | 'skipped';
export type MetricValue = number | string | boolean | null;

/** What a scenario is, for lists and test trees: known before anything runs. */
export interface ScenarioInfo {
  id: ScenarioId;
  label: string;
  description: string;
  /** Stops and restarts Redis, so it runs against a disposable redis-server the suite starts. */
  usesDisposableServer: boolean;
}

/** One figure promised for this setup, checked against what was measured. */
export interface Check {
  metric: string;
  label: string;
  /** The promise in words, e.g. "< 5000 ms". */
  promised: string;
  /** What was measured, in words (null when not measured, e.g. the scenario stopped early). */
  measured: string | null;
  ok: boolean;
}

export interface ScenarioResult {
  id: ScenarioId;
  label: string;
  status: ScenarioStatus;
  /** One line a user can act on: why it failed or was skipped, or the headline figures. */
  message: string;
  metrics: Record<string, MetricValue>;
  checks: Check[];
  startedAt: number;
  durationMs: number;
  /** Journal prefix the scenario wrote under (on the server it names), for inspection with keepData. */
  prefix?: string;
  /** Where that prefix lives: "user" (the server under test) or "disposable" (the suite's own server). */
  server?: 'user' | 'disposable';
  /** Every progress line the scenario logged. */
  log: string[];
}

export interface CleanupSummary {
  /** Keys of this run removed at the end (0 with keepData). */
  removedKeys: number;
  /** Journal prefixes of earlier, interrupted runs removed at the start. */
  leftoverPrefixes: string[];
  leftoverKeys: number;
  /** Disposable servers / temp folders of crashed earlier runs removed at the start. */
  staleTempDirs: number;
  errors: string[];
}

export interface SuiteResult {
  runId: string;
  /** The run's journal prefix root; every key the suite writes starts with it. */
  prefix: string;
  target: { where: string; tls: boolean; db: number; auth: boolean; version?: string };
  options: Record<string, MetricValue>;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  cancelled: boolean;
  /** Set when the server under test could not be reached or refused the credentials. */
  unreachable?: { failure: 'unreachable' | 'auth' | 'protocol'; message: string };
  scenarios: ScenarioResult[];
  cleanup: CleanupSummary;
}

export interface SuiteOptions {
  /** The Redis under test (`redis://` or `rediss://`); never stopped by the suite. */
  redisUrl: string;
  /** Overrides the URL's password; never written to logs or reports. */
  password?: string;
  settings?: Partial<ConnectionSettings>;
  /** The user's SQLite fallback (Optuna RDB), opened read-only by the failover scenarios; otherwise a scratch file. */
  sqlitePath?: string;
  /** Scenario ids to run (default: all, in the suite's order). */
  only?: ScenarioId[];
  /** Workers of the high-concurrency scenario, each with its own connection (default 30). */
  jobs?: number;
  /** Trials the high-concurrency workers create and finish in total (default 10 per worker). */
  trials?: number;
  /** Trials of the single-study scenario (default 40). */
  singleStudyTrials?: number;
  /** Studies and trials per study of the concurrent-studies scenario (default 4 × 25). */
  concurrentStudies?: number;
  concurrentTrials?: number;
  /** Connection attempts and PINGs of basic-connection (default 200 each). */
  connectAttempts?: number;
  pings?: number;
  /** How long Redis stays down in connection-recovery (default 1500 ms). */
  outageMs?: number;
  /** How long a writer retries an append while Redis is unreachable, on the server under test (default 5000 ms). */
  appendRetryMs?: number;
  /** redis-server binary for the disposable server (default: redis-server on PATH). */
  redisServerPath?: string;
  /** A redis.conf for the disposable server, instead of the settings read with CONFIG GET. */
  redisConfigFile?: string;
  /** Keep the run's journal keys (tests read them with real Optuna); temp files are removed anyway. */
  keepData?: boolean;
  /** Where the run's temp folder goes (default os.tmpdir()). */
  tmpDir?: string;
  /** PATH searched for redis-server (default process.env.PATH). */
  searchPath?: string;
  /**
   * The folder holding python/enhanced_redis_storage (the extension's, or the repository): the
   * failover and connection-recovery scenarios start real Python writers with it. Without it,
   * or without a Python that has Optuna and redis-py, they run without, saying why.
   */
  companionRoot?: string;
  /** Interpreters tried for the Python writers (default python3, then /usr/bin/python3). */
  pythons?: string[];
}

export interface SuiteHooks {
  signal?: AbortSignal;
  onScenarioStart?: (info: ScenarioInfo) => void;
  /** Progress lines; `scenario` is set for lines logged by a scenario. */
  onLog?: (line: string, scenario?: ScenarioId) => void;
  onScenarioEnd?: (result: ScenarioResult) => void;
}
