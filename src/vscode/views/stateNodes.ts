import type * as vscode from 'vscode';
import { FALLBACK_FILE_NAME, type FallbackSource } from '../../core/storage/fallbackFile';
import type { StateEvent, StoreCause } from '../../core/storage/storeState';
import type { Node } from './nodes';

const CONFIGURE: vscode.Command = {
  command: 'optunaStorage.configureConnection',
  title: 'Configure Connection…',
};
const RECONNECT: vscode.Command = { command: 'optunaStorage.reconnect', title: 'Reconnect' };
const HEALTH: vscode.Command = { command: 'optunaStorage.showHealth', title: 'Storage Health' };

/** Why Redis is not used, in a few words, and the step that most likely fixes it. */
export function causeWords(
  cause: StoreCause | undefined,
  where: string,
): { text: string; next: vscode.Command } {
  switch (cause) {
    case 'auth':
      return { text: `Wrong Redis password for ${where}`, next: CONFIGURE };
    case 'no-password':
      return { text: `Redis at ${where} needs a password`, next: CONFIGURE };
    case 'refused':
      return { text: `Nothing listens at ${where} (connection refused)`, next: RECONNECT };
    case 'unknown-host':
      return { text: `Unknown Redis host in ${where}`, next: CONFIGURE };
    case 'tls':
      return { text: `TLS mismatch with ${where} (rediss:// vs redis://)`, next: CONFIGURE };
    case 'db-range':
      return { text: `Redis at ${where} has no such database`, next: CONFIGURE };
    case 'timeout':
      return { text: `Redis at ${where} is not answering`, next: RECONNECT };
    case 'not-configured':
      return { text: 'No Redis configured', next: CONFIGURE };
    default:
      return { text: `Redis unreachable at ${where}`, next: HEALTH };
  }
}

/**
 * The Studies view's first rows when Redis is not used: the cause in the label, the next step
 * as the row's action (and a row of its own when storage is offline). The row's context value
 * `storeState.<cause>` lets other features add actions for a cause (e.g. starting Redis).
 */
export function storeStateNodes(
  st: StateEvent,
  where: string | undefined,
  fallback: FallbackSource,
): Node[] {
  if (st.state === 'redis') return [];
  const short = where?.replace(/^redis:\/\//, '');
  if (st.state === 'sqlite') {
    // No Redis configured: SQLite is the store, nothing to report.
    if (!where) return [];
    const { text, next } = causeWords(st.cause, short!);
    return [
      {
        kind: 'message',
        id: 'state',
        label: `${text}: showing the SQLite fallback`,
        detail: `→ ${next.title}`,
        icon: 'warning',
        color: 'list.warningForeground',
        tooltip: st.detail,
        command: next,
        contextValue: `storeState.${st.cause ?? 'unknown'}`,
      },
    ];
  }
  const { text, next } = where
    ? causeWords(st.cause, short!)
    : fallback.kind === 'none'
      ? { text: 'No storage configured: no Redis, no SQLite file', next: CONFIGURE }
      : fallback.kind === 'expected'
        ? {
            text: `No Redis configured, and no ${FALLBACK_FILE_NAME} in the workspace yet`,
            next: CONFIGURE,
          }
        : { text: 'No Redis configured, and the SQLite file cannot be read', next: HEALTH };
  const nodes: Node[] = [
    {
      kind: 'message',
      id: 'state',
      label: where ? `${text}; no SQLite fallback to show` : text,
      detail: `→ ${next.title}`,
      icon: 'error',
      color: 'list.errorForeground',
      tooltip: st.detail,
      command: next,
      contextValue: `storeState.${st.cause ?? 'unknown'}`,
    },
  ];
  if (next !== CONFIGURE)
    nodes.push({
      kind: 'message',
      id: 'configure',
      label: 'Configure connection…',
      icon: 'plug',
      command: CONFIGURE,
    });
  return nodes;
}
