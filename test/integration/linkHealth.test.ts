import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { RedisLink, type LinkStatus } from '../../src/core/redis/link';
import { RedisServer } from '../helpers/redisServer';
import { until } from '../helpers/waitFor';

/** The state letter of a process (R, S, T for stopped, ...). */
function processState(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0];
}

/** Blocks the event loop as a long replay does. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

describe('Redis link health check', () => {
  it('a PING answered while the event loop was blocked past the deadline keeps the link up', async () => {
    const redis = await RedisServer.start();
    const link = new RedisLink(redis.url, { settings: { healthCheckInterval: 0.25 } });
    const seen: LinkStatus[] = [];
    try {
      link.start();
      await until(() => link.status.up, 5_000, 'the link up');
      link.on('status', (s) => seen.push(s));
      // The deadline is 500 ms; the server answers at once, but the answer waits in the socket
      // while the loop is blocked for 1.5 s, and the timer runs before the socket is read.
      for (let i = 0; i < 3; i++) {
        const check = link.check();
        busy(1500);
        const st = await check;
        assert.equal(st.up, true, `check ${i}: ${st.reason}`);
      }
      assert.deepEqual(
        seen.filter((s) => !s.up),
        [],
        'no down status while the server answered',
      );
    } finally {
      link.close();
      await redis.dispose();
    }
  });

  it('a frozen server is still noticed within one deadline after the last byte', async () => {
    const redis = await RedisServer.start();
    const link = new RedisLink(redis.url, { settings: { healthCheckInterval: 0.25 } });
    try {
      link.start();
      await until(() => link.status.up, 5_000, 'the link up');
      redis.signal('SIGSTOP');
      const t0 = Date.now();
      await until(() => !link.status.up, 5_000, 'the link down');
      const ms = Date.now() - t0;
      assert.match(link.status.reason ?? '', /no answer to PING within 500 ms|not answering/);
      assert.ok(ms < 1500, `noticed in ${ms} ms`);
    } finally {
      redis.signal('SIGCONT');
      link.close();
      await redis.dispose();
    }
  });

  it('a slow PING while this client was busy leaves a healthy link healthy; a slow server is degraded', async () => {
    const redis = await RedisServer.start();
    // No scheduled check during the test (a check in flight would answer for ours).
    const settings = { healthCheckInterval: 30, degradedLatencyMs: 1000 };
    const link = new RedisLink(redis.url, { settings });
    try {
      link.start();
      await until(() => link.status.up && !link.status.degraded, 10_000, 'a healthy link');
      // The server answers at once; the answer waits while this thread is busy (a replay).
      const check = link.check();
      busy(3000);
      const busyCheck = await check;
      assert.ok(busyCheck.latencyMs! > 1000, `latency ${busyCheck.latencyMs} ms`);
      assert.equal(busyCheck.degraded, false, busyCheck.reason);
      // The server itself slow (stopped for 1.5 s) while this thread waits idle.
      redis.signal('SIGSTOP');
      await until(() => processState(redis.pid!) === 'T', 10_000, 'the server stopped');
      const slow = link.check();
      await new Promise((r) => setTimeout(r, 1500));
      redis.signal('SIGCONT');
      const slowCheck = await slow;
      assert.equal(slowCheck.up, true, slowCheck.reason);
      assert.equal(slowCheck.degraded, true, `latency ${slowCheck.latencyMs} ms`);
      assert.match(slowCheck.reason ?? '', /PING took \d+ ms \(over 1000 ms\)/);
    } finally {
      redis.signal('SIGCONT');
      link.close();
      await redis.dispose();
    }
  });
});
