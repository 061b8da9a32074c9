/**
 * Start / back up / restore benchmark on a deployment holding a realistic journal: a
 * 20,000-trial study (generate_big.py: ~200,000 journal entries, 3 params and 5 intermediate
 * values a trial) in a Redis that `optuna-storage deploy` installed (AOF on, temp paths, a
 * free loopback port). Each operation is the bundled CLI as a user runs it, wall clock of the
 * whole process, next to the same job done by hand (bare redis-server, cp) and to real
 * Optuna's load of the study, which every worker pays after Redis comes back, measured in the
 * same run.
 *
 * Usage: npm run bench:redis -- [--trials 20000]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { deployArgs, serverPid, shutDown, stopDeployed } from '../test/helpers/deployed';
import { freePort } from '../test/helpers/ports';
import { runPython } from '../test/helpers/python';
import { runCli } from './cliRun';

const { values: opts } = parseArgs({
  options: { trials: { type: 'string', default: '20000' } },
});
const N = Number(opts.trials);

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Real Optuna loading the study (what each worker does after Redis is back): seconds, trials. */
async function optunaLoad(url: string): Promise<{ ms: number; trials: number }> {
  const out = await runPython('optuna_load_timing.py', ['--redis', url, '--prefix', 'big'], 0);
  const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; trials: number };
  return { ms: r.seconds * 1000, trials: r.trials };
}

/** Waits until redis-server answers PING on the port (the bare start's end). */
async function waitForPong(port: number): Promise<void> {
  for (;;) {
    try {
      const pid = await serverPid(port);
      if (pid) return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bench-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const target = path.join(dir, 'etc', 'redis.conf');
  const data = path.join(dir, 'data');
  const backups = path.join(dir, 'backups');
  try {
    await runCli([...['deploy', ...deployArgs(dir, port)], '--yes']);
    console.log(`Writing a ${N}-trial study into the deployed Redis (Optuna's record format)…`);
    await runPython(
      'generate_big.py',
      [
        '--redis',
        url,
        '--prefix',
        'big',
        '--trials',
        String(N),
        '--study-name',
        'big',
        '--no-verify',
      ],
      0,
    );
    await shutDown(port); // a graceful stop writes the AOF and RDB out completely
    const rows: Array<[string, number, string, number]> = [];

    // Start: ours (validate on a scratch port, start, PONG, list prefixes) vs bare redis-server.
    const bare = await timed(async () => {
      execFileSync('redis-server', [target, '--daemonize', 'yes']);
      await waitForPong(port);
    });
    await shutDown(port);
    const start = (await runCli(['start', '--target', target])).ms;
    rows.push(['start (after a container restart)', start, 'redis-server <config> + PONG', bare]);
    const loadAfterStart = await optunaLoad(url);

    // Backup: ours (BGSAVE, BGREWRITEAOF, copy + SHA-256) vs copying the data directory.
    const dataBytes = du(data);
    const cp = await timed(() => execFileSync('cp', ['-a', data, path.join(dir, 'plain-copy')]));
    fs.rmSync(path.join(dir, 'plain-copy'), { recursive: true });
    const backup = (await runCli(['backup', 'create', '--redis', url, '--dir', backups])).ms;
    rows.push(['backup create', backup, 'cp -a of the data dir', cp]);

    // Restore: ours (SHA-256 check, SHUTDOWN SAVE, move aside, copy, start, PONG, read every
    // journal back) vs the same by hand (stop, mv, cp, start, PONG).
    const backupDir = path.join(backups, fs.readdirSync(backups)[0]);
    const byHand = await timed(async () => {
      await shutDown(port);
      fs.renameSync(path.join(data, 'appendonlydir'), path.join(dir, 'by-hand-aof'));
      fs.renameSync(path.join(data, 'dump.rdb'), path.join(dir, 'by-hand-rdb'));
      execFileSync('cp', ['-a', path.join(backupDir, 'appendonlydir'), data]);
      execFileSync('cp', ['-a', path.join(backupDir, 'dump.rdb'), data]);
      execFileSync('redis-server', [target, '--daemonize', 'yes']);
      await waitForPong(port);
    });
    const restore = (
      await runCli(['backup', 'restore', '--dir', backups, '--target', target, '--yes'])
    ).ms;
    rows.push(['backup restore', restore, 'stop, mv, cp, start + PONG by hand', byHand]);
    const loadAfterRestore = await optunaLoad(url);
    if (loadAfterStart.trials !== N || loadAfterRestore.trials !== N) {
      console.error(
        `Optuna read ${loadAfterStart.trials} trials after start, ${loadAfterRestore.trials} after restore, not ${N}`,
      );
      process.exitCode = 1;
    }

    console.log(
      `\nRedis operations: ${N} trials, data dir ${(dataBytes / 1024 / 1024).toFixed(1)} MB (AOF + RDB); wall clock of one CLI process each\n`,
    );
    const head = ['operation', 'optuna-storage', 'by hand', 'by hand took', 'ratio'];
    const table = rows.map(([name, ours, how, hand]) => [
      name,
      fmt(ours),
      how,
      fmt(hand),
      `${(ours / hand).toFixed(1)}x`,
    ]);
    const w = head.map((_, i) => Math.max(...[head, ...table].map((r) => r[i].length)));
    for (const r of [head, ...table]) console.log(r.map((x, i) => x.padEnd(w[i])).join('  '));
    console.log(
      `\nReal Optuna 3.1 loading the study afterwards (what every worker waits for): ${fmt(loadAfterStart.ms)} after start, ${fmt(loadAfterRestore.ms)} after restore; ${loadAfterRestore.trials} trials both times`,
    );
  } finally {
    await stopDeployed(port);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
