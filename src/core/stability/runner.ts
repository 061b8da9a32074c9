import { setMaxListeners } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RedisConnectError } from '../redis/connectError';
import { describeEndpoint, parseRedisUrl } from '../redis/url';
import { SuiteCancelled } from './abort';
import { errorMessage } from './context';
import type { DisposableRedis } from './disposableRedis';
import { TEMP_DIR_PREFIX, removeStaleTempDirs, suiteTempRoot } from './suiteTempDirs';
import { freshPrivateDir } from '../privateDir';
import { newRunId, removeLeftovers, removeRun, runPrefix, startHeartbeat } from './namespace';
import { SCENARIOS } from './scenarios';
import { runScenarios } from './scenarioLoop';
import { resolveOptions } from './suiteOptions';
import { emptySuiteResult, unreachableResult } from './suiteResult';
import { type UserConnection, connectUser, serverVersion } from './userConnection';
import type { SuiteHooks, SuiteOptions, SuiteResult } from './types';

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

  const result = emptySuiteResult({ runId, prefix, endpoint, where, options, opts, startedAt });
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
  let user: UserConnection | undefined;
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
      user = await connectUser(options, endpoint, where);
    } catch (e) {
      // connectUser words every connection failure; anything else is a defect, not a finding.
      if (!(e instanceof RedisConnectError)) throw e;
      const why = e.message;
      result.unreachable = { failure: e.failure, message: why };
      say(`cannot use ${where}: ${why}`);
      for (const s of selected) {
        const r = unreachableResult(s.id, startedAt, why);
        onStart(s);
        result.scenarios.push(r);
        onEnd(r);
      }
      return result;
    }
    const version = await serverVersion(user.client);
    if (version) result.target.version = version;
    stopHeartbeat = startHeartbeat(user.client, runId);
    say(`run ${runId}: keys under ${prefix}: on ${where}`);
    try {
      const left = await removeLeftovers(user.client, runId);
      Object.assign(result.cleanup, { leftoverPrefixes: left.prefixes, leftoverKeys: left.keys });
      if (left.prefixes.length > 0)
        say(
          `removed ${left.keys} keys of ${left.prefixes.length} interrupted earlier run(s): ${left.prefixes.join(', ')}`,
        );
      if (left.alive.length > 0)
        say(`left alone: ${left.alive.join(', ')} (another suite run is in progress)`);
    } catch (e) {
      result.cleanup.errors.push(`removing leftovers of earlier runs: ${user.explain(e)}`);
    }

    await runScenarios(
      {
        options,
        opts,
        runId,
        prefix,
        signal,
        where,
        user,
        tempDir,
        disposables,
        onStart,
        onEnd,
        say,
      },
      selected,
      result.scenarios,
    );
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
    if (user) {
      try {
        if (opts.keepData) await user.client.unlink(`${prefix}:alive`);
        else result.cleanup.removedKeys = await removeRun(user.client, runId);
        say(
          opts.keepData
            ? `kept the run's keys under ${prefix}:`
            : `removed the run's ${result.cleanup.removedKeys} keys`,
        );
      } catch (e) {
        result.cleanup.errors.push(
          `removing this run's keys under ${prefix}: (they will be removed by the next run): ${user.explain(e)}`,
        );
      }
      user.client.disconnect();
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
