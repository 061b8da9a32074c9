import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { forEachOptuna } from '../helpers/optunaSources';
import { runPython } from '../helpers/python';

type Doc = { studies: Array<Record<string, unknown> & { trials: Record<string, unknown>[] }> };

/** Every dict of the dump as the list of its keys, in order, named by where it is. */
function keyOrders(doc: Doc): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of doc.studies) {
    for (const f of ['user_attrs', 'system_attrs'])
      out[`study ${String(s.study_name)} ${f}`] = Object.keys(s[f] as object);
    for (const t of s.trials)
      for (const f of ['params', 'distributions', 'user_attrs', 'system_attrs'])
        out[`trial ${String(t.number)} ${f}`] = Object.keys(t[f] as object);
  }
  return out;
}

/**
 * `dump` of an SQLite file lists names in the order the Optuna that wrote it reports them
 * (a script comparing `trial.params` with the dump sees the same order): params by name for
 * Optuna 3.1's schema, by suggestion for later ones; a trial's attributes by key.
 */
describe('SQLite dump lists names in Optuna’s order', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-order-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  forEachOptuna(
    (version) => `a database Optuna ${version} wrote`,
    async (optuna) => {
      const { env } = optuna;
      const db = path.join(dir, `order-${optuna.version}.db`);
      await runPython('param_order.py', [db], 120_000, env);
      const theirs = JSON.parse(
        await runPython('optuna_dump.py', [`sqlite:///${db}`], 120_000, env),
      ) as Doc;
      const ours = await runCli(['dump', `sqlite:///${db}`]);
      assert.equal(ours.stderr, '');
      const expected = keyOrders(theirs);
      assert.deepEqual(keyOrders(JSON.parse(ours.stdout) as Doc), expected);
      // The fixture's names really are out of order, and Optuna 3.1 really sorts them.
      const params = expected['trial 0 params'];
      const byName = optuna.version === '3.1.0';
      assert.equal(params.join() === [...params].sort().join(), byName, params.join());
      assert.deepEqual(expected['study order user_attrs'], ['zz', 'AA', 'mm']);
    },
  );
});
