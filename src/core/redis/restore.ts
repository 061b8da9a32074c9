import * as fs from 'node:fs';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { type BackupEntry, copyHashed, sha256File } from './backup';
import { stamp, uniquePath } from './localPaths';
import { checkOnScratchPort } from './scratchCheck';
import { type DeployedConfig, livePidFromFile, readDeployedConfig } from './deployedConfig';
import { parseInfo } from './info';
import type { JournalCheck } from './journalCheck';
import { waitForAofRewrite } from './liveFixes';
import { connectLocal, portOpen, shutdownSave } from './redisProcess';
import { launchDeployed, needsRdbLoad } from './start';
import { configReplyToMap } from './serverConfig';

export interface RestoreOptions {
  /** The deployed config whose server gets the backup. */
  target: string;
  backup: BackupEntry;
  /** Password of a server whose config has no requirepass. */
  password?: string;
  redisServer?: string;
  now?: () => Date;
  /** How long the restored server may take to answer PONG (default 5 min: a big AOF loads). */
  startTimeoutMs?: number;
}

/** A file or directory of the data dir, as it will be moved aside. */
export interface DataItem {
  name: string;
  bytes: number;
}

export interface RestorePlan {
  options: RestoreOptions;
  config: DeployedConfig;
  /** The server on the deployed port, stopped with SHUTDOWN SAVE before anything moves. */
  running?: {
    version: string;
    pid?: number;
    /** Clients connected now that are not this tool: optimizer workers, most likely. */
    otherClients: number;
  };
  /** What the data dir holds now (before the final save), moved to `aside`. */
  current: DataItem[];
  aside: string;
  /** The backup's AOF directory is put in place (the config wants the AOF and the backup has one). */
  useAof: boolean;
  /**
   * The config wants the AOF but the backup has none Redis would load: started from the RDB
   * with `--appendonly no`, then switched to the AOF live (Redis 7 would start empty).
   */
  convertRdb: boolean;
  /** The backup's files that are checked and copied, relative to the backup folder. */
  files: BackupEntry['manifest']['files'];
  /** What executeRestore will do, in order. */
  actions: string[];
}

/** How a restore proves the restored server's journals can be read. */
export type ReadBack = (
  redis: Redis,
  opts: { onProgress?: (message: string) => void },
) => Promise<JournalCheck[]>;

export interface RestoreResult {
  /** Where the data that was replaced now is. */
  aside: string;
  /** Every journal prefix read back from the restored server. */
  journals: JournalCheck[];
  done: string[];
}

/** A manifest path that stays inside the backup folder (a manifest is data, not a command). */
function insideBackup(b: BackupEntry, rel: string): string {
  const base = path.resolve(b.path);
  const abs = path.resolve(base, rel);
  if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..') || !abs.startsWith(base + path.sep))
    throw new Error(
      `the backup ${b.name} names a file outside its folder (${rel}): not restoring from it`,
    );
  return abs;
}

function sizeOf(p: string): number {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((n, f) => n + sizeOf(path.join(p, f)), 0);
}

