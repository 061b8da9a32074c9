// UI check in a real workbench (code-server + headless Chromium), as a person would use it:
// a workspace whose settings point at a real redis-server holding an Optuna journal written
// by real Optuna, plus an SQLite fallback. Opens the Optuna Storage container, reads the
// Studies tree and the status bar, runs a command from the palette, kills Redis and reads
// the status bar again, and saves the screenshots the README shows.
//
//   npm run build && npm run test:ui      (node -r tsx/cjs test/extension/ui.ts)
//
// Writes .test-work/screenshots/{studies,health,fallback}.png; to refresh the README's
// pictures: OSM_SCREENSHOT_DIR=media/screenshots npm run test:ui
import * as fs from 'fs';
import * as path from 'path';
import { runPython } from '../helpers/python';
import { RedisServer } from '../helpers/redisServer';
import {
  exitAfterCleanup,
  forwardConsole,
  interruptedBySignal,
  launchBrowser,
  registerCleanup,
  remoteUri,
  repoRoot,
  startServer,
  workbenchUrl,
} from './runOffline';
import {
  activeEditorTitle,
  clickActivityBar,
  listRowTexts,
  paletteRows,
  paneRows,
  runCommand,
  saveScreenshot,
  settle,
  statusBarTexts,
  waitFor,
  waitForWorkbench,
} from './screenshot';

const log = (msg: string): void => console.log(`[ui] ${msg}`);

