/**
 * The CLI as users run it, for benchmarks: bundled like the shipped one (minified), one fresh
 * Node process per run, stdout into a file; wall clock from spawn to exit, and the process's
 * peak RSS as the kernel counts it (bench/peakRss.js, preloaded).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
// Inside the repo so that the bundle resolves better-sqlite3 from node_modules.
const BUNDLE = path.join(ROOT, '.test-work', `bench-cli-${process.pid}.js`);
let built = false;

export interface CliRun {
  ms: number;
  peakRssMb: number;
  /** CPU time of the process (user + system, all threads), ms. */
  cpuMs: number;
  /** Bytes written to stdout. */
  outBytes: number;
}

function bundle(): void {
  if (built) return;
  buildSync({
    entryPoints: [path.join(ROOT, 'src', 'cli.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    external: ['vscode', 'better-sqlite3'],
    outfile: BUNDLE,
    logLevel: 'warning',
  });
  built = true;
  process.once('exit', () => fs.rmSync(BUNDLE, { force: true }));
}

/** Runs `optuna-storage ARGS` once; stdout goes to `outFile` (default: discarded after counting). */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; outFile?: string } = {},
): Promise<CliRun> {
  bundle();
  return runNode([BUNDLE, ...args], `optuna-storage ${args.join(' ')}`, opts);
}

/**
 * A Node process that does nothing (`node -e 0`), measured like the CLI: the floor under any
 * CLI run on this machine at this moment, to set the short runs' times against.
 */
export function runBareNode(): Promise<CliRun> {
  return runNode(['-e', '0'], 'node -e 0');
}

function runNode(
  argv: string[],
  what: string,
  opts: { env?: NodeJS.ProcessEnv; outFile?: string } = {},
): Promise<CliRun> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bench-cli-'));
  const outFile = opts.outFile ?? path.join(tmp, 'out');
  const rssFile = path.join(tmp, 'rss');
  const out = fs.openSync(outFile, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-r', path.join(__dirname, 'peakRss.js'), ...argv], {
    cwd: ROOT,
    stdio: ['ignore', out, 'pipe'],
    env: { ...process.env, ...opts.env, OSM_PEAK_RSS_FILE: rssFile },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      fs.closeSync(out);
      try {
        if (code !== 0) throw new Error(`${what} exited ${code}: ${stderr.trim()}`);
        const { peakRssMb, cpuMs } = JSON.parse(fs.readFileSync(rssFile, 'utf8')) as {
          peakRssMb: number;
          cpuMs: number;
        };
        resolve({
          ms,
          peakRssMb,
          cpuMs,
          outBytes: fs.statSync(outFile).size,
        });
      } catch (e) {
        reject(e as Error);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}
