import * as assert from 'node:assert/strict';
import type { Command, default as Redis } from 'ioredis';
import { JournalRecords } from '../../src/core/optuna/journal/records';
import { appendJournalBatch } from '../../src/core/optuna/journal/redisLog';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import { RedisLink } from '../../src/core/redis/link';
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
    for (const [prefix, trials] of Object.entries(JOURNALS)) {
      const w = new JournalRecords();
      const records = [w.createStudy(prefix)];
      for (let t = 0; t < trials; t++)
        records.push(w.createTrial(0), w.setTrialStateValues(t, 'COMPLETE', [t / 7]));
      await appendJournalBatch(c, prefix, records);
    }
    c.disconnect();
  });
  after(async () => {
    await redis.dispose();
  });

  /**
   * Blocks the event loop for `ms` once the first MGET was written, before any reply can be
   * read: on the shared connection (sendCommand) or on a connection the reader opens for a
   * long read (a duplicate of the shared client, written to directly).
   */
  function blockAfterFirstMget(client: Redis, ms: number): { mgets: number } {
    const seen = { mgets: 0 };
    const block = () => {
      if (seen.mgets++ === 0) process.nextTick(() => busy(ms));
    };
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((cmd: Command, stream?: never) => {
      const sent = send(cmd, stream);
      if (cmd.name === 'mget') block();
      return sent;
    }) as typeof client.sendCommand;
    const duplicate = client.duplicate.bind(client);
    client.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
      const own = duplicate(...args);
      own.once('ready', () => {
        const socket = own.stream;
        const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
        socket.write = ((chunk: unknown, ...rest: unknown[]) => {
          const done = write(chunk, ...rest);
          if (Buffer.isBuffer(chunk) && chunk.includes('\r\nmget\r\n')) block();
          return done;
        }) as typeof socket.write;
      });
      return own;
    }) as typeof client.duplicate;
    return seen;
  }

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
        const seen = blockAfterFirstMget(store.redisClient!, 3000);
        const r = await store.refresh();
        assert.ok(seen.mgets >= 1, 'an MGET was sent');
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
