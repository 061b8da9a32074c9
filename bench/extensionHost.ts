/**
 * Extension-host benchmark: a 20,000-trial study in a real redis-server, a workspace whose
 * settings point at it, and the real extension in code-server: time from activation to the
 * first studies shown, and incremental refreshes (100 new journal entries) of that study.
 *
 * Usage: npm run build && npm run bench:extension -- [--trials 20000]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runPython } from '../test/helpers/python';
import { RedisServer } from '../test/helpers/redisServer';

const { values: opts } = parseArgs({ options: { trials: { type: 'string', default: '20000' } } });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-ext-bench-'));
  const redis = await RedisServer.start();
  try {
    await runPython('generate_big.py', [
      '--redis',
      redis.url,
      '--prefix',
      'big',
      '--trials',
      opts.trials!,
      '--no-verify',
    ]);
    const ws = path.join(dir, 'workspace');
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, '.vscode', 'settings.json'),
      JSON.stringify({
        'optunaStorage.redis.url': redis.url,
        'optunaStorage.redis.prefixes': ['big'],
      }),
    );
    const out = path.join(dir, 'result.json');
    const root = path.resolve(__dirname, '..');
    execFileSync(process.execPath, ['test/extension/build.js'], { cwd: root, stdio: 'inherit' });
    execFileSync(process.execPath, ['-r', 'tsx/cjs', 'test/extension/runOffline.ts'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        OSM_TEST_WORKSPACE: ws,
        OSM_BENCH_OUT: out,
        OSM_TEST_GREP: 'extension-host benchmark',
      },
    });
    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      trials: number;
      firstStudiesMs: number;
      firstPageMs: number;
      refreshMs: number[];
      renderMs: number[];
    };
    console.log(
      `\nExtension host (code-server, VS Code 1.100, Node ${process.version}), study of ${r.trials} trials in Redis:\n`,
    );
    console.log(
      `activation → first studies shown     ${r.firstStudiesMs} ms (connect, full journal read, replay)`,
    );
    console.log(`first page of the study's tree nodes  ${r.firstPageMs.toFixed(1)} ms`);
    console.log(
      `refresh with 100 new entries          median ${median(r.refreshMs).toFixed(1)} ms, max ${Math.max(...r.refreshMs).toFixed(1)} ms`,
    );
    console.log(
      `re-render of the study's first page   median ${median(r.renderMs).toFixed(1)} ms, max ${Math.max(...r.renderMs).toFixed(1)} ms`,
    );
  } finally {
    await redis.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
