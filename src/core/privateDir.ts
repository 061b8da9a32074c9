import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Why `dir` cannot be trusted as ours alone, or undefined when it can: a real directory (not a
 * symlink), owned by this process's user, with no group or world permission bits. Anything a
 * shared temp directory holds may have been planted by another local user; only a folder that
 * passes this check can be believed about what it contains.
 */
export function privateDirProblem(dir: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    return `${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (st.isSymbolicLink()) return `${dir} is a symbolic link`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `${dir} belongs to uid ${st.uid}, not to us`;
  if ((st.mode & 0o077) !== 0)
    return `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * A folder only this user can enter: `parent/name`, created with mode 0700 when missing and
 * verified (privateDirProblem) when it exists. Returns undefined with the reason when an
 * existing folder of that name is not private (someone else made it, or it is a symlink):
 * callers then use a fresh mkdtemp folder and trust nothing under the name.
 */
export function ensurePrivateDir(
  parent: string,
  name: string,
): { dir: string; problem?: undefined } | { dir?: undefined; problem: string } {
  const dir = path.join(parent, name);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const problem = privateDirProblem(dir);
  return problem ? { problem } : { dir };
}

/** A new, uniquely named folder (mkdtemp: mode 0700) under `parent`. */
export function freshPrivateDir(parent: string, prefix: string): string {
  return fs.mkdtempSync(path.join(parent, prefix));
}
