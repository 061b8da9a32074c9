import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as vscode from 'vscode';
import { sleep } from '../../src/core/abort';
import { RefreshManager, type RefreshRequest } from '../../src/vscode/refreshManager';

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
    const reads: RefreshRequest[] = [];
    const a = fakeView(true);
    const m = new RefreshManager(async (r) => void reads.push(r), 60_000, [a.view], 30);
    try {
      for (let i = 0; i < 10; i++) void m.refresh('state');
      await sleep(60);
      assert.deepEqual(
        reads.map((r) => r.reason),
        ['state'],
        'ten requests, one refresh',
      );
      await m.refresh('manual');
      assert.deepEqual(reads[1], { reason: 'manual', rediscover: true, fresh: false });
      await m.refresh('wrote');
      assert.deepEqual(reads[2], { reason: 'wrote', rediscover: true, fresh: true });
    } finally {
      m.dispose();
    }
  });

  it('skips event-driven refreshes while hidden; reads that must happen run anyway', async () => {
    const reads: string[] = [];
    const a = fakeView(false);
    const m = new RefreshManager(async (r) => void reads.push(r.reason), 60_000, [a.view], 5);
    try {
      await m.refresh('state');
      await m.refresh('run-ended');
      await sleep(30);
      assert.deepEqual(reads, ['run-ended']);
    } finally {
      m.dispose();
    }
  });

  it('keepFresh runs the interval with the views hidden, at its own pace, until disposed', async () => {
    const reads: string[] = [];
    const a = fakeView(false);
    const m = new RefreshManager(async (r) => void reads.push(r.reason), 60_000, [a.view], 5);
    try {
      assert.equal(m.active, false);
      const keep = m.keepFresh(20);
      assert.equal(m.active, true);
      // Its own pace (20 ms, not the 60 s interval): three reads come well within 5 s.
      const deadline = Date.now() + 5000;
      while (reads.length < 3 && Date.now() < deadline) await sleep(10);
      const held = reads.length;
      assert.ok(held >= 3, `kept fresh: ${held} reads`);
      assert.ok(reads.every((r) => r === 'interval'));
      keep.dispose();
      await sleep(60);
      assert.equal(reads.length, held, 'released: no more reads');
      assert.equal(m.active, false);
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