/** The data dir's RDB and AOF directory, where present. */
function dataItems(c: DeployedConfig): DataItem[] {
  return [c.dbfilename, c.appenddirname]
    .filter((n) => fs.existsSync(path.join(c.dir, n)))
    .map((name) => ({ name, bytes: sizeOf(path.join(c.dir, name)) }));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * Everything a restore will do, decided without changing anything: the deployed config read,
 * the backup's files found (inside its folder, with their recorded sizes), the server on the
 * port checked to be the deployed one, what the data dir holds now.
 */
export async function planRestore(o: RestoreOptions): Promise<RestorePlan> {
  const c = readDeployedConfig(o.target);
  const b = o.backup;
  const m = b.manifest;
  if (!fs.existsSync(c.dir))
    throw new Error(
      `the data directory ${c.dir} of ${c.target} does not exist: is the data disk mounted? Nothing was changed.`,
    );
  const rdb = m.files.find((f) => f.path === m.server.dbfilename);
  if (!rdb) throw new Error(`the backup ${b.name} has no RDB file (${m.server.dbfilename})`);
  const aofDir = m.server.appenddirname;
  const aofFiles = aofDir ? m.files.filter((f) => f.path.startsWith(`${aofDir}/`)) : [];
  // Redis looks for <appendfilename>.manifest in the AOF directory; another name is not loaded.
  const aofLoadable = aofFiles.some((f) => f.path === `${aofDir}/${c.appendfilename}.manifest`);
  const useAof = c.appendonly && aofLoadable;
  const convertRdb = c.appendonly && !aofLoadable;
  const files = [rdb, ...(useAof ? aofFiles : [])];
  for (const f of files) {
    const abs = insideBackup(b, f.path);
    let size: number;
    try {
      size = fs.statSync(abs).size;
    } catch {
      throw new Error(`the backup ${b.name} is incomplete: ${f.path} is missing`);
    }
    if (size !== f.bytes)
      throw new Error(
        `the backup ${b.name} is damaged: ${f.path} has ${size} bytes, its manifest says ${f.bytes}`,
      );
  }

  let running: RestorePlan['running'];
  if (await portOpen(c.host, c.port)) {
    const redis = await connectLocal(c.host, c.port, c.password ?? o.password);
    try {
      const cfg = configReplyToMap((await redis.call('CONFIG', 'GET', 'dir')) as string[]);
      const dir = cfg.get('dir') ?? '';
      if (fs.realpathSync(dir) !== fs.realpathSync(c.dir))
        throw new Error(
          `the Redis on ${c.host}:${c.port} keeps its data in ${dir}, not in ${c.dir} as ${c.target} says: it is not the deployed server, so restore will not stop it. Nothing was changed.`,
        );
      const info = parseInfo(await redis.info('server'));
      // This tool's own connections are named optuna-storage…; Optuna's (redis-py) are not.
      const clients = String(await redis.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((l) => l.trim() && !/(^| )name=optuna-storage/.test(l));
      running = {
        version: info.get('redis_version') ?? '?',
        pid: info.num('process_id'),
        otherClients: clients.length,
      };
    } finally {
      redis.disconnect();
    }
  } else {
    const pid = livePidFromFile(c.pidFile);
    if (pid !== undefined)
      throw new Error(
        `redis-server pid ${pid} (from ${c.pidFile}) is alive but does not answer on ${c.host}:${c.port}, so it cannot be stopped with SHUTDOWN SAVE. Nothing was changed.`,
      );
  }

  const current = dataItems(c);
  const aside = uniquePath(
    path.join(c.dir, `pre-restore-${stamp((o.now ?? (() => new Date()))())}`),
  );
  const when = new Date(m.createdAt).toLocaleString();
  const actions = [
    `check the backup's ${files.length} file${files.length === 1 ? '' : 's'} against their SHA-256 sums`,
  ];
  if (running)
    actions.push(
      `stop Redis ${running.version} (pid ${running.pid ?? '?'}) on ${c.host}:${c.port} with SHUTDOWN SAVE: its data is saved in full first${running.otherClients ? ` (${running.otherClients} other client${running.otherClients === 1 ? ' is' : 's are'} connected now: stop the optimizer workers first, since a worker that runs on through a restore has read journal entries the backup lacks, and its view of the studies would no longer match the journal)` : ''}`,
    );
  actions.push(
    current.length > 0
      ? `move the current data (${current.map((d) => `${d.name}${d.name === c.appenddirname ? '/' : ''}`).join(', ')}, ${formatBytes(current.reduce((n, d) => n + d.bytes, 0))}) to ${aside}/: kept, not deleted`
      : `the data directory ${c.dir} holds no data files now: nothing to move aside`,
  );
  actions.push(
    `copy the backup of ${when} (${useAof ? `${m.server.dbfilename} and ${aofDir}/` : m.server.dbfilename}) into ${c.dir}`,
  );
  actions.push(
    convertRdb
      ? `start redis-server ${c.target} with --appendonly no so that it loads the RDB (the backup has no append-only file ${c.appendfilename} it could load), then switch to the append-only file live as the config says`
      : `start redis-server ${c.target} and wait for PONG on ${c.host}:${c.port}`,
  );
  actions.push('read every journal prefix back to the end');
  return { options: o, config: c, running, current, aside, useAof, convertRdb, files, actions };
}

/** Moves the named data items of `from` into `to` (same disk: renames, nothing copied). */
function moveItems(names: string[], from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const n of names)
    if (fs.existsSync(path.join(from, n))) fs.renameSync(path.join(from, n), path.join(to, n));
}

/**
 * Carries out a plan. Until the server is stopped it can be cancelled and nothing changes;
 * afterwards it runs to the end. The data it replaces is moved aside, never deleted; when the
 * restored data does not come up, the previous data is put back (and started again if it
 * was running) and the error says where the backup's copy is.
 */
export async function executeRestore(
  plan: RestorePlan,
  ctx: {
    /**
     * Reads every journal on the restored server back (core/storage's readEveryJournal):
     * passed in because reading journals is the storage layer's, above this one.
     */
    readBack: ReadBack;
    signal?: AbortSignal;
    onStep?: (message: string) => void;
  },
): Promise<RestoreResult> {
  const { config: c, options: o } = plan;
  const b = o.backup;
  const done: string[] = [];
  const step = (m: string) => {
    done.push(m);
    ctx.onStep?.(m);
  };
  const password = c.password ?? o.password;
  const binary = o.redisServer ?? 'redis-server';

  for (const [i, f] of plan.files.entries()) {
    ctx.onStep?.(`checking ${f.path} (${i + 1} of ${plan.files.length}, ${formatBytes(f.bytes)})`);
    if ((await sha256File(insideBackup(b, f.path), ctx.signal)) !== f.sha256)
      throw new Error(
        `the backup ${b.name} is damaged: ${f.path} does not match its SHA-256 sum. Nothing was changed.`,
      );
  }
  step(`the backup's ${plan.files.length} files match their SHA-256 sums`);
  // A config Redis refuses would leave nothing able to start once the server is stopped.
  ctx.onStep?.('checking the config with redis-server on a scratch port');
  await checkOnScratchPort(fs.readFileSync(c.target, 'utf8'), {
    binary,
    host: c.host,
    password,
  });
  step(`validated ${c.target} with redis-server on a scratch port and directory`);
  ctx.signal?.throwIfAborted(); // the last moment a cancellation changes nothing

  if (plan.running) {
    ctx.onStep?.('stopping Redis with SHUTDOWN SAVE');
    await shutdownSave(await connectLocal(c.host, c.port, password), c.host, c.port);
    step(
      `stopped Redis ${plan.running.version} (pid ${plan.running.pid ?? '?'}) with SHUTDOWN SAVE`,
    );
  } else if (await portOpen(c.host, c.port)) {
    throw new Error(
      `a server started on ${c.host}:${c.port} since the restore was planned: nothing was changed`,
    );
  }
  const names = [c.dbfilename, c.appenddirname];
  const replaced = names.filter((n) => fs.existsSync(path.join(c.dir, n)));
  moveItems(replaced, c.dir, plan.aside);
  step(
    replaced.length > 0
      ? `moved the current data (${replaced.join(', ')}) to ${plan.aside}`
      : 'no current data to move aside',
  );

  try {
    const copies: Array<[BackupEntry['manifest']['files'][number], string]> = plan.files.map(
      (f) => [
        f,
        f.path === b.manifest.server.dbfilename
          ? path.join(c.dir, c.dbfilename)
          : path.join(
              c.dir,
              c.appenddirname,
              f.path.slice(b.manifest.server.appenddirname!.length + 1),
            ),
      ],
    );
    for (const [f, to] of copies) {
      ctx.onStep?.(`copying ${f.path} (${formatBytes(f.bytes)})`);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      const copied = await copyHashed(insideBackup(b, f.path), to);
      if (copied.sha256 !== f.sha256)
        throw new Error(`the copy of ${f.path} does not match its SHA-256 sum (disk full?)`);
    }
    step(`copied the backup ${b.name} into ${c.dir}`);
    await startServer(plan.convertRdb);
    step(`Redis answers PONG on ${c.host}:${c.port}`);
  } catch (e) {
    throw await rollBack(e as Error);
  }

  const redis = await connectLocal(c.host, c.port, password);
  try {
    if (plan.convertRdb) {
      ctx.onStep?.('switching to the append-only file');
      await redis.call('CONFIG', 'SET', 'appendonly', 'yes');
      await waitForAofRewrite(redis);
      step('loaded the RDB and wrote the append-only file from it, as the config says');
    }
    const journals = await ctx.readBack(redis, { onProgress: ctx.onStep });
    step(`read ${journals.length} journal prefix${journals.length === 1 ? '' : 'es'} back`);
    return { aside: plan.aside, journals, done };
  } finally {
    redis.disconnect();
  }

  async function startServer(fromRdb: boolean): Promise<void> {
    ctx.onStep?.(`starting redis-server ${c.target}, waiting for PONG`);
    await launchDeployed(c, {
      binary,
      password,
      fromRdb,
      timeoutMs: o.startTimeoutMs ?? 300_000,
    });
  }

  /** The restored data did not come up: the previous data goes back where it was. */
  async function rollBack(e: Error): Promise<Error> {
    if (await portOpen(c.host, c.port))
      return new Error(
        `restore failed after the server started (${e.message}). The replaced data is in ${plan.aside}.`,
        { cause: e },
      );
    const failed = uniquePath(path.join(c.dir, `failed-restore-${stamp(new Date())}`));
    try {
      moveItems(names, c.dir, failed);
      moveItems(replaced, plan.aside, c.dir);
      fs.rmdirSync(plan.aside);
    } catch (again) {
      return new Error(
        `restore failed (${e.message}), and putting the previous data back failed too (${(again as Error).message}): the previous data is in ${plan.aside}, the backup's copy in ${failed}.`,
        { cause: e },
      );
    }
    if (!plan.running)
      return new Error(
        `restore failed (${e.message}). The previous data was put back in ${c.dir}; the backup's copy is in ${failed}.`,
        { cause: e },
      );
    try {
      await startServer(needsRdbLoad(c));
    } catch (again) {
      return new Error(
        `restore failed (${e.message}). The previous data was put back in ${c.dir} but did not start either (${(again as Error).message}); the backup's copy is in ${failed}.`,
        { cause: e },
      );
    }
    return new Error(
      `restore failed (${e.message}). The previous data was put back and Redis runs on it again; the backup's copy is in ${failed}.`,
      { cause: e },
    );
  }
}
