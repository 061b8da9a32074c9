// Heal Split Study in a real extension host: a study the Python companion split between a real
// redis-server and its SQLite fallback file (3 trials in Redis, 4 born in SQLite while Redis
// was unreachable), healed through the companion's reconcile; real Optuna reads Redis after.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Trial } from '../../../src/core/optuna/model';
import type { ExtensionApi } from '../../../src/extension';
import type { StudyReconcile } from '../../../src/vscode/commands/healStudy';
import type { Node } from '../../../src/vscode/views/nodes';
import { runCli } from '../../helpers/cli';
import { assertSameDump, parseDump } from '../../helpers/compareDumps';
import { freePort } from '../../helpers/ports';
import { runPython } from '../../helpers/python';
import { RedisServer } from '../../helpers/redisServer';
import { type Sentinel, startSentinel } from '../../helpers/sentinel';
import { until } from '../../helpers/waitFor';
import { stub } from './windowStub';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifest = require('../../../package.json') as { publisher: string; name: string };
const PREFIX = 'heal';
const WAIT_MS = 20_000;
type StudyNode = Extract<Node, { kind: 'study' }>;
interface DumpTrial {
  number: number;
  state: string;
  values: unknown[] | null;
  params: Record<string, unknown>;
  datetime_start: string | null;
  datetime_complete: string | null;
}

/** The companion splits study "split" between the Redis at `url` and the SQLite file `db`. */
async function writeSplitStudy(url: string, db: string): Promise<void> {
  await runPython('companion_split_study.py', ['--redis', url, '--prefix', PREFIX, '--sqlite', db]);
}

