import * as fs from 'node:fs';
import * as path from 'node:path';
import { effectiveSettings, parseConfigText } from './configFile';
import { type DeployOptions, reachableHost, renderDeployConfig } from './deployConfig';
import { parseInfo } from './info';
import { sameDir, stamp, uniquePath } from './localPaths';
import { connectLocalAuth, portOpen } from './redisProcess';
import { checkOnScratchPort } from './scratchCheck';
import { configReplyToMap } from './serverConfig';
import { localSystemFacts } from './systemFacts';

/**
 * Deploy's first half: what it will do, decided and put into sentences without changing
 * anything, so the user can confirm it (executeDeploy carries it out).
 */

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
