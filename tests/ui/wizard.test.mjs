// The setup wizard, end to end, for each PMS: Gentu with its pairing code (a wrong code first),
// Medirecords, and Halaxy (a wrong secret first) — each until the run sheet fills. Also: the wizard
// resumes where it was left, and every step is screenshotted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWorld, launchBrowser, newPage, screenshot, assertNoPageErrors, waitFor, TEST_TIMEOUT_MS,
} from './harness.mjs';
import { assertLabelled, assertTouchTargets, signInWithKey } from './flows.mjs';

let world;
let browser;
let page;

before(async () => {
  world = await startWorld(); // no connection: the wizard's starting point
  browser = await launchBrowser();
  page = await newPage(browser, world);
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

// API answers the wizard handles itself: the 401 before signing in, the refused pairing code
// and credentials, and the Halaxy telehealth check where the server has none.
const EXPECTED = { ignore: [/\/api\/session/, /\/pair\b/, /telehealth-check/, /(run-sheet\/events|telehealth-check): net::ERR_ABORTED/] };

const stepHeading = (name) => page.locator('#wizard-step-title', { hasText: name });

async function choosePms(label) {
  await page.goto('/#/setup');
  await stepHeading('Choose the PMS').waitFor();
  await page.getByLabel(label).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await stepHeading('Connect to').waitFor();
}

async function openAdvancedAndSetBaseUrl(url) {
  await page.locator('details.advanced > summary').click();
  await page.getByLabel('Base URL').fill(url);
}

/** Steps 3 to 5 after a successful connection; resolves once the run sheet shows. */
async function finishWizard({ shots = false, types = 'list' } = {}) {
  await page.getByRole('button', { name: 'Continue' }).click();
  await stepHeading('Practitioners').waitFor();
  await page.locator('.mapping-table, .mapping .notice').first().waitFor();
  if (shots) {
    await assertLabelled(page);
  await assertTouchTargets(page);
    await screenshot(page, 'wizard-3-practitioners');
  }
  await page.getByRole('button', { name: 'Save and continue' }).click();
  await stepHeading('Telehealth').waitFor();
  if (types === 'list') {
    await page.locator('.type-list').waitFor();
    await page.getByRole('button', { name: 'Mark suggested' }).click();
    const marked = await page.locator('.type-list input:checked').count();
    assert.ok(marked > 0, 'Mark suggested ticked no type');
    if (shots) await screenshot(page, 'wizard-4-types');
    await page.getByRole('button', { name: 'Save and continue' }).click();
  } else {
    await page.getByText(/Nothing to choose here/).waitFor();
    await page.locator('.wizard-nav').getByRole('button', { name: /continue/i }).click();
  }
  await stepHeading('Confirm').waitFor();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByText(/the connection works/).waitFor();
  if (shots) await screenshot(page, 'wizard-5-confirm');
  await page.getByRole('button', { name: 'Save & start sync' }).click();
  await page.locator('#runsheet-title').waitFor();
}

test('Gentu: a wrong pairing code is explained, the right one connects, and the run sheet fills', { timeout: TEST_TIMEOUT_MS }, async () => {
  // A run-sheet column made before the PMS (as OCR or manual entries would): "Dr Berg" is
  // suggested for the sandbox's "Dr Minh Berg".
  const existing = (await world.api('POST', '/api/run-sheet/clinicians', { body: { name: 'Dr Berg' }, expect: 201 })).json;
  await page.goto('/');
  await page.locator('#signin-title').waitFor();
  await assertLabelled(page);
  await assertTouchTargets(page);
  await screenshot(page, 'signin');
  await signInWithKey(page, world, world.adminKey);

  // Nothing to sync yet: "Sync now" on the run sheet says what to do.
  await page.locator('#runsheet-title').waitFor();
  await page.getByRole('button', { name: 'Sync now' }).click();
  await page.getByText(/No PMS is set to sync yet/).waitFor();

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('heading', { name: 'No PMS connected yet' }).waitFor();
  await screenshot(page, 'connections-empty');

  await page.getByRole('link', { name: 'Connect a PMS' }).first().click();
  await stepHeading('Choose the PMS').waitFor();
  await page.getByLabel('Gentu (Magentus)').check();
  await screenshot(page, 'wizard-1-select');
  await page.getByRole('button', { name: 'Continue' }).click();
  await stepHeading('Connect to Gentu').waitFor();

  const g = world.sandboxInfo.gentu;
  const tenant = g.tenants[0];
  await page.getByLabel('Display name').fill('Hawthorn (Gentu)');
  await page.getByLabel('Client ID').fill(g.clientId);
  await page.getByLabel('Client secret').fill(g.clientSecret);
  await page.getByLabel('App ID').fill(g.appId);
  await page.getByLabel('Pairing code').fill(tenant.pairingCode === 'ABCD2345' ? 'ABCD2346' : 'ABCD2345');
  await openAdvancedAndSetBaseUrl(g.baseUrl);
  await assertLabelled(page);
  await assertTouchTargets(page);
  await page.getByRole('button', { name: 'Pair with Gentu' }).click();

  // (d) The refused code, in plain words, next to the pairing code field.
  const codeError = page.locator('.field--invalid .field-error');
  await codeError.waitFor();
  assert.match(await codeError.innerText(), /pairing code is not valid or has expired.*Gentu Marketplace/);
  assert.equal(await page.getByLabel('Pairing code').getAttribute('aria-invalid'), 'true');
  assert.doesNotMatch(await page.locator('.wizard-panel').innerText(), /[{}]|"error"/, 'raw JSON shown');
  await screenshot(page, 'wizard-2-pairing-error');

  // The draft connection exists now, with setupStep "connect".
  const drafts = (await world.api('GET', '/api/pms/connections', { expect: 200 })).json.connections;
  assert.equal(drafts.length, 1);
  assert.equal(drafts[0].setupStep, 'connect');
  assert.equal(drafts[0].syncEnabled, false);
  assert.match(page.url(), new RegExp(`#/setup/${drafts[0].id}$`));

  await page.getByLabel('Client secret').fill(g.clientSecret);
  await page.getByLabel('Pairing code').fill(tenant.pairingCode);
  await page.getByRole('button', { name: 'Pair with Gentu' }).click();
  await page.locator('.connected-banner', { hasText: tenant.tenantName }).waitFor();
  await screenshot(page, 'wizard-2-connect');

  // Leaving and coming back resumes at the saved step.
  await page.getByRole('button', { name: 'Continue' }).click();
  await stepHeading('Practitioners').waitFor();
  await page.locator('.mapping-table').waitFor();
  // The best name match is chosen for a practitioner; others get a new column of their own.
  const bergRow = page.locator('.mapping-table tbody tr', { hasText: 'Best match: Dr Berg' });
  await bergRow.waitFor();
  assert.equal(await bergRow.locator('select').inputValue(), existing.id);
  assert.ok(await page.locator('.mapping-table select').evaluateAll((els) => els.some((e) => e.value === '__new')));
  await page.goto('/#/connections');
  await page.getByRole('link', { name: 'Continue setup' }).click();
  await stepHeading('Practitioners').waitFor();
  await page.reload();
  await stepHeading('Practitioners').waitFor();
  await page.getByRole('button', { name: 'Back' }).click();
  await stepHeading('Connect to Gentu').waitFor();
  await page.locator('.connected-banner', { hasText: tenant.tenantName }).waitFor();

  await finishWizard({ shots: true, types: 'list' });
  const conn = (await world.api('GET', `/api/pms/connections/${drafts[0].id}`, { expect: 200 })).json;
  assert.equal(conn.setupStep, null);
  assert.equal(conn.syncEnabled, true);
  assert.equal(conn.practiceName, tenant.tenantName);

  // The run sheet fills as the first sync lands (live, no reload), Dr Berg's column included.
  await page.locator('article.appt', { hasText: 'Gentu' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.column-header h2', { hasText: /^Dr Berg$/ }).waitFor();
  const mapped = (await world.api('GET', `/api/pms/connections/${drafts[0].id}/practitioners?refresh=false`, { expect: 200 })).json;
  assert.ok(mapped.practitioners.some((p) => p.clinicianId === existing.id && p.synced), 'Dr Berg is not mapped');
  await page.locator('.sidebar-conn', { hasText: 'Hawthorn (Gentu)' }).getByText('Synced').waitFor({ timeout: 30_000 });
  await screenshot(page, 'wizard-runsheet-gentu');
  assertNoPageErrors(page, EXPECTED);
});

test('Medirecords: connected with the practice id and token; the telehealth step is skipped with a reason', { timeout: TEST_TIMEOUT_MS }, async () => {
  await choosePms('Medirecords');
  const m = world.sandboxInfo.medirecords;
  const p = m.practices[0];
  await page.getByLabel('Display name').fill('Box Hill (Medirecords)');
  await page.getByLabel('Practice ID').fill(p.practiceId);
  await page.getByLabel('API token').fill(p.token);
  await openAdvancedAndSetBaseUrl(m.baseUrl);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  // The practice's name as Medirecords gives it, once connected.
  await page.locator('.connected-banner', { hasText: p.name }).waitFor();
  await finishWizard({ types: 'auto' });
  await page.locator('article.appt', { hasText: 'Medirecords' }).first().waitFor({ timeout: 30_000 });
  assertNoPageErrors(page, EXPECTED);
});

test('Halaxy: a wrong secret is explained in plain words, then the right one connects', { timeout: TEST_TIMEOUT_MS }, async () => {
  await choosePms('Halaxy');
  const hx = world.sandboxInfo.halaxy;
  const p = hx.practices[0];
  await page.getByLabel('Display name').fill('Hawthorn (Halaxy)');
  await page.getByLabel('Client ID').fill(p.clientId);
  await page.getByLabel('Client secret').fill('not-the-secret');
  await openAdvancedAndSetBaseUrl(hx.baseUrl);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();

  // (d) The PMS's refusal explained: what went wrong and what to check.
  const alert = page.locator('.connect-form .form-message--error');
  await alert.waitFor();
  const text = await alert.innerText();
  assert.match(text, /Halaxy did not accept these credentials/);
  assert.match(text, /Client ID and Client secret/);
  assert.doesNotMatch(text, /[{}]|"error"/, 'raw JSON shown');
  assert.equal(await page.getByRole('button', { name: 'Continue' }).isDisabled(), true);
  await screenshot(page, 'wizard-2-halaxy-error');

  await page.getByLabel('Client secret').fill(p.clientSecret);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.locator('.connected-banner', { hasText: p.name }).waitFor();
  // Step 4 for Halaxy: the types list only when the server says appointments need it.
  await page.getByRole('button', { name: 'Continue' }).click();
  await stepHeading('Practitioners').waitFor();
  await page.locator('.mapping-table, .mapping .notice').first().waitFor();
  await page.getByRole('button', { name: 'Save and continue' }).click();
  await stepHeading('Telehealth').waitFor();
  // pmsd checks the coming week's appointments: the services are listed when the check says
  // some appointments need them (the sandbox's don't carry a location type), else explained.
  const anyway = page.getByRole('button', { name: 'Choose services anyway' });
  await page.locator('.type-list').or(anyway).first().waitFor({ timeout: 30_000 });
  if (await anyway.isVisible()) await anyway.click();
  await page.locator('.type-list').waitFor();
  await page.getByRole('button', { name: 'Mark suggested' }).click();
  await page.locator('.wizard-nav').getByRole('button', { name: /continue/i }).click();
  await stepHeading('Confirm').waitFor();
  await page.getByRole('button', { name: 'Save & start sync' }).click();
  await page.locator('#runsheet-title').waitFor();
  await page.locator('article.appt', { hasText: 'Halaxy' }).first().waitFor({ timeout: 30_000 });

  // Three connections, all set up and synced, on the connections page.
  await page.goto('/#/connections');
  await waitFor(async () => (await page.locator('.conn-card .badge--success').count()) === 3, { timeout: 30_000, message: 'three synced cards' });
  await screenshot(page, 'connections');
  assertNoPageErrors(page, EXPECTED);
});
