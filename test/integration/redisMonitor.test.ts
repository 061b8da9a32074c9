import * as assert from 'node:assert/strict';
import { monitorSnapshot } from '../../src/core/redis/monitor';
import { runCli } from '../helpers/cli';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

describe('monitor snapshot of a real Redis with an Optuna journal', function () {
  let server: RedisServer;

  before(async () => {
    server = await RedisServer.start({
      args: ['--slowlog-log-slower-than', '0', '--latency-monitor-threshold', '1'],
    });
    await runPython('generate.py', ['--redis', server.url, '--prefix', 'fx']);
  });
  after(async () => {
    await server?.dispose();
  });

  it('reports clients, memory, persistence, keyspace, slow commands and per-journal health', async () => {
    const c = server.client();
    try {
      await c.call('CONFIG', 'SET', 'masterauth', 'never-Shown-9');
      const entries = Number(await c.get('fx:log_number')) + 1;
      let bytes = 0;
      for (let i = 0; i < entries; i++) bytes += await c.strlen(`fx:log:${i}`);
      const latest = JSON.parse((await c.get(`fx:log:${entries - 1}`))!) as { worker_id: string };

      const snap = await monitorSnapshot(c);
      assert.ok(snap.clients.connected >= 1);
      assert.equal(snap.clients.maxclients, 10000);
      assert.ok(snap.memory.used > 0 && snap.memory.peak >= snap.memory.used);
      assert.equal(snap.memory.policy, 'noeviction');
      assert.equal(snap.persistence.aofEnabled, false);
      assert.equal(snap.keyspace[0].db, 0);
      assert.ok(snap.keyspace[0].keys >= entries);
      assert.ok(snap.slowlog.length > 0 && snap.slowlog.every((e) => e.command.length > 0));
      assert.ok(
        !JSON.stringify(snap).includes('never-Shown-9'),
        'a secret from the slow log leaked',
      );

      assert.deepEqual(
        snap.journals.map((j) => j.prefix),
        ['fx'],
      );
      const j = snap.journals[0];
      assert.equal(j.entries, entries);
      assert.equal(j.bytes, bytes);
      assert.equal(j.bytesEstimated, false);
      assert.equal(j.gaps.missing, 0);
      assert.ok(
        j.writers.some((w) => w.workerId === latest.worker_id && w.lastIndex === entries - 1),
      );
      assert.ok(snap.warnings.some((w) => w.id === 'no-persistence' && w.severity === 'error'));

      // Bounded: a sample of sizes is extrapolated; a deleted entry shows up as a gap and a warning.
      await c.del('fx:log:5');
      const sampled = await monitorSnapshot(c, { bytesSample: 100, prefixes: ['fx'] });
      assert.equal(sampled.journals[0].bytesEstimated, true);
      assert.ok(
        Math.abs(sampled.journals[0].bytes - bytes) / bytes < 0.3,
        `${sampled.journals[0].bytes} vs ${bytes}`,
      );
      assert.deepEqual(sampled.journals[0].gaps.ranges, [[5, 5]]);
      assert.equal(sampled.warnings[0].id, 'journal-gaps');
    } finally {
      c.disconnect();
    }
  });

  it('prints one snapshot from the CLI, as text or JSON', async () => {
    const text = await runCli(['monitor', '--redis', server.url]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /journal "fx": \d+ entries/);
    const json = await runCli(['monitor', '--redis', server.url, '--json', '--prefix', 'fx']);
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      journals: Array<{ prefix: string }>;
      warnings: unknown[];
    };
    assert.deepEqual(
      doc.journals.map((j) => j.prefix),
      ['fx'],
    );
    assert.equal((await runCli(['monitor', '--redis', 'redis://127.0.0.1:1'])).status, 3);
  });
});
