import * as path from 'node:path';
import * as vscode from 'vscode';
import { studyAsCsv, studyAsJson } from '../../core/optuna/exportStudy';
import type { Trial } from '../../core/optuna/model';
import type { PageState } from '../../core/studyPage/protocol';
import type { RunInfo, StaleContext } from '../../core/studyPage/stale';
import { readHeartbeats } from '../../core/storage/heartbeats';
import type { MergedStudy, MergedTrial } from '../../core/storage/mergedView';
import { stateText } from '../../core/runs/record';
import type { RunsApi } from '../runs/register';
import type { Services } from '../services';
import { requireTrust } from '../trust';
import { markTrialsFailed } from './markFail';
import { type PageHost, StudyPagePanel } from './studyPagePanel';
import { webviewOptions } from './html';

export const VIEW_TYPE = 'optunaStorage.studyPage';

/**
 * The study pages: one panel per study (opening it again reveals it), restored after a window
 * reload by the serializer (the page's saved state names its study).
 */
export class StudyPages implements vscode.Disposable, PageHost {
  private readonly panels = new Map<string, StudyPagePanel>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly workerFile: string;

  constructor(private readonly s: Services) {
    this.workerFile = vscode.Uri.joinPath(
      s.context.extensionUri,
      'dist',
      'importanceWorker.js',
    ).fsPath;
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: PageState | undefined) => {
          if (!state?.studyKey) {
            panel.dispose();
            return;
          }
          this.attach(panel, state.studyKey);
        },
      }),
    );
  }

  /** The open page of a study, if any (tests look inside). */
  get(studyKey: string): StudyPagePanel | undefined {
    return this.panels.get(studyKey);
  }

  get all(): StudyPagePanel[] {
    return [...this.panels.values()];
  }

  open(study: MergedStudy): StudyPagePanel {
    const existing = this.panels.get(study.key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      study.name,
      vscode.ViewColumn.Active,
      webviewOptions(this.s.context.extensionUri),
    );
    return this.attach(panel, study.key);
  }

  private attach(panel: vscode.WebviewPanel, studyKey: string): StudyPagePanel {
    const p = new StudyPagePanel(this.s, panel, studyKey, this);
    this.panels.set(studyKey, p);
    panel.onDidDispose(() => {
      if (this.panels.get(studyKey) === p) this.panels.delete(studyKey);
    });
    return p;
  }

  async revealTrial(study: MergedStudy, trial: MergedTrial): Promise<void> {
    await this.s.studies.revealTrial(this.s.studiesView, study, trial);
  }

  async exportRows(study: MergedStudy, trials: Trial[], format: 'csv' | 'json'): Promise<void> {
    if (!requireTrust('Exporting trials')) return;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const safe = study.name.replace(/[^\w.-]+/g, '_');
    const uri = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${safe}-filtered.${format}`) : undefined,
      filters: { [format.toUpperCase()]: [format] },
      saveLabel: `Export ${trials.length} trials`,
    });
    if (!uri) return;
    const base = (study.redis ?? study.sqlite)!;
    const text = format === 'csv' ? studyAsCsv(base, trials) : studyAsJson(base, trials);
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
    this.s.log.info(`exported ${trials.length} trials of "${study.name}" to ${uri.fsPath}`);
    void vscode.window.showInformationMessage(
      `Exported ${trials.length} trials of "${study.name}" to ${path.basename(uri.fsPath)}.`,
    );
  }

  async markFail(study: MergedStudy, trials: MergedTrial[]): Promise<void> {
    await markTrialsFailed(this.s, study, trials);
  }

  /** What the stale classifier may know beyond the journal: heartbeats and this extension's runs. */
  staleContext(study: MergedStudy): StaleContext {
    const ctx: StaleContext = {
      now: Date.now(),
      journal:
        study.prefix !== undefined
          ? this.s.store.current?.journalActivity(study.prefix)
          : undefined,
    };
    const sqlitePath = this.s.store.settings.sqlitePath;
    const sqliteRunning = study.trials.filter(
      (t) => t.source === 'sqlite' && t.trial.state === 'RUNNING',
    );
    if (sqlitePath && sqliteRunning.length) {
      try {
        const hb = readHeartbeats(
          sqlitePath,
          sqliteRunning.map((t) => t.trial.trialId),
        );
        if (hb)
          ctx.heartbeats = { ...hb, graceMs: this.s.store.settings.heartbeatGraceSeconds * 1000 };
      } catch (e) {
        this.s.log.debug(`study page: heartbeats of ${sqlitePath}: ${(e as Error).message}`);
      }
    }
    const runs = (this.s as Services & { runs?: RunsApi }).runs?.manager.all ?? [];
    const mine: RunInfo[] = runs
      .filter(
        (r) =>
          r.study.name === study.name &&
          (r.study.prefix === undefined ||
            study.prefix === undefined ||
            r.study.prefix === study.prefix),
      )
      .map((r) => ({
        label: r.label,
        startedAt: r.startedAt,
        endedAt: r.endedAt,
        alive: r.state === 'running',
        ended: r.state === 'running' ? undefined : stateText(r),
      }));
    if (mine.length) ctx.runs = mine;
    return ctx;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
