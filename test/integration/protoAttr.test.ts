import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { PYTHON } from '../helpers/python';
import { execFileSync } from 'node:child_process';

/**
 * Issue #17 "also fix": an attribute named "__proto__" is legal in Optuna and must survive
 * our readers (assignment would have set the object's prototype instead). Real Optuna writes
 * it into a journal file and an SQLite file; dump shows it as Optuna does.
 */
describe('an attribute named __proto__ survives every reader', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-proto-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('journal file and SQLite', async () => {
    const journal = path.join(dir, 'j.log');
    const db = path.join(dir, 'p.db');
    execFileSync(PYTHON, [
      '-c',
      `
import optuna, sys
optuna.logging.set_verbosity(optuna.logging.ERROR)
from optuna.storages import JournalStorage, JournalFileStorage
for storage in (JournalStorage(JournalFileStorage(sys.argv[1])), "sqlite:///" + sys.argv[2]):
    s = optuna.create_study(storage=storage, study_name="proto")
    s.set_user_attr("__proto__", {"polluted": True})
    t = s.ask()
    t.set_user_attr("__proto__", "trial-level")
    s.tell(t, 1.0)
`,
      journal,
      db,
    ]);
    for (const file of [journal, db]) {
      const r = await runCli(['dump', file]);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      const study = doc.studies[0];
      assert.deepEqual(
        Object.getOwnPropertyDescriptor(study.user_attrs, '__proto__')?.value,
        {
          polluted: true,
        },
        file,
      );
      assert.equal(
        Object.getOwnPropertyDescriptor(study.trials[0].user_attrs, '__proto__')?.value,
        'trial-level',
        file,
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
  });
});
