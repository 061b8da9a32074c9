/**
 * Stability-suite benchmark: the high-concurrency scenario with 30 and 50 workers (each its own
 * connection, Optuna 3.1's journal protocol with a sync after every write, the WAITING-pop
 * race), repeated for medians, plus failover and connection-recovery cycles against the
 * suite's disposable redis-server.
 *
 * Usage: npm run bench:suite -- [--trials 1500] [--runs 3] [--redis URL]
 *   Without --redis, a local redis-server with AOF (appendfsync always) is started for it.
 */
import * as os from 'node:os';
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
    for (let i = 0; i < RUNS; i++) {
      const r = await runSuite({ redisUrl: url, only: ['failover', 'connection-recovery'] });
      for (const s of r.scenarios)
        if (s.status !== 'passed') throw new Error(`${s.id} ${s.status}: ${s.message}`);
      frozen.push(num(r.scenarios[0].metrics.failover_freeze_ms));
      killed.push(
        num(r.scenarios[0].metrics.failover_crash_ms),
        num(r.scenarios[1].metrics.failover_ms),
      );
      recovery.push(num(r.scenarios[1].metrics.recovery_ms));
      lost += num(r.scenarios[1].metrics.lost);
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
  } finally {
    await server?.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
