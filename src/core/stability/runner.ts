import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { connectOnce, redisOptions } from '../redis/connect';
import { RedisConnectError, classifyRedisError } from '../redis/connectError';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { SuiteCancelled } from './abort';
import {
  type ResolvedOptions,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutcome,
  SkipScenario,
  errorMessage,
} from './context';
import { DisposableRedis, findRedisServer, readUserSettings } from './disposableRedis';
import { TEMP_DIR_PREFIX, removeStaleTempDirs, suiteTempRoot } from './suiteTempDirs';
import { freshPrivateDir } from '../privateDir';
import { newRunId, removeLeftovers, removeRun, runPrefix, startHeartbeat } from './namespace';
import { PROMISES, SCENARIOS, check, scenarioInfo } from './scenarios';
import { basicConnection } from './scenarios/basicConnection';
import { concurrentStudies } from './scenarios/concurrentStudies';
import { highConcurrency } from './scenarios/highConcurrency';
import { connectionRecovery } from './scenarios/connectionRecovery';
import { failover } from './scenarios/outage';
import { singleStudy } from './scenarios/singleStudy';
import { createScratchFallback } from './scratchSqlite';
import {
  COMPANION_PACKAGE,
  type CompanionPython,
  DEFAULT_PYTHONS,
  findPython,
} from '../python/companion';
import type {
  MetricValue,
  ScenarioId,
  ScenarioResult,
  SuiteHooks,
  SuiteOptions,
  SuiteResult,
} from './types';

const IMPLEMENTATIONS: Record<ScenarioId, Scenario> = {
  'basic-connection': basicConnection,
  'single-study': singleStudy,
  'concurrent-studies': concurrentStudies,
  failover,
  'connection-recovery': connectionRecovery,
  'high-concurrency': highConcurrency,
};

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

/**
 * Runs the stability suite against the Redis in `options.redisUrl`: the selected scenarios in
 * order, each reported through the hooks as it starts, logs and ends. Never throws for what
 * it finds (failures are results); throws only for invalid options. Always cleans up: the
 * run's keys (unless keepData), its disposable servers and its temp folder — also when the
 * signal aborts, which makes the remaining scenarios `skipped` with "cancelled".
 */
