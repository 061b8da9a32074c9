import * as vscode from 'vscode';
import { isLoopbackHost, parseRedisUrl } from '../../core/redis/url';
import type { StoreService } from '../storeService';
import type { Node } from './nodes';

/**
 * Whether the configured Redis is on this machine and refuses connections: nothing listens on
 * its port, as after a container restart, so Start Redis may bring it back.
 */
export function redisRefusedHere(svc: StoreService): boolean {
  const link = svc.current?.linkStatus;
  if (!link || link.up || link.cause !== 'refused') return false;
  try {
    return !svc.settings.sentinel && isLoopbackHost(parseRedisUrl(svc.settings.redisUrl).host);
  } catch {
    return false;
  }
}

/**
 * Keeps the context key `optunaStorage.redisRefusedHere` current: package.json shows the Start
 * action on the refused state's row (`storeState.refused`) only when Start can help.
 */
export function trackRedisRefusedHere(svc: StoreService): vscode.Disposable {
  const set = () =>
    void vscode.commands.executeCommand(
      'setContext',
      'optunaStorage.redisRefusedHere',
      redisRefusedHere(svc),
    );
  set();
  return svc.onDidChangeState(set);
}

const action = (
  id: string,
  label: string,
  icon: string,
  command: string,
  detail?: string,
): Node => ({
  kind: 'message',
  id: `action/${id}`,
  label,
  detail,
  icon,
  command: { command, title: label },
});

/**
 * Next steps offered as tree rows: when Redis here refuses connections (start it, or restore
 * it), and when a reachable Redis holds no study (import one, or restore a backup). Only in a
 * trusted workspace, where these commands run.
 */
export function redisActionNodes(svc: StoreService, noStudies: boolean): Node[] {
  if (!vscode.workspace.isTrusted) return [];
  if (redisRefusedHere(svc))
    return [
      action(
        'start',
        'Start Redis',
        'play',
        'optunaStorage.startRedis',
        'the deployed configuration',
      ),
      action('restore', 'Restore Redis from a backup…', 'history', 'optunaStorage.restoreRedis'),
    ];
  if (noStudies && svc.state.state === 'redis')
    return [
      action(
        'import',
        'Import a study from an Optuna file…',
        'cloud-upload',
        'optunaStorage.importStudy',
        'journal .log or SQLite .db',
      ),
      action('restore', 'Restore Redis from a backup…', 'history', 'optunaStorage.restoreRedis'),
    ];
  return [];
}
