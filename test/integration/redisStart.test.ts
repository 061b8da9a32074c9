// `optuna-storage start` over deployments made in temp dirs on free loopback ports.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { assertSameDump } from '../helpers/compareDumps';
import {
  client,
  deploy,
  deployWithOptunaJournal,
  serverPid,
  shutDown,
  stopDeployed,
} from '../helpers/deployed';
import { JournalWriter, createStudyRecord } from '../helpers/journalWriter';
import { freePort } from '../helpers/ports';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

describe('start the deployed Redis (real redis-server)', function () {
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-start-'));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('brings a shut-down deployment back with its journal intact (Optuna reads it), once', async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port));
    const { url, target, optunaView: before } = await deployWithOptunaJournal(dir, port, 'fx');
    await shutDown(port);
    // A restarted container keeps the data disk but may lose /var/run and /var/log.
    fs.rmSync(path.join(dir, 'run'), { recursive: true });
    fs.rmSync(path.join(dir, 'log'), { recursive: true });

    const r = await runCli(['start', '--target', target]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stderr, /validated .* on a scratch port/);
    assert.match(r.stdout, new RegExp(`is up on redis://127\\.0\\.0\\.1:${port}`));
    assert.match(r.stdout, /prefix "fx": [\d,]+ entries/);
    assertSameDump(await runPython('optuna_dump.py', [url, '--prefix', 'fx']), before, 'Optuna');
    assert.ok(fs.existsSync(path.join(dir, 'run', 'redis.pid')), 'pid file written again');
    assert.ok(fs.existsSync(path.join(dir, 'log', 'redis.log')), 'log written again');

    const pid = await serverPid(port);
    const again = await runCli(['start', '--target', target]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /already running from .*Nothing was started/);
    assert.equal(await serverPid(port), pid, 'the same server, no second one');
  });

  it('refuses when another server answers on the port, and leaves it alone', async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port));
    const target = await deploy(dir, port);
    await shutDown(port);
    const other = await RedisServer.start({ port });
    cleanups.push(() => other.dispose());
    const c = other.client();
    try {
      await c.set('mine', '1');
      const pid = await serverPid(port);
      const r = await runCli(['start', '--target', target]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /already answers: Redis [\d.]+ \(pid \d+, no config file\)/);
      assert.match(r.stderr, /never started on a port in use/);
      assert.equal(await serverPid(port), pid);
      assert.equal(await c.get('mine'), '1');
    } finally {
      c.disconnect();
    }
  });

  it('refuses while the redis-server of its pid file is alive, even on another port', async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port));
    const target = await deploy(dir, port);
    // The config now names another port; the server deployed on the old one still runs.
    const other = await freePort();
    fs.writeFileSync(
      target,
      fs.readFileSync(target, 'utf8').replace(new RegExp(`^port ${port}$`, 'm'), `port ${other}`),
    );
    const r = await runCli(['start', '--target', target]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /redis-server pid \d+ \(from \S+redis\.pid\) is alive but does not answer/,
    );
    await assert.rejects(client(other), 'nothing was started');
  });

  it('says what to do when nothing is deployed, and refuses an unmounted data dir', async () => {
    const none = await runCli(['start', '--target', path.join(dir, 'nothing.conf')]);
    assert.equal(none.status, 2);
    assert.match(
      none.stderr,
      /no deployed Redis configuration at .*nothing\.conf: deploy one first/,
    );

    const port = await freePort();
    cleanups.push(() => stopDeployed(port));
    const target = await deploy(dir, port);
    await shutDown(port);
    fs.renameSync(path.join(dir, 'data'), path.join(dir, 'data-unmounted'));
    const r = await runCli(['start', '--target', target]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /data directory \S+\/data of \S+ does not exist: is the data disk mounted\?/,
    );
    await assert.rejects(client(port), 'nothing was started');
    assert.ok(!fs.existsSync(path.join(dir, 'data')), 'the data dir was not created');
  });

  it('reports a config Redis refuses before starting anything', async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port));
    const target = await deploy(dir, port);
    await shutDown(port);
    const text = fs.readFileSync(target, 'utf8').split('\n');
    const at = text.findIndex((l) => l.startsWith('maxmemory-policy '));
    text[at] = 'maxmemory-policy allkeys-lruu';
    fs.writeFileSync(target, text.join('\n'));
    const r = await runCli(['start', '--target', target]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`line ${at + 1}: 'maxmemory-policy allkeys-lruu'`));
    await assert.rejects(client(port), 'nothing was started');
  });

  it("shows the log's last lines when Redis does not come up", async () => {
    const port = await freePort();
    cleanups.push(() => stopDeployed(port));
    const target = await deploy(dir, port);
    const w = new JournalWriter(`redis://127.0.0.1:${port}`, 'p');
    await w.append([createStudyRecord('s')]);
    w.close();
    await shutDown(port);
    // A damaged AOF manifest: Redis refuses to load it and exits.
    const manifest = path.join(dir, 'data', 'appendonlydir', 'appendonly.aof.manifest');
    fs.writeFileSync(manifest, 'file garbage seq x type q\n');
    const r = await runCli(['start', '--target', target]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /Last lines of .*redis\.log:[\s\S]*manifest/i);
  });

  it('loads an RDB-only data dir instead of starting empty, with the password of the config', async () => {
    const port = await freePort();
    const password = 'start-Secret-7';
    cleanups.push(() => stopDeployed(port, password));
    const env = { OPTUNA_STORAGE_REDIS_PASSWORD: password };
    const target = await deploy(dir, port, { env, args: ['--password-env'] });
    const c = await client(port, password);
    await c.set('survivor', 'yes');
    c.disconnect();
    await shutDown(port, password);
    // As if the server had run with appendonly no: only dump.rdb is left.
    fs.rmSync(path.join(dir, 'data', 'appendonlydir'), { recursive: true });

    const r = await runCli(['start', '--target', target, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes(password), 'password leaked');
    assert.match(r.stderr, /loaded dump\.rdb .* wrote the append-only file/);
    assert.equal(JSON.parse(r.stdout).url, `redis://127.0.0.1:${port}`);
    const c2 = await client(port, password);
    try {
      assert.equal(await c2.get('survivor'), 'yes');
      assert.equal(((await c2.config('GET', 'appendonly')) as string[])[1], 'yes');
    } finally {
      c2.disconnect();
    }
    assert.ok(fs.existsSync(path.join(dir, 'data', 'appendonlydir', 'appendonly.aof.manifest')));
  });
});
