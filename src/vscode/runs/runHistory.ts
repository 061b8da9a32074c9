import * as fs from 'node:fs';
import type * as vscode from 'vscode';
import { loadHistory, type RunRecord, trimHistory } from '../../core/runs/record';

export const HISTORY_KEY = 'optunaStorage.runs.history';

/**
 * The runs of this workspace, newest first, kept in workspaceState so they survive restarts.
 * Saving only writes; deleting a run's folder happens only in the methods that say so.
 */
export class RunHistory {
  private list: RunRecord[];
  private lastSave = 0;
  /** The last write to workspaceState (they apply in order). */
  private written: Thenable<void> = Promise.resolve();

  constructor(private readonly state: vscode.Memento) {
    this.list = loadHistory(state.get(HISTORY_KEY));
  }

  get all(): readonly RunRecord[] {
    return this.list;
  }

  get(id: string): RunRecord | undefined {
    return this.list.find((r) => r.id === id);
  }

  running(): RunRecord[] {
    return this.list.filter((r) => r.state === 'running');
  }

  /** Reads the history again (another window of the workspace may have written it). */
  reload(): void {
    this.list = loadHistory(this.state.get(HISTORY_KEY));
  }

  add(run: RunRecord): void {
    this.list.unshift(run);
  }

  /** Writes the history; unless `now`, at most every 10 s (progress changes every second). */
  save(now = false): void {
    if (!now && Date.now() - this.lastSave < 10_000) return;
    this.lastSave = Date.now();
    this.written = this.state.update(HISTORY_KEY, this.list);
  }

  /** Resolves when the last write has been applied. */
  async saved(): Promise<void> {
    await this.written;
  }

  /** Forgets the oldest finished runs beyond the history's limit and deletes their folders. */
  deleteRunsBeyondLimit(): RunRecord[] {
    const { keep, drop } = trimHistory(this.list);
    for (const r of drop) fs.rmSync(r.dir, { recursive: true, force: true });
    this.list = keep;
    return drop;
  }

  /** Forgets a finished run and deletes its folder (script, pid, status). */
  deleteRun(run: RunRecord): void {
    if (run.state === 'running') throw new Error(`${run.label} is still running: stop it first`);
    fs.rmSync(run.dir, { recursive: true, force: true });
    this.list = this.list.filter((r) => r !== run);
  }
}
