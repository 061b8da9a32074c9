import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { effectiveSettings, parseConfigText } from './configFile';
import type { DeployPlan, RunningServer } from './deploy';
import type { DeployOptions } from './deployConfig';
import { waitForAofRewrite } from './liveFixes';
import { sameDir, stamp, uniquePath } from './localPaths';
import { connectLocal, shutdownSave, startDaemon } from './redisProcess';

/**
 * Deploy's second half: carrying out a plan that planDeploy (deploy.ts) made and the user
 * confirmed, step by step, each step reported as it is done.
 */

/** A file or directory deploy may not write; the message says what to run. */
export class DeployPermissionError extends Error {}

/** A permission failure as the command that fixes it; `dir` is the directory to own. */
function permissionHint(e: NodeJS.ErrnoException, what: string, p: string, dir: string): Error {
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return new DeployPermissionError(
      `${what} ${p}: ${e.code}. Run deploy as root (sudo -E optuna-storage deploy …), or let your user write there: ` +
        `sudo mkdir -p ${dir} && sudo chown "$(id -un)" ${dir}; or choose paths you own with --target, --data-dir, --log-file and --pid-file.`,
    );
  }
  return e;
}

export interface DeployResult {
  /** Sentences of what was done, in order. */
  done: string[];
  host: string;
  port: number;
}

/**
 * Carries out a plan. Before the running server is stopped nothing of it is touched; once it
 * is stopped with its data saved, the new one is started even if copying needed a retry by
 * hand — the error then says which files to copy.
 */
export async function executeDeploy(
  plan: DeployPlan,
  ctx: { signal?: AbortSignal; onStep?: (message: string) => void } = {},
): Promise<DeployResult> {
  const o = plan.options;
  const done: string[] = [];
  const step = (m: string) => {
    done.push(m);
    ctx.onStep?.(m);
  };
  const result = { done, host: plan.host, port: o.port };
  if (plan.upToDate) {
    step('nothing to change: already deployed and running');
    return result;
  }
  const checkAbort = () => ctx.signal?.throwIfAborted();

  for (const dir of [
    o.dataDir,
    path.dirname(o.logFile),
    path.dirname(o.pidFile),
    path.dirname(o.target),
  ]) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    } catch (e) {
      throw permissionHint(e as NodeJS.ErrnoException, 'cannot create the directory', dir, dir);
    }
  }
  if (plan.backupPath) {
    try {
      fs.copyFileSync(o.target, plan.backupPath, fs.constants.COPYFILE_EXCL);
    } catch (e) {
      throw permissionHint(
        e as NodeJS.ErrnoException,
        'cannot back up',
        o.target,
        path.dirname(o.target),
      );
    }
    step(`backed up ${o.target} to ${plan.backupPath}`);
  }
  if (!plan.targetUnchanged) {
    // A fresh name created exclusively (O_EXCL): a file or symlink planted at a predictable
    // name could otherwise receive the config, password included, with its own mode.
    const tmp = `${o.target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      fs.writeFileSync(tmp, plan.rendered, {
        mode: plan.newPassword ? 0o600 : 0o644,
        flag: 'wx',
      });
      fs.renameSync(tmp, o.target);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw permissionHint(
        e as NodeJS.ErrnoException,
        'cannot write',
        o.target,
        path.dirname(o.target),
      );
    }
    step(`wrote ${o.target}`);
  }
  checkAbort();

  const running = plan.running;
  if (running) {
    const { wantsAof } = plan;
    const redis = await connectLocal(plan.host, o.port, o.currentPassword);
    try {
      if (wantsAof && !running.appendonly) {
        await redis.call('CONFIG', 'SET', 'appendonly', 'yes');
        await waitForAofRewrite(redis, { signal: ctx.signal });
        step('the running Redis now has a complete append-only file');
      }
      checkAbort();
    } catch (e) {
      redis.disconnect();
      throw e;
    }
    await shutdownSave(redis, plan.host, o.port);
    step(`stopped Redis ${running.version} (pid ${running.pid ?? '?'}) with SHUTDOWN SAVE`);
    if (!sameDir(running.dir, o.dataDir))
      copyData(running, o, wantsAof, (o.now ?? (() => new Date()))(), step);
  }

  try {
    await startDaemon({
      binary: o.redisServer ?? 'redis-server',
      configPath: o.target,
      args: plan.convertRdb ? ['--appendonly', 'no'] : [],
      host: plan.host,
      port: o.port,
      password: plan.newPassword,
      logFile: o.logFile,
      pidFile: o.pidFile,
      timeoutMs: o.startTimeoutMs,
      signal: ctx.signal,
    });
  } catch (e) {
    if (!running) throw e;
    throw new Error(
      `${(e as Error).message}\nThe previous Redis was stopped with its data saved in ${running.dir}${sameDir(running.dir, o.dataDir) ? '' : ` (and copied to ${o.dataDir})`}: fix the cause above and run deploy again.`,
      { cause: e },
    );
  }
  step(`Redis answers PONG on ${plan.host}:${o.port}, running from ${o.target}`);
  if (plan.convertRdb) {
    const redis = await connectLocal(plan.host, o.port, plan.newPassword);
    try {
      await redis.call('CONFIG', 'SET', 'appendonly', 'yes');
      await waitForAofRewrite(redis, { signal: ctx.signal });
    } finally {
      redis.disconnect();
    }
    step(
      'loaded the RDB and wrote the append-only file from it (appendonly yes is live, as the config says)',
    );
  }
  return result;
}

/** Copies the stopped server's RDB and AOF directory into the new data dir, never overwriting. */
function copyData(
  running: RunningServer,
  o: DeployOptions,
  wantsAof: boolean,
  now: Date,
  step: (m: string) => void,
): void {
  const settings = effectiveSettings(parseConfigText(fs.readFileSync(o.target, 'utf8'), o.target));
  const dbfilename = settings.get('dbfilename')?.value ?? 'dump.rdb';
  const appenddirname = settings.get('appenddirname')?.value ?? 'appendonlydir';
  const moves: Array<[string, string]> = [
    [path.join(running.dir, running.dbfilename), path.join(o.dataDir, dbfilename)],
  ];
  if (running.appendonly || wantsAof)
    moves.push([
      path.join(running.dir, running.appenddirname),
      path.join(o.dataDir, appenddirname),
    ]);
  const present = moves.filter(([, to]) => fs.existsSync(to));
  if (present.length > 0) {
    const aside = uniquePath(path.join(o.dataDir, `pre-deploy-${stamp(now)}`));
    fs.mkdirSync(aside);
    for (const [, to] of present) fs.renameSync(to, path.join(aside, path.basename(to)));
    step(`moved the files already in ${o.dataDir} to ${aside}`);
  }
  for (const [from, to] of moves) {
    if (!fs.existsSync(from)) continue;
    try {
      fs.cpSync(from, to, { recursive: true, errorOnExist: true, force: false });
    } catch (e) {
      throw new Error(
        `Redis was stopped with its data saved in ${running.dir}, but copying ${from} to ${to} failed (${(e as Error).message}). Copy it by hand, then run deploy again.`,
        { cause: e },
      );
    }
    step(`copied ${from} to ${to}`);
  }
}
