import { readEveryJournal } from '../core/storage/readEveryJournal';
import { parseArgs } from 'node:util';
import type Redis from 'ioredis';
import {
  type BackupEntry,
  createServerBackup,
  listBackups,
  pruneBackups,
} from '../core/redis/backup';
import { RedisConnectError } from '../core/redis/connectError';
import { describeEndpoint, parseRedisUrl } from '../core/redis/url';
import { DEPLOY_DEFAULTS } from '../core/redis/deployConfig';
import { ConfigValidationError } from '../core/redis/redisProcess';
import { NotDeployedError } from '../core/redis/deployedConfig';
import { describeJournals } from '../core/redis/journalCheck';
import { executeRestore, formatBytes, planRestore } from '../core/redis/restore';
import {
  type CliCommand,
  type CliIo,
  EXIT_BAD_INPUT,
  EXIT_FAILED,
  EXIT_OK,
  UsageError,
} from './command';
import { confirm } from './confirm';
import { REDIS_OPTION_HELP, connectFromArgs } from './redisArgs';
import { PASSWORD_ENV, exitStatusFor } from './storageArgs';

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: "back up a Redis server's data files (RDB and AOF), list and prune backups",
  help: `Usage: optuna-storage backup create --redis URL --dir DIR [--json]
       optuna-storage backup list --dir DIR [--json]
       optuna-storage backup prune --dir DIR --keep N [--dry-run] [--json]
       optuna-storage backup restore --dir DIR [--name NAME] [--target PATH] [--dry-run] [--yes] [--json]

create  runs BGSAVE (and BGREWRITEAOF when the AOF is on), waits until they have finished,
        and copies the RDB file and the AOF directory (manifest, base and incremental files)
        into DIR/redis-<UTC time>/ with a backup.json of sizes and SHA-256 sums. It reads the
        files from the server's data directory, so run it on the Redis host.
list    the backups in DIR, newest first.
prune   deletes all but the N newest backups in DIR (only folders created by create).
restore puts a backup (the newest, or --name) back into the Redis that deploy installed
        (--target, default ${DEPLOY_DEFAULTS.target}): checks the backup's SHA-256 sums,
        stops the running server with SHUTDOWN SAVE, moves its current dump.rdb and
        appendonlydir to <data dir>/pre-restore-<time>/ (kept, never deleted), copies the
        backup in, starts Redis, waits for PONG and reads every journal prefix back. If the
        restored data does not come up, the previous data is put back and started again.
        The password comes from the config's requirepass, else $${PASSWORD_ENV}.

Options:
${REDIS_OPTION_HELP}
  --dir DIR       the folder holding the backups (better on another disk than the data)
  --keep N        backups to keep when pruning (at least 1)
  --name NAME     restore: the backup to restore (default: the newest in DIR)
  --target PATH   restore: the deployed config (default ${DEPLOY_DEFAULTS.target})
  --redis-server B  restore: the redis-server binary (default: redis-server on PATH)
  --dry-run       prune: only say what would be deleted; restore: only print the plan
  --yes           restore: do not ask before acting (needed without a terminal)
  --json          machine-readable output
  -h, --help      this help

Exit status: 0 success; 1 the backup or restore failed; 2 bad arguments, not confirmed, no
such backup, or a deployed config Redis refuses (checked before anything is stopped); 3 Redis
unreachable.`,

  async run(argv, io) {
    const [action, ...rest] = argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        redis: { type: 'string' },
        dir: { type: 'string' },
        keep: { type: 'string' },
        name: { type: 'string' },
        target: { type: 'string', default: DEPLOY_DEFAULTS.target },
        'redis-server': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (!values.dir) throw new UsageError('backup needs --dir DIR');
    const show = (b: BackupEntry) => ({
      name: b.name,
      path: b.path,
      created_at: b.manifest.createdAt,
      bytes: b.bytes,
      files: b.manifest.files.map((f) => f.path),
      server: b.manifest.server,
    });
    const line = (b: BackupEntry) =>
      `${b.name}  ${b.manifest.createdAt}  ${(b.bytes / 1024 / 1024).toFixed(1)} MB  ${b.manifest.files.length} files  from ${b.manifest.server.endpoint}`;
    switch (action) {
      case 'create': {
        if (!values.redis) throw new UsageError('backup create needs --redis URL');
        let redis: Redis | undefined;
        try {
          redis = await connectFromArgs(values.redis, io.env);
          const b = await createServerBackup(redis, {
            root: values.dir,
            endpoint: describeEndpoint(parseRedisUrl(values.redis)),
            signal: io.signal,
            onProgress: (m) => io.stderr(`  ${m}\n`),
          });
          io.stdout(
            values.json
              ? JSON.stringify(show(b), null, 2) + '\n'
              : `Backed up to ${b.path}\n${line(b)}\n`,
          );
          return EXIT_OK;
        } catch (e) {
          const { status, message } = exitStatusFor(e);
          io.stderr(`optuna-storage backup create: ${message}\n`);
          return e instanceof RedisConnectError || e instanceof UsageError ? status : EXIT_FAILED;
        } finally {
          redis?.disconnect();
        }
      }
      case 'list': {
        const all = listBackups(values.dir);
        io.stdout(
          values.json
            ? JSON.stringify({ backups: all.map(show) }, null, 2) + '\n'
            : all.length === 0
              ? `No backups in ${values.dir}.\n`
              : all.map(line).join('\n') + '\n',
        );
        return EXIT_OK;
      }
      case 'prune': {
        const keep = Number(values.keep);
        if (values.keep === undefined || !Number.isInteger(keep) || keep < 1)
          throw new UsageError('backup prune needs --keep N with N >= 1');
        const { kept, removed } = pruneBackups(values.dir, keep, { dryRun: values['dry-run'] });
        if (values.json)
          io.stdout(
            JSON.stringify(
              { kept: kept.map(show), removed: removed.map(show), dry_run: values['dry-run'] },
              null,
              2,
            ) + '\n',
          );
        else
          io.stdout(
            `${values['dry-run'] ? 'Would remove' : 'Removed'} ${removed.length} backup(s), kept ${kept.length}.\n${removed.map((b) => `  - ${b.name}`).join('\n')}${removed.length ? '\n' : ''}`,
          );
        return EXIT_OK;
      }
      case 'restore':
        return restore(values, io);
      default:
        throw new UsageError(
          `backup needs an action: create, list, prune or restore${action ? ` (not "${action}")` : ''}`,
        );
    }
  },
};

