// Entry point loaded by the VS Code extension host (extensionTestsPath) under both
// runners: test/extension/runOffline.ts (code-server + headless Chromium) and
// test/extension/runElectron.ts (@vscode/test-electron). Compiled by
// test/extension/build.js into .test-work/extension-tests/suite/index.js.
//
// Runs mocha (BDD: describe/it) in-process over every compiled *.test.js next to this
// file, rejects when anything fails, and writes a results JSON because the extension
// host's output only reaches the (browser) console:
//   OSM_TEST_RESULTS  path of the results JSON (default: .test-work/extension-tests/results.json)
//   OSM_TEST_GREP     mocha grep pattern
//   OSM_TEST_TIMEOUT  per-test timeout in ms (default 60000)
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

export interface TestRecord {
  title: string;
  fullTitle: string;
  file?: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: { message: string; stack?: string };
}

export interface TestResults {
  startedAt: string;
  finishedAt?: string;
  runner: 'mocha';
  grep?: string;
  files: string[];
  stats: { tests: number; passes: number; failures: number; pending: number; durationMs: number };
  tests: TestRecord[];
  /** Set when the run could not start or mocha itself threw. */
  fatal?: string;
  vscodeVersion?: string;
  node?: string;
}

export function resultsPath(): string {
  return process.env.OSM_TEST_RESULTS || path.join(__dirname, '..', 'results.json');
}

function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTestFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function writeResults(r: TestResults): void {
  const file = resultsPath();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(r, null, 2));
  } catch (e) {
    console.error(`[extension-tests] cannot write results to ${file}: ${String(e)}`);
  }
}

function vscodeVersion(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('vscode') as typeof import('vscode')).version;
  } catch {
    return undefined;
  }
}

export function run(): Promise<void> {
  const grep = process.env.OSM_TEST_GREP || undefined;
  const started = Date.now();
  const results: TestResults = {
    startedAt: new Date(started).toISOString(),
    runner: 'mocha',
    grep,
    files: [],
    stats: { tests: 0, passes: 0, failures: 0, pending: 0, durationMs: 0 },
    tests: [],
    vscodeVersion: vscodeVersion(),
    node: process.version,
  };

  // Written after every test (without finishedAt) so that a run that hangs or crashes
  // still leaves the results so far for the runner to print.
  const writePartial = (): void => {
    results.stats.durationMs = Date.now() - started;
    results.stats.tests = results.tests.length;
    writeResults(results);
  };
  const finish = (): void => {
    results.finishedAt = new Date().toISOString();
    results.stats.durationMs = Date.now() - started;
    results.stats.tests = results.tests.length;
    writeResults(results);
  };

  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    reporter: 'spec',
    timeout: Number(process.env.OSM_TEST_TIMEOUT) || 60_000,
  });
  if (grep) mocha.grep(grep);

  const files = findTestFiles(__dirname);
  results.files = files.map((f) => path.relative(__dirname, f));
  if (files.length === 0) {
    results.fatal = `no *.test.js files under ${__dirname} (run node test/extension/build.js)`;
    finish();
    return Promise.reject(new Error(results.fatal));
  }
  for (const f of files) mocha.addFile(f);

  return new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        if (failures === 0 && results.stats.passes === 0 && results.stats.pending === 0) {
          results.fatal = grep ? `no test matched grep ${JSON.stringify(grep)}` : 'no tests ran';
        }
        finish();
        if (failures > 0) reject(new Error(`${failures} extension test(s) failed`));
        else if (results.fatal) reject(new Error(results.fatal));
        else resolve();
      });
      const rel = (t: Mocha.Runnable): string | undefined =>
        t.file ? path.relative(__dirname, t.file) : undefined;
      runner.on('pass', (t) => {
        results.stats.passes++;
        results.tests.push({
          title: t.title,
          fullTitle: t.fullTitle(),
          file: rel(t),
          state: 'passed',
          durationMs: t.duration,
        });
        writePartial();
      });
      runner.on('fail', (t, err: Error) => {
        results.stats.failures++;
        results.tests.push({
          title: t.title,
          fullTitle: t.fullTitle(),
          file: rel(t),
          state: 'failed',
          durationMs: t.duration,
          error: { message: String(err?.message ?? err), stack: err?.stack },
        });
        writePartial();
      });
      runner.on('pending', (t) => {
        results.stats.pending++;
        results.tests.push({
          title: t.title,
          fullTitle: t.fullTitle(),
          file: rel(t),
          state: 'pending',
        });
        writePartial();
      });
    } catch (e) {
      results.fatal = e instanceof Error ? e.stack || e.message : String(e);
      finish();
      reject(e);
    }
  });
}
