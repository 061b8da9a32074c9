// Passwords written into the Redis URL setting (with '/', '@', '#' as base64 and hand-typed
// secrets have them) never reach the extension's persisted Output log, whether the URL
// parses or not, nor the logged environment of a run.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { RunsApi } from '../../../src/vscode/runs/register';
import { RedisServer } from '../../helpers/redisServer';
import { startSentinel } from '../../helpers/sentinel';
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
  const keys = [
    'redis.url',
    'redis.prefixes',
    'redis.sentinels',
    'sqlite.path',
    'runs.commandTemplate',
  ];

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
    await cfg().update('runs.commandTemplate', 'true {trials}', G);
    const run = await api.runs.manager.launch({ values: { trials: '1' }, tmux: false });
    assert.ok(run);
    // Its terminal carries the password in its environment: VS Code must never persist it.
    const term = vscode.window.terminals.find((t) => t.name === run.terminalName)!;
    assert.strictEqual((term.creationOptions as vscode.TerminalOptions).isTransient, true);

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

  it('sends a stored password through sentinels only after the user agrees (workspace settings name them)', async () => {
    // The user's server and its stored password; an "attacker" server that would accept the
    // password (so a sent AUTH shows up as a successful auth in its command stats), and a
    // real redis-sentinel naming the attacker as the master.
    const url = `redis://127.0.0.1:${redis.port}`;
    await api.passwords.set(url, PASSWORD);
    const attacker = await RedisServer.start({ password: PASSWORD });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-sentinel-secret-'));
    const sentinel = await startSentinel(dir, attacker.port);
    const port = sentinel.port;
    const w = vscode.window as unknown as Record<string, unknown>;
    const original = w.showWarningMessage;
    let answer: string | undefined = 'Not Now';
    const asked: string[] = [];
    w.showWarningMessage = (msg: string, ...items: unknown[]) => {
      if (/has not been used with the sentinels/.test(msg)) {
        asked.push(msg);
        return Promise.resolve(answer);
      }
      return (original as (...a: unknown[]) => unknown)(msg, ...items);
    };
    // AUTH calls on the attacker, less those of this test's own clients (one per look).
    let own = 0;
    const authCalls = async (): Promise<number> => {
      own++;
      const c = attacker.client();
      try {
        const stats = (await c.info('commandstats')) as string;
        return Number(/cmdstat_auth:calls=(\d+)/.exec(stats)?.[1] ?? 0) - own - base;
      } finally {
        c.disconnect();
      }
    };
    let base = 0;
    base = await authCalls(); // the helper's own start-up AUTHs
    try {
      await cfg().update('redis.url', url, G);
      await until(() => api.store.state.state === 'redis', WAIT_MS, 'the store on the real server');
      await cfg().update('redis.sentinels', `127.0.0.1:${port}`, G);
      await until(() => asked.length > 0, WAIT_MS, 'the question before sending the password');
      assert.match(
        asked[0],
        new RegExp(`sentinels 127\\.0\\.0\\.1:${port} \\(master "mymaster"\\)`),
      );
      await new Promise((r) => setTimeout(r, 1500)); // the store connects meanwhile
      assert.strictEqual(await authCalls(), 0, 'the password was not sent before the user agreed');
      assert.strictEqual(await api.passwords.get(url, api.store.settings.sentinel), undefined);

      answer = 'Send Password';
      await api.store.start();
      await until(async () => (await authCalls()) > 0, WAIT_MS, 'the password sent after Send');
      await until(() => api.store.state.state === 'redis', WAIT_MS, 'the store via the sentinel');
      assert.strictEqual(await api.passwords.get(url, api.store.settings.sentinel), PASSWORD);
    } finally {
      w.showWarningMessage = original;
      await cfg().update('redis.sentinels', undefined, G);
      sentinel.process.kill('SIGKILL');
      await attacker.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Workspace settings are bounded in code', function () {
  this.timeout(60_000);
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
  const G = vscode.ConfigurationTarget.Global;

  it('a healthCheckInterval of 0 does not flood the server with PINGs', async () => {
    const redis = await RedisServer.start();
    const api = (await vscode.extensions
      .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
      .activate()) as ExtensionApi;
    const pings = async (): Promise<number> => {
      const c = redis.client();
      try {
        const stats = (await c.info('commandstats')) as string;
        return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      } finally {
        c.disconnect();
      }
    };
    try {
      await cfg().update('sqlite.path', undefined, G);
      await cfg().update('connection.healthCheckInterval', 0, G);
      await cfg().update('redis.url', redis.url, G);
      await until(() => api.store.state.state === 'redis', WAIT_MS, 'the store to connect');
      const before = await pings();
      await new Promise((r) => setTimeout(r, 3000));
      const n = (await pings()) - before;
      // The floor is 50 ms (package.json's minimum): at most ~60 health PINGs in 3 s.
      assert.ok(n > 0 && n < 150, `${n} PINGs in 3 s`);
    } finally {
      await cfg().update('connection.healthCheckInterval', undefined, G);
      await cfg().update('redis.url', undefined, G);
      await redis.dispose();
    }
  });
});
