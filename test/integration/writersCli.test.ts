import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { companionDir } from '../../src/core/python/companion';
import { ENV } from '../../src/core/runs/runner';
import { type CliResult, runCli } from '../helpers/cli';
import { FIXTURES, PYTHON } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import { until } from '../helpers/waitFor';

interface WritersJson {
  writers: Array<{
    pid: number;
    storage: string;
    cause: string | null;
    run_id: string | null;
    source: string;
    prefix: string;
  }>;
  summary: {
    total: number;
    redis: number;
    sqlite: number;
    cause: string | null;
    since: string | null;
  };
  ignored: Array<{ file: string; why: string }>;
}

/** Generous: a Python process starts and fails over on a loaded 2-core machine. */
const WAIT_MS = 90_000;

describe('optuna-storage writers (a real optimizer process on the Python companion, real Redis)', function () {
  this.timeout(240_000);
  let dir: string;
  let db: string;
  let redis: RedisServer;
  let worker: ChildProcess;
  let last: CliResult | undefined;
  const json = () => JSON.parse(last!.stdout) as WritersJson;
  /** Runs the verb until `cond` holds for its JSON output. */
  async function waitFor(args: string[], cond: (j: WritersJson) => boolean, what: string) {
    await until(
      async () => {
        last = await runCli(['writers', ...args, '--json']);
        return last.status <= 1 && cond(json());
      },
      WAIT_MS,
      what,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: last ${JSON.stringify(last)}`);
    });
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-writers-cli-'));
    db = path.join(dir, 'optuna_fallback.db');
    redis = await RedisServer.start();
    worker = spawn(PYTHON, [path.join(FIXTURES, 'writers_worker.py'), '--study', 'w'], {
      env: {
        ...process.env,
        PYTHONPATH: companionDir(path.resolve(__dirname, '..', '..')),
        [ENV.url]: redis.url,
        [ENV.prefix]: 'wcli',
        [ENV.sqlite]: db,
        [ENV.runId]: 'run-7',
      },
      stdio: 'ignore',
    });
  });
  after(async () => {
    if (worker?.exitCode === null) worker.kill('SIGKILL');
    await redis?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the process on Redis from its status file and from its key in Redis (exit 0)', async () => {
    await waitFor(
      ['--sqlite', db],
      (j) => j.summary.redis === 1,
      'the writer on Redis in its file',
    );
    assert.equal(last!.status, 0);
    const [w] = json().writers;
    assert.deepEqual(
      { pid: w.pid, storage: w.storage, run_id: w.run_id, source: w.source, prefix: w.prefix },
      { pid: worker.pid, storage: 'redis', run_id: 'run-7', source: 'file', prefix: 'wcli' },
    );
    await waitFor(['--redis', redis.url], (j) => j.summary.total === 1, 'the writer in Redis');
    assert.deepEqual(
      json().writers.map((x) => [x.pid, x.storage, x.source, x.run_id]),
      [[worker.pid, 'redis', 'redis', 'run-7']],
    );
    // Both: listed once, as the file says.
    last = await runCli(['writers', '--sqlite', db, '--redis', redis.url, '--json']);
    assert.deepEqual(
      json().writers.map((x) => x.source),
      ['file'],
    );
    const table = await runCli(['writers', '--sqlite', db]);
    assert.match(table.stdout, /^PROCESS +STORAGE +SINCE +RUN +CAUSE\n/);
    assert.match(
      table.stdout,
      new RegExp(`:${worker.pid} +redis +\\S+ +run-7\\n1 process: 1 on Redis\\n$`),
    );
  });

  it('Redis frozen: the file says SQLite, with the cause (exit 1); a malformed file is named, not counted', async () => {
    fs.writeFileSync(path.join(`${db}.writers`, 'broken.json'), '{"current_storage": ');
    redis.signal('SIGSTOP');
    try {
      await waitFor(['--sqlite', db], (j) => j.summary.sqlite === 1, 'the writer on SQLite');
      assert.equal(last!.status, 1);
      assert.equal(json().summary.cause, 'timeout (server frozen, paused or overloaded)');
      assert.ok(json().summary.since);
      assert.deepEqual(
        json().ignored.map((i) => [path.basename(i.file), i.why]),
        [['broken.json', 'not JSON']],
      );
      const table = await runCli(['writers', '--sqlite', db]);
      assert.equal(table.status, 1);
      assert.match(table.stdout, /1 process: 1 on SQLite\n$/);
      assert.match(table.stderr, /^not counted: broken\.json: not JSON$/m);
    } finally {
      redis.signal('SIGCONT');
    }
    await waitFor(['--sqlite', db], (j) => j.summary.redis === 1, 'the writer back on Redis');
    assert.equal(last!.status, 0);
  });

  it('the process ends: its file and its key go (nothing listed, exit 0)', async () => {
    worker.kill('SIGTERM');
    await until(() => worker.exitCode !== null, WAIT_MS, 'the worker to exit');
    last = await runCli(['writers', '--sqlite', db, '--redis', redis.url]);
    assert.equal(last.status, 0);
    assert.equal(last.stdout, 'no process of the Python storage found\n');
  });

  it('no --sqlite nor --redis is a usage error (exit 2)', async () => {
    const r = await runCli(['writers']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /give --sqlite PATH \(this machine\) and\/or --redis URL/);
  });
});
