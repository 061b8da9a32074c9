// The stability suite in the Test Explorer, inside a real extension host, against a real
// redis-server (scenarios 4 and 5 start their own disposable server).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { SUITE_ROOT } from '../../../src/core/stability';
import { RedisServer } from '../../helpers/redisServer';
import { assertPassed } from '../../helpers/suiteStatus';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };

describe('stability suite in the Test Explorer', function () {
  this.timeout(180_000);
  let api: ExtensionApi;
  let redis: RedisServer;
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
  const G = vscode.ConfigurationTarget.Global;

  before(async () => {
    // The suite copies this server's persistence settings to its disposable server: with
    // appendonly off, a killed Redis loses acknowledged appends and connection-recovery fails.
    redis = await RedisServer.start({ args: ['--appendonly', 'yes'] });
    api = await vscode.extensions
      .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
      .activate();
    await cfg().update('stability.jobs', 6, G);
    await cfg().update('stability.trials', 60, G);
    await cfg().update('redis.url', redis.url, G);
    await until(
      () => api.store.settings.redisUrl === redis.url && api.store.state.state === 'redis',
      15_000,
      'the store to switch to the test server',
    );
  });
  after(async () => {
    for (const k of ['stability.jobs', 'stability.trials', 'redis.url'])
      await cfg().update(k, undefined, G);
    await redis?.dispose();
  });

  it('lists the six scenarios as test items', () => {
    const ids: string[] = [];
    api.stability.controller.items.forEach((i) => ids.push(i.id));
    assert.deepStrictEqual(ids.sort(), [
      'basic-connection',
      'concurrent-studies',
      'connection-recovery',
      'failover',
      'high-concurrency',
      'single-study',
    ]);
  });

  it('runs all scenarios, saves a Markdown and JSON report in the workspace and opens it', async () => {
    const result = await api.stability.run();
    assert.ok(result, 'a result');
    assert.deepStrictEqual(
      result.scenarios.map((s) => s.id),
      [
        'basic-connection',
        'single-study',
        'concurrent-studies',
        'failover',
        'connection-recovery',
        'high-concurrency',
      ],
    );
    for (const s of result.scenarios) assertPassed(s);
    // The outage scenarios ran real Python writers from the extension's own companion folder.
    for (const id of ['failover', 'connection-recovery']) {
      const m: Record<string, unknown> = result.scenarios.find((s) => s.id === id)!.metrics;
      assert.match(String(m.writers), /^2 × .+ \(Optuna /, `${id}: ${m.writers}`);
      assert.deepStrictEqual([m.writers_lost, m.writers_duplicated], [0, 0], id);
    }
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const reports = fs.readdirSync(path.join(folder, '.optuna-storage', 'reports'));
    assert.ok(
      reports.some((f) => f.endsWith('.md')) && reports.some((f) => f.endsWith('.json')),
      reports.join(', '),
    );
    assert.match(
      vscode.window.activeTextEditor?.document.fileName ?? '',
      /optuna-storage-suite-.*\.md$/,
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    const c = redis.client();
    const [, keys] = await c.scan('0', 'MATCH', `${SUITE_ROOT}*`, 'COUNT', 10_000);
    c.disconnect();
    assert.deepStrictEqual(keys, [], 'the suite removed its keys');
  });

  it('cancel stops the run and still cleans up', async () => {
    const cts = new vscode.CancellationTokenSource();
    const t0 = Date.now();
    const running = api.stability.run(new vscode.TestRunRequest(), cts.token);
    setTimeout(() => cts.cancel(), 1500);
    const result = await running;
    assert.ok(result && result.cancelled, 'cancelled');
    assert.ok(Date.now() - t0 < 20_000, `cancel took ${Date.now() - t0} ms`);
    const c = redis.client();
    const [, keys] = await c.scan('0', 'MATCH', `${SUITE_ROOT}*`, 'COUNT', 10_000);
    c.disconnect();
    assert.deepStrictEqual(keys, []);
  });
});
