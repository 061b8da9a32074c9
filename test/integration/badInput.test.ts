import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqlite } from '../../src/core/storage/sqliteDriver';
import { runCli } from '../helpers/cli';
import { freePort } from '../helpers/ports';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { optunaCompatibleRules } from '../fixtures/replayRules';

/** Each bad input: a clear message and the contract's exit status, never a crash or partial output. */
describe('bad input', function () {
  let dir: string;
  let redis: RedisServer;
  let optunaDb: string;

  before(async function () {
    this.timeout(120_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-bad-'));
    redis = await RedisServer.start({ password: 's3cret-pw' });
    optunaDb = path.join(dir, 'real.db');
    // A real Optuna database to damage in controlled ways.
    await runPython('small_db.py', [optunaDb]);
  });

  after(async () => {
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const dump = (...args: string[]) => runCli(['dump', ...args]);

  it('a journal file with a truncated entry in the middle: exit 2, names the line, no output', async () => {
    const lines = optunaCompatibleRules();
    lines[5] = lines[5].slice(0, 30);
    const f = path.join(dir, 'truncated.log');
    fs.writeFileSync(f, lines.join('\n') + '\n');
    const r = await dump(f);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /incomplete: 1 journal entry could not be read/);
    assert.match(r.stderr, /entry 5 is not valid JSON/);
    const partial = await dump(f, '--partial');
    assert.equal(partial.status, 0);
    assert.match(partial.stdout, /"issues":\[\{"kind":"malformed","index":5/);
  });

  it('garbled bytes and a non-object entry are reported, the rest is read', async () => {
    const lines = optunaCompatibleRules();
    const f = path.join(dir, 'garbled.log');
    fs.writeFileSync(
      f,
      [...lines.slice(0, 3), '\u0000\u00ff garbage', '[1, 2]', ...lines.slice(3)].join('\n') + '\n',
    );
    const r = await dump(f, '--partial');
    assert.equal(r.status, 0);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.issues.map((i: { kind: string; index: number }) => [i.kind, i.index]),
      [
        ['malformed', 3],
        ['malformed', 4],
      ],
    );
    assert.equal(doc.studies.length, 3);
  });

  it('an unterminated last line is a write in progress: ignored without complaint', async () => {
    const lines = optunaCompatibleRules();
    const f = path.join(dir, 'inprogress.log');
    fs.writeFileSync(f, lines.join('\n') + '\n' + '{"op_code": 0, "worker_id": "w", "study_na');
    const r = await dump(f);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    // Ignored, not half-applied: the same document as the complete lines alone.
    const complete = path.join(dir, 'complete.log');
    fs.writeFileSync(complete, lines.join('\n') + '\n');
    const c = await dump(complete);
    assert.equal(c.status, 0, c.stderr);
    assert.ok(c.stdout.length > 0);
    assert.equal(r.stdout, c.stdout);
  });

  it('an empty journal file has no studies', async () => {
    const f = path.join(dir, 'empty.log');
    fs.writeFileSync(f, '');
    const r = await dump(f);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '{"studies":[]}\n');
  });

  it('a missing file: exit 2 naming it', async () => {
    const r = await dump(path.join(dir, 'nope.log'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no such file: .*nope\.log/);
  });

  it('a file that is not SQLite: exit 2, says so', async () => {
    const f = path.join(dir, 'text.db');
    fs.writeFileSync(
      f,
      'this is not a database, just text that is long enough to have a header.'.repeat(20),
    );
    const r = await dump(f);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is not an SQLite database/);
  });

  it('an SQLite file of another application: exit 2, lists what it found', async () => {
    const f = path.join(dir, 'other.sqlite');
    const db = openSqlite(f);
    db.exec(
      'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE orders (id INTEGER PRIMARY KEY)',
    );
    db.close();
    const r = await dump(f);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /not an Optuna storage: it has tables customers, orders and lacks studies/,
    );
  });

  it('an Optuna DB with an unknown schema revision: exit 2, names the revision', async () => {
    const f = path.join(dir, 'future.db');
    fs.copyFileSync(optunaDb, f);
    const db = openSqlite(f);
    db.prepare('UPDATE alembic_version SET version_num = ?').run('v9.9.9.z');
    db.close();
    const r = await dump(`sqlite:///${f}`);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /schema revision "v9\.9\.9\.z", which this version does not know \(known: v3\.0\.0\.d/,
    );
  });

  it('an Optuna DB with a value type Optuna never writes: exit 2, names it', async () => {
    const f = path.join(dir, 'odd-value.db');
    fs.copyFileSync(optunaDb, f);
    const db = openSqlite(f);
    assert.equal(
      db
        .prepare(
          "UPDATE trial_values SET value_type = 'HUGE' WHERE trial_value_id = (SELECT max(trial_value_id) FROM trial_values)",
        )
        .run().changes,
      1,
    );
    db.close();
    const r = await dump(`sqlite:///${f}`);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown value type 'HUGE' in the database/);
  });

  it('a gap in the Redis log: exit 2 with the missing key, --partial reads past it', async () => {
    const c = redis.client();
    const lines = optunaCompatibleRules();
    await c.set('gappy:log_number', lines.length - 1);
    await c.mset(...lines.flatMap((l, i) => (i === 10 ? [] : [`gappy:log:${i}`, l])));
    c.disconnect();
    const env = { OPTUNA_STORAGE_REDIS_PASSWORD: 's3cret-pw' };
    const r = await runCli(['dump', redis.url, '--prefix', 'gappy'], env);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /gap: journal entry gappy:log:10 is missing \(evicted or deleted\)/);
    assert.equal(r.stdout, '');
    const p = await runCli(['dump', redis.url, '--prefix', 'gappy', '--partial'], env);
    assert.equal(p.status, 0);
    const doc = JSON.parse(p.stdout);
    assert.deepEqual(doc.issues, [
      {
        kind: 'gap',
        index: 10,
        message: 'journal entry gappy:log:10 is missing (evicted or deleted)',
      },
    ]);
    assert.equal(doc.studies.length, 3, 'entries after the gap are read');
  });

  it('a wrong key type at <prefix>:log_number: exit 2, says what it holds', async () => {
    const c = redis.client();
    await c.del('foreign:log_number');
    await c.rpush('foreign:log_number', 'a', 'b');
    c.disconnect();
    const r = await runCli(['dump', redis.url, '--prefix', 'foreign'], {
      OPTUNA_STORAGE_REDIS_PASSWORD: 's3cret-pw',
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /"foreign:log_number" holds a list, not an Optuna journal counter/);
  });

  it('a wrong password: exit 2, never echoes the password', async () => {
    const url = redis.url.replace('redis://', 'redis://:wrong-pw-123@');
    const r = await runCli(['dump', url]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /refused the credentials/);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-pw-123|s3cret-pw/);
  });

  it('no password for a protected server: exit 2 with the fix', async () => {
    const r = await runCli(['dump', redis.url]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs a password \(NOAUTH.*\): give it/);
  });

  it('an unreachable Redis: exit 3', async () => {
    const port = await freePort();
    const r = await runCli(['dump', `redis://127.0.0.1:${port}`]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, new RegExp(`Redis at redis://127.0.0.1:${port} refused the connection`));
  });

  it('bad arguments: exit 2 with usage', async () => {
    assert.equal((await runCli(['dump'])).status, 2);
    assert.equal((await runCli(['dump', 'a', 'b'])).status, 2);
    const unknown = await runCli(['dump', 'x.log', '--bogus']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown option '--bogus'/);
    assert.equal((await runCli(['frobnicate'])).status, 2);
    assert.equal((await runCli(['dump', 'mysql://u:pw@h/db'])).status, 2);
    const help = await runCli(['dump', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: optuna-storage dump STORAGE/);
    assert.match(
      (await runCli(['studies', '--help'])).stdout,
      /Usage: optuna-storage studies STORAGE/,
    );
  });
});
