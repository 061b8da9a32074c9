// Restricted Mode: run by `npm run test:extension:restricted` (OSM_TRUST=restricted), where the
// workspace is untrusted. In a trusted run this file registers no tests.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { portOpen } from '../../../src/core/redis/redisProcess';
import { freePort } from '../../helpers/ports';
import { runPython } from '../../helpers/python';
import { until } from '../../helpers/waitFor';
import { bridgeUrl, webview } from './browser';

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
      await api.refresh.refresh('shown');
      assert.deepStrictEqual(
        api.store.studies().map((s) => s.name),
        ['small'],
        'nothing was deleted',
      );
    });

    it('Start, Back Up, Restore, export to an Optuna file, import and Heal Split Study refuse to run and change nothing', async () => {
      const port = await freePort();
      const data = path.join(dir, 'data');
      fs.mkdirSync(data);
      const conf = path.join(dir, 'redis.conf');
      fs.writeFileSync(
        conf,
        `port ${port}\nbind 127.0.0.1\ndir ${data}\ndaemonize yes\nlogfile ${path.join(dir, 'redis.log')}\npidfile ${path.join(dir, 'redis.pid')}\n`,
      );
      await cfg().update('deploy.target', conf, vscode.ConfigurationTarget.Global);
      const warnings: string[] = [];
      const asked: string[] = [];
      const w = vscode.window as unknown as Record<string, unknown>;
      const dialogs = ['showQuickPick', 'showSaveDialog', 'showOpenDialog', 'showInputBox'];
      const originals = new Map(['showWarningMessage', ...dialogs].map((n) => [n, w[n]]));
      w.showWarningMessage = async (m: string) => void warnings.push(m);
      for (const n of dialogs) w[n] = async () => void asked.push(n);
      const study = api.studies
        .getChildren(api.studies.getChildren().find((n) => n.kind === 'sqliteFile'))
        .find((n) => n.kind === 'study');
      try {
        for (const [command, node] of [
          ['optunaStorage.startRedis'],
          ['optunaStorage.backupRedis'],
          ['optunaStorage.restoreRedis'],
          ['optunaStorage.exportToOptuna', study],
          ['optunaStorage.importStudy', { kind: 'prefix', id: 'p', prefix: 'p' }],
          ['optunaStorage.healStudy', study],
        ] as const)
          assert.ok(!(await vscode.commands.executeCommand(command, node)), command);
      } finally {
        for (const [n, f] of originals) w[n] = f;
        await cfg().update('deploy.target', undefined, vscode.ConfigurationTarget.Global);
      }
      assert.strictEqual(warnings.length, 6, warnings.join(' | '));
      assert.ok(
        warnings.every((m) => /needs a trusted workspace/.test(m)),
        warnings.join(' | '),
      );
      assert.deepStrictEqual(asked, [], 'no dialog was opened');
      assert.strictEqual(await portOpen('127.0.0.1', port), false, 'no Redis was started');
      assert.deepStrictEqual(fs.readdirSync(data), []);
      assert.ok(!fs.existsSync(path.join(dir, 'redis.pid')));
    });

    it('offers no Redis actions and schedules no backups', async () => {
      const port = await freePort();
      await cfg().update(
        'redis.url',
        `redis://127.0.0.1:${port}`,
        vscode.ConfigurationTarget.Global,
      );
      await cfg().update('backup.everyHours', 1, vscode.ConfigurationTarget.Global);
      try {
        await until(
          () => /refused the connection/.test(api.store.current?.linkStatus?.reason ?? ''),
          15_000,
          'Redis to be refused',
        );
        const ids = api.studies.getChildren().map((n) => n.id);
        assert.ok(!ids.some((id) => id.startsWith('action/')), ids.join(' | '));
        const offered: string[] = [];
        const w = vscode.window as unknown as Record<string, unknown>;
        const original = w.showQuickPick;
        w.showQuickPick = async (items: vscode.QuickPickItem[]) =>
          void offered.push(...items.map((i) => i.label));
        try {
          await vscode.commands.executeCommand('optunaStorage.statusActions');
        } finally {
          w.showQuickPick = original;
        }
        assert.ok(offered.length > 0);
        assert.ok(!offered.some((l) => /Start Redis|Back up|Restore/.test(l)), offered.join(' | '));
        assert.strictEqual(api.backups.active, false, 'no scheduled backups');
      } finally {
        await cfg().update('redis.url', '', vscode.ConfigurationTarget.Global);
        await cfg().update('backup.everyHours', undefined, vscode.ConfigurationTarget.Global);
      }
    });
  });
}

if (!vscode.workspace.isTrusted && bridgeUrl) {
  describe('Restricted Mode: the study page', function () {
    this.timeout(120_000);
    let api: ExtensionApi;
    let dir: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const page = webview('page-demo');

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-restricted-page-'));
      const db = path.join(dir, 'page.db');
      await runPython('page_study.py', ['--sqlite', db, '--trials', '12', '--zombie']);
      api = await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate();
      await cfg().update('redis.url', '', vscode.ConfigurationTarget.Global);
      await cfg().update('sqlite.path', db, vscode.ConfigurationTarget.Global);
      await until(
        () => api.store.studies().some((s) => s.name === 'page-demo'),
        30_000,
        'the store to read the study',
      );
    });
    after(async () => {
      for (const p of api?.studyPages.all ?? []) p.dispose();
      await cfg().update('redis.url', undefined, vscode.ConfigurationTarget.Global);
      await cfg().update('sqlite.path', undefined, vscode.ConfigurationTarget.Global);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('shows the page but never offers Mark as FAIL, and the command refuses', async () => {
      const study = api.store.studies().find((s) => s.name === 'page-demo')!;
      await vscode.commands.executeCommand('optunaStorage.openStudyPage', study.key);
      const panel = api.studyPages.get(study.key)!;
      await until(() => panel.reports.some((r) => r.event === 'table'), 60_000, 'the table');
      await page.fill('.filter', 'state == RUNNING');
      await page.press('.filter', 'Enter');
      await until(
        async () =>
          (await page.eval<string>("document.querySelector('.status').textContent")).startsWith(
            '1 of ',
          ),
        30_000,
        'the RUNNING row alone',
      );
      await page.click('.tr:not([hidden])');
      await until(
        async () =>
          (await page.eval<number>("document.querySelectorAll('.tr.selected').length")) === 1,
        30_000,
        'the row selected',
      );
      assert.strictEqual(
        await page.eval<boolean>("document.querySelector('button.danger').hidden"),
        true,
      );
      const warnings: string[] = [];
      const w = vscode.window as unknown as Record<string, unknown>;
      const original = w.showWarningMessage;
      w.showWarningMessage = async (m: string) => void warnings.push(m);
      try {
        const running = study.trials.find((t) => t.trial.state === 'RUNNING')!;
        const node = { kind: 'trial', id: 'x', studyKey: study.key, study, trial: running };
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.markTrialsFailed', node),
          false,
        );
      } finally {
        w.showWarningMessage = original;
      }
      assert.match(warnings.join(' | '), /Marking trials as FAIL needs a trusted workspace/);
      await api.refresh.refresh('shown');
      assert.ok(
        api.store
          .studies()
          .find((s) => s.name === 'page-demo')!
          .trials.some((t) => t.trial.state === 'RUNNING'),
      );
    });
  });
}
