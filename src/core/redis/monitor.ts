import type Redis from 'ioredis';
import { parsePyJson } from '../optuna/pythonJsonParse';
import { discoverPrefixes, logKey } from '../optuna/journal/redisLog';
import { serverSettingsSource } from './doctor';
import { type Finding, bySeverity, journalRules, settingsRules, stateRules } from './doctorRules';
import { parseInfo } from './info';
import { type JournalGaps, scanJournalGaps } from './journalScan';
import { readServerConfig } from './serverConfig';

export interface MonitorOptions {
  /** Journal prefixes to look at; every prefix on the server when absent. */
  prefixes?: string[];
  /** Latest entries read per prefix to find the workers writing now (default 200). */
  recentEntries?: number;
  /** Entries whose size is measured per prefix; above it the total is extrapolated (default 2000). */
  bytesSample?: number;
  /** Entries per prefix checked for gaps (default 5,000,000). */
  maxGapEntries?: number;
  /** SLOWLOG entries (default 10). */
  slowlogCount?: number;
  signal?: AbortSignal;
}

export interface JournalHealth {
  prefix: string;
  /** `log_number + 1`. */
  entries: number;
  /** Sum of the entries' lengths (the journal's JSON bytes). */
  bytes: number;
  /** True when `bytes` was extrapolated from a sample. */
  bytesEstimated: boolean;
  gaps: JournalGaps;
  /** Distinct writers among the latest entries, most active first. */
  writers: Array<{ workerId: string; entries: number; lastIndex: number }>;
}

export interface SlowlogEntry {
  id: number;
  /** Unix seconds. */
  time: number;
  durationMicros: number;
  /** The command and its (shortened) arguments; secrets replaced by "***". */
  command: string[];
  client: string;
}

export interface MonitorSnapshot {
  /** Epoch ms when taken. */
  at: number;
  server: { version: string; uptimeSeconds: number; configFile: string; role: string };
  clients: { connected: number; blocked: number; rejected: number; maxclients: number | null };
  memory: {
    used: number;
    peak: number;
    maxmemory: number;
    fragmentationRatio: number | null;
    policy: string;
  };
  throughput: { opsPerSec: number; totalCommands: number };
  persistence: {
    rdbLastSaveTime: number;
    rdbChangesSinceLastSave: number;
    rdbBgsaveInProgress: boolean;
    rdbLastBgsaveStatus: string;
    aofEnabled: boolean;
    aofRewriteInProgress: boolean;
    aofLastBgrewriteStatus: string;
    aofLastWriteStatus: string;
  };
  keyspace: Array<{ db: number; keys: number; expires: number }>;
  slowlog: SlowlogEntry[];
  latency: Array<{ event: string; time: number; latestMs: number; maxMs: number }>;
  journals: JournalHealth[];
  /** The doctor's findings for this server, worst first: what a status bar mirrors. */
  warnings: Finding[];
}

/**
 * One health snapshot of a Redis holding Optuna journals, for a view refreshed while visible:
 * a handful of round trips plus bounded per-journal work (one EXISTS per thousand entries,
 * a sample of STRLENs, one MGET of the latest entries).
 */
export async function monitorSnapshot(
  redis: Redis,
  opts: MonitorOptions = {},
): Promise<MonitorSnapshot> {
  const info = parseInfo(await redis.info());
  const settings = await readServerConfig(redis);
  const n = (k: string) => info.num(k) ?? 0;
  const prefixes = opts.prefixes ?? (await discoverPrefixes(redis)).prefixes;
  const journals: JournalHealth[] = [];
  for (const prefix of prefixes) {
    opts.signal?.throwIfAborted();
    journals.push(await journalHealth(redis, prefix, opts));
  }
  const maxclients = settings?.get('maxclients');
  const warnings = [
    ...(settings ? settingsRules(serverSettingsSource(settings)) : []),
    ...stateRules(info, settings),
    ...journalRules(journals.map((j) => j.gaps)),
  ].sort(bySeverity);
  return {
    at: Date.now(),
    server: {
      version: info.get('redis_version') ?? '?',
      uptimeSeconds: n('uptime_in_seconds'),
      configFile: info.get('config_file') ?? '',
      role: info.get('role') ?? '?',
    },
    clients: {
      connected: n('connected_clients'),
      blocked: n('blocked_clients'),
      rejected: n('rejected_connections'),
      maxclients: maxclients ? Number(maxclients) : null,
    },
    memory: {
      used: n('used_memory'),
      peak: n('used_memory_peak'),
      maxmemory: Number(settings?.get('maxmemory') ?? info.get('maxmemory') ?? 0),
      fragmentationRatio: info.num('mem_fragmentation_ratio') ?? null,
      policy: settings?.get('maxmemory-policy') ?? info.get('maxmemory_policy') ?? '?',
    },
    throughput: {
      opsPerSec: n('instantaneous_ops_per_sec'),
      totalCommands: n('total_commands_processed'),
    },
    persistence: {
      rdbLastSaveTime: n('rdb_last_save_time'),
      rdbChangesSinceLastSave: n('rdb_changes_since_last_save'),
      rdbBgsaveInProgress: info.get('rdb_bgsave_in_progress') === '1',
      rdbLastBgsaveStatus: info.get('rdb_last_bgsave_status') ?? '?',
      aofEnabled: info.get('aof_enabled') === '1',
      aofRewriteInProgress: info.get('aof_rewrite_in_progress') === '1',
      aofLastBgrewriteStatus: info.get('aof_last_bgrewrite_status') ?? '?',
      aofLastWriteStatus: info.get('aof_last_write_status') ?? '?',
    },
    keyspace: info.keyspace(),
    slowlog: await readSlowlog(redis, opts.slowlogCount ?? 10),
    latency: await readLatency(redis),
    journals,
    warnings,
  };
}

