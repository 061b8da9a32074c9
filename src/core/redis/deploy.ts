import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { effectiveSettings, parseConfigText } from './configFile';
import { setDirectives } from './configRender';
import type { SystemFacts } from './doctorRules';
import { parseInfo } from './info';
import { waitForAofRewrite } from './liveFixes';
import {
  ConfigValidationError,
  connectLocal,
  connectLocalAuth,
  freeLoopbackPort,
  portOpen,
  shutdownSave,
  startDaemon,
  validateWithScratchServer,
} from './redisProcess';
import { configReplyToMap } from './serverConfig';
import { localSystemFacts } from './systemFacts';

/** Where deploy puts things unless told otherwise (documented in redis/README.md). */
export const DEPLOY_DEFAULTS = {
  target: '/etc/redis/redis-autodl.conf',
  dataDir: '/root/autodl-tmp/redis',
  logFile: '/var/log/redis/redis-autodl.log',
  pidFile: '/var/run/redis/redis-autodl.pid',
  port: 6379,
};

export interface DeployOptions {
  /** The config to install: the shipped one or a user's edit of it. */
  source: string;
  target: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
  port: number;
  /** Written as requirepass (the file is then mode 0600). */
  password?: string;
  /** The password of the server running on the port now, if it has one. */
  currentPassword?: string;
  redisServer?: string;
  /** Facts of this machine (read from /proc unless given). */
  system?: SystemFacts;
  now?: () => Date;
  startTimeoutMs?: number;
}

/** The server found on the target port before deploying. */
export interface RunningServer {
  version: string;
  pid?: number;
  configFile: string;
  dir: string;
  dbfilename: string;
  appendonly: boolean;
  appenddirname: string;
  /** It refuses clients without its password. */
  passwordRequired: boolean;
}

export interface DeployPlan {
  options: DeployOptions;
  /** The config text that will be written to the target. */
  rendered: string;
  /** Values deploy changed to fit this machine, in words. */
  adjustments: string[];
  host: string;
  /** The target already holds exactly this text. */
  targetUnchanged: boolean;
  backupPath?: string;
  running?: RunningServer;
  /** The running server already is this deployment: nothing to stop or start. */
  upToDate: boolean;
  /**
   * The data dir holds only an RDB while the config wants the AOF: Redis 7 would start
   * empty, so the server is started on the RDB and switched to the AOF live.
   */
  convertRdb: boolean;
  /** The rendered config says `appendonly yes`. */
  wantsAof: boolean;
  /** What `executeDeploy` will do, in order, as sentences. */
  actions: string[];
  /** requirepass of the rendered config, to reach the new server. */
  newPassword?: string;
  /**
   * The server running now requires a password and the new config sets none: deploying
   * would leave every study open to whoever reaches the port. Callers ask before that.
   */
  removesPassword: boolean;
}

/** A file or directory deploy may not write; the message says what to run. */
export class DeployPermissionError extends Error {}

/** Local time as 20250131-235959, for folders a person finds by date. */
export function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** An address of `bind` to reach the server on: loopback when it listens there. */
export function reachableHost(bind: string | undefined): string {
  const addrs = (bind ?? '* -::*')
    .split(/\s+/)
    .filter(Boolean)
    .map((a) => a.replace(/^-/, ''));
  if (addrs.some((a) => a === '*' || a === '0.0.0.0' || /^127\./.test(a) || a === 'localhost'))
    return '127.0.0.1';
  if (addrs.some((a) => a === '::1' || a === '::' || a === '::*')) return '::1';
  return addrs[0] ?? '127.0.0.1';
}

