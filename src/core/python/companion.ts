import * as path from 'node:path';

/**
 * The Python companion (`python/enhanced_redis_storage`, shipped in the VSIX): the optimizer-side
 * storage that keeps writing through a Redis outage. Runs started from the extension get its
 * folder first on PYTHONPATH, so `import enhanced_redis_storage` works without installing it.
 */
export const COMPANION_PACKAGE = 'enhanced_redis_storage';

/** The folder to put on PYTHONPATH, inside the extension (or the repository in development). */
export function companionDir(extensionRoot: string): string {
  return path.join(extensionRoot, 'python');
}
