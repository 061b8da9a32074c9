/**
 * Extension-host benchmark: a large study (100,000 trials = 1,000,001 journal entries by
 * default, bench/dataset.ts) in a real redis-server and a workspace whose settings point at it.
 *
 *  1. The extension from this checkout in code-server (test/extension/suite/bench.test.ts):
 *     activation to the first studies shown, the study's row and first page of trials, the
 *     Trials view sorted by best value, refreshes with 100 new journal entries, and the
 *     extension host's peak RSS.
 *  2. The packaged VSIX installed in code-server as a user has it, no replay cache: from
 *     opening the window to the study's row in the Studies view (what a person sees), and the
 *     extension host's peak RSS, read from /proc by pid.
 *
 * Usage: npm run bench:extension -- [--trials 100000] [--vsix FILE] [--no-dev] [--no-vsix]
 *        [--runs 1]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { RedisServer } from '../test/helpers/redisServer';
import {
  DEFAULT_CODE_SERVER_VERSION,
  defaultCodeServerPath,
  launchBrowser,
  registerCleanup,
  startServer,
  workbenchUrl,
} from '../test/extension/runOffline';
import { clickActivityBar, waitForWorkbench } from '../test/extension/screenshot';
import { installVsix, packageVsix } from '../test/extension/vsixSmoke';
import { dataset } from './dataset';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '100000' },
    vsix: { type: 'string' },
    'no-dev': { type: 'boolean', default: false },
    'no-vsix': { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
  },
});
const N = Number(opts.trials);
const RUNS = Number(opts.runs);
const ROOT = path.resolve(__dirname, '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[], unit: string) =>
  xs.length > 1 ? ` (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ${unit})` : '';

function workspaceFor(redis: RedisServer, dir: string): string {
  const ws = path.join(dir, 'workspace');
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify({
      'optunaStorage.redis.url': redis.url,
      'optunaStorage.redis.prefixes': ['big'],
    }),
  );
  return ws;
}

interface DevResult {
  trials: number;
  firstStudiesMs: number;
  partialTrials: number;
  partialCause?: string;
  wholeStudyMs: number;
  firstPageMs: number;
  sortBestMs: number;
  refreshMs: number[];
  renderMs: number[];
  peakRssMb: number;
  rssMb: number;
  heapUsedMb: number;
}

/** The extension from this checkout, in the test harness's extension host. */
function devRun(ws: string, dir: string): DevResult {
  const out = path.join(dir, 'result.json');
  execFileSync(process.execPath, ['-r', 'tsx/cjs', 'test/extension/runOffline.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      OSM_TEST_WORKSPACE: ws,
      OSM_BENCH_OUT: out,
      OSM_BENCH_TRIALS: String(N),
      OSM_TEST_GREP: 'extension-host benchmark',
    },
  });
  return JSON.parse(fs.readFileSync(out, 'utf8')) as DevResult;
}

