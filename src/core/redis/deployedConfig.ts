import * as fs from 'node:fs';
import * as path from 'node:path';
import { effectiveSettings, loadConfigFile } from './configFile';
import { reachableHost } from './deployConfig';

/** No config file where deploy would have installed one: there is nothing to start. */
export class NotDeployedError extends Error {
  constructor(readonly target: string) {
    super(
      `no deployed Redis configuration at ${target}: deploy one first (optuna-storage deploy, or the Deploy Redis Configuration command)`,
    );
  }
}

/** What start and restore need to know of a config that deploy installed. */
export interface DeployedConfig {
  /** The config file, absolute. */
  target: string;
  /** An address of its `bind` to reach it on (loopback when it listens there). */
  host: string;
  port: number;
  /** Data directory, absolute (Redis resolves a relative one against its working directory: the config's). */
  dir: string;
  dbfilename: string;
  appendonly: boolean;
  appenddirname: string;
  appendfilename: string;
  /** Absolute, or '' when Redis logs to stdout (nowhere, once daemonized). */
  logFile: string;
  pidFile: string;
  daemonize: boolean;
  /** requirepass, to reach the server it starts; never shown. */
  password?: string;
}

/**
 * Reads a deployed config file (with its includes) as Redis will apply it, with Redis's own
 * defaults for what it leaves out. Throws NotDeployedError when the file does not exist.
 */
export function readDeployedConfig(target: string): DeployedConfig {
  const abs = path.resolve(target);
  if (!fs.existsSync(abs)) throw new NotDeployedError(abs);
  const settings = effectiveSettings(loadConfigFile(abs));
  const get = (k: string) => settings.get(k)?.value;
  const configDir = path.dirname(abs);
  const port = Number(get('port') ?? 6379);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${abs}: port ${get('port')} is not a TCP port this can start Redis on`);
  const dir = path.resolve(configDir, get('dir') || '.');
  // Redis opens the log and writes the pid file after it changed into `dir`.
  const inDir = (p: string) => path.resolve(dir, p);
  const logfile = get('logfile') ?? '';
  const daemonize = get('daemonize') === 'yes';
  return {
    target: abs,
    host: reachableHost(get('bind')),
    port,
    dir,
    dbfilename: get('dbfilename') || 'dump.rdb',
    appendonly: get('appendonly') === 'yes',
    appenddirname: get('appenddirname') || 'appendonlydir',
    appendfilename: get('appendfilename') || 'appendonly.aof',
    logFile: logfile === '' ? '' : inDir(logfile),
    pidFile: inDir(get('pidfile') || `/var/run/redis_${port}.pid`),
    daemonize,
    password: get('requirepass') || undefined,
  };
}

/** `redis://host:port` of a deployed config (never with its password). */
export function deployedUrl(c: DeployedConfig): string {
  return `redis://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
}

/**
 * The pid in the config's pid file when that process is alive and is a redis-server: a
 * server of this config that does not answer on its port (still starting, or frozen). A pid
 * file left by a container that was restarted names no process, or another program.
 */
export function livePidFromFile(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    // Redis sets its process title: "redis-server 127.0.0.1:6379" (or the binary's path).
    const title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return /(^|\/)redis-server\b/.test(title) ? pid : undefined;
  } catch {
    return undefined;
  }
}
