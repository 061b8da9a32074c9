import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';
import { runCli } from '../helpers/cli';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

const ROOT = path.resolve(__dirname, '..', '..');

/** What a new user typing the README's commands meets: one clear line and the right status. */
describe('CLI messages a new user meets', function () {
  this.timeout(120_000);
  let dir: string;
  let redis: RedisServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-cli-'));
    redis = await RedisServer.start();
    await runPython('generate.py', ['--redis', redis.url, '--prefix', 'autodl']);
    await runPython('small_db.py', [path.join(dir, 'real.db')]);
  });
  after(async () => {
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an out-of-range database (/16) is refused as Redis refuses it, never read as database 0', async () => {
    for (const verb of [['studies'], ['dump']]) {
      const r = await runCli([...verb, `${redis.url}/16`, '--prefix', 'autodl']);
      assert.equal(r.status, 2, `${verb[0]}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /has no such database: the number after the last "\/" must be below/);
    }
    const doctor = await runCli(['doctor', '--redis', `${redis.url}/16`]);
    assert.equal(doctor.status, 2, doctor.stderr);
    assert.match(doctor.stderr, /has no such database/);
    // A database that exists but is empty is read as such (no journal: a warning, exit 0).
    const ok = await runCli(['studies', `${redis.url}/3`, '--prefix', 'autodl']);
    assert.equal(ok.status, 0, ok.stderr);
  });

  it('studies and dump refuse a file that is not a journal alike: exit 2, one line saying what it is', async () => {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, Array.from({ length: 219 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const sqliteNamedLog = path.join(dir, 'study.log');
    fs.copyFileSync(path.join(dir, 'real.db'), sqliteNamedLog);
    for (const [file, what] of [
      [
        text,
        /is not an Optuna journal file: it is a text file whose lines are not journal records \(first line: "line 0"\)/,
      ],
      [
        sqliteNamedLog,
        /is not an Optuna journal file: it is an SQLite database: give it as sqlite:\/\/\/\//,
      ],
    ] as const)
      for (const verb of ['studies', 'dump']) {
        const r = await runCli([verb, file]);
        assert.equal(r.status, 2, `${verb} ${file}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, what);
        assert.doesNotMatch(r.stderr, /doctor/, 'doctor is for Redis');
      }
  });

  it('dump of a damaged journal file suggests --partial, not the Redis doctor', async () => {
    const f = path.join(dir, 'damaged.log');
    const good = '{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}';
    fs.writeFileSync(f, `${good}\n{"op_code": 5, "worker\n`);
    fs.appendFileSync(f, `${good}\n`);
    const r = await runCli(['dump', f]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Run with --partial/);
    assert.doesNotMatch(r.stderr, /doctor/);
  });

  it('--prefix naming no journal: the studies are none, as Optuna says, and the prefixes that exist are named', async () => {
    for (const verb of ['studies', 'dump']) {
      const r = await runCli([verb, redis.url, '--prefix', 'autodI']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stderr,
        /warning: no Optuna journal under prefix "autodI" on this server; journals are under --prefix "autodl"/,
      );
    }
    const right = await runCli(['studies', redis.url, '--prefix', 'autodl']);
    assert.doesNotMatch(right.stderr, /no Optuna journal/);
  });

  it('watch --sqlite naming a missing file warns at start', async () => {
    const controller = new AbortController();
    let stderr = '';
    let stdout = '';
    const done = main(
      ['watch', '--redis', redis.url, '--sqlite', path.join(dir, 'missing.db'), '--json'],
      {
        stdout: (t) => {
          stdout += t;
          controller.abort();
        },
        stderr: (t) => void (stderr += t),
        signal: controller.signal,
        env: {},
      },
    );
    assert.equal(await done, 0);
    assert.match(stderr, /warning: the SQLite fallback .*missing\.db does not exist \(yet\)/);
    assert.equal(JSON.parse(stdout.split('\n')[0]).state, 'redis');
  });

  it('--help shows sqlite:////absolute paths; the README set-up puts optuna-storage in reach (npx)', async () => {
    const help = await runCli(['studies', '--help']);
    assert.match(
      help.stdout,
      /sqlite:\/\/\/\/abs\/path\/to\/file\.db +four slashes for an absolute path/,
    );
    const abs = await runCli(['studies', `sqlite:///${path.join(dir, 'real.db')}`]);
    assert.equal(abs.status, 0, abs.stderr);
    assert.match(abs.stdout, /small/);
    // npx runs the bin file itself once its cache holds the link (a CI checkout at a fixed
    // path), so the build must leave it executable.
    assert.equal(fs.statSync(path.join(ROOT, 'dist', 'cli.js')).mode & 0o111, 0o111);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'npx',
        ['--no-install', 'optuna-storage', '--help'],
        { cwd: ROOT, timeout: 60_000 },
        (e, stdout) => (e ? reject(e) : resolve(stdout)),
      ),
    );
    assert.match(out, /^Usage: optuna-storage <command>/);
  });
});
