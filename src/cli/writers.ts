import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  readWriterKeys,
  readWriters,
  summarizeWriters,
  type WriterStatus,
  writersBreakdown,
} from '../core/python/writersStatus';
import { redactUrl } from '../core/redis/url';
import { type CliCommand, EXIT_FAILED, EXIT_OK, UsageError } from './command';
import { connectFromArgs, REDIS_OPTION_HELP } from './redisArgs';
import { exitStatusFor } from './storageArgs';

export const writersCommand: CliCommand = {
  name: 'writers',
  summary:
    'which storage each optimizer process on the Python companion writes to (Redis or SQLite)',
  help: `Usage: optuna-storage writers [--sqlite PATH] [--redis URL] [--json]

Which storage each optimizer process using the Python companion (enhanced_redis_storage)
writes to: Redis; the SQLite fallback file (since when, and why); held (Redis answers, but its
journal lost what the process wrote, so it writes nothing there); or returning to Redis.

--sqlite reads the status files the processes on this machine keep next to that fallback file
(PATH.writers/): it works while Redis is down. Files left by processes that are gone (killed
with SIGKILL, or with no heartbeat for a while) are not counted. --redis reads the status the
processes on any machine keep in Redis while they write there (<prefix>:enhanced:status:<id>,
expiring a few seconds after a process stops or leaves Redis). Give one or both; a process
found in both is listed once, as its file says.

Options:
  --sqlite PATH   the fallback file the processes use (optuna_fallback.db)
${REDIS_OPTION_HELP}
  --json          {"writers": [{"pid", "host", "storage", "cause", "since", "updated",
                  "run_id", "prefix", "outbox_pending", "source"}], "summary": {"total",
                  "redis", "sqlite", "held", "recovering", "cause", "since"}, "ignored":
                  [{"file", "why"}]} (times as ISO 8601)
  -h, --help      this help

Exit status: 0 no process is on SQLite; 1 some process writes to SQLite (or is held); 2 bad
arguments; 3 Redis unreachable.`,

  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        sqlite: { type: 'string' },
        redis: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (!values.sqlite && !values.redis)
      throw new UsageError('give --sqlite PATH (this machine) and/or --redis URL (see --help)');
    const local = values.sqlite
      ? await readWriters(path.resolve(values.sqlite))
      : { writers: [], ignored: [] };
    const writers: Array<WriterStatus & { source: string }> = local.writers.map((w) => ({
      ...w,
      source: 'file',
    }));
    if (values.redis) {
      let remote: WriterStatus[];
      try {
        const redis = await connectFromArgs(values.redis, io.env);
        try {
          remote = await readWriterKeys(redis);
        } finally {
          redis.disconnect();
        }
      } catch (e) {
        const { status, message } = exitStatusFor(e);
        io.stderr(`optuna-storage writers: ${redactUrl(values.redis)}: ${message}\n`);
        return status;
      }
      const seen = new Set(writers.map((w) => w.writerId));
      for (const w of remote) if (!seen.has(w.writerId)) writers.push({ ...w, source: 'redis' });
    }
    const s = summarizeWriters(writers);
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    if (values.json)
      io.stdout(
        JSON.stringify({
          writers: writers.map((w) => ({
            pid: w.pid,
            host: w.host,
            storage: w.storage,
            cause: w.cause ?? null,
            since: iso(w.since),
            updated: iso(w.updated),
            run_id: w.runId ?? null,
            prefix: w.prefix ?? null,
            outbox_pending: w.pending,
            source: w.source,
          })),
          summary: {
            total: s.total,
            redis: s.redis,
            sqlite: s.onSqlite,
            held: s.held,
            recovering: s.recovering,
            cause: s.cause ?? null,
            since: iso(s.since),
          },
          ignored: local.ignored,
        }) + '\n',
      );
    else io.stdout(table(writers, s));
    for (const i of local.ignored)
      if (!values.json) io.stderr(`not counted: ${path.basename(i.file)}: ${i.why}\n`);
    return s.onSqlite ? EXIT_FAILED : EXIT_OK;
  },
};

function table(
  writers: Array<WriterStatus & { source: string }>,
  s: ReturnType<typeof summarizeWriters>,
): string {
  if (writers.length === 0) return 'no process of the Python storage found\n';
  const rows = writers.map((w) => [
    `${w.host}:${w.pid}`,
    w.storage,
    w.since ? new Date(w.since).toISOString() : '',
    w.runId ?? '',
    w.cause ?? '',
  ]);
  const head = ['PROCESS', 'STORAGE', 'SINCE', 'RUN', 'CAUSE'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i])))
      .join('  ')
      .trimEnd();
  return `${[head, ...rows].map(line).join('\n')}\n${s.total} process${s.total === 1 ? '' : 'es'}: ${writersBreakdown(s)}\n`;
}
