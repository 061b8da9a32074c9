import * as vscode from 'vscode';
import { parseRedisUrl, redactUrl, splitPassword } from '../../core/redis/url';
import type { Services } from '../services';
import { KEY, SECTION, settingsTarget } from '../settings';

/**
 * Walks the user through the connection: Redis URL (a password typed into it is moved to
 * SecretStorage), password, journal prefixes, SQLite fallback file. Escape cancels it all.
 */
export async function configureConnection(s: Services): Promise<boolean> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const url = await vscode.window.showInputBox({
    title: 'Optuna Storage: Redis (1/4)',
    prompt: 'Redis URL of the Optuna journal (leave empty to use only the SQLite file)',
    value: cfg.get<string>(KEY.redisUrl, ''),
    placeHolder: 'redis://127.0.0.1:6379/0',
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (!v.trim()) return undefined;
      try {
        parseRedisUrl(v.trim());
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (url === undefined) return false;
  let cleanUrl = url.trim();
  let password: string | undefined;
  if (cleanUrl) {
    const split = splitPassword(cleanUrl);
    if (split.password !== undefined) {
      password = split.password;
      cleanUrl = split.url.replace(/\/$/, '');
    }
    if (password === undefined) {
      const stored = await s.passwords.get(cleanUrl, s.store.settings.sentinel);
      const entered = await vscode.window.showInputBox({
        title: 'Optuna Storage: Redis password (2/4)',
        prompt: stored
          ? 'A password is stored for this server. Enter a new one, or leave empty to keep it.'
          : 'Password (requirepass), or empty when the server has none. Stored in VS Code SecretStorage.',
        password: true,
        ignoreFocusOut: true,
      });
      if (entered === undefined) return false;
      password = entered || stored;
    }
  }
  const prefixes = await vscode.window.showInputBox({
    title: 'Optuna Storage: journal prefixes (3/4)',
    prompt:
      'Journal key prefixes, comma separated (prefix=... of JournalRedisStorage). Empty: every prefix on the server. Use "" for Optuna\'s default prefix.',
    value: cfg
      .get<string[]>(KEY.prefixes, [])
      .map((p) => (p === '' ? '""' : p))
      .join(', '),
    ignoreFocusOut: true,
  });
  if (prefixes === undefined) return false;
  const sqlite = await vscode.window.showInputBox({
    title: 'Optuna Storage: SQLite fallback (4/4)',
    prompt:
      'The Optuna SQLite file served while Redis is unreachable (relative to the workspace folder). Empty: none.',
    value: cfg.get<string>(KEY.sqlitePath, ''),
    placeHolder: 'optuna_fallback.db',
    ignoreFocusOut: true,
  });
  if (sqlite === undefined) return false;

  // One new store at the end, not one per setting (and none before the password is saved).
  await s.store.withoutRestarts(async () => {
    const target = settingsTarget();
    // Stored for this endpoint: the server, and the sentinels and master name when set.
    const sentinel = s.store.settings.sentinel;
    if (cleanUrl && password) await s.passwords.set(cleanUrl, password, sentinel);
    else if (cleanUrl && password === '') await s.passwords.delete(cleanUrl, sentinel);
    await cfg.update(KEY.redisUrl, cleanUrl, target);
    const list = prefixes
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => (p === '""' ? '' : p));
    await cfg.update(KEY.prefixes, list, target);
    await cfg.update(KEY.sqlitePath, sqlite.trim(), target);
    s.log.info(
      `connection configured: ${cleanUrl ? redactUrl(cleanUrl) : 'no Redis'}${password ? ' (password in SecretStorage)' : ''}`,
    );
  });
  await s.store.start();
  return true;
}

export async function forgetPassword(s: Services): Promise<void> {
  const url = s.store.settings.redisUrl;
  if (!url) return void vscode.window.showInformationMessage('No Redis URL is configured.');
  await s.passwords.delete(url, s.store.settings.sentinel);
  await s.passwords.delete(url);
  void vscode.window.showInformationMessage(
    `The stored password for ${redactUrl(url)} was removed.`,
  );
  await s.store.start();
}

export function reconnect(s: Services): Promise<void> {
  s.log.info('reconnect requested');
  return s.store.start();
}

export function openSettings(s: Services): Thenable<unknown> {
  return vscode.commands.executeCommand(
    'workbench.action.openSettings',
    `@ext:${s.context.extension.id}`,
  );
}
