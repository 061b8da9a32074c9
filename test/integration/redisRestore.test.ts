// `optuna-storage backup restore` into deployments made in temp dirs on free loopback ports,
// compared through real Optuna's view of the journal before and after.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { runCli } from '../helpers/cli';
import { assertSameDump } from '../helpers/compareDumps';
import { client, deployWithOptunaJournal, serverPid, stopDeployed } from '../helpers/deployed';
import { JournalWriter, createStudyRecord } from '../helpers/journalWriter';
import { freePort } from '../helpers/ports';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

async function prefixes(port: number): Promise<string[]> {
  const c = await client(port);
  try {
    return (await c.keys('*:log_number')).map((k) => k.slice(0, -':log_number'.length)).sort();
  } finally {
    c.disconnect();
  }
}

/** Writes more after the backup: a study in the backed-up prefix and a new prefix. */
async function writeMore(url: string): Promise<void> {
  const fx = new JournalWriter(url, 'fx');
  await fx.append([createStudyRecord('after-the-backup')]);
  fx.close();
  const more = new JournalWriter(url, 'more');
  await more.append([createStudyRecord('new')]);
  for (let i = 0; i < 3; i++) await more.writeTrial();
  more.close();
}

type Manifest = { files: Array<{ path: string; bytes: number; sha256: string }> };

