import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JsonObject } from '../../src/core/optuna/pythonJsonParse';
import { parsePyJson } from '../../src/core/optuna/pythonJsonParse';
import { runCli } from '../helpers/cli';
import { decodeFloats, parseDump } from '../helpers/compareDumps';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

/** A dump's studies by name, without ids (a copy gets its own ids; content must be equal). */
function byName(studies: JsonObject[]): Map<string, JsonObject> {
  return new Map(
    studies.map((s) => {
      const { study_id: _sid, trials, ...rest } = s;
      return [
        s.study_name as string,
        { ...rest, trials: (trials as JsonObject[]).map(({ trial_id: _tid, ...t }) => t) },
      ];
    }),
  );
}

/** Real Optuna's view of several storages, from one Python process. */
async function optunaViews(...storages: string[]): Promise<Map<string, Map<string, JsonObject>>> {
  const doc = decodeFloats(
    parsePyJson(await runPython('optuna_dump_each.py', storages)),
  ) as JsonObject;
  return new Map(storages.map((s) => [s, byName((doc[s] as JsonObject).studies as JsonObject[])]));
}

const withoutWorker = (line: string) => line.replace(/"worker_id": "[^"]*"/, '"worker_id": "W"');

describe('study export and import, checked by real Optuna', function () {
  let dir: string;
  let redis: RedisServer;
  let sources: Record<
    'journal' | 'sqlite' | 'redis',
    { arg: string[]; view: Map<string, JsonObject> }
  >;
  let names: string[];

  before(async function () {
    this.timeout(300_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-transfer-'));
    redis = await RedisServer.start();
    const journal = path.join(dir, 'src.log');
    const sqlite = path.join(dir, 'src.db');
    await runPython('generate.py', [
      '--redis',
      redis.url,
      '--prefix',
      'src',
      '--journal',
      journal,
      '--sqlite',
      sqlite,
    ]);
    const views = await optunaViews(journal, sqlite, `${redis.url}#src`);
    sources = {
      journal: { arg: [journal], view: views.get(journal)! },
      sqlite: { arg: [sqlite], view: views.get(sqlite)! },
      redis: { arg: [redis.url, '--prefix', 'src'], view: views.get(`${redis.url}#src`)! },
    };
    names = [...sources.journal.view.keys()];
    assert.ok(names.length >= 8, names.join(', '));
  });
  after(async () => {
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['journal', 'sqlite', 'redis'] as const) {
    it(`${kind} -> .log: exactly the records optuna.copy_study writes, and Optuna reads every study back`, async () => {
      const src = sources[kind];
      const out = fs.mkdirSync(path.join(dir, `log-from-${kind}`), { recursive: true })!;
      const refs = fs.mkdirSync(path.join(dir, `ref-from-${kind}`), { recursive: true })!;
      await runPython('copy_study.py', [
        src.arg[0],
        ...(kind === 'redis' ? ['--from-prefix', 'src'] : []),
        '--to',
        path.join(refs, '{study}.log'),
      ]);
      for (const name of names) {
        const file = path.join(out, `${name}.log`);
        const r = await runCli(['export', ...src.arg, '--study', name, '--to', file, '--json']);
        assert.equal(r.status, 0, r.stderr);
        const ours = fs.readFileSync(file, 'utf8').split('\n').map(withoutWorker);
        const ref = fs
          .readFileSync(path.join(refs, `${name}.log`), 'utf8')
          .split('\n')
          .map(withoutWorker);
        assert.deepEqual(ours, ref, `${kind} ${name}: records differ from copy_study's`);
      }
      const views = await optunaViews(...names.map((n) => path.join(out, `${n}.log`)));
      for (const name of names)
        assert.deepStrictEqual(
          views.get(path.join(out, `${name}.log`))!.get(name),
          src.view.get(name),
          `${kind} ${name}`,
        );
    });
  }

  it('-> .db: Optuna 3.1 opens it and sees what it sees in its own copy_study into SQLite', async () => {
    const out = path.join(dir, 'db');
    fs.mkdirSync(out);
    await runPython('copy_study.py', [
      sources.journal.arg[0],
      '--to',
      path.join(out, 'ref-{study}.db'),
    ]);
    for (const name of names) {
      const r = await runCli([
        'export',
        ...sources.journal.arg,
        '--study',
        name,
        '--to',
        path.join(out, `${name}.db`),
      ]);
      assert.equal(r.status, 0, r.stderr);
    }
    // From SQLite to SQLite nothing is lost: equal to the source itself.
    for (const name of ['single-minimize', 'attrs'])
      assert.equal(
        (
          await runCli([
            'export',
            ...sources.sqlite.arg,
            '--study',
            name,
            '--to',
            path.join(out, `sqlite-${name}.db`),
          ])
        ).status,
        0,
      );
    const files = [
      ...names.flatMap((n) => [path.join(out, `${n}.db`), path.join(out, `ref-${n}.db`)]),
      ...['single-minimize', 'attrs'].map((n) => path.join(out, `sqlite-${n}.db`)),
    ];
    const views = await optunaViews(...files);
    for (const name of names)
      assert.deepStrictEqual(
        views.get(path.join(out, `${name}.db`))!.get(name),
        views.get(path.join(out, `ref-${name}.db`))!.get(name),
        name,
      );
    for (const name of ['single-minimize', 'attrs'])
      assert.deepStrictEqual(
        views.get(path.join(out, `sqlite-${name}.db`))!.get(name),
        sources.sqlite.view.get(name),
        `sqlite ${name}`,
      );
  });

  it('import: every study into a fresh prefix, which Optuna reads as the source; a second import is refused', async () => {
    const logs = path.join(dir, 'log-from-redis');
    for (const name of names) {
      const r = await runCli([
        'import',
        path.join(logs, `${name}.log`),
        '--redis',
        redis.url,
        '--prefix',
        'restored',
        '--json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { study: string; trials: number; verified: boolean };
      assert.equal(doc.study, name);
      assert.equal(doc.verified, true);
      assert.equal(doc.trials, (sources.redis.view.get(name)!.trials as unknown[]).length);
    }
    const view = (await optunaViews(`${redis.url}#restored`)).get(`${redis.url}#restored`)!;
    assert.deepEqual([...view.keys()].sort(), [...names].sort());
    for (const name of names)
      assert.deepStrictEqual(view.get(name), sources.redis.view.get(name), name);
    // Our own reader agrees, study ids assigned in import order.
    const ours = parseDump((await runCli(['dump', redis.url, '--prefix', 'restored'])).stdout);
    assert.deepEqual(
      ours.map((s) => s.study_name),
      names,
    );

    const again = await runCli([
      'import',
      path.join(logs, `${names[0]}.log`),
      '--redis',
      redis.url,
      '--prefix',
      'restored',
    ]);
    assert.equal(again.status, 2);
    assert.match(
      again.stderr,
      new RegExp(`already has a study named "${names[0]}".*nothing was imported`),
    );
    // A .db imports too, into another prefix.
    const fromDb = await runCli([
      'import',
      path.join(dir, 'db', 'attrs.db'),
      '--redis',
      redis.url,
      '--prefix',
      'from-db',
    ]);
    assert.equal(fromDb.status, 0, fromDb.stderr);
    assert.match(fromDb.stdout, /read back and verified/);
  });

  it('refuses an incomplete journal unless --partial, an existing target, and an unknown study', async () => {
    const c = redis.client();
    try {
      await c.copy('src:log:3', 'src:log:3:saved');
      await c.del('src:log:3');
      const target = path.join(dir, 'partial.log');
      const refused = await runCli([
        'export',
        ...sources.redis.arg,
        '--study',
        'many-trials',
        '--to',
        target,
      ]);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /incomplete [\s\S]*src:log:3 is missing[\s\S]*--partial/);
      assert.ok(!fs.existsSync(target));
      const partial = await runCli([
        'export',
        ...sources.redis.arg,
        '--study',
        'many-trials',
        '--to',
        target,
        '--partial',
      ]);
      assert.equal(partial.status, 0, partial.stderr);
      assert.match(partial.stderr, /warning: skipped journal entry src:log:3/);
      const exists = await runCli([
        'export',
        ...sources.redis.arg,
        '--study',
        'many-trials',
        '--to',
        target,
        '--partial',
      ]);
      assert.equal(exists.status, 2);
      assert.match(exists.stderr, /already exists/);
      const unknown = await runCli([
        'export',
        ...sources.journal.arg,
        '--study',
        'nope',
        '--to',
        path.join(dir, 'nope.log'),
      ]);
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /no study named "nope".*"single-minimize"/);
    } finally {
      await c.rename('src:log:3:saved', 'src:log:3');
      c.disconnect();
    }
  });
});
