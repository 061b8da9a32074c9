// Runs inside a real VS Code extension host against real redis-server processes and
// Optuna-written fixtures (see test/extension/suite/index.ts for the runner).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { type JsonValue, parsePyJson } from '../../../src/core/optuna/pythonJsonParse';
import { RedisJournalReader } from '../../../src/core/storage/redisJournalReader';
import { type Node, show } from '../../../src/vscode/views/nodes';
import { decodeFloats } from '../../helpers/compareDumps';
import { JournalWriter } from '../../helpers/journalWriter';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { stub } from './windowStub';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as {
  publisher: string;
  name: string;
  contributes: { commands: Array<{ command: string }> };
};
const PREFIX = 'fixture';

/** How long each wait in this file may take. */
const WAIT_MS = 15_000;

type OptunaDump = {
  studies: Array<{
    study_id: number;
    study_name: string;
    directions: string[];
    trials: Array<{
      number: number;
      state: string;
      values: unknown;
      params: Record<string, JsonValue>;
    }>;
  }>;
};

/** Optuna's dump read as the extension reads journals (big integers as BigInt, -0.0 kept), {"__float__": "-Infinity"} markers turned back into numbers. */
function parseDump(text: string): OptunaDump {
  return decodeFloats(parsePyJson(text)) as unknown as OptunaDump;
}

