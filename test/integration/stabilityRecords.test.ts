import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  OptunaRecords,
  type SuiteDistribution,
  pyDumps,
} from '../../src/core/stability/optunaRecords';
import { runPython } from '../helpers/python';

/** worker_id and datetimes differ per run; everything else must be byte for byte Optuna's. */
const mask = (line: string) =>
  line
    .replace(/"worker_id": "[^"]*"/, '"worker_id": "W"')
    .replace(/"(datetime_start|datetime_complete)": "[^"]*"/g, '"$1": "D"');

describe('stability suite: journal records against real Optuna 3.1', function () {
  this.timeout(60_000);

  it('writes the same records as Optuna for the same storage calls', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-records-'));
    try {
      const file = path.join(dir, 'journal.log');
      await runPython('suite_records.py', ['records', file]);
      const optuna = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map(mask);

      const r = new OptunaRecords('W');
      const x = { kind: 'float', low: -10, high: 10 } as const;
      const lr = { kind: 'float', low: 1e-5, high: 0.1, log: true } as const;
      const n = { kind: 'int', low: 1, high: 100 } as const;
      const opt: SuiteDistribution = { kind: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] };
      const ours = [
        r.createStudy('suite-records', [1]),
        r.setStudyUserAttr(0, 'optuna_storage_suite', 'run-1'),
        r.enqueueTrial(0, { x: 0.5, n: 3n, opt: 'sgd' }),
        r.createTrial(0, 'D'),
        r.setTrialParam(1, 'x', 0.25, x),
        r.setTrialParam(1, 'lr', 1.5e-5, lr),
        r.setTrialParam(1, 'n', 3, n),
        r.setTrialParam(1, 'opt', 2n, opt),
        r.setTrialIntermediateValue(1, 0, 1),
        r.setTrialIntermediateValue(1, 1, 1e-7),
        r.setTrialUserAttr(1, 'suite_index', 7n),
        r.setTrialSystemAttr(1, 'k', 'v'),
        r.setTrialStateValues(1, 'COMPLETE', [123456789.125], 'D'),
        r.setTrialStateValues(0, 'RUNNING', null, 'D'),
        r.setTrialStateValues(0, 'PRUNED', [0.5], 'D'),
        r.createTrial(0, 'D'),
        r.setTrialStateValues(2, 'FAIL', null, 'D'),
        r.createStudy('suite-records-2', [2]),
      ].map(mask);
      assert.equal(ours.length, optuna.length, 'number of records');
      for (let i = 0; i < ours.length; i++) assert.equal(ours[i], optuna[i], `record ${i}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes floats exactly as Python's json.dumps", async () => {
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const xs: number[] = [
      0.1,
      1 / 3,
      2 ** 53,
      2 ** 53 + 2,
      1e21,
      1e22,
      9.999999999999999e-5,
      1e-4,
      123e-20,
      5e-324,
      2.2250738585072014e-308,
    ];
    for (let i = 0; i < 2000; i++) {
      const e = Math.floor(rnd() * 60) - 30;
      xs.push((rnd() - 0.5) * 10 ** e);
      xs.push(Math.round(rnd() * 1e6) * 10 ** (Math.floor(rnd() * 30) - 10));
    }
    const out = (await runPython('suite_records.py', ['floats', JSON.stringify(xs)])).trim();
    const ours = pyDumps(xs);
    if (ours !== out) {
      const a = ours.slice(1, -1).split(', ');
      const b = out.slice(1, -1).split(', ');
      const i = a.findIndex((v, k) => v !== b[k]);
      assert.fail(`float ${i}: ours ${a[i]}, Python ${b[i]}`);
    }
  });
});