export async function runSuite(
  options: SuiteOptions,
  hooks: SuiteHooks = {},
): Promise<SuiteResult> {
  const opts = resolveOptions(options);
  const endpoint = parseRedisUrl(options.redisUrl);
  const where = describeEndpoint(endpoint);
  const selected = SCENARIOS.filter((s) => !options.only || options.only.includes(s.id));
  const runId = newRunId();
  const prefix = runPrefix(runId);
  const startedAt = Date.now();
  const controller = new AbortController();
  // Every waiting worker listens on it: dozens of listeners are expected, not a leak.
  setMaxListeners(0, controller.signal);
  // Whatever the caller aborts with, the scenarios see SuiteCancelled (their waits reject with it).
  const onAbort = () => controller.abort(new SuiteCancelled());
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;

  const result: SuiteResult = {
    runId,
    prefix,
    target: {
      where,
      tls: endpoint.tls,
      db: endpoint.db,
      auth: !!(options.password || endpoint.password),
    },
    options: describeOptions(options, opts),
    startedAt,
    finishedAt: startedAt,
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
  // A hook that throws (a closed output channel, a disposed test run) must not break the run.
  const safe =
    <A extends unknown[]>(fn: ((...a: A) => void) | undefined) =>
    (...a: A): void => {
      try {
        fn?.(...a);
      } catch {
        // ignored: the result still carries everything
      }
    };
  const onStart = safe(hooks.onScenarioStart);
  const onEnd = safe(hooks.onScenarioEnd);
  const say = safe(hooks.onLog);

  const base = options.tmpDir ?? os.tmpdir();
  // Only a folder that is verifiably ours (0700, our uid) is searched for crashed runs'
  // leftovers; should the name be taken by someone else, this run keeps to a fresh folder.
  const root = suiteTempRoot(base);
  const tempDir = root.dir
    ? path.join(root.dir, `${TEMP_DIR_PREFIX}${runId}`)
    : freshPrivateDir(base, TEMP_DIR_PREFIX);
  const disposables = new Set<DisposableRedis>();
  let client: Redis | undefined;
  let lastClientError: unknown;
  const explain = (e: unknown): string => {
    const msg = errorMessage(e);
    if (
      /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|timed out/.test(
        msg,
      )
    )
      return classifyRedisError(lastClientError ?? e, where).message;
    return msg;
  };
  let stopHeartbeat: (() => void) | undefined;
  try {
    fs.mkdirSync(tempDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(tempDir, 'owner.json'),
      JSON.stringify({ pid: process.pid, runId, startedAt }),
    );
    if (root.problem)
      say(`not cleaning up earlier runs: ${root.problem}; this run uses ${tempDir}`);
    else result.cleanup.staleTempDirs = removeStaleTempDirs(root.dir!, tempDir);
    if (result.cleanup.staleTempDirs > 0)
      say(`removed ${result.cleanup.staleTempDirs} temp folder(s) of crashed earlier runs`);

    try {
      // The first connection says why it fails (refused, credentials, TLS) ...
      const probe = await connectOnce(options.redisUrl, {
        password: options.password,
        settings: options.settings,
      });
      probe.disconnect();
      // ... the suite's own connection reconnects, so a blip does not stop read-backs and cleanup.
      client = new Redis(
        redisOptions(endpoint, {
          password: options.password,
          settings: options.settings,
          reconnect: true,
          connectionName: 'optuna-storage-suite',
        }),
      );
      client.on('error', (e) => (lastClientError = e));
      await client.connect();
    } catch (e) {
      client?.disconnect();
      client = undefined;
      const err =
        e instanceof RedisConnectError ? e : classifyRedisError(lastClientError ?? e, where);
      result.unreachable = { failure: err.failure, message: err.message };
      say(`cannot use ${where}: ${err.message}`);
      for (const s of selected) {
        const r = blank(s.id, startedAt);
        if (s.id === 'basic-connection') {
          Object.assign(r, {
            status: 'failed',
            message: err.message,
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
        } else Object.assign(r, { status: 'skipped', message: `not run: ${err.message}` });
        onStart(s);
        result.scenarios.push(r);
        onEnd(r);
      }
      return result;
    }
    try {
      const v = /redis_version:(\S+)/.exec(await client.info('server'))?.[1];
      if (v) result.target.version = v;
    } catch {
      // INFO not allowed
    }
    stopHeartbeat = startHeartbeat(client, runId);
    say(`run ${runId}: keys under ${prefix}: on ${where}`);
    try {
      const left = await removeLeftovers(client, runId);
      Object.assign(result.cleanup, { leftoverPrefixes: left.prefixes, leftoverKeys: left.keys });
      if (left.prefixes.length > 0)
        say(
          `removed ${left.keys} keys of ${left.prefixes.length} interrupted earlier run(s): ${left.prefixes.join(', ')}`,
        );
      if (left.alive.length > 0)
        say(`left alone: ${left.alive.join(', ')} (another suite run is in progress)`);
    } catch (e) {
      result.cleanup.errors.push(`removing leftovers of earlier runs: ${explain(e)}`);
    }

    let fallback: { path: string; scratch: boolean } | undefined;
    let userSettings: Promise<{ settings: Record<string, string>; note?: string }> | undefined;
    const redisServer = findRedisServer(
      options.redisServerPath,
      options.searchPath ?? process.env.PATH,
    );
    let companion: Promise<CompanionPython | string> | undefined;
    const findCompanion = (): Promise<CompanionPython | string> =>
      (companion ??= (async () => {
        const root = options.companionRoot;
        if (!root)
          return `the Python companion (python/${COMPANION_PACKAGE}) is not part of this installation`;
        try {
          const found = await findPython(options.pythons ?? DEFAULT_PYTHONS, root, signal);
          return { ...found, root };
        } catch (e) {
          if (signal.aborted) throw new SuiteCancelled();
          return errorMessage(e);
        }
      })());
    const ensureFallback = () => {
      if (!fallback) {
        if (options.sqlitePath)
          fallback = { path: path.resolve(options.sqlitePath), scratch: false };
        else {
          const p = path.join(tempDir, 'fallback.db');
          createScratchFallback(p);
          fallback = { path: p, scratch: true };
        }
      }
      return fallback;
    };

    for (const info of selected) {
      const r = blank(info.id, Date.now());
      if (signal.aborted) {
        Object.assign(r, { status: 'skipped', message: 'cancelled' });
        result.scenarios.push(r);
        onEnd(r);
        continue;
      }
      onStart(info);
      const ctx: ScenarioContext = {
        id: info.id,
        runId,
        options: opts,
        signal,
        prefix: `${prefix}:${info.id}`,
        log: (line) => {
          r.log.push(line);
          say(line, info.id);
        },
        user: {
          url: options.redisUrl,
          password: options.password,
          settings: options.settings,
          where,
          client,
          explain,
        },
        get fallback() {
          return ensureFallback();
        },
        companion: findCompanion,
        tempDir,
        startDisposable: async () => {
          if (!redisServer.path)
            throw new SkipScenario(
              `needs a disposable redis-server to stop and restart, and ${redisServer.why}`,
            );
          let settings: Record<string, string> | undefined;
          if (!options.redisConfigFile) {
            userSettings ??= readUserSettings(client!);
            const s = await userSettings;
            if (s.note) r.log.push(s.note);
            settings = s.settings;
          }
          const d = new DisposableRedis({
            binary: redisServer.path,
            parentDir: tempDir,
            name: `redis-${info.id}`,
            settings,
            configFile: options.redisConfigFile,
          });
          disposables.add(d);
          await d.start(signal);
          return d;
        },
      };
      let outcome: ScenarioOutcome;
      try {
        outcome = await IMPLEMENTATIONS[info.id](ctx);
        if (signal.aborted) throw new SuiteCancelled();
      } catch (e) {
        if (e instanceof SuiteCancelled || signal.aborted)
          outcome = { status: 'skipped', message: 'cancelled', metrics: {}, checks: [] };
        else if (e instanceof SkipScenario)
          outcome = { status: 'skipped', message: e.message, metrics: {}, checks: [] };
        else outcome = { status: 'failed', message: errorMessage(e), metrics: {}, checks: [] };
      }
      Object.assign(r, outcome, { durationMs: Date.now() - r.startedAt });
      if (r.status !== 'passed') r.log.push(`${r.status}: ${r.message}`);
      result.scenarios.push(r);
      onEnd(r);
    }
    return result;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    result.cancelled = signal.aborted;
    for (const d of disposables) {
      await d
        .dispose()
        .catch((e) => result.cleanup.errors.push(`disposable server: ${errorMessage(e)}`));
    }
    stopHeartbeat?.();
    if (client) {
      try {
        if (opts.keepData) await client.unlink(`${prefix}:alive`);
        else result.cleanup.removedKeys = await removeRun(client, runId);
        say(
          opts.keepData
            ? `kept the run's keys under ${prefix}:`
            : `removed the run's ${result.cleanup.removedKeys} keys`,
        );
      } catch (e) {
        result.cleanup.errors.push(
          `removing this run's keys under ${prefix}: (they will be removed by the next run): ${explain(e)}`,
        );
      }
      client.disconnect();
    }
    try {
      fs.rmSync(tempDir, { recursive: true, force: true });
    } catch (e) {
      result.cleanup.errors.push(`removing ${tempDir}: ${errorMessage(e)}`);
    }
    result.finishedAt = Date.now();
    result.durationMs = result.finishedAt - startedAt;
  }
}

function blank(id: ScenarioId, startedAt: number): ScenarioResult {
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

function describeOptions(o: SuiteOptions, r: ResolvedOptions): Record<string, MetricValue> {
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