/** Adjusts the source config to this machine and these paths, without touching other lines. */
export function renderDeployConfig(
  source: string,
  opts: DeployOptions,
  sys: SystemFacts,
): { text: string; adjustments: string[] } {
  const settings = effectiveSettings(parseConfigText(source, opts.source));
  const adjustments: string[] = [];
  const values: Array<[string, string[]]> = [
    ['port', [String(opts.port)]],
    ['dir', [opts.dataDir]],
    ['logfile', [opts.logFile]],
    ['pidfile', [opts.pidFile]],
    ['daemonize', ['yes']],
  ];
  const backlog = Number(settings.get('tcp-backlog')?.value ?? 511);
  if (sys.somaxconn !== undefined && backlog > sys.somaxconn) {
    values.push(['tcp-backlog', [String(sys.somaxconn)]]);
    adjustments.push(`tcp-backlog ${backlog} -> ${sys.somaxconn} (/proc/sys/net/core/somaxconn)`);
  }
  const maxclients = Number(settings.get('maxclients')?.value ?? 10000);
  if (sys.openFilesLimit !== undefined && maxclients + 32 > sys.openFilesLimit) {
    values.push(['maxclients', [String(Math.max(1, sys.openFilesLimit - 32))]]);
    adjustments.push(
      `maxclients ${maxclients} -> ${sys.openFilesLimit - 32} (open-file limit ${sys.openFilesLimit}, minus 32 Redis keeps for itself)`,
    );
  }
  if (opts.password !== undefined) values.push(['requirepass', [opts.password]]);
  return { text: setDirectives(source, values), adjustments };
}

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

async function inspectRunning(
  host: string,
  port: number,
  password?: string,
): Promise<RunningServer | undefined> {
  if (!(await portOpen(host, port))) return undefined;
  let redis;
  let passwordRequired;
  try {
    ({ redis, passwordRequired } = await connectLocalAuth(host, port, password));
  } catch (e) {
    throw new Error(
      `Something listens on ${host}:${port} but deploy cannot talk to it as Redis (${(e as Error).message}). ` +
        (/password|credentials|NOAUTH/i.test((e as Error).message)
          ? 'Put its password in $OPTUNA_STORAGE_REDIS_PASSWORD.'
          : 'Stop it, or deploy on another --port.'),
      { cause: e },
    );
  }
  try {
    const info = parseInfo(await redis.info('server'));
    const cfg = configReplyToMap((await redis.call('CONFIG', 'GET', '*')) as string[]);
    const get = (k: string) => cfg.get(k) ?? '';
    return {
      version: info.get('redis_version') ?? '?',
      pid: info.num('process_id'),
      configFile: info.get('config_file') ?? '',
      dir: get('dir'),
      dbfilename: get('dbfilename') || 'dump.rdb',
      appendonly: get('appendonly') === 'yes',
      appenddirname: get('appenddirname') || 'appendonlydir',
      passwordRequired,
    };
  } finally {
    redis.disconnect();
  }
}

