import * as vscode from 'vscode';
import { redactUrl } from '../core/redis/url';
import { fallbackReason } from '../core/storage/fallbackFile';
import type { StoreService } from './storeService';

/**
 * Always tells where studies are read from: Redis (with latency), degraded, SQLite fallback
 * or offline, coloured like VS Code's own warnings and errors. Clicking opens the actions.
 */
export class StatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly service: StoreService) {
    this.item = vscode.window.createStatusBarItem(
      'optunaStorage.status',
      vscode.StatusBarAlignment.Left,
      100,
    );
    this.item.name = 'Optuna Storage';
    this.item.command = 'optunaStorage.statusActions';
    this.subscriptions.push(
      service.onDidChangeState(() => this.update()),
      service.onDidChangeData(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  /** Problems the Redis monitor found (eviction policy, no persistence, gaps…). */
  setWarnings(warnings: Array<{ severity: string; title: string }>): void {
    this.warnings = warnings;
    this.update();
  }

  private warnings: Array<{ severity: string; title: string }> = [];

  update(): void {
    const st = this.service.state;
    const item = this.item;
    if (st.state === 'redis' && !st.degraded && this.warnings.length > 0) {
      item.text = `$(warning) Redis ${st.latencyMs !== undefined ? `${st.latencyMs.toFixed(1)} ms` : 'ok'} · ${this.warnings.length} warning${this.warnings.length === 1 ? '' : 's'}`;
      item.backgroundColor = new vscode.ThemeColor(
        this.warnings.some((w) => w.severity === 'error')
          ? 'statusBarItem.errorBackground'
          : 'statusBarItem.warningBackground',
      );
    } else if (st.state === 'redis' && !st.degraded) {
      item.text = `$(database) Redis ${st.latencyMs !== undefined ? `${st.latencyMs.toFixed(1)} ms` : 'ok'}`;
      item.backgroundColor = undefined;
    } else if (st.state === 'redis') {
      item.text = `$(warning) Redis degraded${st.latencyMs !== undefined ? ` ${st.latencyMs.toFixed(0)} ms` : ''}`;
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (st.state === 'sqlite' && !this.service.settings.redisUrl) {
      // No Redis configured: SQLite is the store, not a fallback, so nothing to warn about.
      item.text = '$(database) SQLite';
      item.backgroundColor = undefined;
    } else if (st.state === 'sqlite') {
      item.text = '$(debug-disconnect) SQLite fallback';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else {
      item.text =
        this.service.loaded || st.detail !== 'starting'
          ? '$(error) Optuna storage offline'
          : '$(loading~spin) Optuna storage';
      item.backgroundColor = this.service.loaded
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : undefined;
    }
    item.tooltip = this.tooltip();
    item.accessibilityInformation = {
      label: `Optuna storage: ${st.state}${st.degraded ? ', degraded' : ''}. ${st.detail}`,
    };
  }

  private tooltip(): vscode.MarkdownString {
    const svc = this.service;
    const s = svc.settings;
    const store = svc.current;
    const link = store?.linkStatus;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(
      `**Optuna storage: ${svc.state.state}${svc.state.degraded ? ' (degraded)' : ''}**\n\n`,
    );
    md.appendText(svc.state.detail);
    md.appendMarkdown('\n\n');
    md.appendMarkdown(
      `Server: \`${store?.redisWhere ?? (s.redisUrl ? redactUrl(s.redisUrl) : 'none')}\`  \n`,
    );
    const prefixes = s.prefixes ?? store?.prefixes().prefixes;
    md.appendMarkdown(
      `Prefix${prefixes && prefixes.length === 1 ? '' : 'es'}: ${prefixes && prefixes.length ? prefixes.map((p) => `\`"${p}"\``).join(', ') : 'all found'}  \n`,
    );
    md.appendMarkdown(
      `Fallback file: ${s.fallback.kind === 'none' ? 'none' : `\`${s.fallback.path}\``}  \n`,
    );
    md.appendText(`(${fallbackReason(s.fallback)})`);
    md.appendMarkdown('  \n');
    md.appendMarkdown(
      `Last check: ${link ? new Date(link.checkedAt).toLocaleTimeString() : '—'}${link?.latencyMs !== undefined ? ` (PING ${link.latencyMs.toFixed(1)} ms)` : ''}  \n`,
    );
    md.appendMarkdown(
      `Last refresh: ${svc.lastRefreshAt ? new Date(svc.lastRefreshAt).toLocaleTimeString() : '—'}\n\n`,
    );
    if (this.warnings.length)
      md.appendMarkdown(
        `**Redis monitor warnings:**\n\n${this.warnings.map((w) => `- ${w.severity}: ${w.title}`).join('\n')}\n\n`,
      );
    md.appendMarkdown('Click for actions');
    return md;
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.item.dispose();
  }
}
