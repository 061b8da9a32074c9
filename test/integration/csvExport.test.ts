import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { studyAsCsv } from '../../src/core/optuna/exportStudy';
import { SqliteReader } from '../../src/core/storage/sqliteReader';
import { runPython } from '../helpers/python';

/** Cells of a CSV without quoted commas (what these studies produce), by column name. */
function columns(csv: string): Map<string, string[]> {
  const [header, ...rows] = csv
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  return new Map(header.map((h, i) => [h, rows.map((r) => r[i])]));
}

describe('CSV export as Optuna trials_dataframe().to_csv() writes it', function () {
  let dir: string;
  let optunaCsv: Record<string, string>;
  let ours: Record<string, string>;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-csv-'));
    const db = path.join(dir, 'studies.db');
    try {
      optunaCsv = JSON.parse(await runPython('csv_parity.py', [db]));
    } catch (e) {
      if (/exit code 3|code 3/.test(String(e))) {
        console.log('    skipped: pandas (python3-pandas) is not installed');
        this.skip();
      }
      throw e;
    }
    const reader = new SqliteReader(db);
    try {
      ours = Object.fromEntries(reader.readAll().map((s) => [s.name, studyAsCsv(s)]));
    } finally {
      reader.close();
    }
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  for (const study of ['mixed', 'millis'])
    it(`"${study}": the same columns, datetimes and durations to the microsecond, values and params`, () => {
      const theirs = columns(optunaCsv[study]);
      const mine = columns(ours[study]);
      // system_attrs hold Python dicts, which pandas prints as Python's str(): not compared.
      const compared = [...theirs.keys()].filter((k) => !k.startsWith('system_attrs_'));
      assert.deepEqual(
        [...mine.keys()].filter((k) => !k.startsWith('system_attrs_')),
        compared,
      );
      for (const k of compared) assert.deepEqual(mine.get(k), theirs.get(k), `column ${k}`);
    });
});
