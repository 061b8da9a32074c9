import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as vscode from 'vscode';
import { RefreshManager } from '../../src/vscode/refreshManager';

/** Just enough of a TreeView: visibility and its change event (the real one is tested in VS Code). */
function fakeView(visible: boolean) {
  const events = new EventEmitter();
  const view = {
    visible,
    onDidChangeVisibility: (fn: (e: { visible: boolean }) => void) => {
      events.on('v', fn);
      return { dispose: () => events.off('v', fn) };
    },
  };
  return {
    view: view as unknown as vscode.TreeView<unknown>,
    setVisible: (v: boolean) => ((view.visible = v), events.emit('v', { visible: v })),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RefreshManager', () => {
  it('refreshes on the interval only while a view is visible', async () => {
    let calls = 0;
    const a = fakeView(false);
    const b = fakeView(false);
    const m = new RefreshManager(async () => void calls++, 20, [a.view, b.view], 5);
    try {
      await sleep(80);
      assert.equal(calls, 0, 'hidden views: no refresh');
      a.setVisible(true);
      await sleep(110);
      const whileVisible = calls;
      assert.ok(whileVisible >= 3, `visible: ${whileVisible} refreshes`);
      a.setVisible(false);
      await sleep(10);
      const atHide = calls;
      await sleep(80);
      assert.equal(calls, atHide, 'hidden again: no more refreshes');
    } finally {
      m.dispose();
    }
  });

  it('debounces event-driven refreshes and runs manual ones at once', async () => {
    let calls = 0;
    const a = fakeView(true);
    const m = new RefreshManager(async () => void calls++, 60_000, [a.view], 30);
    try {
      for (let i = 0; i < 10; i++) m.request();
      await sleep(60);
      assert.equal(calls, 1, 'ten requests, one refresh');
      await m.now();
      assert.equal(calls, 2);
    } finally {
      m.dispose();
    }
  });

  it('also refreshes while a tracked panel (a study page) is visible, until it is untracked', async () => {
    let calls = 0;
    const tree = fakeView(false);
    const m = new RefreshManager(async () => void calls++, 20, [tree.view], 5);
    const panel = fakeView(true);
    const tracked = m.track(panel.view);
    try {
      await sleep(90);
      assert.ok(calls >= 2, `panel visible: ${calls} refreshes`);
      tracked.dispose();
      await sleep(10);
      const at = calls;
      await sleep(80);
      assert.equal(calls, at, 'panel closed: no more refreshes');
    } finally {
      m.dispose();
    }
  });
});
