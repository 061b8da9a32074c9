/**
 * Study page benchmark: one large study in a real redis-server (bulk-written in Optuna's record
 * format: 8 params, 5 intermediate values, 8 workers), the real extension in code-server and
 * the page in headless Chromium. Per study: time from the command to the first chart drawn and
 * to the table filled, a full sort of every row, one live update of 100 new trials, the
 * extension host's RSS and the webview's JS heap.
 *
 * Usage: npm run build:prod && npm run bench:page -- [--trials 20000,100000] [--objectives 1,2]
 * (production bundles, minified, as the VSIX ships them; the figures say which were measured).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runPython } from '../test/helpers/python';
import { RedisServer } from '../test/helpers/redisServer';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '20000,100000' },
    objectives: { type: 'string', default: '1,2' },
  },
});

interface Result {
  trials: number;
  objectives: number;
  firstChartMs: number;
  firstChartReportedMs: number;
  webviewBootMs: number;
  /** When the page's script started, said ready, was heard; when the snapshot was encoded. */
  bootParts: string;
  firstChartInPageMs: number;
  rowsMs: number;
  tableMs: number;
  allChartsMs: number;
  snapshotEncodeMs: number;
  sortMs: number[];
  refreshMs: number;
  liveEncodeMs: number;
  liveRows: number;
  liveApplyMs: number;
  /** Where the page's time for the live update went ("100 rows: store 1.0 ms, …"). */
  liveApplySteps: string;
  /** The page making room for new rows, once idle after the snapshot (not in the update). */
  reserveMs: number;
  /** Each of the five live updates: encode / apply / end to end and its parts (the table has their medians). */
  liveRounds: string[];
  /** The extension host's memory by part, before the page and with it open. */
  extHostMemory: string;
  /** Updates arriving 300 ms after the previous one was shown (as its plots redraw). */
  liveIntoRedraw: string[];
  /** The extension host's RSS at each step of the run. */
  extHostRssAlongTheWay: string;
  /** Each round of plot drawing the page reported: each plot's time (and its option's). */
  draws: string[];
  /** The machine's 1-minute load average when the study's run ended. */
  load: number;
  liveEndToEndMs: number;
  extHostRssMB: number;
  extHostRssBeforePageMB: number;
  /** The same two after a full garbage collection (what the page keeps, not its garbage). */
  extHostRssGcMB: number;
  extHostRssBeforePageGcMB: number;
  webviewHeapMB: number;
}

async function one(trials: number, objectives: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-page-bench-'));
  const redis = await RedisServer.start();
  try {
    const gen = JSON.parse(
      await runPython(
        'page_bench_study.py',
        [
          '--redis',
          redis.url,
          '--prefix',
          'bench',
          '--trials',
          String(trials),
          '--objectives',
          String(objectives),
        ],
        900_000,
      ),
    ) as { entries: number; seconds: number };
    console.log(
      `  generated ${trials} trials (${gen.entries} journal entries) in ${gen.seconds} s`,
    );
    const ws = path.join(dir, 'workspace');
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, '.vscode', 'settings.json'),
      JSON.stringify({
        'optunaStorage.redis.url': redis.url,
        'optunaStorage.redis.prefixes': ['bench'],
        'optunaStorage.refreshInterval': 3600,
      }),
    );
    const out = path.join(dir, 'result.json');
    const logFile = path.join(dir, 'run.log');
    const log = fs.openSync(logFile, 'w');
    try {
      execFileSync(
        process.execPath,
        ['-r', 'tsx/cjs', 'test/extension/runOffline.ts', '--timeout', '1200000'],
        {
          cwd: path.resolve(__dirname, '..'),
          stdio: ['ignore', log, 'inherit'],
          env: {
            ...process.env,
            OSM_TEST_WORKSPACE: ws,
            OSM_PAGE_BENCH_OUT: out,
            OSM_TEST_GREP: 'study page benchmark',
          },
        },
      );
    } catch (e) {
      // The harness's own report says which step failed.
      console.error(fs.readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n'));
      throw e;
    } finally {
      fs.closeSync(log);
    }
    return {
      ...(JSON.parse(fs.readFileSync(out, 'utf8')) as Result),
      load: os.loadavg()[0],
    };
  } finally {
    await redis.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  if (!fs.existsSync(path.join(root, 'dist', 'webview', 'studyPage.js')))
    throw new Error('dist/webview/studyPage.js missing: run `npm run build:prod` first');
  const bundle = path.join(root, 'dist', 'webview', 'studyPage.js');
  // A development build ends with its source map's address; a production one has none.
  const minified = !fs.readFileSync(bundle, 'utf8').includes('//# sourceMappingURL=');
  const bundleNote = `dist/webview/studyPage.js ${(fs.statSync(bundle).size / 2 ** 10).toFixed(0)} KiB, ${minified ? 'production (minified)' : 'development (npm run build)'}`;
  execFileSync(process.execPath, ['test/extension/build.js'], { cwd: root, stdio: 'inherit' });
  const results: Result[] = [];
  for (const n of opts.trials!.split(',').map(Number))
    for (const k of opts.objectives!.split(',').map(Number)) {
      console.log(`study page, ${n} trials, ${k} objective${k > 1 ? 's' : ''}:`);
      results.push(await one(n, k));
    }
  const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  console.log(
    `\nStudy page (code-server, VS Code 1.100, headless Chromium, Node ${process.version}; ${bundleNote}):\n`,
  );
  console.log(
    '| trials | objectives | webview ready | first chart | table filled | all plots | sort (asc, desc) | live update of 100 trials, median of 5: encode / apply / end to end | ext host RSS | webview heap |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.trials.toLocaleString('en-US')} | ${r.objectives} | ${ms(r.webviewBootMs)} | ${ms(r.firstChartMs)} | ${ms(r.tableMs)} | ${ms(r.allChartsMs)} | ${r.sortMs.map(ms).join(', ')} | ${ms(r.liveEncodeMs)} / ${ms(r.liveApplyMs)} / ${ms(r.liveEndToEndMs)} | ${r.extHostRssMB.toFixed(0)} MB (${r.extHostRssBeforePageMB.toFixed(0)} before the page; after a full GC ${r.extHostRssGcMB.toFixed(0)} MB, ${r.extHostRssBeforePageGcMB.toFixed(0)} before) | ${r.webviewHeapMB.toFixed(0)} MB |`,
    );
  for (const r of results)
    console.log(
      `\n${r.trials.toLocaleString('en-US')} trials, ${r.objectives} objective(s), load ${r.load.toFixed(1)} on ${os.cpus().length} cores: five live updates (encode / apply / end to end (host coalescing + to the page + in the page)): ${r.liveRounds.join(', ')}; in the page, the median one: ${r.liveApplySteps}; before them, once idle after the snapshot, room for new rows: ${ms(r.reserveMs)}; three more, 300 ms after the previous one was shown (as the plots redraw), end to end: ${r.liveIntoRedraw.join(', ')}`,
    );
  for (const r of results)
    console.log(
      `\n${r.trials.toLocaleString('en-US')} trials, ${r.objectives} objective(s), the webview's start (ms from the command): ${r.bootParts}; plots drawn:\n  ${r.draws.join('\n  ')}\nextension host memory (MB) ${r.extHostMemory}\nextension host RSS (MB) along the way: ${r.extHostRssAlongTheWay}`,
    );
  console.log(
    '\nTargets at 100,000 trials: first chart < 1.5 s, sort < 200 ms, live update < 50 ms, extension host < 400 MB.',
  );
  console.log(JSON.stringify(results));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
