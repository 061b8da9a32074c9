import * as fs from 'node:fs';
import * as path from 'node:path';
import { processAlive as alive } from '../processAlive';
import { ensurePrivateDir, privateDirProblem } from '../privateDir';

/*
 * The suite's temp folders, and the disposable servers a crashed run left in them: found by
 * what the kernel says about each process (its working directory, owner and command line),
 * never by a pid written to a file.
 */

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The real uid of a process, from /proc (undefined when it cannot be read). */
function processUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * redis-server processes of this user whose working directory is inside `dir`: the
 * disposable servers a suite run started there (each runs in its data folder). Found by what
 * the kernel says about the process, so a file naming some other pid cannot point us at a
 * server that is not ours.
 */
export function ownRedisServersUnder(dir: string): number[] {
  const root = fs.realpathSync(dir) + path.sep;
  const uid = process.getuid?.();
  const pids: number[] = [];
  for (const d of safeReaddir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid || !/^\S*redis-server(\s|$)/.test(cmdline(pid))) continue;
    if (uid !== undefined && processUid(pid) !== uid) continue;
    try {
      if ((fs.readlinkSync(`/proc/${pid}/cwd`) + path.sep).startsWith(root)) pids.push(pid);
    } catch {
      // gone, or not ours to inspect
    }
  }
  return pids;
}

/** Prefix of each run's temp folder inside the suite's private folder. */
export const TEMP_DIR_PREFIX = 'optuna-storage-suite-';

/**
 * The suite's private folder under `base` (the system temp directory by default): one per
 * user, mode 0700, verified to be ours before anything in it is believed. Undefined with the
 * reason when the name is taken by something that is not ours (then the run uses a fresh
 * mkdtemp folder and cleans up nothing from earlier runs).
 */
export function suiteTempRoot(base: string): { dir?: string; problem?: string } {
  return ensurePrivateDir(base, `optuna-storage-${process.getuid?.() ?? 'user'}`);
}

/**
 * Removes what crashed earlier runs left in the private folder `root`: their temp folders
 * (scratch SQLite, disposable server data) and the disposable redis-servers still running in
 * them. A folder is only touched when the suite process that created it is gone; a server is
 * only killed when it is one of this user's redis-server processes running inside that
 * folder. Does nothing when `root` is not a private folder of ours.
 */
export function removeStaleTempDirs(root: string, currentDir?: string): number {
  if (privateDirProblem(root)) return 0;
  let removed = 0;
  const entries = safeReaddir(root).filter((n) =>
    /^optuna-storage-suite-\d{8}T\d{6}Z-[a-z0-9]{6}$/.test(n),
  );
  for (const name of entries) {
    const dir = path.join(root, name);
    if (currentDir && path.resolve(dir) === path.resolve(currentDir)) continue;
    let owner: { pid?: number } = {};
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8'));
    } catch {
      // no owner file: a run that crashed while creating its folder
    }
    if (owner.pid === process.pid) continue;
    if (owner.pid && alive(owner.pid) && /node|optuna-storage/.test(cmdline(owner.pid))) continue;
    for (const pid of ownRedisServersUnder(dir)) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
