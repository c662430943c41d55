// What the UI tests do the way a person does: sign in through the form, walk the setup wizard,
// find cards on the run sheet. (harness.mjs belongs to the test infrastructure; these helpers
// belong to the UI and change with it.)
import assert from 'node:assert/strict';
import { waitFor } from './harness.mjs';

/**
 * Signs `page` in with an API key through the sign-in form and resolves once the signed-in UI
 * is shown (the top bar with "Sign out"). Opens `/` first unless the sign-in form is already on
 * the page.
 */
export async function signInWithKey(page, world, key) {
  if (!(await page.locator('#signin-title').isVisible().catch(() => false))) {
    await page.goto('/');
  }
  await page.locator('#signin-title').waitFor();
  await page.locator('label[for="method-key"]').click();
  await page.getByLabel('Your API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  void world;
}

/** Signs in with a username and password through the form. */
export async function signInWithPassword(page, username, password) {
  if (!(await page.locator('#signin-title').isVisible().catch(() => false))) {
    await page.goto('/');
  }
  await page.locator('#signin-title').waitFor();
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Makes a web-UI user with pmsctl; resolves to {username, password}. */
export async function addUser(world, { username, role = 'staff', password = 'correct horse battery 7' }) {
  const { spawn } = await import('node:child_process');
  const bin = world._pmsctlBin || process.env.PMSCTL_BIN;
  await new Promise((resolve, reject) => {
    const child = spawn(bin, ['user', 'add', '--account', world.accountId, '--username', username,
      '--role', role, '--password-stdin'], {
      env: { ...process.env, PMSYNC_DB: world.dbPath || `${world.dir}/pmsync.db`, PMSYNC_SECRET_KEY_FILE: world.keyFile || `${world.dir}/pmsync.key` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pmsctl user add failed: ${err}`))));
    child.stdin.end(`${password}\n`);
  });
  return { username, password };
}

/** The run sheet's card (an <article>) for a patient. */
export function card(page, patientName) {
  return page.locator('article.appt', { has: page.locator('.appt-patient', { hasText: patientName }) });
}

/** Waits for the run sheet grid to show at least one appointment card. */
export async function waitForCards(page, { timeout = 30_000 } = {}) {
  await page.locator('article.appt').first().waitFor({ timeout });
}

/** Marks the document, so that a test can tell the page was not reloaded since. */
export async function markDocument(page) {
  await page.evaluate(() => { window.__uiTestMark = 'still-here'; });
}

export async function assertNotReloaded(page) {
  assert.equal(await page.evaluate(() => window.__uiTestMark), 'still-here', 'the page was reloaded');
}

/**
 * Every form control on the page has a label (a <label for>, a wrapping label, or an
 * aria-label/aria-labelledby), and every id is unique.
 */
export async function assertLabelled(page) {
  const problems = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden' || el.closest('[hidden]')) continue;
      const named = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!named) out.push(`${el.tagName.toLowerCase()}[name=${el.name || '?'}] has no label`);
    }
    const seen = new Map();
    for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) || 0) + 1);
    for (const [id, n] of seen) if (n > 1) out.push(`id "${id}" is used ${n} times`);
    return out;
  });
  assert.deepEqual(problems, [], `unlabelled controls or duplicate ids:\n  ${problems.join('\n  ')}`);
}

/** Tabs (at most `max` times) until `predicate(activeElementInfo)` holds; resolves to that info. */
export async function tabTo(page, predicate, { max = 40, shift = false } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    const info = await page.evaluate(() => {
      const el = document.activeElement;
      return {
        tag: el?.tagName?.toLowerCase(),
        text: (el?.textContent || '').trim().slice(0, 80),
        label: el?.labels?.[0]?.textContent?.trim() || el?.getAttribute?.('aria-label') || '',
        name: el?.getAttribute?.('name') || '',
        type: el?.getAttribute?.('type') || '',
        inDialog: Boolean(el?.closest?.('dialog[open]')),
      };
    });
    if (predicate(info)) return info;
  }
  throw new Error(`tabTo: not reached in ${max} presses`);
}

/** The element that has focus: its accessible-ish description. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName?.toLowerCase(),
      text: (el?.textContent || '').trim().slice(0, 80),
      label: el?.labels?.[0]?.textContent?.trim() || el?.getAttribute?.('aria-label') || '',
      inDialog: Boolean(el?.closest?.('dialog[open]')),
    };
  });
}

/** Polls the API until a connection's sync is no longer running or queued. */
export async function waitForIdle(world, connectionId, { timeout = 30_000 } = {}) {
  return waitFor(async () => {
    const r = await world.api('GET', `/api/pms/connections/${connectionId}/sync`, { expect: 200 });
    return !r.json.running && !r.json.queued && r.json.lastSyncStatus ? r.json : null;
  }, { timeout, message: `connection ${connectionId} idle` });
}

/**
 * Every visible control people tap (buttons, button-like links, phone links, nav links, the
 * sidebar's columns) is at least 44×44 CSS pixels.
 */
export async function assertTouchTargets(page) {
  const small = await page.evaluate(() => {
    const out = [];
    const sel = 'button, a.button, a.appt-phone, a.nav-link, .sidebar-clinician, select, input:not([type=checkbox]):not([type=radio]), .check-row, .toolbar-check, .segmented-option label, .breadcrumb a';
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || el.closest('[hidden], .visually-hidden') || el.classList.contains('skip-link')) continue;
      if (r.height < 43.5 || r.width < 43.5) out.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return out;
  });
  assert.deepEqual(small, [], `touch targets under 44 px:\n  ${small.join('\n  ')}`);
}