function sameDir(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * Runs a config text with a real redis-server on a scratch port and in a scratch directory,
 * and stops it again: the real `dir` may not exist yet (Redis applies `dir` while it reads the
 * file), and the real port may be in use. Throws ConfigValidationError with Redis's own
 * explanation (line and directive) when the config is refused.
 */
export async function checkOnScratchPort(
  text: string,
  opts: { binary: string; host: string; password?: string },
): Promise<void> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deploy-check-'));
  try {
    const scratchPort = await freeLoopbackPort();
    const scratchConfig = path.join(scratch, 'redis.conf');
    fs.writeFileSync(
      scratchConfig,
      setDirectives(text, [
        ['port', [String(scratchPort)]],
        ['dir', [scratch]],
        ['logfile', ['']],
        ['pidfile', [path.join(scratch, 'redis.pid')]],
        ['daemonize', ['no']],
      ]),
      { mode: 0o600, flag: 'wx' },
    );
    await validateWithScratchServer({
      binary: opts.binary,
      configPath: scratchConfig,
      cwd: scratch,
      host: opts.host,
      port: scratchPort,
      password: opts.password,
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Everything deploy will do, decided without changing anything: the config rendered for this
 * machine and validated by a real redis-server on a scratch port and directory, and the
 * server already on the port inspected. Throws ConfigValidationError with Redis's own
 * explanation (line and directive) when the config is refused.
 */
export async function planDeploy(opts: DeployOptions): Promise<DeployPlan> {
  const sys = opts.system ?? localSystemFacts();
  const binary = opts.redisServer ?? 'redis-server';
  let source: string;
  try {
    source = fs.readFileSync(opts.source, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the config ${opts.source}: ${(e as Error).message}`, { cause: e });
  }
  const { text: rendered, adjustments } = renderDeployConfig(source, opts, sys);
  const settings = effectiveSettings(parseConfigText(rendered, opts.target));
  const host = reachableHost(settings.get('bind')?.value);
  const newPassword = settings.get('requirepass')?.value || undefined;

  await checkOnScratchPort(rendered, { binary, host, password: newPassword });

  let current: string | undefined;
  try {
    current = fs.readFileSync(opts.target, 'utf8');
  } catch {
    current = undefined;
  }
  const targetUnchanged = current === rendered;
  const backupPath =
    current !== undefined && !targetUnchanged
      ? uniquePath(`${opts.target}.bak-${stamp((opts.now ?? (() => new Date()))())}`)
      : undefined;
  const running = await inspectRunning(host, opts.port, opts.currentPassword);
  const upToDate =
    targetUnchanged &&
    running !== undefined &&
    running.configFile !== '' &&
    sameDir(running.configFile, opts.target) &&
    sameDir(running.dir, opts.dataDir);
  const wantsAof = settings.get('appendonly')?.value === 'yes';
  const dbfilename = settings.get('dbfilename')?.value ?? 'dump.rdb';
  const appenddirname = settings.get('appenddirname')?.value ?? 'appendonlydir';
  const convertRdb =
    !running &&
    wantsAof &&
    fs.existsSync(path.join(opts.dataDir, dbfilename)) &&
    !fs.existsSync(path.join(opts.dataDir, appenddirname));

  // The scratch server above answered with newPassword only: without one, the new server
  // lets anybody in.
  const removesPassword = !upToDate && running?.passwordRequired === true && !newPassword;
  const actions: string[] = [
    `validated the config with redis-server on a scratch port and directory: OK`,
  ];
  if (removesPassword)
    actions.push(
      `REMOVE THE PASSWORD: the Redis running on port ${opts.port} requires one, and the new config sets no requirepass, so afterwards anyone who reaches ${host}:${opts.port} can read and delete every study`,
    );
  for (const a of adjustments) actions.push(`adjust ${a}`);
  if (upToDate) {
    actions.push(
      `nothing to change: Redis ${running!.version} (pid ${running!.pid}) already runs from ${opts.target} with data in ${opts.dataDir}`,
    );
  } else {
    if (backupPath) actions.push(`back up the current ${opts.target} to ${backupPath}`);
    actions.push(
      targetUnchanged
        ? `${opts.target} already has this content`
        : `write ${opts.target}${newPassword ? ' (mode 0600: it holds the password)' : ''}`,
    );
    actions.push(
      `create ${[opts.dataDir, path.dirname(opts.logFile), path.dirname(opts.pidFile)].filter((d, i, a) => a.indexOf(d) === i).join(', ')} if missing`,
    );
    if (running) {
      if (wantsAof && !running.appendonly)
        actions.push(
          `switch the running Redis to the append-only file live (CONFIG SET appendonly yes) and wait until it has been written: with appendonly yes Redis 7 loads only the AOF`,
        );
      actions.push(
        `stop the running Redis ${running.version} (pid ${running.pid ?? '?'}, data in ${running.dir}) with SHUTDOWN SAVE`,
      );
      if (!sameDir(running.dir, opts.dataDir))
        actions.push(
          `copy its data (${running.dbfilename}${running.appendonly || wantsAof ? `, ${running.appenddirname}/` : ''}) from ${running.dir} to ${opts.dataDir}; files already there are moved to ${opts.dataDir}/pre-deploy-<time>/`,
        );
    }
    if (convertRdb) {
      actions.push(
        `start ${binary} ${opts.target} --appendonly no (daemonized) so that it loads ${dbfilename}: with appendonly yes Redis 7 would ignore it and start empty`,
      );
      actions.push(
        'switch it to the append-only file live (CONFIG SET appendonly yes), as the config file says, and wait until that has been written',
      );
    } else {
      actions.push(
        `start ${binary} ${opts.target} (daemonized) and wait for PONG on ${host}:${opts.port}`,
      );
    }
  }
  return {
    options: opts,
    rendered,
    adjustments,
    host,
    targetUnchanged,
    backupPath,
    running,
    upToDate,
    convertRdb,
    wantsAof,
    actions,
    newPassword,
    removesPassword,
  };
}

/** `p`, or `p-1`, `p-2`… whichever does not exist yet. */
export function uniquePath(p: string): string {
  let candidate = p;
  for (let i = 1; fs.existsSync(candidate); i++) candidate = `${p}-${i}`;
  return candidate;
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

export { ConfigValidationError };
