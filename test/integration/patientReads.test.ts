import * as assert from 'node:assert/strict';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import { RedisLink } from '../../src/core/redis/link';
import { writeFinishedStudy } from '../helpers/journalWriter';
import { onMget } from '../helpers/mgetSpy';
import { RedisServer } from '../helpers/redisServer';
import { until } from '../helpers/waitFor';

/** Blocks the event loop as a long replay (or a starved extension host) does. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

/**
 * The replies to a large read wait in the socket while the client is busy: on a loaded
 * machine the 100,000-trial study's first read in VS Code was cut short by ioredis' fixed
 * command timeout (our socketTimeout, counted from each request) while the server had
 * answered, and the views showed part of the study. Reads and health checks now time out only
 * when the connection stays silent. Here the loop is blocked three times the timeout right
 * after the first MGET was sent: a deadline counted from the request (or the socket's idle
 * timeout) expires before the replies are read.
 */
describe('Redis reads whose replies wait behind a busy client', () => {
  let redis: RedisServer;
  /** Trials per journal prefix: a cold load on a connection of its own, and a short read. */
  const JOURNALS = { long: 6000, short: 2000 }; // 12,001 and 4,001 entries

  before(async () => {
    redis = await RedisServer.start();
    const c = redis.client();
    for (const [prefix, trials] of Object.entries(JOURNALS))
      await writeFinishedStudy(c, prefix, prefix, trials);
    c.disconnect();
  });
  after(async () => {
    await redis.dispose();
  });

  for (const [prefix, trials] of Object.entries(JOURNALS))
    it(`the first read of a journal is whole when its replies waited past the socket timeout (${prefix} read)`, async () => {
      // healthCheckInterval 1: the PING's silence deadline (2 s) stays clear of the block.
      const store = new FailoverStore({
        redisUrl: redis.url,
        prefixes: [prefix],
        settings: { socketTimeout: 1, healthCheckInterval: 1 },
      });
      try {
        await store.start();
        assert.equal(store.state.state, 'redis', store.state.detail);
        let mgets = 0;
        // Once the first MGET was written, before any reply can be read.
        onMget(store.redisClient!, (n) => {
          mgets = n;
          if (n === 1) process.nextTick(() => busy(3000));
        });
        const r = await store.refresh();
        assert.ok(mgets >= 1, 'an MGET was sent');
        assert.deepEqual(r.errors, []);
        assert.equal(r.redisEntries, 2 * trials + 1);
        assert.equal(store.studies()[0].trials.length, trials);
        assert.equal(store.state.state, 'redis', store.state.detail);
      } finally {
        store.close();
      }
    });

  it("a health check's PING answered while the client was blocked past the socket timeout keeps the link up", async () => {
    const link = new RedisLink(redis.url, {
      settings: { socketTimeout: 1, healthCheckInterval: 2 },
    });
    try {
      link.start();
      await until(() => link.status.up, 10_000, 'the link up');
      // Continue from a reply (the poll phase), as a read does: the next turn runs the expired
      // timers before it reads the socket again.
      await link.client.echo('turn');
      const check = link.check();
      busy(3000);
      const st = await check;
      assert.equal(st.up, true, st.reason);
    } finally {
      link.close();
    }
  });
});
