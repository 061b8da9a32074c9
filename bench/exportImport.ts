/**
 * Export/import benchmark: a 20,000-trial study (generate_big.py: 3 params and 5 intermediate
 * values per trial, ~200,000 journal entries) moved between Redis, a journal file and SQLite
 * by `optuna-storage export/import` and by Optuna's own `optuna.copy_study` on the same data.
 * Wall-clock of whole processes on both sides (start-up, reading, writing; ours also reads its
 * output back to verify it). The two journal files must hold the same records.
 *
 * Usage: npm run bench:export -- [--trials 20000] [--no-sqlite]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { runPython } from '../test/helpers/python';
import { RedisServer } from '../test/helpers/redisServer';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '20000' },
    'no-sqlite': { type: 'boolean', default: false },
  },
});
const N = Number(opts.trials);
// Inside the repo so that the bundle resolves better-sqlite3 from node_modules.
const CLI = path.resolve(__dirname, '..', '.test-work', `bench-cli-${process.pid}.js`);

/** A fixture script with real Optuna, without a time limit (0: big --trials take long). */
const py = (script: string, args: string[]): Promise<string> => runPython(script, args, 0);

async function timed<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

/** The CLI as users run it: bundled, in a fresh Node process. */
function cli(args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    cwd: path.resolve(__dirname, '..'),
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const withoutWorker = (text: string) => text.replace(/"worker_id": "[^"]*"/g, '"worker_id": "W"');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bench-export-'));
  const redis = await RedisServer.start({ args: ['--maxmemory', '0'] });
  try {
    console.log(`Building a ${N}-trial study in Redis with real Optuna's format…`);
    await py('generate_big.py', [
      '--redis',
      redis.url,
      '--prefix',
      'big',
      '--trials',
      String(N),
      '--study-name',
      'big',
      '--no-verify',
    ]);
    const c = redis.client();
    const entries = Number(await c.get('big:log_number')) + 1;
    c.disconnect();
    buildSync({
      entryPoints: [path.resolve(__dirname, '..', 'src', 'cli.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      external: ['better-sqlite3'],
      outfile: CLI,
      logLevel: 'warning',
    });

    const rows: Array<[string, number, number]> = [];
    const f = (name: string) => path.join(dir, name);

    const [oursLog] = await timed(() =>
      cli(['export', redis.url, '--prefix', 'big', '--study', 'big', '--to', f('ours.log')]),
    );
    const [optunaLog, optunaLogOut] = await timed(() =>
      py('copy_study.py', [
        redis.url,
        '--from-prefix',
        'big',
        '--study',
        'big',
        '--to',
        f('optuna.log'),
      ]),
    );
    rows.push(['export Redis -> journal file (.log)', oursLog, optunaLog]);
    const same =
      withoutWorker(fs.readFileSync(f('ours.log'), 'utf8')) ===
      withoutWorker(fs.readFileSync(f('optuna.log'), 'utf8'));

    const [oursImport] = await timed(() =>
      cli(['import', f('ours.log'), '--redis', redis.url, '--prefix', 'ours-restored']),
    );
    const [optunaImport] = await timed(() =>
      py('copy_study.py', [f('optuna.log'), '--to', redis.url, '--to-prefix', 'optuna-restored']),
    );
    rows.push(['import journal file -> Redis prefix', oursImport, optunaImport]);

    if (!opts['no-sqlite']) {
      const [oursDb] = await timed(() =>
        cli(['export', redis.url, '--prefix', 'big', '--study', 'big', '--to', f('ours.db')]),
      );
      const [optunaDb] = await timed(() =>
        py('copy_study.py', [
          redis.url,
          '--from-prefix',
          'big',
          '--study',
          'big',
          '--to',
          f('optuna.db'),
        ]),
      );
      rows.push(['export Redis -> SQLite (.db)', oursDb, optunaDb]);
    }

    const copy = JSON.parse(optunaLogOut.trim().split('\n')[0]) as {
      load_seconds: number;
      copy_seconds: number;
    };
    console.log(
      `\nExport/import benchmark: ${N} trials, ${entries} journal entries; wall-clock of one process each`,
    );
    console.log(
      `(ours: bundled CLI incl. verification read-back; Optuna 3.1: copy_study.py incl. its replay of the source)\n`,
    );
    const head = ['operation', 'optuna-storage', 'optuna.copy_study', 'ratio'];
    const table = rows.map(([name, ours, optuna]) => [
      name,
      fmt(ours),
      fmt(optuna),
      `${(optuna / ours).toFixed(1)}x faster`,
    ]);
    const w = head.map((_, i) => Math.max(...[head, ...table].map((r) => r[i].length)));
    for (const r of [head, ...table]) console.log(r.map((x, i) => x.padEnd(w[i])).join('  '));
    console.log(
      `\nOptuna's part: replaying the source ${copy.load_seconds.toFixed(2)} s, copy_study ${copy.copy_seconds.toFixed(2)} s`,
    );
    console.log(`journal files identical apart from worker ids: ${same ? 'yes' : 'NO'}`);
    if (!same) process.exitCode = 1;
  } finally {
    await redis.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(CLI, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
