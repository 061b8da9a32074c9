import * as path from 'node:path';
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
import { basicConnection } from './scenarios/basicConnection';
import { concurrentStudies } from './scenarios/concurrentStudies';
import { connectionRecovery } from './scenarios/connectionRecovery';
import { failover } from './scenarios/failover';
import { highConcurrency } from './scenarios/highConcurrency';
import { singleStudy } from './scenarios/singleStudy';
import { createScratchFallback } from './scratchSqlite';
import { blankResult } from './suiteResult';
import type { UserConnection } from './userConnection';
import {
  COMPANION_PACKAGE,
  type CompanionPython,
  DEFAULT_PYTHONS,
  findPython,
} from '../python/companion';
import type { ScenarioId, ScenarioInfo, ScenarioResult, SuiteOptions } from './types';

const IMPLEMENTATIONS: Record<ScenarioId, Scenario> = {
  'basic-connection': basicConnection,
  'single-study': singleStudy,
  'concurrent-studies': concurrentStudies,
  failover,
  'connection-recovery': connectionRecovery,
  'high-concurrency': highConcurrency,
};

/** What the scenarios of one run share, set up by runSuite (which also tears it down). */
export interface SuiteRun {
  options: SuiteOptions;
  opts: ResolvedOptions;
  runId: string;
  prefix: string;
  signal: AbortSignal;
  where: string;
  user: UserConnection;
  tempDir: string;
  /** Every disposable server a scenario started; runSuite disposes them whatever happens. */
  disposables: Set<DisposableRedis>;
  onStart(info: ScenarioInfo): void;
  onEnd(result: ScenarioResult): void;
  say(line: string, scenario?: ScenarioId): void;
}

/**
 * Runs the selected scenarios in order, each with its own context, into `results`. Never
 * throws for a scenario: a failure, a skip (SkipScenario) and a cancellation are outcomes; once
 * the signal aborts, the remaining scenarios are `skipped` with "cancelled".
 */
export async function runScenarios(
  run: SuiteRun,
  selected: readonly ScenarioInfo[],
  results: ScenarioResult[],
): Promise<void> {
  const { signal } = run;
  const lazy = sharedResources(run);
  for (const info of selected) {
    const r = blankResult(info.id, Date.now());
    if (signal.aborted) {
      Object.assign(r, { status: 'skipped', message: 'cancelled' });
      results.push(r);
      run.onEnd(r);
      continue;
    }
    run.onStart(info);
    let outcome: ScenarioOutcome;
    try {
      outcome = await IMPLEMENTATIONS[info.id](scenarioContext(run, lazy, info, r));
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
    results.push(r);
    run.onEnd(r);
  }
}

/**
 * What only some scenarios need, made on first use and then shared: the SQLite fallback (a
 * scratch file is created only if a scenario reads it), the Python companion (found once),
 * the redis-server binary and the user's settings for disposable servers (read once).
 */
function sharedResources(run: SuiteRun) {
  const { options, signal } = run;
  let fallback: { path: string; scratch: boolean } | undefined;
  let companion: Promise<CompanionPython | string> | undefined;
  let userSettings: Promise<{ settings: Record<string, string>; note?: string }> | undefined;
  return {
    redisServer: findRedisServer(options.redisServerPath, options.searchPath ?? process.env.PATH),
    fallback(): { path: string; scratch: boolean } {
      if (!fallback) {
        if (options.sqlitePath)
          fallback = { path: path.resolve(options.sqlitePath), scratch: false };
        else {
          const p = path.join(run.tempDir, 'fallback.db');
          createScratchFallback(p);
          fallback = { path: p, scratch: true };
        }
      }
      return fallback;
    },
    companion(): Promise<CompanionPython | string> {
      return (companion ??= (async () => {
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
    },
    userSettings(): Promise<{ settings: Record<string, string>; note?: string }> {
      return (userSettings ??= readUserSettings(run.user.client));
    },
  };
}

/** One scenario's view of the run; what it logs goes to its result and to the hooks. */
function scenarioContext(
  run: SuiteRun,
  lazy: ReturnType<typeof sharedResources>,
  info: ScenarioInfo,
  r: ScenarioResult,
): ScenarioContext {
  const { options, signal } = run;
  return {
    id: info.id,
    runId: run.runId,
    options: run.opts,
    signal,
    prefix: `${run.prefix}:${info.id}`,
    log: (line) => {
      r.log.push(line);
      run.say(line, info.id);
    },
    user: {
      url: options.redisUrl,
      password: options.password,
      settings: options.settings,
      where: run.where,
      client: run.user.client,
      explain: run.user.explain,
    },
    get fallback() {
      return lazy.fallback();
    },
    companion: lazy.companion,
    tempDir: run.tempDir,
    startDisposable: async () => {
      const binary = lazy.redisServer.path;
      if (!binary)
        throw new SkipScenario(
          `needs a disposable redis-server to stop and restart, and ${lazy.redisServer.why}`,
        );
      let settings: Record<string, string> | undefined;
      // A given config file is the server's own configuration; otherwise it copies the user's.
      if (!options.redisConfigFile) {
        const s = await lazy.userSettings();
        if (s.note) r.log.push(s.note);
        settings = s.settings;
      }
      const d = new DisposableRedis({
        binary,
        parentDir: run.tempDir,
        name: `redis-${info.id}`,
        settings,
        configFile: options.redisConfigFile,
      });
      run.disposables.add(d);
      await d.start(signal);
      return d;
    },
  };
}
