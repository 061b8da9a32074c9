// The Redis doctor command inside a real extension host, against a real redis-server
// configured the way the commonly circulated "tuned" config does it (evicting, no persistence).
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { DoctorReport } from '../../../src/core/redis/doctor';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };

describe('Redis doctor command', function () {
  this.timeout(120_000);
  let api: ExtensionApi;
  let redis: RedisServer;
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
  const G = vscode.ConfigurationTarget.Global;

  before(async () => {
    redis = await RedisServer.start({
      args: ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    api = await vscode.extensions
      .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
      .activate();
    await cfg().update('redis.url', redis.url, G);
    await until(
      () =>
        api.store.current?.redisWhere === `redis://127.0.0.1:${redis.port}` &&
        api.store.state.state === 'redis',
      15_000,
      'the store to switch to the test server',
    );
  });
  after(async () => {
    await cfg().update('redis.url', undefined, G);
    await redis?.dispose();
  });

  it('the Redis Monitor view shows the server and its warnings, mirrored in the status bar', async () => {
    await api.monitor.refresh();
    assert.ok(api.monitor.snapshot, api.monitor.error);
    const labels = api.monitor.getChildren().map((n) => n.label);
    for (const section of [
      'Server',
      'Clients',
      'Memory',
      'Throughput',
      'Persistence',
      'Keyspace',
      'Journals',
      'Slowlog',
      'Latency',
    ])
      assert.ok(labels.includes(section), `${section} in ${labels.join(', ')}`);
    const warnings = api.monitor.getChildren().find((n) => n.id === 'warnings');
    assert.ok(
      warnings && warnings.children!.some((w) => /evict/i.test(w.label)),
      JSON.stringify(warnings),
    );
    // The status bar counts the monitor's findings by severity, worst first.
    const found = api.monitor.snapshot!.warnings;
    const errors = found.filter((w) => w.severity === 'error').length;
    assert.ok(errors > 0, 'an evicting server without persistence is an error');
    assert.match(api.statusBar.item.text, new RegExp(`\\$\\(error\\) .*${errors} errors?\\b`));
    if (found.length > errors)
      assert.match(api.statusBar.item.text, new RegExp(`${found.length - errors} warnings?\\b`));
    assert.strictEqual(
      (api.statusBar.item.backgroundColor as vscode.ThemeColor | undefined)?.id,
      'statusBarItem.errorBackground',
    );
  });

  it('finds eviction and missing persistence, shows them, and applies the safe fixes after confirmation', async () => {
    const w = vscode.window as unknown as Record<string, unknown>;
    const original = w.showWarningMessage;
    const asked: string[] = [];
    w.showWarningMessage = async (m: string, o: vscode.MessageOptions) => (
      asked.push(`${m}\n${o?.detail ?? ''}`),
      'Apply Fixes'
    );
    let report: DoctorReport;
    try {
      report = (await vscode.commands.executeCommand('optunaStorage.doctor')) as DoctorReport;
    } finally {
      w.showWarningMessage = original;
    }
    assert.ok(
      asked.some(
        (m) =>
          /Apply \d safe fix/.test(m) &&
          /CONFIG SET maxmemory-policy noeviction/.test(m) &&
          /CONFIG SET appendonly yes/.test(m),
      ),
      asked.join(' | '),
    );
    // The report shown last is the one after the fixes (the document updates asynchronously).
    const text = () => vscode.window.activeTextEditor?.document.getText() ?? '';
    const deadline = Date.now() + 10_000;
    while (!/No problems found/.test(text()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(text(), /# Redis doctor: redis:\/\/127\.0\.0\.1:\d+/);
    assert.match(text(), /No problems found/);
    const c = redis.client();
    const policy = (await c.config('GET', 'maxmemory-policy')) as string[];
    const aof = (await c.config('GET', 'appendonly')) as string[];
    c.disconnect();
    assert.deepStrictEqual([policy[1], aof[1]], ['noeviction', 'yes']);
    assert.ok(report, 'the command returns the report after the fixes');
    assert.ok(
      !report.findings.some((f) => f.severity === 'error' && /evict/i.test(f.title)),
      report.findings.map((f) => f.title).join(' | '),
    );
    await api.monitor.refresh();
    assert.ok(
      !api.monitor.snapshot!.warnings.some((w) => w.severity === 'error'),
      'the monitor no longer reports errors',
    );
    assert.doesNotMatch(api.statusBar.item.text, /error/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
