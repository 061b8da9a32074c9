import * as assert from 'node:assert/strict';
import Redis from 'ioredis';
import { JournalRecords } from '../../src/core/optuna/journal/records';
import { logKey, logNumberKey } from '../../src/core/optuna/journal/redisLog';
import { ownLogRanges } from '../../src/core/optuna/journal/redisRange';
import { JournalReplay } from '../../src/core/optuna/replay';
import { connectOnce } from '../../src/core/redis/connect';
import { RedisJournalReader } from '../../src/core/storage/redisJournalReader';
import { RedisServer } from '../helpers/redisServer';

const PASSWORD = 'range-test-secret';
const DB = 3;
const PREFIX = 'ranges';
const X = { name: 'FloatDistribution', attributes: { low: 0, high: 1000, log: false, step: null } };

/** Connections the server has open now (CLIENT LIST, the asking one included). */
async function clients(admin: Redis): Promise<number> {
  const list = (await admin.call('client', 'list')) as string;
  return list.trim().split('\n').length;
}

async function waitFor(what: string, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A cold load reads its entries on a connection of its own whose replies it parses itself
 * (redisRange.ts ownLogRanges): the same server, password and database as the shared
 * connection, the same replay as reading every entry by GET, and nothing left open after.
 */
describe('long journal reads on a connection of their own', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let admin: Redis;
  let texts: Array<string | null>;

  before(async () => {
    redis = await RedisServer.start({ password: PASSWORD });
    admin = redis.client();
    await admin.select(DB);
    // 2 studies × 1,500 trials × ~8 records: past the length from which a read gets its own
    // connection; a name and an attribute in UTF-8 as written by a non-ASCII json.dumps, and
    // missing entries (evicted) inside the range.
    const w = new JournalRecords('range-writer');
    const records: string[] = [
      w.createStudy('ascii'),
      '{"op_code": 0, "worker_id": "range-writer", "study_name": "ümlaut 前缀 🙂", "directions": [1]}',
    ];
    let trialId = 0;
    for (let t = 0; t < 1500; t++)
      for (const study of [0, 1]) {
        records.push(w.createTrial(study));
        records.push(w.setTrialParam(trialId, 'x', t / 7, X));
        records.push(w.setTrialIntermediateValue(trialId, 0, t * 0.5));
        records.push(w.setTrialUserAttr(trialId, 'note', study === 1 ? `é ${t}` : `n ${t}`));
        records.push(w.setTrialStateValues(trialId, 'COMPLETE', [t * 1.25]));
        trialId++;
      }
    const pipe = admin.pipeline();
    records.forEach((r, n) => pipe.set(logKey(PREFIX, n), r));
    pipe.set(logNumberKey(PREFIX), records.length - 1);
    await pipe.exec();
    for (const n of [4000, 4001, 9999]) await admin.del(logKey(PREFIX, n));
    texts = records.map((r, n) => ([4000, 4001, 9999].includes(n) ? null : r));
  });
  after(async () => {
    admin?.disconnect();
    await redis?.dispose();
  });

  it('replays what reading every entry by GET replays, and closes its connection', async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}/${DB}`;
    const shared = await connectOnce(url);
    try {
      const before = await clients(admin);
      const reader = new RedisJournalReader(shared, PREFIX);
      const r = await reader.refresh();
      assert.equal(r.entries, texts.length);
      const expected = new JournalReplay();
      texts.forEach((t, n) => {
        if (t !== null) expected.applyText(n, t);
        else expected.entriesRead++;
      });
      assert.deepEqual(reader.replay.toState().studies, expected.toState().studies);
      assert.equal(reader.studies()[1].name, 'ümlaut 前缀 🙂');
      assert.deepEqual(
        reader.issues().map((i) => [i.kind, i.index, i.count]),
        [
          ['gap', 4000, 2],
          ['gap', 9999, 1],
        ],
      );
      await waitFor('the own connection to close', async () => (await clients(admin)) === before);
    } finally {
      shared.disconnect();
    }
  });

  it('an aborted read rejects with the reason and leaves no connection open', async () => {
    const shared = await connectOnce(`redis://:${PASSWORD}@127.0.0.1:${redis.port}/${DB}`);
    try {
      const before = await clients(admin);
      const ac = new AbortController();
      const reader = new RedisJournalReader(shared, PREFIX);
      const reading = reader.refresh(ac.signal);
      setImmediate(() => ac.abort(new Error('stop reading')));
      await assert.rejects(reading, /stop reading/);
      await waitFor('the own connection to close', async () => (await clients(admin)) === before);
    } finally {
      shared.disconnect();
    }
  });

  it('a server frozen during a read fails it after the command timeout, not never', async () => {
    const shared = new Redis({
      port: redis.port,
      host: '127.0.0.1',
      password: PASSWORD,
      db: DB,
      commandTimeout: 1000,
      lazyConnect: true,
    });
    shared.on('error', () => undefined);
    await shared.connect();
    const ranges = await ownLogRanges(shared, PREFIX);
    try {
      assert.deepEqual(await ranges.get(0, 1), texts.slice(0, 2));
      redis.signal('SIGSTOP');
      await assert.rejects(ranges.get(2, 5000), /timed out/);
      await assert.rejects(ranges.get(0, 1), /timed out/);
    } finally {
      redis.signal('SIGCONT');
      ranges.close();
      shared.disconnect();
    }
  });
});
