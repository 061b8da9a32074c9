import { parseArgs } from 'node:util';
import type Redis from 'ioredis';
import {
  type BackupEntry,
  createServerBackup,
  listBackups,
  pruneBackups,
} from '../core/redis/backup';
import { RedisConnectError } from '../core/redis/connect';
import { describeEndpoint, parseRedisUrl } from '../core/redis/url';
import { type CliCommand, EXIT_FAILED, EXIT_OK, UsageError } from './command';
import { REDIS_OPTION_HELP, connectFromArgs } from './redisArgs';
import { exitStatusFor } from './storageArgs';

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: "back up a Redis server's data files (RDB and AOF), list and prune backups",
  help: `Usage: optuna-storage backup create --redis URL --dir DIR [--json]
       optuna-storage backup list --dir DIR [--json]
       optuna-storage backup prune --dir DIR --keep N [--dry-run] [--json]

create  runs BGSAVE (and BGREWRITEAOF when the AOF is on), waits until they have finished,
        and copies the RDB file and the AOF directory (manifest, base and incremental files)
        into DIR/redis-<UTC time>/ with a backup.json of sizes and SHA-256 sums. It reads the
        files from the server's data directory, so run it on the Redis host.
list    the backups in DIR, newest first.
prune   deletes all but the N newest backups in DIR (only folders created by create).

To restore: stop Redis (SHUTDOWN SAVE), move its data directory's dump.rdb and appendonlydir
aside, copy the backup's files in, and start it again.

Options:
${REDIS_OPTION_HELP}
  --dir DIR       the folder holding the backups (better on another disk than the data)
  --keep N        backups to keep when pruning (at least 1)
  --dry-run       prune: only say what would be deleted
  --json          machine-readable output
  -h, --help      this help

Exit status: 0 success; 1 the backup failed; 2 bad arguments; 3 Redis unreachable.`,

  async run(argv, io) {
    const [action, ...rest] = argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        redis: { type: 'string' },
        dir: { type: 'string' },
        keep: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
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
      default:
        throw new UsageError(
          `backup needs an action: create, list or prune${action ? ` (not "${action}")` : ''}`,
        );
    }
  },
};
