import * as vscode from 'vscode';
import type { Services } from '../services';
import * as cmd from './commands';
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
 * Optimizer runs: the Runs view, its status bar item and commands. Everything is pushed to
 * the extension's subscriptions; the history is reconciled with the processes in the background.
 */
export function registerRuns(s: Services): RunsApi {
  const storage = (s.context.storageUri ?? s.context.globalStorageUri).fsPath;
  const manager = new RunManager(s, storage);
  const provider = new RunsProvider(manager);
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

  const commands: Record<string, (arg?: cmd.RunArg) => unknown> = {
    'optunaStorage.runs.launch': () => cmd.launch(s, manager),
    'optunaStorage.runs.stop': (a) => cmd.stop(manager, a),
    'optunaStorage.runs.relaunch': (a) => cmd.relaunch(manager, a),
    'optunaStorage.runs.nextStage': (a) => cmd.nextStage(manager, a),
    'optunaStorage.runs.reattach': (a) => cmd.reattach(manager, a),
    'optunaStorage.runs.showTerminal': (a) => cmd.showTerminal(manager, a),
    'optunaStorage.runs.showStudy': (a) => cmd.showStudy(manager, a),
    'optunaStorage.runs.copyCommand': (a) => cmd.copyCommand(manager, a),
    'optunaStorage.runs.remove': (a) => cmd.remove(manager, a),
    'optunaStorage.runs.clearFinished': () => cmd.clearFinished(manager),
  };
  for (const [id, handler] of Object.entries(commands)) {
    s.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: cmd.RunArg) => {
        try {
          return await handler(arg);
        } catch (e) {
          s.log.error(`${id}: ${(e as Error).stack ?? String(e)}`);
          void vscode.window.showErrorMessage(`Optuna Storage: ${(e as Error).message}`);
          return undefined;
        }
      }),
    );
  }

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
