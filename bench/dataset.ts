/**
 * Benchmark data sets, built once by test/fixtures/generate_big.py (real Optuna formats) and
 * kept under bench/out/ keyed by their parameters and the generator's own text: a 100,000-trial
 * study is 1,000,001 journal entries, which take minutes to write, not seconds to copy back.
 * Redis data is kept as the server's RDB file and loaded by a fresh redis-server per run.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPython } from '../test/helpers/python';
import { RedisServer } from '../test/helpers/redisServer';

export interface DatasetSpec {
  /** Trials per study. */
  trials: number;
  /** Studies in the `big` prefix (generate_big.py --studies), default 1. */
  studies?: number;
  /** Also save Optuna's own pickle snapshot in Redis (a full replay by Optuna: slow at 100k). */
  snapshot?: boolean;
  /** Also a study of trials/20 trials under the prefix `small`. */
  small?: boolean;
}

export interface Dataset {
  spec: DatasetSpec;
  /** Journal file and SQLite file holding the same studies as the Redis prefix `big`. */
  journal: string;
  sqlite: string;
  /** Entries of the Redis journal `big`. */
  entries: number;
  /** Names of the studies. */
  studyNames: string[];
  /** A fresh redis-server on a free port with the data set loaded. */
  startRedis(): Promise<RedisServer>;
}

const OUT = path.resolve(__dirname, 'out');
const GENERATOR = path.resolve(__dirname, '..', 'test', 'fixtures', 'generate_big.py');

function key(spec: DatasetSpec): string {
  const gen = createHash('sha256').update(fs.readFileSync(GENERATOR)).digest('hex').slice(0, 12);
  const studies = spec.studies ?? 1;
  return `${studies}x${spec.trials}${spec.snapshot ? '-snapshot' : ''}${spec.small ? '-small' : ''}-${gen}`;
}

async function redisWith(rdb: string): Promise<RedisServer> {
  const s = new RedisServer({ args: ['--maxmemory', '0'] });
  fs.copyFileSync(rdb, path.join(s.dir, 'dump.rdb'));
  await s.start(); // waits through the server's LOADING phase
  return s;
}

/** The data set, from bench/out/ when built before, else built now (with progress on stdout). */
export async function dataset(spec: DatasetSpec): Promise<Dataset> {
  const dir = path.join(OUT, key(spec));
  const studies = spec.studies ?? 1;
  const metaFile = path.join(dir, 'meta.json');
  if (!fs.existsSync(metaFile)) await build(spec, dir);
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { entries: number };
  return {
    spec,
    journal: path.join(dir, 'journal.log'),
    sqlite: path.join(dir, 'study.db'),
    entries: meta.entries,
    studyNames:
      studies === 1
        ? ['big']
        : Array.from({ length: studies }, (_, i) => `big-${String(i).padStart(3, '0')}`),
    startRedis: () => redisWith(path.join(dir, 'dump.rdb')),
  };
}

async function build(spec: DatasetSpec, dir: string): Promise<void> {
  const studies = spec.studies ?? 1;
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  console.log(
    `Building ${studies} × ${spec.trials} trials (Redis, journal file, SQLite) with real Optuna formats, once (kept in ${path.relative(process.cwd(), dir)})…`,
  );
  const t0 = Date.now();
  const redis = await RedisServer.start({ args: ['--maxmemory', '0'] });
  try {
    // No time limit: a 100,000-trial study takes minutes.
    await runPython(
      'generate_big.py',
      [
        '--redis',
        redis.url,
        '--prefix',
        'big',
        '--journal',
        path.join(tmp, 'journal.log'),
        '--sqlite',
        path.join(tmp, 'study.db'),
        '--trials',
        String(spec.trials),
        '--studies',
        String(studies),
        ...(spec.snapshot ? ['--snapshot'] : []),
        '--no-verify',
      ],
      0,
    );
    if (spec.small)
      await runPython(
        'generate_big.py',
        [
          '--redis',
          redis.url,
          '--prefix',
          'small',
          '--trials',
          String(Math.max(100, Math.floor(spec.trials / 20))),
          '--no-verify',
        ],
        0,
      );
    const c = redis.client();
    const entries = Number(await c.get('big:log_number')) + 1;
    await c.save();
    c.disconnect();
    fs.copyFileSync(path.join(redis.dir, 'dump.rdb'), path.join(tmp, 'dump.rdb'));
    fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify({ spec, entries }));
  } finally {
    await redis.dispose();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  console.log(`  built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
