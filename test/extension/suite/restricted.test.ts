// Restricted Mode: run by `npm run test:extension:restricted` (OSM_TRUST=restricted), where the
// workspace is untrusted. In a trusted run this file registers no tests.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { runPython } from '../../helpers/python';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };

if (!vscode.workspace.isTrusted) {
  describe('Restricted Mode (untrusted workspace)', function () {
    this.timeout(60_000);
    let api: ExtensionApi;
    let dir: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-restricted-'));
      await runPython('small_db.py', [path.join(dir, 'fallback.db')]);
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      await cfg().update('redis.url', '', vscode.ConfigurationTarget.Global);
      await cfg().update(
        'sqlite.path',
        path.join(dir, 'fallback.db'),
        vscode.ConfigurationTarget.Global,
      );
      await until(
        () => api.store.loaded && api.store.studies().length > 0,
        15_000,
        'the store to load the fallback file',
      ).catch((e: Error) => {
        throw new Error(`${e.message} (${api.store.state.detail})`);
      });
    });
    after(async () => {
      await cfg().update('redis.url', undefined, vscode.ConfigurationTarget.Global);
      await cfg().update('sqlite.path', undefined, vscode.ConfigurationTarget.Global);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('really runs untrusted', () => {
      assert.strictEqual(vscode.workspace.isTrusted, false);
    });

    it('browsing works: the studies of the fallback file are listed', () => {
      assert.deepStrictEqual(
        api.store.studies().map((s) => s.name),
        ['small'],
      );
      assert.ok(api.studies.getChildren().some((n) => n.kind === 'sqliteFile'));
    });

    it('with no Redis configured, SQLite is the store: no fallback warning', () => {
      assert.strictEqual(api.statusBar.item.text, '$(database) SQLite');
      assert.strictEqual(api.statusBar.item.backgroundColor, undefined);
      const labels = api.studies.getChildren().map((n) => String(api.studies.getTreeItem(n).label));
      assert.ok(!labels.some((l) => /unreachable/.test(l)), labels.join(' | '));
    });

    it('delete and export refuse to run and change nothing', async () => {
      const warnings: string[] = [];
      const w = vscode.window as unknown as Record<string, unknown>;
      const original = w.showWarningMessage;
      w.showWarningMessage = async (m: string) => void warnings.push(m);
      try {
        const study = api.studies
          .getChildren(api.studies.getChildren().find((n) => n.kind === 'sqliteFile'))
          .find((n) => n.kind === 'study');
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.deleteStudy', study),
          false,
        );
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.exportStudy', study),
          undefined,
        );
      } finally {
        w.showWarningMessage = original;
      }
      assert.ok(
        warnings.length >= 2 && warnings.every((m) => /needs a trusted workspace/.test(m)),
        warnings.join(' | '),
      );
      await api.store.refresh();
      assert.deepStrictEqual(
        api.store.studies().map((s) => s.name),
        ['small'],
        'nothing was deleted',
      );
    });
  });
}