describe('Optuna Storage Manager in a real extension host', function () {
  this.timeout(120_000);
  let api: ExtensionApi;
  let redis: RedisServer;
  let dir: string;
  let sqlite: string;
  let optunaRedis: OptunaDump;
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-ext-'));
    sqlite = path.join(dir, 'fallback.db');
    redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    // Optuna's scenario in Redis; an unrelated study ("small") in the SQLite fallback.
    await runPython('generate.py', ['--redis', redis.url, '--prefix', PREFIX]);
    await runPython('small_db.py', [sqlite]);
    optunaRedis = parseDump(await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX]));
    const ext = vscode.extensions.getExtension<ExtensionApi>(
      `${manifest.publisher}.${manifest.name}`,
    )!;
    api = await ext.activate();
    await cfg().update('trials.pageSize', 50, vscode.ConfigurationTarget.Global);
    await cfg().update('refreshInterval', 1, vscode.ConfigurationTarget.Global);
    await cfg().update('redis.prefixes', [PREFIX], vscode.ConfigurationTarget.Global);
    await cfg().update('sqlite.path', sqlite, vscode.ConfigurationTarget.Global);
    await cfg().update('redis.url', redis.url, vscode.ConfigurationTarget.Global);
    await until(
      () => api.store.loaded && api.store.state.state === 'redis' && api.store.studies().length > 0,
      WAIT_MS,
      'the store to load the fixture',
    );
  });

  after(async () => {
    for (const k of [
      'trials.pageSize',
      'refreshInterval',
      'redis.prefixes',
      'sqlite.path',
      'redis.url',
      'connection.degradedLatencyMs',
    ])
      await cfg().update(k, undefined, vscode.ConfigurationTarget.Global);
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const roots = () => api.studies.getChildren() as Node[];
  const prefixNode = () => {
    const server = roots().find((n) => n.kind === 'server')!;
    return (api.studies.getChildren(server) as Node[]).find(
      (n) => n.kind === 'prefix' && n.prefix === PREFIX,
    )!;
  };
  const studyNodes = () =>
    (api.studies.getChildren(prefixNode()) as Node[]).filter(
      (n): n is Extract<Node, { kind: 'study' }> => n.kind === 'study',
    );
  const studyNode = (name: string) => studyNodes().find((n) => n.study.name === name)!;

  describe('activation and contributions', () => {
    it('activates and returns its services', () => {
      assert.ok(api.store && api.studies && api.trials && api.statusBar);
    });

    it('registers every command it contributes', async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      for (const c of manifest.contributes.commands)
        assert.ok(registered.has(c.command), `${c.command} is not registered`);
    });
  });

  describe('Studies view', () => {
    it('lists exactly the studies Optuna reports, under the server and journal prefix', () => {
      assert.deepStrictEqual(
        studyNodes()
          .map((n) => n.study.name)
          .sort(),
        optunaRedis.studies.map((s) => s.study_name).sort(),
      );
      const server = roots().find((n) => n.kind === 'server')!;
      const item = api.studies.getTreeItem(server);
      assert.strictEqual(item.label, `127.0.0.1:${redis.port}`);
      assert.match(String(item.description), /^healthy/);
    });

    it('shows each study with trial counts, best value and trials equal to Optuna', async () => {
      // Optuna's own study.best_value (suite_load_study.py); multi-objective studies have none.
      const bestValues = new Map<string, JsonValue>();
      await Promise.all(
        optunaRedis.studies
          .filter((s) => s.directions.length === 1)
          .map(async (s) => {
            const loaded = parsePyJson(
              await runPython('suite_load_study.py', [redis.url, PREFIX, s.study_name]),
            ) as { best_value: JsonValue };
            bestValues.set(s.study_name, loaded.best_value);
          }),
      );
      assert.ok(
        [...bestValues.values()].some((v) => v !== null),
        'the fixture has studies with a best value',
      );
      for (const s of optunaRedis.studies) {
        const node = studyNode(s.study_name);
        const item = api.studies.getTreeItem(node);
        const best = bestValues.get(s.study_name) ?? null;
        // The whole description (src/vscode/views/nodes.ts studyItem): directions, count, best.
        // Directions are in the tooltip; a multi-objective study says how many it has.
        const extra =
          best !== null
            ? ` · best ${show(best)}`
            : s.directions.length > 1
              ? ` · ${s.directions.length} objectives`
              : '';
        assert.strictEqual(
          String(item.description),
          `${s.trials.length} trials${extra}`,
          `description of ${s.study_name}`,
        );
        // The best-trial node holds exactly Optuna's best value (the description rounds it).
        const first = (api.studies.getChildren(node) as Node[])[0];
        if (best === null)
          assert.ok(!(first?.kind === 'trial' && first.best), `${s.study_name} has no best trial`);
        else
          assert.ok(
            first?.kind === 'trial' && first.best && Object.is(first.trial.trial.values?.[0], best),
            `best value of ${s.study_name}: ${String(first?.kind === 'trial' ? first.trial.trial.values?.[0] : undefined)} vs Optuna's ${String(best)}`,
          );
        assert.strictEqual(item.contextValue, 'study.redis');
        const trials = node.study.trials.map((t) => [
          t.trial.number,
          t.trial.state,
          t.trial.params,
        ]);
        assert.deepStrictEqual(
          trials,
          s.trials.map((t) => [t.number, t.state, t.params]),
          `trials of ${s.study_name}`,
        );
      }
    });

    it('pages trials with a "Load more" node and a best-trial node', async () => {
      const many = optunaRedis.studies.reduce((a, b) =>
        b.trials.length > a.trials.length ? b : a,
      );
      assert.ok(many.trials.length > 100, 'the fixture has a study with many trials');
      let children = api.studies.getChildren(studyNode(many.study_name)) as Node[];
      assert.strictEqual(children[0].kind, 'trial');
      assert.ok(children[0].kind === 'trial' && children[0].best, 'first child is the best trial');
      assert.strictEqual(children.filter((c) => c.kind === 'trial' && !c.best).length, 50);
      const more = children.find((c) => c.kind === 'loadMore')!;
      assert.match(
        String(api.studies.getTreeItem(more).label),
        new RegExp(`50 of ${many.trials.length}`),
      );
      await vscode.commands.executeCommand('optunaStorage.loadMore', more);
      children = api.studies.getChildren(studyNode(many.study_name)) as Node[];
      assert.strictEqual(children.filter((c) => c.kind === 'trial' && !c.best).length, 100);
    });

    it('expands a trial to params, values and attributes with state icons and a tooltip', () => {
      const s = optunaRedis.studies.find((x) =>
        x.trials.some((t) => t.state === 'COMPLETE' && Object.keys(t.params).length > 0),
      )!;
      const node = (api.studies.getChildren(studyNode(s.study_name)) as Node[]).find(
        (c) =>
          c.kind === 'trial' &&
          !c.best &&
          c.trial.trial.state === 'COMPLETE' &&
          Object.keys(c.trial.trial.params).length > 0,
      )!;
      const item = api.studies.getTreeItem(node);
      assert.strictEqual(item.contextValue, 'trial.COMPLETE');
      assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'pass');
      assert.ok(
        item.tooltip instanceof vscode.MarkdownString && /Trial #/.test(item.tooltip.value),
      );
      const sections = api.studies.getChildren(node) as Node[];
      assert.ok(sections.some((x) => x.kind === 'section' && x.section === 'params'));
      const params = api.studies.getChildren(
        sections.find((x) => x.kind === 'section' && x.section === 'params'),
      ) as Node[];
      const expected = s.trials.find(
        (t) => node.kind === 'trial' && t.number === node.trial.trial.number,
      )!.params;
      assert.deepStrictEqual(
        params.map((p) => p.kind === 'value' && p.label).sort(),
        Object.keys(expected).sort(),
      );
    });

    it('picks up new trials on refresh without changing node ids', async () => {
      const target = optunaRedis.studies.find(
        (s) => s.directions.length === 1 && s.trials.length > 0,
      )!;
      const before = studyNode(target.study_name);
      // Trial ids are global over the journal, deleted studies' trials included.
      const client = redis.client();
      const reader = new RedisJournalReader(client, PREFIX);
      await reader.refresh();
      client.disconnect();
      const nextTrialId = reader.replay.trialCount;
      const writer = new JournalWriter(redis.url, PREFIX, nextTrialId, target.study_id);
      await writer.writeTrial();
      writer.close();
      await vscode.commands.executeCommand('optunaStorage.refresh');
      const after = studyNode(target.study_name);
      assert.strictEqual(after.id, before.id);
      assert.strictEqual(after.study.trials.length, target.trials.length + 1);
    });
  });

  describe('Trials view and trial commands', () => {
    it('shows a study, sorts best first and filters by state', async () => {
      const s = optunaRedis.studies.find(
        (x) =>
          x.directions.length === 1 &&
          x.directions[0] === 'MINIMIZE' &&
          x.trials.filter((t) => t.state === 'COMPLETE').length > 3,
      )!;
      await vscode.commands.executeCommand('optunaStorage.showTrials', studyNode(s.study_name));
      await vscode.commands.executeCommand('optunaStorage.trials.sortByBest');
      const first = (api.trials.getChildren() as Node[])[0];
      const complete = s.trials.filter(
        (t) => t.state === 'COMPLETE' && typeof t.values === 'object' && t.values !== null,
      ) as Array<{ number: number; values: number[] }>;
      const best = complete.reduce((a, b) => (b.values[0] < a.values[0] ? b : a));
      assert.ok(
        first.kind === 'trial' && first.trial.trial.number === best.number,
        'best trial first',
      );
      const pick = stub('showQuickPick', (async (items: Array<{ label: string }>) =>
        items.filter((i) => i.label === 'FAIL')) as never);
      try {
        await vscode.commands.executeCommand('optunaStorage.trials.filterStates');
      } finally {
        pick.restore();
      }
      const shown = (api.trials.getChildren() as Node[]).filter((n) => n.kind === 'trial');
      assert.strictEqual(shown.length, s.trials.filter((t) => t.state === 'FAIL').length);
      assert.ok(shown.every((n) => n.kind === 'trial' && n.trial.trial.state === 'FAIL'));
      api.trials.setStates(new Set());
      await vscode.commands.executeCommand('optunaStorage.trials.sortByNumber');
    });

    it('copies params as JSON and an enqueue_trial snippet', async () => {
      const node = (
        api.studies.getChildren(studyNode(optunaRedis.studies[0].study_name)) as Node[]
      ).find((c) => c.kind === 'trial' && Object.keys(c.trial.trial.params).length > 0)!;
      assert.ok(node.kind === 'trial');
      await vscode.commands.executeCommand('optunaStorage.copyParams', node);
      assert.deepStrictEqual(
        Object.keys(JSON.parse(await vscode.env.clipboard.readText())),
        Object.keys(node.trial.trial.params),
      );
      await vscode.commands.executeCommand('optunaStorage.copyEnqueueSnippet', node);
      assert.match(await vscode.env.clipboard.readText(), /^study\.enqueue_trial\(\{".+\}\)$/);
    });

    it('exports a study as CSV and JSON', async () => {
      const s = optunaRedis.studies[0];
      for (const fmt of ['CSV', 'JSON']) {
        const out = vscode.Uri.file(path.join(dir, `export.${fmt.toLowerCase()}`));
        const pick = stub('showQuickPick', (async (items: Array<{ label: string }>) =>
          items.find((i) => i.label === fmt)) as never);
        const save = stub('showSaveDialog', (async () => out) as never);
        const info = stub('showInformationMessage', (async () => undefined) as never);
        try {
          await vscode.commands.executeCommand(
            'optunaStorage.exportStudy',
            studyNode(s.study_name),
          );
        } finally {
          pick.restore();
          save.restore();
          info.restore();
        }
        const text = fs.readFileSync(out.fsPath, 'utf8');
        const n = studyNode(s.study_name).study.trials.length;
        if (fmt === 'CSV') assert.strictEqual(text.trim().split('\n').length, n + 1);
        else assert.strictEqual(JSON.parse(text).trials.length, n);
      }
    });

    it('deletes a study after a modal confirmation, so that Optuna no longer lists it', async () => {
      const victim =
        optunaRedis.studies.find((s) => s.study_name === 'empty') ??
        optunaRedis.studies[optunaRedis.studies.length - 1];
      const warn = stub('showWarningMessage', (async () => 'Delete Study') as never);
      try {
        await vscode.commands.executeCommand(
          'optunaStorage.deleteStudy',
          studyNode(victim.study_name),
        );
      } finally {
        warn.restore();
      }
      const [message, options] = warn.calls[0] as [string, vscode.MessageOptions];
      assert.match(
        message,
        new RegExp(`Delete study "${victim.study_name}" with ${victim.trials.length} trial`),
      );
      assert.strictEqual(options.modal, true);
      assert.ok(!studyNodes().some((n) => n.study.name === victim.study_name));
      const after = parseDump(await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX]));
      assert.ok(
        !after.studies.some((s) => s.study_name === victim.study_name),
        'Optuna agrees the study is gone',
      );
      assert.strictEqual(after.studies.length, optunaRedis.studies.length - 1);
    });

    it('does nothing when the deletion is not confirmed', async () => {
      const s = studyNodes()[0];
      const warn = stub('showWarningMessage', (async () => undefined) as never);
      try {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.deleteStudy', s),
          false,
        );
      } finally {
        warn.restore();
      }
      assert.ok(studyNodes().some((n) => n.study.name === s.study.name));
    });
  });

  describe('status bar and failover states', () => {
    const text = () => api.statusBar.item.text;
    const bg = () => (api.statusBar.item.backgroundColor as vscode.ThemeColor | undefined)?.id;

    it('shows Redis healthy with latency', () => {
      assert.match(text(), /^\$\(database\) Redis \d+\.\d ms$/);
      assert.strictEqual(bg(), undefined);
      assert.match(
        (api.statusBar.item.tooltip as vscode.MarkdownString).value,
        new RegExp(`Fallback file: \`${sqlite.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``),
      );
    });

    it('shows degraded when PINGs are slower than the threshold', async () => {
      // The lowest threshold (1 ms) and a server that really answers late: frozen 30 ms out of
      // every 50 while the extension's thread waits idle. (A PING late only because this
      // thread was busy does not count as the server's slowness, so an unfrozen loopback
      // PING, well under 1 ms, made this test depend on a busy first check.)
      await cfg().update('connection.degradedLatencyMs', 1, vscode.ConfigurationTarget.Global);
      let pulsing = true;
      const pulses = (async () => {
        while (pulsing) {
          redis.signal('SIGSTOP');
          await new Promise((r) => setTimeout(r, 30));
          redis.signal('SIGCONT');
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      try {
        await until(() => /degraded/.test(text()), WAIT_MS, 'degraded status');
      } finally {
        pulsing = false;
        await pulses;
      }
      assert.strictEqual(bg(), 'statusBarItem.warningBackground');
      await cfg().update(
        'connection.degradedLatencyMs',
        undefined,
        vscode.ConfigurationTarget.Global,
      );
      await until(() => /^\$\(database\) Redis/.test(text()), WAIT_MS, 'healthy again');
      // The settings change rebuilt the store: the next test needs what it read from Redis (its
      // first refresh may have run before the new connection was up, so "loaded" is not enough).
      await until(
        () => api.store.current?.redisReadAt !== undefined && studyNodes().length > 0,
        WAIT_MS,
        'the rebuilt store to read Redis',
      );
    });

    it('kill Redis: SQLite fallback with a warning node; restart: Redis again', async () => {
      await redis.kill();
      await until(
        () => text() === '$(debug-disconnect) SQLite fallback',
        WAIT_MS,
        'the SQLite fallback status',
      );
      assert.strictEqual(bg(), 'statusBarItem.warningBackground');
      // The dropped connection first, then the refused reconnects name the cause.
      await until(
        () => /connection refused/.test(String(api.studies.getTreeItem(roots()[0]).label)),
        WAIT_MS,
        'the cause in the first row',
      );
      const first = api.studies.getTreeItem(roots()[0]);
      assert.match(
        String(first.label),
        /^Nothing listens at 127\.0\.0\.1:\d+ \(connection refused\): showing the SQLite fallback$/,
      );
      assert.strictEqual(first.command?.command, 'optunaStorage.reconnect');
      assert.ok(
        roots().some((n) => n.kind === 'sqliteFile'),
        'the SQLite studies are listed',
      );
      assert.ok(studyNodes().length > 0, 'studies read from Redis before the outage stay visible');
      await redis.start();
      await until(() => /^\$\(database\) Redis/.test(text()), WAIT_MS, 'Redis again');
    });

    it('offline when neither Redis nor the fallback file is there', async () => {
      await cfg().update(
        'sqlite.path',
        path.join(dir, 'nope.db'),
        vscode.ConfigurationTarget.Global,
      );
      await until(
        () => api.store.settings.sqlitePath?.endsWith('nope.db') === true,
        WAIT_MS,
        'new settings',
      );
      await redis.kill();
      await until(() => text() === '$(error) Optuna storage offline', WAIT_MS, 'offline status');
      assert.strictEqual(bg(), 'statusBarItem.errorBackground');
      const rootLabels = () => roots().map((n) => String(api.studies.getTreeItem(n).label));
      await until(
        () => rootLabels().some((l) => /connection refused\); no SQLite fallback to show/.test(l)),
        WAIT_MS,
        'the cause in the first row',
      );
      const labels = rootLabels();
      assert.ok(
        labels.some((l) => /connection refused\); no SQLite fallback to show/.test(l)),
        labels.join(' | '),
      );
      assert.ok(labels.includes('Configure connection…'));
      await redis.start();
      await cfg().update('sqlite.path', sqlite, vscode.ConfigurationTarget.Global);
      await until(() => /^\$\(database\) Redis/.test(text()), WAIT_MS, 'Redis again');
    });

    it('the status bar click offers the actions for the state', async () => {
      const pick = stub('showQuickPick', (async () => undefined) as never);
      try {
        await vscode.commands.executeCommand('optunaStorage.statusActions');
      } finally {
        pick.restore();
      }
      const labels = (pick.calls[0][0] as Array<{ label: string }>).map((i) => i.label);
      assert.ok(
        labels.some((l) => /Show storage health/.test(l)) &&
          labels.some((l) => /Reconnect/.test(l)) &&
          labels.some((l) => /Open settings/.test(l)),
      );
    });

    it('shows a health report rendered (Markdown preview), not as raw text', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('optunaStorage.showHealth');
      await until(
        () =>
          vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputWebview,
        WAIT_MS,
        'the preview tab',
      );
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab!;
      assert.match((tab.input as vscode.TabInputWebview).viewType, /markdown\.preview/);
      assert.match(tab.label, /Storage Health/);
      assert.strictEqual(vscode.window.activeTextEditor, undefined, 'no raw text editor');
      // The preview opens its source document asynchronously, after its tab appears.
      // Other reports (the Redis doctor's) share the scheme; this one is named for its tab.
      const report = () =>
        vscode.workspace.textDocuments.find(
          (d) => d.uri.scheme === 'optuna-storage' && d.uri.path.endsWith('Storage Health.md'),
        );
      await until(() => report() !== undefined, WAIT_MS, 'the report document');
      const doc = report()!;
      assert.match(doc.getText(), /# Optuna storage health/);
      assert.match(doc.getText(), new RegExp(`\`"${PREFIX}"\``));
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });
  });

  describe('connection settings and secrets', () => {
    it('Configure Connection moves a typed password into SecretStorage, never into settings', async () => {
      const secure = await RedisServer.start({ password: 'pa55-w0rd' });
      const answers = [`redis://:pa55-w0rd@127.0.0.1:${secure.port}`, PREFIX, sqlite];
      const input = stub('showInputBox', (async () => answers.shift()) as never);
      try {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.configureConnection'),
          true,
        );
      } finally {
        input.restore();
      }
      try {
        assert.strictEqual(cfg().get('redis.url'), `redis://127.0.0.1:${secure.port}`);
        assert.strictEqual(await api.passwords.get(cfg().get<string>('redis.url')!), 'pa55-w0rd');
        await until(
          () => api.store.state.state === 'redis',
          WAIT_MS,
          'an authenticated connection',
        );
        const settingsText = JSON.stringify(vscode.workspace.getConfiguration('optunaStorage'));
        assert.ok(!settingsText.includes('pa55-w0rd'), 'the password is not in settings');
      } finally {
        await api.passwords.delete(cfg().get<string>('redis.url')!);
        await cfg().update('redis.url', redis.url, vscode.ConfigurationTarget.Global);
        await cfg().update('redis.url', undefined, vscode.ConfigurationTarget.Workspace);
        await cfg().update('redis.prefixes', undefined, vscode.ConfigurationTarget.Workspace);
        await cfg().update('sqlite.path', undefined, vscode.ConfigurationTarget.Workspace);
        await secure.dispose();
      }
      // Back on the fixture server, with its studies read (the tests after this one use them).
      await until(
        () =>
          api.store.state.state === 'redis' &&
          api.store.current?.redisWhere === `redis://127.0.0.1:${redis.port}` &&
          api.store.loaded &&
          api.store.studies().some((x) => x.prefix === PREFIX),
        WAIT_MS,
        'back on the fixture server',
      );
    });
  });
  describe('views as a new user meets them', () => {
    it('selecting a study in the Studies view fills the Trials view', async () => {
      const s = optunaRedis.studies.find((x) => x.trials.length > 0 && x.study_name !== 'empty')!;
      const node = studyNode(s.study_name);
      await api.studiesView.reveal(node, { select: true, focus: false, expand: false });
      await until(
        () => api.trials.studyKey === node.study.key,
        WAIT_MS,
        'the Trials view to follow',
      );
      const rows = (api.trials.getChildren() as Node[]).filter((n) => n.kind === 'trial');
      assert.deepStrictEqual(
        rows.map((n) => n.kind === 'trial' && n.trial.trial.number),
        node.study.trials.slice(0, 50).map((t) => t.trial.number),
      );
      assert.match(String(api.trialsView.description), new RegExp(`^${s.study_name} · by number`));
    });

    it('trial tooltips show values verbatim: no Markdown escapes inside code spans', () => {
      let checked = 0;
      for (const s of studyNodes()) {
        for (const n of api.studies.getChildren(s) as Node[]) {
          if (n.kind !== 'trial') continue;
          const md = (api.studies.getTreeItem(n).tooltip as vscode.MarkdownString).value;
          const t = n.trial.trial;
          // The params table's rows, in order: | name | `value` |
          const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| param'));
          Object.values(t.params).forEach((v, i) => {
            assert.strictEqual(rows[i].split('`')[1], show(v).replace(/\|/g, '\\|'), rows[i]);
            checked++;
          });
          if (t.values) {
            const line = md.split('\n').find((l) => l.startsWith('Values: '))!;
            assert.ok(!/\\/.test(line), line);
          }
        }
      }
      assert.ok(checked > 20, `checked ${checked} params`);
    });

    it('a trial says where it comes from only when its study has more than one source', async () => {
      const plain = studyNodes().find((n) => n.study.trials.length > 0)!;
      for (const n of api.studies.getChildren(plain) as Node[])
        if (n.kind === 'trial') {
          const item = api.studies.getTreeItem(n);
          assert.ok(!/redis|sqlite/.test(String(item.description)), String(item.description));
          assert.ok(!/source:/.test((item.tooltip as vscode.MarkdownString).value));
        }
      // A study split by an outage: trials in Redis, then more in the SQLite fallback.
      await runPython('split_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--sqlite',
        sqlite,
        '--study',
        'split-by-outage',
      ]);
      await vscode.commands.executeCommand('optunaStorage.refresh');
      await until(
        () => studyNode('split-by-outage')?.study.sqlite !== undefined,
        WAIT_MS,
        'the split study from both sources',
      );
      const descriptions = (api.studies.getChildren(studyNode('split-by-outage')) as Node[])
        .filter((n) => n.kind === 'trial' && !n.best)
        .map((n) => String(api.studies.getTreeItem(n).description));
      assert.deepStrictEqual(
        descriptions.map((d) => d.split(' · ').pop()),
        [...Array(6).fill('redis+sqlite'), ...Array(4).fill('sqlite')],
        descriptions.join('\n'),
      );
    });
  });
});
