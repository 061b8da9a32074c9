import * as fs from 'node:fs';
import * as path from 'node:path';

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * `relative` resolved against `folder` when it stays inside it — also after following the
 * symlinks of the part that exists — else undefined. For paths a workspace setting names
 * (where reports are written): '../..', an absolute path elsewhere, or a symlink planted in
 * the workspace must not lead a write out of it.
 */
export function pathInsideFolder(folder: string, relative: string): string | undefined {
  const wanted = path.resolve(folder, relative);
  if (!within(folder, wanted)) return undefined;
  let existing = wanted;
  // lstat, not exists: a dangling symlink is there (and realpath refuses it below).
  const there = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  while (!there(existing)) existing = path.dirname(existing);
  try {
    return within(fs.realpathSync(folder), fs.realpathSync(existing)) ? wanted : undefined;
  } catch {
    return undefined;
  }
}
