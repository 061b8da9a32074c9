import { parseArgs } from 'node:util';
import type { Study } from '../core/optuna/model';
import { toStrictJson } from '../core/optuna/strictJson';
import { summarizeStudy } from '../core/optuna/summary';
import { readOnce } from '../core/storage/readOnce';
import { parseStorageSpec } from '../core/storage/storageSpec';
import { type CliCommand, EXIT_OK, UsageError } from './command';
import {
  CACHE_HELP,
  STORAGE_HELP,
  exitStatusFor,
  noJournalWarning,
  readOptions,
  saveCacheAfterOutput,
} from './storageArgs';

export const studiesCommand: CliCommand = {
  name: 'studies',
  summary: 'list the studies of a storage with trial counts by state and the best value',
  help: `Usage: optuna-storage studies STORAGE [--prefix P] [--json]

Lists every study: id, name, directions, trials by state, best value (single objective,
COMPLETE trials, as Optuna's best_trial) and the time of the latest trial activity.

${STORAGE_HELP}

Options:
  --prefix P   journal key prefix in Redis (default "")
  --json       one JSON document {"studies": [{"study_id", "study_name", "directions",
               "n_trials", "states": {"COMPLETE": n, ...}, "best_value", "best_trial_number",
               "last_activity"}], "issues": [...]}
${CACHE_HELP}
  -h, --help   this help

Exit status: 0 success; 2 bad arguments or unreadable/foreign input; 3 storage unreachable.
Unreadable journal entries are listed on stderr (and in "issues" with --json).`,

  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        prefix: { type: 'string', default: '' },
        'no-cache': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1)
      throw new UsageError('studies needs exactly one STORAGE argument (see --help)');
    try {
      // Only summaries are shown: an SQLite file's params, intermediate values and
      // attributes are not read.
      const snap = await readOnce(parseStorageSpec(positionals[0], values.prefix), {
        ...readOptions(values, io.env, io.signal),
        summaryOnly: true,
      });
      if (values.json) {
        io.stdout(
          toStrictJson({
            studies: snap.studies.map(summaryJson),
            issues: snap.issues.map((i) => ({ ...i })),
          } as never) + '\n',
        );
      } else {
        io.stdout(table(snap.studies));
      }
      for (const i of snap.issues) io.stderr(`warning: ${i.message}\n`);
      const none = noJournalWarning(snap, values.prefix);
      if (none) io.stderr(none);
      saveCacheAfterOutput(snap, io);
      return EXIT_OK;
    } catch (e) {
      const { status, message } = exitStatusFor(e);
      io.stderr(`optuna-storage studies: ${message}\n`);
      return status;
    }
  },
};

/** A study as `studies --json` lists it. */
export function summaryJson(s: Study) {
  const sum = summarizeStudy(s);
  return {
    study_id: s.studyId,
    study_name: s.name,
    directions: s.directions,
    n_trials: s.trials.length,
    states: sum.counts,
    best_value: sum.best ? (sum.best.values?.[0] ?? null) : null,
    best_trial_number: sum.best ? sum.best.number : null,
    last_activity: sum.lastActivity,
  };
}

function table(studies: Study[]): string {
  if (studies.length === 0) return 'No studies.\n';
  const rows = [
    [
      'ID',
      'NAME',
      'DIRECTIONS',
      'TRIALS',
      'COMPLETE',
      'PRUNED',
      'FAIL',
      'RUNNING',
      'WAITING',
      'BEST',
      'LAST ACTIVITY',
    ],
  ];
  for (const s of studies) {
    const sum = summarizeStudy(s);
    const best = sum.best?.values?.[0];
    rows.push([
      String(s.studyId),
      s.name,
      s.directions.join(','),
      String(s.trials.length),
      ...(['COMPLETE', 'PRUNED', 'FAIL', 'RUNNING', 'WAITING'] as const).map((st) =>
        String(sum.counts[st]),
      ),
      best === undefined ? '-' : `${String(best)} (#${sum.best!.number})`,
      sum.lastActivity ?? '-',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
