import { parseArgs } from 'node:util';
import type Redis from 'ioredis';
import { redactUrl } from '../core/redis/url';
import { TransferError, importStudy } from '../core/storage/studyTransfer';
import { parseStorageSpec } from '../core/storage/storageSpec';
import { type CliCommand, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError } from './command';
import { REDIS_OPTION_HELP, connectFromArgs } from './redisArgs';
import { exitStatusFor } from './storageArgs';

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'append one study from a journal file (or SQLite) into a Redis journal prefix, verified',
  help: `Usage: optuna-storage import FILE.log --redis URL --prefix P [--study NAME] [--json]

Appends one study into a Redis journal prefix the way Optuna writes: Optuna's own atomic
append script per record (workers may keep writing to the prefix meanwhile). Refuses when the
prefix already holds a study of that name. Afterwards the prefix is read back and the study
compared with the source (trial count and every trial's content); an import that fails
half-way deletes its partial study again.

FILE is an Optuna journal file (e.g. written by optuna-storage export) or an Optuna SQLite
file (.db).

Options:
${REDIS_OPTION_HELP}
  --prefix P      the journal key prefix to import into (required; "" is Optuna's default)
  --study NAME    the study to import (may be left out when FILE holds one study)
  --json          print {"study", "study_id", "trials", "records", "verified"}
  -h, --help      this help

Exit status: 0 imported and verified; 1 failed while writing or verifying; 2 bad arguments,
unknown study, or a study of that name already in the prefix; 3 Redis unreachable.`,

  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        redis: { type: 'string' },
        prefix: { type: 'string' },
        study: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1)
      throw new UsageError('import needs exactly one FILE argument (see --help)');
    if (!values.redis) throw new UsageError('import needs --redis URL');
    if (values.prefix === undefined)
      throw new UsageError(
        'import needs --prefix P (use --prefix "" for Optuna\'s default prefix)',
      );
    let redis: Redis | undefined;
    try {
      const source = parseStorageSpec(positionals[0]);
      if (source.kind === 'redis')
        throw new UsageError(
          'import reads a file; to copy between Redis prefixes, export to a .log first',
        );
      redis = await connectFromArgs(values.redis, io.env);
      const r = await importStudy({
        source,
        sourceLabel: positionals[0],
        study: values.study,
        redis,
        prefix: values.prefix,
        signal: io.signal,
        onProgress: (p) => io.stderr(`  ${p.message}\n`),
      });
      io.stdout(
        values.json
          ? JSON.stringify({
              study: r.studyName,
              study_id: r.studyId,
              trials: r.trials,
              records: r.records,
              verified: true,
            }) + '\n'
          : `Imported ${JSON.stringify(r.studyName)} into ${redactUrl(values.redis)} prefix ${JSON.stringify(values.prefix)} as study_id ${r.studyId}: ${r.trials} trials in ${r.records} journal entries; read back and verified equal to the source.\n`,
      );
      return EXIT_OK;
    } catch (e) {
      if (e instanceof TransferError) {
        io.stderr(`optuna-storage import: ${e.message}\n`);
        return EXIT_BAD_INPUT;
      }
      const { status, message } = exitStatusFor(e);
      io.stderr(`optuna-storage import: ${message}\n`);
      return /import of .* failed/.test(message) ? EXIT_FAILED : status;
    } finally {
      redis?.disconnect();
    }
  },
};
