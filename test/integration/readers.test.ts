import { studyToJson } from '../../src/core/optuna/dumpFormat';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JournalFileReader } from '../../src/core/storage/journalFileReader';
import { discoverPrefixes } from '../../src/core/optuna/journal/redisLog';
import { SqliteReader } from '../../src/core/storage/sqliteReader';
import { openSqlite } from '../../src/core/storage/sqliteDriver';
import { runCli } from '../helpers/cli';
import { FIXTURES, PYTHON, runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { optunaCompatibleRules } from '../fixtures/replayRules';

describe('readers', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-readers-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('journal file: incremental by byte offset, an unterminated line waits for its newline', async () => {
    const lines = optunaCompatibleRules();
    const file = path.join(dir, 'grow.log');
    fs.writeFileSync(file, lines.slice(0, 10).join('\n') + '\n' + lines[10].slice(0, 25));
    const r = new JournalFileReader(file);
    assert.equal((await r.refresh()).entries, 10);
    fs.appendFileSync(file, lines[10].slice(25));
    assert.equal((await r.refresh()).entries, 0, 'still no newline: a write in progress');
    fs.appendFileSync(file, '\n' + lines.slice(11).join('\n') + '\n');
    assert.equal((await r.refresh()).entries, lines.length - 10);
    const whole = new JournalFileReader(file);
    await whole.refresh();
    assert.deepStrictEqual(
      r.replay.allStudies().map(studyToJson),
      whole.replay.allStudies().map(studyToJson),
    );
    assert.deepEqual(r.replay.issues, []);
  });

  it('journal file: v4 compact separators read the same as v3', async () => {
    const v3 = path.join(dir, 'v3.log');
    const v4 = path.join(dir, 'v4.log');
    const lines = optunaCompatibleRules();
    fs.writeFileSync(v3, lines.join('\n') + '\n');
    // v4 writes json.dumps(..., separators=(",", ":")); distribution strings stay as written.
    fs.writeFileSync(
      v4,
      lines
        .map((l) => l.replace(/, "(?=[a-z_]+": )/g, ',"').replace(/": (?=[-\d[{"ntfNI])/g, '":'))
        .join('\n') + '\n',
    );
    assert.notEqual(fs.readFileSync(v3, 'utf8'), fs.readFileSync(v4, 'utf8'));
    const a = new JournalFileReader(v3);
    const b = new JournalFileReader(v4);
    await a.refresh();
    await b.refresh();
    assert.deepStrictEqual(
      b.replay.allStudies().map(studyToJson),
      a.replay.allStudies().map(studyToJson),
    );
  });

  it('journal file replaced by another file is read again from the start', async () => {
    const file = path.join(dir, 'replaced.log');
    const lines = optunaCompatibleRules();
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const r = new JournalFileReader(file);
    await r.refresh();
    fs.rmSync(file);
    fs.writeFileSync(file, lines.slice(0, 3).join('\n') + '\n');
    const res = await r.refresh();
    assert.equal(res.reset, true);
    assert.equal(r.replay.allStudies().length, 2);
  });

  it('Redis: discovers every journal prefix with SCAN, the empty default included, and says when the scan was cut short', async () => {
    const redis = await RedisServer.start();
    const c = redis.client();
    try {
      for (const p of ['', 'a', 'team:b']) await c.set(`${p}:log_number`, -1);
      for (let i = 0; i < 3000; i++) await c.set(`noise:${i}`, 'x');
      const all = await discoverPrefixes(c);
      assert.deepEqual(all, { prefixes: ['', 'a', 'team:b'], complete: true });
      const cut = await discoverPrefixes(c, 1000);
      assert.equal(cut.complete, false);
      const monitor = await c.info('commandstats');
      assert.doesNotMatch(monitor, /cmdstat_keys:/, 'never KEYS');
    } finally {
      c.disconnect();
      await redis.dispose();
    }
  });

  it('SQLite: reading while Optuna writes never makes the optimizer hit "database is locked"', async () => {
    const db = path.join(dir, 'busy.db');
    await runPython('small_db.py', [db]);
    const writer = spawn(PYTHON, [path.join(FIXTURES, 'sqlite_writer.py'), db, '150'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    writer.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => writer.on('exit', (code) => r(code)));
    let reads = 0;
    let running = true;
    void exited.then(() => (running = false));
    const reader = new SqliteReader(db, 1000);
    while (running) {
      reader.readAll();
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    reader.close();
    assert.equal(await exited, 0, `the optimizer failed while we read: ${stderr.slice(-500)}`);
    assert.ok(reads > 20, `only ${reads} reads happened`);
    const final = new SqliteReader(db);
    assert.equal(final.readAll().find((s) => s.name === 'busy')!.trials.length, 150);
    final.close();
  });

  it('SQLite: a database stamped v3.2.0.a (Optuna 3.2–5.0) reads the same', async () => {
    const db = path.join(dir, 'v32.db');
    await runPython('small_db.py', [db]);
    const before = await runCli(['dump', db]);
    const h = openSqlite(db);
    h.prepare('UPDATE alembic_version SET version_num = ?').run('v3.2.0.a');
    h.close();
    const after = await runCli(['dump', db]);
    assert.equal(after.status, 0, after.stderr);
    assert.equal(after.stdout, before.stdout);
  });
});