async function main(): Promise<number> {
  const t0 = Date.now();
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--server-main');
  const serverMainNode = i >= 0 ? path.resolve(argv[i + 1]) : undefined;
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js')))
    throw new Error('dist/extension.js missing: run `npm run build` first');
  const outDir = path.resolve(
    process.env.OSM_SCREENSHOT_DIR || path.join(repoRoot, '.test-work', 'screenshots'),
  );

  const redis = await RedisServer.start({ args: ['--appendonly', 'yes'] });
  registerCleanup({
    name: 'redis-server',
    fn: () => redis.dispose(),
    syncKill: () => redis.signal('SIGKILL'),
  });
  const server = await startServer({ serverMainNode });
  await runPython('generate.py', ['--redis', redis.url, '--prefix', 'autodl']);
  await runPython('small_db.py', [path.join(server.workspace, 'optuna_fallback.db')]);
  fs.mkdirSync(path.join(server.workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(server.workspace, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'optunaStorage.redis.url': redis.url,
        'optunaStorage.redis.prefixes': ['autodl'],
        // No sqlite.path: optuna_fallback.db in the workspace folder is found as the guide's file.
        'optunaStorage.refreshInterval': 1,
      },
      null,
      2,
    ),
  );

  const browser = await launchBrowser(path.join(server.tmpDir, 'chromium-profile'));
  const { page } = browser;
  forwardConsole(page);
  await page.setViewportSize({ width: 1400, height: 860 });
  await page.goto(
    workbenchUrl(server, [['extensionDevelopmentPath', remoteUri(server, repoRoot)]]),
    { waitUntil: 'domcontentloaded', timeout: 60_000 },
  );
  await waitForWorkbench(page);
  log(`workbench up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const failures: string[] = [];
  let passed = 0;
  const check = (ok: boolean, what: string) =>
    ok ? (passed++, log(`ok   ${what}`)) : (failures.push(what), log(`FAIL ${what}`));

  await clickActivityBar(page, 'Optuna Storage');
  await widenSideBar(page, 460); // room for the rows' descriptions in the screenshots
  const rows = await waitFor('studies in the tree', async () => {
    const r = await listRowTexts(page, '.part.sidebar');
    return r.some((x) => x.startsWith('single-minimize')) ? r : undefined;
  });
  log(`Studies view rows:\n    ${rows.join('\n    ')}`);
  check(
    rows.some((r) => r.startsWith(`127.0.0.1:${redis.port}`)),
    'the server row is shown',
  );
  check(
    rows.some((r) => r.startsWith('prefix "autodl"')),
    'the journal prefix row is shown',
  );
  check(
    rows.some((r) => /^many-trials.*200 trials/.test(r)),
    'a study row shows its trial count',
  );
  // Expand a study: its best trial and trials appear.
  await page
    .locator('.part.sidebar .monaco-list-row', { hasText: 'single-minimize' })
    .first()
    .click();
  const expanded = await waitFor('trials of a study', async () => {
    const r = await listRowTexts(page, '.part.sidebar');
    return r.some((x) => x.startsWith('Best: #')) ? r : undefined;
  });
  check(
    expanded.some((r) => /^#0(?!\d)/.test(r)),
    'expanding a study lists its trials',
  );
  const status = await waitFor('the status bar', async () =>
    (await statusBarTexts(page)).find((s) => /Redis \d/.test(s)),
  );
  log(`status bar: ${status}`);
  check(/Redis \d+\.\d ms/.test(status), 'the status bar shows Redis with its latency');
  await settle(page, 500);
  log(
    `screenshot: ${path.relative(repoRoot, await saveScreenshot(page, path.join(outDir, 'studies.png')))}`,
  );

  // Selecting a study fills the Trials view; a new sort starts at the top.
  await page
    .locator('.part.sidebar .monaco-list-row', { hasText: 'single-minimize' })
    .first()
    .click(); // collapses it again, so that the other studies are in view
  await page.locator('.part.sidebar .monaco-list-row', { hasText: 'many-trials' }).first().click();
  const trialRows = await waitFor('the Trials view to list the selected study', async () => {
    const header = await page
      .locator('.part.sidebar .pane-header', { hasText: 'Trials' })
      .first()
      .innerText();
    const r = await paneRows(page, 'Trials');
    return header.includes('many-trials') && r.some((x) => /^#\d+/.test(x.text)) ? r : undefined;
  });
  check(
    /^#0\D/.test(trialRows[0].text),
    `selecting a study fills the Trials view (${trialRows[0].text})`,
  );
  const trialsList = page
    .locator('.part.sidebar .pane')
    .filter({ has: page.locator('.pane-header', { hasText: 'Trials' }) })
    .locator('.monaco-list')
    .first();
  await trialsList.hover();
  await page.mouse.wheel(0, 3000);
  await settle(page, 500);
  const scrolled = Math.min(...(await paneRows(page, 'Trials')).map((r) => r.pos));
  await runCommand(page, 'Optuna Storage: Sort Trials by Best Value');
  await settle(page, 1000);
  const sorted = await paneRows(page, 'Trials');
  check(
    scrolled > 1 && Math.min(...sorted.map((r) => r.pos)) === 1 && /COMPLETE/.test(sorted[0].text),
    `sorting scrolls the Trials view to its top (first row ${scrolled} before, ${sorted[0]?.text} after)`,
  );
  await runCommand(page, 'Optuna Storage: Sort Trials by Number');
  // Commands that need a run are not offered while there is none.
  const runCommands = await paletteRows(page, 'Optuna Storage: Run');
  const stopOffered = (await paletteRows(page, 'Optuna Storage: Stop Run')).some((r) =>
    /Stop Run/.test(r),
  );
  check(
    !stopOffered && !runCommands.some((r) => /Relaunch|Re-attach/.test(r)),
    `without runs the palette hides Stop, Relaunch and Re-attach (${runCommands.join(' | ')})`,
  );
  check(
    (await paletteRows(page, 'Optuna Storage: Launch Optimizer')).some((r) =>
      /Launch Optimizer Run/.test(r),
    ),
    'Launch Optimizer Run is offered',
  );

  await runCommand(page, 'Optuna Storage: Show Storage Health');
  // The first preview waits for VS Code's Markdown extension to activate.
  const title = await waitFor('the rendered health report', async () => {
    const t = await activeEditorTitle(page);
    return t && /Storage Health/i.test(t) ? t : undefined;
  }).catch(() => undefined);
  await settle(page, 1000);
  check(
    title !== undefined && /Storage Health/i.test(title),
    `the palette command opened the health report (${title})`,
  );
  log(
    `screenshot: ${path.relative(repoRoot, await saveScreenshot(page, path.join(outDir, 'health.png')))}`,
  );

  // The fallback picture: no editor, the Studies tree collapsed, then Redis killed.
  await runCommand(page, 'View: Close All Editors');
  const studiesHeader = page.locator('.part.sidebar .pane-header', { hasText: 'Studies' }).first();
  await studiesHeader.hover();
  await studiesHeader.locator('.action-label[aria-label^="Collapse All"]').first().click();
  await redis.kill();
  const fallback = await waitFor(
    'the fallback status',
    async () => (await statusBarTexts(page)).find((s) => /SQLite fallback/.test(s)),
    10_000,
  ).catch(() => undefined);
  check(fallback !== undefined, 'after Redis is killed the status bar says SQLite fallback');
  const afterRows = await waitFor('the cause in the tree', async () => {
    const r = await listRowTexts(page, '.part.sidebar');
    return r.some((x) => /connection refused\): showing the SQLite fallback/.test(x))
      ? r
      : undefined;
  }).catch(() => [] as string[]);
  check(
    afterRows.some((r) => r.startsWith('optuna_fallback.db')),
    'the tree says why Redis is not used (connection refused) and shows the fallback found in the workspace',
  );
  const fileRow = page.locator('.part.sidebar .monaco-list-row', { hasText: 'optuna_fallback.db' });
  if ((await fileRow.getAttribute('aria-expanded')) !== 'true') await fileRow.first().click();
  await settle(page, 1000);
  log(
    `screenshot: ${path.relative(repoRoot, await saveScreenshot(page, path.join(outDir, 'fallback.png')))}`,
  );

  await browser.close();
  await server.stop();
  log(`${failures.length ? 'FAILED' : 'PASSED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`  ${passed} passing\n  ${failures.length} failing`); // counted by scripts/test.sh
  return failures.length ? 1 : 0;
}

main()
  .then((code) => exitAfterCleanup(code))
  .catch((e) => {
    if (!interruptedBySignal())
      console.error(`[ui] ERROR: ${e instanceof Error ? e.stack || e.message : String(e)}`);
    return exitAfterCleanup(1);
  });

/** Drags the side bar's edge so that it is `width` pixels wide. */
async function widenSideBar(page: import('playwright-core').Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').first().boundingBox();
  if (!box) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width - 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 5 });
  await page.mouse.up();
  await settle(page, 300);
}
