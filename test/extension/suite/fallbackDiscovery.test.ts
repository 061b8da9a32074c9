// The guide's fallback file found without a setting: `optuna_fallback.db` in the workspace
// folder, written by real Optuna, served when the real redis-server in front of it is killed.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { Node } from '../../../src/vscode/views/nodes';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const WAIT_MS = 15_000;

if (vscode.workspace.isTrusted) {
  describe('The fallback file optuna_fallback.db in the workspace', function () {
    this.timeout(60_000);
    let api: ExtensionApi;
    let redis: RedisServer;
    let folder: string;
    let file: string;
    let other: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;
    // The tooltip's Markdown source with appendText's escapes undone.
    const tooltip = () =>
      (api.statusBar.item.tooltip as vscode.MarkdownString).value
        .replace(/&nbsp;/g, ' ')
        .replace(/\\(.)/g, '$1');
    const roots = () => api.studies.getChildren() as Node[];

    before(async () => {
      folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
      file = path.join(folder, 'optuna_fallback.db');
      other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'osm-fb-')), 'chosen.db');
      await runPython('small_db.py', [file]);
      await runPython('small_db.py', [other]);
      redis = await RedisServer.start();
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      await cfg().update('sqlite.path', undefined, G);
      await cfg().update('refreshInterval', 1, G);
      await cfg().update('redis.url', redis.url, G);
      await until(
        () => api.store.loaded && api.store.state.state === 'redis',
        WAIT_MS,
        'the store on Redis',
      );
    });

    after(async () => {
      for (const k of ['sqlite.path', 'refreshInterval', 'redis.url'])
        await cfg().update(k, undefined, G);
      await redis?.dispose();
      fs.rmSync(file, { force: true });
      fs.rmSync(path.dirname(other), { recursive: true, force: true });
    });

    it('is found with the setting empty, and the tooltip says which file and why', () => {
      assert.strictEqual(api.store.settings.sqlitePath, file);
      assert.ok(
        tooltip().includes(`Fallback file: \`${file}\``),
        `tooltip names the file: ${tooltip()}`,
      );
      assert.match(tooltip(), /optuna_fallback\.db found in the workspace folder/);
    });

    it('Redis killed: the fallback in the workspace is served', async () => {
      await redis.kill();
      await until(
        () => api.store.state.state === 'sqlite',
        WAIT_MS,
        `the SQLite fallback (${api.store.state.detail})`,
      );
      assert.strictEqual(api.statusBar.item.text, '$(debug-disconnect) SQLite fallback');
      assert.ok(api.store.state.detail.includes(file), api.store.state.detail);
      await until(
        () => roots().some((n) => n.kind === 'sqliteFile'),
        WAIT_MS,
        'the SQLite file in the Studies view',
      );
      const node = roots().find((n) => n.kind === 'sqliteFile')!;
      const item = api.studies.getTreeItem(node);
      assert.strictEqual(item.label, 'optuna_fallback.db');
      assert.strictEqual(item.description, 'SQLite fallback (serving)');
      assert.match(String(item.tooltip), /found in the workspace folder/);
      const studies = api.studies.getChildren(node) as Node[];
      assert.deepStrictEqual(
        studies.map((n) => n.kind === 'study' && n.study.name),
        ['small'],
      );
      await redis.start();
      await until(() => api.store.state.state === 'redis', WAIT_MS, 'Redis again');
    });

    it('an explicit setting wins over the file in the workspace', async () => {
      await cfg().update('sqlite.path', other, G);
      await until(() => tooltip().includes(`\`${other}\``), WAIT_MS, 'the tooltip to name it');
      assert.strictEqual(api.store.settings.sqlitePath, other);
      assert.match(tooltip(), /from the optunaStorage\.sqlite\.path setting/);
      await cfg().update('sqlite.path', undefined, G);
      await until(() => api.store.settings.sqlitePath === file, WAIT_MS, 'the workspace file');
    });
  });
}
