import * as vscode from 'vscode';
import { redactUrl } from '../core/redis/url';
import { fallbackReason } from '../core/storage/fallbackFile';
import type { StoreService } from './storeService';
import { Disposable } from './lifecycle';
import { writersBreakdown, writersOnSqliteText } from '../core/python/writersStatus';
import type { WritersService } from './writersService';

/**
 * Always tells where studies are read from: Redis (with latency), degraded, SQLite fallback
 * or offline, coloured like VS Code's own warnings and errors. Clicking opens the actions.
 */
export class StatusBar extends Disposable {
  readonly item: vscode.StatusBarItem;

  constructor(
    private readonly service: StoreService,
    private readonly writers: WritersService,
  ) {
    super();
    this.item = this._register(
      vscode.window.createStatusBarItem(
        'optunaStorage.status',
        vscode.StatusBarAlignment.Left,
        100,
      ),
    );
    this.item.name = 'Optuna Storage';
    this.item.command = 'optunaStorage.statusActions';
    this._register(service.onDidChangeState(() => this.update()));
    this._register(service.onDidChangeData(() => this.update()));
    this._register(writers.onDidChange(() => this.update()));
    this.update();
    this.item.show();
    // "Last check" moves on every health check, which fires no event: refresh the tooltip.
    const timer = setInterval(() => this.updateTooltip(), 2000);
    this._register({ dispose: () => clearInterval(timer) });
  }

  /** Problems the Redis monitor found (eviction policy, no persistence, gaps…), and when. */
  setWarnings(warnings: Array<{ severity: string; title: string }>): void {
    this.warnings = warnings;
    this.warningsAt = Date.now();
    this.update();
  }

  private warnings: Array<{ severity: string; title: string }> = [];
  private warningsAt = 0;
  private tooltipText = '';

  update(): void {
    const st = this.service.state;
    const item = this.item;
    // The monitor's findings describe a server that answers: not one that went away since.
    const warnings = st.state === 'redis' ? this.warnings : [];
    const errors = warnings.filter((w) => w.severity === 'error').length;
    const others = warnings.length - errors;
    const latency = st.state === 'redis' ? `${st.latencyMs.toFixed(1)} ms` : 'ok';
    if (st.state === 'redis' && warnings.length > 0) {
      // Words, icon and colour all say the worst finding: an error is never "1 warning".
      const counts = [
        errors ? `${errors} error${errors === 1 ? '' : 's'}` : '',
        others ? `${others} warning${others === 1 ? '' : 's'}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      item.text = `${errors ? '$(error)' : '$(warning)'} Redis ${st.degraded ? 'degraded' : latency} · ${counts}`;
      item.backgroundColor = new vscode.ThemeColor(
        errors ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground',
      );
    } else if (st.state === 'redis' && !st.degraded) {
      item.text = `$(database) Redis ${latency}`;
      item.backgroundColor = undefined;
    } else if (st.state === 'redis') {
      item.text = `$(warning) Redis degraded ${st.latencyMs.toFixed(0)} ms`;
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (st.state === 'sqlite' && !this.service.settings.redisUrl) {
      // No Redis configured: SQLite is the store, not a fallback, so nothing to warn about.
      item.text = '$(database) SQLite';
      item.backgroundColor = undefined;
    } else if (st.state === 'sqlite') {
      item.text = '$(debug-disconnect) SQLite fallback';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (st.state === 'starting') {
      item.text = '$(loading~spin) Optuna storage';
      item.backgroundColor = undefined;
    } else {
      item.text = '$(error) Optuna storage offline';
      // Red only once the first read confirmed it, not while the store settles.
      item.backgroundColor = this.service.loaded
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : undefined;
    }
    // The writers' side: processes of the Python storage that write to SQLite, whatever
    // this window reads ("Redis ✓ · 12 writers on SQLite").
    const onSqlite = writersOnSqliteText(this.writers.summary);
    if (onSqlite) {
      item.text = `${st.state === 'redis' && !st.degraded && warnings.length === 0 ? '$(database) Redis ✓' : item.text} · ${onSqlite}`;
      item.backgroundColor ??= new vscode.ThemeColor('statusBarItem.warningBackground');
    }
    this.updateTooltip();
    item.accessibilityInformation = {
      label: `Optuna storage: ${stateWords(this.service)}.${onSqlite ? ` ${onSqlite}.` : ''} ${st.detail}`,
    };
  }

  /** Re-rendered every few seconds too, so that "last check" and the findings stay current. */
  private updateTooltip(): void {
    const md = this.tooltip();
    if (md.value === this.tooltipText) return;
    this.tooltipText = md.value;
    this.item.tooltip = md;
  }

  private tooltip(): vscode.MarkdownString {
    const svc = this.service;
    const s = svc.settings;
    const store = svc.current;
    const link = store?.linkStatus;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**Optuna storage: ${stateWords(svc)}**\n\n`);
    md.appendText(svc.state.detail);
    md.appendMarkdown('\n\n');
    md.appendMarkdown(
      `Server: \`${store?.redisWhere ?? (s.redisUrl ? redactUrl(s.redisUrl) : 'none')}\`${link ? (link.up ? ' (answering)' : ' (not answering)') : ''}  \n`,
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
      `Last check: ${link ? new Date(link.checkedAt).toLocaleTimeString() : '—'}${link?.up && link.latencyMs !== undefined ? ` (PING ${link.latencyMs.toFixed(1)} ms)` : ''}  \n`,
    );
    md.appendMarkdown(
      `Last refresh: ${svc.lastRefreshAt ? new Date(svc.lastRefreshAt).toLocaleTimeString() : '—'}\n\n`,
    );
    const warnings = svc.state.state === 'redis' ? this.warnings : [];
    if (warnings.length)
      md.appendMarkdown(
        `**Redis monitor findings** (as of ${new Date(this.warningsAt).toLocaleTimeString()}):\n\n${warnings.map((w) => `- ${w.severity}: ${w.title}`).join('\n')}\n\n`,
      );
    else if (this.warnings.length)
      md.appendMarkdown(
        `_${this.warnings.length} Redis monitor finding(s) from ${new Date(this.warningsAt).toLocaleTimeString()} are not shown while Redis is unreachable._\n\n`,
      );
    this.writersTooltip(md);
    md.appendMarkdown('Click for actions');
    return md;
  }

  /** Who writes where, why and since when (the processes' own words). */
  private writersTooltip(md: vscode.MarkdownString): void {
    const w = this.writers.summary;
    if (w.total === 0) return;
    md.appendMarkdown(
      `**Writers** (processes of the Python storage on this fallback file): ${writersBreakdown(w)}  \n`,
    );
    if (w.held)
      md.appendMarkdown('Held: Redis answers, but its journal is not the one they wrote to.  \n');
    if (w.onSqlite) {
      md.appendMarkdown(`On SQLite since ${new Date(w.since!).toLocaleString()}  \nCause: `);
      md.appendText(w.cause ?? 'not given');
      md.appendMarkdown('\n\n');
    } else md.appendMarkdown('\n');
  }
}

/** The store's state in words ("SQLite fallback file", not `sqlite`). */
export function stateWords(svc: StoreService): string {
  const st = svc.state;
  switch (st.state) {
    case 'starting':
      return 'starting';
    case 'redis':
      return st.degraded ? 'reading Redis (slow or erroring)' : 'reading Redis';
    case 'sqlite':
      return svc.settings.redisUrl
        ? 'serving the SQLite fallback file (Redis not in use)'
        : 'reading the SQLite file (no Redis configured)';
    case 'offline':
      return 'offline (neither Redis nor an SQLite file can be read)';
  }
}
