import * as assert from 'node:assert/strict';
import { BackgroundWork, Disposable } from '../../src/vscode/lifecycle';

class Owner extends Disposable {
  constructor(readonly log: string[]) {
    super();
  }
  own(name: string): { dispose(): void } {
    return this._register({ dispose: () => this.log.push(name) });
  }
}

describe('Disposable base', () => {
  it('disposes what was registered, last first, once; later registrations at once', () => {
    const log: string[] = [];
    const o = new Owner(log);
    o.own('emitter');
    o.own('subscription');
    o.dispose();
    o.dispose();
    assert.deepEqual(log, ['subscription', 'emitter']);
    o.own('late');
    assert.deepEqual(log, ['subscription', 'emitter', 'late']);
  });
});

describe('background work', () => {
  it('reports failures, and close waits for the work in flight and refuses new work', async () => {
    const errors: string[] = [];
    const w = new BackgroundWork((what, e) => errors.push(`${what}: ${(e as Error).message}`));
    let done = false;
    w.run('slow', () => new Promise((r) => setTimeout(() => ((done = true), r(undefined)), 30)));
    w.run('broken', async () => {
      throw new Error('boom');
    });
    await w.close();
    assert.ok(done, 'close waited for the slow work');
    assert.deepEqual(errors, ['broken: boom']);
    let ran = false;
    w.run('late', async () => void (ran = true));
    await w.close();
    assert.equal(ran, false);
  });
});
