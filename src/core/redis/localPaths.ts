import * as fs from 'node:fs';
import * as path from 'node:path';

/** Names and comparisons of local paths that deploy and restore share. */

/** Local time as 20250131-235959, for folders a person finds by date. */
export function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** `p`, or `p-1`, `p-2`… whichever does not exist yet. */
export function uniquePath(p: string): string {
  let candidate = p;
  for (let i = 1; fs.existsSync(candidate); i++) candidate = `${p}-${i}`;
  return candidate;
}

/** Whether two paths are the same directory (symlinks resolved; a missing one compared as given). */
export function sameDir(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}
