// Renders media/icon.svg to the 128x128 media/icon.png the marketplace and the extensions
// view show (package.json "icon" must be a PNG). Uses Debian's Chromium via playwright-core.
//   node scripts/render-icon.js
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const root = path.resolve(__dirname, '..');
  const browser = await chromium.launch({
    executablePath: process.env.OSM_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--headless'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
    await page.goto(`file://${path.join(root, 'media', 'icon.svg')}`);
    await page.screenshot({ path: path.join(root, 'media', 'icon.png'), omitBackground: true });
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
