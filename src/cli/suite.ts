import { parseArgs } from 'node:util';
import { findCompanionRoot } from '../core/python/companion';
import { parseRedisUrl } from '../core/redis/url';
import {
  type ScenarioId,
  type ScenarioResult,
  type SuiteResult,
  counts,
  jsonSummary,
  parseScenarioList,
  runSuite,
  summaryRows,
  writeReports,
} from '../core/stability';
import {
  type CliCommand,
  EXIT_BAD_INPUT,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_UNREACHABLE,
  UsageError,
} from './command';
import { PASSWORD_ENV } from './storageArgs';

/** Exit status of a cancelled run (as a shell reports a command ended by SIGINT). */
export const EXIT_CANCELLED = 130;

export const suiteCommand: CliCommand = {
  name: 'suite',
  summary:
    'stability suite: will this Redis and its SQLite fallback hold a long run with many workers?',
  help: `Usage: optuna-storage suite --redis URL [--sqlite PATH] [--jobs 30] [--trials N] [--only id,id]
                            [--report-dir DIR] [--json]

Runs the stability suite against a Redis server and compares what it measures with the
figures promised for this setup (connection success > 99%, failover < 5 s, recovery < 30 s,
>= 10-20 trials/s with 30 workers, nothing lost or duplicated). Scenarios, in order:
  basic-connection     connect N times, PING latency percentiles, AUTH/TLS/db, eviction policy
  single-study         write a study with Optuna's own journal protocol, read it back, compare
  concurrent-studies   several studies written at once by separate connections
  failover             Redis killed mid-run: time until the SQLite fallback is served
  connection-recovery  Redis back: time until Redis is read again; nothing written is missing
  high-concurrency     --jobs workers asking and telling trials on one study (WAITING-pop race)

Your data is never touched: everything is written under the prefix
optuna-storage-suite:<UTC time>-<random>: and removed afterwards (also after Ctrl-C); keys left
by an earlier run that was killed are found with SCAN and removed first. failover and
connection-recovery never stop your server: they start a disposable redis-server on a free
loopback port with your server's memory and persistence settings (CONFIG GET) or --redis-config,
and are skipped when no redis-server binary is available. There, beside the extension's reader,
real optimizer processes on the Python companion's storage (enhanced_redis_storage) write
through the outage: their failover and recovery times and any trial they lost or duplicated
are reported too (without a Python that has Optuna and redis-py, the report says so).

Options:
  --redis URL           redis://[[user]:password@]host[:port][/db] or rediss:// (TLS)
                        (password also from $${PASSWORD_ENV})
  --sqlite PATH         your SQLite fallback file (Optuna RDB), opened read-only by the failover
                        scenarios; without it they use a scratch file
  --jobs N              high-concurrency workers, each with its own connection (default 30)
  --trials N            trials the high-concurrency workers finish in total (default 10 per job)
  --only ID[,ID...]     run only these scenarios
  --report-dir DIR      write a Markdown and a JSON report there
                        (optuna-storage-suite-<UTC time>-<random>.md / .json)
  --json                print only {"scenarios": [{"id", "status", "message", "metrics"}]}
  --redis-server PATH   redis-server binary for the disposable server (default: from PATH)
  --redis-config FILE   redis.conf for the disposable server instead of CONFIG GET settings
  --outage-ms MS        how long Redis stays down in connection-recovery (default 1500)
  --keep-data           keep the run's journal keys for inspection (the next run removes them)
  --python PY           the Python with Optuna and redis-py for the failover and recovery
                        scenarios' real writers (default: python3, then /usr/bin/python3)
  -h, --help            this help

Exit status: 0 every scenario passed (or was skipped, with the reason); 1 a scenario failed;
2 bad arguments, or the server refused the credentials; 3 the server is unreachable (nothing
else runs); 130 cancelled (SIGINT/SIGTERM; the run still cleans up).`,

  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        sqlite: { type: 'string' },
        jobs: { type: 'string', default: '30' },
        trials: { type: 'string' },
        only: { type: 'string' },
        'report-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        'redis-server': { type: 'string' },
        'redis-config': { type: 'string' },
        'outage-ms': { type: 'string' },
        'keep-data': { type: 'boolean', default: false },
        python: { type: 'string' },
      },
    });
    if (!values.redis) throw new UsageError('suite needs --redis URL');
    try {
      parseRedisUrl(values.redis);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const whole = (
      name: string,
      text: string | undefined,
      min: number,
      max: number,
    ): number | undefined => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < min || n > max)
        throw new UsageError(
          `--${name} must be a whole number from ${min} to ${max} (got "${text}")`,
        );
      return n;
    };
    const jobs = whole('jobs', values.jobs, 1, 1000)!;
    const trials = whole('trials', values.trials, 1, 10_000_000);
    const outageMs = whole('outage-ms', values['outage-ms'], 0, 3_600_000);
    let only: ScenarioId[] | undefined;
    if (values.only !== undefined) {
      try {
        only = parseScenarioList(values.only);
      } catch (e) {
        throw new UsageError(`--only: ${(e as Error).message}`);
      }
    }

    const out = (line: string) => {
      if (!values.json) io.stdout(line + '\n');
    };
    const result: SuiteResult = await runSuite(
      {
        redisUrl: values.redis,
        password: io.env[PASSWORD_ENV] || undefined,
        sqlitePath: values.sqlite,
        only,
        jobs,
        trials,
        outageMs,
        redisServerPath: values['redis-server'],
        redisConfigFile: values['redis-config'],
        keepData: values['keep-data'],
        searchPath: io.env.PATH,
        companionRoot: findCompanionRoot(__dirname),
        pythons: values.python ? [values.python] : undefined,
      },
      {
        signal: io.signal,
        onScenarioStart: (s) => out(`\n▶ ${s.id}: ${s.label}`),
        onLog: (line, id) => out(id ? `  ${line}` : line),
        onScenarioEnd: (r) => out(`${mark(r)} ${r.id}: ${r.message}`),
      },
    );

    if (values['report-dir']) {
      const files = writeReports(result, values['report-dir']);
      if (!values.json) out(`\nReports: ${files.markdown}\n         ${files.json}`);
    }
    for (const e of result.cleanup.errors) io.stderr(`optuna-storage suite: cleanup: ${e}\n`);
    if (values.json) io.stdout(JSON.stringify(jsonSummary(result)) + '\n');
    else out('\n' + table(result));

    if (result.cancelled) return EXIT_CANCELLED;
    if (result.unreachable)
      return result.unreachable.failure === 'unreachable' ? EXIT_UNREACHABLE : EXIT_BAD_INPUT;
    return counts(result).failed > 0 ? EXIT_FAILED : EXIT_OK;
  },
};

function mark(r: ScenarioResult): string {
  return r.status === 'passed' ? '✔ PASS' : r.status === 'failed' ? '✘ FAIL' : '– SKIP';
}

/** The final "measured vs promised" table, plain text. */
export function table(result: SuiteResult): string {
  const head = ['Scenario', 'Status', 'Check', 'Measured', 'Promised'];
  const rows = summaryRows(result).map((r) => [
    r.scenario,
    r.status,
    r.what,
    r.measured,
    r.promised,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  const c = counts(result);
  const lines = [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)];
  lines.push(
    '',
    `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped in ${(result.durationMs / 1000).toFixed(1)} s${result.cancelled ? ' (cancelled)' : ''}`,
  );
  return lines.join('\n') + '\n';
}
