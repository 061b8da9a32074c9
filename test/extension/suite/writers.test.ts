// The writers' side in a real extension host: real optimizer processes on the Python companion
// (test/fixtures/writers_worker.py: Debian's Optuna through enhanced_redis_storage), three in a
// run launched by the extension and one started outside it, on a real redis-server that is
// frozen, continued, killed and restarted. The status bar counts the processes on SQLite with
// the cause and since when; the Runs view shows where the run's own processes write.
import * as assert from 'assert';
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import { companionDir } from '../../../src/core/python/companion';
import type { RunRecord } from '../../../src/core/runs/record';
import { ENV } from '../../../src/core/runs/runner';
import { shellQuote } from '../../../src/core/runs/shell';
import type { RunsApi } from '../../../src/vscode/runs/register';
import { FIXTURES, PYTHON } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PREFIX = 'writers';
/** Generous: four Python processes start and fail over on a loaded 2-core machine. */
const WAIT_MS = 90_000;

if (vscode.workspace.isTrusted) {
  describe("Writers' side: processes of the Python storage in the status bar and Runs view", function () {
    this.timeout(240_000);
    let api: ExtensionApi & { runs: RunsApi };
    let redis: RedisServer;
    let dir: string;
    let db: string;
    let run: RunRecord;
    let outside: ChildProcess | undefined;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;
    const keys = [
      'redis.url',
      'redis.prefixes',
      'sqlite.path',
      'refreshInterval',
      'runs.commandTemplate',
      'runs.nameTemplate',
      'runs.parameters',
      'runs.profiles',
      'runs.stopGracePeriod',
    ];
    const text = () => api.statusBar.item.text;
    const tooltip = () =>
      (api.statusBar.item.tooltip as vscode.MarkdownString).value
        .replace(/&nbsp;/g, ' ')
        .replace(/\\(.)/g, '$1');
    const summary = () => api.writers.summary;
    const runItem = () => {
      const node = api.runs.provider
        .getChildren()
        .find((n) => n.kind === 'run' && n.run.id === run.id)!;
      return api.runs.provider.getTreeItem(node);
    };
    const storageRow = () => {
      const node = api.runs.provider
        .getChildren()
        .find((n) => n.kind === 'run' && n.run.id === run.id)!;
      const d = api.runs.provider
        .getChildren(node)
        .find((n) => n.kind === 'detail' && n.label === 'Storage');
      return d?.kind === 'detail' ? d : undefined;
    };
    /** Waits for `cond`, saying what was seen when it does not come. */
    const waitFor = (cond: () => boolean, what: string) =>
      until(cond, WAIT_MS, what).catch((e: Error) => {
        throw new Error(
          `${e.message}: status bar "${text()}", writers ${JSON.stringify(summary())}, run row "${storageRow()?.description}"`,
        );
      });

    /** An optimizer started outside the extension, on the same fallback file. */
    const startOutside = () =>
      spawn(PYTHON, [path.join(FIXTURES, 'writers_worker.py'), '--study', 'writers'], {
        env: {
          ...process.env,
          PYTHONPATH: companionDir(api.context.extensionPath),
          [ENV.url]: redis.url,
          [ENV.prefix]: PREFIX,
          [ENV.sqlite]: db,
        },
        stdio: 'ignore',
      });

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-writers-'));
      db = path.join(dir, 'optuna_fallback.db');
      // Persistent, fsync'ed on every write: killed and restarted, it keeps the journal the
      // writers read, so that they return to it (a journal that lost entries holds them).
      redis = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
      api = (await vscode.extensions
        .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
        .activate()) as ExtensionApi & { runs: RunsApi };
      const worker = `${shellQuote(PYTHON)} ${shellQuote(path.join(FIXTURES, 'writers_worker.py'))}`;
      await cfg().update('runs.commandTemplate', `${worker} --study {study} --processes {jobs}`, G);
      await cfg().update('runs.nameTemplate', 'writers {study}', G);
      await cfg().update(
        'runs.parameters',
        [
          { name: 'study', type: 'string', default: 'writers', pattern: '^[a-z-]+$' },
          { name: 'jobs', type: 'int', min: 1, max: 8, default: 3, role: 'jobs' },
        ],
        G,
      );
      await cfg().update('runs.profiles', [], G);
      await cfg().update('runs.stopGracePeriod', 20, G);
      await cfg().update('refreshInterval', 1, G);
      await cfg().update('redis.prefixes', [PREFIX], G);
      await cfg().update('sqlite.path', db, G);
      await cfg().update('redis.url', redis.url, G);
      await until(
        () => api.store.loaded && api.store.state.state === 'redis',
        WAIT_MS,
        `the store on Redis (${api.store.state.detail})`,
      );
    });

    after(async () => {
      const r = run && api.runs.manager.get(run.id);
      if (r?.state === 'running') await api.runs.manager.stop(r);
      if (outside?.exitCode === null) outside.kill('SIGKILL');
      for (const t of vscode.window.terminals) if (t.name.startsWith('Optuna run: ')) t.dispose();
      for (const k of keys) await cfg().update(k, undefined, G);
      await redis?.dispose();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('counts every process of the Python storage on this machine, and the run its own, on Redis', async () => {
      run = await api.runs.manager.launch({
        values: { study: 'writers', jobs: '3' },
        tmux: false,
      });
      // One more optimizer, started outside the extension on the same fallback file.
      outside = startOutside();
      await waitFor(() => summary().total === 4 && summary().redis === 4, 'four writers on Redis');
      assert.doesNotMatch(text(), /SQLite/);
      assert.match(
        tooltip(),
        /\*\*Writers\*\* \(processes of the Python storage on this fallback file\): 4 on Redis/,
      );
      await waitFor(() => storageRow()?.description === '3 processes: 3 on Redis', "the run's row");
      assert.doesNotMatch(String(runItem().description), /SQLite/);
      // The run's processes carry its id; the outside one does not.
      assert.deepStrictEqual(
        api.writers.writers.map((w) => w.runId ?? 'none').sort(),
        [run.id, run.id, run.id, 'none'].sort(),
      );
    });

    it('Redis frozen: "4 writers on SQLite", the cause and since when in the tooltip; the run shows its 3', async () => {
      const frozenAt = Date.now();
      redis.signal('SIGSTOP');
      try {
        await waitFor(() => /· 4 writers on SQLite$/.test(text()), '"4 writers on SQLite"');
        const tip = tooltip();
        assert.match(tip, /4 on SQLite/);
        assert.match(tip, /Cause: timeout \(server frozen, paused or overloaded\)/);
        const since = /On SQLite since (.+?) {2}\n/.exec(tip);
        assert.ok(since, tip);
        // The writers' own time, from their files (whole seconds in the tooltip).
        assert.ok(summary().since! >= frozenAt - 1000, `since ${summary().since} vs ${frozenAt}`);
        await waitFor(
          () => /^3 processes: 3 on SQLite · since /.test(storageRow()?.description ?? ''),
          "the run's row on SQLite",
        );
        assert.match(String(storageRow()!.tooltip), /timeout \(server frozen/);
        assert.match(String(runItem().description), /· 3 on SQLite$/);
      } finally {
        redis.signal('SIGCONT');
      }
    });

    it('Redis answering again: the count goes away', async () => {
      await waitFor(
        () => summary().redis === 4 && !/on SQLite/.test(text()),
        'all four back on Redis',
      );
      await waitFor(() => storageRow()?.description === '3 processes: 3 on Redis', "the run's row");
    });

    it("a writer killed with SIGKILL leaves its file behind and is not counted; Redis killed: the connection's cause", async () => {
      const mine = api.writers.writers.find((w) => w.pid === outside!.pid)!;
      assert.ok(mine, 'the outside process publishes its state');
      outside!.kill('SIGKILL');
      await waitFor(() => summary().total === 3, 'three writers after the SIGKILL');
      assert.ok(fs.existsSync(mine.file), 'the killed process could not remove its file');

      await redis.kill();
      await waitFor(() => /· 3 writers on SQLite$/.test(text()), '"3 writers on SQLite"');
      assert.match(tooltip(), /Cause: connection error/);
      await redis.start();
      await waitFor(
        () => summary().redis === 3 && !/on SQLite/.test(text()),
        'the three back on Redis after the restart',
      );
    });

    it('stopping the run: its processes close the storage and remove their files', async () => {
      await api.runs.manager.stop(api.runs.manager.get(run.id)!);
      await waitFor(() => summary().total === 0, 'no writer left');
      const left = fs.readdirSync(`${db}.writers`).filter((n) => n.endsWith('.json'));
      // Only the file of the process killed with SIGKILL remains.
      assert.strictEqual(left.length, 1, left.join(', '));
      assert.strictEqual(storageRow(), undefined, 'an ended run has no storage row');
    });

    it('with no view visible and no run, the first status file that appears triggers a read (its folder made anew)', async () => {
      // The folder goes too (as after a reconcile, when the fallback file is removed): the
      // first writer makes it again.
      fs.rmSync(`${db}.writers`, { recursive: true, force: true });
      // Nothing keeps the refresh running now: no run, no writer, and no view of ours visible
      // once the side bar shows the Explorer and no study page is open (earlier suites in this
      // extension host may have revealed them).
      await vscode.commands.executeCommand('workbench.view.explorer');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await until(() => !api.refresh.active, WAIT_MS, 'the refresh to go idle');
      const before = api.store.lastRefreshAt;
      outside = startOutside();
      await waitFor(() => summary().total === 1, 'the new writer, seen without any view');
      assert.ok(api.refresh.active, 'while a writer exists, the refresh keeps running');
      assert.notStrictEqual(api.store.lastRefreshAt, before, 'the store was read too');
      outside.kill('SIGTERM');
      await waitFor(() => summary().total === 0, 'the writer gone');
      await until(() => !api.refresh.active, WAIT_MS, 'the refresh idle again');
    });
  });
}
