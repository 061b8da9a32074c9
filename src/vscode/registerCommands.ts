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
import type { Services } from './services';
import type { Node } from './views/nodes';

/** Every command, wired in one place. Errors become a message, never an unhandled rejection. */
export function registerCommands(s: Services): void {
  const docs = new ReportDocuments();
  s.context.subscriptions.push(
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
  };
  for (const [id, handler] of Object.entries(commands)) {
    s.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (node?: Node) => {
        try {
          return await handler(node);
        } catch (e) {
          s.log.error(`${id}: ${(e as Error).stack ?? String(e)}`);
          void vscode.window.showErrorMessage(`Optuna Storage: ${(e as Error).message}`);
          return undefined;
        }
      }),
    );
  }
}
