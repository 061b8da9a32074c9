import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pythonDumps } from '../../src/core/optuna/pythonJsonDumps';
import { builderRecords, maskRecord } from '../fixtures/journalRecords';
import { forEachOptuna } from '../helpers/optunaSources';
import { FIXTURES, runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';

describe('journal record builder against real Optuna, live', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis.dispose();
  });

  forEachOptuna(
    (version) => `writes what Optuna ${version}'s Redis journal storage writes`,
    async (optuna) => {
      const prefix = `records-${optuna.version}`;
      const { env } = optuna;
      const args = ['records', redis.url, prefix];
      const out = await runPython('journal_records.py', args, 60_000, env);
      const written = out.trimEnd().split('\n').map(maskRecord);
      const ours = builderRecords().map(maskRecord);
      assert.equal(ours.length, written.length, 'number of records');
      for (let i = 0; i < ours.length; i++) assert.equal(ours[i], written[i], `record ${i}`);
      if (optuna.version === '3.1.0') {
        // The recording the unit test compares with is still what Optuna writes.
        const file = path.join(FIXTURES, 'journal_records.optuna-3.1.0.log');
        const recorded = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map(maskRecord);
        assert.deepEqual(recorded, written);
      }
    },
  );

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
    const out = (await runPython('journal_records.py', ['floats', JSON.stringify(xs)])).trim();
    const ours = pythonDumps(xs);
    if (ours !== out) {
      const a = ours.slice(1, -1).split(', ');
      const b = out.slice(1, -1).split(', ');
      const i = a.findIndex((v, k) => v !== b[k]);
      assert.fail(`float ${i}: ours ${a[i]}, Python ${b[i]}`);
    }
  });
});
