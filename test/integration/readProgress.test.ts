import * as assert from 'node:assert/strict';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import { writeFinishedStudy } from '../helpers/journalWriter';
import { onMget } from '../helpers/mgetSpy';
import { RedisServer } from '../helpers/redisServer';

/**
 * A first read of a large journal takes seconds (a 100,000-trial study: 3-8 s in VS Code on a
 * busy machine): the store says how far it got, which the Studies view's "Loading studies…"
 * row shows. 20,001 entries are five MGETs of 5,000; the fourth is sent once the first was
 * replayed.
 */
describe('progress of a journal read', () => {
  const TRIALS = 10_000;
  const ENTRIES = 2 * TRIALS + 1;
  let redis: RedisServer;

  before(async () => {
    redis = await RedisServer.start();
    const c = redis.client();
    await writeFinishedStudy(c, 'pr', 'progress', TRIALS);
    c.disconnect();
  });
  after(async () => {
    await redis.dispose();
  });

  it('entries replayed of those to read while the read runs; none before or after', async () => {
    const store = new FailoverStore({ redisUrl: redis.url, prefixes: ['pr'] });
    try {
      await store.start();
      assert.equal(store.progress(), undefined, 'before any read');
      const seen: Array<{ mget: number; progress: unknown }> = [];
      onMget(store.redisClient!, (mget) => seen.push({ mget, progress: store.progress() }));
      const r = await store.refresh();
      assert.deepEqual(r.errors, []);
      assert.equal(store.studies()[0].trials.length, TRIALS);
      assert.deepEqual(seen, [
        { mget: 1, progress: { read: 0, total: ENTRIES } },
        { mget: 2, progress: { read: 0, total: ENTRIES } },
        { mget: 3, progress: { read: 0, total: ENTRIES } },
        { mget: 4, progress: { read: 5000, total: ENTRIES } },
        { mget: 5, progress: { read: 10_000, total: ENTRIES } },
      ]);
      assert.equal(store.progress(), undefined, 'after the read');
    } finally {
      store.close();
    }
  });
});
