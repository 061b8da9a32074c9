import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  COMPANION_PACKAGE,
  DEFAULT_PYTHONS,
  findCompanionRoot,
  findPython,
  reconcileArgs,
  runCompanion,
} from '../core/python/companion';
import { parseSentinelList } from '../core/redis/connect';
import { parseRedisUrl, redactUrl, splitPassword } from '../core/redis/url';
import { type CliCommand, EXIT_BAD_INPUT, UsageError } from './command';
import { PASSWORD_ENV } from './storageArgs';

/** The folder that holds python/enhanced_redis_storage: the installed extension, or the repository. */
function extensionRoot(): string {
  const root = findCompanionRoot(__dirname);
  if (!root)
    throw new UsageError(
      `the Python companion (python/${COMPANION_PACKAGE}) is missing from this installation`,
    );
  return root;
}

export const reconcileCommand: CliCommand = {
  name: 'reconcile',
  summary: 'copy the trials an outage left in the SQLite fallback into Redis, each exactly once',
  help: `Usage: optuna-storage reconcile --redis URL [--prefix P] --sqlite PATH [--study NAME] [--dry-run] [--json] [--python PY]

Heals studies a Redis outage split: every trial that finished in the SQLite fallback file and
that the Redis journal lacks (matched by the unique id the Python companion gives each trial,
or, for trials written without it, by state, times, values and params) is appended to the
journal as Optuna's own records, with its params, distributions, values, intermediate values,
attributes and both times; a Redis trial left RUNNING by a process that finished it in
SQLite is completed instead; a study born during the outage is created in Redis first. Trials
still RUNNING in SQLite are left for a later run. Each trial is written once, also when
several reconcilers (or optimizers returning to Redis) run at the same time; a reconcile
interrupted halfway finishes the job when run again. Afterwards every finished SQLite trial is
read back from Redis and compared.

It never writes into a journal that lost entries or was rolled back since the outage (exit 1,
nothing written). The SQLite file is only read. This runs the Python companion shipped with the
extension (python3 -m ${COMPANION_PACKAGE} reconcile), which uses Optuna's own code.

Options:
  --redis URL        redis://[user@]host[:port][/db]; the password in $${PASSWORD_ENV}
                     (a password in the URL is moved there, never onto a command line)
  --sentinel H:P[,H:P...]  reach the master these Redis Sentinels name (--redis then gives
                     only the username and db)
  --sentinel-master NAME   the Sentinel master group name (default mymaster)
  --prefix P         journal key prefix (default "")
  --sqlite PATH      the SQLite fallback file (optuna_fallback.db)
  --study NAME       only this study (default: every study in the SQLite file)
  --dry-run          list what would be copied, write nothing
  --json             {"dry_run", "studies": [{"study", "copied", "completed", "already",
                     "skipped_running", "refused", "verified", ...}], "totals"}
  --python PY        the Python with Optuna and redis-py (default: python3, then /usr/bin/python3)
  -h, --help         this help

Exit status: 0 healed, nothing to do, or a dry run; 1 refused (the journal lost entries or was
emptied or rolled back since the outage) or not verified; 2 bad arguments, no such study, a
file that is not an Optuna SQLite storage, no Python with Optuna; 3 Redis unreachable.`,

  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        redis: { type: 'string' },
        prefix: { type: 'string', default: '' },
        sqlite: { type: 'string' },
        study: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        python: { type: 'string' },
        sentinel: { type: 'string' },
        'sentinel-master': { type: 'string', default: 'mymaster' },
      },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (!values.redis) throw new UsageError('--redis URL is required');
    if (!values.sqlite) throw new UsageError('--sqlite PATH is required');
    try {
      parseRedisUrl(values.redis);
    } catch (e) {
      throw new UsageError(`--redis ${redactUrl(values.redis)}: ${(e as Error).message}`);
    }
    const { url, password } = splitPassword(values.redis);
    const root = extensionRoot();
    let python: string;
    try {
      ({ python } = await findPython(
        values.python ? [values.python] : DEFAULT_PYTHONS,
        root,
        io.signal,
      ));
    } catch (e) {
      io.stderr(`${(e as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
    const r = await runCompanion({
      python,
      extensionRoot: root,
      args: reconcileArgs({
        redisUrl: url,
        sentinel: values.sentinel
          ? { sentinels: parseSentinelList(values.sentinel), name: values['sentinel-master']! }
          : undefined,
        prefix: values.prefix ?? '',
        sqlitePath: path.resolve(values.sqlite),
        study: values.study,
        dryRun: values['dry-run'],
        json: values.json,
        progress: !values.json,
      }),
      password: password ?? (io.env[PASSWORD_ENV] || undefined),
      signal: io.signal,
      env: io.env,
      onStderrLine: (line) => io.stderr(`${line}\n`),
    });
    await io.stdout(r.stdout);
    return r.code;
  },
};
