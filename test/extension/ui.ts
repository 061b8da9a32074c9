// UI smoke check in a real workbench (code-server + headless Chromium), no test payload:
// the repository is loaded as the development extension exactly as a person debugging it
// would see it. Proves the mechanics (palette command, reading rows and the status bar,
// screenshot); real UI checks of the extension's own views are added later.
//
//   npm run build && npm run test:ui      (node -r tsx/cjs test/extension/ui.ts)
//
// Writes media/screenshots/running-extensions.png (OSM_SCREENSHOT_DIR to change the folder).
// Environment knobs as in runOffline.ts (OSM_CODE_SERVER, OSM_TEST_WORKSPACE, OSM_CHROMIUM,
// OSM_VERBOSE, OSM_KEEP_TMP); --server-main NODE_BINARY as well.
import * as fs from 'fs';
import * as path from 'path';
import {
  exitAfterCleanup,
  forwardConsole,
  interruptedBySignal,
  launchBrowser,
  remoteUri,
  repoRoot,
  startServer,
  workbenchUrl,
} from './runOffline';
import {
  activeEditorTitle,
  activityBarTitles,
  clickActivityBar,
  listRowTexts,
  notificationTexts,
  runCommand,
  saveScreenshot,
  settle,
  statusBarTexts,
  waitForWorkbench,
} from './screenshot';

const log = (msg: string): void => console.log(`[ui] ${msg}`);

async function main(): Promise<number> {
  const t0 = Date.now();
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--server-main');
  const serverMainNode = i >= 0 ? path.resolve(argv[i + 1]) : undefined;
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js missing: run `npm run build` first');
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    displayName: string;
    publisher: string;
    name: string;
  };
  const outDir = path.resolve(process.env.OSM_SCREENSHOT_DIR || path.join(repoRoot, 'media', 'screenshots'));

  const server = await startServer({ serverMainNode });
  const browser = await launchBrowser(path.join(server.tmpDir, 'chromium-profile'));
  const { page } = browser;
  forwardConsole(page);

  const url = workbenchUrl(server, [['extensionDevelopmentPath', remoteUri(server, repoRoot)]]);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await waitForWorkbench(page);
  log(`workbench up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await settle(page, 2000); // let onStartupFinished extensions activate

  const failures: string[] = [];
  await runCommand(page, 'Developer: Show Running Extensions');
  const editor = page.locator('.runtime-extensions-editor').first();
  await editor.waitFor({ state: 'visible', timeout: 20_000 }).catch(() => failures.push('Running Extensions editor did not open'));
  await settle(page, 1000);
  log(`active editor: ${await activeEditorTitle(page)}`);

  const rows = await listRowTexts(page, '.runtime-extensions-editor');
  log(`running extensions (${rows.length}):`);
  for (const r of rows) console.log(`    ${r}`);
  // The dev extension is listed by its id in 1.100 (displayName for gallery ones).
  const id = `${manifest.publisher}.${manifest.name}`;
  if (!rows.some((r) => r.startsWith(`${id} `) || r.startsWith(`${manifest.displayName} `))) {
    failures.push(`${id} ("${manifest.displayName}") is not listed among the running extensions`);
  }

  // activity bar: switch to Search and back to Explorer
  log(`activity bar: ${(await activityBarTitles(page)).map((s) => JSON.stringify(s)).join(', ')}`);
  await clickActivityBar(page, 'Search');
  await page
    .locator('.part.sidebar .search-view')
    .first()
    .waitFor({ state: 'visible', timeout: 10_000 })
    .catch(() => failures.push('Search view did not open from the activity bar'));
  await clickActivityBar(page, 'Explorer');
  await page
    .locator('.part.sidebar .explorer-folders-view, .part.sidebar .explorer-viewlet')
    .first()
    .waitFor({ state: 'visible', timeout: 10_000 })
    .catch(() => failures.push('Explorer did not open from the activity bar'));

  const status = await statusBarTexts(page);
  log(`status bar: ${status.map((s) => JSON.stringify(s)).join(', ')}`);
  const toasts = await notificationTexts(page);
  if (toasts.length) log(`notifications: ${toasts.map((s) => JSON.stringify(s)).join(', ')}`);

  const shot = await saveScreenshot(page, path.join(outDir, 'running-extensions.png'));
  log(`screenshot: ${path.relative(repoRoot, shot)}`);

  await browser.close();
  await server.stop();
  for (const f of failures) log(`FAIL ${f}`);
  log(`${failures.length ? 'FAILED' : 'PASSED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return failures.length ? 1 : 0;
}

main()
  .then((code) => exitAfterCleanup(code))
  .catch((e) => {
    if (!interruptedBySignal()) console.error(`[ui] ERROR: ${e instanceof Error ? e.stack || e.message : String(e)}`);
    return exitAfterCleanup(1);
  });
