/**
 * Reader benchmark (issue: exact Optuna readers, fast): builds a study of N trials (3 params,
 * 5 intermediate values each: ~10 journal entries per trial) in Redis, a journal file and
 * SQLite with real Optuna's formats, then measures in one run this project's cold loads against
 * Optuna's own, an incremental refresh of 100 new entries, and peak memory.
 *
 * Usage: npm run bench -- [--trials 20000] [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import Redis from 'ioredis';
import { OPTUNA_APPEND_SCRIPT } from '../src/core/storage/journalAppend';
import { RedisJournalReader } from '../src/core/storage/redisJournalReader';
import { runPython } from '../test/helpers/python';
import { RedisServer } from '../test/helpers/redisServer';

const { values: opts } = parseArgs({
  options: { trials: { type: 'string', default: '20000' }, runs: { type: 'string', default: '3' } },
});
const N = Number(opts.trials);
const RUNS = Number(opts.runs);
/** A fixture script with real Optuna, without a time limit (0: big --trials take long). */
const py = (script: string, args: string[]): Promise<string> => runPython(script, args, 0);

/** The load runs bundled, as in the extension and the CLI (no TypeScript compiler in memory). */
// Inside the repo so the bundle resolves better-sqlite3 from node_modules.
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
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

async function incrementalRefresh(url: string, prefix: string, trialId: number): Promise<number[]> {
  const redis = new Redis(url);
  const reader = new RedisJournalReader(redis, prefix);
  await reader.refresh();
  const times: number[] = [];
  for (let run = 0; run < 10; run++) {
    const pipe = redis.pipeline();
    for (let i = 0; i < 100; i++) {
      pipe.eval(
        OPTUNA_APPEND_SCRIPT,
        0,
        prefix,
        JSON.stringify({
          op_code: 9,
          worker_id: 'bench-1',
          trial_id: trialId,
          system_attr: { [`k${run}_${i}`]: i },
        }),
      );
    }
    await pipe.exec();
    const t0 = performance.now();
    const r = await reader.refresh();
    times.push(performance.now() - t0);
    if (r.entries !== 100)
      throw new Error(`incremental refresh read ${r.entries} entries, expected 100`);
  }
  redis.disconnect();
  return times;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bench-'));
  const redis = await RedisServer.start({ args: ['--maxmemory', '0'] });
  try {
    const journal = path.join(dir, 'big.log');
    const sqlite = path.join(dir, 'big.db');
    const small = { prefix: 'small', trials: Math.max(100, Math.floor(N / 20)) };
    console.log(
      `Building a ${N}-trial study (Redis, journal file, SQLite) with real Optuna formats…`,
    );
    const t0 = Date.now();
    await py('generate_big.py', [
      '--redis',
      redis.url,
      '--prefix',
      'big',
      '--journal',
      journal,
      '--sqlite',
      sqlite,
      '--trials',
      String(N),
      '--snapshot',
      '--no-verify',
    ]);
    await py('generate_big.py', [
      '--redis',
      redis.url,
      '--prefix',
      small.prefix,
      '--trials',
      String(small.trials),
      '--no-verify',
    ]);
    const c = redis.client();
    const entries = Number(await c.get('big:log_number')) + 1;
    c.disconnect();
    console.log(
      `  built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${entries} Redis entries, journal ${(fs.statSync(journal).size / 2 ** 20).toFixed(1)} MB\n`,
    );

    bundleChild();
    const cacheDir = path.join(dir, 'cache');
    child(['redis', redis.url, 'big', cacheDir]); // writes the local replay cache
    const ours = {
      redis: Array.from({ length: RUNS }, () => child(['redis', redis.url, 'big'])),
      redisCached: Array.from({ length: RUNS }, () => child(['redis', redis.url, 'big', cacheDir])),
      file: Array.from({ length: RUNS }, () => child(['file', journal])),
      sqlite: Array.from({ length: RUNS }, () => child(['sqlite', sqlite])),
    };
    for (const [k, rs] of Object.entries(ours))
      if (rs.some((r) => r.trials !== N))
        throw new Error(`${k}: loaded ${rs[0].trials} trials, expected ${N}`);
    if (!ours.redisCached.every((r) => r.fromCache))
      throw new Error('the cached loads did not start from the cache');

    // The same statistic as ours: the median of RUNS fresh Optuna processes.
    const optunaTime = async (args: string[]) => {
      const runs: number[] = [];
      for (let i = 0; i < RUNS; i++)
        runs.push(JSON.parse(await py('optuna_load_timing.py', args)).seconds * 1000);
      return median(runs);
    };
    // Optuna's fastest path: get_all_trials(deepcopy=False); `study.trials` (deepcopy) is slower still.
    const optuna = {
      redisFull: await optunaTime(['--redis', redis.url, '--prefix', 'big', '--ignore-snapshot']),
      redisSnapshot: await optunaTime(['--redis', redis.url, '--prefix', 'big']),
      file: await optunaTime(['--journal', journal]),
      sqlite: await optunaTime(['--sqlite', sqlite]),
    };

    const incBig = await incrementalRefresh(redis.url, 'big', 0);
    const incSmall = await incrementalRefresh(redis.url, small.prefix, 0);

    const m = {
      redis: median(ours.redis.map((r) => r.ms)),
      redisCached: median(ours.redisCached.map((r) => r.ms)),
      file: median(ours.file.map((r) => r.ms)),
      sqlite: median(ours.sqlite.map((r) => r.ms)),
    };
    const peakOf = (k: keyof typeof ours) => Math.max(...ours[k].map((r) => r.peakRssMb));
    const peak = Math.max(...(Object.keys(ours) as Array<keyof typeof ours>).map(peakOf));
    const rows: Array<[string, string, string, string, string]> = [
      [
        'Redis cold load vs Optuna full replay',
        fmt(m.redis),
        fmt(optuna.redisFull),
        `${(optuna.redisFull / m.redis).toFixed(1)}x`,
        '>= 20x',
      ],
      [
        'Redis cold load vs Optuna with snapshot',
        fmt(m.redis),
        fmt(optuna.redisSnapshot),
        `${(optuna.redisSnapshot / m.redis).toFixed(1)}x`,
        '-',
      ],
      [
        'Redis load from local snapshot vs Optuna with snapshot',
        fmt(m.redisCached),
        fmt(optuna.redisSnapshot),
        `${(optuna.redisSnapshot / m.redisCached).toFixed(1)}x`,
        '>= 3x',
      ],
      [
        'Journal file cold load vs Optuna',
        fmt(m.file),
        fmt(optuna.file),
        `${(optuna.file / m.file).toFixed(1)}x`,
        '-',
      ],
      [
        'SQLite load vs Optuna get_all_trials',
        fmt(m.sqlite),
        fmt(optuna.sqlite),
        `${(optuna.sqlite / m.sqlite).toFixed(1)}x`,
        '>= 30x',
      ],
      [
        `Incremental refresh, 100 entries (${N} trials)`,
        fmt(median(incBig)),
        '',
        `max ${fmt(Math.max(...incBig))}`,
        '< 10 ms',
      ],
      [
        `Incremental refresh, 100 entries (${small.trials} trials)`,
        fmt(median(incSmall)),
        '',
        `max ${fmt(Math.max(...incSmall))}`,
        'same as above',
      ],
      [
        'Peak RSS of a cold load (any storage)',
        `${peak.toFixed(0)} MB`,
        '',
        `redis ${peakOf('redis').toFixed(0)}, file ${peakOf('file').toFixed(0)}, sqlite ${peakOf('sqlite').toFixed(0)}, cached ${peakOf('redisCached').toFixed(0)}`,
        '< 200 MB',
      ],
    ];
    console.log(
      `Reader benchmark: ${N} trials, ${entries} journal entries; medians of ${RUNS} loads, each in a fresh process, ours and Optuna's (get_all_trials(deepcopy=False))\n`,
    );
    const head: [string, string, string, string, string] = [
      'measure',
      'this project',
      'Optuna 3.1',
      'ratio',
      'target',
    ];
    const w = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
    for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(w[i])).join('  '));
    const checks = [
      optuna.redisFull / m.redis >= 20,
      optuna.redisSnapshot / m.redisCached >= 3,
      optuna.sqlite / m.sqlite >= 30,
      median(incBig) < 10,
      peak < 200,
    ];
    console.log(`\ntargets met: ${checks.filter(Boolean).length}/${checks.length}`);
  } finally {
    await redis.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(CHILD, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
