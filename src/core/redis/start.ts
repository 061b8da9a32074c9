import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOnScratchPort } from './scratchCheck';
import {
  type DeployedConfig,
  deployedUrl,
  livePidFromFile,
  readDeployedConfig,
} from './deployedConfig';
import { parseInfo } from './info';
import { type JournalCheck, journalEntryCounts } from './journalCheck';
import { waitForAofRewrite } from './liveFixes';
import { connectLocal, portOpen, startDaemon } from './redisProcess';

/**
 * Something already answers on the deployed port, or a server of this config is alive: a
 * second server would either fail to bind or, worse, write the same AOF. `same` says that
 * the server answering is the deployed one (nothing to do).
 */
export class AlreadyRunningError extends Error {
  constructor(
    message: string,
    readonly same: boolean,
  ) {
    super(message);
  }
}

export interface StartOptions {
  /** The deployed config file. */
  target: string;
  redisServer?: string;
  /** Password for a server whose config has no requirepass (to say what answers). */
  password?: string;
  /** How long the server may take to answer PONG (loading a large AOF); default 2 min. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onStep?: (message: string) => void;
}

export interface StartResult {
  config: DeployedConfig;
  url: string;
  version: string;
  pid?: number;
  /** Journal prefixes on the started server and their entry counts. */
  journals: JournalCheck[];
  done: string[];
}

/** What answers on host:port, in words ("Redis 7.0.15, pid 42, config /etc/…"). */
async function describeListener(
  host: string,
  port: number,
  password?: string,
): Promise<{ text: string; configFile?: string }> {
  try {
    const c = await connectLocal(host, port, password);
    try {
      const info = parseInfo(await c.info('server'));
      const configFile = info.get('config_file') || undefined;
      return {
        text: `Redis ${info.get('redis_version') ?? '?'} (pid ${info.get('process_id') ?? '?'}${configFile ? `, config ${configFile}` : ', no config file'})`,
        configFile,
      };
    } finally {
      c.disconnect();
    }
  } catch (e) {
    return { text: `a process that does not answer as Redis here (${(e as Error).message})` };
  }
}

/**
 * Refuses when the deployed port answers or a redis-server of this config (its pid file) is
 * alive: Start never starts a second server.
 */
export async function ensureNotRunning(c: DeployedConfig, password?: string): Promise<void> {
  if (await portOpen(c.host, c.port)) {
    const what = await describeListener(c.host, c.port, c.password ?? password);
    const same =
      what.configFile !== undefined && path.resolve(what.configFile) === path.resolve(c.target);
    throw new AlreadyRunningError(
      same
        ? `Redis is already running from ${c.target} on ${c.host}:${c.port}: ${what.text}. Nothing was started.`
        : `${c.host}:${c.port} already answers: ${what.text}. A second server is never started on a port in use: stop that one first, or deploy on another port.`,
      same,
    );
  }
  const pid = livePidFromFile(c.pidFile);
  if (pid !== undefined)
    throw new AlreadyRunningError(
      `redis-server pid ${pid} (from ${c.pidFile}) is alive but does not answer on ${c.host}:${c.port}: it may still be starting or be stuck. Nothing was started: a second server would write the same files in ${c.dir}.`,
      false,
    );
}

/**
 * The data dir holds an RDB but no AOF directory while the config wants the AOF: Redis 7
 * would load nothing and start empty, so the RDB must be loaded with the AOF off first.
 */
export function needsRdbLoad(c: DeployedConfig): boolean {
  return (
    c.appendonly &&
    fs.existsSync(path.join(c.dir, c.dbfilename)) &&
    !fs.existsSync(path.join(c.dir, c.appenddirname))
  );
}

/**
 * Launches redis-server on a deployed config and waits for PONG: daemonized whatever the file
 * says (the launcher must return once the server forked), with the log and pid directories
 * a restarted container may have lost; `fromRdb` starts it with the AOF off.
 */
export async function launchDeployed(
  c: DeployedConfig,
  o: {
    binary: string;
    password?: string;
    fromRdb: boolean;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<void> {
  for (const d of [c.logFile, c.pidFile].filter(Boolean).map((f) => path.dirname(f)))
    fs.mkdirSync(d, { recursive: true, mode: 0o750 });
  await startDaemon({
    binary: o.binary,
    configPath: c.target,
    args: ['--daemonize', 'yes', ...(o.fromRdb ? ['--appendonly', 'no'] : [])],
    host: c.host,
    port: c.port,
    password: o.password,
    logFile: c.logFile,
    pidFile: c.pidFile,
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    cwd: path.dirname(c.target),
  });
}

/**
 * Starts the configuration deploy installed, as after a container restart: refuses when the
 * port answers, checks that the data directory is there (an unmounted data disk would start
 * an empty server), validates the config on a scratch port, creates the log and pid
 * directories, starts redis-server daemonized and waits for PONG (the log's tail when it does
 * not come). A data directory that holds only an RDB while the config wants the AOF is loaded
 * from the RDB and switched to the AOF live, as deploy does (Redis 7 would start empty).
 */
export async function startDeployed(o: StartOptions): Promise<StartResult> {
  const done: string[] = [];
  const step = (m: string) => {
    done.push(m);
    o.onStep?.(m);
  };
  const c = readDeployedConfig(o.target);
  const binary = o.redisServer ?? 'redis-server';
  await ensureNotRunning(c, o.password);
  if (!fs.existsSync(c.dir))
    throw new Error(
      `the data directory ${c.dir} of ${c.target} does not exist: is the data disk mounted? Start does not create it, because Redis would start there empty instead of with your journal. Mount the disk (or correct dir in the config) and start again.`,
    );
  o.signal?.throwIfAborted();
  o.onStep?.('checking the config with redis-server on a scratch port');
  await checkOnScratchPort(fs.readFileSync(c.target, 'utf8'), {
    binary,
    host: c.host,
    password: c.password,
  });
  step(`validated ${c.target} with redis-server on a scratch port and directory`);
  // Checked again: the scratch check took a moment, and another start may have won meanwhile.
  await ensureNotRunning(c, o.password);
  const convertRdb = needsRdbLoad(c);
  o.onStep?.(`starting redis-server ${c.target}, waiting for PONG on ${c.host}:${c.port}`);
  await launchDeployed(c, {
    binary,
    password: c.password ?? o.password,
    fromRdb: convertRdb,
    timeoutMs: o.timeoutMs ?? 120_000,
    signal: o.signal,
  });
  step(`Redis answers PONG on ${c.host}:${c.port}`);
  const redis = await connectLocal(c.host, c.port, c.password ?? o.password);
  try {
    if (convertRdb) {
      await redis.call('CONFIG', 'SET', 'appendonly', 'yes');
      await waitForAofRewrite(redis, { signal: o.signal });
      step(
        `loaded ${c.dbfilename} (there was no ${c.appenddirname}/ yet) and wrote the append-only file from it, as the config says`,
      );
    }
    const info = parseInfo(await redis.info('server'));
    const journals = await journalEntryCounts(redis);
    return {
      config: c,
      url: deployedUrl(c),
      version: info.get('redis_version') ?? '?',
      pid: info.num('process_id'),
      journals,
      done,
    };
  } finally {
    redis.disconnect();
  }
}
