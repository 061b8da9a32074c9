import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createServerBackup } from '../../src/core/redis/backup';
import { runCli } from '../helpers/cli';
import { assertSameDump } from '../helpers/compareDumps';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

interface BackupJson {
  name: string;
  path: string;
  files: string[];
}

describe('server backups of a real Redis', function () {
  let server: RedisServer;
  let root: string;
  let original: string;
  const restored: RedisServer[] = [];

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-backups-'));
    server = await RedisServer.start({ args: ['--appendonly', 'yes'] });
    await runPython('generate.py', ['--redis', server.url, '--prefix', 'fx']);
    original = await runPython('optuna_dump.py', [server.url, '--prefix', 'fx']);
  });
  after(async () => {
    await Promise.all([server, ...restored].map((s) => s?.dispose()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('create copies a fresh RDB and the AOF directory; each restores the journal Optuna reads back', async () => {
    const r = await runCli(['backup', 'create', '--redis', server.url, '--dir', root, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /BGSAVE[\s\S]*BGREWRITEAOF/);
    const b = JSON.parse(r.stdout) as BackupJson;
    assert.match(b.name, /^redis-\d{8}T\d{6}Z$/);
    assert.deepEqual(
      b.files.filter((f) => !f.startsWith('appendonlydir/')),
      ['dump.rdb'],
    );
    assert.ok(b.files.includes('appendonlydir/appendonly.aof.manifest'));
    const manifest = JSON.parse(fs.readFileSync(path.join(b.path, 'backup.json'), 'utf8')) as {
      files: Array<{ path: string; sha256: string; bytes: number }>;
    };
    for (const f of manifest.files) {
      const data = fs.readFileSync(path.join(b.path, f.path));
      assert.equal(data.length, f.bytes, f.path);
      assert.equal(createHash('sha256').update(data).digest('hex'), f.sha256, f.path);
    }
    assert.equal(fs.statSync(b.path).mode & 0o777, 0o700);
    assert.ok(!fs.readdirSync(root).some((n) => n.startsWith('.incomplete-')));

    // Restore each way into a fresh server: from the AOF directory, and from the RDB alone.
    for (const [label, args] of [
      ['AOF', ['--appendonly', 'yes']],
      ['RDB', ['--appendonly', 'no']],
    ] as const) {
      const dataDir = path.join(root, `restore-${label}`);
      fs.cpSync(b.path, dataDir, { recursive: true });
      const s = await RedisServer.start({ args: ['--dir', dataDir, ...args] });
      restored.push(s);
      assertSameDump(
        await runPython('optuna_dump.py', [s.url, '--prefix', 'fx']),
        original,
        `restored from the ${label}`,
      );
    }
  });

  it('list shows the newest first and prune keeps the N newest, touching nothing else', async () => {
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await runCli(['backup', 'create', '--redis', server.url, '--dir', root])).status,
        0,
      );
    for (const d of fs.readdirSync(root))
      if (d.startsWith('restore-')) fs.rmSync(path.join(root, d), { recursive: true });
    fs.mkdirSync(path.join(root, 'notes'));
    const list = JSON.parse((await runCli(['backup', 'list', '--dir', root, '--json'])).stdout) as {
      backups: Array<{ name: string; created_at: string }>;
    };
    assert.equal(list.backups.length, 3);
    const created = list.backups.map((b) => `${b.created_at} ${b.name}`);
    assert.deepEqual(created, [...created].sort().reverse(), 'newest first');

    const dry = JSON.parse(
      (await runCli(['backup', 'prune', '--dir', root, '--keep', '1', '--dry-run', '--json']))
        .stdout,
    ) as { removed: unknown[] };
    assert.equal(dry.removed.length, 2);
    assert.equal(fs.readdirSync(root).length, 4, 'dry run deletes nothing');
    const pruned = await runCli(['backup', 'prune', '--dir', root, '--keep', '1']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.deepEqual(fs.readdirSync(root).sort(), ['notes', list.backups[0].name].sort());
    assert.equal((await runCli(['backup', 'prune', '--dir', root, '--keep', '0'])).status, 2);
    assert.equal((await runCli(['backup', 'create', '--dir', root])).status, 2);
  });

  it('a cancelled backup stops in the middle of a file and leaves nothing behind', async () => {
    const big = await RedisServer.start({ args: ['--enable-debug-command', 'local'] });
    restored.push(big);
    const c = big.client();
    const cancelled = path.join(root, 'cancelled');
    try {
      await c.call('DEBUG', 'POPULATE', '400000', 'k', '200'); // an RDB of about 90 MB
      const controller = new AbortController();
      const seen: string[] = [];
      // Abort as soon as the copy of dump.rdb has bytes in it: in the middle of the file.
      let atAbort = -1;
      const watch = () => {
        const staging = fs.existsSync(cancelled)
          ? fs.readdirSync(cancelled).find((n) => n.startsWith('.incomplete-'))
          : undefined;
        const file = staging && path.join(cancelled, staging, 'dump.rdb');
        const size = file && fs.existsSync(file) ? fs.statSync(file).size : 0;
        if (size > 0) {
          atAbort = size;
          controller.abort(new Error('cancelled by the test'));
        } else if (!controller.signal.aborted) setImmediate(watch);
      };
      watch();
      await assert.rejects(
        createServerBackup(c, {
          root: cancelled,
          endpoint: big.url,
          signal: controller.signal,
          onProgress: (m) => seen.push(m),
        }),
        /cancelled by the test/,
      );
      const full = fs.statSync(path.join(big.dir, 'dump.rdb')).size;
      assert.ok(atAbort > 0 && atAbort < full, `aborted at ${atAbort} of ${full} bytes`);
      assert.ok(seen.includes('copying dump.rdb'), seen.join(', '));
      assert.deepEqual(fs.readdirSync(cancelled), [], 'no staging folder and no backup left');
    } finally {
      c.disconnect();
    }
  });
});
