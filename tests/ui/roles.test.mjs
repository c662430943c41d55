// Signing in and roles: a keyboard-only sign-in (username and password, then an API key), a staff
// user who sees no admin screens, a session that ends (back to sign-in with a message), signing
// out, and too many failed attempts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld, launchBrowser, newPage, newTabletPage, screenshot, assertNoPageErrors, TEST_TIMEOUT_MS,
} from './harness.mjs';
import { addUser, assertLabelled, assertTouchTargets, focused, signInWithKey, signInWithPassword, tabTo, waitForCards } from './flows.mjs';

let world;
let browser;
let staff;

before(async () => {
  world = await startWorld({ pms: ['gentu'] });
  browser = await launchBrowser();
  staff = await addUser(world, { username: 'nurse.jo', role: 'staff', password: 'run-sheet-2026!' });
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

const EXPECTED = { ignore: [/\/api\/session/, /run-sheet\/events: net::ERR_ABORTED/, /HTTP 401/] };

test('(f) signing in by keyboard alone, with a username and password and with an API key', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await newPage(browser, world);
  await page.goto('/');
  await page.locator('#signin-title').waitFor();
  // Wrong password first: said plainly, focus stays on the form.
  await page.locator('body').focus();
  await tabTo(page, (f) => f.label === 'Username' && f.type !== 'radio');
  await page.keyboard.type(staff.username);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).label, 'Password');
  await page.keyboard.type('not my password');
  await page.keyboard.press('Enter');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /username or password is not right/);
  assert.match((await focused(page)).label, /^Password/);
  await page.keyboard.press('Control+A');
  await page.keyboard.type(staff.password);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await waitForCards(page);

  // Sign out with the keyboard; then sign in with an API key, choosing the method with the arrows.
  await page.getByRole('button', { name: 'Sign out' }).focus();
  await page.keyboard.press('Enter');
  await page.getByText('You have signed out.').waitFor();
  await page.locator('body').focus();
  await tabTo(page, (f) => f.type === 'radio');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Tab');
  assert.match((await focused(page)).label, /^Your API key/);
  await page.keyboard.type(world.adminKey);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.match(await page.locator('.topbar').innerText(), /Administrator/);
  assertNoPageErrors(page, EXPECTED);
  await page.context().close();
});

test('(e) a staff user sees the run sheet and read-only connections; admin screens are hidden', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await newTabletPage(browser, world);
  await signInWithPassword(page, staff.username, staff.password);
  await waitForCards(page);
  assert.match(await page.locator('.topbar').innerText(), /Staff/);
  // Staff may sync the run sheet and add appointments.
  await page.getByRole('button', { name: 'Sync now' }).waitFor();
  await page.getByRole('button', { name: 'Add appointment' }).waitFor();
  await assertTouchTargets(page);
  await screenshot(page, 'runsheet-tablet-staff');
  await page.getByRole('button', { name: 'Add appointment' }).click();
  await page.getByRole('dialog').waitFor();
  await assertTouchTargets(page);
  await page.keyboard.press('Escape');

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.locator('.conn-card').first().waitFor();
  await page.locator('.conn-card .badge').first().waitFor();
  assert.equal(await page.getByRole('link', { name: 'Connect a PMS' }).count(), 0);
  const cardText = await page.locator('.conn-card').first().innerText();
  assert.doesNotMatch(cardText, /Settings|Sync now|History|Continue setup/);
  assert.match(cardText, /UI test practice|Gentu/);
  await assertTouchTargets(page);
  await screenshot(page, 'connections-staff');

  const id = world.connections.gentu.id;
  for (const hash of [`#/connections/${id}/settings`, `#/connections/${id}/history`, '#/setup', `#/setup/${id}`]) {
    await page.goto(`/${hash}`);
    await page.getByRole('heading', { name: 'For administrators' }).waitFor();
  }
  assertNoPageErrors(page, EXPECTED);
  await page.context().close();
});

test('a session that ends sends the page back to sign-in with a message; the address is kept', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await newPage(browser, world);
  const temp = await addUser(world, { username: 'temp.staff', role: 'staff', password: 'temporary-pass-1' });
  await signInWithPassword(page, temp.username, temp.password);
  await waitForCards(page);
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.locator('.conn-card').first().waitFor();
  await world.pmsctl(['user', 'disable', temp.username]);
  // The next request is refused: back to the sign-in screen, which says why.
  await page.getByRole('link', { name: 'Run sheet' }).click();
  await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
  assert.match(page.url(), /#\/signin\?next=/);
  await assertLabelled(page);
  // Signing in again (as someone else) goes back where the person was.
  await signInWithKey(page, world, world.staffKey);
  await waitForCards(page);
  assertNoPageErrors(page, EXPECTED);
  await page.context().close();
});

test('too many failed sign-ins: the screen says to wait', { timeout: TEST_TIMEOUT_MS }, async () => {
  const page = await newPage(browser, world);
  await page.goto('/');
  await page.locator('#signin-title').waitFor();
  let text = '';
  for (let i = 0; i < 14 && !/Too many/.test(text); i++) {
    await page.getByLabel('Username', { exact: true }).fill('nobody');
    await page.getByLabel('Password', { exact: true }).fill(`wrong-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':not([disabled])')).waitFor();
    text = await page.getByRole('alert').innerText();
  }
  assert.match(text, /Too many sign-in attempts\. Wait .*then try again/);
  await screenshot(page, 'signin-too-many');
  await page.context().close();
});
