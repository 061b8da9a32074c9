import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { FailoverStore } from '../../src/core/storage/failoverStore';
import { freePort } from '../helpers/ports';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { JournalWriter, createStudyRecord } from '../helpers/journalWriter';
import { nextState, until } from '../helpers/waitFor';

/** Three real redis-sentinel processes watching one master on loopback. */
class Sentinels {
  private readonly procs: ChildProcess[] = [];
  readonly ports: number[] = [];
  constructor(private readonly dir: string) {}

  async start(masterPort: number, count = 3): Promise<void> {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const conf = path.join(this.dir, `sentinel-${port}.conf`);
      fs.writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.dir}`,
          `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
          'sentinel down-after-milliseconds mymaster 1000',
          'sentinel failover-timeout mymaster 4000',
          'sentinel parallel-syncs mymaster 1',
          '',
        ].join('\n'),
      );
      this.procs.push(spawn('redis-sentinel', [conf], { stdio: 'ignore' }));
      this.ports.push(port);
    }
    for (const port of this.ports) {
      const c = new Redis({
        port,
        lazyConnect: true,
        retryStrategy: () => 50,
        maxRetriesPerRequest: 5,
      });
      c.on('error', () => undefined);
      await until(
        async () =>
          (await c.call('SENTINEL', 'get-master-addr-by-name', 'mymaster').catch(() => null)) !==
          null,
        10_000,
        `sentinel ${port}`,
      );
      c.disconnect();
    }
  }

  /** The master each sentinel names: right after a failover some may still name the old one. */
  async masterPorts(): Promise<number[]> {
    return Promise.all(
      this.ports.map(async (port) => {
        const c = new Redis({ port, maxRetriesPerRequest: 1 });
        try {
          const [, master] = (await c.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')) as [
            string,
            string,
          ];
          return Number(master);
        } finally {
          c.disconnect();
        }
      }),
    );
  }

  stop(): void {
    for (const p of this.procs) p.kill('SIGKILL');
  }
}

describe('failover store with Redis Sentinel', function () {
  this.timeout(120_000);
  let dir: string;
  let fallback: string;
  let master: RedisServer;
  let replica: RedisServer;
  let sentinels: Sentinels;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-sentinel-'));
    fallback = path.join(dir, 'fallback.db');
    await runPython('small_db.py', [fallback]);
    master = await RedisServer.start();
    replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    sentinels = new Sentinels(dir);
    await sentinels.start(master.port);
  });
  after(async () => {
    sentinels?.stop();
    await master?.dispose();
    await replica?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('follows the promoted replica after the master dies and reads the same journal on', async () => {
    const writer = new JournalWriter(master.url, 'opt');
    await writer.append([createStudyRecord('ha')]);
    for (let i = 0; i < 10; i++) await writer.writeTrial();
    const m = master.client();
    await m.call('WAIT', '1', '5000');
    m.disconnect();

    const store = new FailoverStore({
      redisUrl: 'redis://127.0.0.1',
      sentinel: {
        sentinels: sentinels.ports.map((port) => ({ host: '127.0.0.1', port })),
        name: 'mymaster',
      },
      prefixes: ['opt'],
      sqlitePath: fallback,
    });
    try {
      assert.equal((await store.start()).state, 'redis');
      await store.refresh();
      assert.equal(store.studies().find((s) => s.name === 'ha')!.trials.length, 10);

      const killedAt = Date.now();
      await master.kill();
      await nextState(store, 'sqlite', 5_000);
      const back = await nextState(store, 'redis', 30_000);
      // The store followed one sentinel's word; the others learn of the promotion within moments.
      await until(
        async () => (await sentinels.masterPorts()).every((p) => p === replica.port),
        10_000,
        'every sentinel to name the promoted replica',
      );
      console.log(
        `      master killed → store on the promoted replica after ${back.at - killedAt} ms`,
      );

      // The optimizers go on writing to the new master; the store reads on from where it was.
      const w2 = new JournalWriter(replica.url, 'opt', 10);
      for (let i = 0; i < 5; i++) await w2.writeTrial();
      w2.close();
      const res = await store.refresh();
      assert.equal(res.redisEntries, 10, 'only the 5 new trials (2 entries each) are read');
      const ha = store.studies().find((s) => s.name === 'ha')!;
      assert.deepEqual(
        ha.trials.map((t) => t.trial.number),
        Array.from({ length: 15 }, (_, i) => i),
      );
    } finally {
      writer.close();
      store.close();
    }
  });
});
