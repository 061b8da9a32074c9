import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident memory (VmHWM) of the CLI process, in MB. */
  peakMb: number;
}

/** Runs the bundled CLI as a user does, sampling its peak RSS from /proc until it exits. */
function runBundled(args: string[], opts: { killAfterMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, XDG_CACHE_HOME: os.tmpdir() },
    });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    }, 20);
    if (opts.killAfterMs) setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs);
    child.on('exit', (status, signal) => {
      clearInterval(sample);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - t0, peakMb: peakKb / 1024 });
    });
  });
}

/**
 * Issue #17 item 3: one `<x>:log_number` key set to 10^9 (by hand, a bug, or another tool)
 * made `dump` grow past 3 GB and ignore SIGTERM; work is now bounded by the entries that
 * exist. And every CLI read ends on SIGTERM, even against a frozen server.
 */
describe('a journal counter far beyond its entries, and SIGTERM during reads', function () {
  this.timeout(180_000);
  let redis: RedisServer;
  before(async function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: npm test builds it first');
    redis = await RedisServer.start();
    await runPython('generate.py', ['--redis', redis.url, '--prefix', 'huge', '--workers', '1']);
    const c = redis.client();
    // A gap in the middle too (entries 5..7 evicted), then the counter set to 10^9.
    await c.del('huge:log:5', 'huge:log:6', 'huge:log:7');
    await c.set('huge:log_number', String(1e9 - 1));
    c.disconnect();
  });
  after(async () => redis?.dispose());

  it('dump --partial: every real entry read, the missing ones as two ranges, in bounded time and memory', async () => {
    const r = await runBundled(['dump', redis.url, '--prefix', 'huge', '--partial', '--no-cache']);
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    const doc = JSON.parse(r.stdout) as {
      studies: unknown[];
      issues: Array<{ kind: string; index: number; count?: number; message: string }>;
    };
    assert.ok(doc.studies.length > 0);
    assert.equal(doc.issues.length, 2, JSON.stringify(doc.issues, null, 1));
    assert.deepEqual([doc.issues[0].index, doc.issues[0].count], [5, 3]);
    assert.match(doc.issues[0].message, /huge:log:5 … huge:log:7 are missing \(3 entries/);
    const tail = doc.issues[1];
    assert.equal(tail.index + tail.count!, 1e9);
    assert.match(
      tail.message,
      /no entry exists after .* although the counter huge:log_number says 1000000000 entries/,
    );
    console.log(`      dump of a 10^9 counter: ${r.ms} ms, peak RSS ${r.peakMb.toFixed(0)} MB`);
    assert.ok(r.ms < 30_000, `${r.ms} ms`);
    assert.ok(r.peakMb < 400, `peak RSS ${r.peakMb} MB`);
  });

  it('dump without --partial refuses with the ranges, studies and doctor stay bounded too', async () => {
    const d = await runBundled(['dump', redis.url, '--prefix', 'huge', '--no-cache']);
    assert.equal(d.status, 2);
    assert.match(d.stderr, /\d{9} journal entries could not be read/);
    for (const args of [
      ['studies', redis.url, '--prefix', 'huge', '--no-cache'],
      ['doctor', '--redis', redis.url, '--json'],
      ['monitor', '--redis', redis.url, '--json'],
    ]) {
      const r = await runBundled(args);
      console.log(
        `      ${args[0]}: ${r.ms} ms, peak RSS ${r.peakMb.toFixed(0)} MB, exit ${r.status}`,
      );
      assert.ok(r.status !== null, `${args[0]} ended by ${r.signal}`);
      assert.ok(r.ms < 60_000 && r.peakMb < 400, `${args[0]}: ${r.ms} ms, ${r.peakMb} MB`);
    }
  });

  it('SIGTERM ends every reading verb within seconds, even while Redis is frozen', async () => {
    redis.signal('SIGSTOP');
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-sigterm-'));
      for (const args of [
        ['dump', redis.url, '--prefix', 'huge', '--no-cache'],
        ['studies', redis.url, '--no-cache'],
        ['doctor', '--redis', redis.url],
        ['monitor', '--redis', redis.url],
        ['export', redis.url, '--prefix', 'huge', '--study', 'x', '--to', path.join(dir, 'x.log')],
        ['backup', 'create', '--redis', redis.url, '--dir', dir],
      ]) {
        const r = await runBundled(args, { killAfterMs: 1000 });
        assert.ok(r.ms < 5000, `${args[0]} took ${r.ms} ms after SIGTERM at 1 s`);
        assert.ok(
          [143, 2, 3].includes(r.status!) || r.signal === 'SIGTERM',
          `${args[0]}: ${r.status} ${r.signal}`,
        );
      }
      fs.rmSync(dir, { recursive: true, force: true });
    } finally {
      redis.signal('SIGCONT');
    }
  });
});
