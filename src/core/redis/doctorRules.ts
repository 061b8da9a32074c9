import type { RedisInfo } from './info';
import { type JournalGaps, describeRanges } from './journalScan';
import { isLoopbackHost } from './url';

export type Severity = 'error' | 'warning' | 'info';

/** A `CONFIG SET parameter value` that is safe to apply to a live server. */
export interface LiveFix {
  parameter: string;
  value: string;
}

export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  /** The facts, with where each came from (server, file:line, /proc). Never a secret. */
  evidence: string;
  /** What to do, in words a user can act on. */
  fix: string;
  /** Present when `doctor --fix` can repair it on the running server. */
  liveFix?: LiveFix[];
}

/**
 * Settings as one source has them: the running server (`CONFIG GET`) or a config file
 * (with Redis's defaults for what the file leaves out).
 */
export interface SettingsSource {
  kind: 'server' | 'config-file';
  get(name: string): string | undefined;
  /** Where the value came from, for evidence: "server", "/etc/redis/x.conf:12", "… (default)". */
  where(name: string): string;
}

/** Facts about the machine Redis runs on (only known when it is this machine). */
export interface SystemFacts {
  /** /proc/sys/net/core/somaxconn */
  somaxconn?: number;
  /** Soft open-file limit of the process that starts (or started) Redis. */
  openFilesLimit?: number;
}

/** Redis 7 defaults for the settings the rules read, when a config file leaves them out. */
export const REDIS_DEFAULTS: Record<string, string> = {
  'maxmemory-policy': 'noeviction',
  appendonly: 'no',
  appendfsync: 'everysec',
  save: '3600 1 300 100 60 10000',
  bind: '* -::*',
  'protected-mode': 'yes',
  requirepass: '',
  'tcp-backlog': '511',
  maxclients: '10000',
  maxmemory: '0',
};

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function bySeverity(a: Finding, b: Finding): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.id.localeCompare(b.id);
}

/** A `bind` address ("-" marks one that may be missing) on the loopback interface. */
function isLoopback(addr: string): boolean {
  return isLoopbackHost(addr.replace(/^-/, ''));
}

