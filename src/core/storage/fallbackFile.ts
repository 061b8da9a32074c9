import * as fs from 'node:fs';
import * as path from 'node:path';

/** The fallback file name the guide and the Python companion write (Optuna RDB storage). */
export const FALLBACK_FILE_NAME = 'optuna_fallback.db';

/** Where the SQLite fallback comes from, so that the UI can say which file and why. */
export type FallbackSource =
  | { kind: 'setting'; path: string }
  | { kind: 'found'; path: string; folder: string }
  | { kind: 'expected'; path: string; folder: string }
  | { kind: 'none'; why: string };

/**
 * The SQLite fallback file: an explicit path wins; without one, `optuna_fallback.db` in the
 * first workspace folder that has it. When no folder has it yet, the first folder's path is
 * still watched, because the optimizers create that file at their first Redis outage.
 */
export function resolveFallbackFile(
  explicit: string | undefined,
  folders: readonly string[],
  base: string,
): FallbackSource {
  if (explicit) return { kind: 'setting', path: path.resolve(base, explicit) };
  if (folders.length === 0)
    return { kind: 'none', why: `no workspace folder to look for ${FALLBACK_FILE_NAME} in` };
  for (const folder of folders) {
    const p = path.join(folder, FALLBACK_FILE_NAME);
    if (fs.existsSync(p)) return { kind: 'found', path: p, folder };
  }
  return { kind: 'expected', path: path.join(folders[0], FALLBACK_FILE_NAME), folder: folders[0] };
}

/** Why this fallback file (or none) is used, in words for tooltips and reports. */
export function fallbackReason(f: FallbackSource): string {
  switch (f.kind) {
    case 'setting':
      return 'from the optunaStorage.sqlite.path setting';
    case 'found':
      return `${FALLBACK_FILE_NAME} found in the workspace folder; the optunaStorage.sqlite.path setting chooses another file`;
    case 'expected':
      return `not there yet: the optimizers create ${FALLBACK_FILE_NAME} at their first Redis outage; the optunaStorage.sqlite.path setting chooses another file`;
    case 'none':
      return f.why;
  }
}

/** "path (why)" in one line. */
export function describeFallback(f: FallbackSource): string {
  return f.kind === 'none' ? `none (${f.why})` : `${f.path} (${fallbackReason(f)})`;
}
