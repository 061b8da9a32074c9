import * as vscode from 'vscode';
import { describeFallback } from '../../core/storage/fallbackFile';
import type { ReportDocuments } from '../reportDocuments';
import { stateWords } from '../statusBar';
import type { Services } from '../services';
import { redisRefusedHere } from '../views/redisActions';

/** A Markdown report of the store's health: state, Redis, prefixes, journal problems, fallback. */
export function healthReport(s: Services): string {
  const svc = s.store;
  const store = svc.current;
  const st = svc.state;
  const link = store?.linkStatus;
  const lines = [
    '# Optuna storage health',
    '',
    `- **State:** ${stateWords(svc)} since ${new Date(st.at).toLocaleString()}`,
    `- **Why:** ${st.detail}`,
    `- **Redis:** ${store?.redisWhere ?? 'not configured'}${link ? ` — ${link.up ? `up, PING ${link.latencyMs?.toFixed(2)} ms` : `down: ${link.reason}`}, checked ${new Date(link.checkedAt).toLocaleTimeString()}` : ''}`,
    `- **SQLite fallback:** ${describeFallback(svc.settings.fallback)}`,
    `- **Last refresh:** ${svc.lastRefreshAt ? new Date(svc.lastRefreshAt).toLocaleString() : 'never'}${svc.lastError ? ` — problem: ${svc.lastError}` : ''}`,
    '',
    '## Journal prefixes',
    '',
  ];
  const p = store?.prefixes();
  if (!p || p.prefixes.length === 0) lines.push('None read yet.');
  for (const prefix of p?.prefixes ?? []) {
    const studies = svc.studies().filter((x) => x.redis && x.prefix === prefix);
    lines.push(
      `- \`"${prefix}"\`: ${studies.length} studies, ${studies.reduce((n, x) => n + (x.redis?.trials.length ?? 0), 0)} trials`,
    );
  }
  if (p && !p.complete)
    lines.push(
      '',
      '_The prefix scan stopped early on a very large keyspace; set the prefixes explicitly._',
    );
  const issues = store?.issues() ?? [];
  lines.push('', '## Journal problems', '');
  if (issues.length === 0) lines.push('No missing or unreadable journal entries.');
  for (const { prefix, issues: list } of issues) {
    lines.push(
      `- \`"${prefix}"\`: ${list.length} entries could not be read (missing keys mean Redis evicted or lost data: check \`maxmemory-policy\`, it must be \`noeviction\`).`,
    );
    for (const i of list.slice(0, 20)) lines.push(`  - ${i.kind} at ${i.index}: ${i.message}`);
  }
  return lines.join('\n') + '\n';
}

export async function showHealth(s: Services, docs: ReportDocuments): Promise<void> {
  await s.refresh.refresh('shown');
  await docs.showRendered('Storage Health.md', healthReport(s));
}

/** The status bar's quick pick: what makes sense in the current state first. */
export async function statusActions(s: Services): Promise<void> {
  const st = s.store.state.state;
  const items: Array<vscode.QuickPickItem & { command: string }> = [];
  const trusted = vscode.workspace.isTrusted;
  if (trusted && redisRefusedHere(s.store))
    items.push({
      label: '$(play) Start Redis',
      description: `nothing answers on ${s.store.current?.redisWhere}: start the deployed configuration`,
      command: 'optunaStorage.startRedis',
    });
  if (st !== 'redis')
    items.push({
      label: '$(debug-restart) Reconnect to Redis',
      description: s.store.current?.redisWhere,
      command: 'optunaStorage.reconnect',
    });
  items.push(
    { label: '$(pulse) Show storage health', command: 'optunaStorage.showHealth' },
    { label: '$(refresh) Refresh studies', command: 'optunaStorage.refresh' },
    { label: '$(plug) Configure connection…', command: 'optunaStorage.configureConnection' },
    { label: '$(gear) Open settings', command: 'optunaStorage.openSettings' },
  );
  if (st === 'redis')
    items.push({
      label: '$(debug-restart) Reconnect to Redis',
      command: 'optunaStorage.reconnect',
    });
  if (trusted) {
    if (st === 'redis')
      items.push({ label: '$(save-all) Back up Redis', command: 'optunaStorage.backupRedis' });
    items.push({
      label: '$(history) Restore Redis from a backup…',
      command: 'optunaStorage.restoreRedis',
    });
  }
  items.push(...EXTRA_STATUS_ACTIONS);
  const pick = await vscode.window.showQuickPick(items, {
    placeHolder: `Optuna storage: ${s.store.state.detail}`,
  });
  if (pick) await vscode.commands.executeCommand(pick.command);
}

/** Actions contributed by other parts of the extension (stability suite, Redis doctor). */
const EXTRA_STATUS_ACTIONS: Array<vscode.QuickPickItem & { command: string }> = [
  { label: '$(beaker) Run stability suite', command: 'optunaStorage.runStabilitySuite' },
  { label: '$(checklist) Check Redis configuration (doctor)', command: 'optunaStorage.doctor' },
  { label: '$(rocket) Launch optimizer run…', command: 'optunaStorage.runs.launch' },
];
