import { parseArgs } from 'node:util';
import { DEPLOY_DEFAULTS } from '../core/redis/deployConfig';
import { NotDeployedError } from '../core/redis/deployedConfig';
import { describeJournals } from '../core/redis/journalCheck';
import { ConfigValidationError } from '../core/redis/redisProcess';
import { AlreadyRunningError, startDeployed } from '../core/redis/start';
import { type CliCommand, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK } from './command';
import { PASSWORD_ENV } from './storageArgs';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'start the Redis that deploy installed (after a container restart), never a second one',
  help: `Usage: optuna-storage start [--target PATH] [--redis-server B] [--timeout S] [--json]

Starts redis-server with the config deploy installed, the way deploy starts it:
  1. refuses when its port already answers (a second server is never started) or when the
     redis-server named in its pid file is still alive;
  2. refuses when the data directory is missing (an unmounted data disk: Redis would start
     empty there);
  3. validates the config with redis-server on a scratch port and directory;
  4. creates the log and pid directories (a restarted container may have lost them), starts
     redis-server daemonized and waits for PONG, showing the log's last lines if it does not
     come up; then lists the journal prefixes it holds.
A data directory with only an RDB while the config wants the AOF is loaded from the RDB and
switched to the AOF live (Redis 7 would otherwise start empty).

Options:
  --target PATH     the deployed config (default ${DEPLOY_DEFAULTS.target})
  --redis-server B  the redis-server binary (default: redis-server on PATH)
  --timeout S       seconds to wait for PONG while Redis loads its data (default 120)
  --json            print {"url", "version", "pid", "journals": [{"prefix", "entries"}]}
  -h, --help        this help

The password to reach it comes from the config's requirepass, else $${PASSWORD_ENV}.

Exit status: 0 started (or already running from this config); 1 it did not come up, or
another server answers on the port; 2 nothing deployed at the target, or a config Redis refuses.`,

  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        target: { type: 'string', default: DEPLOY_DEFAULTS.target },
        'redis-server': { type: 'string' },
        timeout: { type: 'string', default: '120' },
        json: { type: 'boolean', default: false },
      },
    });
    const timeout = Number(values.timeout);
    if (!(timeout > 0)) {
      io.stderr(`optuna-storage start: --timeout must be a positive number of seconds\n`);
      return EXIT_BAD_INPUT;
    }
    try {
      const r = await startDeployed({
        target: values.target!,
        redisServer: values['redis-server'],
        password: io.env[PASSWORD_ENV] || undefined,
        timeoutMs: timeout * 1000,
        signal: io.signal,
        onStep: (m) => io.stderr(`  ${m}\n`),
      });
      io.stdout(
        values.json
          ? JSON.stringify({
              url: r.url,
              version: r.version,
              pid: r.pid ?? null,
              journals: r.journals.map((j) => ({ prefix: j.prefix, entries: j.entries })),
            }) + '\n'
          : `Redis ${r.version} is up on ${r.url} (pid ${r.pid ?? '?'}), started from ${r.config.target}.\n${describeJournals(
              r.journals,
            )
              .map((l) => `  ${l}\n`)
              .join('')}`,
      );
      return EXIT_OK;
    } catch (e) {
      if (e instanceof AlreadyRunningError && e.same) {
        io.stdout(`${e.message}\n`);
        return EXIT_OK;
      }
      io.stderr(`optuna-storage start: ${(e as Error).message}\n`);
      if (e instanceof AlreadyRunningError) return EXIT_FAILED;
      if (e instanceof NotDeployedError) return EXIT_BAD_INPUT;
      if (e instanceof ConfigValidationError) {
        if (e.line === undefined)
          io.stderr(`redis-server said:\n${e.output.trim().split('\n').slice(-15).join('\n')}\n`);
        return EXIT_BAD_INPUT;
      }
      return EXIT_FAILED;
    }
  },
};
