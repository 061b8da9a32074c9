// The study page in a real workbench (code-server + headless Chromium), as a person uses it:
// a Redis journal written by real Optuna, the page opened from the command palette, its plots
// and table read from inside the webview's iframes, a reload of the window (the page must come
// back by itself: WebviewPanelSerializer), and the README's screenshots in dark and light.
//
//   npm run build && npm run test:page-ui      (node -r tsx/cjs test/extension/pageUi.ts)
//
// Writes .test-work/screenshots/study-page-{dark,light}.png; to refresh the README's pictures:
// OSM_SCREENSHOT_DIR=media/screenshots npm run test:page-ui
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Page } from 'playwright-core';
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
  notificationTexts,
  runCommand,
  saveScreenshot,
  settle,
  statusBarTexts,
  waitFor,
  waitForWorkbench,
  webviewFrame,
} from './screenshot';

const log = (msg: string): void => console.log(`[page-ui] ${msg}`);
const STUDY = 'page-demo';

/** Waits until the page's plots are drawn and its table filled; returns the status line. */
export async function pageReady(
  page: Page,
  title: string,
  timeoutMs = 60_000,
): Promise<{ frame: Frame; status: string; canvases: number }> {
  return waitFor(
    `the study page "${title}" drawn`,
    async () => {
      const frame = await webviewFrame(page, title);
      if (!frame) return undefined;
      const r = (await frame
        .evaluate(
          "({ status: document.querySelector('.status')?.textContent ?? '', canvases: document.querySelectorAll('.chart canvas').length, rows: document.querySelectorAll('.tr:not([hidden])').length })",
        )
        .catch(() => undefined)) as { status: string; canvases: number; rows: number } | undefined;
      if (!r || r.canvases < 5 || r.rows === 0 || !/ of [\d,]+ trials/.test(r.status))
        return undefined;
      return { frame, status: r.status, canvases: r.canvases };
    },
    timeoutMs,
  );
}

/** What the element with the keyboard focus is, in the webview's document. */
function focused(frame: Frame): Promise<string> {
  return frame.evaluate(
    "(() => { const e = document.activeElement; return e ? `${e.tagName.toLowerCase()} ${e.getAttribute('aria-label') ?? e.textContent ?? ''}`.trim() : '' })()",
  ) as Promise<string>;
}

/** Presses Tab (Shift+Tab with `back`) until `want` has the focus; at most `max` presses. */
async function tabTo(
  frame: Frame,
  page: Page,
  want: RegExp,
  back = false,
  max = 12,
): Promise<string> {
  for (let k = 0; k < max; k++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(frame);
    if (want.test(f)) return f;
  }
  throw new Error(`Tab never reached ${want} (focus on "${await focused(frame)}")`);
}

/**
 * The parallel coordinates' brush and the timeline's zoom with the keyboard alone: Tab to the
 * brush form, pick an axis, type a range, Enter; the table lists exactly the trials Optuna has
 * inside it. Then Tab to the timeline: + zooms, 0 resets, the Zoom in button acts on Space.
 */
