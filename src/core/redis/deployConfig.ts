import { effectiveSettings, parseConfigText } from './configFile';
import { setDirectives } from './configRender';
import type { SystemFacts } from './doctorRules';

/** What deploy is asked to do, and the config text it installs for this machine. */

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
