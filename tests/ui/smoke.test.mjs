// Smoke test: pmsd serves the web UI at / and it loads in Chromium without an error.
// It checks only what any version of the UI keeps: the title and a clean load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, launchBrowser, newPage, screenshot, assertNoPageErrors, TEST_TIMEOUT_MS } from './harness.mjs';

let world, browser;

before(async () => {
  world = await startWorld();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

test('the UI loads at / with its security headers and no errors', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await newPage(browser, world);
  const response = await page.goto('/', { waitUntil: 'load' });
  assert.ok(response, 'no response for /');
  assert.equal(response.status(), 200);
  const csp = response.headers()['content-security-policy'];
  assert.ok(csp, 'the Content-Security-Policy header is missing');
  assert.match(csp, /default-src 'self'/);
  assert.match(await page.title(), /pmsync/i);
  // Module scripts have run by 'load'; give what they started (fetches) a moment to fail.
  // (Not 'networkidle': it never comes while the run sheet's event stream is open.)
  await page.waitForTimeout(500);
  await screenshot(page, 'smoke-home');
  assertNoPageErrors(page);
  await page.context().close();
});
