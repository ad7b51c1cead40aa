// Accessibility: axe-core (WCAG 2.0/2.1/2.2 A and AA, plus best practices)
// run inside Debian's Chromium, driven by puppeteer-core (no browser
// download: it launches /usr/bin/chromium). Every page given must show
// 0 violations; each violation is printed with the elements it names.
//
// usage: node axe.mjs URL...
import fs from 'node:fs';
import puppeteer from 'puppeteer-core';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const urls = process.argv.slice(2);
const extra = (process.env.MECHCAL_CHROMIUM_FLAGS || '').split(/\s+/).filter(Boolean);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync', ...extra],
});
let failed = 0;
try {
  for (const url of urls) {
    const page = await browser.newPage();
    // The pages forbid every script (Content-Security-Policy); axe is the
    // test's, not the page's.
    await page.setBypassCSP(true);
    await page.setViewport({ width: 1280, height: 900 });
    const response = await page.goto(url, { waitUntil: 'load' });
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    }));
    const where = `${url} (HTTP ${response.status()})`;
    if (result.violations.length === 0) {
      console.log(`axe: ${where}: 0 violations`);
    } else {
      failed += 1;
      console.log(`axe: ${where}: ${result.violations.length} violation(s)`);
      for (const v of result.violations) {
        console.log(`  ${v.id} (${v.impact}): ${v.help}`);
        for (const n of v.nodes.slice(0, 5)) {
          console.log(`    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`);
        }
      }
    }
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`axe: ${urls.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
