import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The folder of an Optuna release's sources (`shared/third_party/optuna/<version>`, next to the
 * repository or next to one of its parent folders; `OSM_OPTUNA_SOURCES` overrides), or why
 * there is none. Tests that need one skip with that reason: users' clones do not have it.
 */
export function optunaSources(version: string): { dir?: string; reason: string } {
  const roots = process.env.OSM_OPTUNA_SOURCES ? [process.env.OSM_OPTUNA_SOURCES] : [];
  for (let dir = path.resolve(__dirname, '..', '..'); ; dir = path.dirname(dir)) {
    roots.push(path.join(dir, 'shared', 'third_party', 'optuna'));
    if (path.dirname(dir) === dir) break;
  }
  for (const r of roots) {
    const dir = path.join(r, version);
    if (fs.existsSync(path.join(dir, 'optuna', '__init__.py'))) return { dir, reason: '' };
  }
  return {
    reason: `Optuna ${version} sources not found (looked for shared/third_party/optuna/${version} beside the repository and its parents; set OSM_OPTUNA_SOURCES)`,
  };
}

/**
 * One mocha test per Optuna release users run: Debian's 3.1 (no PYTHONPATH), then the source
 * trees of newer releases, each skipped with the reason when its sources are missing. `fn`
 * gets the release and the environment its Python scripts need.
 */
export function forEachOptuna(
  title: (version: string) => string,
  fn: (optuna: { version: string; env: Record<string, string> }) => Promise<void>,
): void {
  const releases = [
    { version: '3.1.0', dir: '' as string | undefined, reason: '' },
    ...['3.6.1', '4.9.0', '5.0.0-rc1'].map((v) => ({ version: v, ...optunaSources(v) })),
  ];
  for (const { version, dir, reason } of releases) {
    it(title(version), async function () {
      if (dir === undefined) {
        console.log(`      skipped: ${reason}`);
        this.skip();
      }
      await fn({ version, env: dir ? { PYTHONPATH: dir } : {} });
    });
  }
}
