// Start, Back Up, Restore Redis and move studies, inside a real extension host, over a Redis
// that the test deploys (every path in a temp folder, a free loopback port), compared with
// real Optuna's view of the journal and with the CLI's results.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../../src/extension';
import type { Node } from '../../../src/vscode/views/nodes';
import { runCli } from '../../helpers/cli';
import { assertSameDump } from '../../helpers/compareDumps';
import { client, deployWithOptunaJournal, serverPid, stopDeployed } from '../../helpers/deployed';
import { JournalWriter, createStudyRecord } from '../../helpers/journalWriter';
import { freePort } from '../../helpers/ports';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { until } from '../../helpers/waitFor';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as {
  publisher: string;
  name: string;
  contributes: { menus: Record<string, Array<{ command: string; when: string; group?: string }>> };
};

type Window = Record<string, unknown>;

/** Replaces vscode.window functions while `body` runs; records every message shown. */
async function withWindow<T>(
  overrides: Record<string, (...args: never[]) => unknown>,
  body: (shown: string[]) => PromiseLike<T>,
): Promise<T> {
  const w = vscode.window as unknown as Window;
  const shown: string[] = [];
  const names = [
    'showInformationMessage',
    'showWarningMessage',
    'showErrorMessage',
    ...Object.keys(overrides),
  ];
  const originals = new Map(names.map((n) => [n, w[n]]));
  for (const n of ['showInformationMessage', 'showWarningMessage', 'showErrorMessage'])
    w[n] = async (m: string, ...rest: unknown[]) => {
      const o = rest[0] as vscode.MessageOptions | undefined;
      shown.push(`${m}${o?.detail ? `\n${o.detail}` : ''}`);
      return undefined;
    };
  for (const [n, f] of Object.entries(overrides))
    w[n] = (...args: never[]) => {
      const r = f(...args);
      if (n.startsWith('show') && n.endsWith('Message')) {
        const o = (args as unknown[])[1] as vscode.MessageOptions | undefined;
        shown.push(`${String((args as unknown[])[0])}${o?.detail ? `\n${o.detail}` : ''}`);
      }
      return r;
    };
  try {
    return await body(shown);
  } finally {
    for (const [n, f] of originals) w[n] = f;
  }
}

