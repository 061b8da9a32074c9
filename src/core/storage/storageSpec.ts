import * as fs from 'node:fs';
import * as path from 'node:path';
import { REDIS_URL_FORM, redactUrl } from '../redis/url';

export type StorageSpec =
  | { kind: 'redis'; url: string; prefix: string }
  | { kind: 'sqlite'; path: string }
  | { kind: 'journal-file'; path: string };

const SQLITE_EXT = /\.(db|sqlite|sqlite3)$/i;

/**
 * A storage argument as Optuna users write it (cli-contract.md): a Redis URL (with a journal
 * prefix given separately), an SQLAlchemy-style `sqlite:///` URL or a path ending in .db,
 * .sqlite or .sqlite3, or any other existing file as a journal file.
 */
export function parseStorageSpec(arg: string, prefix = ''): StorageSpec {
  if (/^rediss?:\/\//i.test(arg)) return { kind: 'redis', url: arg, prefix };
  if (arg.startsWith('sqlite:///')) {
    // SQLAlchemy: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
    const p = arg.slice('sqlite:///'.length);
    if (p === '') throw new Error('sqlite:/// URL has no file path');
    return { kind: 'sqlite', path: path.resolve(p) };
  }
  // A mistyped Redis URL (redis:/…, redis:…) is not a file name: say so without echoing it.
  if (/^rediss?:/i.test(arg)) throw new Error(`not a Redis URL (expected ${REDIS_URL_FORM})`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(arg)?.[1];
  if (scheme)
    throw new Error(
      `unsupported storage URL scheme "${scheme}:" (use redis://, rediss://, sqlite:/// or a file path)`,
    );
  if (SQLITE_EXT.test(arg)) return { kind: 'sqlite', path: path.resolve(arg) };
  let st: fs.Stats;
  try {
    st = fs.statSync(arg);
  } catch {
    throw new Error(
      `no such file: ${redactUrl(arg)} (a journal file must exist; SQLite paths end in .db, .sqlite or .sqlite3)`,
    );
  }
  if (!st.isFile()) throw new Error(`${arg} is not a file`);
  return { kind: 'journal-file', path: path.resolve(arg) };
}
