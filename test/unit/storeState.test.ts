import * as assert from 'node:assert/strict';
import type { LinkStatus } from '../../src/core/redis/link';
import {
  type SourceStatus,
  type StateEvent,
  type StoreInputs,
  deriveState,
  startingState,
  transition,
} from '../../src/core/storage/storeState';

const WHERE = 'redis://127.0.0.1:6390';
const FILE = '/data/optuna_fallback.db';
const up = (latencyMs = 1.25): LinkStatus => ({
  up: true,
  degraded: false,
  latencyMs,
  checkedAt: 0,
});
const slow: LinkStatus = {
  up: true,
  degraded: true,
  latencyMs: 250,
  reason: 'PING took 250 ms (over 100 ms)',
  checkedAt: 0,
};
const down = (reason = `Redis at ${WHERE} refused the connection`): LinkStatus => ({
  up: false,
  degraded: false,
  reason,
  cause: 'refused',
  checkedAt: 0,
});
const wrongPassword: LinkStatus = {
  up: false,
  degraded: false,
  reason: `Redis at ${WHERE} refused the credentials`,
  cause: 'auth',
  checkedAt: 0,
};
const ok: SourceStatus = { ok: true };
const missing: SourceStatus = {
  ok: false,
  problem: 'file-missing',
  message: `the SQLite fallback ${FILE} does not exist yet`,
};
const unreadable: SourceStatus = {
  ok: false,
  problem: 'file-unreadable',
  message: 'the SQLite fallback cannot be read: not a database',
};

function inputs(link: LinkStatus | undefined, fallback: SourceStatus | undefined): StoreInputs {
  return {
    redis: link && { where: WHERE, status: link },
    fallback: fallback && { path: FILE, status: fallback },
  };
}

/** Derives the state for `from` at time 1, then moves to `to` at time 2. */
function step(from: StoreInputs | 'starting', to: StoreInputs) {
  const prev: StateEvent = from === 'starting' ? startingState(0) : deriveState(from, 1);
  return { prev, ...transition(prev, to, 2) };
}

describe('failover store state machine (pure transitions)', () => {
  it('starting → redis: healthy, with the PING latency', () => {
    const { next, news } = step('starting', inputs(up(), ok));
    assert.equal(news, 'state');
    assert.equal(next.state, 'redis');
    assert.equal(next.at, 2);
    assert.equal(next.detail, `${WHERE} answered PING in 1.3 ms`);
  });

  it('starting → redis, degraded: slow PINGs', () => {
    const { next, news } = step('starting', inputs(slow, ok));
    assert.equal(news, 'state');
    assert.deepEqual([next.state, next.degraded], ['redis', true]);
    assert.equal(next.detail, `${WHERE} is slow: PING took 250 ms (over 100 ms)`);
  });

  it('starting → sqlite: Redis down, the fallback file is there', () => {
    const { next } = step('starting', inputs(down(), ok));
    assert.deepEqual([next.state, next.cause], ['sqlite', 'refused']);
    assert.equal(
      next.detail,
      `Redis at ${WHERE} refused the connection; serving the SQLite fallback ${FILE}`,
    );
  });

  it('starting → sqlite: no Redis configured, the file is the store', () => {
    const { next } = step('starting', inputs(undefined, ok));
    assert.deepEqual([next.state, next.cause], ['sqlite', 'not-configured']);
    assert.equal(next.detail, `serving the SQLite file ${FILE} (no Redis configured)`);
  });

  it('starting → offline: Redis down and no fallback configured', () => {
    const { next } = step('starting', inputs(down(), undefined));
    assert.equal(next.state === 'offline' && next.fallback, 'not-configured');
    assert.equal(next.cause, 'refused');
    assert.match(next.detail, /refused the connection; no SQLite fallback file is configured$/);
  });

  it('starting → offline: Redis down and the fallback file not created yet', () => {
    const { next } = step('starting', inputs(down(), missing));
    assert.equal(next.state === 'offline' && next.fallback, 'file-missing');
    assert.match(next.detail, /refused the connection; .*does not exist yet$/);
  });

  it('redis → redis with another latency: not news, the state keeps its start time', () => {
    const { next, news } = step(inputs(up(1), ok), inputs(up(3), ok));
    assert.equal(news, undefined);
    assert.equal(next.at, 1);
    assert.equal(next.state === 'redis' && next.latencyMs, 3);
  });

  it('redis → redis degraded, and back: both new states', () => {
    const slower = step(inputs(up(), ok), inputs(slow, ok));
    assert.equal(slower.news, 'state');
    assert.equal(slower.next.degraded, true);
    const back = step(inputs(slow, ok), inputs(up(), ok));
    assert.equal(back.news, 'state');
    assert.equal(back.next.degraded, false);
  });

  it('redis → sqlite when Redis goes away and the fallback is there', () => {
    const { next, news } = step(inputs(up(), ok), inputs(down(), ok));
    assert.equal(news, 'state');
    assert.equal(next.state, 'sqlite');
  });

  it('redis → offline when Redis goes away and the fallback cannot be read', () => {
    const { next } = step(inputs(up(), unreadable), inputs(down(), unreadable));
    assert.equal(next.state === 'offline' && next.fallback, 'file-unreadable');
    assert.match(next.detail, /; the SQLite fallback cannot be read: not a database$/);
  });

  it('sqlite → redis when Redis answers again', () => {
    const { next, news } = step(inputs(down(), ok), inputs(up(), ok));
    assert.equal(news, 'state');
    assert.equal(next.state, 'redis');
  });

  it('sqlite → sqlite: a new cause (wrong password) is news for the views, new wording is not', () => {
    const auth = step(inputs(down(), ok), inputs(wrongPassword, ok));
    assert.equal(auth.news, 'cause');
    assert.equal(auth.next.cause, 'auth');
    assert.equal(auth.next.at, 1, 'the same state: it began before');
    const reworded = step(inputs(down(), ok), inputs(down('no answer to PING within 500 ms'), ok));
    assert.equal(reworded.news, undefined);
    assert.equal(reworded.next.at, 1);
    assert.match(reworded.next.detail, /^no answer to PING/);
  });

  it('sqlite → offline when the fallback file turns unreadable', () => {
    const { next, news } = step(inputs(down(), ok), inputs(down(), unreadable));
    assert.equal(news, 'state');
    assert.equal(next.state, 'offline');
  });

  it('offline → sqlite when the optimizers create the fallback file', () => {
    const { next, news } = step(inputs(down(), missing), inputs(down(), ok));
    assert.equal(news, 'state');
    assert.equal(next.state, 'sqlite');
  });

  it('offline → redis when Redis starts', () => {
    const { next, news } = step(inputs(down(), missing), inputs(up(), missing));
    assert.equal(news, 'state');
    assert.equal(next.state, 'redis');
  });

  it('offline → offline: the fallback going from missing to unreadable is news for the views', () => {
    const { next, news } = step(inputs(down(), missing), inputs(down(), unreadable));
    assert.equal(news, 'cause');
    assert.equal(next.state === 'offline' && next.fallback, 'file-unreadable');
  });
});
