import * as assert from 'node:assert/strict';
import type { Study, Trial } from '../../src/core/optuna/model';
import { studyAsCsv } from '../../src/core/optuna/exportStudy';
import { normalizeParams } from '../../src/core/runs/params';
import { plainRelative } from '../../src/core/redis/backup';

describe('untrusted text leaving the extension', () => {
  it('CSV export: cells a spreadsheet would run as formulas get an apostrophe, numbers do not', () => {
    const trial: Trial = {
      trialId: 0,
      number: 0,
      studyId: 0,
      state: 'COMPLETE',
      values: [-1.5],
      params: { opt: '@SUM(A1)', lr: -0.25 },
      distributions: {
        opt: { name: 'CategoricalDistribution', attributes: { choices: ['@SUM(A1)', 'adam'] } },
        lr: { name: 'FloatDistribution', attributes: { low: -1, high: 1, log: false, step: null } },
      },
      intermediateValues: {},
      userAttrs: { link: '=HYPERLINK("http://x","y")', plus: '+1+cmd', tab: '\t=1', neg: '-inf' },
      systemAttrs: {},
      datetimeStart: null,
      datetimeComplete: null,
    };
    const study: Study = {
      studyId: 0,
      name: 's',
      directions: ['MINIMIZE'],
      userAttrs: {},
      systemAttrs: {},
      trials: [trial],
    };
    const csv = studyAsCsv(study);
    const row = csv.split('\n')[1];
    assert.ok(row.includes(`"'=HYPERLINK(""http://x"",""y"")"`), row);
    assert.ok(row.includes(`'@SUM(A1)`), row);
    assert.ok(row.includes(`'+1+cmd`), row);
    assert.ok(row.includes(`'\t=1`), row);
    assert.ok(/(^|,)-1\.5(,|$)/.test(row) && /(^|,)-0\.25(,|$)/.test(row), row);
    assert.ok(/(^|,)-inf(,|$)/.test(row), row);
  });

  it('a parameter pattern longer than 200 characters is not compiled', () => {
    const r = normalizeParams([
      { name: 'a', type: 'string', pattern: '(a+)+'.repeat(50) },
      { name: 'b', type: 'string', pattern: '^[a-z]+$' },
    ]);
    assert.deepEqual(
      r.params.map((p) => p.name),
      ['b'],
    );
    assert.match(r.problems.join('\n'), /"pattern" is longer than 200 characters/);
  });
});

describe('backups follow only plain file names from the server', () => {
  it('plainRelative', () => {
    for (const ok of ['dump.rdb', 'appendonlydir/appendonly.aof.1.base.rdb'])
      assert.ok(plainRelative(ok), ok);
    for (const bad of [
      '',
      '../etc/passwd',
      'appendonlydir/../../x',
      '/etc/shadow',
      'a//b',
      './a',
      'a\0b',
    ])
      assert.ok(!plainRelative(bad), bad);
  });
});
