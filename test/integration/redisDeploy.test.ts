import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { client, deployArgs, stopDeployed } from '../helpers/deployed';
import { assertSameDump } from '../helpers/compareDumps';
import { freePort } from '../helpers/ports';
import { FIXTURES, runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

const SHIPPED = path.resolve(__dirname, '../../redis/redis-autodl-optimized.conf');

describe('deploy with real redis-server', function () {
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deploy-'));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replaces a running server holding an Optuna journal: the journal is intact and the new settings are live', async () => {
    const oldConf = path.join(dir, 'old.conf');
    fs.copyFileSync(path.join(FIXTURES, 'redis-common-bad.conf'), oldConf);
    const old = await RedisServer.start({ configFile: oldConf });
    cleanups.push(() => old.dispose());
    cleanups.push(() => stopDeployed(old.port));
    await runPython('generate.py', ['--redis', old.url, '--prefix', 'fx']);
    const before = await runPython('optuna_dump.py', [old.url, '--prefix', 'fx']);

    const r = await runCli(['deploy', ...deployArgs(dir, old.port), '--yes']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /CONFIG SET appendonly yes/);
    assert.match(r.stdout, /SHUTDOWN SAVE/);
    assert.match(r.stdout, /Redis answers PONG/);

    const c = await client(old.port);
    try {
      assert.equal(((await c.config('GET', 'maxmemory-policy')) as string[])[1], 'noeviction');
      assert.equal(((await c.config('GET', 'appendonly')) as string[])[1], 'yes');
      assert.equal(
        ((await c.config('GET', 'dir')) as string[])[1],
        fs.realpathSync(path.join(dir, 'data')),
      );
      assert.match(
        await c.info('server'),
        new RegExp(`config_file:${path.join(dir, 'etc', 'redis.conf')}`),
      );
    } finally {
      c.disconnect();
    }
    assertSameDump(
      await runPython('optuna_dump.py', [old.url, '--prefix', 'fx']),
      before,
      'Optuna after deploy',
    );
    assertSameDump(
      (await runCli(['dump', old.url, '--prefix', 'fx'])).stdout,
      before,
      'dump after deploy',
    );
    assert.ok(
      fs.existsSync(path.join(dir, 'data', 'appendonlydir')),
      'the AOF is in the new data dir',
    );

    // Twice is fine: nothing to change.
    const again = await runCli(['deploy', ...deployArgs(dir, old.port), '--yes']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /nothing to change/);
    assert.deepEqual(
      fs.readdirSync(path.join(dir, 'etc')),
      ['redis.conf'],
      'no backup of an unchanged config',
    );
  });

  it('reports the bad line of a broken config and leaves the running server untouched', async () => {
    const old = await RedisServer.start({});
    cleanups.push(() => old.dispose());
    const c = old.client();
    try {
      await c.set('keep', 'me');
      const pid = /process_id:(\d+)/.exec(await c.info('server'))![1];
      const broken = path.join(dir, 'broken.conf');
      const lines = fs.readFileSync(SHIPPED, 'utf8').split('\n');
      const at = lines.findIndex((l) => l.startsWith('maxmemory-policy '));
      lines[at] = 'maxmemory-policy allkeys-lruu';
      fs.writeFileSync(broken, lines.join('\n'));

      const r = await runCli(['deploy', ...deployArgs(dir, old.port), '--config', broken, '--yes']);
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        new RegExp(
          `NOT deployed, nothing was changed[\\s\\S]*line ${at + 1}: 'maxmemory-policy allkeys-lruu': argument\\(s\\) must be one of`,
        ),
      );
      assert.equal(/process_id:(\d+)/.exec(await c.info('server'))![1], pid, 'same server process');
      assert.equal(await c.get('keep'), 'me');
      assert.ok(!fs.existsSync(path.join(dir, 'etc')), 'the target was not written');
    } finally {
      c.disconnect();
    }
  });

  it('says what to run when it may not create a directory, before touching anything', async () => {
    const port = await freePort();
    // Even root may not create directories in sysfs: EPERM, as a user gets it elsewhere.
    const r = await runCli([
      'deploy',
      ...deployArgs(dir, port),
      '--data-dir',
      '/sys/osm-deploy-test/data',
      '--yes',
    ]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /cannot create the directory \/sys\/osm-deploy-test\/data: EPERM\. .*sudo mkdir -p \/sys\/osm-deploy-test\/data && sudo chown "\$\(id -un\)" \/sys\/osm-deploy-test\/data/,
    );
    assert.ok(!fs.existsSync(path.join(dir, 'etc', 'redis.conf')), 'nothing written');
  });

  it("shows Redis's own words when the new server does not come up", async () => {
    const port = await freePort();
    const logDir = path.join(dir, 'log-is-a-dir');
    fs.mkdirSync(logDir);
    const r = await runCli(['deploy', ...deployArgs(dir, port), '--log-file', logDir, '--yes']);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /exited with status 1:[\s\S]*Can't open the log file: Is a directory/);
  });

  it('backs up a changed config, and loads an RDB-only data dir instead of starting empty; the password stays secret', async () => {
    const port = await freePort();
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    // A server that ran without the AOF left only dump.rdb behind.
    const old = await RedisServer.start({ port, args: ['--dir', dataDir] });
    const c = old.client();
    await c.set('survivor', 'yes');
    await c.call('SHUTDOWN', 'SAVE').catch(() => undefined);
    c.disconnect();
    await old.dispose();
    assert.ok(
      fs.existsSync(path.join(dataDir, 'dump.rdb')) &&
        !fs.existsSync(path.join(dataDir, 'appendonlydir')),
    );
    const target = path.join(dir, 'etc', 'redis.conf');
    fs.mkdirSync(path.dirname(target));
    fs.writeFileSync(target, '# an older config\n');

    const password = 'deploy-Secret-42';
    const env = { OPTUNA_STORAGE_REDIS_PASSWORD: password };
    cleanups.push(() => stopDeployed(port, password));
    const dry = await runCli(
      ['deploy', ...deployArgs(dir, port), '--password-env', '--dry-run'],
      env,
    );
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /--appendonly no .*would ignore it and start empty/);
    assert.equal(fs.readFileSync(target, 'utf8'), '# an older config\n', 'dry run changes nothing');

    const r = await runCli(['deploy', ...deployArgs(dir, port), '--password-env', '--yes'], env);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    for (const out of [r.stdout, r.stderr, dry.stdout])
      assert.ok(!out.includes(password), 'password leaked');
    assert.equal(fs.statSync(target).mode & 0o777, 0o600);
    const backups = fs
      .readdirSync(path.dirname(target))
      .filter((f) => f.startsWith('redis.conf.bak-'));
    assert.equal(backups.length, 1);
    assert.equal(
      fs.readFileSync(path.join(path.dirname(target), backups[0]), 'utf8'),
      '# an older config\n',
    );

    await assert.rejects(async () => (await client(port)).ping(), /NOAUTH/);
    const c2 = await client(port, password);
    try {
      assert.equal(await c2.get('survivor'), 'yes');
      assert.equal(((await c2.config('GET', 'appendonly')) as string[])[1], 'yes');
    } finally {
      c2.disconnect();
    }
    assert.ok(fs.existsSync(path.join(dataDir, 'appendonlydir', 'appendonly.aof.manifest')));
  });
});