function activate(): Thenable<ExtensionApi> {
  return vscode.extensions
    .getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`)!
    .activate();
}

/** Waits until the store, on Redis, shows the study "split" in both Redis and SQLite. */
async function splitStudyShown(api: ExtensionApi): Promise<void> {
  await until(
    () =>
      api.store.loaded &&
      api.store.state.state === 'redis' &&
      api.store.studies().some((s) => s.name === 'split' && s.redis && s.sqlite),
    WAIT_MS,
    'the split study in both stores',
  ).catch((e: Error) => {
    throw new Error(`${e.message} (${api.store.state.detail})`);
  });
}

if (vscode.workspace.isTrusted) {
  describe('Heal Split Study (real Redis, SQLite fallback written by the companion)', function () {
    this.timeout(180_000);
    let api: ExtensionApi;
    let redis: RedisServer;
    let dir: string;
    let db: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;

    /** The study node named `name`, found by walking the Studies view. */
    const findNode = (name: string): StudyNode | undefined => {
      const walk = (nodes: Node[]): StudyNode | undefined => {
        for (const n of nodes) {
          if (n.kind === 'study') {
            if (n.study.name === name) return n;
            continue;
          }
          if (n.kind === 'server' || n.kind === 'prefix' || n.kind === 'sqliteFile') {
            const hit = walk(api.studies.getChildren(n) as Node[]);
            if (hit) return hit;
          }
        }
        return undefined;
      };
      return walk(api.studies.getChildren() as Node[]);
    };
    const redisTrials = async () =>
      parseDump(await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX])).find(
        (s) => s.study_name === 'split',
      )!.trials as unknown as DumpTrial[];
    const sqliteTrials = async () =>
      parseDump(await runPython('optuna_dump.py', [db])).find((s) => s.study_name === 'split')!
        .trials as unknown as DumpTrial[];
    const same = (t: DumpTrial) =>
      JSON.stringify([t.state, t.values, t.params, t.datetime_start, t.datetime_complete]);

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-heal-'));
      db = path.join(dir, 'optuna_fallback.db');
      redis = await RedisServer.start();
      await writeSplitStudy(redis.url, db);
      api = await activate();
      await cfg().update('redis.prefixes', [PREFIX], G);
      await cfg().update('sqlite.path', db, G);
      await cfg().update('redis.url', redis.url, G);
      await splitStudyShown(api);
    });

    after(async () => {
      for (const k of ['redis.prefixes', 'sqlite.path', 'redis.url'])
        await cfg().update(k, undefined, G);
      await redis?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('shows the split study with its badge and the Heal action', () => {
      const node = findNode('split')!;
      const item = api.studies.getTreeItem(node);
      assert.match(String(item.description), /^7 trials .*· split: 4 trials only in SQLite$/);
      assert.strictEqual(item.contextValue, 'study.both.split');
      assert.deepStrictEqual(
        node.study.trials.map((t) => t.source),
        ['redis', 'redis', 'redis', 'sqlite', 'sqlite', 'sqlite', 'sqlite'],
      );
    });

    it('declining the confirmation writes nothing', async () => {
      const warn = stub('showWarningMessage', (async () => undefined) as never);
      try {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.healStudy', findNode('split')),
          undefined,
        );
      } finally {
        warn.restore();
      }
      assert.strictEqual(warn.calls.length, 1);
      const [message, options] = warn.calls[0] as [string, vscode.MessageOptions];
      assert.strictEqual(
        message,
        'Heal study "split": copy 4 trials from the SQLite fallback into Redis?',
      );
      assert.strictEqual(options.modal, true);
      const trials = await redisTrials();
      assert.strictEqual(trials.length, 3, 'Optuna still sees 3 trials in Redis');
      assert.match(String(api.studies.getTreeItem(findNode('split')!).description), /split: 4/);
    });

    it('heals: the 4 trials end up in Redis as Optuna reads them, and the view shows one study', async () => {
      const fromSqlite = await sqliteTrials();
      const warn = stub('showWarningMessage', (async () => 'Heal Study') as never);
      const info = stub('showInformationMessage', (async () => undefined) as never);
      const error = stub('showErrorMessage', (async () => undefined) as never);
      // The palette offers Heal while some study is split: the context key follows the data.
      const contextKeys: unknown[] = [];
      const commands = vscode.commands as unknown as Record<string, unknown>;
      const execute = vscode.commands.executeCommand;
      commands.executeCommand = (id: string, ...args: unknown[]) => {
        if (id === 'setContext' && args[0] === 'optunaStorage.splitStudies')
          contextKeys.push(args[1]);
        return execute(id, ...args);
      };
      let r: StudyReconcile | undefined;
      try {
        r = await vscode.commands.executeCommand<StudyReconcile | undefined>(
          'optunaStorage.healStudy',
          findNode('split'),
        );
      } finally {
        warn.restore();
        info.restore();
        error.restore();
        commands.executeCommand = execute;
      }
      assert.deepStrictEqual(contextKeys, [false], 'Heal leaves the palette once nothing is split');
      assert.deepStrictEqual(error.calls, []);
      assert.ok(r, 'a report');
      assert.deepStrictEqual(
        [r.copied, r.completed, r.already, r.skipped_running, r.refused_trials, r.verified],
        [4, 0, 0, 0, 0, true],
      );
      assert.strictEqual(
        (info.calls.at(-1) as [string])[0],
        'Healed "split": copied 4, completed 0, already there 0, skipped (still running) 0, refused 0. Read back from Redis and verified.',
      );
      // Real Optuna on Redis: 7 finished trials, each SQLite trial once, as it was.
      const inRedis = await redisTrials();
      assert.strictEqual(inRedis.length, 7);
      assert.ok(inRedis.every((t) => t.state === 'COMPLETE'));
      const redisSet = inRedis.map(same);
      for (const t of fromSqlite)
        assert.strictEqual(
          redisSet.filter((x) => x === same(t)).length,
          1,
          `SQLite trial #${t.number} once in Redis`,
        );
      // The view (refreshed with reason 'wrote'): one study, no trial counted twice, not split.
      const node = findNode('split')!;
      const item = api.studies.getTreeItem(node);
      assert.strictEqual(item.contextValue, 'study.both');
      assert.doesNotMatch(String(item.description), /split/);
      assert.strictEqual(node.study.trials.length, 7);
      assert.deepStrictEqual(
        node.study.trials.map((t) => t.trial.number),
        inRedis.map((t) => t.number),
      );
      assert.deepStrictEqual(
        node.study.trials.map((t) => same(toDump(t.trial))),
        redisSet,
      );
      // And the project's `optuna-storage dump` of Redis equals Optuna's, field by field.
      const ours = await runCli(['dump', redis.url, '--prefix', PREFIX, '--study', 'split']);
      assert.strictEqual(ours.status, 0, ours.stderr);
      assertSameDump(
        ours.stdout,
        await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX, '--study', 'split']),
        'Redis after Heal',
      );
    });

    it('a second heal finds nothing to copy and writes nothing', async () => {
      const warn = stub('showWarningMessage', (async () => 'Heal Study') as never);
      const info = stub('showInformationMessage', (async () => undefined) as never);
      try {
        await vscode.commands.executeCommand('optunaStorage.healStudy', findNode('split'));
      } finally {
        warn.restore();
        info.restore();
      }
      assert.strictEqual(warn.calls.length, 0, 'no confirmation: nothing to do');
      assert.match((info.calls[0] as [string])[0], /needs no healing: 4 finished SQLite trials/);
      assert.strictEqual((await redisTrials()).length, 7);
    });

    it('Cancel kills the companion; healing again finishes the job, each trial once', async () => {
      await runPython('companion_split_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--sqlite',
        db,
        '--study',
        'split2',
      ]);
      await vscode.commands.executeCommand('optunaStorage.refresh');
      await until(
        () =>
          (findNode('split2')?.study.trials.filter((t) => t.source === 'sqlite').length ?? 0) === 4,
        WAIT_MS,
        'split2 split in the view',
      );
      const original = vscode.window.withProgress;
      let seen: number[] = [];
      // The notification's Cancel, pressed once the (non-dry-run) companion is running.
      const progress = stub('withProgress', ((
        o: vscode.ProgressOptions,
        task: (p: vscode.Progress<unknown>, t: vscode.CancellationToken) => Thenable<unknown>,
      ) => {
        if (!String(o.title).startsWith('Healing')) return original(o, task as never);
        assert.strictEqual(o.cancellable, true);
        const cancel = new vscode.CancellationTokenSource();
        void until(() => (seen = reconcilers(db)).length > 0, WAIT_MS, 'the companion').then(() =>
          cancel.cancel(),
        );
        return task({ report: () => undefined }, cancel.token);
      }) as never);
      const warn = stub('showWarningMessage', (async () => 'Heal Study') as never);
      const info = stub('showInformationMessage', (async () => undefined) as never);
      try {
        assert.strictEqual(
          await vscode.commands.executeCommand('optunaStorage.healStudy', findNode('split2')),
          undefined,
        );
      } finally {
        progress.restore();
        warn.restore();
        info.restore();
      }
      assert.strictEqual(seen.length, 1, 'one companion was running when Cancel was pressed');
      assert.deepStrictEqual(reconcilers(db), [], 'the companion was killed');
      assert.match((info.calls.at(-1) as [string])[0], /^Healing "split2" cancelled\./);
      // Whatever it appended before it died stays once; a second heal copies the rest.
      const warn2 = stub('showWarningMessage', (async () => 'Heal Study') as never);
      const info2 = stub('showInformationMessage', (async () => undefined) as never);
      let r: StudyReconcile | undefined;
      try {
        r = await vscode.commands.executeCommand('optunaStorage.healStudy', findNode('split2'));
      } finally {
        warn2.restore();
        info2.restore();
      }
      assert.ok(r && r.verified, 'healed and verified');
      assert.strictEqual(r.copied + r.already, 4);
      const dump = parseDump(await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX]));
      const trials = dump.find((x) => x.study_name === 'split2')!.trials as unknown as DumpTrial[];
      assert.strictEqual(trials.length, 7);
      assert.strictEqual(new Set(trials.map(same)).size, 7, 'no trial twice');
      assert.doesNotMatch(
        String(api.studies.getTreeItem(findNode('split2')!).description),
        /split/,
      );
    });

    it('a journal with a gap is refused: an error that says what to do, nothing written', async () => {
      await runPython('companion_split_study.py', [
        '--redis',
        redis.url,
        '--prefix',
        PREFIX,
        '--sqlite',
        db,
        '--study',
        'split3',
      ]);
      await vscode.commands.executeCommand('optunaStorage.refresh');
      await until(() => findNode('split3')?.study.sqlite !== undefined, WAIT_MS, 'split3 split');
      const node = findNode('split3');
      const client = redis.client();
      try {
        assert.strictEqual(await client.del(`${PREFIX}:log:1`), 1, 'a journal entry removed');
        const before = (await client.keys('*')).sort();
        const warn = stub('showWarningMessage', (async () => 'Heal Study') as never);
        const error = stub('showErrorMessage', (async () => undefined) as never);
        try {
          assert.strictEqual(
            await vscode.commands.executeCommand('optunaStorage.healStudy', node),
            undefined,
          );
        } finally {
          warn.restore();
          error.restore();
        }
        assert.strictEqual(warn.calls.length, 0, 'no confirmation for a refused heal');
        assert.strictEqual(error.calls.length, 1);
        const message = (error.calls[0] as [string])[0];
        assert.match(message, /^Heal of "split3" refused, nothing written: .*heal:log:1/);
        assert.match(message, /restore it from a backup \(Restore Redis\)/);
        assert.deepStrictEqual((await client.keys('*')).sort(), before, 'nothing written');
      } finally {
        client.disconnect();
      }
    });
  });
}

