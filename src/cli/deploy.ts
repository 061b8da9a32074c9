import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { planDeploy } from '../core/redis/deploy';
import { DEPLOY_DEFAULTS } from '../core/redis/deployConfig';
import { executeDeploy } from '../core/redis/executeDeploy';
import { ConfigValidationError } from '../core/redis/redisProcess';
import { type CliCommand, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError } from './command';
import { confirm } from './confirm';
import { PASSWORD_ENV } from './storageArgs';

/** The shipped config, found upwards from this file (src/cli in a checkout, dist in a package). */
export function shippedConfigPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'redis', 'redis-autodl-optimized.conf');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir)
      throw new UsageError(
        'the shipped redis/redis-autodl-optimized.conf was not found next to this program: give --config FILE',
      );
  }
}

export const deployCommand: CliCommand = {
  name: 'deploy',
  summary: 'install the Redis config for Optuna journals and (re)start Redis with it, carefully',
  help: `Usage: optuna-storage deploy [--config FILE] [--data-dir DIR] [--port N] [--password-env]
                             [--target PATH] [--log-file PATH] [--pid-file PATH] [--dry-run] [--yes]
                             [--remove-password]

Puts a Redis config in place and starts Redis with it the way a careful operator would:
  1. adjusts it to this machine (tcp-backlog within somaxconn, maxclients within ulimit -n)
     and these paths, then validates it with redis-server on a scratch port and directory
     (a refused config is reported with Redis's own line and reason; nothing is touched);
  2. backs up an existing config at the target (<target>.bak-<time>), writes the new one,
     creates the data, log and pid directories;
  3. if Redis runs on the port: switches it to the append-only file live if needed (Redis 7
     with appendonly yes loads only the AOF), stops it with SHUTDOWN SAVE over the protocol
     (never a signal), and copies its data into the data directory if that is a new one;
  4. starts redis-server with the new config (daemonized) and waits for PONG, showing the
     log's last lines if it does not come up.
Running it again with the same settings changes nothing.

Options:
  --config FILE     the config to install (default: the shipped redis-autodl-optimized.conf)
  --data-dir DIR    data directory on a persistent disk (default ${DEPLOY_DEFAULTS.dataDir})
  --port N          (default ${DEPLOY_DEFAULTS.port})
  --password-env    set requirepass from $${PASSWORD_ENV} (the config is written mode 0600);
                    that variable also unlocks a password-protected server already running
  --target PATH     where the config goes (default ${DEPLOY_DEFAULTS.target})
  --log-file PATH   (default ${DEPLOY_DEFAULTS.logFile})
  --pid-file PATH   (default ${DEPLOY_DEFAULTS.pidFile})
  --redis-server B  the redis-server binary (default: redis-server on PATH)
  --dry-run         validate and print the plan, change nothing
  --yes             do not ask before acting (needed without a terminal)
  --remove-password deploy a config without requirepass over a server that has a password
                    (refused, or asked on a terminal, otherwise; --yes does not imply it)
  -h, --help        this help

Exit status: 0 deployed (or nothing to change, or --dry-run); 1 failed while deploying;
2 bad arguments, a config Redis refuses, or not confirmed (also: a password would be removed
without --remove-password).`,

  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string', default: String(DEPLOY_DEFAULTS.port) },
        'password-env': { type: 'boolean', default: false },
        target: { type: 'string', default: DEPLOY_DEFAULTS.target },
        'log-file': { type: 'string', default: DEPLOY_DEFAULTS.logFile },
        'pid-file': { type: 'string', default: DEPLOY_DEFAULTS.pidFile },
        'redis-server': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        'remove-password': { type: 'boolean', default: false },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new UsageError(`--port must be 1-65535, not ${values.port}`);
    const envPassword = io.env[PASSWORD_ENV] || undefined;
    if (values['password-env'] && !envPassword)
      throw new UsageError(`--password-env needs the password in $${PASSWORD_ENV}`);
    let dataDir = values['data-dir'];
    if (dataDir === undefined) {
      if (!fs.existsSync(path.dirname(DEPLOY_DEFAULTS.dataDir)))
        throw new UsageError(
          `${path.dirname(DEPLOY_DEFAULTS.dataDir)} (AutoDL's persistent data disk) does not exist here: give --data-dir DIR on a disk that survives restarts`,
        );
      dataDir = DEPLOY_DEFAULTS.dataDir;
    }
    const options = {
      source: path.resolve(values.config ?? shippedConfigPath()),
      target: path.resolve(values.target!),
      dataDir: path.resolve(dataDir),
      logFile: path.resolve(values['log-file']!),
      pidFile: path.resolve(values['pid-file']!),
      port,
      password: values['password-env'] ? envPassword : undefined,
      currentPassword: envPassword,
      redisServer: values['redis-server'],
    };

    let plan;
    try {
      plan = await planDeploy(options);
    } catch (e) {
      if (e instanceof ConfigValidationError) {
        io.stderr(
          `optuna-storage deploy: ${options.source} was NOT deployed, nothing was changed.\n${e.message}\n`,
        );
        if (e.line === undefined)
          io.stderr(`redis-server said:\n${e.output.trim().split('\n').slice(-15).join('\n')}\n`);
        return EXIT_BAD_INPUT;
      }
      io.stderr(`optuna-storage deploy: ${(e as Error).message}\n`);
      return EXIT_FAILED;
    }
    io.stdout(
      `Deploy ${options.source}\n${plan.actions.map((a, i) => `  ${i + 1}. ${a}`).join('\n')}\n`,
    );
    if (values['dry-run'] || plan.upToDate) return EXIT_OK;
    if (plan.removesPassword) {
      // --yes is not enough for this one: a forgotten --password-env must not open the server.
      io.stderr(
        `The Redis on port ${port} has a password, and the new config has none: after this deploy anyone who reaches ${plan.host}:${port} could read and delete every study. To keep a password, run again with --password-env (and the password in $${PASSWORD_ENV}).\n`,
      );
      const remove = await confirm(
        io,
        'Remove the password anyway?',
        values['remove-password'],
        '--remove-password',
      );
      if (!remove.ok) {
        io.stderr(`Nothing changed: ${remove.reason}.\n`);
        return EXIT_BAD_INPUT;
      }
    }
    const answer = await confirm(io, 'Go ahead?', values.yes);
    if (!answer.ok) {
      io.stderr(`Nothing changed: ${answer.reason}.\n`);
      return EXIT_BAD_INPUT;
    }
    try {
      await executeDeploy(plan, { signal: io.signal, onStep: (m) => io.stdout(`  done: ${m}\n`) });
      io.stdout(
        `Redis is up on ${plan.host}:${port}. Check it with: optuna-storage doctor --redis redis://${plan.host.includes(':') ? `[${plan.host}]` : plan.host}:${port}\n`,
      );
      return EXIT_OK;
    } catch (e) {
      io.stderr(`optuna-storage deploy: ${(e as Error).message}\n`);
      return EXIT_FAILED;
    }
  },
};
