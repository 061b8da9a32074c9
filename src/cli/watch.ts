import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { parseSentinelList } from '../core/redis/connect';
import { FailoverStore } from '../core/storage/failoverStore';
import type { StateEvent, StoreState } from '../core/storage/storeState';
import { type CliCommand, EXIT_OK, UsageError } from './command';
import { PASSWORD_ENV } from './storageArgs';

export const watchCommand: CliCommand = {
  name: 'watch',
  summary: 'run the failover store and print each change between redis, sqlite and offline',
  help: `Usage: optuna-storage watch --redis URL [--prefix P] --sqlite PATH [--json]

Runs the failover store as the extension does (Redis first, the SQLite fallback file while
Redis is unreachable, back to Redis when it answers) and prints one line per state change,
the first line being the initial state. Runs until SIGINT or SIGTERM, then exits 0.

Options:
  --redis URL              redis://[[user]:password@]host[:port][/db] or rediss://
                           (password also from $${PASSWORD_ENV})
  --prefix P               journal key prefix to read (default: every prefix on the server)
  --sqlite PATH            the SQLite fallback file (Optuna RDB)
  --sentinel H:P[,H:P...]  follow a Sentinel set instead of one server (--redis gives db/auth)
  --sentinel-master NAME   the Sentinel master group name (default mymaster)
  --interval SECONDS       how often the journals are read (default 2)
  --json                   each line {"state": "redis|sqlite|offline", "at": <epoch ms>, "detail": "..."}
  -h, --help               this help`,

  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        prefix: { type: 'string' },
        sqlite: { type: 'string' },
        sentinel: { type: 'string' },
        'sentinel-master': { type: 'string', default: 'mymaster' },
        interval: { type: 'string', default: '2' },
        json: { type: 'boolean', default: false },
      },
    });
    if (!values.redis && !values.sentinel)
      throw new UsageError('watch needs --redis URL (or --sentinel)');
    if (!values.sqlite) throw new UsageError('watch needs --sqlite PATH (the fallback file)');
    const interval = Number(values.interval);
    if (!(interval > 0)) throw new UsageError('--interval must be a positive number of seconds');
    if (!fs.existsSync(values.sqlite))
      io.stderr(
        `warning: the SQLite fallback ${values.sqlite} does not exist (yet): while Redis is unreachable the store is offline until it appears\n`,
      );
    const store = new FailoverStore({
      redisUrl: values.redis ?? 'redis://localhost',
      password: io.env[PASSWORD_ENV] || undefined,
      sentinel: values.sentinel
        ? { sentinels: parseSentinelList(values.sentinel), name: values['sentinel-master']! }
        : undefined,
      prefixes: values.prefix !== undefined ? [values.prefix] : undefined,
      sqlitePath: values.sqlite,
    });
    let last: StoreState | undefined;
    const print = (e: StateEvent) => {
      if (e.state === last) return; // degraded flips are not state changes
      last = e.state;
      io.stdout(
        values.json
          ? JSON.stringify({ state: e.state, at: e.at, detail: e.detail }) + '\n'
          : `${new Date(e.at).toISOString()}  ${e.state.padEnd(7)}  ${e.detail}\n`,
      );
    };
    store.on('state', print);
    print(await store.start());
    const timer = setInterval(() => void store.refresh().catch(() => undefined), interval * 1000);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(timer);
    store.close();
    return EXIT_OK;
  },
};
