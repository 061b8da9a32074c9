import { parseArgs } from 'node:util';
import { redactUrl } from '../core/redis/url';
import { TransferError, exportStudy } from '../core/storage/studyTransfer';
import { parseStorageSpec } from '../core/storage/storageSpec';
import { type CliCommand, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UsageError } from './command';
import { PASSWORD_ENV, STORAGE_HELP, exitStatusFor } from './storageArgs';

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'write one study as an Optuna journal file (.log) or Optuna 3.1 SQLite file (.db)',
  help: `Usage: optuna-storage export STORAGE [--prefix P] --study NAME --to FILE.log|FILE.db [--partial] [--json]

Writes one study to a new file that real Optuna opens:
  FILE.log  an Optuna journal file (JournalFileStorage): the records optuna.copy_study writes,
            in Optuna 3.1's field order and json.dumps formatting, one per line;
  FILE.db   an Optuna SQLite database (RDBStorage) with Optuna 3.1's schema (alembic
            v3.0.0.d), which Optuna 3.0-3.1 open and newer versions upgrade.
Every trial keeps its number, state, values, params with their distributions, intermediate
values, attributes and datetimes. The file is read back and compared before export reports
success. An existing file is never overwritten. (SQLite itself cannot keep a -0.0 or a
datetime's UTC offset; Optuna's RDB storage loses those the same way.)

${STORAGE_HELP}

Options:
  --prefix P     journal key prefix in Redis (default "")
  --study NAME   the study to export
  --to FILE      the new file, .log or .db (.sqlite, .sqlite3)
  --partial      export what is readable even if journal entries are missing (evicted keys);
                 the rest replays as if the lost entries never existed, so when a lost entry
                 created a trial, later updates land on the wrong trials: check the result
  --json         print {"path", "format", "trials", "issues"}
  -h, --help     this help

Exit status: 0 exported and verified; 1 the written file did not verify; 2 bad arguments,
unknown study, existing target or an incomplete source without --partial; 3 unreachable.`,

  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        prefix: { type: 'string', default: '' },
        study: { type: 'string' },
        to: { type: 'string' },
        partial: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1)
      throw new UsageError('export needs exactly one STORAGE argument (see --help)');
    if (!values.study) throw new UsageError('export needs --study NAME');
    if (!values.to) throw new UsageError('export needs --to FILE.log or --to FILE.db');
    try {
      const r = await exportStudy({
        source: parseStorageSpec(positionals[0], values.prefix),
        sourceLabel:
          redactUrl(positionals[0]) +
          (/^rediss?:/.test(positionals[0]) ? ` prefix ${JSON.stringify(values.prefix)}` : ''),
        study: values.study,
        to: values.to,
        partial: values.partial,
        redis: { password: io.env[PASSWORD_ENV] || undefined },
        signal: io.signal,
        onProgress: (p) => io.stderr(`  ${p.message}\n`),
      });
      for (const i of r.issues) io.stderr(`warning: skipped ${i.message}\n`);
      io.stdout(
        values.json
          ? JSON.stringify({
              path: r.path,
              format: r.format,
              trials: r.trials,
              issues: r.issues.map((i) => ({ kind: i.kind, index: i.index, message: i.message })),
            }) + '\n'
          : `Exported ${r.trials} trials of ${JSON.stringify(values.study)} to ${r.path} (${r.format === 'journal' ? 'Optuna journal file' : 'Optuna SQLite'}), read back and verified.\n`,
      );
      return EXIT_OK;
    } catch (e) {
      if (e instanceof TransferError) {
        io.stderr(`optuna-storage export: ${e.message}\n`);
        return EXIT_BAD_INPUT;
      }
      const { status, message } = exitStatusFor(e);
      io.stderr(`optuna-storage export: ${message}\n`);
      return /does not read back/.test(message) ? EXIT_FAILED : status;
    }
  },
};
