import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';
import {
  type ScenarioResult,
  type SuiteResult,
  markdownReport,
  runSuite,
} from '../../src/core/stability';
import { findPython } from '../../src/core/python/companion';
import { DisposableRedis } from '../../src/core/stability/disposableRedis';
import { TEMP_DIR_PREFIX, suiteTempRoot } from '../../src/core/stability/suiteTempDirs';
import { runCli } from '../helpers/cli';
import { assertPassed } from '../helpers/suiteStatus';
import { assertSameDump } from '../helpers/compareDumps';
import { PYTHON, runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

const byId = (r: SuiteResult, id: string): ScenarioResult => r.scenarios.find((s) => s.id === id)!;
/** Small but complete: every scenario, a few seconds. */
const SMALL = { jobs: 8, trials: 80, connectAttempts: 50, pings: 100, outageMs: 500 } as const;

async function suiteKeys(server: RedisServer): Promise<string[]> {
  const c = server.client();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await c.scan(cursor, 'MATCH', 'optuna-storage-suite*', 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  } finally {
    c.disconnect();
  }
}

/**
 * redis-server processes whose working directory is under `dir` (a disposable server runs in
 * its data folder inside the suite's temp folder; other test runs on this machine do not).
 */
function redisServersUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('redis-server')) continue;
      if (fs.readlinkSync(`/proc/${d}/cwd`).startsWith(dir)) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
}

const REPO = path.resolve(__dirname, '..', '..');
const WRITER_CHECKS = [
  'writers_failover_ms',
  'writers_recovery_ms',
  'writers_lost',
  'writers_duplicated',
];

/** The suite's Python writers running on this machine (read from /proc; this test runs as their user). */
function suiteWorkers(): Array<{ pid: number; cmdline: string; password?: string }> {
  const out: Array<{ pid: number; cmdline: string; password?: string }> = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (!cmdline.includes('enhanced_redis_storage suite-worker')) continue;
      const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      const pw = env.find((e) => e.startsWith('OPTUNA_STORAGE_REDIS_PASSWORD='));
      out.push({ pid: Number(d), cmdline, password: pw?.slice(pw.indexOf('=') + 1) });
    } catch {
      // gone
    }
  }
  return out;
}