async function restore(
  values: {
    dir?: string;
    name?: string;
    target?: string;
    'redis-server'?: string;
    'dry-run'?: boolean;
    yes?: boolean;
    json?: boolean;
  },
  io: CliIo,
): Promise<number> {
  const all = listBackups(values.dir!);
  const backup = values.name ? all.find((b) => b.name === values.name) : all[0];
  if (!backup) {
    io.stderr(
      `optuna-storage backup restore: ${values.name ? `no backup named ${values.name}` : 'no backups'} in ${values.dir}${all.length ? ` (there are: ${all.map((b) => b.name).join(', ')})` : ''}\n`,
    );
    return EXIT_BAD_INPUT;
  }
  let plan;
  try {
    plan = await planRestore({
      target: values.target!,
      backup,
      password: io.env[PASSWORD_ENV] || undefined,
      redisServer: values['redis-server'],
    });
  } catch (e) {
    io.stderr(`optuna-storage backup restore: ${(e as Error).message}\n`);
    return e instanceof NotDeployedError ? EXIT_BAD_INPUT : EXIT_FAILED;
  }
  io.stderr(
    `Restore ${backup.name} (${backup.manifest.createdAt}, ${formatBytes(backup.bytes)}) into ${plan.config.target}\n${plan.actions.map((a, i) => `  ${i + 1}. ${a}`).join('\n')}\n`,
  );
  if (values['dry-run']) return EXIT_OK;
  const answer = await confirm(io, 'Go ahead?', values.yes ?? false);
  if (!answer.ok) {
    io.stderr(`Nothing changed: ${answer.reason}.\n`);
    return EXIT_BAD_INPUT;
  }
  try {
    const r = await executeRestore(plan, {
      readBack: readEveryJournal,
      signal: io.signal,
      onStep: (m) => io.stderr(`  ${m}\n`),
    });
    const problems = r.journals.filter((j) => j.issues?.length);
    io.stdout(
      values.json
        ? JSON.stringify({
            backup: backup.name,
            aside: r.aside,
            journals: r.journals.map((j) => ({
              prefix: j.prefix,
              entries: j.entries,
              studies: j.studies,
              trials: j.trials,
              issues: j.issues?.length ?? 0,
            })),
          }) + '\n'
        : `Restored ${backup.name}; Redis is up on ${plan.config.host}:${plan.config.port}. The replaced data is in ${r.aside}.\n${describeJournals(
            r.journals,
          )
            .map((l) => `  ${l}\n`)
            .join('')}`,
    );
    for (const j of problems)
      io.stderr(
        `warning: prefix ${JSON.stringify(j.prefix)} has ${j.issues!.length} missing or unreadable entries (the backup holds them so): ${j.issues![0].message}\n`,
      );
    return EXIT_OK;
  } catch (e) {
    if (e instanceof ConfigValidationError) {
      io.stderr(
        `optuna-storage backup restore: ${e.message}. Nothing was changed: correct ${plan.config.target} (or deploy again), then restore.\n`,
      );
      return EXIT_BAD_INPUT;
    }
    io.stderr(`optuna-storage backup restore: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  }
}
