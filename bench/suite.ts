/**
 * Stability-suite benchmark: the high-concurrency scenario with 30 and 50 workers (each its own
 * connection, Optuna 3.1's journal protocol with a sync after every write, the WAITING-pop
 * race), repeated for medians, plus failover and connection-recovery cycles against the
 * suite's disposable redis-server, with the Python companion's writers beside the reader.
 *
 * Usage: npm run bench:suite -- [--trials 1500] [--runs 3] [--redis URL]
 *   Without --redis, a local redis-server with AOF (appendfsync always) is started for it.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runSuite } from '../src/core/stability';
import type { MetricValue } from '../src/core/stability/types';
import { RedisServer } from '../test/helpers/redisServer';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '1500' },
    runs: { type: 'string', default: '3' },
    redis: { type: 'string' },
  },
});
const TRIALS = Number(opts.trials);
const RUNS = Number(opts.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const num = (v: MetricValue | undefined) => (typeof v === 'number' ? v : NaN);

async function main(): Promise<void> {
  const server = opts.redis
    ? undefined
    : await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const url = opts.redis ?? server!.url;
  console.log(
    `Stability suite benchmark: ${os.cpus().length} cores, Node ${process.version}, ${opts.redis ? url.replace(/\/\/[^@/]*@/, '//***@') : 'local redis-server (AOF, appendfsync always)'}`,
  );
  console.log(
    `high-concurrency: ${TRIALS} trials per run, ${RUNS} runs per worker count; every write is an atomic EVAL append followed by a journal sync, as Optuna 3.1 does\n`,
  );
  try {
    console.log(
      'workers  trials/s (median, min-max)   append p50   append p99   sync p50   lost  duplicated  pop races lost',
    );
    for (const jobs of [30, 50]) {
      const rows: Array<Record<string, MetricValue>> = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await runSuite({
          redisUrl: url,
          only: ['high-concurrency'],
          jobs,
          trials: TRIALS,
        });
        const s = r.scenarios[0];
        if (s.status !== 'passed')
          throw new Error(`high-concurrency with ${jobs} workers ${s.status}: ${s.message}`);
        rows.push(s.metrics);
      }
      const tps = rows.map((m) => num(m.trials_per_s));
      const col = (k: string) => `${median(rows.map((m) => num(m[k]))).toFixed(2)} ms`;
      console.log(
        `${String(jobs).padEnd(8)} ${`${median(tps).toFixed(0)} (${Math.min(...tps).toFixed(0)}-${Math.max(...tps).toFixed(0)})`.padEnd(28)} ${col('append_p50_ms').padEnd(12)} ${col('append_p99_ms').padEnd(12)} ${col('sync_p50_ms').padEnd(10)} ` +
          `${String(rows.reduce((a, m) => a + num(m.lost), 0)).padEnd(5)} ${String(rows.reduce((a, m) => a + num(m.duplicates), 0)).padEnd(11)} ${median(rows.map((m) => num(m.pop_races_lost)))}`,
      );
    }
    console.log(`\npromised: >= 10-20 trials/s with 30 workers; lost and duplicated 0\n`);

    const frozen: number[] = [];
    const killed: number[] = [];
    const recovery: number[] = [];
    let lost = 0;
    // The Python writers beside the reader (when a Python with Optuna is there).
    const w = { frozen: [] as number[], killed: [] as number[], recovery: [] as number[] };
    let wLost = 0;
    let wDuplicated = 0;
    let writers: MetricValue | undefined;
    for (let i = 0; i < RUNS; i++) {
      const r = await runSuite({
        redisUrl: url,
        only: ['failover', 'connection-recovery'],
        companionRoot: path.resolve(__dirname, '..'),
      });
      for (const s of r.scenarios)
        if (s.status !== 'passed') throw new Error(`${s.id} ${s.status}: ${s.message}`);
      const [fo, cr] = r.scenarios.map((s) => s.metrics);
      frozen.push(num(fo.failover_freeze_ms));
      killed.push(num(fo.failover_crash_ms), num(cr.failover_ms));
      recovery.push(num(cr.recovery_ms));
      lost += num(cr.lost);
      writers = fo.writers;
      if (typeof fo.writers_failover_ms === 'number') {
        w.frozen.push(num(fo.writers_failover_freeze_ms));
        w.killed.push(num(fo.writers_failover_crash_ms), num(cr.writers_failover_ms));
        w.recovery.push(num(fo.writers_recovery_ms), num(cr.writers_recovery_ms));
        wLost += num(fo.writers_lost) + num(cr.writers_lost);
        wDuplicated += num(fo.writers_duplicated) + num(cr.writers_duplicated);
      }
    }
    const line = (xs: number[]) =>
      `median ${median(xs)} ms, max ${Math.max(...xs)} ms (n=${xs.length})`;
    console.log(
      `failover, server frozen (SIGSTOP) -> SQLite served: ${line(frozen)}; promised < 5000 ms`,
    );
    console.log(
      `failover, server killed (SIGKILL) -> SQLite served: ${line(killed)}; promised < 5000 ms`,
    );
    console.log(
      `recovery, restarted server answering -> store reads Redis again: ${line(recovery)}; promised < 30000 ms`,
    );
    console.log(`trials lost across the outages: ${lost}`);
    if (w.frozen.length === 0) console.log(`Python writers: ${writers}`);
    else {
      console.log(`\nPython writers (${writers}), first trial told on SQLite / on Redis again:`);
      console.log(`  after the server froze: ${line(w.frozen)}; promised < 5000 ms`);
      console.log(`  after the server was killed: ${line(w.killed)}; promised < 5000 ms`);
      console.log(`  after it was back: ${line(w.recovery)}; promised < 30000 ms`);
      console.log(`  trials lost ${wLost}, duplicated ${wDuplicated}`);
    }
  } finally {
    await server?.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
