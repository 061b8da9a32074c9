import * as assert from 'node:assert/strict';
import {
  type FilterColumn,
  type FilterSchema,
  compileFilter,
} from '../../src/core/studyPage/filterExpr';
import { FilterError } from '../../src/core/studyPage/filterTokens';

/** Five rows of a small table. */
const data: Record<
  string,
  { kind: FilterColumn['kind']; v: Array<number | string | boolean | null> }
> = {
  number: { kind: 'number', v: [0, 1, 2, 3, 4] },
  state: { kind: 'state', v: ['COMPLETE', 'COMPLETE', 'RUNNING', 'PRUNED', 'COMPLETE'] },
  value: { kind: 'number', v: [0.5, 0.002, null, Infinity, NaN] },
  lr: { kind: 'number', v: [0.1, 0.001, 0.005, null, 0.02] },
  optimizer: { kind: 'text', v: ['adam', 'sgd', 'adam', 'rmsprop', 'sgd'] },
  batch: { kind: 'text', v: ['32', '64', '32', '128', '64'] },
  'user.fold': { kind: 'number', v: [1, 2, 3, 1, 2] },
  'my-lr': { kind: 'number', v: [1, 2, 3, 4, 5] },
  'values[1]': { kind: 'number', v: [9, 8, 7, 6, 5] },
  stale: { kind: 'bool', v: [false, false, true, false, false] },
};

const schema: FilterSchema = {
  column(name) {
    const d = data[name] ?? data[name.replace(/^params\./, '')];
    return d && { kind: d.kind, get: (row) => d.v[row] };
  },
  names: () => Object.keys(data),
  constant: (name) =>
    ['RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'].includes(name) ? name : undefined,
};

function rows(expr: string): number[] {
  const f = compileFilter(expr, schema);
  return [0, 1, 2, 3, 4].filter(f);
}

function error(expr: string): FilterError {
  try {
    compileFilter(expr, schema);
  } catch (e) {
    assert.ok(e instanceof FilterError, String(e));
    return e;
  }
  assert.fail(`"${expr}" was accepted`);
}

describe('filter expressions', () => {
  it('compares params, values and states, with and/or/not and parentheses', () => {
    assert.deepEqual(rows('lr < 0.01 and state == COMPLETE'), [1]);
    assert.deepEqual(rows('lr < 0.01 or state == PRUNED'), [1, 2, 3]);
    assert.deepEqual(rows('not (state == COMPLETE)'), [2, 3]);
    assert.deepEqual(rows('state != COMPLETE and not lr >= 0.01'), [2, 3]);
    assert.deepEqual(rows('value <= 0.5'), [0, 1]);
    assert.deepEqual(rows('value > 1e300'), [3]);
    assert.deepEqual(rows('value == inf'), [3]);
    assert.deepEqual(rows('value == nan'), [4]);
    assert.deepEqual(rows('number >= 3'), [3, 4]);
    assert.deepEqual(rows('number > -1 and number < 2'), [0, 1]);
  });

  it('matches categorical labels, lists, qualified and quoted names', () => {
    assert.deepEqual(rows('optimizer == "adam"'), [0, 2]);
    assert.deepEqual(rows("optimizer in ['sgd', 'rmsprop']"), [1, 3, 4]);
    assert.deepEqual(rows('optimizer not in ["sgd"]'), [0, 2, 3]);
    assert.deepEqual(rows('batch == 64'), [1, 4]);
    assert.deepEqual(rows('batch > 40'), [1, 3, 4]);
    assert.deepEqual(rows('user.fold == 1'), [0, 3]);
    assert.deepEqual(rows('params["my-lr"] >= 4'), [3, 4]);
    assert.deepEqual(rows('`my-lr` == 2'), [1]);
    assert.deepEqual(rows('values[1] < 7'), [3, 4]);
    assert.deepEqual(rows('stale'), [2]);
    assert.deepEqual(rows('stale == True or lr == None'), [2, 3]);
  });

  it('treats a missing value as matching nothing but == None', () => {
    assert.deepEqual(rows('lr > 0'), [0, 1, 2, 4]);
    assert.deepEqual(rows('lr != 0.1'), [1, 2, 3, 4]);
    assert.deepEqual(rows('lr == None'), [3]);
  });

  it('explains bad expressions with the place and what was expected', () => {
    assert.equal(error('').message, 'the expression is empty (at column 1)');
    assert.equal(error('lr <').message, 'expected a value after "<", found the end (at column 5)');
    assert.equal(
      error('lr < 0.01 state == COMPLETE').message,
      'expected "and", "or" or the end, found "state" (at column 11)',
    );
    assert.equal(error('lr = 0.1').message, 'use == to compare (at column 4)');
    assert.equal(
      error('(lr < 1').message,
      'expected ")" to close the "(" at column 1 (at column 8)',
    );
    assert.equal(
      error('optimizer == "adam').message,
      'text starting here has no closing " (at column 14)',
    );
    assert.equal(
      error('optimizer in "adam"').message,
      '"in" needs a list such as ["adam", "sgd"] (at column 11)',
    );
    assert.equal(error('lr < 1x').message, '"1x…" is not a number (at column 6)');
    assert.equal(error('lr # 1').message, 'unexpected character "#" (at column 4)');
    const unknown = error('lrr < 0.1').message;
    assert.match(unknown, /^unknown name "lrr"; names are number, state, value, lr, optimizer/);
    assert.match(unknown, /user attributes as user\.NAME/);
    assert.equal(
      error('state == DONE').message,
      'unknown state "DONE": use RUNNING, COMPLETE, PRUNED, FAIL or WAITING (at column 10)',
    );
    assert.equal(
      error('state < COMPLETE').message,
      'states compare with == and != only (at column 7)',
    );
    assert.equal(
      error('lr < "abc"').message,
      '"lr" is a number: compare it with a number, not "abc" (at column 4)',
    );
    assert.equal(
      error('lr').message,
      '"lr" is not true or false by itself: compare it, e.g. lr > 0 (at column 1)',
    );
    assert.equal(
      error('0.5').message,
      'a value alone is not a condition: compare it with a column (at column 1)',
    );
    assert.equal(error('lr in [lr]').message, 'a list holds values, not columns (at column 8)');
  });
});
