import { parseArgs } from 'node:util';
import type Redis from 'ioredis';
import { type MonitorSnapshot, monitorSnapshot } from '../core/redis/monitor';
import { redactUrl } from '../core/redis/url';
import { type CliCommand, EXIT_OK, UsageError } from './command';
import { REDIS_OPTION_HELP, connectFromArgs } from './redisArgs';
import { exitStatusFor } from './storageArgs';

export const monitorCommand: CliCommand = {
  name: 'monitor',
  summary: 'print one health snapshot of a Redis holding Optuna journals',
  help: `Usage: optuna-storage monitor --redis URL [--prefix P ...] [--json]

Prints what the extension's health view shows: clients (connected, blocked, refused),
memory (used, peak, limit, fragmentation), commands per second, persistence (last save,
AOF), keyspace, the latest slow commands and latency spikes, and per journal prefix: entries,
bytes, missing entries, and the workers that wrote the latest entries; then the doctor's
warnings for this server.

Options:
${REDIS_OPTION_HELP}
  --prefix P    a journal prefix to look at (repeatable; default every prefix on the server)
  --json        the snapshot as one JSON document
  -h, --help    this help

Exit status: 0 snapshot printed; 2 bad arguments; 3 Redis unreachable.`,

  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        prefix: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    });
    if (!values.redis) throw new UsageError('monitor needs --redis URL');
    let redis: Redis | undefined;
    try {
      redis = await connectFromArgs(values.redis, io.env);
      const snap = await monitorSnapshot(redis, { prefixes: values.prefix, signal: io.signal });
      io.stdout(
        values.json
          ? JSON.stringify(snap, null, 2) + '\n'
          : describe(snap, redactUrl(values.redis)),
      );
      return EXIT_OK;
    } catch (e) {
      const { status, message } = exitStatusFor(e);
      io.stderr(`optuna-storage monitor: ${message}\n`);
      return status;
    } finally {
      redis?.disconnect();
    }
  },
};

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function ago(unixSeconds: number, now: number): string {
  const s = Math.max(0, Math.round(now / 1000 - unixSeconds));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
}

function describe(s: MonitorSnapshot, url: string): string {
  const p = s.persistence;
  const out = [
    `Redis ${s.server.version} at ${url}, ${s.server.role}, up ${Math.round(s.server.uptimeSeconds / 60)} min${s.server.configFile ? `, config ${s.server.configFile}` : ''}`,
    `clients      ${s.clients.connected} connected${s.clients.maxclients ? ` of ${s.clients.maxclients}` : ''}, ${s.clients.blocked} blocked, ${s.clients.rejected} refused since start`,
    `memory       ${mb(s.memory.used)} used, peak ${mb(s.memory.peak)}, limit ${s.memory.maxmemory ? mb(s.memory.maxmemory) : 'none'} (${s.memory.policy}), fragmentation ${s.memory.fragmentationRatio ?? '?'}`,
    `throughput   ${s.throughput.opsPerSec} commands/s`,
    `persistence  last RDB save ${p.rdbLastSaveTime ? ago(p.rdbLastSaveTime, s.at) : 'never'} (${p.rdbLastBgsaveStatus}${p.rdbBgsaveInProgress ? ', saving now' : ''}, ${p.rdbChangesSinceLastSave} changes since), AOF ${p.aofEnabled ? `on (write ${p.aofLastWriteStatus}, rewrite ${p.aofLastBgrewriteStatus}${p.aofRewriteInProgress ? ', rewriting now' : ''})` : 'OFF'}`,
    `keyspace     ${s.keyspace.map((k) => `db${k.db} ${k.keys} keys`).join(', ') || 'empty'}`,
  ];
  for (const j of s.journals) {
    out.push(
      `journal ${JSON.stringify(j.prefix)}: ${j.entries} entries, ${j.bytesEstimated ? '~' : ''}${mb(j.bytes)}, ${j.gaps.missing === 0 ? 'no missing entries' : `${j.gaps.missing} MISSING`}, ${j.writers.length} writer(s) in the latest entries`,
    );
    for (const w of j.writers.slice(0, 5))
      out.push(`    ${w.workerId}  ${w.entries} entries, last #${w.lastIndex}`);
  }
  if (s.slowlog.length > 0) {
    out.push('slow commands:');
    for (const e of s.slowlog)
      out.push(
        `    ${(e.durationMicros / 1000).toFixed(1)} ms  ${ago(e.time, s.at)}  ${e.command.join(' ')}`,
      );
  }
  for (const l of s.latency)
    out.push(`latency spike: ${l.event} ${l.latestMs} ms (max ${l.maxMs} ms) ${ago(l.time, s.at)}`);
  out.push('');
  if (s.warnings.length === 0) out.push('No warnings.');
  for (const w of s.warnings) out.push(`${w.severity.toUpperCase().padEnd(7)} ${w.id}: ${w.title}`);
  return out.join('\n') + '\n';
}
