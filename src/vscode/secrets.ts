import type * as vscode from 'vscode';
import type { SentinelConfig } from '../core/redis/connect';
import { describeEndpoint, parseRedisUrl } from '../core/redis/url';

/**
 * Redis passwords live in VS Code's SecretStorage (the OS keychain, or the remote host's
 * encrypted store), never in settings or logs. Each is keyed by the whole endpoint it was
 * given for: the server of the URL, and with Sentinel the sentinels and the master name too,
 * since they decide which host receives it (AUTH). A workspace that changes any of them gets
 * no password until the user agrees to send it there (see StoreService).
 */
export class PasswordStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  private key(url: string, sentinel?: SentinelConfig): string {
    const server = describeEndpoint(parseRedisUrl(url));
    if (!sentinel) return `optunaStorage.redisPassword:${server}`;
    const list = sentinel.sentinels
      .map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`)
      .sort()
      .join(',');
    return `optunaStorage.redisPassword:${server} sentinels ${list} master ${JSON.stringify(sentinel.name)}`;
  }

  get(url: string, sentinel?: SentinelConfig): Thenable<string | undefined> {
    return this.secrets.get(this.key(url, sentinel));
  }

  set(url: string, password: string, sentinel?: SentinelConfig): Thenable<void> {
    return this.secrets.store(this.key(url, sentinel), password);
  }

  delete(url: string, sentinel?: SentinelConfig): Thenable<void> {
    return this.secrets.delete(this.key(url, sentinel));
  }
}