describe('restore a backup into the deployed Redis (real redis-server, real Optuna)', function () {
  let dir: string;
  let port: number;
  let url: string;
  let target: string;
  let backups: string;
  let backedUp: string;
  let backupName: string;
  const extra: RedisServer[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-restore-'));
    backups = path.join(dir, 'backups');
    port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    ({ target, optunaView: backedUp } = await deployWithOptunaJournal(dir, port, 'fx'));
    const b = await runCli(['backup', 'create', '--redis', url, '--dir', backups, '--json']);
    assert.equal(b.status, 0, b.stderr);
    backupName = (JSON.parse(b.stdout) as { name: string }).name;
  });
  after(async () => {
    await stopDeployed(port);
    for (const s of extra) await s.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('backup, write more, restore: exactly the backed-up journal, the replaced data aside', async () => {
    await writeMore(url);
    const changed = await runPython('optuna_dump.py', [url, '--prefix', 'fx']);
    assert.notEqual(changed, backedUp);

    const worker = await client(port); // an optimizer still connected
    const dry = await runCli([
      'backup',
      'restore',
      '--dir',
      backups,
      '--target',
      target,
      '--dry-run',
    ]);
    worker.disconnect();
    assert.match(dry.stderr, /1 other client is connected now: stop the optimizer workers first/);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stderr, /SHUTDOWN SAVE[\s\S]*pre-restore-\d{8}-\d{6}\/: kept, not deleted/);
    assert.deepEqual(await prefixes(port), ['fx', 'more'], 'a dry run changes nothing');

    const r = await runCli(['backup', 'restore', '--dir', backups, '--target', target, '--yes']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(
      r.stderr,
      /match their SHA-256 sums[\s\S]*stopped Redis[\s\S]*moved the current data/,
    );
    assert.match(r.stdout, /prefix "fx": [\d,]+ entries \(\d+ studies, [\d,]+ trials\)/);
    assertSameDump(await runPython('optuna_dump.py', [url, '--prefix', 'fx']), backedUp, 'Optuna');
    assert.deepEqual(await prefixes(port), ['fx'], 'what was written after the backup is gone');

    // The replaced data sits aside, whole: a server started on a copy of it has what was written.
    const aside = /The replaced data is in (\S+)\./.exec(r.stdout)![1];
    assert.equal(path.dirname(aside), path.join(dir, 'data'));
    assert.deepEqual(fs.readdirSync(aside).sort(), ['appendonlydir', 'dump.rdb']);
    const copy = path.join(dir, 'aside-copy');
    fs.cpSync(aside, copy, { recursive: true });
    const old = await RedisServer.start({ args: ['--dir', copy, '--appendonly', 'yes'] });
    extra.push(old);
    assertSameDump(
      await runPython('optuna_dump.py', [old.url, '--prefix', 'fx']),
      changed,
      'the data moved aside',
    );
  });

  it('refuses a damaged backup before stopping anything', async () => {
    const damaged = path.join(dir, 'damaged');
    fs.cpSync(backups, damaged, { recursive: true });
    const rdb = path.join(damaged, backupName, 'dump.rdb');
    const bytes = fs.readFileSync(rdb);
    bytes[bytes.length - 20] ^= 0xff;
    fs.writeFileSync(rdb, bytes);
    const pid = await serverPid(port);
    const r = await runCli(['backup', 'restore', '--dir', damaged, '--target', target, '--yes']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /dump\.rdb does not match its SHA-256 sum\. Nothing was changed/);
    assert.equal(await serverPid(port), pid, 'the server was not stopped');

    const manifestPath = path.join(damaged, backupName, 'backup.json');
    const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest & {
      server: { dbfilename: string };
    };
    m.server.dbfilename = '../../etc/redis.conf';
    m.files[0].path = '../../etc/redis.conf';
    fs.writeFileSync(manifestPath, JSON.stringify(m));
    const outside = await runCli([
      'backup',
      'restore',
      '--dir',
      damaged,
      '--target',
      target,
      '--yes',
    ]);
    assert.equal(outside.status, 1);
    assert.match(outside.stderr, /names a file outside its folder/);
    assert.equal(await serverPid(port), pid);

    const none = await runCli([
      'backup',
      'restore',
      '--dir',
      damaged,
      '--name',
      'redis-x',
      '--yes',
    ]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no backup named redis-x/);
  });

  it('refuses a deployed config Redis refuses before stopping anything', async () => {
    const good = fs.readFileSync(target, 'utf8');
    const text = good.split('\n');
    const at = text.findIndex((l) => l.startsWith('maxmemory-policy '));
    text[at] = 'maxmemory-policy allkeys-lruu';
    fs.writeFileSync(target, text.join('\n'));
    const pid = await serverPid(port);
    const dataBefore = fs.readdirSync(path.join(dir, 'data')).sort();
    try {
      const r = await runCli(['backup', 'restore', '--dir', backups, '--target', target, '--yes']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `refuses the config at line ${at + 1}: 'maxmemory-policy allkeys-lruu'.*Nothing was changed`,
        ),
      );
    } finally {
      fs.writeFileSync(target, good);
    }
    assert.equal(await serverPid(port), pid, 'the server was not stopped');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'data')).sort(), dataBefore, 'no data moved');
  });

  it('will not stop a server on the port that is not the deployed one', async () => {
    const other = await RedisServer.start({});
    extra.push(other);
    const conf = path.join(dir, 'other.conf');
    fs.writeFileSync(
      conf,
      fs
        .readFileSync(target, 'utf8')
        .replace(new RegExp(`^port ${port}$`, 'm'), `port ${other.port}`),
    );
    const r = await runCli(['backup', 'restore', '--dir', backups, '--target', conf, '--yes']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /keeps its data in .*, not in .* it is not the deployed server/);
    const c = other.client();
    try {
      assert.equal(await c.ping(), 'PONG', 'left running');
    } finally {
      c.disconnect();
    }
  });

  it('puts the previous data back and starts it when the restored data does not come up', async () => {
    const broken = path.join(dir, 'broken');
    fs.cpSync(backups, broken, { recursive: true });
    // A backup whose sums match but whose AOF Redis cannot load.
    const folder = path.join(broken, backupName);
    const manifestPath = path.join(folder, 'backup.json');
    const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
    const entry = m.files.find((f) => f.path.endsWith('.manifest'))!;
    const text = 'file garbage seq x type q\n';
    fs.writeFileSync(path.join(folder, entry.path), text);
    entry.bytes = text.length;
    entry.sha256 = createHash('sha256').update(text).digest('hex');
    fs.writeFileSync(manifestPath, JSON.stringify(m));

    const pid = await serverPid(port);
    const asideBefore = fs.readdirSync(path.join(dir, 'data')).filter((n) => n.startsWith('pre-'));
    const r = await runCli(['backup', 'restore', '--dir', broken, '--target', target, '--yes']);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /restore failed \([\s\S]*manifest[\s\S]*\)\. The previous data was put back and Redis runs on it again; the backup's copy is in \S+failed-restore-/,
    );
    assert.notEqual(await serverPid(port), pid, 'stopped and started again');
    assertSameDump(await runPython('optuna_dump.py', [url, '--prefix', 'fx']), backedUp, 'Optuna');
    const names = fs.readdirSync(path.join(dir, 'data'));
    assert.deepEqual(
      names.filter((n) => n.startsWith('pre-')),
      asideBefore,
      'the previous data went back from where it was put aside',
    );
    const failed = names.find((n) => n.startsWith('failed-restore-'))!;
    assert.deepEqual(fs.readdirSync(path.join(dir, 'data', failed)).sort(), [
      'appendonlydir',
      'dump.rdb',
    ]);
  });

  it('restores an RDB-only backup into an AOF config without starting empty', async () => {
    const rdbOnly = path.join(dir, 'rdb-only');
    fs.cpSync(backups, rdbOnly, { recursive: true });
    const folder = path.join(rdbOnly, backupName);
    const manifestPath = path.join(folder, 'backup.json');
    const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest & {
      server: { appenddirname: string | null };
    };
    m.files = m.files.filter((f) => !f.path.startsWith('appendonlydir/'));
    m.server.appenddirname = null;
    fs.writeFileSync(manifestPath, JSON.stringify(m));
    fs.rmSync(path.join(folder, 'appendonlydir'), { recursive: true });
    await writeMore(url);

    const r = await runCli(['backup', 'restore', '--dir', rdbOnly, '--target', target, '--yes']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /loaded the RDB and wrote the append-only file/);
    assertSameDump(await runPython('optuna_dump.py', [url, '--prefix', 'fx']), backedUp, 'Optuna');
    const c = await client(port);
    try {
      assert.equal(((await c.config('GET', 'appendonly')) as string[])[1], 'yes');
    } finally {
      c.disconnect();
    }
  });
});
