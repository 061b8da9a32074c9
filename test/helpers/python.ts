import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Debian's interpreter: it has python3-optuna and python3-redis, another python3 may not. */
export const PYTHON = process.env.OSM_PYTHON ?? '/usr/bin/python3';
/** test/fixtures, found upwards from here: this file also runs bundled elsewhere (extension tests). */
export const FIXTURES = findFixtures(__dirname);

function findFixtures(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'test', 'fixtures');
    if (fs.existsSync(path.join(candidate, 'generate.py'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', 'fixtures');
  }
}

/** Runs a fixture script with real Optuna; resolves with its stdout. */
export function runPython(
  script: string,
  args: string[],
  timeoutMs = 300_000,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [path.join(FIXTURES, script), ...args],
      {
        maxBuffer: 1 << 30,
        timeout: timeoutMs,
        env: { ...process.env, PYTHONWARNINGS: 'ignore', ...env },
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${script} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
