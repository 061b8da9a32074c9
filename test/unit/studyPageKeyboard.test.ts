import * as assert from 'node:assert/strict';
import { axisExtent, axisInterval } from '../../src/webview/studyPage/axisRange';
import type { ParallelAxisDef } from '../../src/webview/studyPage/charts/parallel';
import { zoomKey, zoomText, zoomWindow } from '../../src/webview/studyPage/zoom';

const values = [0.5, NaN, 0.001, Infinity, 0.2];
const lr: ParallelAxisDef = { key: 'p0', name: 'lr', value: (r) => values[r], log: true };
const optimizer: ParallelAxisDef = {
  key: 'p1',
  name: 'optimizer',
  value: (r) => r % 3,
  categories: ['adam', 'rmsprop', 'sgd'],
};

describe('study page keyboard: a typed brush range and the timeline zoom', () => {
  it('reads an axis range as numbers, with the axis ends for empty bounds', () => {
    const ext = axisExtent(lr, values.length);
    assert.deepEqual(ext, [0.001, 0.5], 'NaN and inf left out');
    assert.deepEqual(axisInterval(lr, '0.01', '0.3', ext), { interval: [0.01, 0.3] });
    assert.deepEqual(axisInterval(lr, ' 0.3 ', '1e-2', ext), { interval: [0.01, 0.3] }, 'swapped');
    assert.deepEqual(axisInterval(lr, '', '0.3', ext), { interval: [0.001, 0.3] });
    assert.deepEqual(axisInterval(lr, '0.01', '', ext), { interval: [0.01, 0.5] });
    assert.deepEqual(axisInterval(lr, 'abc', '', ext), { error: '"abc" is not a number' });
    assert.deepEqual(axisInterval(lr, '0', '0.1', ext), {
      error: 'lr is on a log axis: bounds must be above 0',
    });
    const empty: ParallelAxisDef = { key: 'v0', name: 'value', value: () => NaN };
    assert.equal(axisExtent(empty, 3), undefined);
    assert.deepEqual(axisInterval(empty, '', '', undefined), {
      error: 'value has no values to brush',
    });
  });

  it('reads a categorical range as positions of the categories named', () => {
    assert.deepEqual(axisInterval(optimizer, 'rmsprop', 'sgd', undefined), { interval: [1, 2] });
    assert.deepEqual(axisInterval(optimizer, 'SGD', '', undefined), { interval: [2, 2] });
    assert.deepEqual(axisInterval(optimizer, '', 'adam', undefined), { interval: [0, 0] });
    assert.deepEqual(axisInterval(optimizer, 'sgd', 'adam', undefined), { interval: [0, 2] });
    assert.deepEqual(axisInterval(optimizer, 'adamw', '', undefined), {
      error: '"adamw" is not a value of optimizer (adam, rmsprop, sgd)',
    });
  });

  it('zooms around the centre, pans by a quarter, stays inside the span, resets', () => {
    const initial = { start: 70, end: 100 };
    assert.deepEqual(zoomWindow({ start: 20, end: 60 }, 'in', initial), { start: 30, end: 50 });
    assert.deepEqual(zoomWindow({ start: 30, end: 50 }, 'out', initial), { start: 20, end: 60 });
    assert.deepEqual(zoomWindow({ start: 70, end: 100 }, 'out', initial), { start: 40, end: 100 });
    assert.deepEqual(zoomWindow({ start: 10, end: 90 }, 'out', initial), { start: 0, end: 100 });
    assert.deepEqual(zoomWindow({ start: 20, end: 60 }, 'left', initial), { start: 10, end: 50 });
    assert.deepEqual(zoomWindow({ start: 2, end: 42 }, 'left', initial), { start: 0, end: 40 });
    assert.deepEqual(zoomWindow({ start: 20, end: 60 }, 'right', initial), { start: 30, end: 70 });
    assert.deepEqual(zoomWindow({ start: 70, end: 100 }, 'right', initial), initial);
    assert.deepEqual(zoomWindow({ start: 1, end: 2 }, 'reset', initial), initial);
    let w = { start: 0, end: 100 };
    for (let k = 0; k < 40; k++) w = zoomWindow(w, 'in', initial);
    assert.ok(w.end - w.start > 0.0499 && w.end - w.start < 0.1, `${w.start}–${w.end}`);
  });

  it('maps the keys a user expects, and says the window in words', () => {
    assert.deepEqual(
      ['+', '=', '-', '_', 'ArrowLeft', 'ArrowRight', '0', 'Home', 'a', 'Enter'].map(zoomKey),
      ['in', 'in', 'out', 'out', 'left', 'right', 'reset', 'reset', undefined, undefined],
    );
    assert.equal(zoomText({ start: 0, end: 100 }), 'Showing the whole time span');
    assert.equal(zoomText({ start: 70, end: 95 }), 'Showing 25 % of the time span (70.0–95.0 %)');
    assert.equal(
      zoomText({ start: 50, end: 52.5 }),
      'Showing 2.5 % of the time span (50.0–52.5 %)',
    );
  });
});
