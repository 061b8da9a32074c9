// Runs the same extension-host suite (test/extension/suite) under @vscode/test-electron,
// i.e. in a desktop VS Code that test-electron downloads from Microsoft's update server.
// This is the ordinary contributor path on machines WITH internet; on machines without
// it use `npm run test:extension` (code-server, test/extension/runOffline.ts).
//
//   npm run build && node test/extension/build.js && node -r tsx/cjs test/extension/runElectron.ts
//
// Environment:
//   OSM_VSCODE_VERSION     VS Code version to download (default: the engines.vscode
//                          minimum from package.json, e.g. 1.100.0; 'stable' for latest)
//   OSM_VSCODE_EXECUTABLE  use this VS Code executable instead of downloading one
//   OSM_TEST_WORKSPACE     folder to open (default: a fresh empty temp folder)
//   OSM_TEST_GREP          mocha grep
// Headless Linux needs a display: run under xvfb-run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const repoRoot = path.resolve(__dirname, '..', '..');
const testsIndex = path.join(repoRoot, '.test-work', 'extension-tests', 'suite', 'index.js');

function defaultVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    engines?: { vscode?: string };
  };
  const m = /(\d+\.\d+\.\d+)/.exec(manifest.engines?.vscode ?? '');
  return m ? m[1] : 'stable';
}

async function main(): Promise<number> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js missing: run `npm run build` first');
  }
  if (!fs.existsSync(testsIndex)) {
    throw new Error(
      `${path.relative(repoRoot, testsIndex)} missing: run \`node test/extension/build.js\` first`,
    );
  }

  let vscodeExecutablePath = process.env.OSM_VSCODE_EXECUTABLE;
  if (!vscodeExecutablePath) {
    const version = process.env.OSM_VSCODE_VERSION || defaultVersion();
    try {
      // Download separately (with a short idle timeout) so that an offline machine
      // fails here at once with a clear message instead of inside runTests.
      vscodeExecutablePath = await downloadAndUnzipVSCode({ version, timeout: 15_000 });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      console.error(
        `[runElectron] cannot download VS Code ${version}: ${msg}\n` +
          '[runElectron] @vscode/test-electron needs access to update.code.visualstudio.com.\n' +
          '[runElectron] Offline, use the code-server runner instead:\n' +
          '[runElectron]   npm run vscode:install && npm run build && npm run test:extension\n' +
          '[runElectron] or set OSM_VSCODE_EXECUTABLE to an installed VS Code.',
      );
      return 2;
    }
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osm-electron-test-'));
  const workspace = process.env.OSM_TEST_WORKSPACE || path.join(tmp, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const resultsFile = path.join(tmp, 'results.json');
  try {
    const code = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: testsIndex,
      extensionTestsEnv: {
        OSM_TEST_RESULTS: resultsFile,
        OSM_TEST_GREP: process.env.OSM_TEST_GREP ?? '',
        OSM_EXTENSION_TESTS: '1',
      },
      launchArgs: [
        workspace,
        '--disable-extensions', // other installed extensions; the dev extension still loads
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(tmp, 'user-data')}`,
        `--extensions-dir=${path.join(tmp, 'extensions')}`,
      ],
    });
    if (fs.existsSync(resultsFile)) {
      const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as {
        stats: { passes: number; failures: number };
      };
      console.log(`[runElectron] ${r.stats.passes} passing, ${r.stats.failures} failing`);
    }
    return code;
  } catch (e) {
    console.error(`[runElectron] tests failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[runElectron] ERROR: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