/** Peak and current RSS (MB) of the extension host processes in a process group. */
function extensionHostMemory(pgid: number): Array<{ pid: number; peakMb: number; rssMb: number }> {
  const out: Array<{ pid: number; peakMb: number; rssMb: number }> = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      if (!fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('extensionHost')) continue;
      const status = fs.readFileSync(`/proc/${d}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1]);
      out.push({ pid: Number(d), peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 });
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

/**
 * The extension's own log lines and the extension host's lines about its activation, with
 * their times (the logs are under the code-server's folder; their clock is this machine's).
 */
function extensionLog(dir: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    /(Optuna Storage|exthost)\.log$/.test(f),
  );
  for (const f of files) {
    const own = f.endsWith('Optuna Storage.log');
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[\w+\] (.*)$/.exec(line);
      if (!m || (!own && !/optuna-storage|[Ee]xtension host|ExtensionService/.test(m[2]))) continue;
      out.push([
        new Date(m[1].replace(' ', 'T')).getTime(),
        `${own ? 'extension' : 'exthost'}: ${m[2].slice(0, 160)}`,
      ]);
    }
  }
  return out;
}

/** The VSIX as a user installs it: window opened, Optuna Storage clicked, the study's row. */
async function vsixRun(
  vsix: string,
  ws: string,
): Promise<{
  rowMs: number;
  row: string;
  peakMb: number;
  rssMb: number;
  timeline: string[];
}> {
  const server = await startServer({ workspace: ws });
  const stopServer = registerCleanup({ name: 'code-server', fn: () => server.stop() });
  try {
    // code-server's own CLI installs the VSIX (the server scans it when the host starts).
    installVsix(
      { version: DEFAULT_CODE_SERVER_VERSION, nodeMajor: '20', serverMain: false },
      process.env.OSM_CODE_SERVER ?? defaultCodeServerPath(),
      server,
      vsix,
      process.execPath,
    );
    const browser = await launchBrowser(path.join(server.tmpDir, 'chromium-profile'));
    try {
      const { page } = browser;
      const t0 = Date.now();
      const marks: Array<[number, string]> = [];
      const mark = (what: string) => marks.push([Date.now(), `browser: ${what}`]);
      await page.goto(workbenchUrl(server, []), { waitUntil: 'domcontentloaded', timeout: 60_000 });
      mark('page loaded');
      await waitForWorkbench(page, 120_000);
      mark('workbench shown');
      await clickActivityBar(page, 'Optuna Storage', 60_000);
      mark('Optuna Storage clicked');
      // Checked in the page every 50 ms: polling from here every 250 ms added
      // up to a quarter of a second, and a round trip, to every figure.
      const row = (await (
        await page.waitForFunction(
          `[...document.querySelectorAll('.part.sidebar .monaco-list-row')]
            .map((e) => e.innerText.replace(/\\s+/g, ' ').trim())
            .find((r) => r.startsWith('big') && r.includes('${N} trials'))`,
          undefined,
          { polling: 50, timeout: 300_000 },
        )
      ).jsonValue()) as string;
      const rowMs = Date.now() - t0;
      mark("the study's row shown");
      // Let the first refresh settle (the cache write, if any), then read the host's memory.
      await new Promise((r) => setTimeout(r, 5000));
      const hosts = extensionHostMemory(server.pid);
      if (hosts.length !== 1)
        throw new Error(`expected one extension host, found ${JSON.stringify(hosts)}`);
      const timeline = [...marks, ...extensionLog(server.tmpDir)]
        .sort((a, b) => a[0] - b[0])
        .map(([t, what]) => `${((t - t0) / 1000).toFixed(2).padStart(7)} s  ${what}`);
      return { rowMs, row, peakMb: hosts[0].peakMb, rssMb: hosts[0].rssMb, timeline };
    } finally {
      await browser.close();
    }
  } finally {
    stopServer();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const d = await dataset({ trials: N });
  console.log(
    `Extension host benchmark: ${N} trials (${d.entries} journal entries) in Redis; machine load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  const lines: string[] = [];
  if (!opts['no-dev']) {
    execFileSync(process.execPath, ['test/extension/build.js'], { cwd: ROOT, stdio: 'inherit' });
    const runs: DevResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      const redis = await d.startRedis();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-ext-bench-'));
      try {
        runs.push(devRun(workspaceFor(redis, dir), dir));
      } finally {
        await redis.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const m = (f: (r: DevResult) => number) => median(runs.map(f));
    const refresh = runs.flatMap((r) => r.refreshMs);
    const render = runs.flatMap((r) => r.renderMs);
    lines.push(
      `1. The extension from this checkout (code-server 4.100.3, VS Code 1.100, Node ${process.version}), medians of ${RUNS}:`,
      `   activation → first studies shown     ${m((r) => r.firstStudiesMs).toFixed(0)} ms${range(
        runs.map((r) => r.firstStudiesMs),
        'ms',
      )} (connect, journal read, replay; ${runs.map((r) => r.partialTrials).join(', ')} trials)`,
      ...runs.flatMap((r) =>
        r.partialCause
          ? [`   (the first read stopped at ${r.partialTrials} trials: ${r.partialCause})`]
          : [],
      ),
      `   activation → the whole study          ${m((r) => r.wholeStudyMs).toFixed(0)} ms${range(
        runs.map((r) => r.wholeStudyMs),
        'ms',
      )} (all ${N} trials)`,
      `   the study's row and first page        ${m((r) => r.firstPageMs).toFixed(1)} ms`,
      `   Trials view sorted by best value      ${m((r) => r.sortBestMs).toFixed(1)} ms`,
      `   refresh with 100 new entries          median ${median(refresh).toFixed(1)} ms, max ${Math.max(...refresh).toFixed(1)} ms`,
      `   re-render of the study's first page   median ${median(render).toFixed(1)} ms, max ${Math.max(...render).toFixed(1)} ms`,
      `   extension host peak RSS               ${Math.max(...runs.map((r) => r.peakRssMb)).toFixed(0)} MB (now ${m((r) => r.rssMb).toFixed(0)} MB, JS heap ${m((r) => r.heapUsedMb).toFixed(0)} MB)   target <= 400 MB`,
    );
  }
  if (!opts['no-vsix']) {
    const vsix = path.resolve(opts.vsix ?? packageVsix());
    const runs: Array<Awaited<ReturnType<typeof vsixRun>>> = [];
    for (let i = 0; i < RUNS; i++) {
      const redis = await d.startRedis();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-ext-bench-'));
      try {
        runs.push(await vsixRun(vsix, workspaceFor(redis, dir)));
      } finally {
        await redis.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const rowMs = runs.map((r) => r.rowMs);
    const peaks = runs.map((r) => r.peakMb);
    lines.push(
      `2. The VSIX (${path.basename(vsix)}) in code-server 4.100.3, fresh profile, no replay cache, ${RUNS} run(s):`,
      `   opening the window → the study's row  ${(median(rowMs) / 1000).toFixed(1)} s${range(rowMs, 'ms')}   target <= 5 s   ("${runs[0].row}")`,
      ...runs.flatMap((r, i) => [
        `   run ${i + 1}, from opening the window:`,
        ...r.timeline.map((l) => `     ${l}`),
      ]),
      `   extension host peak RSS               ${Math.max(...peaks).toFixed(0)} MB${range(peaks, 'MB')} (now ${median(runs.map((r) => r.rssMb)).toFixed(0)} MB)   target <= 400 MB`,
    );
  }
  console.log(`\n${lines.join('\n')}\n(machine load now ${os.loadavg()[0].toFixed(1)})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
