import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { type RunRecord, stateText } from '../../core/runs/record';
import type { RunManager } from './runManager';
import { progressText, runSummary } from './runsProvider';

const RECENT_MS = 5 * 60_000;

/**
 * The active run's progress ("$(rocket) tpe 120/200"), next to the storage item: the newest
 * running run (plus how many others run), else for a few minutes the result of the last one.
 * Clicking opens the Runs view.
 */
export class RunStatusBar extends Disposable {
  readonly item: vscode.StatusBarItem;

  constructor(private readonly manager: RunManager) {
    super();
    this.item = this._register(
      vscode.window.createStatusBarItem(
        'optunaStorage.runs.status',
        vscode.StatusBarAlignment.Left,
        99,
      ),
    );
    this.item.name = 'Optuna Run';
    this.item.command = 'optunaStorage.runs.focus';
    this._register(manager.onDidChange(() => this.update()));
    this.update();
  }

  update(): void {
    const runs = this.manager.all;
    const running = runs.filter((r) => r.state === 'running');
    const run: RunRecord | undefined =
      running[0] ?? runs.find((r) => r.endedAt !== undefined && Date.now() - r.endedAt < RECENT_MS);
    if (!run) {
      this.item.hide();
      return;
    }
    const short = run.label.split(' ')[0];
    const icon =
      run.state === 'running'
        ? run.stopRequestedAt
          ? '$(loading~spin)'
          : '$(rocket)'
        : run.state === 'exited' && run.exitCode === 0
          ? '$(pass)'
          : '$(error)';
    const others = running.length > 1 ? ` +${running.length - 1}` : '';
    this.item.text = `${icon} ${short} ${progressText(run.progress, run.planned)}${others}`;
    const md = new vscode.MarkdownString();
    for (const r of running.length ? running : [run])
      md.appendMarkdown(`**${r.label}** — ${stateText(r)}  \n${runSummary(r)}\n\n`);
    md.appendMarkdown('Click to open the Runs view');
    this.item.tooltip = md;
    this.item.accessibilityInformation = {
      label: `Optuna run ${run.label}: ${stateText(run)}, ${runSummary(run)}`,
    };
    this.item.show();
  }
}
