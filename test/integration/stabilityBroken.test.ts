import * as assert from 'node:assert/strict';
import { runSuite } from '../../src/core/stability';
import { runCli } from '../helpers/cli';
import { freePort } from '../helpers/ports';
import { RedisServer } from '../helpers/redisServer';

describe('stability suite against broken servers', function () {
  this.timeout(60_000);

  it('an evicting server (small maxmemory, allkeys-lru, pre-filled): the data scenarios fail naming evicted and missing entries', async () => {
    const server = await RedisServer.start();
    const c = server.client();
    try {
      const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
      await c.config('SET', 'maxmemory', String(used + 512 * 1024));
      await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
      for (let i = 0; i < 100; i++) await c.set(`cache:${i}`, 'x'.repeat(4000));
      const r = await runSuite({
        redisUrl: server.url,
        only: ['basic-connection', 'single-study', 'concurrent-studies', 'high-concurrency'],
        singleStudyTrials: 150,
        connectAttempts: 10,
        pings: 10,
        jobs: 8,
        trials: 200,
      });
      const s = Object.fromEntries(r.scenarios.map((x) => [x.id, x]));
      assert.equal(s['basic-connection'].status, 'passed');
      assert.match(
        s['basic-connection'].message,
        /warning: maxmemory-policy allkeys-lru lets Redis evict journal entries/,
      );
      assert.equal(s['basic-connection'].metrics.maxmemory_policy, 'allkeys-lru');
      for (const id of ['single-study', 'concurrent-studies']) {
        assert.equal(s[id].status, 'failed', `${id}: ${s[id].message}`);
        assert.match(s[id].message, /missing/, id);
        assert.match(
          s[id].message,
          /the server evicted \d+ keys meanwhile \(maxmemory-policy allkeys-lru\): an Optuna journal needs maxmemory-policy noeviction/,
          id,
        );
      }
      assert.equal(s['high-concurrency'].status, 'failed');
      assert.match(s['high-concurrency'].message, /evicted|missing|OOM/);
    } finally {
      c.disconnect();
      await server.dispose();
    }
  });

  it('nothing listening: basic-connection fails with the reason, the rest is skipped, exit 3, quickly', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await runCli(['suite', '--redis', `redis://127.0.0.1:${port}`, '--json']);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(Date.now() - t0 < 5000);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.scenarios.map((s: { status: string }) => s.status),
      ['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped'],
    );
    assert.equal(
      doc.scenarios[0].message,
      `Redis at redis://127.0.0.1:${port} refused the connection: is redis-server running on that port?`,
    );
    assert.match(doc.scenarios[3].message, /^not run: Redis at .* refused the connection/);
    assert.equal(doc.scenarios[0].metrics.connection_success_rate, 0);
    const human = await runCli(['suite', '--redis', `redis://127.0.0.1:${port}`]);
    assert.equal(human.status, 3);
    assert.match(human.stdout, /✘ FAIL basic-connection: Redis at .* refused the connection/);
  });

  it('wrong password: exit 2, the password never printed; the right one from the environment works', async () => {
    const server = await RedisServer.start({ password: 's3cret-pw' });
    try {
      const bad = await runCli(
        ['suite', '--redis', server.url, '--only', 'basic-connection', '--json'],
        { OPTUNA_STORAGE_REDIS_PASSWORD: 'wrong-pw-77' },
      );
      assert.equal(bad.status, 2);
      assert.match(JSON.parse(bad.stdout).scenarios[0].message, /refused the credentials/);
      assert.doesNotMatch(bad.stdout + bad.stderr, /wrong-pw-77|s3cret-pw/);
      const good = await runCli(
        ['suite', '--redis', server.url, '--only', 'basic-connection,single-study', '--json'],
        { OPTUNA_STORAGE_REDIS_PASSWORD: 's3cret-pw' },
      );
      assert.equal(good.status, 0, good.stdout);
      const doc = JSON.parse(good.stdout);
      assert.equal(doc.scenarios[0].metrics.auth, true);
      assert.doesNotMatch(good.stdout, /s3cret-pw/);
    } finally {
      await server.dispose();
    }
  });

  it('bad arguments: exit 2 with the reason', async () => {
    for (const [args, msg] of [
      [['suite'], /needs --redis URL/],
      [['suite', '--redis', 'http://x'], /not a Redis URL/],
      [
        ['suite', '--redis', 'redis://h', '--jobs', '0'],
        /--jobs must be a whole number from 1 to 1000/,
      ],
      [
        ['suite', '--redis', 'redis://h', '--only', 'basic,failover'],
        /--only: unknown scenario basic \(known: basic-connection/,
      ],
      [['suite', '--redis', 'redis://h', '--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, msg);
    }
  });

  it("the user's server killed during high-concurrency: fails with a clear message, no hang, no unhandled rejection", async () => {
    const server = await RedisServer.start();
    const logs: string[] = [];
    try {
      const t0 = Date.now();
      let killedAt = 0;
      const r = await runSuite(
        {
          redisUrl: server.url,
          only: ['high-concurrency'],
          jobs: 10,
          trials: 1_000_000,
          appendRetryMs: 1000,
        },
        {
          onLog: (line) => {
            logs.push(line);
            if (/workers connected/.test(line)) {
              setTimeout(() => {
                killedAt = Date.now();
                void server.kill();
              }, 300);
            }
          },
        },
      );
      const hc = r.scenarios[0];
      assert.ok(killedAt > 0);
      assert.equal(hc.status, 'failed');
      assert.match(
        hc.message,
        /^10 of 10 workers stopped \(\d+ trials finished before that\): Redis at redis:\/\/127\.0\.0\.1:\d+ (refused the connection|is not answering).*gave up after retrying for 1\.0 s/,
      );
      assert.match(
        hc.message,
        /the trials could not be read back: Redis at redis:\/\/127\.0\.0\.1:\d+ (refused the connection|is not answering)/,
      );
      assert.ok((hc.metrics.trials_finished as number) > 0);
      assert.ok(Date.now() - killedAt < 10_000, `ended ${Date.now() - killedAt} ms after the kill`);
      assert.match(
        r.cleanup.errors.join('\n'),
        /removing this run's keys .*will be removed by the next run\): Redis at /,
      );
      assert.ok(Date.now() - t0 < 20_000);
    } finally {
      await server.dispose();
    }
  });
});
