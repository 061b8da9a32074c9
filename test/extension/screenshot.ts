// Helpers to drive the VS Code workbench in a browser page (playwright-core) the way a
// person would: command palette, activity bar, tree rows, status bar, screenshots.
// Used by test/extension/ui.ts and vsixSmoke.ts; the page comes from runOffline.ts's launchBrowser().
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Locator, Page } from 'playwright-core';

/** Waits until the workbench is rendered and the status bar has items. */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.part.statusbar').first().waitFor({ state: 'visible', timeout: timeoutMs });
  await page
    .locator('.part.activitybar, .activitybar')
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
  // (string form: this file is type-checked without the DOM lib)
  await page.waitForFunction("document.querySelectorAll('.statusbar-item').length > 0", undefined, {
    timeout: timeoutMs,
  });
}

/** Polls `probe` every 250 ms until it returns something other than undefined. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Gives the workbench a moment to render after an action (plain wait). */
export async function settle(page: Page, ms = 1000): Promise<void> {
  await page.waitForTimeout(ms);
}

/** Opens the command palette with F1 and returns its input box. */
export async function openCommandPalette(page: Page, timeoutMs = 10_000): Promise<Locator> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let attempt = 0; attempt < 3; attempt++) {
    // focus the workbench first: keys typed while nothing has focus are lost
    await page
      .locator('.monaco-workbench')
      .first()
      .focus()
      .catch(() => undefined);
    await page.keyboard.press('F1');
    try {
      await input.first().waitFor({ state: 'visible', timeout: timeoutMs / 3 });
      return input.first();
    } catch {
      /* retry */
    }
  }
  throw new Error('command palette did not open (F1)');
}

/**
 * Runs a command by its palette title: F1, type the title, wait for a matching row, Enter.
 * Throws if no palette entry with that label appears.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 15_000): Promise<void> {
  const input = await openCommandPalette(page, timeoutMs);
  await input.fill(`>${title}`);
  const row = page
    .locator('.quick-input-widget .monaco-list-row')
    .filter({ hasText: title })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  // the first row is the focused one; make sure the wanted entry is it
  const firstLabel = (
    await page.locator('.quick-input-widget .monaco-list-row').first().innerText()
  ).trim();
  if (!firstLabel.includes(title)) await row.click();
  else await page.keyboard.press('Enter');
  await page
    .locator('.quick-input-widget')
    .first()
    .waitFor({ state: 'hidden', timeout: timeoutMs })
    .catch(() => undefined);
}

/** The rows the command palette offers for `text` (it is closed again afterwards). */
export async function paletteRows(page: Page, text: string, timeoutMs = 15_000): Promise<string[]> {
  const input = await openCommandPalette(page, timeoutMs);
  await input.fill(`>${text}`);
  await settle(page, 1000);
  const rows = await listRowTexts(page, '.quick-input-widget');
  await page.keyboard.press('Escape');
  return rows;
}

/** The rendered rows of one view pane (by its title), with their 1-based list positions. */
export async function paneRows(
  page: Page,
  title: string,
): Promise<Array<{ text: string; pos: number }>> {
  const pane = page
    .locator('.part.sidebar .pane')
    .filter({ has: page.locator('.pane-header', { hasText: title }) })
    .first();
  return pane.locator('.monaco-list-row').evaluateAll((els) =>
    els.map((e) => ({
      text: ((e as unknown as { innerText?: string }).innerText || '').replace(/\s+/g, ' ').trim(),
      pos: Number(e.getAttribute('aria-posinset')),
    })),
  );
}

/** Clicks an activity-bar container (Explorer, Search, an extension's view container…) by its title. */
export async function clickActivityBar(
  page: Page,
  title: string,
  timeoutMs = 10_000,
): Promise<void> {
  const item = page
    .locator(
      `.part.activitybar .action-item [aria-label^="${cssString(title)}"], ` +
        `.part.activitybar .action-label[aria-label^="${cssString(title)}"]`,
    )
    .first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  await item.click();
}

/** Titles of the activity-bar entries (aria-labels). */
export async function activityBarTitles(page: Page): Promise<string[]> {
  return page
    .locator('.part.activitybar .action-item .action-label')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || '').filter(Boolean));
}

/** Texts of `.monaco-list-row` elements (tree/list rows), optionally inside `scope` (a CSS selector). */
export async function listRowTexts(page: Page, scope?: string): Promise<string[]> {
  const rows = page.locator(scope ? `${scope} .monaco-list-row` : '.monaco-list-row');
  return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** Status-bar items: visible text, falling back to the aria-label for icon-only items. */
export async function statusBarTexts(page: Page): Promise<string[]> {
  return page.locator('.statusbar-item').evaluateAll((els) =>
    els
      .map((e) => {
        const text = ((e as unknown as { innerText?: string }).innerText || '')
          .replace(/\s+/g, ' ')
          .trim();
        return (
          text ||
          e.getAttribute('aria-label') ||
          e.querySelector('[aria-label]')?.getAttribute('aria-label') ||
          ''
        );
      })
      .filter(Boolean),
  );
}

/** Texts of visible notification toasts. */
export async function notificationTexts(page: Page): Promise<string[]> {
  return (
    await page.locator('.notification-toast .notification-list-item-message').allInnerTexts()
  ).map((t) => t.trim());
}

/** Title of the active editor tab, if any. */
export async function activeEditorTitle(page: Page): Promise<string | undefined> {
  const tab = page
    .locator('.tabs-container .tab.active .label-name, .title-label .label-name')
    .first();
  return (await tab.count()) ? (await tab.innerText()).trim() : undefined;
}

/** Saves a PNG of the page (directories are created) and returns its absolute path. */
export async function saveScreenshot(page: Page, file: string): Promise<string> {
  const abs = path.resolve(file);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  await page.screenshot({ path: abs, fullPage: false });
  return abs;
}

function cssString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * The document inside a webview whose title is `title`: VS Code puts each webview in
 * `iframe.webview`, and its content in the nested `#active-frame`.
 */
export async function webviewFrame(page: Page, title: string): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f === page.mainFrame()) continue;
    const t = await f.evaluate('document.title').catch(() => undefined);
    if (t === title) return f;
  }
  return undefined;
}