describe('stability suite against a healthy redis-server', function () {
  this.timeout(120_000);
  // A healthy journal server: AOF on, so a crashed and restarted Redis keeps every append.
  let server: RedisServer;
  let tmp: string;
  before(async () => {
    server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-suite-'));
  });
  after(async () => {
    await server?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('passes all six scenarios, reports through the hooks, and real Optuna reads what scenarios 2 and 6 wrote', async () => {
    const started: string[] = [];
    const ended: string[] = [];
    const logs: string[] = [];
    const result = await runSuite(
      { redisUrl: server.url, ...SMALL, keepData: true, tmpDir: tmp },
      {
        onScenarioStart: (s) => started.push(s.id),
        onScenarioEnd: (r) => ended.push(`${r.id}:${r.status}`),
        onLog: (l) => logs.push(l),
      },
    );
    try {
      for (const s of result.scenarios)
        assert.equal(s.status, 'passed', `${s.id}: ${s.message}\n${s.log.join('\n')}`);
      assert.deepEqual(started, [
        'basic-connection',
        'single-study',
        'concurrent-studies',
        'failover',
        'connection-recovery',
        'high-concurrency',
      ]);
      assert.equal(ended.length, 6);
      assert.ok(logs.length > 20);
      const m = (id: string) => byId(result, id).metrics;
      assert.equal(m('basic-connection').connection_success_rate, 1);
      assert.ok((m('failover').failover_ms as number) < 5000);
      // A frozen server is noticed by the health-check PING (0.25 s interval, 0.5 s deadline).
      assert.ok(
        (m('failover').failover_freeze_ms as number) >= 400,
        `freeze noticed after ${m('failover').failover_freeze_ms} ms`,
      );
      assert.equal(
        m('failover').failover_ms,
        Math.max(
          m('failover').failover_freeze_ms as number,
          m('failover').failover_crash_ms as number,
        ),
      );
      assert.ok((m('connection-recovery').recovery_ms as number) < 30_000);
      assert.ok(
        (m('connection-recovery').trials_during as number) > 0,
        'some trials were written across the outage',
      );
      assert.equal(m('connection-recovery').lost, 0);
      // Without the companion's folder, no Python writers: the report says why.
      assert.match(
        String(m('failover').writers),
        /^not run: the Python companion .* is not part of this installation/,
      );
      const hc = m('high-concurrency');
      assert.deepEqual(
        [hc.lost, hc.duplicates, hc.trials_finished, hc.workers_failed],
        [0, 0, 80, 0],
      );
      for (const k of ['trials_per_s', 'append_p50_ms', 'append_p99_ms'])
        assert.equal(typeof hc[k], 'number', k);
      assert.ok(result.durationMs < 30_000, `the small run took ${result.durationMs} ms`);
      assert.deepEqual(
        fs.readdirSync(suiteTempRoot(tmp).dir!),
        [],
        'temp folder and scratch SQLite removed',
      );
      assert.deepEqual(redisServersUnder(tmp), [], 'disposable servers gone');

      // Scenario 2: Optuna's own view equals ours, and load_study works as for a normal study.
      const single = byId(result, 'single-study').prefix!;
      const theirs = await runPython('optuna_dump.py', [server.url, '--prefix', single]);
      const ours = await runCli(['dump', server.url, '--prefix', single, '--no-cache']);
      assert.equal(ours.status, 0, ours.stderr);
      assert.deepEqual(assertSameDump(ours.stdout, theirs, 'single-study'), {
        studies: 1,
        trials: 40,
      });
      const s2 = JSON.parse(
        await runPython('suite_load_study.py', [server.url, single, 'suite-single-study']),
      );
      assert.equal(s2.n_trials, 40);
      assert.deepEqual(s2.numbers, [...Array(40).keys()]);
      assert.deepEqual(s2.states, { COMPLETE: 32, PRUNED: 5, FAIL: 3 });
      assert.equal(typeof s2.best_value, 'number');
      assert.deepEqual(Object.keys(s2.best_params).sort(), ['lr', 'n', 'opt', 'x']);

      // Scenario 6: every trial of the 8 workers, numbered 0..79 without a gap, all COMPLETE.
      const hcPrefix = byId(result, 'high-concurrency').prefix!;
      const s6 = JSON.parse(
        await runPython('suite_load_study.py', [server.url, hcPrefix, 'suite-high-concurrency']),
      );
      assert.deepEqual(s6.states, { COMPLETE: 80 });
      assert.deepEqual(s6.numbers, [...Array(80).keys()]);
      const hcOurs = await runCli(['dump', server.url, '--prefix', hcPrefix, '--no-cache']);
      assertSameDump(
        hcOurs.stdout,
        await runPython('optuna_dump.py', [server.url, '--prefix', hcPrefix]),
        'high-concurrency',
      );
    } finally {
      // keepData left the keys for Optuna; a run leaves nothing else behind.
      const c = server.client();
      const keys = await suiteKeys(server);
      assert.ok(
        keys.every((k) => k.startsWith(`${result.prefix}:`)) &&
          !keys.includes(`${result.prefix}:alive`),
      );
      if (keys.length) await c.unlink(...keys);
      c.disconnect();
    }
  });

  it("failover and connection-recovery start real Python writers on the companion: their failover and recovery times beside the reader's, none lost or duplicated, the password only in their environment", async function () {
    try {
      await findPython([PYTHON], REPO);
    } catch (e) {
      console.log(`      skipped: no Python with Optuna and redis-py: ${(e as Error).message}`);
      this.skip();
    }
    const seen = new Map<number, { cmdline: string; password?: string }>();
    const result = await runSuite(
      {
        redisUrl: server.url,
        only: ['failover', 'connection-recovery'],
        outageMs: 500,
        tmpDir: tmp,
        companionRoot: REPO,
        pythons: [PYTHON],
      },
      {
        onLog: (line) => {
          if (!/Python writers on the companion's storage/.test(line)) return;
          for (const w of suiteWorkers()) seen.set(w.pid, w);
        },
      },
    );
    for (const s of result.scenarios) assertPassed(s);
    const figures: string[] = [];
    for (const s of result.scenarios) {
      const m = s.metrics;
      assert.match(String(m.writers), /^2 × .+ \(Optuna \d/, s.id);
      for (const k of ['writers_failover_ms', 'writers_recovery_ms', 'writers_trials_checked'])
        assert.equal(typeof m[k], 'number', `${s.id} ${k}`);
      assert.ok((m.writers_trials_checked as number) > 0, s.id);
      assert.deepEqual(
        [m.writers_lost, m.writers_duplicated, m.writers_running_left],
        // The failover scenario checks while the writers run (each has a trial in flight).
        [0, 0, s.id === 'failover' ? null : 0],
        `${s.id}: ${s.message}`,
      );
      // Beside the reader's figures, as checks of their own.
      assert.deepEqual(
        s.checks.map((c) => c.metric),
        s.id === 'failover'
          ? ['failover_ms', 'fallback_served', ...WRITER_CHECKS]
          : ['recovery_ms', 'lost', ...WRITER_CHECKS],
      );
      figures.push(
        `${s.id}: writers on SQLite after ${m.writers_failover_ms} ms, on Redis again after ${m.writers_recovery_ms} ms, ${m.writers_trials_checked}/${m.writers_trials} trials checked`,
      );
    }
    const fo = byId(result, 'failover').metrics;
    assert.equal(
      fo.writers_failover_ms,
      Math.max(fo.writers_failover_freeze_ms as number, fo.writers_failover_crash_ms as number),
    );
    // Every trial the recovery scenario's writers told is checked against the restarted Redis.
    const cr = byId(result, 'connection-recovery').metrics;
    assert.equal(cr.writers_trials_checked, cr.writers_trials);
    assert.match(markdownReport(result), /\| Python writers: trials duplicated \| 0 \| 0 \|/);
    // Two writers per scenario were seen; the password was in their environment only.
    assert.ok(seen.size >= 2, `writer processes seen: ${seen.size}`);
    for (const w of seen.values()) {
      assert.ok(w.password, "the disposable server's password is in the environment");
      assert.ok(!w.cmdline.includes(w.password!), 'no password on the command line');
    }
    assert.deepEqual(suiteWorkers(), [], 'no writer left running');
    console.log(`      ${figures.join('\n      ')}`);
  });

  it('CLI: 30 workers, --json with exactly the contract fields, exit 0, reports written, nothing left on the server', async () => {
    const reports = path.join(tmp, 'reports');
    const t0 = Date.now();
    const r = await runCli([
      'suite',
      '--redis',
      server.url,
      '--jobs',
      '30',
      '--json',
      '--report-dir',
      reports,
    ]);
    const ms = Date.now() - t0;
    const doc = JSON.parse(r.stdout);
    // Exit 0 when every scenario passed; 1 only when the Python writers were slow (assertPassed).
    const allPassed = doc.scenarios.every((s: { status: string }) => s.status === 'passed');
    assert.equal(r.status, allPassed ? 0 : 1, r.stdout + r.stderr);
    assert.deepEqual(Object.keys(doc), ['scenarios']);
    assert.deepEqual(
      doc.scenarios.map((s: { id: string }) => s.id),
      [
        'basic-connection',
        'single-study',
        'concurrent-studies',
        'failover',
        'connection-recovery',
        'high-concurrency',
      ],
    );
    for (const s of doc.scenarios) {
      assert.deepEqual(Object.keys(s), ['id', 'status', 'message', 'metrics']);
      assertPassed(s);
    }
    const m = (id: string) => doc.scenarios.find((s: { id: string }) => s.id === id).metrics;
    assert.equal(typeof m('failover').failover_ms, 'number');
    assert.equal(typeof m('connection-recovery').recovery_ms, 'number');
    const hc = m('high-concurrency');
    assert.equal(hc.workers, 30);
    assert.equal(hc.trials_finished, 300);
    assert.deepEqual([hc.lost, hc.duplicates], [0, 0]);
    assert.ok(hc.trials_per_s >= 10, `${hc.trials_per_s} trials/s`);
    for (const k of ['append_p50_ms', 'append_p99_ms']) assert.equal(typeof hc[k], 'number');
    const files = fs.readdirSync(reports).sort();
    assert.equal(files.length, 2);
    assert.match(files[0], /^optuna-storage-suite-\d{8}T\d{6}Z-[a-z0-9]{6}\.json$/);
    assert.match(fs.readFileSync(path.join(reports, files[1]), 'utf8'), /## Measured vs promised/);
    assert.deepEqual(await suiteKeys(server), []);
    console.log(
      `      default run with 30 workers: ${(ms / 1000).toFixed(1)} s, ${hc.trials_per_s} trials/s, append p50 ${hc.append_p50_ms} ms / p99 ${hc.append_p99_ms} ms`,
    );
  });

  it('CLI without --json: progress lines and a final table of measured vs promised', async () => {
    // Without a Python that has Optuna, the outage scenarios run without writers, saying why.
    const noPython = path.join(tmp, 'no-such-python3');
    const r = await runCli([
      'suite',
      '--redis',
      server.url,
      '--only',
      'basic-connection,failover',
      '--python',
      noPython,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /▶ basic-connection: Basic connection\n/);
    assert.match(
      r.stdout,
      /✔ PASS failover: the store served the SQLite fallback \d+ ms after Redis froze and \d+ ms after it was killed/,
    );
    assert.match(r.stdout, /Scenario +Status +Check +Measured +Promised\n/);
    assert.match(
      r.stdout,
      /Failover to SQLite +passed +time to serve the SQLite fallback +\d+ ms +< 5000 ms/,
    );
    assert.match(r.stdout, /2 passed, 0 failed, 0 skipped in/);
    assert.ok(
      r.stdout.includes(
        `; no Python writers (no Python with Optuna and redis-py found (${noPython}:`,
      ),
      r.stdout,
    );
  });

  it('removes leftovers of interrupted earlier runs (SCAN), never a live run or anything outside the pattern', async () => {
    const c = server.client();
    const stale = 'optuna-storage-suite:20200101T000000Z-abc123';
    const live = 'optuna-storage-suite:20200101T000001Z-live00';
    const others = [
      'myproj:log_number',
      'myproj:log:0',
      ':log_number',
      ':log:0',
      'optuna-storage-suite-other:log:0',
      'optuna-storage-suite:not-a-run:log:0',
      'x:optuna-storage-suite:20200101T000000Z-abc123:log:0',
    ];
    await c.set(`${stale}:single-study:log_number`, '1');
    await c.set(`${stale}:single-study:log:0`, '{}');
    await c.set(`${stale}:single-study:log:1`, '{}');
    await c.set(`${stale}:high-concurrency:log:0`, '{}');
    await c.set(`${live}:high-concurrency:log:0`, '{}');
    await c.set(`${live}:alive`, '1', 'PX', 60_000);
    for (const k of others) await c.set(k, 'user data');

    // And a crashed run's temp folder with its disposable redis-server still running: started
    // by the suite's own class in the private folder, then abandoned as a SIGKILLed run would.
    const root = suiteTempRoot(tmp).dir!;
    const crashed = path.join(root, `${TEMP_DIR_PREFIX}20200101T000000Z-abc123`);
    fs.mkdirSync(crashed, { mode: 0o700 });
    fs.writeFileSync(path.join(crashed, 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345 }));
    const orphan = new DisposableRedis({
      binary: 'redis-server',
      parentDir: crashed,
      name: 'redis-failover',
    });
    await orphan.start();
    const orphanPid = orphan.pid!;
    try {
      const result = await runSuite({
        redisUrl: server.url,
        only: ['basic-connection'],
        connectAttempts: 5,
        pings: 5,
        tmpDir: tmp,
      });
      assert.equal(result.scenarios[0].status, 'passed');
      assert.deepEqual(result.cleanup.leftoverPrefixes, [stale]);
      assert.equal(result.cleanup.leftoverKeys, 4);
      assert.equal(result.cleanup.staleTempDirs, 1);
      assert.deepEqual(await suiteKeys(server), [
        'optuna-storage-suite-other:log:0',
        `${live}:alive`,
        `${live}:high-concurrency:log:0`,
        'optuna-storage-suite:not-a-run:log:0',
      ]);
      for (const k of others) assert.equal(await c.get(k), 'user data', k);
      assert.ok(!fs.existsSync(crashed));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(orphan.pid, undefined, "the crashed run's disposable redis-server was killed");
      assert.ok(!fs.existsSync(`/proc/${orphanPid}`));
    } finally {
      await c.unlink(...others, `${live}:alive`, `${live}:high-concurrency:log:0`);
      c.disconnect();
      await orphan.dispose();
    }
  });

  it('cancel (AbortSignal) mid-outage: stops within a second, cleans up keys, disposable server and temp folder', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const resultP = runSuite(
      { redisUrl: server.url, ...SMALL, outageMs: 20_000, tmpDir: tmp },
      {
        signal: controller.signal,
        onLog: (line, id) => {
          if (id === 'connection-recovery' && /killed \(SIGKILL\)/.test(line)) {
            setTimeout(() => {
              abortedAt = Date.now();
              controller.abort();
            }, 300);
          }
        },
      },
    );
    const result = await resultP;
    const stopMs = Date.now() - abortedAt;
    assert.ok(abortedAt > 0);
    assert.ok(stopMs < 2000, `returned ${stopMs} ms after the abort`);
    assert.equal(result.cancelled, true);
    assert.deepEqual(
      result.scenarios.map((s) => `${s.id}:${s.status}`),
      [
        'basic-connection:passed',
        'single-study:passed',
        'concurrent-studies:passed',
        'failover:passed',
        'connection-recovery:skipped',
        'high-concurrency:skipped',
      ],
    );
    assert.equal(byId(result, 'connection-recovery').message, 'cancelled');
    assert.deepEqual(await suiteKeys(server), []);
    assert.deepEqual(fs.readdirSync(suiteTempRoot(tmp).dir!), []);
    assert.deepEqual(redisServersUnder(tmp), [], 'the disposable server is gone');
  });

  it('CLI: cancel through io.signal exits 130 after cleaning up', async () => {
    const controller = new AbortController();
    let out = '';
    setTimeout(() => controller.abort(), 400);
    const status = await main(
      [
        'suite',
        '--redis',
        server.url,
        '--jobs',
        '4',
        '--trials',
        '1000000',
        '--only',
        'high-concurrency',
      ],
      {
        stdout: (t) => void (out += t),
        stderr: (t) => void (out += t),
        signal: controller.signal,
        env: {},
      },
    );
    assert.equal(status, 130, out);
    assert.match(out, /0 passed, 0 failed, 1 skipped in .*\(cancelled\)/);
    assert.deepEqual(await suiteKeys(server), []);
  });

  it("--sqlite: the user's fallback file is served and left byte for byte unchanged; a missing one fails failover with the reason", async () => {
    const db = path.join(tmp, 'user-fallback.db');
    await runPython('small_db.py', [db]);
    const before = fs.readFileSync(db);
    const ok = await runCli([
      'suite',
      '--redis',
      server.url,
      '--only',
      'failover',
      '--sqlite',
      db,
      '--json',
    ]);
    assert.equal(ok.status, 0, ok.stdout);
    const m = JSON.parse(ok.stdout).scenarios[0].metrics;
    assert.equal(m.fallback, db);
    assert.equal(m.fallback_studies, 1);
    assert.ok(fs.readFileSync(db).equals(before), 'the fallback file is only read');
    const missing = await runCli([
      'suite',
      '--redis',
      server.url,
      '--only',
      'failover',
      '--sqlite',
      path.join(tmp, 'nope.db'),
      '--json',
    ]);
    assert.equal(missing.status, 1);
    assert.match(
      JSON.parse(missing.stdout).scenarios[0].message,
      /^the SQLite fallback cannot be read \(SQLite file .*nope\.db does not exist\): while Redis is unreachable the store would be offline$/,
    );
    fs.rmSync(db);
  });

  it('skips the outage scenarios, with the reason, where no redis-server binary is available', async () => {
    const boom = () => {
      throw new Error('a hook that throws does not break the run');
    };
    const r1 = await runSuite(
      {
        redisUrl: server.url,
        only: ['failover', 'connection-recovery'],
        searchPath: '/nonexistent',
        tmpDir: tmp,
      },
      { onLog: boom, onScenarioStart: boom, onScenarioEnd: boom },
    );
    assert.equal(r1.scenarios.length, 2);
    for (const s of r1.scenarios) {
      assert.equal(s.status, 'skipped');
      assert.match(
        s.message,
        /needs a disposable redis-server to stop and restart, and no redis-server binary on PATH/,
      );
    }
    const r2 = await runCli([
      'suite',
      '--redis',
      server.url,
      '--only',
      'failover',
      '--redis-server',
      '/opt/none/redis-server',
      '--json',
    ]);
    assert.equal(r2.status, 0);
    assert.match(
      JSON.parse(r2.stdout).scenarios[0].message,
      /the redis-server binary \/opt\/none\/redis-server does not exist/,
    );
    assert.equal(JSON.parse(r2.stdout).scenarios[0].status, 'skipped');
  });

  it('a disposable server from a config file never takes the user unix socket; AOF off makes recovery fail with the reason', async () => {
    const conf = path.join(tmp, 'user.conf');
    const sock = path.join(tmp, 'user.sock');
    fs.writeFileSync(
      conf,
      `port 6399\nunixsocket ${sock}\nappendonly no\nsave ""\nmaxmemory-policy noeviction\n`,
    );
    try {
      const r = await runSuite({
        redisUrl: server.url,
        only: ['failover', 'connection-recovery'],
        redisConfigFile: conf,
        outageMs: 200,
        tmpDir: tmp,
      });
      assert.equal(byId(r, 'failover').status, 'passed', byId(r, 'failover').message);
      const rec = byId(r, 'connection-recovery');
      assert.equal(rec.status, 'failed');
      assert.match(
        rec.message,
        /acknowledged trials? missing after the restart.*the disposable server ran with config file .*user\.conf/,
      );
      assert.ok(!fs.existsSync(sock));
    } finally {
      fs.rmSync(conf, { force: true });
    }
  });
});
