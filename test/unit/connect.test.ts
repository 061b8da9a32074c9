import * as assert from 'node:assert/strict';
import { parseSentinelList, redisOptions } from '../../src/core/redis/connect';
import { classifyRedisError } from '../../src/core/redis/connectError';
import { parseRedisUrl, redactUrl, splitPassword } from '../../src/core/redis/url';

describe('Redis connection settings', () => {
  it('parses the URL forms users write', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), {
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      tls: false,
      username: undefined,
      password: undefined,
    });
    assert.deepEqual(parseRedisUrl('rediss://alice:p%40ss@redis.example:6380/3'), {
      host: 'redis.example',
      port: 6380,
      db: 3,
      tls: true,
      username: 'alice',
      password: 'p@ss',
    });
    assert.equal(parseRedisUrl('redis://:secret@[::1]:7000').host, '::1');
    assert.throws(() => parseRedisUrl('redis://h/x'), /invalid Redis database index "x"/);
    assert.throws(() => parseRedisUrl('http://h'), /not a Redis URL/);
  });

  it('takes a password holding / @ # : % as written, and hides it whether or not the URL parses', () => {
    const pw = 'a/b@c#d:e%zz%40';
    const e = parseRedisUrl(`redis://user:${pw}@h:7/2`);
    assert.deepEqual(
      [e.username, e.password, e.host, e.port, e.db],
      ['user', 'a/b@c#d:e%zz@', 'h', 7, 2],
    );
    for (const url of [
      `redis://:${pw}@h:1`,
      `redis:/:${pw}@h:1`,
      `redis:${pw}@h`,
      `redis://${pw}@h`,
      `redis://:${pw}@h:99999`,
      `text before redis://u:${pw}@h`,
    ]) {
      assert.ok(!redactUrl(url).includes('a/b'), redactUrl(url));
      assert.ok(!redactUrl(url).includes('c#d'), redactUrl(url));
      try {
        parseRedisUrl(url);
      } catch (err) {
        assert.ok(!(err as Error).message.includes('a/b'), (err as Error).message);
        assert.ok(!(err as Error).message.includes('zz'), (err as Error).message);
      }
    }
    assert.throws(() => parseRedisUrl(`redis:/:${pw}@h:1`), /not a Redis URL/);
    assert.throws(() => parseRedisUrl('redis://h:1/0?x=1'), /nothing after the db number/);
    assert.equal(redactUrl('redis://alice:pw@h'), 'redis://alice:***@h');
    assert.deepEqual(splitPassword(`redis://alice:${pw}@h:1/0`), {
      url: 'redis://alice@h:1/0',
      password: 'a/b@c#d:e%zz@',
    });
  });

  it('never shows a password', () => {
    assert.equal(redactUrl('redis://:secret@h:1/0'), 'redis://***@h:1/0');
    assert.equal(redactUrl('rediss://bob:secret@h'), 'rediss://bob:***@h');
    assert.throws(
      () => parseRedisUrl('ftp://u:topsecret@h'),
      (e: Error) => !e.message.includes('topsecret'),
    );
    const auth = classifyRedisError(
      new Error('WRONGPASS invalid username-password pair'),
      'redis://h:1',
    );
    assert.equal(auth.failure, 'auth');
    assert.doesNotMatch(auth.message, /secret/);
  });

  it('reconnects with capped exponential back-off and jitter, and fails fast while disconnected', () => {
    const o = redisOptions(parseRedisUrl('redis://h'), {
      reconnect: true,
      settings: { retryBaseMs: 100, retryMaxMs: 1000 },
    });
    assert.equal(o.enableOfflineQueue, false);
    assert.equal(o.maxRetriesPerRequest, 0);
    const delays = (n: number) => Array.from({ length: 200 }, () => o.retryStrategy!(n) as number);
    for (const [attempt, cap] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1000],
      [30, 1000],
    ]) {
      const d = delays(attempt);
      assert.ok(
        d.every((x) => x >= cap / 2 && x <= cap),
        `attempt ${attempt}: ${Math.min(...d)}..${Math.max(...d)} outside ${cap / 2}..${cap}`,
      );
      assert.ok(new Set(d).size > 10, 'jittered');
    }
    assert.equal(
      redisOptions(parseRedisUrl('redis://h')).retryStrategy!(1),
      null,
      'one-shot clients do not retry',
    );
  });

  it('maps the redis-py style timeouts', () => {
    const o = redisOptions(parseRedisUrl('redis://h'), {
      settings: { socketTimeout: 3, socketConnectTimeout: 1.5 },
    });
    assert.equal(o.commandTimeout, 3000);
    assert.equal(o.connectTimeout, 1500);
  });

  it('parses sentinel lists', () => {
    assert.deepEqual(parseSentinelList('10.0.0.1:26379, 10.0.0.2:26380'), [
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
    ]);
    assert.throws(() => parseSentinelList('nohost'), /expected host:port/);
  });
});
