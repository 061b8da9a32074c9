import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { parseDump } from '../helpers/compareDumps';
import { freePort } from '../helpers/ports';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { startSentinel } from '../helpers/sentinel';

interface Totals {
  copied: number;
  already: number;
  skipped_running: number;
  refused: number;
}

describe('optuna-storage reconcile (the Python companion, real Redis and Optuna)', function () {
  this.timeout(300_000);
  let dir: string;
  let redis: RedisServer;
  let db: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-reconcile-'));
    redis = await RedisServer.start();
    db = path.join(dir, 'optuna_fallback.db');
    await runPython('companion_split_study.py', [
      '--redis',
      redis.url,
      '--prefix',
      'p',
      '--sqlite',
      db,
    ]);
  });
  after(async () => {
    await redis?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const reconcile = (...extra: string[]) =>
    runCli(['reconcile', '--redis', redis.url, '--prefix', 'p', '--sqlite', db, ...extra]);
  const redisTrials = async () => {
    const r = await runCli(['dump', redis.url, '--prefix', 'p', '--study', 'split']);
    assert.equal(r.status, 0, r.stderr);
    return parseDump(r.stdout)[0].trials as { state: string }[];
  };

  it('--dry-run lists the SQLite-only trials and writes nothing', async () => {
    const r = await reconcile('--dry-run');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /study "split": would copy 4,/);
    assert.match(r.stdout, /SQLite trials to copy: #0, #1, #2, #3/);
    assert.equal((await redisTrials()).length, 3);
  });

  it('--sentinel finds the master the sentinel names (the --redis address is only for db/user)', async () => {
    const sentinel = await startSentinel(dir, redis.port);
    try {
      const nowhere = `redis://127.0.0.1:${await freePort()}`;
      const args = ['reconcile', '--redis', nowhere, '--prefix', 'p', '--sqlite', db, '--dry-run'];
      let r = await runCli([...args, '--sentinel', `127.0.0.1:${sentinel.port}`]);
      for (let i = 0; r.status === 3 && i < 20; i++) {
        // the sentinel process may not be listening yet
        await new Promise((done) => setTimeout(done, 250));
        r = await runCli([...args, '--sentinel', `127.0.0.1:${sentinel.port}`]);
      }
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /study "split": would copy 4,/);
      const direct = await runCli(args);
      assert.equal(direct.status, 3, 'without the sentinel the address answers nothing');
    } finally {
      sentinel.stop();
    }
  });

  it('copies each trial once, verifies, and a second run copies nothing (--json counts)', async () => {
    const first = await reconcile('--json');
    assert.equal(first.status, 0, first.stderr);
    const report = JSON.parse(first.stdout) as { totals: Totals; studies: { verified: boolean }[] };
    assert.deepEqual(
      [report.totals.copied, report.totals.already, report.totals.refused],
      [4, 0, 0],
    );
    assert.equal(report.studies[0].verified, true);
    const trials = await redisTrials();
    assert.equal(trials.length, 7);
    assert.ok(trials.every((t) => t.state === 'COMPLETE'));
    const again = JSON.parse((await reconcile('--json')).stdout) as { totals: Totals };
    assert.deepEqual([again.totals.copied, again.totals.already], [0, 4]);
    assert.equal((await redisTrials()).length, 7);
  });

  it('says what is wrong: no such study (2), a file that is not Optuna (2), no Redis (3)', async () => {
    const none = await reconcile('--study', 'nope');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no study "nope"/);
    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(junk, 'text');
    const bad = await runCli(['reconcile', '--redis', redis.url, '--sqlite', junk]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /junk\.db/);
    const down = await runCli(['reconcile', '--redis', 'redis://127.0.0.1:1', '--sqlite', db]);
    assert.equal(down.status, 3, down.stderr);
    const missing = await runCli(['reconcile', '--sqlite', db]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--redis URL is required/);
  });
});
