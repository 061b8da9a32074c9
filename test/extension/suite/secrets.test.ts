// Passwords written into the Redis URL setting (with '/', '@', '#' as base64 and hand-typed
// secrets have them) never reach the extension's persisted Output log, whether the URL
// parses or not, nor the logged environment of a run.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { RunsApi } from '../../../src/vscode/runs/register';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PASSWORD = 'S3c/r@t#Pw:9';
const WAIT_MS = 15_000;

function logFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...logFiles(p));
    else if (e.name.endsWith('.log')) out.push(p);
  }
  return out;
}

describe('Secrets: a password in the Redis URL never reaches the Output log', function () {
  this.timeout(120_000);
  let api: ExtensionApi & { runs: RunsApi };
  let redis: RedisServer;
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
  const G = vscode.ConfigurationTarget.Global;
  const keys = ['redis.url', 'redis.prefixes', 'sqlite.path', 'runs.commandTemplate'];

  before(async () => {
    redis = await RedisServer.start({ password: PASSWORD });
    api = (await vscode.extensions
      .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
      .activate()) as ExtensionApi & { runs: RunsApi };
    await cfg().update('sqlite.path', undefined, G);
    await cfg().update('redis.prefixes', ['secrets'], G);
  });
  after(async () => {
    for (const t of vscode.window.terminals) if (t.name.startsWith('Optuna run: ')) t.dispose();
    for (const k of keys) await cfg().update(k, undefined, G);
    await redis?.dispose();
  });

  it('connects with the password in the URL, and logs neither it nor a broken URL holding it', async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    await cfg().update('redis.url', url, G);
    await until(
      () => api.store.loaded && api.store.state.state === 'redis',
      WAIT_MS,
      `the store to connect with the password from the URL (${api.store.state.detail})`,
    );

    // The run's environment is logged as it launches: the URL in it without the password.
    await cfg().update('runs.commandTemplate', 'true {jobs}', G);
    const run = await api.runs.manager.launch({ values: { jobs: '1' }, tmux: false });
    assert.ok(run);

    for (const broken of [
      `redis:/:${PASSWORD}@127.0.0.1:${redis.port}`,
      `redis://:${PASSWORD}@127.0.0.1:99999`,
      `redis://:${PASSWORD}@127.0 .0.1:${redis.port}`,
    ]) {
      await cfg().update('redis.url', broken, G);
      await until(
        () => api.store.loaded && api.store.state.state !== 'redis',
        WAIT_MS,
        `the store to give up on a broken URL (${api.store.state.detail})`,
      );
      assert.ok(!api.store.state.detail.includes('S3c'), api.store.state.detail);
    }

    // The Output channel's log file (VS Code persists it under the window's log folder).
    const windowLogs = path.dirname(path.dirname(api.context.logUri.fsPath));
    let text = '';
    await until(
      () => {
        text = logFiles(windowLogs)
          .filter((f) => path.basename(f).includes('Optuna Storage'))
          .map((f) => fs.readFileSync(f, 'utf8'))
          .join('\n');
        return /runs: launched/.test(text) && /not a Redis URL/.test(text);
      },
      WAIT_MS,
      'the Output log to hold the launch and the broken URL lines',
    );
    const everything = logFiles(windowLogs)
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    for (let i = 0; i + 4 <= PASSWORD.length; i++)
      assert.ok(
        !everything.includes(PASSWORD.slice(i, i + 4)),
        `the window's logs show "${PASSWORD.slice(i, i + 4)}":\n${text}`,
      );
  });
});
