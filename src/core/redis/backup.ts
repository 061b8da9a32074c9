import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Redis from 'ioredis';
import { sleep } from '../abort';
import { parseInfo } from './info';
import { configReplyToMap } from './serverConfig';

export const BACKUP_FORMAT = 'optuna-storage-redis-backup/1';
const MANIFEST = 'backup.json';
const NAME_RE = /^redis-\d{8}T\d{6}Z(-\d+)?$/;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  /** ISO 8601 UTC. */
  createdAt: string;
  server: {
    version: string;
    endpoint: string;
    dir: string;
    dbfilename: string;
    appenddirname: string | null;
  };
  /** Paths relative to the backup folder; the AOF directory keeps its name. */
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

export interface BackupEntry {
  name: string;
  path: string;
  manifest: BackupManifest;
  bytes: number;
}

export interface BackupOptions {
  /** Folder that holds one sub-folder per backup. */
  root: string;
  /** Where the server is, for the manifest (no password). */
  endpoint: string;
  /** How long a save or rewrite may take (default 10 min). */
  timeoutMs?: number;
  now?: () => Date;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** Where backups go unless told: `redis-backups` beside the data directory, on the same (persistent) disk. */
export function defaultBackupRoot(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'redis-backups');
}

async function persistence(redis: Redis) {
  return parseInfo(await redis.info('persistence'));
}

/**
 * Reads INFO persistence every 100 ms until `until` holds, and returns that reply. Throws the
 * signal's reason once it is aborted, and `timed out waiting for <what>` after `deadline`
 * (a Date.now() time).
 */
export async function waitForPersistence(
  redis: Redis,
  until: (i: ReturnType<typeof parseInfo>) => boolean,
  what: string,
  opts: { deadline: number; signal?: AbortSignal },
): Promise<ReturnType<typeof parseInfo>> {
  for (;;) {
    const info = await persistence(redis);
    if (until(info)) return info;
    opts.signal?.throwIfAborted();
    if (Date.now() > opts.deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Runs a background job (BGSAVE or BGREWRITEAOF) to completion: retries while another one of
 * the same kind runs (its snapshot would predate our request), schedules it behind another
 * fork, and waits until its counter moves and nothing is in progress.
 */
async function runBackgroundJob(
  redis: Redis,
  kind: 'rdb' | 'aof',
  opts: BackupOptions,
): Promise<void> {
  const counter = kind === 'rdb' ? 'rdb_saves' : 'aof_rewrites';
  const busy = (i: ReturnType<typeof parseInfo>) =>
    kind === 'rdb'
      ? i.get('rdb_bgsave_in_progress') === '1'
      : i.get('aof_rewrite_in_progress') === '1' || i.get('aof_rewrite_scheduled') === '1';
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  const wait = (until: (i: ReturnType<typeof parseInfo>) => boolean, what: string) =>
    waitForPersistence(redis, until, what, { deadline, signal: opts.signal });
  let before = (await persistence(redis)).num(counter) ?? 0;
  for (;;) {
    try {
      await (kind === 'rdb' ? redis.call('BGSAVE') : redis.call('BGREWRITEAOF'));
      break;
    } catch (e) {
      const msg = (e as Error).message;
      if (/already in progress/i.test(msg)) {
        const info = await wait((i) => !busy(i), 'the running background job');
        before = info.num(counter) ?? 0;
        continue;
      }
      if (kind === 'rdb' && /BGSAVE SCHEDULE/i.test(msg)) {
        await redis.call('BGSAVE', 'SCHEDULE');
        break;
      }
      throw e;
    }
  }
  const info = await wait(
    (i) => (i.num(counter) ?? 0) > before && !busy(i),
    kind === 'rdb' ? 'BGSAVE' : 'BGREWRITEAOF',
  );
  const status = info.get(kind === 'rdb' ? 'rdb_last_bgsave_status' : 'aof_last_bgrewrite_status');
  if (status !== 'ok')
    throw new Error(
      `${kind === 'rdb' ? 'BGSAVE' : 'BGREWRITEAOF'} failed (status ${status}): see the Redis log (disk full? permissions on the data dir?)`,
    );
}

/** A relative path of plain names ('a', 'dir/a'): no '..', no absolute path, no empty part. */
export function plainRelative(rel: string): boolean {
  return (
    rel !== '' &&
    !path.isAbsolute(rel) &&
    !rel.includes('\0') &&
    rel.split(/[\\/]/).every((seg) => seg !== '' && seg !== '.' && seg !== '..')
  );
}

/** Files of a Redis 7 AOF directory: the manifest and the base and incremental files it names. */
function aofFiles(aofDir: string, appendfilename: string): string[] {
  const manifest = `${appendfilename}.manifest`;
  const text = fs.readFileSync(path.join(aofDir, manifest), 'utf8');
  const files = [...text.matchAll(/^file (\S+) seq \d+ type ([bi])\s*$/gm)].map((m) => m[1]);
  return [manifest, ...files];
}

/** Runs a stream pipeline; a cancellation rejects with the signal's reason, not a bare AbortError. */
async function abortable(signal: AbortSignal | undefined, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw e;
  }
}

/**
 * Copies a file and hashes it in one pass, streaming (a multi-GB AOF never sits in memory);
 * an abort stops it mid-file. The target must not exist.
 */
export async function copyHashed(
  from: string,
  to: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await abortable(signal, () =>
    pipeline(
      fs.createReadStream(from),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      }),
      fs.createWriteStream(to, { flags: 'wx', mode: 0o600 }),
      { signal },
    ),
  );
  return { bytes, sha256: hash.digest('hex') };
}

