import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';

/** The CLI's local replay cache goes to a per-run temp folder, never the user's ~/.cache. */
const testCacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-cache-'));
process.on('exit', () => fs.rmSync(testCacheHome, { recursive: true, force: true }));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output (the same `main` the bundled dist/cli.js runs). */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    signal: new AbortController().signal,
    env: { XDG_CACHE_HOME: testCacheHome, ...env },
  });
  return { status, stdout, stderr };
}