async function keyboardOnly(
  frame: Frame,
  page: Page,
  redisUrl: string,
  check: (ok: boolean, what: string) => void,
): Promise<void> {
  const status = () => frame.locator('.status').innerText();
  const total = /^([\d,]+) of ([\d,]+) trials/.exec(await status())![2];
  // Start from the slice plot's param picker, the control just before the parallel coordinates.
  await frame.focus('#card-slice select');
  await tabTo(frame, page, /^select Axis to brush$/);
  for (let k = 0; k < 10; k++) {
    const axis = (await frame.evaluate(
      "document.querySelector('.brushform select').selectedOptions[0]?.textContent ?? ''",
    )) as string;
    if (axis === 'dropout') break;
    await page.keyboard.press('ArrowDown');
  }
  await tabTo(frame, page, /^input From$/);
  await page.keyboard.type('0.1');
  await tabTo(frame, page, /^input To$/);
  await page.keyboard.type('0.3');
  await page.keyboard.press('Enter');
  const brushed = await waitFor(
    'the keyboard brush in the table',
    async () => {
      const t = await status();
      return t.includes('brushed on the parallel coordinates: dropout 0.1–0.3') ? t : undefined;
    },
    20_000,
  ).catch(() => status());
  const shown = /^([\d,]+) of /.exec(brushed)?.[1];
  const inside = (
    await runPython('page_study.py', [
      '--redis',
      redisUrl,
      '--prefix',
      'page',
      '--count-in',
      STUDY,
      'dropout',
      '0.1',
      '0.3',
    ])
  ).trim();
  // The typed range is drawn on the axis as a dragged one would be (see the picture).
  await frame.evaluate("document.querySelector('#card-parallel').scrollIntoView()");
  // (never among the README's pictures: those ship in the VSIX)
  await saveScreenshot(
    page,
    path.join(repoRoot, '.test-work', 'screenshots', 'study-page-keyboard-brush.png'),
  );
  check(
    shown === inside && Number(inside) > 0 && inside !== total,
    `a range typed on the dropout axis (Tab, type, Enter) lists the ${inside} trials Optuna has inside it (${brushed})`,
  );
  await tabTo(frame, page, /^button Clear axis$/);
  await page.keyboard.press('Enter');
  const cleared = await waitFor(
    'the brush cleared',
    async () => ((await status()).startsWith(`${total} of ${total} trials`) ? true : undefined),
    20_000,
  ).catch(() => false);
  check(cleared, 'Clear axis (Enter) lists every trial again');

  // The timeline: Tab reaches the plot itself; + zooms in, 0 resets.
  const zoomText = () => frame.locator('#card-timeline .zoomtext').innerText();
  const before = await zoomText();
  await tabTo(frame, page, /^div Timeline: /);
  await page.keyboard.press('+');
  const zoomed = await waitFor(
    'the timeline zoomed',
    async () => ((await zoomText()).startsWith('Showing 50 % ') ? zoomText() : undefined),
    10_000,
  ).catch(() => zoomText());
  check(
    before === 'Showing the whole time span' && zoomed.startsWith('Showing 50 % '),
    `+ on the focused timeline zooms in ("${before}" → "${zoomed}")`,
  );
  await page.keyboard.press('0');
  const reset = await waitFor(
    'the timeline reset',
    async () => ((await zoomText()) === before ? true : undefined),
    10_000,
  ).catch(() => false);
  check(reset, '0 on the focused timeline resets the zoom');
  await tabTo(frame, page, /^button Zoom in \(\+\)$/, true);
  await page.keyboard.press('Space');
  const button = await waitFor(
    'the Zoom in button',
    async () => ((await zoomText()).startsWith('Showing 50 % ') ? true : undefined),
    10_000,
  ).catch(() => false);
  check(button, 'the Zoom in button, reached by Shift+Tab, zooms on Space');
}

