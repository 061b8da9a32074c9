import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { formatDuration, type RunProgress } from '../../core/runs/progress';
import { type RunRecord, stateText } from '../../core/runs/record';
import { show } from '../views/nodes';
import {
  summarizeWriters,
  writersBreakdown,
  type WritersSummary,
} from '../../core/python/writersStatus';
import type { WritersService } from '../writersService';
import type { RunManager } from './runManager';

/** Rows of the Runs view: a run, its details, and its parameters. */
export type RunNode =
  | { kind: 'run'; id: string; run: RunRecord }
  | { kind: 'params'; id: string; run: RunRecord }
  | {
      kind: 'detail';
      id: string;
      run: RunRecord;
      label: string;
      description: string;
      icon: string;
      tooltip?: string;
      command?: vscode.Command;
      contextValue?: string;
    };

function num(v: number | undefined): string {
  return v === undefined ? '—' : show(v);
}

export function progressText(p: RunProgress | undefined, planned: number | undefined): string {
  if (!p) return planned !== undefined ? `0/${planned}` : 'no trials yet';
  return `${p.finished}${p.planned !== undefined ? `/${p.planned}` : ''}`;
}

/** "120/200 · 12.5/min · best 0.123 · 2 failed" */
export function runSummary(run: RunRecord): string {
  const p = run.progress;
  const parts = [progressText(p, run.planned)];
  if (p?.perMinute !== undefined)
    parts.push(`${p.perMinute < 10 ? p.perMinute.toFixed(1) : Math.round(p.perMinute)}/min`);
  if (p?.best !== undefined) parts.push(`best ${num(p.best)}`);
  if (p?.failed) parts.push(`${p.failed} failed`);
  return parts.join(' · ');
}

const ICON: Record<string, [string, string]> = {
  running: ['sync~spin', 'charts.blue'],
  stopping: ['loading~spin', 'charts.yellow'],
  ok: ['pass', 'testing.iconPassed'],
  stopped: ['debug-stop', 'charts.yellow'],
  failed: ['error', 'testing.iconFailed'],
  lost: ['question', 'disabledForeground'],
};

function iconKey(r: RunRecord): string {
  if (r.state === 'running') return r.stopRequestedAt ? 'stopping' : 'running';
  if (r.state === 'lost') return 'lost';
  if (r.exitCode === 0) return 'ok';
  return r.stopRequestedAt ? 'stopped' : 'failed';
}

/**
 * The Runs view: every run of this workspace, newest first, with its state and progress;
 * expanding a run shows status, times, terminal or tmux session, study, progress, rate,
 * best value, failures, parameters and the command line.
 */