/** Rules on settings: the same for the running server and for a config file. */
export function settingsRules(s: SettingsSource, sys: SystemFacts = {}): Finding[] {
  const out: Finding[] = [];
  const at = (name: string) => `${name} ${JSON.stringify(s.get(name) ?? '')} (${s.where(name)})`;
  const later =
    s.kind === 'config-file'
      ? ' in the config file'
      : ' (CONFIG SET takes effect at once; CONFIG REWRITE keeps it)';

  const policy = s.get('maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    const allKeys = policy.startsWith('allkeys-');
    out.push({
      id: 'eviction-policy',
      severity: allKeys ? 'error' : 'warning',
      title: allKeys
        ? 'Redis evicts keys under memory pressure: journal entries will be lost'
        : 'Redis evicts keys that have a TTL under memory pressure',
      evidence: at('maxmemory-policy'),
      fix: `Set maxmemory-policy noeviction${later}. ${allKeys ? 'One evicted <prefix>:log:N key makes every Optuna worker wait forever' : 'Journal keys have no TTL, but anything that sets one makes them evictable'}; with noeviction a full Redis refuses writes loudly instead.`,
      liveFix: [{ parameter: 'maxmemory-policy', value: 'noeviction' }],
    });
  }

  const aof = s.get('appendonly');
  const save = s.get('save');
  const fsync = s.get('appendfsync');
  if (aof !== undefined && aof !== 'yes') {
    const fsyncFix = fsync === 'no' ? [{ parameter: 'appendfsync', value: 'everysec' }] : [];
    if (save === '') {
      out.push({
        id: 'no-persistence',
        severity: 'error',
        title: 'Nothing is written to disk: a restart empties every study',
        evidence: `${at('appendonly')}, ${at('save')}`,
        fix: `Turn on the append-only file: appendonly yes, appendfsync everysec${later}. Do not just edit the file and restart: Redis 7 would start empty (see redis/README.md).`,
        liveFix: [...fsyncFix, { parameter: 'appendonly', value: 'yes' }],
      });
    } else if (save !== undefined) {
      out.push({
        id: 'rdb-only',
        severity: 'warning',
        title: 'Only periodic RDB snapshots: a crash loses every trial since the last one',
        evidence: `${at('appendonly')}, ${at('save')}`,
        fix: `Turn on the append-only file (appendonly yes, appendfsync everysec)${later}; keep the snapshots for backups.`,
        liveFix: [...fsyncFix, { parameter: 'appendonly', value: 'yes' }],
      });
    }
  } else if (aof === 'yes' && fsync === 'no') {
    out.push({
      id: 'aof-fsync',
      severity: 'warning',
      title:
        'The append-only file is left to the OS to flush: a crash can lose about 30 s of trials',
      evidence: at('appendfsync'),
      fix: `Set appendfsync everysec${later}.`,
      liveFix: [{ parameter: 'appendfsync', value: 'everysec' }],
    });
  }

  const bind = s.get('bind');
  if (bind !== undefined) {
    const open = bind.split(/\s+/).filter((a) => a !== '' && !isLoopback(a));
    const password = (s.get('requirepass') ?? '') !== '';
    const protectedMode = s.get('protected-mode') !== 'no';
    if (open.length > 0 && !password) {
      out.push({
        id: 'public-bind',
        severity: protectedMode ? 'warning' : 'error',
        title: protectedMode
          ? 'Listens beyond loopback without a password (protected mode refuses remote clients)'
          : 'Anyone who can reach the port can read, rewrite or FLUSHALL the studies',
        evidence: `${at('bind')}, requirepass not set (${s.where('requirepass')}), ${at('protected-mode')}`,
        fix: 'Bind to 127.0.0.1 -::1 when all workers are on this machine; otherwise bind the private address only and set requirepass (deploy --password-env), and keep protected-mode yes.',
      });
    }
  }

  const backlog = Number(s.get('tcp-backlog'));
  if (sys.somaxconn !== undefined && backlog > sys.somaxconn) {
    out.push({
      id: 'tcp-backlog',
      severity: 'warning',
      title: 'tcp-backlog is above what the kernel allows',
      evidence: `${at('tcp-backlog')}, /proc/sys/net/core/somaxconn is ${sys.somaxconn}: the kernel caps the queue at ${sys.somaxconn}`,
      fix: `Set tcp-backlog ${sys.somaxconn} in the config file (deploy does), or raise net.core.somaxconn where the container is created.`,
    });
  }

  const maxclients = Number(s.get('maxclients'));
  if (
    s.kind === 'config-file' &&
    sys.openFilesLimit !== undefined &&
    maxclients + 32 > sys.openFilesLimit
  ) {
    out.push({
      id: 'maxclients-ulimit',
      severity: 'warning',
      title: 'maxclients needs more file descriptors than the open-file limit allows',
      evidence: `${at('maxclients')}, open-file limit (ulimit -n) is ${sys.openFilesLimit}: Redis will lower maxclients to ${Math.max(0, sys.openFilesLimit - 32)} at start`,
      fix: `Set maxclients ${Math.max(0, sys.openFilesLimit - 32)} (deploy does), or raise the limit (ulimit -n) before starting Redis.`,
    });
  }

  if (s.get('maxmemory') === '0') {
    out.push({
      id: 'no-maxmemory',
      severity: 'info',
      title:
        'No memory limit: the OOM killer, not Redis, decides what happens when memory runs out',
      evidence: at('maxmemory'),
      fix: 'Set maxmemory to at most half the container memory (forks for snapshots need headroom), with maxmemory-policy noeviction.',
    });
  }
  return out;
}

