import type Redis from 'ioredis';
import { discoverPrefixes } from '../optuna/journal/redisLog';
import type { ConnectionSettings, SentinelConfig } from '../redis/connect';
import { type LinkStatus, RedisLink } from '../redis/link';
import { RedisJournalReader } from './redisJournalReader';
import { ReplayCache } from './replayCache';
import { SqliteSource } from './sqliteSource';
import type { JournalSource, StudySource } from './studySource';

export interface FailoverOptions {
  /** Redis URL (`redis://` or `rediss://`); with `sentinel`, only its db and credentials are used. */
  redisUrl?: string;
  password?: string;
  sentinel?: SentinelConfig;
  /** Journal prefixes to read; undefined discovers every prefix on the server. */
  prefixes?: string[];
  /** The SQLite fallback file (Optuna RDB) served when Redis is unreachable. */
  sqlitePath?: string;
  settings?: Partial<ConnectionSettings>;
  /** Folder for the local replay cache of large journals. */
  cacheDir?: string;
  /** How often a refresh re-scans the server for new journal prefixes. */
  rediscoverMs?: number;
  /**
   * The SQLite worker script (dist/sqliteWorker.js): the fallback file is then read in a
   * worker thread, never on the caller's thread (the extension host's main thread).
   */
  sqliteWorkerFile?: string;
}

/** What the store needs of a Redis connection: a RedisLink, or a fake in unit tests. */
export interface StoreLink {
  readonly where: string;
  readonly status: LinkStatus;
  readonly client: Redis;
  on(event: 'status', listener: (s: LinkStatus) => void): unknown;
  once(event: 'status', listener: (s: LinkStatus) => void): unknown;
  start(): void;
  check(): Promise<LinkStatus>;
  reconnect(): void;
  close(): void;
}

/** What a store is built from; `storeParts` makes the real ones from the options. */
export interface StoreParts {
  /** Opens the Redis link; absent when no Redis is configured. */
  link?: () => StoreLink;
  /** The journal prefixes on the link's server, and whether the scan finished. */
  discover(
    link: StoreLink,
    signal: AbortSignal,
  ): Promise<{ prefixes: string[]; complete: boolean }>;
  /** The journal of one prefix, read through the link. */
  journal(link: StoreLink, prefix: string): JournalSource;
  /** The fallback file; absent when none is configured. */
  fallback?: StudySource & { readonly path: string };
}

/**
 * The real parts of a failover store: a RedisLink to the configured server (or Sentinel
 * master), a journal reader per prefix on its connection (with the local replay cache when
 * there is a cache folder), and the SQLite fallback file.
 */
export function storeParts(o: FailoverOptions): StoreParts {
  const cache = o.cacheDir ? new ReplayCache(o.cacheDir) : undefined;
  const url = o.redisUrl;
  return {
    link: url
      ? () =>
          new RedisLink(url, { password: o.password, sentinel: o.sentinel, settings: o.settings })
      : undefined,
    discover: (link, signal) => discoverPrefixes(link.client, undefined, signal),
    journal: (link, prefix) =>
      new RedisJournalReader(
        link.client,
        prefix,
        cache ? { cache, key: `${link.where}|${prefix}` } : undefined,
      ),
    fallback: o.sqlitePath
      ? new SqliteSource(o.sqlitePath, {
          what: 'the SQLite fallback',
          optional: true,
          workerFile: o.sqliteWorkerFile,
        })
      : undefined,
  };
}