async function main(): Promise<number> {
  const t0 = Date.now();
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'webview', 'studyPage.js')))
    throw new Error('dist/webview/studyPage.js missing: run `npm run build` first');
  const outDir = path.resolve(
    process.env.OSM_SCREENSHOT_DIR || path.join(repoRoot, '.test-work', 'screenshots'),
  );
  const redis = await RedisServer.start();
  registerCleanup({
    name: 'redis-server',
    fn: () => redis.dispose(),
    syncKill: () => redis.signal('SIGKILL'),
  });
  await runPython('page_study.py', [
    '--redis',
    redis.url,
    '--prefix',
    'page',
    '--zombie',
    '--two-objectives',
    'page-two-objectives',
  ]);
  const server = await startServer();
  const settingsFile = path.join(server.workspace, '.vscode', 'settings.json');
  const settings = (extra: Record<string, unknown> = {}) => {
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(
      settingsFile,
      JSON.stringify(
        {
          'optunaStorage.redis.url': redis.url,
          'optunaStorage.redis.prefixes': ['page'],
          'optunaStorage.refreshInterval': 1,
          ...extra,
        },
        null,
        2,
      ),
    );
  };
  settings({ 'workbench.colorTheme': 'Default Dark Modern' });

  const browser = await launchBrowser(path.join(server.tmpDir, 'chromium-profile'));
  const { page } = browser;
  forwardConsole(page);
  await page.setViewportSize({ width: 1500, height: 1000 });
  const url = workbenchUrl(server, [['extensionDevelopmentPath', remoteUri(server, repoRoot)]]);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await waitForWorkbench(page);

  const failures: string[] = [];
  let passed = 0;
  const check = (ok: boolean, what: string) =>
    ok ? (passed++, log(`ok   ${what}`)) : (failures.push(what), log(`FAIL ${what}`));

  // Wait until the extension is up and reads Redis, then open the page from the palette.
  await waitFor(
    'the extension on Redis',
    async () => ((await statusBarTexts(page)).some((t) => /^Redis \d/.test(t)) ? true : undefined),
    60_000,
  );
  await settle(page, 1000);
  await runCommand(page, 'Optuna Storage: Open Study Page').catch(async () => {
    await settle(page, 2000);
    await runCommand(page, 'Optuna Storage: Open Study Page');
  });
  const pick = page.locator('.quick-input-widget .monaco-list-row', { hasText: STUDY }).first();
  await pick.waitFor({ state: 'visible', timeout: 30_000 }).catch(async (e) => {
    await saveScreenshot(page, path.join(outDir, 'study-page-failure.png'));
    log(`notifications: ${(await notificationTexts(page)).join(' | ')}`);
    throw e;
  });
  await pick.click();
  const first = await pageReady(page, STUDY);
  log(`status: ${first.status}; ${first.canvases} canvases`);
  check(
    /^241 of 241 trials/.test(first.status) || /^2\d\d of 2\d\d trials/.test(first.status),
    'the table lists every trial of the study',
  );
  const cspErrors = (await first.frame.evaluate(
    "document.querySelectorAll('.banner.error').length",
  )) as number;
  check(cspErrors === 0, 'no error banner');
  const stale = await waitFor(
    'the zombie flagged stale',
    async () => {
      const t = (await first.frame.evaluate(
        "document.querySelector('.chip.stale')?.textContent ?? ''",
      )) as string;
      return t ? t : undefined;
    },
    20_000,
  ).catch(() => undefined);
  check(stale === '1 stale RUNNING', `the zombie trial is flagged stale (${stale})`);
  await settle(page, 2500);
  log(
    `screenshot: ${path.relative(repoRoot, await saveScreenshot(page, path.join(outDir, 'study-page-dark.png')))}`,
  );

  // Light theme: VS Code re-themes the webview (body class and variables); the page re-draws.
  settings({ 'workbench.colorTheme': 'Default Light Modern' });
  await waitFor(
    'the light theme in the webview',
    async () =>
      (await first.frame
        .evaluate("document.body.classList.contains('vscode-light')")
        .catch(() => false))
        ? true
        : undefined,
    20_000,
  );
  // The lower half this time: parallel coordinates, timeline and the trial table.
  await first.frame.evaluate("document.querySelector('#card-parallel').scrollIntoView()");
  await settle(page, 2500);
  log(
    `screenshot: ${path.relative(repoRoot, await saveScreenshot(page, path.join(outDir, 'study-page-light.png')))}`,
  );
  check(true, 'the page re-themed to light');

  await keyboardOnly(first.frame, page, redis.url, check);

  // A window reload: the panel must come back by itself, with its study.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await waitForWorkbench(page);
  const again = await pageReady(page, STUDY, 90_000).catch(() => undefined);
  check(!!again, 'after a window reload the study page is restored (serializer) and drawn again');

  // Mark as FAIL on the zombie, through the real modal dialog; then Optuna reads FAIL.
  if (again) {
    const f = again.frame;
    await f.locator('.filter').fill('stale');
    await f.locator('.filter').press('Enter');
    await waitFor('the stale row', async () =>
      (await f.locator('.status').innerText()).startsWith('1 of ') ? true : undefined,
    );
    const row = f.locator('.tr:not([hidden])').first();
    const number = (await row.locator('.td').first().innerText()).trim();
    await row.click();
    await f.locator('button.danger').click();
    const confirm = page
      .locator('.monaco-dialog-box')
      .getByRole('button', { name: 'Mark as FAIL', exact: true });
    await confirm.waitFor({ state: 'visible', timeout: 15_000 });
    const text = (await page.locator('.monaco-dialog-box').innerText()).replace(/\s+/g, ' ');
    check(
      text.includes(`Mark trial #${number} of "${STUDY}" as FAIL?`),
      `the modal confirmation names the trial (#${number})`,
    );
    await confirm.click();
    const state = await waitFor(
      'Optuna to read FAIL',
      async () => {
        const out = await runPython('page_study.py', [
          '--redis',
          redis.url,
          '--prefix',
          'page',
          '--state',
          STUDY,
          number,
        ]);
        return out.startsWith('FAIL') ? out.trim() : undefined;
      },
      30_000,
    ).catch(() => undefined);
    check(!!state, `after Mark as FAIL, real Optuna reads trial #${number} as FAIL (${state})`);
  }

  await browser.close();
  await server.stop();
  log(`${failures.length ? 'FAILED' : 'PASSED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`  ${passed} passing\n  ${failures.length} failing`);
  return failures.length ? 1 : 0;
}

if (require.main === module)
  main()
    .then((code) => exitAfterCleanup(code))
    .catch((e) => {
      if (!interruptedBySignal())
        console.error(`[page-ui] ERROR: ${e instanceof Error ? e.stack || e.message : String(e)}`);
      return exitAfterCleanup(1);
    });