/** Rules on the running server's counters and status (INFO), with its settings. */
export function stateRules(info: RedisInfo, settings: Map<string, string> | null): Finding[] {
  const out: Finding[] = [];
  const evicted = info.num('evicted_keys') ?? 0;
  if (evicted > 0) {
    out.push({
      id: 'evicted-keys',
      severity: 'error',
      title: `Redis has evicted ${evicted} key${evicted === 1 ? '' : 's'} since it started`,
      evidence: `INFO stats evicted_keys:${evicted}, maxmemory-policy ${settings?.get('maxmemory-policy') ?? info.get('maxmemory_policy') ?? '?'}`,
      fix: 'Set maxmemory-policy noeviction now. Evicted journal entries are gone: see the journal findings for which; restore the study from a backup or export what is readable (optuna-storage export --partial) and import it under a new prefix.',
    });
  }
  const rejected = info.num('rejected_connections') ?? 0;
  if (rejected > 0) {
    out.push({
      id: 'rejected-connections',
      severity: 'warning',
      title: `${rejected} connection${rejected === 1 ? ' was' : 's were'} refused at the maxclients limit`,
      evidence: `INFO stats rejected_connections:${rejected}, maxclients ${settings?.get('maxclients') ?? '?'}`,
      fix: 'Workers got "max number of clients reached". Raise maxclients (and ulimit -n), or find the process that leaks connections (CLIENT LIST).',
    });
  }
  const connected = info.num('connected_clients');
  const maxclients = Number(settings?.get('maxclients'));
  if (connected !== undefined && maxclients > 0 && connected >= 0.8 * maxclients) {
    out.push({
      id: 'clients-near-limit',
      severity: 'warning',
      title: 'Connections are close to maxclients',
      evidence: `INFO clients connected_clients:${connected} of maxclients ${maxclients} (${Math.round((100 * connected) / maxclients)}%)`,
      fix: 'Raise maxclients (and ulimit -n) before adding workers, or look for leaked connections (CLIENT LIST).',
    });
  }
  const used = info.num('used_memory');
  const maxmemory = Number(settings?.get('maxmemory') ?? info.get('maxmemory'));
  if (used !== undefined && maxmemory > 0 && used >= 0.8 * maxmemory) {
    const share = used / maxmemory;
    out.push({
      id: 'memory-near-limit',
      severity: share >= 0.95 ? 'error' : 'warning',
      title: `Memory is at ${Math.round(share * 100)}% of maxmemory`,
      evidence: `INFO memory used_memory:${used}, maxmemory ${maxmemory}, maxmemory-policy ${settings?.get('maxmemory-policy') ?? '?'}`,
      fix: 'At the limit Redis refuses writes (noeviction) or evicts keys (other policies). Raise maxmemory if the container has room, or move finished studies out (optuna-storage export).',
    });
  }
  const statusRules: Array<[string, string, string]> = [
    ['rdb_last_bgsave_status', 'bgsave-failed', 'The last background save (RDB snapshot) failed'],
    ['aof_last_bgrewrite_status', 'aof-rewrite-failed', 'The last append-only file rewrite failed'],
    ['aof_last_write_status', 'aof-write-failed', 'The last write to the append-only file failed'],
  ];
  for (const [field, id, title] of statusRules) {
    const v = info.get(field);
    if (v !== undefined && v !== 'ok') {
      out.push({
        id,
        severity: 'error',
        title,
        evidence: `INFO persistence ${field}:${v}`,
        fix: 'Look at the Redis log for the cause (disk full, permissions on the data dir, fork failing for lack of memory: vm.overcommit_memory=1). Until it succeeds, recent trials exist only in memory.',
      });
    }
  }
  return out;
}

/** One finding per journal prefix with missing entries, and a note when a scan was bounded. */
export function journalRules(journals: JournalGaps[]): Finding[] {
  const out: Finding[] = [];
  for (const j of journals) {
    const name = JSON.stringify(j.prefix);
    if (j.missing > 0) {
      const shown = describeRanges(j.prefix, j.ranges);
      out.push({
        id: 'journal-gaps',
        severity: 'error',
        title: `Journal ${name} is missing ${j.missing} of ${j.entries} entries: Optuna workers on it wait forever`,
        evidence: `missing ${shown}${j.missing > j.ranges.reduce((n, [a, b]) => n + b - a + 1, 0) ? ', …' : ''}`,
        fix: `The entries are gone from Redis. Restore them from a server backup, or export what is readable (optuna-storage export redis://… --prefix ${name} --study NAME --partial --to study.log) and import it under a new prefix for the workers.`,
      });
    }
    if (j.checked < j.entries) {
      out.push({
        id: 'journal-scan-bounded',
        severity: 'info',
        title: `Journal ${name}: only the first ${j.checked} of ${j.entries} entries were checked for gaps`,
        evidence: `${j.entries} entries, scan bounded at ${j.checked}`,
        fix: 'Run doctor with a larger --max-entries to check all of them.',
      });
    }
  }
  return out;
}