if (vscode.workspace.isTrusted) {
  describe('Heal Split Study with a password-protected Redis', function () {
    this.timeout(180_000);
    const PASSWORD = 'heal-s3cret-pw';
    let api: ExtensionApi;
    let redis: RedisServer;
    let dir: string;
    let db: string;
    let plainUrl: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-heal-pw-'));
      db = path.join(dir, 'optuna_fallback.db');
      redis = await RedisServer.start({ password: PASSWORD });
      plainUrl = redis.url.replace(/\/\/[^@/]*@/, '//');
      const withPassword = plainUrl.replace('redis://', `redis://:${PASSWORD}@`);
      await writeSplitStudy(withPassword, db);
      api = await activate();
      await api.passwords.set(plainUrl, PASSWORD);
      await cfg().update('redis.prefixes', [PREFIX], G);
      await cfg().update('sqlite.path', db, G);
      await cfg().update('redis.url', plainUrl, G);
      await splitStudyShown(api);
    });

    after(async () => {
      for (const k of ['redis.prefixes', 'sqlite.path', 'redis.url'])
        await cfg().update(k, undefined, G);
      await api?.passwords.delete(plainUrl);
      await redis?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the stored password reaches the companion in its environment, never its command line', async () => {
      const study = api.store.studies().find((x) => x.name === 'split')!;
      const seen = new Map<number, { argv: string[]; env: string }>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const c of companions(db))
            if (!seen.has(c.pid))
              try {
                seen.set(c.pid, {
                  argv: c.argv,
                  env: fs.readFileSync(`/proc/${c.pid}/environ`, 'utf8'),
                });
              } catch {
                // gone meanwhile
              }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const warn = stub('showWarningMessage', (async () => 'Heal Study') as never);
      const info = stub('showInformationMessage', (async () => undefined) as never);
      let r: StudyReconcile | undefined;
      try {
        r = await vscode.commands.executeCommand('optunaStorage.healStudy', {
          kind: 'study',
          id: 'x',
          study,
        });
      } finally {
        warn.restore();
        info.restore();
        watching = false;
        await watch;
      }
      assert.ok(r && r.verified, 'healed with the stored password');
      assert.strictEqual(r.copied, 4);
      assert.ok(seen.size >= 1, 'the companion was seen running');
      for (const { argv, env } of seen.values()) {
        assert.ok(!argv.some((a) => a.includes(PASSWORD)), argv.join(' '));
        assert.ok(
          env.split('\0').includes(`OPTUNA_STORAGE_REDIS_PASSWORD=${PASSWORD}`),
          'the password is in its environment',
        );
      }
    });
  });

  describe('Heal Split Study through Redis Sentinel', function () {
    this.timeout(180_000);
    let api: ExtensionApi;
    let redis: RedisServer;
    let sentinel: Sentinel | undefined;
    let dir: string;
    let db: string;
    const cfg = () => vscode.workspace.getConfiguration('optunaStorage');
    const G = vscode.ConfigurationTarget.Global;
    const KEYS = ['redis.prefixes', 'sqlite.path', 'redis.sentinels', 'redis.url'];

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-heal-sentinel-'));
      db = path.join(dir, 'optuna_fallback.db');
      redis = await RedisServer.start();
      await writeSplitStudy(redis.url, db);
      sentinel = await startSentinel(dir, redis.port);
      api = await activate();
      await cfg().update('redis.prefixes', [PREFIX], G);
      await cfg().update('sqlite.path', db, G);
      await cfg().update('redis.sentinels', `127.0.0.1:${sentinel.port}`, G);
      // Nothing listens at the URL's own address: only the sentinel leads to the server.
      await cfg().update('redis.url', `redis://127.0.0.1:${await freePort()}`, G);
      await splitStudyShown(api);
    });

    after(async () => {
      for (const k of KEYS) await cfg().update(k, undefined, G);
      sentinel?.stop();
      await redis?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('heals into the master the sentinel names', async () => {
      const study = api.store.studies().find((x) => x.name === 'split')!;
      const warn = stub('showWarningMessage', (async () => 'Heal Study') as never);
      const info = stub('showInformationMessage', (async () => undefined) as never);
      const error = stub('showErrorMessage', (async () => undefined) as never);
      let r: StudyReconcile | undefined;
      try {
        r = await vscode.commands.executeCommand('optunaStorage.healStudy', {
          kind: 'study',
          id: 'x',
          study,
        });
      } finally {
        warn.restore();
        info.restore();
        error.restore();
      }
      assert.deepStrictEqual(error.calls, []);
      assert.ok(r && r.verified, 'healed and verified');
      assert.strictEqual(r.copied, 4);
      const inRedis = parseDump(
        await runPython('optuna_dump.py', [redis.url, '--prefix', PREFIX]),
      ).find((x) => x.study_name === 'split')!.trials as unknown as DumpTrial[];
      const trials = inRedis.map((t) => t.number);
      assert.deepStrictEqual(trials, [0, 1, 2, 3, 4, 5, 6], 'Optuna reads all 7 trials in Redis');
    });
  });
}

/** The companion's reconcile processes on `db` now running on this machine (pid, argv). */
function companions(db: string): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv.includes('reconcile') && argv.includes(db)) out.push({ pid: Number(pid), argv });
  }
  return out;
}

/** Pids of the companion's reconcile (not its dry run) on `db`. */
function reconcilers(db: string): number[] {
  return companions(db)
    .filter((c) => !c.argv.includes('--dry-run'))
    .map((c) => c.pid);
}

/** A tree trial in the fields `same` compares, as optuna_dump.py prints them. */
function toDump(t: Trial): DumpTrial {
  return {
    number: t.number,
    state: t.state,
    values: t.values,
    params: t.params,
    datetime_start: t.datetimeStart,
    datetime_complete: t.datetimeComplete,
  };
}
