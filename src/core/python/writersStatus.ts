import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { parseWriterStatusKey, WRITER_STATUS_PATTERN } from '../optuna/journal/redisLog';
import { processAlive } from '../processAlive';

/**
 * The writers' side: which storage each process using the Python companion writes to. Each
 * process keeps one JSON file in `<fallback file>.writers/` (python/enhanced_redis_storage/
 * status.py: written to a temporary file and renamed, rewritten every heartbeat and on every
 * change of state, removed when the process closes the storage or exits), so it is readable
 * while Redis is down. A process killed with SIGKILL leaves its file behind: this reader drops
 * files of processes that are gone (on this host) and files whose heartbeat stopped.
 */

/** Where the companion's processes that use `fallbackPath` publish their state. */
export function writersDir(fallbackPath: string): string {
  return `${fallbackPath}.writers`;
}

/** `current_storage` as the companion names it. */
export type WriterStorage = 'redis' | 'sqlite' | 'recovering' | 'held';
const STORAGES: ReadonlySet<string> = new Set(['redis', 'sqlite', 'recovering', 'held']);

export interface WriterStatus {
  file: string;
  pid: number;
  host: string;
  writerId: string;
  /** The run the extension launched this process in (OPTUNA_STORAGE_RUN_ID), if any. */
  runId?: string;
  storage: WriterStorage;
  /** Why it is off Redis (the companion's words); undefined on Redis. */
  cause?: string;
  /** Epoch ms since when it is in this storage. */
  since?: number;
  /** Epoch ms of the last write of the file. */
  updated: number;
  prefix?: string;
  /** Records of the outage still waiting to be sent to Redis. */
  pending: number;
}

export interface WritersRead {
  /** Live writers, oldest state first. */
  writers: WriterStatus[];
  /** Files that were not counted, and why (malformed, a process that is gone, no heartbeat). */
  ignored: Array<{ file: string; why: string }>;
}

export interface ReadWritersOptions {
  /** Epoch ms (default: now). */
  now?: number;
  /** This machine's host name, as Python's socket.gethostname() gives it (default: os.hostname()). */
  host?: string;
  /** Whether a pid of this host is a live process (default: signal 0). */
  alive?: (pid: number) => boolean;
}

/**
 * A file whose heartbeat is older than this is not a live writer: a process frozen, or gone
 * on another host. Generous: a loaded machine delays heartbeats, and a false "gone" would
 * hide a writer that is on SQLite.
 */
export function staleAfterMs(heartbeatSeconds: number): number {
  return Math.max(30_000, 6 * heartbeatSeconds * 1000);
}

/** Reads every writer's status file for this fallback file; never rejects. */
export async function readWriters(
  fallbackPath: string,
  opts: ReadWritersOptions = {},
): Promise<WritersRead> {
  const dir = writersDir(fallbackPath);
  const out: WritersRead = { writers: [], ignored: [] };
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return out; // no writer has used this fallback file (or it is not readable): none
  }
  const now = opts.now ?? Date.now();
  const host = opts.host ?? os.hostname();
  const alive = opts.alive ?? processAlive;
  // Temporary files (".status-…") are the companion's writes in flight.
  const files = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  const texts = await Promise.all(
    files.map((n) => fs.promises.readFile(path.join(dir, n), 'utf8').catch(() => undefined)),
  );
  for (const [i, name] of files.entries()) {
    const file = path.join(dir, name);
    const text = texts[i];
    if (text === undefined) continue; // removed between the listing and the read: gone
    const parsed = parseWriterStatus(text, file);
    if (typeof parsed === 'string') {
      out.ignored.push({ file, why: parsed });
      continue;
    }
    const { status, heartbeat } = parsed;
    const age = now - status.updated;
    if (status.host === host && !alive(status.pid))
      out.ignored.push({ file, why: `process ${status.pid} is gone` });
    else if (heartbeat !== undefined && age > staleAfterMs(heartbeat))
      out.ignored.push({
        file,
        why: `no heartbeat for ${Math.round(age / 1000)} s (frozen, or gone on ${status.host})`,
      });
    else out.writers.push(status);
  }
  out.writers.sort((a, b) => (a.since ?? a.updated) - (b.since ?? b.updated));
  return out;
}

