import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  readWriters,
  summarizeWriters,
  writersDir,
  writersOnSqliteText,
} from '../../src/core/python/writersStatus';
import { parseWriterStatusKey } from '../../src/core/optuna/journal/redisLog';

/** A status file as python/enhanced_redis_storage/status.py writes it. */
function statusDoc(o: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: 1,
    current_storage: 'redis',
    redis_available: true,
    fallback_active: false,
    since: '2026-12-02T05:00:00.000+00:00',
    cause: null,
    outbox_pending: 0,
    prefix: 'p',
    pid: process.pid,
    host: os.hostname(),
    updated: Date.now() / 1000,
    heartbeat: 5,
    writer_id: 'w',
    run_id: null,
    ...o,
  };
}

describe('Writers status files (the Python storage on this machine)', () => {
  let dir: string;
  let fallback: string;
  let n = 0;
  const write = (doc: Record<string, unknown> | string, name = `h-${++n}.json`) =>
    fs.writeFileSync(
      path.join(writersDir(fallback), name),
      typeof doc === 'string' ? doc : JSON.stringify(statusDoc(doc)),
    );
  /** A pid that was a real process and has exited. */
  const deadPid = () => spawnSync('true').pid!;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-writers-'));
    fallback = path.join(dir, 'optuna_fallback.db');
    fs.mkdirSync(writersDir(fallback));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('no directory: no writers, nothing ignored', async () => {
    assert.deepEqual(await readWriters(path.join(dir, 'other.db')), { writers: [], ignored: [] });
  });

  it('counts live writers by storage; the cause is the longest on SQLite, held first', async () => {
    write({ writer_id: 'r1' });
    write({ writer_id: 'r2', run_id: 'run-a' });
    write({
      writer_id: 's1',
      current_storage: 'sqlite',
      cause: 'timeout: Timeout reading from socket',
      since: '2026-12-02T05:10:00.000+00:00',
      run_id: 'run-a',
    });
    write({
      writer_id: 's2',
      current_storage: 'sqlite',
      cause: 'connection: Connection refused',
      since: '2026-12-02T05:09:00.000+00:00',
    });
    write({ writer_id: 'rc', current_storage: 'recovering', outbox_pending: 3 });
    const read = await readWriters(fallback);
    assert.deepEqual(read.ignored, []);
    assert.equal(read.writers.length, 5);
    const byId = new Map(read.writers.map((w) => [w.writerId, w]));
    assert.equal(byId.get('r2')!.runId, 'run-a');
    assert.equal(byId.get('r1')!.runId, undefined);
    assert.equal(byId.get('rc')!.pending, 3);
    const s = summarizeWriters(read.writers);
    assert.deepEqual(s, {
      total: 5,
      redis: 2,
      onSqlite: 2,
      held: 0,
      recovering: 1,
      cause: 'connection: Connection refused',
      since: Date.parse('2026-12-02T05:09:00.000Z'),
    });
    assert.equal(writersOnSqliteText(s), '2 writers on SQLite');

    write({
      writer_id: 'h',
      current_storage: 'held',
      cause: 'journal gap: :log:7 is missing',
      since: '2026-12-02T05:20:00.000+00:00',
    });
    const held = summarizeWriters((await readWriters(fallback)).writers);
    assert.equal(held.onSqlite, 3);
    assert.equal(held.held, 1);
    assert.equal(held.cause, 'journal gap: :log:7 is missing');
    assert.equal(held.since, Date.parse('2026-12-02T05:09:00.000Z'));
  });

  it('skips malformed files, naming why, and files a writer is still renaming', async () => {
    write({ writer_id: 'ok', current_storage: 'sqlite', cause: 'c' });
    write('{"current_storage": "sqlite", "pid": ', 'half.json');
    write('[1, 2]', 'array.json');
    write({ current_storage: 'elsewhere' }, 'unknown.json');
    write({ pid: 'x' }, 'nopid.json');
    write({ updated: 'soon' }, 'noupdated.json');
    write('{"partial', '.status-abc123'); // the companion's temporary file, before its rename
    const read = await readWriters(fallback);
    assert.deepEqual(
      read.writers.map((w) => w.writerId),
      ['ok'],
    );
    const why = Object.fromEntries(read.ignored.map((i) => [path.basename(i.file), i.why]));
    assert.deepEqual(why, {
      'half.json': 'not JSON',
      'array.json': 'not a JSON object',
      'unknown.json': 'unknown current_storage "elsewhere"',
      'nopid.json': 'no pid',
      'noupdated.json': 'no updated time',
    });
  });

  it('drops the file of a process of this host that is gone, keeps other hosts by heartbeat', async () => {
    const pid = deadPid();
    write({ writer_id: 'dead', pid, current_storage: 'sqlite', cause: 'c' }, 'dead.json');
    write({ writer_id: 'remote', pid, host: 'another-host', current_storage: 'sqlite' });
    const now = Date.now();
    write(
      { writer_id: 'remote-gone', host: 'another-host', updated: (now - 120_000) / 1000 },
      'remote-gone.json',
    );
    write(
      { writer_id: 'frozen', updated: (now - 120_000) / 1000, current_storage: 'sqlite' },
      'frozen.json',
    );
    // An older companion wrote no heartbeat: only the pid tells.
    write({ writer_id: 'old', updated: (now - 3_600_000) / 1000, heartbeat: undefined });
    const read = await readWriters(fallback, { now });
    assert.deepEqual(read.writers.map((w) => w.writerId).sort(), ['old', 'remote']);
    const why = Object.fromEntries(read.ignored.map((i) => [path.basename(i.file), i.why]));
    assert.equal(why['dead.json'], `process ${pid} is gone`);
    assert.match(why['frozen.json'], /^no heartbeat for 120 s/);
    assert.match(why['remote-gone.json'], /gone on another-host/);
  });

  it('a file removed between the listing and the read is gone, not an error', async () => {
    write({ writer_id: 'a' });
    // Listed, but reading it fails with ENOENT: what a writer that closes meanwhile leaves.
    fs.symlinkSync(path.join(dir, 'removed.json'), path.join(writersDir(fallback), 'b.json'));
    const r = await readWriters(fallback);
    assert.deepEqual(
      r.writers.map((w) => w.writerId),
      ['a'],
    );
    assert.deepEqual(r.ignored, []);
  });

  it("the Redis key's name: <prefix>:enhanced:status:<writer id>, any prefix, nothing else", () => {
    assert.deepEqual(parseWriterStatusKey('p:enhanced:status:0af3'), {
      prefix: 'p',
      writerId: '0af3',
    });
    assert.deepEqual(parseWriterStatusKey(':enhanced:status:ff'), { prefix: '', writerId: 'ff' });
    assert.deepEqual(parseWriterStatusKey('a:enhanced:status:b:enhanced:status:12'), {
      prefix: 'a:enhanced:status:b',
      writerId: '12',
    });
    for (const other of [
      'p:enhanced:writer:0af3',
      'p:enhanced:status:',
      'p:log_number',
      'p:enhanced:status:x y',
    ])
      assert.equal(parseWriterStatusKey(other), undefined, other);
  });
});
