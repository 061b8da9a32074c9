import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  NotDeployedError,
  deployedUrl,
  livePidFromFile,
  readDeployedConfig,
} from '../../src/core/redis/deployedConfig';

describe('the deployed config as start and restore read it', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-deployed-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the last directive, follows includes, and fills in Redis's defaults", () => {
    fs.writeFileSync(path.join(dir, 'extra.conf'), 'appendonly yes\nrequirepass "s e"\n');
    const target = path.join(dir, 'redis.conf');
    fs.writeFileSync(
      target,
      'port 7001\nport 7002\nbind 0.0.0.0\ndir data\nlogfile redis.log\ninclude extra.conf\n',
    );
    const c = readDeployedConfig(target);
    assert.equal(c.port, 7002);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dir, path.join(dir, 'data'), 'a relative dir is the config folder’s');
    assert.equal(c.logFile, path.join(dir, 'data', 'redis.log'), 'Redis opens it inside dir');
    assert.equal(c.pidFile, '/var/run/redis_7002.pid');
    assert.equal(c.appendonly, true);
    assert.equal(c.password, 's e');
    assert.equal(c.dbfilename, 'dump.rdb');
    assert.equal(c.appenddirname, 'appendonlydir');
    assert.equal(c.appendfilename, 'appendonly.aof');
    assert.equal(c.daemonize, false);
    assert.equal(deployedUrl(c), 'redis://127.0.0.1:7002', 'never the password');
    assert.equal(deployedUrl({ ...c, host: '::1' }), 'redis://[::1]:7002');
  });

  it('says that nothing is deployed when the file is missing', () => {
    assert.throws(
      () => readDeployedConfig(path.join(dir, 'none.conf')),
      (e: Error) => e instanceof NotDeployedError && /deploy one first/.test(e.message),
    );
  });

  it('trusts a pid file only when it names a live redis-server', () => {
    const pidFile = path.join(dir, 'redis.pid');
    assert.equal(livePidFromFile(pidFile), undefined, 'no file');
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    assert.equal(livePidFromFile(pidFile), undefined, 'a live process that is not Redis');
    fs.writeFileSync(pidFile, '999999999\n');
    assert.equal(livePidFromFile(pidFile), undefined, 'a stale pid');
    fs.writeFileSync(pidFile, 'garbage');
    assert.equal(livePidFromFile(pidFile), undefined);
  });
});
