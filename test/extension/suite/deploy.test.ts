// The Deploy command inside a real extension host: over a running redis-server that holds an
// Optuna journal, with every path in a temp folder.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { RedisJournalReader } from '../../../src/core/storage/redisJournalReader';
import { JournalWriter, createStudyRecord } from '../../helpers/journalWriter';
import { RedisServer } from '../../helpers/redisServer';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };

describe('Deploy Redis Configuration command', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let dir: string;
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
  const G = vscode.ConfigurationTarget.Global;
  const keys = ['redis.url', 'deploy.target', 'deploy.logFile', 'deploy.pidFile'];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deploy-'));
    redis = await RedisServer.start({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const writer = new JournalWriter(redis.url, 'prod');
    await writer.append([createStudyRecord('kept')]);
    for (let i = 0; i < 5; i++) await writer.writeTrial();
    writer.close();
    await vscode.extensions
      .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
      .activate();
    await cfg().update('deploy.target', path.join(dir, 'etc', 'redis-autodl.conf'), G);
    await cfg().update('deploy.logFile', path.join(dir, 'log', 'redis.log'), G);
    await cfg().update('deploy.pidFile', path.join(dir, 'run', 'redis.pid'), G);
    await cfg().update('redis.url', redis.url, G);
  });

  after(async () => {
    for (const k of keys) await cfg().update(k, undefined, G);
    // The deployed server is daemonized (not a child of the test): stop it through the protocol.
    const c = redis.client();
    await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    c.disconnect();
    await redis.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replaces the running server with the shipped config: journal intact, new settings live', async () => {
    const w = vscode.window as unknown as Record<string, unknown>;
    const originals = { input: w.showInputBox, warn: w.showWarningMessage };
    const asked: string[] = [];
    w.showInputBox = async () => path.join(dir, 'data');
    w.showWarningMessage = async (m: string, o: vscode.MessageOptions) => (
      asked.push(`${m}\n${o?.detail ?? ''}`),
      'Deploy'
    );
    try {
      assert.strictEqual(await vscode.commands.executeCommand('optunaStorage.deployRedis'), true);
    } finally {
      w.showInputBox = originals.input;
      w.showWarningMessage = originals.warn;
    }
    assert.match(asked[0], /SHUTDOWN SAVE/);
    assert.ok(fs.existsSync(path.join(dir, 'etc', 'redis-autodl.conf')));
    const c = redis.client();
    try {
      assert.deepStrictEqual(await c.config('GET', 'maxmemory-policy'), [
        'maxmemory-policy',
        'noeviction',
      ]);
      assert.deepStrictEqual(await c.config('GET', 'appendonly'), ['appendonly', 'yes']);
      assert.deepStrictEqual(await c.config('GET', 'dir'), ['dir', path.join(dir, 'data')]);
      const reader = new RedisJournalReader(c, 'prod');
      await reader.refresh();
      const study = reader.replay.allStudies().find((s) => s.name === 'kept');
      assert.ok(study && study.trials.length === 5, 'the journal survived the deploy');
      assert.deepStrictEqual(reader.replay.issues, []);
    } finally {
      c.disconnect();
    }
  });
});
