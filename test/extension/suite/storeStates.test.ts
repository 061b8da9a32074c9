// Why Redis is not used, as a new user meets it: each cause in the Studies view's first row
// with its next step, the status bar's words and colours, and Configure Connection building
// one new store. Real redis-server processes (with and without a password), a real Optuna
// SQLite fallback, a real extension host.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { StateEvent } from '../../../src/core/storage/storeState';
import type { Node } from '../../../src/vscode/views/nodes';
import { freePort } from '../../helpers/ports';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const WAIT_MS = 15_000;

if (vscode.workspace.isTrusted) {
  describe('Store states in words, with a next step', function () {
    this.timeout(90_000);
    let api: ExtensionApi;
    let plain: RedisServer;
    let secure: RedisServer;
    let dir: string;
    let fallback: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;
    const first = () => api.studies.getChildren()[0] as Node;
    const firstItem = () => api.studies.getTreeItem(first());
    const text = () => api.statusBar.item.text;
    const bg = () => (api.statusBar.item.backgroundColor as vscode.ThemeColor | undefined)?.id;
    const tooltip = () =>
      (api.statusBar.item.tooltip as vscode.MarkdownString).value
        .replace(/&nbsp;/g, ' ')
        .replace(/\\(.)/g, '$1');

    /** Points the store at `url` and waits for the state whose first row matches `label`. */
    async function pointAt(url: string, label: RegExp): Promise<void> {
      await cfg().update('redis.url', url, G);
      await until(
        () =>
          api.store.loaded &&
          api.store.settings.redisUrl === url &&
          label.test(String(firstItem().label)),
        WAIT_MS,
        `a first row like ${label} (now "${String(firstItem().label)}", ${api.store.state.detail})`,
      );
    }

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-states-'));
      fallback = path.join(dir, 'fallback.db');
      await runPython('small_db.py', [fallback]);
      plain = await RedisServer.start();
      secure = await RedisServer.start({ password: 'right-pw' });
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      await cfg().update('refreshInterval', 1, G);
      await cfg().update('sqlite.path', fallback, G);
    });

    after(async () => {
      for (const k of ['refreshInterval', 'sqlite.path', 'redis.url', 'redis.prefixes'])
        await cfg().update(k, undefined, G);
      for (const k of ['redis.url', 'redis.prefixes', 'sqlite.path'])
        await cfg().update(k, undefined, vscode.ConfigurationTarget.Workspace);
      await api.passwords.delete(secure.url);
      await plain?.dispose();
      await secure?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a wrong password says so in the visible row, with Configure Connection as its action', async () => {
      await api.passwords.set(secure.url, 'wrong-pw');
      await pointAt(
        secure.url,
        /^Wrong Redis password for 127\.0\.0\.1:\d+: showing the SQLite fallback$/,
      );
      const item = firstItem();
      assert.strictEqual(item.command?.command, 'optunaStorage.configureConnection');
      assert.strictEqual(item.description, '→ Configure Connection…');
      assert.strictEqual(item.contextValue, 'storeState.auth');
      assert.strictEqual(api.store.state.cause, 'auth');
      assert.doesNotMatch(JSON.stringify(item), /wrong-pw/);
    });

    it('no password for a protected server: "needs a password"', async () => {
      await api.passwords.delete(secure.url);
      void api.store.start();
      await until(
        () => api.store.loaded && /needs a password: showing/.test(String(firstItem().label)),
        WAIT_MS,
        `"needs a password" (now "${String(firstItem().label)}")`,
      );
      assert.match(
        String(firstItem().label),
        /^Redis at 127\.0\.0\.1:\d+ needs a password: showing/,
      );
      assert.strictEqual(firstItem().command?.command, 'optunaStorage.configureConnection');
    });

    it('nothing listening: "connection refused", Reconnect, and a row other features can act on', async () => {
      const port = await freePort();
      await pointAt(
        `redis://127.0.0.1:${port}`,
        new RegExp(`^Nothing listens at 127\\.0\\.0\\.1:${port} \\(connection refused\\): showing`),
      );
      assert.strictEqual(firstItem().command?.command, 'optunaStorage.reconnect');
      assert.strictEqual(firstItem().contextValue, 'storeState.refused');
    });

    it('an unknown host, a database the server does not have, TLS against a plain server', async () => {
      await pointAt(
        'redis://no-such-host.invalid:6390',
        /^Unknown Redis host in no-such-host\.invalid:6390: showing/,
      );
      await pointAt(
        `${plain.url}/16`,
        /^Redis at 127\.0\.0\.1:\d+\/16 has no such database: showing/,
      );
      assert.strictEqual(api.store.state.cause, 'db-range');
      assert.strictEqual(
        api.studies.getChildren().filter((n) => n.kind === 'server').length,
        0,
        'database 0 is not read instead',
      );
      await pointAt(
        plain.url.replace('redis://', 'rediss://'),
        /^TLS mismatch with rediss:\/\/127\.0\.0\.1:\d+ \(rediss:\/\/ vs redis:\/\/\): showing/,
      );
      assert.strictEqual(firstItem().command?.command, 'optunaStorage.configureConnection');
    });

    it('a healthy server without a journal is shown: "no Optuna journal yet"', async () => {
      await cfg().update('redis.url', plain.url, G);
      await until(
        () => api.studies.getChildren().some((n) => n.kind === 'server'),
        WAIT_MS,
        'the server row',
      );
      const server = api.studies.getChildren().find((n) => n.kind === 'server')!;
      assert.match(
        String(api.studies.getTreeItem(server).description),
        /^healthy · [\d.]+ ms · no Optuna journal yet$/,
      );
      const [child] = api.studies.getChildren(server) as Node[];
      assert.strictEqual(
        api.studies.getTreeItem(child).label,
        'No Optuna journal on this server yet',
      );
    });

    it('the status bar: colour and words of the worst finding; findings of a server that went away are not shown; last check moves on', async () => {
      api.statusBar.setWarnings([{ severity: 'warning', title: 'appendonly is off' }]);
      assert.match(text(), /^\$\(warning\) Redis [\d.]+ ms · 1 warning$/);
      assert.strictEqual(bg(), 'statusBarItem.warningBackground');
      api.statusBar.setWarnings([
        { severity: 'error', title: 'maxmemory-policy evicts keys' },
        { severity: 'warning', title: 'appendonly is off' },
      ]);
      assert.match(text(), /^\$\(error\) Redis [\d.]+ ms · 1 error, 1 warning$/);
      assert.strictEqual(bg(), 'statusBarItem.errorBackground');
      assert.match(tooltip(), /\*\*Optuna storage: reading Redis\*\*/);
      await plain.kill();
      await until(() => text() === '$(debug-disconnect) SQLite fallback', WAIT_MS, 'the fallback');
      assert.strictEqual(bg(), 'statusBarItem.warningBackground');
      assert.match(tooltip(), /Optuna storage: serving the SQLite fallback file/);
      assert.match(
        tooltip(),
        /2 Redis monitor finding\(s\) from .* are not shown while Redis is unreachable/,
      );
      assert.match(tooltip(), /\(not answering\)/);
      const check = () => /Last check: ([^ ]+)/.exec(tooltip())![1];
      const before = check();
      await until(() => check() !== before, 5000, '"Last check" to move on while Redis is down');
      api.statusBar.setWarnings([]);
      await plain.start();
      await until(() => /^\$\(database\) Redis/.test(text()), WAIT_MS, 'Redis again');
    });

    it('no Redis configured: no "not reachable" anywhere; without the fallback file of the workspace either, says so', async () => {
      await cfg().update('redis.url', '', G);
      await until(
        () => api.store.loaded && text() === '$(database) SQLite',
        WAIT_MS,
        'SQLite as the store',
      );
      await api.monitor.refresh();
      const monitorRows = api.monitor.getChildren().map((n) => n.label);
      assert.deepStrictEqual(monitorRows, [
        'No Redis configured: the SQLite file is the store (Configure Connection adds one)',
      ]);
      assert.ok(
        !api.studies.getChildren().some((n) => n.kind === 'message' && /reachable/.test(n.label)),
      );
      // The setting empty, and no optuna_fallback.db in the workspace (yet).
      await cfg().update('sqlite.path', undefined, G);
      await until(() => api.store.loaded && /offline/.test(text()), WAIT_MS, 'offline');
      assert.strictEqual(
        String(firstItem().label),
        'No Redis configured, and no optuna_fallback.db in the workspace yet',
      );
      assert.strictEqual(firstItem().command?.command, 'optunaStorage.configureConnection');
      await cfg().update('sqlite.path', fallback, G);
    });

    it('one Configure Connection builds one new store, after the password is saved', async () => {
      const starts: number[] = [];
      const causes: Array<StateEvent['cause']> = [];
      const original = api.store.start.bind(api.store);
      api.store.start = () => {
        starts.push(Date.now());
        return original();
      };
      const sub = api.store.onDidChangeState((e) => causes.push(e.cause));
      const answers = [`redis://:right-pw@127.0.0.1:${secure.port}`, '', fallback];
      const w = vscode.window as unknown as Record<string, unknown>;
      const input = w.showInputBox;
      w.showInputBox = async () => answers.shift();
      try {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.configureConnection'),
          true,
        );
        await until(() => api.store.state.state === 'redis', WAIT_MS, 'the new server');
        await new Promise((r) => setTimeout(r, 1500)); // late configuration events
      } finally {
        w.showInputBox = input;
        api.store.start = original;
        sub.dispose();
      }
      assert.strictEqual(starts.length, 1, `${starts.length} rebuilds`);
      assert.ok(
        !causes.includes('auth') && !causes.includes('no-password'),
        `causes seen: ${causes.join(', ')}`,
      );
    });
  });
}
