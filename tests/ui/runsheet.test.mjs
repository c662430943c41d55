// The run sheet with a synced Gentu practice: a change in the PMS appears live without a reload
// and without moving the cards; a phone edited by hand survives the next sync; appointments
// removed from the PMS are shown again on demand; the add-appointment dialog works by keyboard
// alone (focus trapped, Escape closes, focus returns); settings and sync history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startWorld, launchBrowser, newPage, screenshot, assertNoPageErrors, waitFor, TEST_TIMEOUT_MS, UI_TEST_DIR,
} from './harness.mjs';
import { assertLabelled, assertTouchTargets, assertNotReloaded, focused, markDocument, signInWithKey, tabTo, waitForCards, waitForIdle } from './flows.mjs';

let world;
let browser;
let page;
let conn;
let tenantId;

before(async () => {
  world = await startWorld({ pms: ['gentu'] });
  conn = world.connections.gentu;
  tenantId = conn.tenantId;
  browser = await launchBrowser();
  page = await newPage(browser, world);
  await signInWithKey(page, world, world.adminKey);
  await waitForCards(page);
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

const EXPECTED = { ignore: [/\/api\/session/, /run-sheet\/events: net::ERR_ABORTED/] };

/** Today's PMS appointments as the API gives them (not cancelled). */
async function todays() {
  const sheet = (await world.api('GET', '/api/run-sheet', { expect: 200 })).json;
  return sheet.clinicians.flatMap((c) => c.appointments)
    .filter((a) => a.source === 'pms' && !a.removed && a.status !== 'cancelled');
}

const cardById = (id) => page.locator(`article.appt[data-id="${id}"]`);

async function syncNowAndWait() {
  await page.getByRole('button', { name: 'Sync now' }).click();
  await waitForIdle(world, conn.id);
}

test('the run sheet: columns per clinician, times in the practice zone, status and source on every card', { timeout: TEST_TIMEOUT_MS }, async () => {
  const title = await page.locator('#runsheet-title').innerText();
  assert.match(title, /today/);
  const sheet = (await world.api('GET', '/api/run-sheet', { expect: 200 })).json;
  const withAppts = sheet.clinicians.filter((c) => c.appointments.length);
  assert.ok(withAppts.length > 0, 'the sandbox day has no appointments');
  for (const c of sheet.clinicians) {
    await page.locator('.column-header h2', { hasText: c.name }).waitFor();
  }
  // A card's time is the practice's wall-clock time.
  const a = withAppts[0].appointments[0];
  const local = new Intl.DateTimeFormat('en-AU', { timeZone: sheet.timezone, hour: 'numeric', minute: '2-digit', hour12: true }).format(new Date(a.startTime));
  assert.equal(await cardById(a.id).locator('.appt-time').innerText(), local);
  assert.match(await cardById(a.id).innerText(), /PMS/);
  // Phones are tap-to-call links.
  const withPhone = withAppts.flatMap((c) => c.appointments).find((x) => x.patient.phone);
  assert.equal(await cardById(withPhone.id).locator('a.appt-phone').getAttribute('href'), `tel:${withPhone.patient.phone}`);
  await assertLabelled(page);
  await assertTouchTargets(page);
  await screenshot(page, 'runsheet');
  if (process.env.UPDATE_DOCS_SCREENSHOT) {
    const target = path.join(UI_TEST_DIR, '..', '..', 'docs', 'images', 'run-sheet.png');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await page.screenshot({ path: target, animations: 'disabled' });
  }
  assertNoPageErrors(page, EXPECTED);
});

test('(b) a change in the PMS appears live, without a reload and without moving the cards', { timeout: TEST_TIMEOUT_MS }, async () => {
  const list = await todays();
  const target = list[0];
  const neighbour = list.find((a) => a.clinicianId === target.clinicianId && a.id !== target.id) || list[1];
  await markDocument(page);
  const before = await cardById(target.id).boundingBox();
  const neighbourBefore = await cardById(neighbour.id).boundingBox();
  await world.sandbox('PATCH', `/_sandbox/gentu/tenants/${tenantId}/appointments/${target.pmsAppointmentId}`, { status: 'cancelled' });
  // A slow PMS with small pages, so that the sync's progress can be seen while it runs.
  await world.sandbox('PUT', '/_sandbox/faults', { latency_ms: 400, page_size: 5 });
  try {
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('.runsheet-status .sync-progress', { hasText: /Syncing UI test practice.*\d+ read/ }).waitFor({ timeout: 20_000 });
    await page.locator('.sidebar-conn .badge--syncing').waitFor();
  } finally {
    await world.sandbox('PUT', '/_sandbox/faults', { latency_ms: 0, page_size: 0 });
  }
  await page.locator('.runsheet-status .sync-progress', { hasText: 'Sync finished.' }).waitFor({ timeout: 30_000 });
  await cardById(target.id).and(page.locator('[data-status="cancelled"]')).waitFor({ timeout: 30_000 });
  assert.match(await cardById(target.id).innerText(), /Cancelled/);
  await assertNotReloaded(page);
  assert.deepEqual(await cardById(target.id).boundingBox(), before, 'the changed card moved');
  assert.deepEqual(await cardById(neighbour.id).boundingBox(), neighbourBefore, 'a neighbouring card moved');
  await page.locator('.sidebar-conn').getByText('Synced').waitFor();
  assertNoPageErrors(page, EXPECTED);
});

test('(c) a phone edited by hand survives the next sync, and the card says it was edited', { timeout: TEST_TIMEOUT_MS }, async () => {
  const target = (await todays()).find((a) => a.status !== 'arrived' && a.patient.pmsPatientId);
  await cardById(target.id).getByRole('button', { name: /^Edit/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  // The PMS owns the rest: the dialog says so and disables those fields.
  assert.match(await dialog.innerText(), /comes from Gentu/);
  assert.equal(await dialog.getByLabel('Patient name').isDisabled(), true);
  assert.equal(await dialog.getByLabel('Status').isDisabled(), true);
  await assertLabelled(page);
  await assertTouchTargets(page);
  await screenshot(page, 'runsheet-edit-dialog');
  await dialog.getByLabel('Phone').fill('0400 111 222');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await dialog.waitFor({ state: 'detached' });
  await cardById(target.id).getByText('0400 111 222').waitFor();
  await cardById(target.id).getByText('Edited').waitFor();

  // The PMS changes the appointment and the patient's phone; a sync brings the status but keeps
  // the phone typed here.
  await world.sandbox('PATCH', `/_sandbox/gentu/tenants/${tenantId}/patients/${target.patient.pmsPatientId}`, { mobile: '0411 999 888' });
  await world.sandbox('PATCH', `/_sandbox/gentu/tenants/${tenantId}/appointments/${target.pmsAppointmentId}`, { status: 'in_waiting_room' });
  await syncNowAndWait();
  await cardById(target.id).and(page.locator('[data-status="arrived"]')).waitFor({ timeout: 30_000 });
  assert.match(await cardById(target.id).innerText(), /0400 111 222/);
  assert.match(await cardById(target.id).innerText(), /Edited/);
  const after = (await world.api('GET', `/api/run-sheet/appointments/${target.id}`, { expect: 200 })).json;
  assert.equal(after.patient.phone, '+61400111222');
  assert.equal(after.status, 'arrived');
  assertNoPageErrors(page, EXPECTED);
});

test('appointments removed from the PMS leave the run sheet and come back with "Show removed"', { timeout: TEST_TIMEOUT_MS }, async () => {
  const target = (await todays()).at(-1);
  await world.sandbox('DELETE', `/_sandbox/gentu/tenants/${tenantId}/appointments/${target.pmsAppointmentId}`);
  await syncNowAndWait();
  await cardById(target.id).waitFor({ state: 'detached', timeout: 30_000 });
  await page.getByLabel('Show removed').check();
  await cardById(target.id).and(page.locator('[data-status="removed"]')).waitFor();
  assert.match(await cardById(target.id).innerText(), /Removed/);
  assert.match(page.url(), /removed=1/);
  await screenshot(page, 'runsheet-removed');
  await page.getByLabel('Show removed').uncheck();
  await cardById(target.id).waitFor({ state: 'detached' });
  assertNoPageErrors(page, EXPECTED);
});

test('(f) adding an appointment by keyboard alone: focus trapped in the dialog, Escape closes it, focus returns', { timeout: TEST_TIMEOUT_MS }, async () => {
  await page.goto('/#/run-sheet');
  await waitForCards(page);
  await page.locator('body').focus();
  await tabTo(page, (f) => f.text === 'Add appointment', { max: 60 });
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Add appointment' });
  await dialog.waitFor();
  assert.equal((await focused(page)).label, 'Clinician (column)');

  // Escape closes it and gives focus back to the button.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await focused(page)).text, 'Add appointment');

  // Again with Space; Tab and Shift+Tab stay inside the dialog.
  await page.keyboard.press('Space');
  await dialog.waitFor();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).inDialog, true, `Tab ${i + 1} left the dialog`);
  }
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page)).inDialog, true, 'Shift+Tab left the dialog');

  // Fill it in with the keyboard: the clinician, name, time, phone, then submit with Enter.
  await dialog.getByLabel('Clinician (column)').focus();
  await page.keyboard.press('ArrowDown');
  await tabTo(page, (f) => f.label.startsWith('Patient name'));
  await page.keyboard.type('Keyboard Kim');
  await tabTo(page, (f) => f.label.startsWith('Start time'));
  await page.keyboard.type('0930A');
  await tabTo(page, (f) => f.label === 'Phone');
  await page.keyboard.type('0412 000 999');
  await tabTo(page, (f) => f.text === 'Add appointment' && f.inDialog);
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await focused(page)).text, 'Add appointment', 'focus did not return to the button');
  const added = page.locator('article.appt', { hasText: 'Keyboard Kim' });
  await added.waitFor();
  assert.match(await added.innerText(), /9:30 am/);
  assert.match(await added.innerText(), /Manual/);
  assert.match(await added.innerText(), /0412 000 999/);
  assertNoPageErrors(page, EXPECTED);
});

