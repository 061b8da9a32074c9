import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSuite } from '../../src/core/stability';
import { TEMP_DIR_PREFIX, suiteTempRoot } from '../../src/core/stability/suiteTempDirs';
import { RedisServer } from '../helpers/redisServer';

/**
 * The attack of issue #17: another local user plants a crashed-run folder whose server.json
 * names the pid and port of someone's live redis-server; the next suite run must leave that
 * server running with its data, wherever the folder was planted.
 */
describe('stability suite: planted temp folders never get a live redis-server killed', function () {
  this.timeout(60_000);
  let target: RedisServer; // the Redis the suite tests
  let victim: RedisServer; // "the user's production Redis"
  let tmp: string;
  before(async () => {
    target = await RedisServer.start();
    victim = await RedisServer.start({ password: 'victim-pw' });
    const c = victim.client();
    await c.set('precious', 'data');
    c.disconnect();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-plant-'));
  });
  after(async () => {
    await target?.dispose();
    await victim?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function plant(dir: string): void {
    fs.mkdirSync(path.join(dir, 'redis-failover'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 4242 }));
    fs.writeFileSync(
      path.join(dir, 'redis-failover', 'server.json'),
      JSON.stringify({ pid: victim.pid, port: victim.port }),
    );
    fs.writeFileSync(
      path.join(dir, 'redis-failover', 'redis.pid'),
      `${victim.pid}\n`, // redis-server's own pidfile name
    );
  }

  async function victimSurvived(): Promise<void> {
    const pid = victim.pid;
    assert.ok(pid, 'the victim redis-server process is still running');
    assert.ok(fs.existsSync(`/proc/${pid}`));
    const c = victim.client();
    try {
      assert.equal(await c.get('precious'), 'data');
    } finally {
      c.disconnect();
    }
  }

  it('ignores a folder planted in the shared temp directory', async () => {
    plant(path.join(tmp, `${TEMP_DIR_PREFIX}20200101T000000Z-plant1`));
    const r = await runSuite({ redisUrl: target.url, only: ['basic-connection'], tmpDir: tmp });
    assert.equal(r.scenarios[0].status, 'passed', r.scenarios[0].message);
    assert.equal(r.cleanup.staleTempDirs, 0);
    await victimSurvived();
    // Not ours to remove either.
    assert.ok(fs.existsSync(path.join(tmp, `${TEMP_DIR_PREFIX}20200101T000000Z-plant1`)));
  });

  it('removes a stale folder inside its private folder but kills no server it did not start', async () => {
    const root = suiteTempRoot(tmp).dir!;
    plant(path.join(root, `${TEMP_DIR_PREFIX}20200101T000000Z-plant2`));
    const r = await runSuite({ redisUrl: target.url, only: ['basic-connection'], tmpDir: tmp });
    assert.equal(r.cleanup.staleTempDirs, 1);
    assert.ok(!fs.existsSync(path.join(root, `${TEMP_DIR_PREFIX}20200101T000000Z-plant2`)));
    await victimSurvived();
  });

  it('does not trust a private folder name taken by a folder open to others', async () => {
    const root = suiteTempRoot(tmp).dir!;
    plant(path.join(root, `${TEMP_DIR_PREFIX}20200101T000000Z-plant3`));
    fs.chmodSync(root, 0o777);
    try {
      const logs: string[] = [];
      const r = await runSuite(
        { redisUrl: target.url, only: ['basic-connection'], tmpDir: tmp },
        { onLog: (l) => logs.push(l) },
      );
      assert.equal(r.scenarios[0].status, 'passed', r.scenarios[0].message);
      assert.equal(r.cleanup.staleTempDirs, 0);
      assert.ok(logs.some((l) => /not cleaning up earlier runs: .*open to other users/.test(l)));
      assert.ok(fs.existsSync(path.join(root, `${TEMP_DIR_PREFIX}20200101T000000Z-plant3`)));
      await victimSurvived();
    } finally {
      fs.chmodSync(root, 0o700);
    }
  });

  it("the disposable server's password is not on its command line", async () => {
    let seen: string | undefined;
    let password: string | undefined;
    const r = await runSuite(
      { redisUrl: target.url, only: ['failover'], tmpDir: tmp },
      {
        onLog: () => {
          // While the scenario runs, read every redis-server command line under our folder.
          if (seen !== undefined) return;
          const root = suiteTempRoot(tmp).dir!;
          for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
            try {
              if (!fs.readlinkSync(`/proc/${d}/cwd`).startsWith(root)) continue;
              seen = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
              const conf = path.join(fs.readlinkSync(`/proc/${d}/cwd`), 'suite-auth.conf');
              password = /requirepass "?([^"\n]+)/.exec(fs.readFileSync(conf, 'utf8'))?.[1];
              assert.equal(fs.statSync(conf).mode & 0o777, 0o600);
            } catch {
              // not a process we can read
            }
          }
        },
      },
    );
    assert.notEqual(r.scenarios[0].status, 'failed', r.scenarios[0].message);
    assert.ok(seen !== undefined && password, 'the disposable server was observed');
    assert.ok(!seen.includes(password), `argv: ${seen}`);
    assert.ok(!/requirepass/.test(seen), `argv: ${seen}`);
  });
});