/** SHA-256 of a file, streamed; an abort stops it mid-file. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await abortable(signal, () => pipeline(fs.createReadStream(file), hash, { signal }));
  return hash.digest('hex');
}

function backupName(now: Date): string {
  return `redis-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/**
 * A consistent copy of the server's data files: a fresh BGSAVE (and, with the AOF on, a fresh
 * BGREWRITEAOF so that the AOF directory is one base file plus a short tail), then the RDB and
 * the AOF files copied into `<root>/redis-<UTC time>/` with a manifest of sizes and SHA-256.
 * The files are read from the server's `dir`, so this runs on the Redis host. The folder
 * appears under its final name only when complete.
 */
export async function createServerBackup(redis: Redis, opts: BackupOptions): Promise<BackupEntry> {
  const cfg = configReplyToMap((await redis.call('CONFIG', 'GET', '*')) as string[]);
  const get = (k: string) => cfg.get(k) ?? '';
  const dir = get('dir');
  const dbfilename = get('dbfilename') || 'dump.rdb';
  const aof = get('appendonly') === 'yes';
  const appenddirname = get('appenddirname') || 'appendonlydir';
  const appendfilename = get('appendfilename') || 'appendonly.aof';
  if (!fs.existsSync(dir))
    throw new Error(
      `the server's data directory ${dir} is not on this machine: run the backup on the Redis host`,
    );
  const version = parseInfo(await redis.info('server')).get('redis_version') ?? '?';

  opts.onProgress?.('BGSAVE');
  await runBackgroundJob(redis, 'rdb', opts);
  if (aof) {
    opts.onProgress?.('BGREWRITEAOF');
    await runBackgroundJob(redis, 'aof', opts);
  }

  fs.mkdirSync(opts.root, { recursive: true });
  const now = (opts.now ?? (() => new Date()))();
  let name = backupName(now);
  for (let i = 2; fs.existsSync(path.join(opts.root, name)); i++) name = `${backupName(now)}-${i}`;
  const staging = fs.mkdtempSync(path.join(opts.root, '.incomplete-'));
  try {
    fs.chmodSync(staging, 0o700); // the data of every study: not for other users
    const files: BackupManifest['files'] = [];
    const copy = async (from: string, rel: string) => {
      opts.signal?.throwIfAborted();
      // Names come from the server (CONFIG GET) and its AOF manifest: never follow one out of
      // the data directory, nor write outside the backup folder.
      if (!plainRelative(rel))
        throw new Error(
          `the server names a data file ${JSON.stringify(rel)} that is not a plain file name inside its data directory: nothing was backed up`,
        );
      const to = path.join(staging, rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      files.push({ path: rel, ...(await copyHashed(from, to, opts.signal)) });
    };
    opts.onProgress?.(`copying ${dbfilename}`);
    await copy(path.join(dir, dbfilename), dbfilename);
    if (aof) {
      const aofDir = path.join(dir, appenddirname);
      // A rewrite between reading the manifest and copying would delete files: copy again.
      for (let attempt = 1; ; attempt++) {
        const listed = aofFiles(aofDir, appendfilename);
        opts.onProgress?.(`copying ${appenddirname}/ (${listed.length} files)`);
        try {
          for (const f of listed) await copy(path.join(aofDir, f), path.join(appenddirname, f));
          if (aofFiles(aofDir, appendfilename).join() === listed.join()) break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw e;
        }
        if (attempt >= 3)
          throw new Error(`the AOF in ${aofDir} kept being rewritten while it was copied`);
        files.splice(1);
        fs.rmSync(path.join(staging, appenddirname), { recursive: true, force: true });
      }
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: now.toISOString(),
      server: {
        version,
        endpoint: opts.endpoint,
        dir,
        dbfilename,
        appenddirname: aof ? appenddirname : null,
      },
      files,
    };
    fs.writeFileSync(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    fs.renameSync(staging, path.join(opts.root, name));
    return entryOf(opts.root, name, manifest);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

function entryOf(root: string, name: string, manifest: BackupManifest): BackupEntry {
  return {
    name,
    path: path.join(root, name),
    manifest,
    bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
  };
}

/** The backups under a root, newest first; folders without a manifest of ours are ignored. */
export function listBackups(root: string): BackupEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: BackupEntry[] = [];
  for (const name of names) {
    if (!NAME_RE.test(name)) continue;
    try {
      const manifest = JSON.parse(
        fs.readFileSync(path.join(root, name, MANIFEST), 'utf8'),
      ) as BackupManifest;
      if (manifest.format === BACKUP_FORMAT) out.push(entryOf(root, name, manifest));
    } catch {
      // not one of ours
    }
  }
  return out.sort(
    (a, b) =>
      b.manifest.createdAt.localeCompare(a.manifest.createdAt) || b.name.localeCompare(a.name),
  );
}

/** Removes all but the `keep` newest backups (only folders this module created). */
export function pruneBackups(
  root: string,
  keep: number,
  opts: { dryRun?: boolean } = {},
): { kept: BackupEntry[]; removed: BackupEntry[] } {
  if (!Number.isInteger(keep) || keep < 1) throw new Error('keep at least one backup');
  const all = listBackups(root);
  const removed = all.slice(keep);
  if (!opts.dryRun) for (const b of removed) fs.rmSync(b.path, { recursive: true, force: true });
  return { kept: all.slice(0, keep), removed };
}