test('a manual entry can be changed and removed; settings and sync history', { timeout: TEST_TIMEOUT_MS }, async () => {
  const added = page.locator('article.appt', { hasText: 'Keyboard Kim' });
  await added.getByRole('button', { name: /^Edit/ }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Patient name').fill('Keyboard Kimberley');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('article.appt', { hasText: 'Keyboard Kimberley' }).waitFor();
  await page.locator('article.appt', { hasText: 'Keyboard Kimberley' }).getByRole('button', { name: /^Edit/ }).click();
  await dialog.getByRole('button', { name: 'Remove' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Remove this appointment?' });
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await page.locator('article.appt', { hasText: 'Keyboard Kimberley' }).waitFor({ state: 'detached' });

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.locator('.conn-card').first().waitFor();
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Practitioners' }).waitFor();
  await page.locator('.mapping-table').waitFor();
  await page.locator('.type-list').waitFor();
  await assertLabelled(page);
  await assertTouchTargets(page);
  await screenshot(page, 'settings');

  // Change the frequency; the API has it.
  await page.getByLabel('Sync every (minutes)').fill('10');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Saved.', { exact: true }).waitFor();
  assert.equal((await world.api('GET', `/api/pms/connections/${conn.id}`, { expect: 200 })).json.syncFrequencyMinutes, 10);

  // Test connection answers in words.
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByText(/the connection works/).waitFor();

  await page.getByRole('link', { name: 'Sync history' }).click();
  await page.locator('.history-table tbody tr').first().waitFor();
  const rows = await page.locator('.history-table tbody tr').count();
  assert.ok(rows >= 3, `only ${rows} sync(s) in the history`);
  assert.match(await page.locator('.history-table thead').innerText(), /Read[\s\S]*New[\s\S]*Changed[\s\S]*Unchanged[\s\S]*Skipped[\s\S]*Removed/);
  await screenshot(page, 'history');

  // Deleting asks first, and says the run-sheet appointments go too.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Delete this connection' }).click();
  const ask = page.getByRole('alertdialog');
  assert.match(await ask.innerText(), /run-sheet appointments that came from it are removed too/);
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await ask.waitFor({ state: 'detached' });
  assert.equal((await focused(page)).text, 'Delete this connection');
  assertNoPageErrors(page, EXPECTED);
});
