import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  type ConnectionSettings,
  type SentinelConfig,
  parseSentinelList,
} from '../core/redis/connect';
import { DEPLOY_DEFAULTS } from '../core/redis/deployConfig';
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
  heartbeatGrace: 'studyPage.heartbeatGraceSeconds',
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
  /** Study page: SQLite heartbeats older than this flag a RUNNING trial as stale. */
  heartbeatGraceSeconds: number;
  connection: ConnectionSettings;
}

/**
 * A numeric setting clamped to the range the code can live with. package.json declares the
 * same minimums, but VS Code does not enforce them on values a workspace writes (a
 * healthCheckInterval of 0 PINGed the server 800 times a second); a non-number is the default.
 */
export function numberSetting(
  c: vscode.WorkspaceConfiguration,
  key: string,
  dflt: number,
  min: number,
  max: number,
): number {
  const v = c.get<unknown>(key, dflt);
  if (typeof v !== 'number' || !Number.isFinite(v)) return dflt;
  return Math.min(max, Math.max(min, v));
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
    refreshIntervalMs: numberSetting(c, KEY.refreshInterval, 5, 1, 86_400) * 1000,
    pageSize: Math.round(numberSetting(c, KEY.pageSize, 200, 10, 100_000)),
    heartbeatGraceSeconds: numberSetting(c, KEY.heartbeatGrace, 120, 1, 86_400),
    connection: {
      socketTimeout: numberSetting(c, 'connection.socketTimeout', 5, 0.1, 3600),
      socketConnectTimeout: numberSetting(c, 'connection.socketConnectTimeout', 2, 0.1, 600),
      healthCheckInterval: numberSetting(c, 'connection.healthCheckInterval', 0.25, 0.05, 3600),
      retryBaseMs: 50,
      retryMaxMs: numberSetting(c, 'connection.retryMaxMs', 1000, 50, 600_000),
      degradedLatencyMs: numberSetting(c, 'connection.degradedLatencyMs', 100, 1, 600_000),
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

/** The config Deploy installs and Start and Restore use: the setting, else deploy's default. */
export function deployTarget(): string {
  return (
    vscode.workspace.getConfiguration(SECTION).get<string>('deploy.target', '').trim() ||
    DEPLOY_DEFAULTS.target
  );
}

export interface BackupSettings {
  /** The folder of backups; undefined: `redis-backups` next to the Redis data directory. */
  dir: string | undefined;
  /** Hours between scheduled backups; 0: none. */
  everyHours: number;
  /** Scheduled backups keep this many newest backups. */
  keep: number;
}

export function backupSettings(): BackupSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const dir = c.get<string>('backup.dir', '').trim();
  return {
    dir: dir
      ? path.resolve(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '/', dir)
      : undefined,
    everyHours: numberSetting(c, 'backup.everyHours', 0, 0, 24 * 365),
    keep: Math.round(numberSetting(c, 'backup.keep', 7, 1, 10_000)),
  };
}