/** One status file's contents, or why it cannot be used. */
export function parseWriterStatus(
  text: string,
  file: string,
): { status: WriterStatus; heartbeat?: number } | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  const storage = o.current_storage;
  if (typeof storage !== 'string' || !STORAGES.has(storage))
    return `unknown current_storage ${JSON.stringify(storage)}`;
  if (!Number.isInteger(o.pid) || (o.pid as number) <= 0) return 'no pid';
  if (typeof o.updated !== 'number' || !Number.isFinite(o.updated)) return 'no updated time';
  const since = typeof o.since === 'string' ? Date.parse(o.since) : NaN;
  return {
    status: {
      file,
      pid: o.pid as number,
      host: typeof o.host === 'string' ? o.host : '',
      writerId: typeof o.writer_id === 'string' ? o.writer_id : '',
      runId: typeof o.run_id === 'string' && o.run_id ? o.run_id : undefined,
      storage: storage as WriterStorage,
      cause: typeof o.cause === 'string' && o.cause ? o.cause : undefined,
      since: Number.isFinite(since) ? since : undefined,
      updated: o.updated * 1000,
      prefix: typeof o.prefix === 'string' ? o.prefix : undefined,
      pending: Number.isInteger(o.outbox_pending) ? (o.outbox_pending as number) : 0,
    },
    heartbeat:
      typeof o.heartbeat === 'number' && o.heartbeat > 0 && Number.isFinite(o.heartbeat)
        ? o.heartbeat
        : undefined,
  };
}

export interface WritersSummary {
  total: number;
  redis: number;
  /** Writing to SQLite: Redis down (`sqlite`), or its journal not intact (`held`). */
  onSqlite: number;
  /** Of onSqlite: held, because Redis' journal lost what they wrote (it needs attention). */
  held: number;
  /** Back on Redis, sending what the outage wrote. */
  recovering: number;
  /** The cause that matters most: a held writer's, else that of the longest on SQLite. */
  cause?: string;
  /** Epoch ms since when the first of them is on SQLite. */
  since?: number;
}

export function summarizeWriters(writers: readonly WriterStatus[]): WritersSummary {
  const s: WritersSummary = {
    total: writers.length,
    redis: 0,
    onSqlite: 0,
    held: 0,
    recovering: 0,
  };
  let worst: WriterStatus | undefined;
  const rank = (w: WriterStatus) => (w.storage === 'held' ? 2 : 1);
  for (const w of writers) {
    if (w.storage === 'redis') s.redis++;
    else if (w.storage === 'recovering') s.recovering++;
    else {
      s.onSqlite++;
      if (w.storage === 'held') s.held++;
      const at = w.since ?? w.updated;
      if (s.since === undefined || at < s.since) s.since = at;
      if (
        !worst ||
        rank(w) > rank(worst) ||
        (rank(w) === rank(worst) && at < (worst.since ?? worst.updated))
      )
        worst = w;
    }
  }
  s.cause = worst?.cause;
  return s;
}

/** "12 writers on SQLite" (empty when none is). */
export function writersOnSqliteText(s: WritersSummary): string {
  return s.onSqlite ? `${s.onSqlite} writer${s.onSqlite === 1 ? '' : 's'} on SQLite` : '';
}

/** "2 on Redis, 1 on SQLite (1 held), 1 returning to Redis" */
export function writersBreakdown(s: WritersSummary): string {
  return [
    s.redis ? `${s.redis} on Redis` : '',
    s.onSqlite ? `${s.onSqlite} on SQLite${s.held ? ` (${s.held} held)` : ''}` : '',
    s.recovering ? `${s.recovering} returning to Redis` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * The writers that keep their status in Redis (every prefix, every host): those writing to
 * Redis now, or until their key's TTL runs out. Never rejects for a value it cannot parse
 * (it is left out); rejects when Redis fails.
 */
export async function readWriterKeys(redis: Redis): Promise<WriterStatus[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', WRITER_STATUS_PATTERN, 'COUNT', 1000);
    cursor = next;
    keys.push(...found.filter((k) => parseWriterStatusKey(k)));
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  const out: WriterStatus[] = [];
  values.forEach((v, i) => {
    const parsed = v === null ? 'gone' : parseWriterStatus(v, `redis:${keys[i]}`);
    if (typeof parsed !== 'string') out.push(parsed.status);
  });
  return out.sort((a, b) => (a.since ?? a.updated) - (b.since ?? b.updated));
}
