import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { raceAbort, sleep } from '../../src/core/abort';
import { SuiteCancelled } from '../../src/core/stability/abort';
import { sameJson, verdict } from '../../src/core/stability/context';
import { findRedisServer } from '../../src/core/stability/disposableRedis';
import { TOKEN_ATTR, type WriterTrial, tallyWriters } from '../../src/core/stability/pythonWriters';
import type { Study } from '../../src/core/optuna/model';
import { removeStaleTempDirs, suiteTempRoot } from '../../src/core/stability/suiteTempDirs';
import {
  jsonSummary,
  markdownReport,
  parseScenarioList,
  resolveOptions,
  SCENARIOS,
  summaryRows,
  writeReports,
} from '../../src/core/stability';
import { aliveKey, newRunId, runIdOfKey, runPrefix } from '../../src/core/stability/namespace';
import { pythonFloatRepr } from '../../src/core/optuna/pythonJsonDumps';
import { check } from '../../src/core/stability/scenarios';
import { percentile } from '../../src/core/stability/stats';
import type { SuiteResult } from '../../src/core/stability/types';

describe('stability suite core', () => {
  it("writes floats as Python's repr", () => {
    const cases: Array<[number, string]> = [
      [0.5, '0.5'],
      [3, '3.0'],
      [-0, '-0.0'],
      [0, '0.0'],
      [1e-4, '0.0001'],
      [1e-5, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [1e15, '1000000000000000.0'],
      [1e16, '1e+16'],
      [1.2345678901234568e17, '1.2345678901234568e+17'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [123456.789, '123456.789'],
      [-2.5e-5, '-2.5e-05'],
      [NaN, 'NaN'],
      [-Infinity, '-Infinity'],
    ];
    for (const [x, want] of cases) assert.equal(pythonFloatRepr(x), want, String(x));
  });

  it('names runs so leftovers can be recognised, and nothing else matches', () => {
    const id = newRunId(new Date('2026-01-02T03:04:05.678Z'));
    assert.match(id, /^20260102T030405Z-[a-z0-9]{6}$/);
    assert.equal(runIdOfKey(`${runPrefix(id)}:single-study:log:0`), id);
    assert.equal(runIdOfKey(aliveKey(id)), id);
    for (const k of [
      'optuna-storage-suite-other:x',
      'optuna-storage-suite:not-a-run:log:0',
      'my:optuna-storage-suite:20260102T030405Z-abcdef:x',
      'optuna-storage-suite:20260102T030405Z-abcdef',
    ]) {
      assert.equal(runIdOfKey(k), undefined, k);
    }
    assert.ok(newRunId(new Date('2020-01-01T00:00:00Z')) < id, 'run ids sort by start time');
  });

  it('parses scenario lists and validates options', () => {
    assert.deepEqual(parseScenarioList('high-concurrency,basic-connection'), [
      'basic-connection',
      'high-concurrency',
    ]);
    assert.throws(
      () => parseScenarioList('basic-connection,nope'),
      /unknown scenario nope \(known: basic-connection, /,
    );
    assert.equal(SCENARIOS.length, 6);
    assert.ok(SCENARIOS.every((s) => s.label && s.description.length > 40));
    const r = resolveOptions({ redisUrl: 'redis://h', jobs: 50 });
    assert.equal(r.trials, 500);
    assert.throws(
      () => resolveOptions({ redisUrl: 'redis://h', jobs: 0 }),
      /jobs must be a whole number from 1/,
    );
    assert.throws(() => resolveOptions({ redisUrl: 'redis://h', trials: 1.5 }), /trials/);
  });

  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([], 50), undefined);
  });

  it('compares JSON values with ints as number or bigint', () => {
    assert.ok(sameJson({ a: [1, 2n, 'x'] }, { a: [1n, 2, 'x'] }));
    assert.ok(!sameJson(-0, 0));
    assert.ok(sameJson(NaN, NaN));
    assert.ok(!sameJson({ a: 1 }, { a: 1, b: 2 }));
  });

  it('fails a scenario on a broken promise or a problem, naming both', () => {
    const ok = check('failover_ms', 'failover', '< 5000 ms', '12 ms', true);
    const bad = check('recovery_ms', 'recovery', '< 30000 ms', '31000 ms', false);
    assert.deepEqual(verdict([ok], [], 'fine'), { status: 'passed', message: 'fine' });
    assert.deepEqual(verdict([ok, bad], ['3 trials lost'], 'fine'), {
      status: 'failed',
      message: '3 trials lost',
    });
    assert.deepEqual(verdict([ok, bad], [], 'fine'), {
      status: 'failed',
      message: 'recovery: measured 31000 ms, promised < 30000 ms',
    });
  });

  it('cancels waits promptly', async () => {
    const c = new AbortController();
    const t0 = Date.now();
    setTimeout(() => c.abort(new SuiteCancelled()), 20);
    await assert.rejects(sleep(10_000, c.signal), SuiteCancelled);
    await assert.rejects(raceAbort(new Promise(() => undefined), c.signal), SuiteCancelled);
    assert.ok(Date.now() - t0 < 1000);
  });

  describe('reports', () => {
    const result: SuiteResult = {
      runId: '20260102T030405Z-abcdef',
      prefix: 'optuna-storage-suite:20260102T030405Z-abcdef',
      target: { where: 'redis://h:6379', tls: false, db: 0, auth: true, version: '7.0.15' },
      options: { jobs: 30, trials: 300, keep_data: false, sqlite: null },
      startedAt: Date.parse('2026-01-02T03:04:05Z'),
      finishedAt: Date.parse('2026-01-02T03:04:15Z'),
      durationMs: 10_000,
      cancelled: false,
      scenarios: [
        {
          id: 'failover',
          label: 'Failover to SQLite',
          status: 'passed',
          message: 'served after 3 ms',
          metrics: { failover_ms: 3 },
          checks: [
            check('failover_ms', 'time to serve the SQLite fallback', '< 5000 ms', '3 ms', true),
          ],
          startedAt: 0,
          durationMs: 500,
          prefix: 'p:failover',
          server: 'disposable',
          log: ['a | b'],
        },
        {
          id: 'high-concurrency',
          label: 'High concurrency',
          status: 'failed',
          message: '2 trials lost',
          metrics: { lost: 2, trials_per_s: 55.5 },
          checks: [check('lost', 'lost trials', '0', '2', false)],
          startedAt: 0,
          durationMs: 900,
          log: [],
        },
        {
          id: 'connection-recovery',
          label: 'Connection recovery',
          status: 'skipped',
          message: 'no redis-server binary',
          metrics: {},
          checks: [],
          startedAt: 0,
          durationMs: 0,
          log: [],
        },
      ],
      cleanup: {
        removedKeys: 10,
        leftoverPrefixes: ['optuna-storage-suite:20200101T000000Z-aaaaaa'],
        leftoverKeys: 4,
        staleTempDirs: 0,
        errors: [],
      },
    };

    it('show measured vs promised per check, and the JSON summary has exactly the contract fields', () => {
      const rows = summaryRows(result);
      assert.deepEqual(
        rows.map((r) => [r.scenario, r.measured, r.promised, r.ok]),
        [
          ['Failover to SQLite', '3 ms', '< 5000 ms', true],
          ['High concurrency', '2', '0', false],
          ['Connection recovery', 'not run', '—', null],
        ],
      );
      const md = markdownReport(result);
      assert.match(
        md,
        /\| Failover to SQLite \| passed \| time to serve the SQLite fallback \| 3 ms \| < 5000 ms \|/,
      );
      assert.match(md, /\| High concurrency \| failed \| lost trials \| \*\*2\*\* \| 0 \|/);
      assert.match(md, /1 passed, 1 failed, 1 skipped/);
      assert.match(
        md,
        /<details><summary>Log<\/summary>\n\n```\na \| b\n```/,
        'logs verbatim in a folded block',
      );
      const j = jsonSummary(result);
      assert.deepEqual(Object.keys(j), ['scenarios']);
      for (const s of j.scenarios)
        assert.deepEqual(Object.keys(s), ['id', 'status', 'message', 'metrics']);
    });

    it('are written under timestamped names', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-report-'));
      try {
        const f = writeReports(result, path.join(dir, 'sub'));
        assert.equal(path.basename(f.markdown), 'optuna-storage-suite-20260102T030405Z-abcdef.md');
        assert.deepEqual(JSON.parse(fs.readFileSync(f.json, 'utf8')).scenarios.length, 3);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("counts the Python writers' lost, duplicated and left-running trials by their tokens", () => {
    const told = (token: string, value: number): WriterTrial => ({
      worker: 0,
      token,
      number: 0,
      value,
      storage: 'redis',
      pending: 0,
      at: 0,
    });
    const trial = (token: string | undefined, state: string, value: number | null) =>
      ({
        state,
        values: value === null ? null : [value],
        userAttrs: token === undefined ? {} : { [TOKEN_ATTR]: token },
      }) as unknown as Study['trials'][number];
    const study = {
      trials: [
        trial('0-1', 'COMPLETE', 1),
        trial('0-2', 'COMPLETE', 4),
        trial('0-2', 'COMPLETE', 4), // copied twice
        trial('0-3', 'COMPLETE', 99), // another value than the writer told
        trial('0-5', 'RUNNING', null),
        trial(undefined, 'COMPLETE', 7), // not a writer's
      ],
    } as unknown as Study;
    const all = [told('0-1', 1), told('0-2', 4), told('0-3', 9), told('0-4', 16)];
    assert.deepEqual(tallyWriters(all, study, true), {
      checked: 4,
      lost: 2,
      duplicated: 1,
      running: 1,
    });
    // While the writers run, a RUNNING trial is one in flight, not left behind.
    assert.equal(tallyWriters(all, study, false).running, null);
    assert.deepEqual(tallyWriters(all, undefined, true), {
      checked: 4,
      lost: 4,
      duplicated: 0,
      running: 0,
    });
  });

  it('finds redis-server only where it is, and says why not', () => {
    assert.match(findRedisServer('/nonexistent/redis-server').why!, /does not exist/);
    assert.match(
      findRedisServer(undefined, '/nonexistent:/also-not').why!,
      /no redis-server binary on PATH/,
    );
  });

  it('removes temp folders of crashed runs only, and only inside its private folder', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-stale-'));
    try {
      const root = suiteTempRoot(base).dir!;
      assert.equal(fs.statSync(root).mode & 0o777, 0o700);
      const dead = spawnSync('true').pid!; // a pid that has exited
      const mk = (name: string, owner?: object) => {
        fs.mkdirSync(path.join(root, name, 'redis-failover'), { recursive: true });
        if (owner) fs.writeFileSync(path.join(root, name, 'owner.json'), JSON.stringify(owner));
      };
      mk('optuna-storage-suite-20200101T000000Z-aaaaaa', { pid: dead });
      mk('optuna-storage-suite-20200101T000000Z-bbbbbb', { pid: process.pid }); // this process: alive
      mk('optuna-storage-suite-something-else', { pid: dead });
      mk('other', { pid: dead });
      assert.equal(removeStaleTempDirs(root), 1);
      assert.deepEqual(fs.readdirSync(root).sort(), [
        'optuna-storage-suite-20200101T000000Z-bbbbbb',
        'optuna-storage-suite-something-else',
        'other',
      ]);

      // A root open to other users (anyone could have planted folders in it) is not touched.
      mk('optuna-storage-suite-20200101T000000Z-cccccc', { pid: dead });
      fs.chmodSync(root, 0o777);
      assert.equal(removeStaleTempDirs(root), 0);
      assert.match(suiteTempRoot(base).problem!, /open to other users \(mode 777\)/);
      // Nor is a symlink to a folder.
      fs.chmodSync(root, 0o700);
      const link = path.join(base, 'link');
      fs.symlinkSync(root, link);
      assert.equal(removeStaleTempDirs(link), 0);
      assert.ok(fs.existsSync(path.join(root, 'optuna-storage-suite-20200101T000000Z-cccccc')));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
