import * as assert from 'node:assert/strict';
import { internalRepr } from '../../src/core/optuna/distributions';
import { copyStudyRecords } from '../../src/core/optuna/journal/copyStudy';
import type { Study } from '../../src/core/optuna/model';
import { parseTypedPyJson } from '../../src/core/optuna/pythonJsonParse';
import { studyDifference } from '../../src/core/storage/studyTransfer';

describe('exact study export', () => {
  it('parses Python JSON with ints apart from floats', () => {
    assert.deepEqual(
      parseTypedPyJson('[1, 1.0, -0, -0.0, 1e22, 2.5E-3, 18446744073709551617, NaN, -Infinity]'),
      [1n, 1, 0n, -0, 1e22, 2.5e-3, 18446744073709551617n, NaN, -Infinity],
    );
    assert.ok(Object.is((parseTypedPyJson('[-0.0]') as number[])[0], -0));
    // Strings that look like numbers or markers stay strings; keys are untouched.
    assert.deepEqual(
      parseTypedPyJson('{"1": "2", "\\u0000i5": "\\u0000i5", "a": ["\\u0000", "x\\"3"]}'),
      { '1': '2', '\u0000i5': '\u0000i5', a: ['\u0000', 'x"3'] },
    );
  });

  it('maps external values to the internal ones Optuna stores', () => {
    const cat = {
      name: 'CategoricalDistribution',
      attributes: { choices: [null, true, 3n, 2.5, 'adam', NaN] },
    };
    assert.equal(internalRepr(cat, 'adam'), 4n);
    assert.equal(internalRepr(cat, 1), 1n, 'Python: 1 == True, the first equal choice wins');
    assert.equal(internalRepr(cat, NaN), 5n);
    assert.equal(
      internalRepr(
        { name: 'IntDistribution', attributes: { low: 0n, high: 9n, step: 1n, log: false } },
        3,
      ),
      3,
    );
    assert.throws(() => internalRepr(cat, 'sgd'), /not one of the choices/);
  });

  const study = (over: Partial<Study> = {}): Study => ({
    studyId: 4,
    name: 's',
    directions: ['MINIMIZE', 'MAXIMIZE'],
    userAttrs: { b: 1n, a: 1.5 },
    systemAttrs: { s: [1n, 'x'] },
    trials: [
      {
        trialId: 9,
        number: 0,
        studyId: 4,
        state: 'COMPLETE',
        values: [1, -0],
        params: { x: 0.5, c: 3n },
        intermediateValues: { '0': NaN },
        distributions: {
          x: { name: 'FloatDistribution', attributes: { step: null, low: 0, high: 1, log: false } },
          c: { name: 'CategoricalDistribution', attributes: { choices: ['a', 3n] } },
        },
        userAttrs: {},
        systemAttrs: {},
        datetimeStart: '2026-11-26T10:00:00.000001+00:00',
        datetimeComplete: '2026-11-26T10:00:01.000000+00:00',
      },
      {
        trialId: 10,
        number: 1,
        studyId: 4,
        state: 'WAITING',
        values: null,
        params: {},
        distributions: {},
        intermediateValues: {},
        userAttrs: {},
        systemAttrs: {},
        datetimeStart: null,
        datetimeComplete: null,
      },
    ],
    ...over,
  });

  it('writes the records copy_study writes, in its field order', () => {
    assert.deepEqual(copyStudyRecords(study(), 7, 'W'), [
      '{"op_code": 0, "worker_id": "W", "study_name": "s", "directions": [1, 2]}',
      '{"op_code": 3, "worker_id": "W", "study_id": 7, "system_attr": {"s": [1, "x"]}}',
      '{"op_code": 2, "worker_id": "W", "study_id": 7, "user_attr": {"b": 1}}',
      '{"op_code": 2, "worker_id": "W", "study_id": 7, "user_attr": {"a": 1.5}}',
      '{"op_code": 4, "worker_id": "W", "study_id": 7, "datetime_start": "2026-11-26T10:00:00.000001+00:00", "state": 1, "value": null, "values": [1.0, -0.0], "datetime_complete": "2026-11-26T10:00:01.000000+00:00", ' +
        '"distributions": {"x": "{\\"name\\": \\"FloatDistribution\\", \\"attributes\\": {\\"step\\": null, \\"low\\": 0.0, \\"high\\": 1.0, \\"log\\": false}}", "c": "{\\"name\\": \\"CategoricalDistribution\\", \\"attributes\\": {\\"choices\\": [\\"a\\", 3]}}"}, ' +
        '"params": {"x": 0.5, "c": 1}, "user_attrs": {}, "system_attrs": {}, "intermediate_values": {"0": NaN}}',
      '{"op_code": 4, "worker_id": "W", "study_id": 7, "datetime_start": null, "state": 4, "value": null, "values": null, "distributions": {}, "params": {}, "user_attrs": {}, "system_attrs": {}, "intermediate_values": {}}',
    ]);
  });

  it('compares content without ids or key order, and as SQLite keeps it when asked', () => {
    const a = study();
    assert.equal(studyDifference(a, study({ studyId: 0, userAttrs: { a: 1.5, b: 1 } })), null);
    const lossy = study({
      trials: [
        {
          ...a.trials[0],
          values: [1, 0],
          datetimeStart: '2026-11-26T10:00:00.000001',
          datetimeComplete: '2026-11-26T10:00:01.000000',
        },
        ...a.trials.slice(1),
      ],
    });
    assert.equal(studyDifference(a, lossy), 'trial #0: values differs');
    assert.equal(studyDifference(a, lossy, true), null);
    assert.equal(
      studyDifference(a, study({ trials: a.trials.slice(0, 1) })),
      '2 trials in the source, 1 in the copy',
    );
  });
});
