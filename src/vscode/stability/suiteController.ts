import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  SCENARIOS,
  type ScenarioId,
  type ScenarioResult,
  type SuiteResult,
  runSuite,
  writeReports,
} from '../../core/stability';
import { signalOf } from '../progress';
import type { Services } from '../services';
import { pathInsideFolder } from '../../core/pathInside';
import { SECTION, numberSetting } from '../settings';
import { requireTrust } from '../trust';

/**
 * The stability suite in the Test Explorer: one test item per scenario, run and cancelled
 * from there or from the "Run Stability Suite" command (with cancellable progress), live
 * output in the test run and the log channel, and a Markdown + JSON report saved in the
 * workspace and opened at the end.
 */
export class StabilitySuite implements vscode.Disposable {
  readonly controller: vscode.TestController;
  private readonly items = new Map<ScenarioId, vscode.TestItem>();
  private running: Promise<SuiteResult | undefined> | undefined;

  constructor(private readonly s: Services) {
    this.controller = vscode.tests.createTestController(
      'optunaStorage.stability',
      'Optuna storage stability',
    );
    for (const sc of SCENARIOS) {
      const item = this.controller.createTestItem(sc.id, sc.label);
      item.description = sc.usesDisposableServer ? 'on a disposable redis-server' : undefined;
      item.sortText = String(SCENARIOS.indexOf(sc));
      this.items.set(sc.id, item);
      this.controller.items.add(item);
    }
    this.controller.createRunProfile(
      'Run',
      vscode.TestRunProfileKind.Run,
      (request, token) => void this.run(request, token),
      true,
    );
  }

  /** Runs the selected scenarios (all by default); resolves with the suite's result. */
  run(
    request: vscode.TestRunRequest = new vscode.TestRunRequest(),
    token?: vscode.CancellationToken,
    progress?: vscode.Progress<{ message?: string; increment?: number }>,
  ): Promise<SuiteResult | undefined> {
    if (this.running) {
      void vscode.window.showInformationMessage('The stability suite is already running.');
      return this.running;
    }
    this.running = this.execute(request, token, progress).finally(() => (this.running = undefined));
    return this.running;
  }

  /** The report folder: the setting's, when it stays inside the workspace folder. */
  private reportDir(folder: string, setting: unknown): string {
    const inside = typeof setting === 'string' ? pathInsideFolder(folder, setting) : undefined;
    if (inside) return inside;
    this.s.log.warn(
      `suite: stability.reportDir ${JSON.stringify(setting)} leads outside the workspace folder: reports go to ${DEFAULT_REPORT_DIR} in it`,
    );
    return path.join(folder, DEFAULT_REPORT_DIR);
  }

  private async execute(
    request: vscode.TestRunRequest,
    token?: vscode.CancellationToken,
    progress?: vscode.Progress<{ message?: string; increment?: number }>,
  ): Promise<SuiteResult | undefined> {
    if (!requireTrust('Running the stability suite')) return undefined;
    const settings = this.s.store.settings;
    if (!settings.redisUrl) {
      void vscode.window.showErrorMessage(
        'The stability suite tests a Redis server: set "optunaStorage.redis.url" first (Configure Connection).',
      );
      return undefined;
    }
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const only = (
      request.include?.length ? request.include.map((i) => i.id) : SCENARIOS.map((sc) => sc.id)
    ).filter((id) => !excluded.has(id)) as ScenarioId[];
    const testRun = this.controller.createTestRun(request, 'Optuna storage stability', false);
    for (const id of only) testRun.enqueued(this.items.get(id)!);
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const cancel = signalOf(token);
    const log = this.s.log;
    try {
      const result = await runSuite(
        {
          redisUrl: settings.redisUrl,
          password: await this.s.passwords.get(settings.redisUrl),
          settings: settings.connection,
          // A fallback file the optimizers have not created yet cannot be read: use a scratch one.
          sqlitePath: settings.fallback.kind === 'expected' ? undefined : settings.sqlitePath,
          only,
          jobs: Math.round(numberSetting(cfg, 'stability.jobs', 30, 1, 200)),
          companionRoot: this.s.context.extensionPath,
          trials:
            cfg.get<number | null>('stability.trials', null) === null
              ? undefined
              : Math.round(numberSetting(cfg, 'stability.trials', 300, 1, 10_000_000)),
        },
        {
          signal: cancel.signal,
          onScenarioStart: (info) => {
            testRun.started(this.items.get(info.id)!);
            progress?.report({
              message: `${info.label} (${only.indexOf(info.id) + 1}/${only.length})`,
              increment: 100 / only.length,
            });
          },
          onLog: (line, id) => {
            log.info(`suite: ${line}`);
            testRun.appendOutput(`${line}\r\n`, undefined, id ? this.items.get(id) : undefined);
          },
          onScenarioEnd: (r) => this.report(testRun, r),
        },
      );
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const dir = folder
        ? this.reportDir(folder, cfg.get<unknown>('stability.reportDir', DEFAULT_REPORT_DIR))
        : path.join(this.s.context.globalStorageUri.fsPath, 'reports');
      const files = writeReports(result, dir);
      log.info(`suite: report ${files.markdown}`);
      testRun.appendOutput(`Report: ${files.markdown}\r\n`);
      if (!result.cancelled)
        await vscode.window.showTextDocument(vscode.Uri.file(files.markdown), { preview: true });
      return result;
    } catch (e) {
      const msg = (e as Error).message;
      for (const id of only) testRun.errored(this.items.get(id)!, new vscode.TestMessage(msg));
      void vscode.window.showErrorMessage(`Stability suite: ${msg}`);
      return undefined;
    } finally {
      cancel.dispose();
      testRun.end();
    }
  }

  private report(run: vscode.TestRun, r: ScenarioResult): void {
    const item = this.items.get(r.id)!;
    const checks = r.checks
      .map(
        (c) =>
          `${c.ok ? '✓' : '✗'} ${c.label}: ${c.measured ?? 'not measured'} (promised ${c.promised})`,
      )
      .join('\n');
    if (r.status === 'passed') {
      run.appendOutput(
        `${r.label}: ${r.message}\r\n${checks.replace(/\n/g, '\r\n')}\r\n`,
        undefined,
        item,
      );
      run.passed(item, r.durationMs);
    } else if (r.status === 'skipped') {
      run.appendOutput(`${r.label} skipped: ${r.message}\r\n`, undefined, item);
      run.skipped(item);
    } else {
      run.failed(
        item,
        new vscode.TestMessage(`${r.message}${checks ? `\n\n${checks}` : ''}`),
        r.durationMs,
      );
    }
  }

  /** The "Run Stability Suite" command: all scenarios, with cancellable progress. */
  runFromCommand(): Thenable<SuiteResult | undefined> {
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Optuna storage stability suite',
        cancellable: true,
      },
      (progress, token) => this.run(new vscode.TestRunRequest(), token, progress),
    );
  }

  dispose(): void {
    this.controller.dispose();
  }
}

const DEFAULT_REPORT_DIR = '.optuna-storage/reports';
