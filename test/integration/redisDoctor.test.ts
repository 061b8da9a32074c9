import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { effectiveSettings, loadConfigFile } from '../../src/core/redis/configFile';
import { scanJournalGaps } from '../../src/core/redis/journalScan';
import Redis from 'ioredis';
import { runCli } from '../helpers/cli';
import { FIXTURES, runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

interface DoctorJson {
  findings: Array<{ id: string; severity: string; title: string; evidence: string; fix: string }>;
  fixed: Array<{ command: string; ok: boolean; file?: string }>;
  journals: Array<{
    prefix: string;
    entries: number;
    missing: number;
    missing_ranges: Array<[number, number]>;
  }>;
}

async function doctor(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number; doc: DoctorJson; stderr: string; stdout: string }> {
  const r = await runCli(['doctor', '--json', ...args], env);
  return {
    status: r.status,
    doc: JSON.parse(r.stdout) as DoctorJson,
    stderr: r.stderr,
    stdout: r.stdout,
  };
}

const idsOf = (d: DoctorJson) => d.findings.map((f) => f.id);

/** A copy of the circulated config in a temp dir: CONFIG REWRITE must never edit the fixture. */
function badConfigCopy(dir: string): string {
  const file = path.join(dir, 'redis.conf');
  fs.copyFileSync(path.join(FIXTURES, 'redis-common-bad.conf'), file);
  return file;
}

describe('doctor against real redis-server', function () {
  let dir: string;
  const servers: RedisServer[] = [];
  const start = async (opts: ConstructorParameters<typeof RedisServer>[0]) => {
    const s = await RedisServer.start(opts);
    servers.push(s);
    return s;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-doctor-'));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('catches eviction, no persistence and the public bind of a server started with the circulated config', async () => {
    const conf = badConfigCopy(dir);
    // The helper keeps the server itself on loopback; the file it was started from says 0.0.0.0.
    const server = await start({ configFile: conf });
    const { status, doc, stdout } = await doctor(['--redis', server.url]);
    assert.equal(status, 1, stdout);
    for (const id of ['eviction-policy', 'no-persistence', 'public-bind']) {
      const f = doc.findings.find((x) => x.id === id);
      assert.ok(f, `${id} missing from ${idsOf(doc).join(', ')}`);
      assert.equal(f.severity, 'error');
    }
    const evict = doc.findings.find((x) => x.id === 'eviction-policy')!;
    assert.match(evict.evidence, /allkeys-lru" \(running server\)/);
    assert.match(
      evict.evidence,
      new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+`),
    );
    assert.match(
      doc.findings.find((x) => x.id === 'public-bind')!.evidence,
      /bind "0\.0\.0\.0".*protected-mode "no"/,
    );

    // The file alone, without a server: the same three.
    const fileOnly = await doctor(['--config', path.join(FIXTURES, 'redis-common-bad.conf')]);
    assert.equal(fileOnly.status, 1);
    for (const id of ['eviction-policy', 'no-persistence', 'public-bind'])
      assert.ok(idsOf(fileOnly.doc).includes(id), id);
  });

  it('reports evicted keys and names the missing entries of an Optuna journal', async () => {
    const server = await start({});
    await runPython('generate.py', ['--redis', server.url, '--prefix', 'fx']);
    const c = server.client();
    try {
      const entries = Number(await c.get('fx:log_number')) + 1;
      // Redis's LRU clock ticks once a second: let the journal age, then go a little over a
      // tight limit so that the least recently used keys, old journal entries, are evicted.
      await new Promise((r) => setTimeout(r, 1100));
      const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
      await c.config('SET', 'maxmemory', String(used + 200_000));
      await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const filler = 'x'.repeat(2000);
      for (let i = 0; i < 250; i++) {
        await c.set(`filler:${i}`, filler);
        await c.get('fx:log_number');
      }
      const { status, doc } = await doctor(['--redis', server.url]);
      assert.equal(status, 1);
      const evicted = doc.findings.find((f) => f.id === 'evicted-keys');
      assert.ok(evicted && evicted.severity === 'error', idsOf(doc).join(', '));
      const journal = doc.journals.find((j) => j.prefix === 'fx')!;
      assert.equal(journal.entries, entries);
      assert.ok(journal.missing > 0, 'some journal entries were evicted');
      // The reported indexes are exactly the absent keys.
      const [first, last] = journal.missing_ranges[0];
      assert.equal(await c.exists(`fx:log:${first}`), 0);
      assert.equal(await c.exists(`fx:log:${last}`), 0);
      if (first > 0) assert.equal(await c.exists(`fx:log:${first - 1}`), 1);
      let absent = 0;
      for (let i = 0; i < entries; i++) absent += (await c.exists(`fx:log:${i}`)) === 0 ? 1 : 0;
      assert.equal(journal.missing, absent);
      const gaps = doc.findings.find((f) => f.id === 'journal-gaps')!;
      assert.equal(gaps.severity, 'error');
      assert.match(gaps.evidence, new RegExp(`fx:log:${first}`));
    } finally {
      c.disconnect();
    }
  });

  it('gap scan cancelled while batches are in flight and the connection then drops: rejects with the cancel, leaves no unhandled rejection', async () => {
    const server = await start({});
    const c = server.client();
    // The first 1,000 entries exist, the next 7,000 do not: the first batch answers at once, the
    // others go on to name their missing keys one EXISTS each, so they are in flight at the cancel.
    await c.set('cut:log_number', 7999);
    await c.mset(...Array.from({ length: 1000 }, (_, i) => [`cut:log:${i}`, '{}']).flat());
    c.disconnect();
    // The scanner talks through a proxy in this process, so cutting it drops every reply not yet
    // delivered: the batches in flight then fail for certain.
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((down) => {
      const up = net.connect(server.port, '127.0.0.1');
      for (const [a, b] of [
        [down, up],
        [up, down],
      ]) {
        sockets.add(a);
        a.on('error', () => undefined);
        a.pipe(b);
      }
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const scanner = new Redis({
      port: (proxy.address() as net.AddressInfo).port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 0,
    });
    scanner.on('error', () => undefined);
    const ac = new AbortController();
    const scan = scanJournalGaps(scanner, 'cut', {
      signal: ac.signal,
      onProgress: () => {
        ac.abort(new Error('cancelled by the test'));
        proxy.close();
        for (const s of sockets) s.destroy();
      },
    });
    await assert.rejects(scan, /cancelled by the test/);
    await new Promise((r) => setTimeout(r, 500)); // the dropped batches fail now; the root hook reports unhandled ones
    scanner.disconnect();
  });

  it('--fix sets noeviction and turns the AOF on live, and CONFIG REWRITE keeps it in the config file', async () => {
    const conf = badConfigCopy(dir);
    const server = await start({ configFile: conf });
    const c = server.client();
    try {
      await c.set('keep', 'me');
      const refused = await runCli(['doctor', '--redis', server.url, '--fix']);
      assert.equal(refused.status, 2, 'no terminal and no --yes: nothing is changed');
      assert.match(refused.stderr, /pass --yes/);
      assert.equal(((await c.config('GET', 'maxmemory-policy')) as string[])[1], 'allkeys-lru');

      const { doc, status } = await doctor(['--redis', server.url, '--fix', '--yes']);
      assert.deepEqual(
        doc.fixed.map((f) => [f.command, f.ok]),
        [
          ['CONFIG SET maxmemory-policy noeviction', true],
          ['CONFIG SET appendonly yes', true],
          ['CONFIG REWRITE', true],
        ],
      );
      assert.equal(doc.fixed[2].file, conf);
      assert.equal(((await c.config('GET', 'maxmemory-policy')) as string[])[1], 'noeviction');
      assert.equal(((await c.config('GET', 'appendonly')) as string[])[1], 'yes');
      assert.ok(fs.existsSync(path.join(server.dir, 'appendonlydir')), 'the AOF was written');
      const file = effectiveSettings(loadConfigFile(conf));
      assert.equal(file.get('maxmemory-policy')!.value, 'noeviction');
      assert.equal(file.get('appendonly')!.value, 'yes');
      assert.ok(
        !idsOf(doc).includes('eviction-policy') && !idsOf(doc).includes('no-persistence'),
        idsOf(doc).join(', '),
      );
      assert.equal(status, 0, JSON.stringify(doc.findings));
      assert.equal(await c.get('keep'), 'me');
    } finally {
      c.disconnect();
    }
  });

  it('never prints the password, and maps failures to exit statuses', async () => {
    const password = 'sekrit-Pa55word';
    const server = await start({ password, args: ['--maxmemory-policy', 'allkeys-lru'] });
    const r = await runCli(['doctor', '--redis', server.url], {
      OPTUNA_STORAGE_REDIS_PASSWORD: password,
    });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /eviction-policy/);
    const json = await runCli([
      'doctor',
      '--json',
      '--redis',
      `redis://:${password}@127.0.0.1:${server.port}`,
    ]);
    for (const out of [r.stdout, r.stderr, json.stdout, json.stderr])
      assert.ok(!out.includes(password), 'password leaked');

    const wrong = await runCli(['doctor', '--redis', server.url], {
      OPTUNA_STORAGE_REDIS_PASSWORD: 'wrong',
    });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /credentials/);
    const down = await runCli(['doctor', '--redis', 'redis://127.0.0.1:1']);
    assert.equal(down.status, 3);
    assert.equal((await runCli(['doctor'])).status, 2);
    assert.equal((await runCli(['doctor', '--config', path.join(dir, 'missing.conf')])).status, 1);
  });
});
