import { parseArgs } from 'node:util';
import { writeDump } from '../core/optuna/dumpFormat';
import { redactUrl } from '../core/redis/url';
import { readOnce } from '../core/storage/readOnce';
import { parseStorageSpec } from '../core/storage/storageSpec';
import { type CliCommand, EXIT_BAD_INPUT, EXIT_OK, UsageError } from './command';
import {
  CACHE_HELP,
  STORAGE_HELP,
  exitStatusFor,
  noJournalWarning,
  readOptions,
  saveCacheAfterOutput,
} from './storageArgs';
import { issueEntries } from '../core/optuna/model';

export const dumpCommand: CliCommand = {
  name: 'dump',
  summary: 'print every study and trial of a storage as JSON, exactly as Optuna reports them',
  help: `Usage: optuna-storage dump STORAGE [--prefix P] [--study NAME] [--partial]

Prints one JSON document: {"studies": [...]} with studies by ascending study_id and their
trials by ascending number, as Optuna itself would report them. Non-finite floats are written
{"__float__": "NaN" | "Infinity" | "-Infinity"}; integers keep all their digits.

${STORAGE_HELP}

Options:
  --prefix P     journal key prefix in Redis (default "", Optuna's default)
  --study NAME   only this study
  --partial      when entries are missing or unreadable (e.g. an evicted Redis key), still
                 print what could be read, with an "issues" list, and exit 0
${CACHE_HELP}
  -h, --help     this help

Exit status: 0 success; 2 bad arguments, unreadable or foreign input, or an incomplete
journal without --partial; 3 storage unreachable.`,

  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        prefix: { type: 'string', default: '' },
        'no-cache': { type: 'boolean', default: false },
        study: { type: 'string' },
        partial: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1)
      throw new UsageError('dump needs exactly one STORAGE argument (see --help)');
    try {
      const spec = parseStorageSpec(positionals[0], values.prefix);
      const snap = await readOnce(spec, readOptions(values, io.env, io.signal));
      let studies = snap.studies;
      if (values.study !== undefined) {
        studies = studies.filter((s) => s.name === values.study);
        if (studies.length === 0)
          throw new UsageError(
            `no study named ${JSON.stringify(values.study)} in ${redactUrl(positionals[0])}`,
          );
      }
      if (snap.issues.length > 0 && !values.partial) {
        const n = issueEntries(snap.issues);
        io.stderr(
          `The storage is incomplete: ${n} journal entr${n === 1 ? 'y' : 'ies'} could not be read, so no dump was printed.\n`,
        );
        for (const i of snap.issues.slice(0, 20)) io.stderr(`  ${i.kind}: ${i.message}\n`);
        if (snap.issues.length > 20) io.stderr(`  … and ${snap.issues.length - 20} more\n`);
        io.stderr(
          spec.kind === 'redis'
            ? 'Run with --partial to print what could be read, or `optuna-storage doctor --redis URL` to look for the cause (missing entries usually mean Redis evicted or lost keys).\n'
            : 'Run with --partial to print what could be read (unreadable lines of a journal file are usually a write cut short, or another file appended to it).\n',
        );
        saveCacheAfterOutput(snap, io);
        return EXIT_BAD_INPUT;
      }
      // What was read is one snapshot (the journal up to the entry count read first); entries
      // appended while the document is written are not part of it.
      await writeDump(studies, values.partial ? snap.issues : undefined, io.stdout, io.signal);
      saveCacheAfterOutput(snap, io);
      for (const i of snap.issues) io.stderr(`warning: ${i.message}\n`);
      const none = noJournalWarning(snap, values.prefix);
      if (none) io.stderr(none);
      return EXIT_OK;
    } catch (e) {
      const { status, message } = exitStatusFor(e);
      io.stderr(`optuna-storage dump: ${message}\n`);
      return status;
    }
  },
};
