import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { deleteJournalStudy } from '../../src/core/storage/deleteStudy';
import { failJournalTrials } from '../../src/core/storage/markFail';
import { UnsafeJournalError } from '../../src/core/optuna/journal/redisLog';
import { runCli } from '../helpers/cli';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

/** Every key of a prefix with its value: what must not change when a writer refuses. */
async function snapshot(c: Redis, prefix: string): Promise<Map<string, string | null>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  keys.sort();
  const values = keys.length ? await c.mget(...keys) : [];
  return new Map(keys.map((k, i) => [k, values[i]]));
}

/**
 * Issue #17 item 6: a journal whose counter key vanished (eviction takes any key) while its
 * entries remain must not be appended to: Optuna's INCR would restart at 0 and overwrite
 * `<prefix>:log:0`. Every writer (import, delete study, Mark as FAIL) refuses and says how to repair it.
 */
describe('writers refuse a journal whose entries exist without their counter', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let c: Redis;
  let dir: string;
  let journal: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-guard-'));
    journal = path.join(dir, 'src.log');
    redis = await RedisServer.start();
    c = redis.client();
    // Real Optuna writes the same scenario to the Redis prefix and to a journal file.
    await runPython('generate.py', [
      '--redis',
      redis.url,
      '--prefix',
      'orphan',
      '--journal',
      journal,
    ]);
  });
  after(async () => {
    c?.disconnect();
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('import into an orphaned prefix fails, overwrites nothing, and says how to repair it', async () => {
    const counter = await c.get('orphan:log_number');
    assert.ok(Number(counter) > 10);
    await c.del('orphan:log_number'); // what eviction does
    const before = await snapshot(c, 'orphan');
    const r = await runCli([
      'import',
      journal,
      '--redis',
      redis.url,
      '--prefix',
      'orphan',
      '--study',
      'single-minimize',
    ]);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(
      r.stderr,
      /has \d+ entries \(orphan:log:0 … orphan:log:\d+\) but no counter key "orphan:log_number"/,
    );
    assert.match(r.stderr, new RegExp(`redis-cli SET "orphan:log_number" ${counter}`));
    assert.deepEqual(await snapshot(c, 'orphan'), before, 'nothing was written or overwritten');
  });

  it('delete study refuses the same way', async () => {
    const before = await snapshot(c, 'orphan');
    await assert.rejects(deleteJournalStudy(c, 'orphan', 0), (e: Error) => {
      assert.ok(e instanceof UnsafeJournalError, e.message);
      assert.match(e.message, /but no counter key/);
      return true;
    });
    assert.deepEqual(await snapshot(c, 'orphan'), before);
  });

  it('Mark as FAIL refuses the same way', async () => {
    const before = await snapshot(c, 'orphan');
    await assert.rejects(
      failJournalTrials(c, 'orphan', [{ trialId: 0, datetimeStart: null }]),
      (e: Error) => {
        assert.ok(e instanceof UnsafeJournalError, e.message);
        assert.match(e.message, /but no counter key/);
        return true;
      },
    );
    assert.deepEqual(await snapshot(c, 'orphan'), before);
  });

  it('after the repair it names, writing works again and keeps every entry', async () => {
    const r0 = await runCli([
      'import',
      journal,
      '--redis',
      redis.url,
      '--prefix',
      'orphan',
      '--study',
      'single-minimize',
    ]);
    const max = /redis-cli SET "orphan:log_number" (\d+)/.exec(r0.stderr)![1];
    await c.set('orphan:log_number', max);
    const before = await snapshot(c, 'orphan');
    await deleteJournalStudy(c, 'orphan', 0);
    const after = await snapshot(c, 'orphan');
    for (const [k, v] of before) if (k !== 'orphan:log_number') assert.equal(after.get(k), v, k);
    assert.equal(after.get('orphan:log_number'), String(Number(max) + 1));
    assert.match(after.get(`orphan:log:${Number(max) + 1}`)!, /"op_code": 1/);
  });

  it('a counter behind its entries (restored from an older snapshot) is refused too', async () => {
    await c.set('orphan:log_number', '3'); // entries go much further
    const before = await snapshot(c, 'orphan');
    await assert.rejects(deleteJournalStudy(c, 'orphan', 0), (e: Error) => {
      assert.ok(e instanceof UnsafeJournalError, e.message);
      assert.match(e.message, /is behind its entries: "orphan:log:4" already exists/);
      return true;
    });
    await assert.rejects(
      failJournalTrials(c, 'orphan', [{ trialId: 0, datetimeStart: null }]),
      /is behind its entries: "orphan:log:4" already exists/,
    );
    assert.deepEqual(await snapshot(c, 'orphan'), before);
  });

  it('an empty prefix is a new journal: the counter is created as Optuna does', async () => {
    const r = await runCli([
      'import',
      journal,
      '--redis',
      redis.url,
      '--prefix',
      'fresh',
      '--study',
      'single-minimize',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Number(await c.get('fresh:log_number')) > 0);
    assert.ok(await c.exists('fresh:log:0'));
  });
});
