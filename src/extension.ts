import * as vscode from 'vscode';
import { BackupScheduler } from './vscode/backupScheduler';
import { RefreshManager } from './vscode/refreshManager';
import { registerCommands } from './vscode/registerCommands';
import { registerRuns } from './vscode/runs/register';
import { PasswordStore } from './vscode/secrets';
import type { Services } from './vscode/services';
import { affectsStore, SECTION } from './vscode/settings';
import { StabilitySuite } from './vscode/stability/suiteController';
import { StatusBar } from './vscode/statusBar';
import { StoreService } from './vscode/storeService';
import { MonitorProvider } from './vscode/views/monitorProvider';
import { StudyPages } from './vscode/studyPage/studyPages';
import { trackRedisRefusedHere } from './vscode/views/redisActions';
import { trackSplitStudies } from './vscode/commands/healStudy';
import { StudiesProvider } from './vscode/views/studiesProvider';
import { TrialsProvider } from './vscode/views/trialsProvider';
import { WritersService } from './vscode/writersService';

/** What activate() returns: the services, so extension-host tests can look inside. */
export type ExtensionApi = Services & {
  stability: StabilitySuite;
  monitor: MonitorProvider;
  studyPages: StudyPages;
  backups: BackupScheduler;
};

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const activatedAt = Date.now();
  const log = vscode.window.createOutputChannel('Optuna Storage', { log: true });
  const passwords = new PasswordStore(context.secrets);
  const store = new StoreService(
    passwords,
    log,
    vscode.Uri.joinPath(context.globalStorageUri, 'journals').fsPath,
    vscode.Uri.joinPath(context.extensionUri, 'dist', 'sqliteWorker.js').fsPath,
  );
  const studies = new StudiesProvider(store);
  const trials = new TrialsProvider(store);
  const studiesView = vscode.window.createTreeView('optunaStorage.studies', {
    treeDataProvider: studies,
    showCollapseAll: true,
  });
  const trialsView = vscode.window.createTreeView('optunaStorage.trials', {
    treeDataProvider: trials,
    showCollapseAll: true,
  });
  const writers = new WritersService(store, log);
  // One read: the studies, and the writers' status files next to the fallback file.
  const refresh = new RefreshManager(
    (r) => Promise.all([store.refresh(r), writers.read()]),
    store.settings.refreshIntervalMs,
    [studiesView, trialsView],
  );
  writers.watch(refresh);
  const statusBar = new StatusBar(store, writers);
  context.subscriptions.push(
    log,
    store,
    studies,
    trials,
    studiesView,
    trialsView,
    writers,
    refresh,
    statusBar,
  );

  const services = {
    context,
    log,
    store,
    passwords,
    studies,
    trials,
    studiesView,
    trialsView,
    refresh,
    statusBar,
    writers,
    activatedAt,
  } as Services;
  const studyPages = new StudyPages(services);
  services.studyPages = studyPages;
  context.subscriptions.push(studyPages);
  const runs = registerRuns(services);
  shutdown = () => runs.manager.shutdown();
  const monitor = new MonitorProvider(store);
  const monitorView = vscode.window.createTreeView('optunaStorage.monitor', {
    treeDataProvider: monitor,
  });
  const monitorRefresh = new RefreshManager(() => monitor.refresh(), 5000, [monitorView]);
  context.subscriptions.push(
    monitor,
    monitorView,
    monitorRefresh,
    monitor.onDidChangeWarnings((w) => statusBar.setWarnings(w)),
  );
  const stability = new StabilitySuite(services);
  context.subscriptions.push(stability);
  registerCommands(services, { runs: runs.manager, monitorRefresh, stability });
  void vscode.commands.executeCommand('setContext', 'optunaStorage.trialSort', trials.sort);
  const backups = new BackupScheduler(services);
  context.subscriptions.push(backups, trackRedisRefusedHere(store), trackSplitStudies(store));

  context.subscriptions.push(
    store.onDidChangeData(() => {
      studies.refresh();
      trials.refresh();
      trialsView.description = trials.description();
    }),
    // A new state (e.g. Redis back) deserves a prompt read of what changed meanwhile.
    store.onDidChangeState(() => {
      studies.refresh();
      void refresh.refresh('state');
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.backup`)) backups.reschedule();
      if (affectsStore(e)) store.settingsChanged();
      else if (e.affectsConfiguration(SECTION)) {
        store.reloadSettings();
        refresh.setInterval(store.settings.refreshIntervalMs);
        studies.refresh();
        trials.refresh();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void store.start();
      backups.reschedule();
    }),
  );
  log.info(
    `activated in ${Date.now() - activatedAt} ms (VS Code ${vscode.version}, Node ${process.version}, ${vscode.workspace.isTrusted ? 'trusted' : 'restricted mode'})`,
  );
  void store.start();
  return { ...services, stability, monitor, studyPages, backups };
}

/**
 * Set by activate(): what deactivate() waits for (VS Code calls it without arguments, and
 * awaits the promise before the extension host goes away).
 */
let shutdown: (() => Promise<void>) | undefined;

/** Waits for background work (a run's final read, the history's last save). */
export function deactivate(): Promise<void> | undefined {
  return shutdown?.();
}
