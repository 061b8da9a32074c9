import type * as vscode from 'vscode';
import { describeEndpoint, parseRedisUrl } from '../core/redis/url';

/**
 * Redis passwords live in VS Code's SecretStorage (the OS keychain, or the remote host's
 * encrypted store), keyed by server, never in settings or logs.
 */
export class PasswordStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  private key(url: string): string {
    return `optunaStorage.redisPassword:${describeEndpoint(parseRedisUrl(url))}`;
  }

  get(url: string): Thenable<string | undefined> {
    return this.secrets.get(this.key(url));
  }

  set(url: string, password: string): Thenable<void> {
    return this.secrets.store(this.key(url), password);
  }

  delete(url: string): Thenable<void> {
    return this.secrets.delete(this.key(url));
  }
}
