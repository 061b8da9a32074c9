import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli';
import { runPython } from '../helpers/python';

/** Debian's python3-optuna puts Optuna's CLI here; the upgrade the message names runs it. */
const OPTUNA_CLI = '/usr/bin/optuna';

/**
 * A database an Optuna before 3.0 set up (made here by Optuna's own migrations up to that
 * release's revision) is named as one, with the upgrade to run on a copy; running exactly the
 * command the message gives makes a copy that `dump` reads, and leaves the original as it was.
 */
describe('SQLite files of an Optuna before 3.0', function () {
  this.timeout(120_000);
  let dir: string;
  // A folder name a shell would split or expand: the command in the message must quote it.
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "osm old 'optuna' $HOME-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases = [
    { revision: 'v0.9.0.a', releases: 'Optuna 0.9–1.1', library: '1.0.0' },
    { revision: 'v1.3.0.a', releases: 'Optuna 1.3–2.3', library: '2.3.0' },
    { revision: 'v2.4.0.a', releases: 'Optuna 2.4–2.5', library: '2.5.0' },
    { revision: 'v2.6.0.a', releases: 'Optuna 2.6–2.10', library: '2.10.1' },
    { revision: '', releases: 'Optuna before 0.9', library: '0.8.0' },
  ];
  for (const c of cases) {
    it(`${c.revision || 'no revision'} (${c.releases}): named, with the upgrade that works on a copy`, async function () {
      const db = path.join(dir, `study-${c.revision || 'pre-0.9'}.db`);
      await runPython('old_optuna_db.py', [db, c.revision || 'v0.9.0.a', c.library]);
      if (!c.revision) {
        // Before 0.9 there was no alembic: the v0.9.0.a tables, an older schema_version.
        const w = new Database(db);
        w.exec('DROP TABLE alembic_version; UPDATE version_info SET schema_version = 11');
        w.close();
      }
      const before = fs.readFileSync(db);

      const r = await runCli(['dump', `sqlite:///${db}`]);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /is an Optuna database from before Optuna 3\.0/);
      assert.ok(r.stderr.includes(`(${c.releases})`), r.stderr);
      if (c.revision) assert.ok(r.stderr.includes(`schema revision ${c.revision}`), r.stderr);
      assert.ok(r.stderr.includes(`set up by Optuna ${c.library}`), r.stderr);
      assert.doesNotMatch(r.stderr, /not an Optuna (storage|database)/);

      if (!fs.existsSync(OPTUNA_CLI)) {
        console.log(`      skipped the upgrade: ${OPTUNA_CLI} not found (Debian's python3-optuna)`);
        return;
      }
      const command = /then open the copy: (.*)$/.exec(r.stderr.trim())?.[1];
      assert.ok(command, r.stderr);
      assert.match(command, /^cp .* && optuna storage upgrade --storage /);
      execFileSync('bash', ['-c', command], {
        env: { ...process.env, PATH: `${path.dirname(OPTUNA_CLI)}:${process.env.PATH}` },
        stdio: 'ignore',
      });
      assert.deepEqual(fs.readFileSync(db), before, 'the original is left as it was');
      const copy = db.replace(/\.db$/, '-upgraded.db');
      const upgraded = await runCli(['dump', `sqlite:///${copy}`]);
      assert.equal(upgraded.stderr, '');
      assert.equal(upgraded.status, 0);
      const [study] = (JSON.parse(upgraded.stdout) as { studies: Record<string, unknown>[] })
        .studies;
      assert.equal(study.study_name, 'old');
      assert.deepEqual(study.directions, ['MINIMIZE']);
      const [trial] = study.trials as Record<string, unknown>[];
      assert.deepEqual([trial.number, trial.state, trial.values], [0, 'COMPLETE', [0.5]]);
    });
  }

  it('a revision no Optuna had is still "unknown", not old', async () => {
    const db = path.join(dir, 'future.db');
    await runPython('old_optuna_db.py', [db, 'v2.6.0.a', '9.9.9']);
    const w = new Database(db);
    w.exec("UPDATE alembic_version SET version_num = 'v9.0.0.a'");
    w.close();
    const r = await runCli(['dump', db]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /schema revision "v9\.0\.0\.a", which this version does not know/);
  });
});
