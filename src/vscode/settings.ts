import * as vscode from 'vscode';
import {
  type ConnectionSettings,
  type SentinelConfig,
  parseSentinelList,
} from '../core/redis/connect';
import { type FallbackSource, resolveFallbackFile } from '../core/storage/fallbackFile';

/** Setting keys, in one place (package.json "contributes.configuration" declares them). */
export const SECTION = 'optunaStorage';
export const KEY = {
  redisUrl: 'redis.url',
  prefixes: 'redis.prefixes',
  sentinels: 'redis.sentinels',
  sentinelMaster: 'redis.sentinelMaster',
  sqlitePath: 'sqlite.path',
  refreshInterval: 'refreshInterval',
  pageSize: 'trials.pageSize',
  connection: 'connection',
} as const;

export interface Settings {
  redisUrl: string;
  prefixes: string[] | undefined;
  sentinel: SentinelConfig | undefined;
  /** Absolute path of the SQLite fallback, or undefined when there is none. */
  sqlitePath: string | undefined;
  /** Which fallback file and why (setting, found in the workspace, expected there). */
  fallback: FallbackSource;
  refreshIntervalMs: number;
  pageSize: number;
  connection: ConnectionSettings;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const sentinels = c.get<string>(KEY.sentinels, '').trim();
  const rawPath = c.get<string>(KEY.sqlitePath, '').trim();
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const prefixes = c.get<string[]>(KEY.prefixes, []);
  // In Restricted Mode the workspace chooses no files: only a user-set path is read.
  const fallback =
    rawPath || vscode.workspace.isTrusted
      ? resolveFallbackFile(rawPath, folders, folders[0] ?? process.cwd())
      : ({ kind: 'none', why: 'the workspace is not searched in Restricted Mode' } as const);
  return {
    redisUrl: c.get<string>(KEY.redisUrl, '').trim(),
    prefixes: prefixes.length > 0 ? prefixes : undefined,
    sentinel: sentinels
      ? {
          sentinels: parseSentinelList(sentinels),
          name: c.get<string>(KEY.sentinelMaster, 'mymaster'),
        }
      : undefined,
    sqlitePath: fallback.kind === 'none' ? undefined : fallback.path,
    fallback,
    refreshIntervalMs: Math.max(1, c.get<number>(KEY.refreshInterval, 5)) * 1000,
    pageSize: Math.max(10, c.get<number>(KEY.pageSize, 200)),
    connection: {
      socketTimeout: c.get<number>('connection.socketTimeout', 5),
      socketConnectTimeout: c.get<number>('connection.socketConnectTimeout', 2),
      healthCheckInterval: c.get<number>('connection.healthCheckInterval', 0.25),
      retryBaseMs: 50,
      retryMaxMs: c.get<number>('connection.retryMaxMs', 1000),
      degradedLatencyMs: c.get<number>('connection.degradedLatencyMs', 100),
    },
  };
}

/** Settings that need a new store (connection, sources); the rest apply on the next refresh. */
export function affectsStore(e: vscode.ConfigurationChangeEvent): boolean {
  return [
    KEY.redisUrl,
    KEY.prefixes,
    KEY.sentinels,
    KEY.sentinelMaster,
    KEY.sqlitePath,
    KEY.connection,
  ].some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}

/** Where settings written by a command go: the workspace when one is open. */
export function settingsTarget(): vscode.ConfigurationTarget {
  return vscode.workspace.workspaceFolders?.length
    ? vscode.ConfigurationTarget.Workspace
    : vscode.ConfigurationTarget.Global;
}
