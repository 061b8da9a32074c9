/**
 * Reader benchmark (issues: exact Optuna readers, fast; 100,000-trial studies). Three data sets
 * in real Optuna formats (bench/dataset.ts builds each once and keeps it under bench/out/):
 *
 *  1. one study of --trials (20,000) trials, ~10 journal entries each, in Redis (with Optuna's
 *     pickle snapshot), a journal file and SQLite: this project's cold loads against Optuna's own
 *     in the same run, incremental refreshes, and the CLI end to end (`studies`, `dump`) against
 *     Optuna's load;
 *  2. one study of --large (100,000) trials: the CLI end to end in fresh processes — cold load,
 *     the run that writes the local replay cache, the load from it, `dump` of each storage —
 *     with each process's peak RSS;
 *  3. --many (50x2000) studies in one prefix, the same total size as 2: load and refresh as
 *     fast as the one big study.
 *
 * Figures are medians of --runs fresh processes, with the range (min–max) beside them: the
 * machine is shared, so ratios measured in the same run are the robust figures.
 *
 * Usage: npm run bench -- [--trials 20000] [--large 100000|0] [--many 50x2000|0] [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import Redis from 'ioredis';
import { JournalRecords } from '../src/core/optuna/journal/records';
import { appendJournalBatch } from '../src/core/optuna/journal/redisLog';
import { RedisJournalReader } from '../src/core/storage/redisJournalReader';
import { runPython } from '../test/helpers/python';
import type { RedisServer } from '../test/helpers/redisServer';
import { type CliRun, runBareNode, runCli } from './cliRun';
import { type Dataset, dataset } from './dataset';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '20000' },
    large: { type: 'string', default: '100000' },
    many: { type: 'string', default: '50x2000' },
    runs: { type: 'string', default: '3' },
  },
});
const N = Number(opts.trials);
const LARGE = Number(opts.large);
const [MANY_STUDIES, MANY_TRIALS] = opts.many === '0' ? [0, 0] : opts.many!.split('x').map(Number);
const RUNS = Number(opts.runs);
/** A fixture script with real Optuna, without a time limit. */
const py = (script: string, args: string[]): Promise<string> => runPython(script, args, 0);

