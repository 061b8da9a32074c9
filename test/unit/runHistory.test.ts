import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { RunRecord } from '../../src/core/runs/record';
import { HISTORY_KEY, RunHistory } from '../../src/vscode/runs/runHistory';

/** workspaceState as VS Code gives it: get, and an update that applies later. */
function memento(): vscode.Memento & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    keys: () => [...data.keys()],
    get: <T>(key: string, fallback?: T) => (data.has(key) ? (data.get(key) as T) : fallback),
    update: (key: string, value: unknown) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          data.set(key, JSON.parse(JSON.stringify(value)));
          resolve();
        }, 5),
      ),
  } as vscode.Memento & { data: Map<string, unknown> };
}

function runs(dir: string, n: number, state: RunRecord['state'] = 'exited'): RunRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const runDir = path.join(dir, `run-${i}`);
    fs.mkdirSync(runDir, { recursive: true });
    return {
      id: `r${i}`,
      seq: i + 1,
      label: `run #${i + 1}`,
      terminalName: `Optuna run: run #${i + 1}`,
      values: {},
      command: 'true',
      cwd: dir,
      dir: runDir,
      study: { source: 'detecting', baseline: 0 },
      startedAt: 1000 + i,
      state,
    } as RunRecord;
  });
}

describe('run history', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-history-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('saving writes the history and deletes nothing, even beyond the limit', async () => {
    const m = memento();
    const all = runs(dir, 105);
    m.data.set(HISTORY_KEY, all);
    const h = new RunHistory(m);
    h.save(true);
    await h.saved();
    assert.equal((m.data.get(HISTORY_KEY) as RunRecord[]).length, 105);
    assert.ok(
      all.every((r) => fs.existsSync(r.dir)),
      'every run folder is still there',
    );
  });

  it('deleteRunsBeyondLimit forgets the oldest finished runs and deletes their folders', () => {
    const m = memento();
    const all = runs(dir, 103);
    all[0].state = 'running'; // the oldest, but running: kept
    m.data.set(HISTORY_KEY, all);
    const h = new RunHistory(m);
    const dropped = h.deleteRunsBeyondLimit();
    assert.deepEqual(
      dropped.map((r) => r.id),
      ['r2', 'r1'],
    );
    assert.equal(h.all.length, 101, 'the 100 newest, and the running one');
    assert.ok(h.get('r0'), 'a running run is never dropped');
    assert.ok(dropped.every((r) => !fs.existsSync(r.dir)));
    assert.ok(fs.existsSync(all[3].dir));
  });

  it('deleteRun refuses a running run and deletes a finished one with its folder', () => {
    const m = memento();
    const [a, b] = runs(dir, 2);
    b.state = 'running';
    m.data.set(HISTORY_KEY, [b, a]);
    const h = new RunHistory(m);
    assert.throws(() => h.deleteRun(h.get('r1')!), /still running/);
    h.deleteRun(h.get('r0')!);
    assert.deepEqual(
      h.all.map((r) => r.id),
      ['r1'],
    );
    assert.equal(fs.existsSync(a.dir), false);
  });

  it('saves at most every 10 s unless asked to save now', async () => {
    const m = memento();
    const h = new RunHistory(m);
    h.save(true);
    await h.saved();
    h.add(runs(dir, 1)[0]);
    h.save();
    await h.saved();
    assert.equal((m.data.get(HISTORY_KEY) as RunRecord[]).length, 0, 'throttled');
    h.save(true);
    await h.saved();
    assert.equal((m.data.get(HISTORY_KEY) as RunRecord[]).length, 1);
  });
});
