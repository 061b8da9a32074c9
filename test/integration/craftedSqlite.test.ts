import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqlite } from '../../src/core/storage/sqliteDriver';
import { runPython } from '../helpers/python';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

/** The bundled CLI as a user runs it: status, output, wall time and peak RSS (MB). */
function runBundled(
  args: string[],
): Promise<{ status: number | null; stderr: string; ms: number; peakMb: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    }, 20);
    // A hang is the failure this guards against: do not wait for ever.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (status) => {
      clearInterval(sample);
      clearTimeout(killer);
      resolve({ status, stderr, ms: Date.now() - t0, peakMb: peakKb / 1024 });
    });
  });
}

/**
 * Issue #17 item 5: crafted SQLite files hung the reader (a FIFO named *.db) or made it
 * allocate gigabytes (an Optuna-named column turned into a generated column).
 */
describe('crafted SQLite files: refused quickly, in bounded memory', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: npm test builds it first');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-crafted-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a FIFO named *.db (or *.db-wal next to a real file) is not opened', async () => {
    const fifo = path.join(dir, 'optuna_fallback.db');
    execFileSync('mkfifo', [fifo]);
    const r = await runBundled(['dump', fifo]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is not a regular file \(it is a FIFO\)/);
    assert.ok(r.ms < 10_000, `${r.ms} ms`);

    const real = path.join(dir, 'real.db');
    await runPython('small_db.py', [real]);
    execFileSync('mkfifo', [`${real}-wal`]);
    const w = await runBundled(['studies', real]);
    assert.equal(w.status, 2, w.stderr);
    assert.match(w.stderr, /real\.db-wal is not a regular file/);
  });

  it('a generated column where Optuna has a plain one is refused before anything is read', async () => {
    const db = path.join(dir, 'generated.db');
    await runPython('small_db.py', [db]);
    const h = openSqlite(db);
    h.exec(`
      PRAGMA foreign_keys = OFF;
      ALTER TABLE studies RENAME TO studies_old;
      CREATE TABLE studies (
        study_id INTEGER PRIMARY KEY,
        study_name TEXT GENERATED ALWAYS AS (printf('%.*c', 150000000, 'x')) VIRTUAL
      );
      INSERT INTO studies (study_id) SELECT study_id FROM studies_old;
      DROP TABLE studies_old;
      VACUUM;
    `);
    h.close();
    assert.ok(fs.statSync(db).size < 200_000, `${fs.statSync(db).size} bytes`);
    const r = await runBundled(['dump', db]);
    console.log(`      generated-column file: ${r.ms} ms, peak RSS ${r.peakMb.toFixed(0)} MB`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /studies\.study_name is a generated or hidden column/);
    assert.ok(r.peakMb < 200, `peak RSS ${r.peakMb} MB`);
  });

  it('a value longer than 16 MB is refused', async () => {
    const db = path.join(dir, 'long.db');
    await runPython('small_db.py', [db]);
    const h = openSqlite(db);
    h.prepare('UPDATE studies SET study_name = ?').run('y'.repeat(17 << 20));
    h.close();
    const r = await runBundled(['dump', db]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /studies holds a value longer than 16 MB/);
  });

  it("a table of the file's own named dbstat does not hide a long value", async () => {
    // The reader asks SQLite's dbstat which tables have a record long enough to scan; a table
    // named dbstat claiming short records must not stand in for it.
    const db = path.join(dir, 'long-dbstat.db');
    await runPython('small_db.py', [db]);
    const h = openSqlite(db);
    h.prepare('UPDATE studies SET study_name = ?').run('y'.repeat(17 << 20));
    h.exec('CREATE TABLE dbstat (name TEXT, mx_payload INTEGER)');
    h.exec("INSERT INTO dbstat SELECT name, 1 FROM sqlite_master WHERE type = 'table'");
    h.close();
    const r = await runBundled(['dump', db]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /studies holds a value longer than 16 MB/);
  });
});
