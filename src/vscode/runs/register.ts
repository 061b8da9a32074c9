import * as vscode from 'vscode';
import type { Services } from '../services';
import { RunManager } from './runManager';
import { type RunNode, RunsProvider } from './runsProvider';
import { RunStatusBar } from './runStatusBar';

/** The runs feature's parts; activate() returns them as `services.runs` for extension-host tests. */
export interface RunsApi {
  manager: RunManager;
  provider: RunsProvider;
  view: vscode.TreeView<RunNode>;
  statusBar: RunStatusBar;
}

/**
 * Optimizer runs: the Runs view and its status bar item (its commands are registered with the
 * others). Everything is pushed to the extension's subscriptions; the history is reconciled
 * with the processes in the background.
 */
export function registerRuns(s: Services): RunsApi {
  const storage = (s.context.storageUri ?? s.context.globalStorageUri).fsPath;
  const manager = new RunManager(s, storage);
  const provider = new RunsProvider(manager, s.writers);
  const view = vscode.window.createTreeView('optunaStorage.runs', {
    treeDataProvider: provider,
    showCollapseAll: true,
  });
  const statusBar = new RunStatusBar(manager);
  s.context.subscriptions.push(
    manager,
    provider,
    view,
    statusBar,
    manager.onDidChange(() => {
      provider.refresh();
      setRunContext(manager);
    }),
  );
  setRunContext(manager);

  const api: RunsApi = { manager, provider, view, statusBar };
  (s as Services & { runs?: RunsApi }).runs = api;
  manager.start();
  return api;
}

/**
 * Context keys that hide run commands from the palette while no run they could act on exists
 * (package.json menus.commandPalette), instead of offering them only to say "no runs".
 */
function setRunContext(m: RunManager): void {
  const runs = m.all;
  const keys: Record<string, boolean> = {
    'optunaStorage.runs.any': runs.length > 0,
    'optunaStorage.runs.running': runs.some((r) => r.state === 'running'),
    'optunaStorage.runs.finished': runs.some((r) => r.state !== 'running'),
    'optunaStorage.runs.tmux': runs.some((r) => r.tmux !== undefined),
    'optunaStorage.runs.nextStage': runs.some((r) => m.nextStage(r) !== undefined),
  };
  for (const [key, value] of Object.entries(keys))
    void vscode.commands.executeCommand('setContext', key, value);
}