async function journalHealth(
  redis: Redis,
  prefix: string,
  opts: MonitorOptions,
): Promise<JournalHealth> {
  const gaps = await scanJournalGaps(redis, prefix, {
    maxEntries: opts.maxGapEntries,
    signal: opts.signal,
  });
  const entries = gaps.entries;
  const sample = Math.min(entries, opts.bytesSample ?? 2000);
  // Evenly spaced indexes: early trials and recent ones differ in size (attrs, params).
  const indexes = Array.from({ length: sample }, (_, i) =>
    sample === entries ? i : Math.floor((i * entries) / sample),
  );
  const lengths = await Promise.all(indexes.map((i) => redis.strlen(logKey(prefix, i))));
  const measured = lengths.reduce((a, b) => a + b, 0);
  const bytes =
    sample === entries ? measured : Math.round((measured / Math.max(sample, 1)) * entries);

  const recent = Math.min(entries, opts.recentEntries ?? 200);
  const writers = new Map<string, { workerId: string; entries: number; lastIndex: number }>();
  if (recent > 0) {
    const first = entries - recent;
    const values = await redis.mget(
      Array.from({ length: recent }, (_, i) => logKey(prefix, first + i)),
    );
    values.forEach((text, i) => {
      if (text === null) return;
      let workerId: unknown;
      try {
        workerId = (parsePyJson(text) as { worker_id?: unknown }).worker_id;
      } catch {
        return; // a malformed entry is the reader's business, not the monitor's
      }
      if (typeof workerId !== 'string') return;
      const w = writers.get(workerId) ?? { workerId, entries: 0, lastIndex: -1 };
      w.entries++;
      w.lastIndex = first + i;
      writers.set(workerId, w);
    });
  }
  return {
    prefix,
    entries,
    bytes,
    bytesEstimated: sample !== entries,
    gaps,
    writers: [...writers.values()].sort(
      (a, b) => b.entries - a.entries || b.lastIndex - a.lastIndex,
    ),
  };
}

/** Commands whose arguments carry secrets, and from which argument on. */
function secretFrom(args: string[]): number {
  const cmd = args[0]?.toUpperCase();
  if (cmd === 'AUTH' || cmd === 'HELLO' || cmd === 'ACL') return 1;
  if (
    cmd === 'CONFIG' &&
    args[1]?.toUpperCase() === 'SET' &&
    /requirepass|masterauth/i.test(args[2] ?? '')
  )
    return 3;
  if (cmd === 'MIGRATE') return args.findIndex((a) => /^AUTH2?$/i.test(a)) + 1 || args.length;
  return args.length;
}

export function redactSlowlogArgs(args: string[]): string[] {
  const from = secretFrom(args);
  const shown = args
    .slice(0, 8)
    .map((a, i) => (i >= from ? '***' : a.length > 80 ? `${a.slice(0, 77)}...` : a));
  if (args.length > 8) shown.push(`... (${args.length - 8} more)`);
  return shown;
}

async function readSlowlog(redis: Redis, count: number): Promise<SlowlogEntry[]> {
  const raw = (await redis.call('SLOWLOG', 'GET', String(count)).catch(() => [])) as unknown[][];
  return raw.map((e) => ({
    id: Number(e[0]),
    time: Number(e[1]),
    durationMicros: Number(e[2]),
    command: redactSlowlogArgs((e[3] as unknown[]).map(String)),
    client: String(e[4] ?? ''),
  }));
}

async function readLatency(redis: Redis): Promise<MonitorSnapshot['latency']> {
  const raw = (await redis.call('LATENCY', 'LATEST').catch(() => [])) as unknown[][];
  return raw.map((e) => ({
    event: String(e[0]),
    time: Number(e[1]),
    latestMs: Number(e[2]),
    maxMs: Number(e[3]),
  }));
}
