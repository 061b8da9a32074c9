import * as fs from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

export interface OpenOptions {
  readonly?: boolean;
  /** Busy timeout in ms. */
  timeout?: number;
}

/**
 * Opens an SQLite file with better-sqlite3. The extension may run in a Node whose ABI differs
 * from the one node_modules was built for (VS Code's remote server ships Node 20, 22 or 24),
 * so bindings prebuilt per ABI in `native/abi-<N>/better_sqlite3.node` are preferred when
 * present; a mismatch becomes a readable error instead of a raw NODE_MODULE_VERSION crash.
 */
export function openSqlite(file: string, opts: OpenOptions = {}): BetterSqlite3.Database {
  if (opts.readonly && !fs.existsSync(file)) throw new Error(`SQLite file ${file} does not exist`);
  const Database = loadDriver();
  const nativeBinding = abiBinding();
  try {
    return new Database(file, {
      readonly: opts.readonly ?? false,
      fileMustExist: opts.readonly ?? false,
      timeout: opts.timeout ?? 2000,
      ...(nativeBinding ? { nativeBinding } : {}),
    });
  } catch (e) {
    throw explainLoadError(e as Error);
  }
}

let driver: typeof BetterSqlite3 | undefined;

function loadDriver(): typeof BetterSqlite3 {
  if (!driver) {
    try {
      driver = require('better-sqlite3') as typeof BetterSqlite3;
    } catch (e) {
      throw explainLoadError(e as Error);
    }
  }
  return driver;
}

/** The binding shipped for this runtime's ABI, if the package carries one. */
export function abiBinding(): string | undefined {
  const candidate = path.join(__dirname, '..', 'native', `abi-${process.versions.modules}`, 'better_sqlite3.node');
  return fs.existsSync(candidate) ? candidate : undefined;
}

function explainLoadError(e: Error): Error {
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version|invalid ELF|cannot open shared object/.test(e.message)) {
    return new Error(
      `The SQLite driver (better-sqlite3) was not built for this Node.js ${process.version} (ABI ${process.versions.modules}). ` +
        'Reinstall the extension, or run `npm rebuild better-sqlite3` for the CLI.',
    );
  }
  return e;
}