/** The in-process load runs bundled, as in the extension (no TypeScript compiler in memory). */
const CHILD = path.resolve(__dirname, '..', '.test-work', `bench-loadChild-${process.pid}.js`);
function bundleChild(): void {
  buildSync({
    entryPoints: [path.join(__dirname, 'loadChild.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3'],
    outfile: CHILD,
    logLevel: 'warning',
  });
}

function child(args: string[]): {
  ms: number;
  trials: number;
  fromCache: boolean;
  peakRssMb: number;
  heapAfterMb: number;
} {
  const out = execFileSync(process.execPath, ['--expose-gc', CHILD, ...args], {
    cwd: path.resolve(__dirname, '..'),
  });
  return JSON.parse(out.toString());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtMs = (ms: number) => (ms >= 1000 ? fmt(ms) : `${ms.toFixed(1)} ms`);
const range = (xs: number[], f: (x: number) => string) =>
  xs.length > 1 ? ` (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : '';
const timeOf = (rs: CliRun[]) =>
  fmt(median(rs.map((r) => r.ms))) +
  range(
    rs.map((r) => r.ms),
    fmt,
  );
const mb = (x: number) => `${x.toFixed(0)} MB`;
const rssOf = (rs: CliRun[]) => `${mb(Math.max(...rs.map((r) => r.peakRssMb)))} peak`;
const ms = (rs: CliRun[]) => median(rs.map((r) => r.ms));
const cpu = (rs: CliRun[]) => median(rs.map((r) => r.cpuMs));
/** Median CPU of the runs (the CLI's, and the redis-server's while each ran when known). */
const cpuOf = (rs: Array<CliRun & { serverCpuMs?: number }>) =>
  `CPU ${fmt(cpu(rs))}` +
  (rs.every((r) => r.serverCpuMs !== undefined)
    ? ` + server ${fmt(median(rs.map((r) => r.serverCpuMs!)))}`
    : '');

/** CPU time (user + system) a process has used so far, ms (from /proc; Linux clock ticks). */
function processCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are 12th and 13th.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** A CLI run against a redis-server, with the CPU the server spent meanwhile. */
async function runCliOn(
  redis: RedisServer,
  args: string[],
): Promise<CliRun & { serverCpuMs: number }> {
  const before = processCpuMs(redis.pid!);
  const r = await runCli(args);
  return { ...r, serverCpuMs: processCpuMs(redis.pid!) - before };
}
const peak = (rs: CliRun[]) => Math.max(...rs.map((r) => r.peakRssMb));

type Row = {
  measure: string;
  ours: string;
  optuna?: string;
  ratio?: string;
  target?: string;
  ok?: boolean;
};
const results: Array<{ title: string; rows: Row[] }> = [];

function print(title: string, rows: Row[]): void {
  results.push({ title, rows });
  const cells = rows.map((r) => [
    r.measure,
    r.ours,
    r.optuna ?? '',
    r.ratio ?? '',
    r.target ? `${r.target}${r.ok === undefined ? '' : r.ok ? ' ✓' : ' ✗'}` : '',
  ]);
  const head = ['measure', 'this project', 'Optuna 3.1', 'ratio', 'target'];
  const w = head.map((_, i) => Math.max(...[head, ...cells].map((r) => r[i].length)));
  console.log(`\n${title}\n`);
  for (const r of [head, ...cells])
    console.log(
      r
        .map((c, i) => c.padEnd(w[i]))
        .join('  ')
        .trimEnd(),
    );
}

async function repeat<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

/** `studies` with a fresh cache folder: the run that writes the local replay cache. */
async function cacheRuns(redis: RedisServer, prefix: string) {
  const writes: CliRun[] = [];
  const reads: CliRun[] = [];
  const bareNode: CliRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bench-cache-'));
    try {
      const env = { XDG_CACHE_HOME: cache };
      writes.push(await runCli(['studies', redis.url, '--prefix', prefix], { env }));
      reads.push(await runCli(['studies', redis.url, '--prefix', prefix], { env }));
      bareNode.push(await runBareNode());
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }
  return { writes, reads, bareNode };
}

/** A dump's studies and trials, to check that it is whole. */
function dumpCounts(file: string): { studies: number; trials: number } {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    studies: Array<{ trials: unknown[] }>;
  };
  return {
    studies: doc.studies.length,
    trials: doc.studies.reduce((n, s) => n + s.trials.length, 0),
  };
}

async function dumpRuns(args: string[], expectTrials: number): Promise<CliRun[]> {
  const file = path.join(os.tmpdir(), `osm-bench-dump-${process.pid}.json`);
  try {
    return await repeat(RUNS, async (i) => {
      const r = await runCli(['dump', ...args], { outFile: file });
      if (i === 0 && dumpCounts(file).trials !== expectTrials)
        throw new Error(`dump ${args.join(' ')} is not whole: ${JSON.stringify(dumpCounts(file))}`);
      return r;
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function incrementalRefresh(url: string, prefix: string, trialId: number): Promise<number[]> {
  const redis = new Redis(url);
  const reader = new RedisJournalReader(redis, prefix);
  await reader.refresh();
  const writer = new JournalRecords('bench-1');
  const times: number[] = [];
  for (let run = 0; run < 10; run++) {
    const records = Array.from({ length: 100 }, (_, i) =>
      writer.setTrialSystemAttr(trialId, `k${run}_${i}`, BigInt(i)),
    );
    await appendJournalBatch(redis, prefix, records);
    const t0 = performance.now();
    const r = await reader.refresh();
    times.push(performance.now() - t0);
    if (r.entries !== 100)
      throw new Error(`incremental refresh read ${r.entries} entries, expected 100`);
  }
  redis.disconnect();
  return times;
}

/** The same statistic as ours: the median of RUNS fresh Optuna processes. */
async function optunaTime(args: string[]): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++)
    runs.push(JSON.parse(await py('optuna_load_timing.py', args)).seconds * 1000);
  return median(runs);
}

async function baseSection(d: Dataset): Promise<void> {
  const redis = await d.startRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bench-'));
  try {
    const cacheDir = path.join(dir, 'cache');
    child(['redis', redis.url, 'big', cacheDir]); // writes the local replay cache
    const ours = {
      redis: Array.from({ length: RUNS }, () => child(['redis', redis.url, 'big'])),
      redisCached: Array.from({ length: RUNS }, () => child(['redis', redis.url, 'big', cacheDir])),
      file: Array.from({ length: RUNS }, () => child(['file', d.journal])),
      sqlite: Array.from({ length: RUNS }, () => child(['sqlite', d.sqlite])),
    };
    for (const [k, rs] of Object.entries(ours))
      if (rs.some((r) => r.trials !== N))
        throw new Error(`${k}: loaded ${rs[0].trials} trials, expected ${N}`);
    if (!ours.redisCached.every((r) => r.fromCache))
      throw new Error('the cached loads did not start from the cache');
    const cli = {
      studiesSqlite: await repeat(RUNS, () => runCli(['studies', d.sqlite])),
      dumpRedis: await dumpRuns([redis.url, '--prefix', 'big', '--no-cache'], N),
      dumpSqlite: await dumpRuns([d.sqlite], N),
    };

    // Optuna's fastest path: get_all_trials(deepcopy=False); `study.trials` (deepcopy) is slower still.
    const optuna = {
      redisFull: await optunaTime(['--redis', redis.url, '--prefix', 'big', '--ignore-snapshot']),
      redisSnapshot: await optunaTime(['--redis', redis.url, '--prefix', 'big']),
      file: await optunaTime(['--journal', d.journal]),
      sqlite: await optunaTime(['--sqlite', d.sqlite]),
    };
    const incBig = await incrementalRefresh(redis.url, 'big', 0);
    const incSmall = await incrementalRefresh(redis.url, 'small', 0);

    const m = {
      redis: median(ours.redis.map((r) => r.ms)),
      redisCached: median(ours.redisCached.map((r) => r.ms)),
      file: median(ours.file.map((r) => r.ms)),
      sqlite: median(ours.sqlite.map((r) => r.ms)),
    };
    const peakOf = (k: keyof typeof ours) => Math.max(...ours[k].map((r) => r.peakRssMb));
    const peakAll = Math.max(...(Object.keys(ours) as Array<keyof typeof ours>).map(peakOf));
    const ratio = (optunaMs: number, oursMs: number, target: number): Partial<Row> => ({
      optuna: fmt(optunaMs),
      ratio: `${(optunaMs / oursMs).toFixed(1)}x`,
      target: `>= ${target}x`,
      ok: optunaMs / oursMs >= target,
    });
    print(
      `1. ${N} trials, ${d.entries} journal entries: loads in a fresh process (medians of ${RUNS}), Optuna's get_all_trials(deepcopy=False) in the same run`,
      [
        {
          measure: 'Redis cold load vs Optuna full replay',
          ours: fmt(m.redis),
          ...ratio(optuna.redisFull, m.redis, 20),
        },
        {
          measure: 'Redis cold load vs Optuna with snapshot',
          ours: fmt(m.redis),
          optuna: fmt(optuna.redisSnapshot),
          ratio: `${(optuna.redisSnapshot / m.redis).toFixed(1)}x`,
        },
        {
          measure: 'Redis load from local snapshot vs Optuna with snapshot',
          ours: fmt(m.redisCached),
          ...ratio(optuna.redisSnapshot, m.redisCached, 3),
        },
        {
          measure: 'Journal file cold load vs Optuna',
          ours: fmt(m.file),
          optuna: fmt(optuna.file),
          ratio: `${(optuna.file / m.file).toFixed(1)}x`,
        },
        {
          measure: 'SQLite load vs Optuna get_all_trials',
          ours: fmt(m.sqlite),
          ...ratio(optuna.sqlite, m.sqlite, 30),
        },
        {
          measure: `Incremental refresh, 100 entries (${N} trials)`,
          ours: `${fmtMs(median(incBig))} (max ${fmtMs(Math.max(...incBig))})`,
          target: '< 10 ms',
          ok: median(incBig) < 10,
        },
        {
          measure: `Incremental refresh, 100 entries (${Math.max(100, Math.floor(N / 20))} trials)`,
          ours: `${fmtMs(median(incSmall))} (max ${fmtMs(Math.max(...incSmall))})`,
          target: 'same as above',
        },
        {
          measure: 'Peak RSS of a cold load (any storage)',
          ours: `${mb(peakAll)}: redis ${peakOf('redis').toFixed(0)}, file ${peakOf('file').toFixed(0)}, sqlite ${peakOf('sqlite').toFixed(0)}, cached ${peakOf('redisCached').toFixed(0)}`,
          target: '< 200 MB',
          ok: peakAll < 200,
        },
        {
          measure: '`studies` on SQLite, CLI end to end, vs Optuna',
          ours: timeOf(cli.studiesSqlite),
          ...ratio(optuna.sqlite, ms(cli.studiesSqlite), 30),
        },
        {
          measure: '`dump` of the Redis journal, end to end, vs Optuna full replay',
          ours: `${timeOf(cli.dumpRedis)}, ${rssOf(cli.dumpRedis)}`,
          ...ratio(optuna.redisFull, ms(cli.dumpRedis), 20),
        },
        {
          measure: '`dump` of SQLite, end to end, vs Optuna get_all_trials',
          ours: `${timeOf(cli.dumpSqlite)}, ${rssOf(cli.dumpSqlite)}`,
          ...ratio(optuna.sqlite, ms(cli.dumpSqlite), 20),
        },
      ],
    );
  } finally {
    await redis.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The large data set's incremental refresh, for the many-studies comparison. */
let largeRefresh: number[] | undefined;

async function largeSection(d: Dataset): Promise<void> {
  const redis = await d.startRedis();
  const total = d.spec.trials;
  try {
    const cold = await repeat(RUNS, () =>
      runCliOn(redis, ['studies', redis.url, '--prefix', 'big', '--no-cache']),
    );
    const cache = await cacheRuns(redis, 'big');
    const dumpRedis = await dumpRuns([redis.url, '--prefix', 'big', '--no-cache'], total);
    const dumpSqlite = await dumpRuns([d.sqlite], total);
    const dumpFile = await dumpRuns([d.journal], total);
    const studiesSqlite = await repeat(RUNS, () => runCli(['studies', d.sqlite]));
    const refresh = await incrementalRefresh(redis.url, 'big', 0);
    largeRefresh = refresh;
    print(
      `2. ${total} trials, ${d.entries} journal entries: the CLI end to end, fresh processes (median and range of ${RUNS})`,
      [
        {
          measure: 'Redis journal, cold load (`studies --no-cache`)',
          ours: `${timeOf(cold)}, ${rssOf(cold)}; ${cpuOf(cold)}`,
          target: '<= 2 s, <= 300 MB',
          ok: ms(cold) <= 2000 && peak(cold) <= 300,
        },
        {
          measure: 'the run that writes the local replay cache',
          ours: `${timeOf(cache.writes)}, ${rssOf(cache.writes)}`,
          ratio: `${(ms(cache.writes) / ms(cold)).toFixed(2)}x cold`,
          target: '<= cold load + 10 %',
          ok: ms(cache.writes) <= 1.1 * ms(cold),
        },
        {
          measure: 'load from the local cache',
          ours: `${timeOf(cache.reads)}, ${rssOf(cache.reads)}`,
          // Under load, Node's own start-up dominates this row: its floor, measured beside it.
          ratio: `node -e 0: ${timeOf(cache.bareNode)}`,
          target: '<= 0.4 s',
          ok: ms(cache.reads) <= 400,
        },
        {
          measure: '`dump` of the Redis journal',
          ours: `${timeOf(dumpRedis)}, ${rssOf(dumpRedis)}`,
          target: '<= 200 MB',
          ok: peak(dumpRedis) <= 200,
        },
        {
          measure: '`dump` of the SQLite copy',
          ours: `${timeOf(dumpSqlite)}, ${rssOf(dumpSqlite)}`,
          target: '<= 200 MB',
          ok: peak(dumpSqlite) <= 200,
        },
        {
          measure: '`dump` of the journal file copy',
          ours: `${timeOf(dumpFile)}, ${rssOf(dumpFile)}`,
          target: '<= 200 MB',
          ok: peak(dumpFile) <= 200,
        },
        {
          measure: '`studies` on the SQLite copy',
          ours: `${timeOf(studiesSqlite)}, ${rssOf(studiesSqlite)}`,
        },
        {
          measure: 'Incremental refresh, 100 entries',
          ours: `${fmtMs(median(refresh))} (max ${fmtMs(Math.max(...refresh))})`,
          target: '< 10 ms',
          ok: median(refresh) < 10,
        },
      ],
    );
  } finally {
    await redis.dispose();
  }
}

/**
 * The many-studies data set against the one large study: their cold loads alternate, one of
 * each in turn, so that both see the same load on this shared machine (measured minutes apart,
 * a change in load alone moved the ratio from 1.13x to 2.31x).
 */
async function manySection(d: Dataset, large: Dataset | undefined): Promise<void> {
  const redis = await d.startRedis();
  const total = (d.spec.studies ?? 1) * d.spec.trials;
  const one = large && large.spec.trials === total ? await large.startRedis() : undefined;
  try {
    const cold: Array<CliRun & { serverCpuMs: number }> = [];
    const oneCold: Array<CliRun & { serverCpuMs: number }> = [];
    for (let i = 0; i < RUNS; i++) {
      if (one)
        oneCold.push(await runCliOn(one, ['studies', one.url, '--prefix', 'big', '--no-cache']));
      cold.push(await runCliOn(redis, ['studies', redis.url, '--prefix', 'big', '--no-cache']));
    }
    const dumpRedis = await dumpRuns([redis.url, '--prefix', 'big', '--no-cache'], total);
    // Entries for trial 0 of the first study: read and replayed like any other.
    const refresh = await incrementalRefresh(redis.url, 'big', 0);
    const coldRatio = one ? ms(cold) / ms(oneCold) : undefined;
    print(
      `3. ${d.spec.studies} studies × ${d.spec.trials} trials in one prefix (${d.entries} journal entries), against the one ${total}-trial study of 2 (cold loads alternating, median of ${RUNS} each)`,
      [
        {
          measure: 'Redis journal, cold load (`studies --no-cache`)',
          ours: `${timeOf(cold)}, ${rssOf(cold)}; ${cpuOf(cold)}`,
          ratio:
            coldRatio === undefined
              ? ''
              : `${coldRatio.toFixed(2)}x one study (${timeOf(oneCold)}; ${cpuOf(oneCold)})`,
          target: '<= 1.1x one study',
          ok: coldRatio === undefined ? undefined : coldRatio <= 1.1,
        },
        {
          measure: '`dump` of the Redis journal',
          ours: `${timeOf(dumpRedis)}, ${rssOf(dumpRedis)}`,
          target: '<= 200 MB',
          ok: peak(dumpRedis) <= 200,
        },
        {
          measure: 'Incremental refresh, 100 entries',
          ours: `${fmtMs(median(refresh))} (max ${fmtMs(Math.max(...refresh))})`,
          ratio: largeRefresh ? `one study: ${fmtMs(median(largeRefresh))}` : '',
          target: '< 10 ms',
          ok: median(refresh) < 10,
        },
      ],
    );
  } finally {
    await redis.dispose();
    await one?.dispose();
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(
    `Reader benchmark on ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  bundleChild();
  try {
    const base = await dataset({ trials: N, snapshot: true, small: true });
    const large = LARGE > 0 ? await dataset({ trials: LARGE }) : undefined;
    const many =
      MANY_STUDIES > 0 ? await dataset({ trials: MANY_TRIALS, studies: MANY_STUDIES }) : undefined;
    await baseSection(base);
    if (large) await largeSection(large);
    if (many) await manySection(many, large);
  } finally {
    fs.rmSync(CHILD, { force: true });
  }
  const all = results.flatMap((r) => r.rows).filter((r) => r.ok !== undefined);
  console.log(
    `\ntargets met: ${all.filter((r) => r.ok).length}/${all.length} (${((Date.now() - t0) / 1000).toFixed(0)} s, load average now ${os.loadavg()[0].toFixed(1)})`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
