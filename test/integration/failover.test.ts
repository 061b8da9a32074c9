import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import type { StateEvent } from '../../src/core/storage/storeState';
import { RedisJournalReader } from '../../src/core/storage/redisJournalReader';
import { freePort } from '../helpers/ports';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { JournalWriter, createStudyRecord } from '../helpers/journalWriter';
import { nextState, until } from '../helpers/waitFor';

/** Handles a test leaves behind keep mocha alive; compare counts before and after. */
function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('failover store against real redis-server processes', function () {
  this.timeout(120_000);
  let dir: string;
  let fallback: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-failover-'));
    fallback = path.join(dir, 'fallback.db');
    await runPython('small_db.py', [fallback]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A persistent server (AOF, fsync always) so a SIGKILL loses no acknowledged append. */
  const persistent = () =>
    RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });

  it('SIGKILL: serves SQLite within 1 s, returns to Redis within 2 s of the restart, resumes incrementally', async () => {
    const redis = await persistent();
    const writer = new JournalWriter(redis.url, 'opt');
    await writer.append([createStudyRecord('live')]);
    for (let i = 0; i < 20; i++) await writer.writeTrial();
    const store = new FailoverStore({
      redisUrl: redis.url,
      prefixes: ['opt'],
      sqlitePath: fallback,
    });
    const events: StateEvent[] = [];
    store.on('state', (e) => events.push(e));
    try {
      assert.equal((await store.start()).state, 'redis');
      await store.refresh();
      writer.startSteady(20);
      await until(() => writer.trialsWritten >= 30, 10_000, 'writes');

      const killedAt = Date.now();
      await redis.kill();
      const down = await nextState(store, 'sqlite', 5_000);
      const failoverMs = down.at - killedAt;
      await store.refresh(); // serves SQLite; the journal is where it stopped
      assert.ok(
        store.studies().some((s) => s.name === 'small' && s.sqlite),
        'SQLite studies are shown',
      );
      assert.ok(
        store.studies().some((s) => s.name === 'live' && s.redis),
        'Redis studies read before the outage stay visible',
      );

      const entriesBefore = store.studies().find((s) => s.name === 'live')!.trials.length;
      const restartedAt = Date.now();
      await redis.start();
      const up = await nextState(store, 'redis', 10_000);
      const recoveryMs = up.at - restartedAt;
      await until(
        () => writer.trialsWritten >= entriesBefore + 10,
        10_000,
        'writes after recovery',
      );
      writer.stop();
      await new Promise((r) => setTimeout(r, 100));
      const res = await store.refresh();

      // Incremental: the refresh after recovery read only what was appended since the last read.
      const c = redis.client();
      const total = Number(await c.get('opt:log_number')) + 1;
      c.disconnect();
      const freshClient = redis.client();
      const fresh = new RedisJournalReader(freshClient, 'opt');
      await fresh.refresh();
      freshClient.disconnect();
      const live = store.studies().find((s) => s.name === 'live')!;
      assert.deepEqual(
        live.trials.map((t) => t.trial.number),
        fresh.replay.allStudies()[0].trials.map((t) => t.number),
        'no duplicated or missing trials',
      );
      assert.equal(live.trials.length, writer.trialsWritten);
      assert.ok(
        res.redisEntries < total,
        `refresh after recovery read ${res.redisEntries} of ${total} entries: incremental`,
      );
      console.log(
        `      failover ${failoverMs} ms, recovery ${recoveryMs} ms, trials ${live.trials.length}, entries re-read after recovery ${res.redisEntries}/${total}`,
      );
      assert.ok(failoverMs < 1000, `failover took ${failoverMs} ms`);
      assert.ok(recoveryMs < 2000, `recovery took ${recoveryMs} ms`);
      assert.deepEqual(
        events.map((e) => e.state),
        ['redis', 'sqlite', 'redis'],
      );
    } finally {
      writer.close();
      store.close();
      await redis.dispose();
    }
  });

  it('SIGSTOP: a frozen server is noticed within 1 s; SIGCONT brings the store back', async () => {
    const redis = await RedisServer.start();
    const store = new FailoverStore({ redisUrl: redis.url, prefixes: [''], sqlitePath: fallback });
    try {
      await store.start();
      const stoppedAt = Date.now();
      redis.signal('SIGSTOP');
      const down = await nextState(store, 'sqlite', 5_000);
      assert.match(down.detail, /not answering|no answer to PING/);
      const contAt = Date.now();
      redis.signal('SIGCONT');
      const up = await nextState(store, 'redis', 10_000);
      console.log(
        `      SIGSTOP noticed in ${down.at - stoppedAt} ms, back ${up.at - contAt} ms after SIGCONT`,
      );
      assert.ok(down.at - stoppedAt < 1000);
      assert.ok(up.at - contAt < 2000);
    } finally {
      store.close();
      await redis.dispose();
    }
  });

  it('a refresh in flight when Redis freezes returns as soon as the freeze is noticed, not at the command timeout', async () => {
    const redis = await RedisServer.start();
    const store = new FailoverStore({
      redisUrl: redis.url,
      prefixes: [''],
      sqlitePath: fallback,
      settings: { socketTimeout: 10 },
    });
    try {
      await store.start();
      redis.signal('SIGSTOP');
      const t0 = Date.now();
      const r = await store.refresh();
      const took = Date.now() - t0;
      assert.ok(took < 2000, `refresh took ${took} ms (command timeout 10 s)`);
      assert.equal(store.state.state, 'sqlite');
      assert.ok(r.errors.length > 0);
    } finally {
      redis.signal('SIGCONT');
      store.close();
      await redis.dispose();
    }
  });

  it('refused connections from the start, no fallback file: offline, then redis when it starts', async () => {
    const port = await freePort();
    const store = new FailoverStore({
      redisUrl: `redis://127.0.0.1:${port}`,
      sqlitePath: path.join(dir, 'missing.db'),
    });
    const redis = new RedisServer({ port });
    try {
      const first = await store.start();
      assert.equal(first.state, 'offline');
      assert.match(first.detail, /refused the connection.*does not exist yet/);
      await redis.start();
      await nextState(store, 'redis', 10_000);
      await store.refresh();
      assert.deepEqual(store.studies(), []);
    } finally {
      store.close();
      await redis.dispose();
    }
  });

  it('reads fail fast while Redis is down, and a wrong password never shows in the state', async () => {
    const redis = await RedisServer.start({ password: 'right-pw' });
    const store = new FailoverStore({
      redisUrl: redis.url,
      password: 'wrong-pw-42',
      sqlitePath: fallback,
    });
    try {
      const first = await store.start();
      assert.equal(first.state, 'sqlite');
      assert.match(first.detail, /refused the credentials/);
      assert.doesNotMatch(first.detail, /wrong-pw-42|right-pw/);
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) await store.refresh();
      assert.ok(Date.now() - t0 < 1000, `20 refreshes while down took ${Date.now() - t0} ms`);
    } finally {
      store.close();
      await redis.dispose();
    }
  });

  it('one connection for reads: connected_clients stays flat over 200 refreshes', async () => {
    const redis = await RedisServer.start();
    const writer = new JournalWriter(redis.url, 'p');
    await writer.append([createStudyRecord('s')]);
    const admin = redis.client();
    const clients = async () =>
      Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))![1]);
    const store = new FailoverStore({ redisUrl: redis.url, sqlitePath: fallback });
    try {
      await store.start();
      await store.refresh();
      const base = await clients();
      for (let i = 0; i < 200; i++) {
        if (i % 10 === 0) await writer.writeTrial();
        await store.refresh({ rediscover: i % 50 === 0 });
      }
      assert.equal(await clients(), base);
      assert.equal(store.studies().find((s) => s.name === 's')!.trials.length, 20);
    } finally {
      writer.close();
      admin.disconnect();
      store.close();
      await redis.dispose();
    }
  });

  it('a study split by an outage shows trials from both sources, labelled, none counted twice', async () => {
    const redis = await RedisServer.start();
    const db = path.join(dir, 'split.db');
    const store = new FailoverStore({ redisUrl: redis.url, prefixes: ['exp'], sqlitePath: db });
    try {
      const { before, during } = JSON.parse(
        await runPython('split_study.py', [
          '--redis',
          redis.url,
          '--prefix',
          'exp',
          '--sqlite',
          db,
        ]),
      );
      await store.start();
      await store.refresh();
      const split = store.studies().filter((s) => s.name === 'split');
      assert.equal(split.length, 1, 'one merged study');
      const sources = split[0].trials.map((t) => t.source);
      assert.equal(split[0].trials.length, before + during);
      assert.equal(
        sources.filter((s) => s === 'both').length,
        before,
        'trials copied into SQLite are matched, not doubled',
      );
      assert.equal(sources.filter((s) => s === 'sqlite').length, during);
    } finally {
      store.close();
      await redis.dispose();
    }
  });

  it('closing the store leaves no sockets or timers behind', async () => {
    const redis = await RedisServer.start();
    await new Promise((r) => setTimeout(r, 200)); // let earlier tests' sockets finish closing
    const before = activeHandles();
    const store = new FailoverStore({ redisUrl: redis.url, sqlitePath: fallback });
    await store.start();
    await store.refresh();
    store.close();
    await new Promise((r) => setTimeout(r, 200));
    const after = activeHandles();
    for (const [kind, n] of Object.entries(after))
      assert.ok(
        n <= (before[kind] ?? 0),
        `${kind}: ${n} after close, ${before[kind] ?? 0} before start`,
      );
    await redis.dispose();
  });

  it('`optuna-storage watch --json` prints the initial state and each change, exits 0 on SIGINT', async () => {
    const redis = await persistent();
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    const proc = spawn(
      process.execPath,
      [cli, 'watch', '--redis', redis.url, '--sqlite', fallback, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    const lines = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { state: string; at: number; detail: string });
    try {
      await until(() => lines().length >= 1, 10_000, 'first line');
      await redis.kill();
      await until(() => lines().length >= 2, 10_000, 'sqlite line');
      await redis.start();
      await until(() => lines().length >= 3, 10_000, 'redis line');
      const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
      proc.kill('SIGINT');
      assert.equal(await exit, 0);
      const ls = lines();
      assert.deepEqual(
        ls.map((l) => l.state),
        ['redis', 'sqlite', 'redis'],
      );
      for (const l of ls) {
        assert.deepEqual(Object.keys(l), ['state', 'at', 'detail']);
        assert.ok(Number.isInteger(l.at) && Math.abs(l.at - Date.now()) < 60_000);
      }
      assert.match(ls[1].detail, /serving the SQLite fallback/);
    } finally {
      proc.kill('SIGKILL');
      await redis.dispose();
    }
  });
});
