import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Study } from '../../src/core/optuna/model';
import { toStrictJson } from '../../src/core/optuna/strictJson';
import { firstValue, summarizeStudy } from '../../src/core/optuna/summary';
import { summaryJson } from '../../src/cli/studies';
import { type SqliteReadParts, SqliteReader } from '../../src/core/storage/sqliteReader';
import { runCli } from '../helpers/cli';
import { forEachOptuna } from '../helpers/optunaSources';
import { runPython } from '../helpers/python';

function read(file: string, parts: SqliteReadParts, chunkRows?: number): Study[] {
  const reader = new SqliteReader(file, 2000, chunkRows);
  try {
    return reader.readAll(parts);
  } finally {
    reader.close();
  }
}

/** Every study's summary, exactly: NaN, ±inf and -0.0 written as the CLI writes them. */
const summaries = (studies: Study[]) => toStrictJson(studies.map(summaryJson) as never);

/**
 * `optuna-storage studies` reads only what a summary needs from an SQLite file (readAll's
 * 'summary' parts). Its summaries must be those of the full read, on files each Optuna
 * release wrote: the fixture scenario has every trial state, ±inf and NaN values (NaN ones
 * FAIL), multi-objective and empty studies, and studies Optuna deleted; a copy also has the
 * trials of a study whose row was deleted by hand (left behind by a crashed delete).
 */
describe('SQLite summary read equals the full read', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-summary-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  forEachOptuna(
    (version) => `a database Optuna ${version} wrote`,
    async (optuna) => {
      const { env } = optuna;
      const db = path.join(dir, `fixture-${optuna.version}.db`);
      await runPython('generate.py', ['--sqlite', db, '--workers', '2'], 240_000, env);
      const orphans = path.join(dir, `orphans-${optuna.version}.db`);
      fs.copyFileSync(db, orphans);
      const h = new Database(orphans);
      try {
        h.pragma('foreign_keys = OFF');
        h.prepare("DELETE FROM studies WHERE study_name = 'single-minimize'").run();
        const left = h
          .prepare(
            'SELECT count(*) FROM trials WHERE study_id NOT IN (SELECT study_id FROM studies)',
          )
          .pluck()
          .get() as number;
        assert.ok(left > 10, `only ${left} trials left behind`);
      } finally {
        h.close();
      }

      const full = read(db, 'all');
      // The fixture has what the summary must get right.
      const states = new Set(full.flatMap((s) => s.trials.map((t) => t.state)));
      assert.deepEqual([...states].sort(), ['COMPLETE', 'FAIL', 'PRUNED', 'RUNNING', 'WAITING']);
      const bests = full.map((s) => summarizeStudy(s).best);
      assert.ok(
        bests.some((b) => firstValue(b) === -Infinity),
        'no -inf best value',
      );
      assert.ok(
        full.some((s) =>
          s.trials.some((t) => t.state === 'COMPLETE' && firstValue(t) === Infinity),
        ),
        'no +inf value of a COMPLETE trial',
      );
      assert.ok(
        full.some((s) => s.directions.length === 2 && s.trials.length > 0),
        'no multi-objective study',
      );
      assert.ok(
        full.some((s) => s.trials.length === 0),
        'no study without trials',
      );

      for (const file of [db, orphans]) {
        const expected = summaries(read(file, 'all'));
        assert.equal(summaries(read(file, 'summary')), expected, file);
        assert.equal(summaries(read(file, 'summary', 7)), expected, `${file}, 7-row chunks`);
        const cli = await runCli(['studies', '--json', file]);
        assert.equal(cli.stderr, '');
        assert.equal(cli.status, 0);
        assert.equal(
          cli.stdout,
          toStrictJson({ studies: read(file, 'all').map(summaryJson), issues: [] } as never) + '\n',
          `${file}: studies --json`,
        );
      }
      assert.notEqual(summaries(read(orphans, 'all')), summaries(full));
    },
  );
});
