import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JournalReplay } from '../../src/core/optuna/replay';
import { StudyEncoder } from '../../src/core/studyPage/encoder';
import { classifyStale } from '../../src/core/studyPage/stale';
import { readHeartbeats } from '../../src/core/storage/heartbeats';
import { failJournalTrials, failSqliteTrials } from '../../src/core/storage/markFail';
import { mergeTrials } from '../../src/core/storage/mergedView';
import { RedisJournalReader } from '../../src/core/storage/redisJournalReader';
import { SqliteReader } from '../../src/core/storage/sqliteReader';
import { optunaSources } from '../helpers/optunaSources';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

/** The state real Optuna reads for a trial: "FAIL 2026-…" */
async function optunaState(storageArgs: string[], number: number, env = {}): Promise<string> {
  return (
    await runPython(
      'page_study.py',
      [...storageArgs, '--state', 'page-demo', String(number)],
      60_000,
      env,
    )
  ).trim();
}

describe('study page against real storages: heartbeats, Mark as FAIL read back by Optuna', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-page-storage-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('SQLite: reads the heartbeat with the database clock, flags it past the grace period, and fails the trial in one transaction', async () => {
    const db = path.join(dir, 'page.db');
    await runPython('page_study.py', ['--sqlite', db, '--trials', '8', '--zombie', '--heartbeat']);
    const sqlite = new SqliteReader(db);
    const study = sqlite.readAll().find((s) => s.name === 'page-demo')!;
    sqlite.close();
    const zombie = study.trials.find((t) => t.state === 'RUNNING')!;
    const hb = readHeartbeats(db, [zombie.trialId])!;
    assert.ok(hb.at.has(zombie.trialId), 'the heartbeat Optuna wrote');
    const age = hb.dbNow - hb.at.get(zombie.trialId)!;
    assert.ok(age >= 0 && age < 120_000, `heartbeat age ${age} ms`);

    const enc = new StudyEncoder();
    const merged = {
      key: 'k',
      name: study.name,
      prefix: undefined,
      redis: undefined,
      sqlite: study,
      trials: mergeTrials(undefined, study),
    };
    enc.snapshot(merged, {
      sources: [],
      store: { state: 'sqlite', detail: '' },
      live: true,
      canWrite: true,
    });
    const fresh = classifyStale(enc.columns(), {
      now: Date.now(),
      heartbeats: { ...hb, graceMs: 120_000 },
    });
    assert.deepEqual(fresh, [], 'a fresh heartbeat: not stale');
    const late = classifyStale(enc.columns(), {
      now: Date.now(),
      heartbeats: { ...hb, dbNow: hb.dbNow + 600_000, graceMs: 120_000 },
    });
    assert.deepEqual(
      late.map((v) => [v.number, v.reasons[0].replace(/\d+ min/, 'N min')]),
      [[zombie.number, "no heartbeat for N min (Optuna's grace period: 2 min)"]],
    );

    assert.deepEqual(failSqliteTrials(db, [zombie.trialId]), [zombie.trialId]);
    assert.deepEqual(failSqliteTrials(db, [zombie.trialId]), [], 'a finished trial is left alone');
    assert.match(
      await optunaState(['--sqlite', db], zombie.number),
      /^FAIL \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/,
    );
  });

  for (const version of ['3.1.0 (Debian)', '5.0.0-rc1']) {
    it(`Redis journal of Optuna ${version}: the FAIL record is Optuna's own, and Optuna reads it back`, async function () {
      let env = {};
      if (version !== '3.1.0 (Debian)') {
        const src = optunaSources(version);
        if (!src.dir) {
          console.log(`      skipped: ${src.reason}`);
          this.skip();
        }
        env = { PYTHONPATH: src.dir };
      }
      const redis = await RedisServer.start();
      const client = redis.client();
      try {
        const args = ['--redis', redis.url, '--prefix', 'p'];
        await runPython('page_study.py', [...args, '--trials', '6', '--zombie'], 120_000, env);
        const reader = new RedisJournalReader(client, 'p');
        await reader.refresh();
        const replay: JournalReplay = reader.replay;
        const study = replay.allStudies().find((s) => s.name === 'page-demo')!;
        const zombie = study.trials.find((t) => t.state === 'RUNNING')!;
        await failJournalTrials(client, 'p', [
          { trialId: zombie.trialId, datetimeStart: zombie.datetimeStart },
        ]);
        await reader.refresh();
        assert.equal(zombie.state, 'FAIL');
        // Optuna 5 writes aware UTC times, 3.x naive local ones: the record follows the journal.
        assert.equal(
          /\+00:00$/.test(zombie.datetimeComplete!),
          /\+00:00$/.test(zombie.datetimeStart!),
        );
        assert.match(await optunaState(args, zombie.number, env), /^FAIL \d{4}-/);
      } finally {
        client.disconnect();
        await redis.dispose();
      }
    });
  }
});
