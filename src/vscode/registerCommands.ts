import * as vscode from 'vscode';
import {
  configureConnection,
  forgetPassword,
  openSettings,
  reconnect,
} from './commands/connection';
import { copyEnqueueSnippet, copyParams } from './commands/copy';
import { deleteStudy } from './commands/deleteStudy';
import { exportStudy } from './commands/exportStudy';
import { exportToOptuna } from './commands/exportToOptuna';
import { healStudy } from './commands/healStudy';
import { importStudyIntoRedis } from './commands/importStudy';
import { backupRedis } from './commands/backupRedis';
import { deployRedis } from './commands/deploy';
import { doctor } from './commands/doctor';
import { showHealth, statusActions } from './commands/health';
import { ReportDocuments } from './reportDocuments';
import { refresh } from './commands/refresh';
import { openStudyPage } from './studyPage/openStudyPage';
import { markTrialsFailedCommand } from './studyPage/markFail';
import { restoreRedis } from './commands/restoreRedis';
import { startRedis } from './commands/startRedis';
import { filterStates, loadMore, selectStudy, showTrials, sortTrials } from './commands/trials';
import { isCancelled } from './progress';
import type { RefreshManager } from './refreshManager';
import { runCommands } from './runs/commands';
import type { RunManager } from './runs/runManager';
import type { Services } from './services';
import type { StabilitySuite } from './stability/suiteController';
import type { Node } from './views/nodes';

/** Features built before the commands are wired (activate() makes them). */
export interface CommandTargets {
  runs: RunManager;
  monitorRefresh: RefreshManager;
  stability: StabilitySuite;
}

/**
 * Every command, wired in one place (vscode-docker's registerCommands): each handler gets the
 * node it was invoked on, if any; a failure becomes one error message and a log line, a
 * cancellation only a log line — never an unhandled rejection.
 */
export function registerCommands(s: Services, t: CommandTargets): void {
  const docs = new ReportDocuments();
  s.context.subscriptions.push(
    docs,
    vscode.workspace.registerTextDocumentContentProvider(ReportDocuments.scheme, docs),
    s.studiesView.onDidChangeSelection((e) => selectStudy(s, e.selection)),
  );
  const commands: Record<string, (node?: Node) => unknown> = {
    'optunaStorage.refresh': () => refresh(s),
    'optunaStorage.configureConnection': () => configureConnection(s),
    'optunaStorage.reconnect': () => reconnect(s),
    'optunaStorage.showHealth': () => showHealth(s, docs),
    'optunaStorage.doctor': () => doctor(s, docs),
    'optunaStorage.deployRedis': () => deployRedis(s, docs),
    'optunaStorage.startRedis': () => startRedis(s, docs),
    'optunaStorage.backupRedis': () => backupRedis(s),
    'optunaStorage.restoreRedis': () => restoreRedis(s, docs),
    'optunaStorage.exportToOptuna': (node) => exportToOptuna(s, node),
    'optunaStorage.importStudy': (node) => importStudyIntoRedis(s, node),
    'optunaStorage.healStudy': (node) => healStudy(s, node),
    'optunaStorage.statusActions': () => statusActions(s),
    'optunaStorage.openSettings': () => openSettings(s),
    'optunaStorage.forgetPassword': () => forgetPassword(s),
    'optunaStorage.showTrials': (node) => showTrials(s, node),
    'optunaStorage.trials.sortByNumber': () => sortTrials(s, 'number'),
    'optunaStorage.trials.sortByBest': () => sortTrials(s, 'best'),
    'optunaStorage.trials.filterStates': () => filterStates(s),
    'optunaStorage.loadMore': (node) => loadMore(s, node),
    'optunaStorage.copyParams': (node) => copyParams(s, node),
    'optunaStorage.copyEnqueueSnippet': (node) => copyEnqueueSnippet(s, node),
    'optunaStorage.exportStudy': (node) => exportStudy(s, node),
    'optunaStorage.deleteStudy': (node) => deleteStudy(s, node),
    'optunaStorage.openStudyPage': (node) => openStudyPage(s, node),
    'optunaStorage.markTrialsFailed': (node) => markTrialsFailedCommand(s, node),
    'optunaStorage.monitor.refresh': () => t.monitorRefresh.refresh('manual'),
    'optunaStorage.runStabilitySuite': () => t.stability.runFromCommand(),
  };
  register(s, commands);
  register(s, runCommands(s, t.runs));
}

/** The one error wrapper: what a command throws is logged and shown, a cancellation logged. */
function register(s: Services, commands: Record<string, (arg?: never) => unknown>): void {
  for (const [id, handler] of Object.entries(commands)) {
    s.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: never) => {
        try {
          return await handler(arg);
        } catch (e) {
          if (isCancelled(e)) {
            s.log.info(`${id}: cancelled`);
            return undefined;
          }
          s.log.error(`${id}: ${(e as Error).stack ?? String(e)}`);
          void vscode.window.showErrorMessage(`Optuna Storage: ${(e as Error).message}`);
          return undefined;
        }
      }),
    );
  }
}