/** A journal file's lines with the writing process's worker id blanked out. */
function withoutWorker(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const ids = new Set(lines.map((l) => /"worker_id": "([^"]+)"/.exec(l)?.[1]).filter(Boolean));
  assert.strictEqual(ids.size, 1, `one worker id in ${file}`);
  return lines.map((l) => l.replace(/"worker_id": "[^"]+"/, '"worker_id": "*"'));
}

describe('Redis on this machine: Start, Back Up, Restore, move studies', function () {
  this.timeout(180_000);
  let api: ExtensionApi;
  let dir: string;
  let port: number;
  let url: string;
  let target: string;
  let optunaView: string;
  const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
  const G = vscode.ConfigurationTarget.Global;
  const keys = [
    'redis.url',
    'sqlite.path',
    'deploy.target',
    'backup.dir',
    'backup.everyHours',
    'backup.keep',
  ];
  const rootNodes = () => api.studies.getChildren();
  const label = (n: Node) => String(api.studies.getTreeItem(n).label);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-gpubox-'));
    port = await freePort();
    ({ url, target, optunaView } = await deployWithOptunaJournal(dir, port, 'fx'));
    api = await vscode.extensions
      .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
      .activate();
    await cfg().update('deploy.target', target, G);
    await cfg().update('backup.dir', path.join(dir, 'backups'), G);
    await cfg().update('sqlite.path', path.join(dir, 'no-fallback.db'), G);
    await cfg().update('redis.url', url, G);
    await until(
      () => api.store.state.state === 'redis' && api.store.studies().length > 0,
      20_000,
      'the store to read the deployed Redis',
    );
  });

  after(async () => {
    for (const k of keys) await cfg().update(k, undefined, G);
    await stopDeployed(port); // the daemon the test deployed, through the protocol
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Start on the "refused" node brings a shut-down deployment back, journal intact (Optuna reads it)', async () => {
    const c = await client(port);
    await c.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    c.disconnect();
    await until(
      () => rootNodes().some((n) => n.id === 'action/start'),
      20_000,
      'the Studies view to offer Start Redis',
    );
    const start = rootNodes().find((n) => n.id === 'action/start')!;
    assert.strictEqual(label(start), 'Start Redis');
    const item = api.studies.getTreeItem(start);
    assert.strictEqual(item.command?.command, 'optunaStorage.startRedis');
    // The refused state's own row carries the Start action too (inline, and in its menu).
    const state = rootNodes().find((n) => n.id === 'state')!;
    assert.strictEqual(api.studies.getTreeItem(state).contextValue, 'storeState.refused');
    assert.ok(
      manifest.contributes.menus['view/item/context'].some(
        (m) =>
          m.command === 'optunaStorage.startRedis' &&
          m.group === 'inline' &&
          m.when.includes('viewItem == storeState.refused'),
      ),
    );
    const ids = rootNodes().map((n) => n.id);
    assert.ok(ids.indexOf('action/start') === ids.indexOf('state') + 1, ids.join(' | '));
    assert.ok(ids.includes('action/restore'));

    // The status bar's quick pick offers it first.
    const offered: vscode.QuickPickItem[] = [];
    await withWindow(
      {
        showQuickPick: async (items: vscode.QuickPickItem[]) => void offered.push(...items),
      },
      () => Promise.resolve(vscode.commands.executeCommand('optunaStorage.statusActions')),
    );
    assert.match(String(offered[0].label), /Start Redis/);

    const t0 = Date.now();
    const shown = await withWindow({}, async (m) => {
      assert.strictEqual(await vscode.commands.executeCommand(item.command!.command), true);
      return m;
    });
    console.log(`[gpubox] Start Redis (command to PONG and store back): ${Date.now() - t0} ms`);
    assert.match(
      shown.join('\n'),
      /Redis [\d.]+ is up on redis:\/\/127\.0\.0\.1:\d+ \(pid \d+\): prefix "fx"/,
    );
    assertSameDump(
      await runPython('optuna_dump.py', [url, '--prefix', 'fx']),
      optunaView,
      'Optuna after Start',
    );
    await until(() => api.store.state.state === 'redis', 20_000, 'the store back on Redis');
    assert.ok(!rootNodes().some((n) => n.id.startsWith('action/')), 'no Start once it runs');
  });

  it('Start refuses when the port answers, and never starts a second server', async () => {
    const pid = await serverPid(port);
    const same = await withWindow({}, async (m) => {
      assert.strictEqual(await vscode.commands.executeCommand('optunaStorage.startRedis'), false);
      return m;
    });
    assert.match(same.join('\n'), /already running from .*Nothing was started/);
    assert.strictEqual(await serverPid(port), pid);

    // A server that is not the deployed one holds the port of a second deployed config.
    const other = await RedisServer.start({});
    try {
      const conf = path.join(dir, 'other.conf');
      fs.writeFileSync(
        conf,
        fs
          .readFileSync(target, 'utf8')
          .replace(new RegExp(`^port ${port}$`, 'm'), `port ${other.port}`),
      );
      await cfg().update('deploy.target', conf, G);
      const otherPid = await serverPid(other.port);
      const refused = await withWindow({}, async (m) => {
        assert.strictEqual(await vscode.commands.executeCommand('optunaStorage.startRedis'), false);
        return m;
      });
      assert.match(refused.join('\n'), /already answers: Redis .* never started on a port in use/);
      assert.strictEqual(await serverPid(other.port), otherPid);
    } finally {
      await cfg().update('deploy.target', target, G);
      await other.dispose();
    }
  });

  it('says when nothing is deployed and offers Deploy instead', async () => {
    await cfg().update('deploy.target', path.join(dir, 'nothing-here.conf'), G);
    try {
      const offered: string[] = [];
      const shown = await withWindow(
        {
          showWarningMessage: async (_m: string, _o: unknown, ...buttons: string[]) => (
            offered.push(...buttons),
            undefined
          ),
        },
        async (m) => {
          assert.strictEqual(
            await vscode.commands.executeCommand('optunaStorage.startRedis'),
            false,
          );
          return m;
        },
      );
      assert.match(shown.join('\n'), /No deployed Redis configuration at .*nothing-here\.conf/);
      assert.deepStrictEqual(offered, ['Deploy Redis Configuration…']);
    } finally {
      await cfg().update('deploy.target', target, G);
    }
  });

  it('Back Up, write more, Restore: exactly the backed-up journal (Optuna), the replaced data aside', async () => {
    const t0 = Date.now();
    const backup = (await withWindow({}, () =>
      vscode.commands.executeCommand('optunaStorage.backupRedis'),
    )) as { path: string; name: string } | undefined;
    console.log(`[gpubox] Back Up Redis: ${Date.now() - t0} ms`);
    assert.ok(backup && backup.path.startsWith(path.join(dir, 'backups')), 'a backup was made');

    const w = new JournalWriter(url, 'fx');
    await w.append([createStudyRecord('written-after-the-backup')]);
    w.close();
    const changed = await runPython('optuna_dump.py', [url, '--prefix', 'fx']);
    assert.notStrictEqual(changed, optunaView);

    let picked: vscode.QuickPickItem[] = [];
    let modal = '';
    const t1 = Date.now();
    const result = (await withWindow(
      {
        showQuickPick: async (items: vscode.QuickPickItem[]) => ((picked = items), items[0]),
        showWarningMessage: async (m: string, o: vscode.MessageOptions) => (
          (modal = `${m}\n${o.detail}`),
          'Restore'
        ),
      },
      () => vscode.commands.executeCommand('optunaStorage.restoreRedis'),
    )) as { aside: string } | undefined;
    console.log(
      `[gpubox] Restore Redis (after confirmation, to journals read back): ${Date.now() - t1} ms`,
    );
    assert.ok(result, 'restored');
    assert.strictEqual(picked.length, 1);
    assert.match(String(picked[0].description), /^[\d.]+ (KB|MB) · RDB \+ append-only file$/);
    assert.match(String(picked[0].detail), new RegExp(backup!.name));
    assert.match(modal, /^Restore the backup of .* into Redis on 127\.0\.0\.1:\d+\?/);
    assert.match(
      modal,
      /The current data \(dump\.rdb, appendonlydir, [\d.]+ (KB|MB)\) is moved to \S+pre-restore-\S+: kept, not deleted/,
    );
    // The extension's own connection is not an optimizer worker to be warned about.
    assert.doesNotMatch(modal, /other clients? (is|are) connected/);
    assertSameDump(
      await runPython('optuna_dump.py', [url, '--prefix', 'fx']),
      optunaView,
      'Optuna after Restore',
    );
    assert.deepStrictEqual(fs.readdirSync(result!.aside).sort(), ['appendonlydir', 'dump.rdb']);
    await until(
      () =>
        api.store.state.state === 'redis' &&
        api.store.studies().length > 0 &&
        !api.store.studies().some((s) => s.name === 'written-after-the-backup'),
      20_000,
      'the Studies view to show the restored journal',
    );
  });

  it('Restore refuses a deployed config Redis refuses before stopping anything', async () => {
    const good = fs.readFileSync(target, 'utf8');
    fs.writeFileSync(
      target,
      good.replace(/^maxmemory-policy .*$/m, 'maxmemory-policy allkeys-lruu'),
    );
    const pid = await serverPid(port);
    try {
      const shown = await withWindow(
        {
          showQuickPick: async (items: vscode.QuickPickItem[]) => items[0],
          showWarningMessage: async () => 'Restore',
        },
        async (m) => {
          assert.strictEqual(
            await vscode.commands.executeCommand('optunaStorage.restoreRedis'),
            undefined,
          );
          return m;
        },
      );
      assert.match(
        shown.join('\n'),
        /Restore stopped before changing anything: Redis refuses the config at line \d+: 'maxmemory-policy allkeys-lruu'/,
      );
    } finally {
      fs.writeFileSync(target, good);
    }
    assert.strictEqual(await serverPid(port), pid, 'the server was not stopped');
    await until(() => api.store.state.state === 'redis', 20_000, 'the store on Redis');
  });

  it('Cancel stops a backup and keeps nothing', async () => {
    const before = fs.readdirSync(path.join(dir, 'backups'));
    const shown = await withWindow(
      {
        withProgress: (
          _o: unknown,
          task: (
            p: vscode.Progress<{ message?: string }>,
            t: vscode.CancellationToken,
          ) => Thenable<unknown>,
        ) => {
          const cancel = new vscode.CancellationTokenSource();
          return task({ report: (v) => v.message === 'BGSAVE' && cancel.cancel() }, cancel.token);
        },
      },
      async (m) => {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.backupRedis'),
          undefined,
        );
        return m;
      },
    );
    assert.match(shown.join('\n'), /Backup cancelled: nothing was kept/);
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'backups')), before);
  });

  it('export and import from the tree equal the CLI results, verification shown', async () => {
    const server = rootNodes().find((n) => n.kind === 'server')!;
    const prefix = api.studies
      .getChildren(server)
      .find((n) => n.kind === 'prefix' && n.prefix === 'fx')!;
    const study = api.studies
      .getChildren(prefix)
      .filter((n): n is Extract<Node, { kind: 'study' }> => n.kind === 'study')
      .sort((a, b) => b.study.trials.length - a.study.trials.length)[0];
    const name = study.study.name;
    for (const ext of ['log', 'db']) {
      const treeFile = path.join(dir, `tree.${ext}`);
      const shown = await withWindow(
        {
          showQuickPick: async (items: Array<vscode.QuickPickItem & { ext: string }>) =>
            items.find((i) => i.ext === ext),
          showSaveDialog: async () => vscode.Uri.file(treeFile),
        },
        async (m) => {
          const r = await vscode.commands.executeCommand('optunaStorage.exportToOptuna', study);
          assert.ok(r, m.join('\n'));
          return m;
        },
      );
      assert.match(
        shown.join('\n'),
        new RegExp(`Exported "${name}" to tree\\.${ext} .*: \\d+ trials\\. Read back and verified`),
      );
      const cliFile = path.join(dir, `cli.${ext}`);
      const cli = await runCli(['export', url, '--prefix', 'fx', '--study', name, '--to', cliFile]);
      assert.strictEqual(cli.status, 0, cli.stderr);
      if (ext === 'log')
        assert.deepStrictEqual(
          withoutWorker(treeFile),
          withoutWorker(cliFile),
          'the same journal records (each process writes as its own Optuna worker)',
        );
      else
        assertSameDump(
          await runPython('optuna_dump.py', [treeFile]),
          await runPython('optuna_dump.py', [cliFile]),
          'the same SQLite study (Optuna)',
        );
    }

    // Import the CLI's file from the tree into one prefix, with the CLI into another.
    const shown = await withWindow(
      { showOpenDialog: async () => [vscode.Uri.file(path.join(dir, 'cli.log'))] },
      async (m) => {
        const r = await vscode.commands.executeCommand('optunaStorage.importStudy', {
          kind: 'prefix',
          id: 'server/p/from-tree',
          prefix: 'from-tree',
        });
        assert.ok(r, m.join('\n'));
        return m;
      },
    );
    assert.match(
      shown.join('\n'),
      new RegExp(
        `Imported "${name}" into prefix "from-tree" .* as study_id 0: \\d+ trials in \\d+ journal entries\\. Read back and verified`,
      ),
    );
    const cli = await runCli([
      'import',
      path.join(dir, 'cli.log'),
      '--redis',
      url,
      '--prefix',
      'from-cli',
    ]);
    assert.strictEqual(cli.status, 0, cli.stderr);
    assertSameDump(
      await runPython('optuna_dump.py', [url, '--prefix', 'from-tree']),
      await runPython('optuna_dump.py', [url, '--prefix', 'from-cli']),
      'imported from the tree and by the CLI (Optuna)',
    );
    await until(
      () => api.store.studies().some((s) => s.prefix === 'from-tree' && s.name === name),
      20_000,
      'the imported study in the Studies view',
    );
  });

  it('an empty Redis offers Import and Restore; a SQLite study imported from there equals the CLI import; Cancel undoes an import and leaves no export', async () => {
    const study = api.store
      .studies()
      .filter((x) => x.prefix === 'fx')
      .sort((a, b) => b.trials.length - a.trials.length)[0];
    const db = path.join(dir, 'move.db');
    const exported = await runCli([
      'export',
      url,
      '--prefix',
      'fx',
      '--study',
      study.name,
      '--to',
      db,
    ]);
    assert.strictEqual(exported.status, 0, exported.stderr);
    const empty = await RedisServer.start();
    await cfg().update('redis.url', empty.url, G);
    try {
      await until(
        () =>
          api.store.settings.redisUrl === empty.url &&
          api.store.loaded &&
          api.store.state.state === 'redis' &&
          rootNodes().some((n) => n.id === 'action/import'),
        20_000,
        'the Studies view to offer Import on the empty server',
      );
      const offered = rootNodes().filter((n) => n.id.startsWith('action/'));
      assert.deepStrictEqual(
        offered.map((n) => [label(n), api.studies.getTreeItem(n).command?.command]),
        [
          ['Import a study from an Optuna file…', 'optunaStorage.importStudy'],
          ['Restore Redis from a backup…', 'optunaStorage.restoreRedis'],
        ],
      );

      // The Import row, as a click runs it: a file, then a new prefix typed in.
      const prefixes: string[] = [];
      const shown = await withWindow(
        {
          showOpenDialog: async () => [vscode.Uri.file(db)],
          showQuickPick: async (items: vscode.QuickPickItem[]) => (
            prefixes.push(...items.map((i) => i.label)),
            items[items.length - 1]
          ),
          showInputBox: async () => 'from-db',
        },
        async (m) => {
          const cmd = api.studies.getTreeItem(offered[0]).command!;
          assert.ok(await vscode.commands.executeCommand(cmd.command, ...(cmd.arguments ?? [])));
          return m;
        },
      );
      assert.deepStrictEqual(prefixes, ['$(add) Another prefix…']);
      assert.match(
        shown.join('\n'),
        new RegExp(
          `Imported "${study.name}" into prefix "from-db" .* \\d+ trials in \\d+ journal entries\\. Read back and verified: every trial equals move\\.db`,
        ),
      );
      const cli = await runCli(['import', db, '--redis', empty.url, '--prefix', 'from-db-cli']);
      assert.strictEqual(cli.status, 0, cli.stderr);
      assertSameDump(
        await runPython('optuna_dump.py', [empty.url, '--prefix', 'from-db']),
        await runPython('optuna_dump.py', [empty.url, '--prefix', 'from-db-cli']),
        'a SQLite study imported from the tree and by the CLI (Optuna)',
      );
      // Cancel once records are appended: the partial study is deleted again, as Optuna deletes.
      const cancelAt = (prefix: string) => ({
        withProgress: (
          _o: unknown,
          task: (
            p: vscode.Progress<{ message?: string }>,
            t: vscode.CancellationToken,
          ) => Thenable<unknown>,
        ) => {
          const cancel = new vscode.CancellationTokenSource();
          return task(
            { report: (v) => v.message?.startsWith(prefix) && cancel.cancel() },
            cancel.token,
          );
        },
      });
      const cancelled = await withWindow(
        { showOpenDialog: async () => [vscode.Uri.file(db)], ...cancelAt('appended') },
        async (m) => {
          const r = await vscode.commands.executeCommand('optunaStorage.importStudy', {
            kind: 'prefix',
            id: 'server/p/cancelled',
            prefix: 'cancelled',
          });
          assert.strictEqual(r, undefined);
          return m;
        },
      );
      assert.match(
        cancelled.join('\n'),
        /cancelled: the part already appended was deleted again \(a DELETE_STUDY record/,
      );
      const optunaSees = JSON.parse(
        await runPython('optuna_dump.py', [empty.url, '--prefix', 'cancelled']),
      ) as { studies: unknown[] };
      assert.deepStrictEqual(optunaSees.studies, [], 'Optuna sees no study after the cancel');

      // Cancel an export while it reads: no file is left behind.
      await until(
        () => api.store.studies().some((x) => x.prefix === 'from-db'),
        20_000,
        'the imported study in the Studies view',
      );
      const imported = api.store.studies().find((x) => x.prefix === 'from-db')!;
      const out = path.join(dir, 'cancelled-export.log');
      const noExport = await withWindow(
        {
          showQuickPick: async (items: Array<vscode.QuickPickItem & { ext: string }>) =>
            items.find((i) => i.ext === 'log'),
          showSaveDialog: async () => vscode.Uri.file(out),
          ...cancelAt('reading'),
        },
        async (m) => {
          const r = await vscode.commands.executeCommand('optunaStorage.exportToOptuna', {
            kind: 'study',
            id: 'x',
            study: imported,
          });
          assert.strictEqual(r, undefined);
          return m;
        },
      );
      assert.match(noExport.join('\n'), new RegExp(`Export of "${study.name}" cancelled\\.`));
      assert.deepStrictEqual(
        fs
          .readdirSync(dir)
          .filter((f) => f.startsWith('cancelled-export') || f.startsWith('.cancelled-export')),
        [],
      );
    } finally {
      await cfg().update('redis.url', url, G);
      await empty.dispose();
      await until(
        () => api.store.settings.redisUrl === url && api.store.state.state === 'redis',
        20_000,
        'the store back on the deployed Redis',
      );
    }
  });

  it('scheduled backups run while the extension runs and keep the N newest', async () => {
    const root = path.join(dir, 'scheduled');
    await cfg().update('backup.dir', root, G);
    await cfg().update('backup.keep', 2, G);
    await cfg().update('backup.everyHours', 0.0005, G); // every 1.8 s
    try {
      await until(() => api.backups.runs >= 3, 60_000, 'three scheduled backups');
      assert.strictEqual(api.backups.lastError, undefined);
      const names = fs.readdirSync(root).filter((n) => n.startsWith('redis-'));
      assert.strictEqual(names.length, 2, names.join(', '));
    } finally {
      await cfg().update('backup.everyHours', undefined, G);
      await cfg().update('backup.keep', undefined, G);
      await cfg().update('backup.dir', path.join(dir, 'backups'), G);
    }
    assert.strictEqual(api.backups.active, false, 'off again');
  });
});