export class RunsProvider extends Disposable implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = this._register(new vscode.EventEmitter<RunNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly manager: RunManager,
    private readonly writers: WritersService,
  ) {
    super();
    this._register(writers.onDidChange(() => this.refresh()));
  }

  /** Where the run's processes write (their status files carry the run's id); running runs only. */
  private storageOf(run: RunRecord): WritersSummary | undefined {
    return run.state === 'running' ? summarizeWriters(this.writers.ofRun(run.id)) : undefined;
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(n?: RunNode): RunNode[] {
    if (!n) return this.manager.all.map((run) => ({ kind: 'run', id: `run:${run.id}`, run }));
    if (n.kind === 'run') return this.details(n.run);
    if (n.kind === 'params')
      return Object.entries(n.run.values).map(([k, v]) => ({
        kind: 'detail',
        id: `${n.id}/${k}`,
        run: n.run,
        label: k,
        description: v,
        icon: 'symbol-parameter',
      }));
    return [];
  }

  getParent(n: RunNode): RunNode | undefined {
    if (n.kind === 'run') return undefined;
    return { kind: 'run', id: `run:${n.run.id}`, run: n.run };
  }

  getTreeItem(n: RunNode): vscode.TreeItem {
    if (n.kind === 'run') return this.runItem(n.run);
    if (n.kind === 'params') {
      const item = new vscode.TreeItem('Parameters', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = n.id;
      item.iconPath = new vscode.ThemeIcon('symbol-parameter');
      item.description = `${Object.keys(n.run.values).length}`;
      item.contextValue = 'runParams';
      return item;
    }
    const item = new vscode.TreeItem(n.label);
    item.id = n.id;
    item.description = n.description;
    item.iconPath = new vscode.ThemeIcon(n.icon);
    item.tooltip = n.tooltip ?? `${n.label}: ${n.description}`;
    item.command = n.command;
    item.contextValue = n.contextValue ?? 'runDetail';
    return item;
  }

  private runItem(run: RunRecord): vscode.TreeItem {
    const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${run.id}`;
    const key = iconKey(run);
    const [icon, color] = ICON[key];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    const state =
      run.state === 'running'
        ? run.stopRequestedAt
          ? 'stopping'
          : 'running'
        : run.state === 'lost'
          ? 'ended'
          : key === 'ok'
            ? 'done'
            : `exit ${run.exitCode}`;
    const storage = this.storageOf(run);
    const onSqlite = storage?.onSqlite ? ` · ${storage.onSqlite} on SQLite` : '';
    item.description = `${state} · ${runSummary(run)}${onSqlite}`;
    const next = this.manager.nextStage(run);
    item.contextValue = `run.${run.state}${run.tmux ? '.tmux' : ''}${next ? '.ramp' : ''}`;
    item.tooltip = this.tooltip(run);
    item.accessibilityInformation = {
      label: `${run.label}, ${stateText(run)}, ${runSummary(run)}${onSqlite ? `, ${storage!.onSqlite} processes on SQLite` : ''}`,
    };
    return item;
  }

  private tooltip(run: RunRecord): vscode.MarkdownString {
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${run.label}** — ${stateText(run)}\n\n`);
    md.appendMarkdown(
      `Started ${new Date(run.startedAt).toLocaleString()}${run.endedAt ? `, ended ${new Date(run.endedAt).toLocaleString()}` : ''}\n\n`,
    );
    md.appendMarkdown(
      `Study: ${run.study.name ?? 'detecting…'}  \nProgress: ${runSummary(run)}\n\n`,
    );
    const storage = this.storageOf(run);
    if (storage?.total) {
      md.appendMarkdown(`Storage: ${writersBreakdown(storage)}`);
      if (storage.cause) {
        md.appendMarkdown(' — ');
        md.appendText(storage.cause);
      }
      md.appendMarkdown('\n\n');
    }
    md.appendCodeblock(run.command, 'shellscript');
    return md;
  }

  private details(run: RunRecord): RunNode[] {
    const base = `run:${run.id}`;
    const d = (
      key: string,
      label: string,
      description: string,
      icon: string,
      extra: Partial<Extract<RunNode, { kind: 'detail' }>> = {},
    ): RunNode => ({
      kind: 'detail',
      id: `${base}/${key}`,
      run,
      label,
      description,
      icon,
      ...extra,
    });
    const out: RunNode[] = [];
    const p = run.progress;
    const until = run.endedAt ?? Date.now();
    out.push(
      d(
        'status',
        'Status',
        `${stateText(run)}${run.state === 'running' && run.pid ? ` (pid ${run.pid})` : ''}`,
        ICON[iconKey(run)][0],
      ),
    );
    out.push(
      d(
        'started',
        'Started',
        `${new Date(run.startedAt).toLocaleString()} · ${run.endedAt ? 'ran' : 'running for'} ${formatDuration(until - run.startedAt)}`,
        'clock',
      ),
    );
    if (run.profile)
      out.push(
        d(
          'profile',
          'Profile',
          `${run.profile}${run.stage !== undefined ? ` · stage ${run.stage + 1}` : ''}`,
          'symbol-namespace',
        ),
      );
    const terminal = this.manager.terminalOf(run);
    if (run.tmux) {
      const alive = this.manager.tmuxAlive.get(run.id);
      out.push(
        d(
          'tmux',
          'tmux session',
          `${run.tmux.session}${alive === undefined ? '' : alive ? (terminal ? ' · attached here' : ' · detached') : ' · gone'}`,
          'server-process',
          {
            command:
              alive !== false
                ? {
                    command: 'optunaStorage.runs.reattach',
                    title: 'Re-attach',
                    arguments: [run.id],
                  }
                : undefined,
            contextValue: 'runTmux',
          },
        ),
      );
    } else {
      out.push(
        d(
          'terminal',
          'Terminal',
          terminal ? run.terminalName : `${run.terminalName} (closed)`,
          'terminal',
          {
            command: terminal
              ? {
                  command: 'optunaStorage.runs.showTerminal',
                  title: 'Show terminal',
                  arguments: [run.id],
                }
              : undefined,
          },
        ),
      );
    }
    const storage = this.storageOf(run);
    if (storage)
      out.push(
        storageDetail(storage, (label, description, icon, extra) =>
          d('storage', label, description, icon, extra),
        ),
      );
    const study = run.study;
    const how =
      study.source === 'parameter'
        ? 'from the study parameter'
        : study.source === 'picked'
          ? 'picked at launch'
          : study.source === 'detected'
            ? 'detected after launch'
            : '';
    out.push(
      d(
        'study',
        'Study',
        study.name
          ? `${study.name}${study.prefix !== undefined ? ` · prefix "${study.prefix}"` : ''} · ${how}`
          : `detecting: the study that appears or grows under ${study.prefix !== undefined ? `prefix "${study.prefix}"` : 'any prefix'}`,
        'beaker',
        {
          command: study.name
            ? { command: 'optunaStorage.runs.showStudy', title: 'Show trials', arguments: [run.id] }
            : undefined,
        },
      ),
    );
    out.push(
      d(
        'progress',
        'Progress',
        p
          ? `${progressText(p, run.planned)} trials finished${p.planned ? ` (${Math.floor((100 * p.finished) / p.planned)}%)` : ''}${p.running ? ` · ${p.running} running` : ''}`
          : 'no trials yet',
        'graph-line',
      ),
    );
    out.push(
      d(
        'rate',
        'Rate',
        p?.perMinute !== undefined
          ? `${p.perMinute.toFixed(1)} trials/min${run.state === 'running' && p.etaMs !== undefined ? ` · about ${formatDuration(p.etaMs)} left` : ''}`
          : '—',
        'dashboard',
      ),
    );
    out.push(
      d(
        'best',
        'Best value',
        p?.best !== undefined
          ? `${num(p.best)} (trial #${p.bestTrial})${p.studyBest !== undefined && p.studyBest !== p.best ? ` · study best ${num(p.studyBest)}` : ''}`
          : p?.studyBest !== undefined
            ? `— (study best ${num(p.studyBest)})`
            : '—',
        'star-full',
      ),
    );
    out.push(
      d(
        'failures',
        'Failures',
        p ? `${p.failed} failed · ${p.pruned} pruned · ${p.complete} complete` : '—',
        p?.failed ? 'warning' : 'check',
      ),
    );
    out.push({ kind: 'params', id: `${base}/params`, run });
    out.push(
      d('command', 'Command', run.command, 'code', {
        tooltip: run.command,
        contextValue: 'runCommand',
      }),
    );
    return out;
  }
}

/**
 * The Storage row of a running run: where its processes write, and since when and why any is
 * on SQLite (its tooltip has the cause).
 */
function storageDetail(
  s: WritersSummary,
  d: (
    label: string,
    description: string,
    icon: string,
    extra: Partial<Extract<RunNode, { kind: 'detail' }>>,
  ) => RunNode,
): RunNode {
  if (!s.total)
    return d('Storage', 'no process of the Python storage seen', 'database', {
      tooltip:
        'No process of this run has published a status next to the fallback file: it does not use enhanced_redis_storage (or not yet), or it uses another fallback file.',
    });
  const procs = `${s.total} process${s.total === 1 ? '' : 'es'}: ${writersBreakdown(s)}`;
  if (!s.onSqlite) return d('Storage', procs, 'database', {});
  const since = new Date(s.since!).toLocaleTimeString();
  return d('Storage', `${procs} · since ${since}`, 'debug-disconnect', {
    tooltip: `${procs}; on SQLite since ${new Date(s.since!).toLocaleString()}: ${s.cause ?? 'no cause given'}`,
  });
}
