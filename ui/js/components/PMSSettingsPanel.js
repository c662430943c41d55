// PMSSettingsPanel (administrators): a connection's sync settings, connection details, practitioner
// mappings, telehealth types, Test connection, Sync now, a link to the sync history, and deleting it.
import { api, ApiError, getSystems, paths, pmsShortName } from '../api.js';
import { announce, h, replaceChildren, withBusy } from '../dom.js';
import { confirmDialog } from '../dialog.js';
import * as events from '../events.js';
import { credentialLabels, explainError, explainPmsKind } from '../explain.js';
import { field, formMessage } from '../forms.js';
import { navigate } from '../router.js';
import { ConnectionForm } from './ConnectionForm.js';
import { progressText, setupStepLabel } from './PMSConnectionCard.js';
import { PractitionerMappingTable } from './PractitionerMappingTable.js';
import { SyncStatusBadge } from './SyncStatusBadge.js';
import { TelehealthTypes } from './TelehealthTypes.js';

function typesApply(system) {
  const caps = system?.capabilities || [];
  return !caps.includes('telehealth_auto') && (caps.includes('telehealth_by_type') || caps.includes('pairing'));
}

/** options: connectionId, app. Returns {el, unmount()}. */
export function PMSSettingsPanel({ connectionId, app }) {
  const el = h('div', { class: 'settings-panel' }, h('p', { class: 'muted', 'aria-busy': 'true' }, 'Loading…'));
  let conn = null;
  let system = null;
  let genericSettings = [];
  let status = null;
  let progress = '';
  let disposed = false;
  const statusSlot = h('div', { class: 'conn-sync', 'aria-live': 'polite' });
  const headerMessage = formMessage();

  function pms() {
    return pmsShortName(system, conn?.pmsType);
  }

  function renderStatus() {
    replaceChildren(statusSlot, SyncStatusBadge(status || conn, { progress }));
  }

  async function refreshStatus() {
    try {
      status = await api.get(paths.connectionPart(connectionId, 'sync'), { query: { limit: 1 } });
      if (!disposed) renderStatus();
    } catch {
      // shown again at the next event
    }
  }

  // ---- header: name, PMS, status, Sync now, Test connection, History ----
  function header() {
    const syncButton = h('button', { type: 'button', class: 'button button--primary' }, 'Sync now');
    syncButton.addEventListener('click', () => withBusy(syncButton, 'Starting…', async () => {
      headerMessage.clear();
      try {
        const st = await api.post(paths.connectionPart(conn.id, 'sync'));
        status = { ...(status || {}), ...st };
        renderStatus();
        headerMessage.success(`Sync started: ${pms()} is being read.`);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'sync_in_progress') headerMessage.info('Already syncing: the status updates when that sync finishes.');
        else headerMessage.error(explainError(e, { pmsName: pms() }));
      }
    }));
    const testButton = h('button', { type: 'button', class: 'button' }, 'Test connection');
    testButton.addEventListener('click', () => withBusy(testButton, 'Testing…', async () => {
      headerMessage.clear();
      try {
        const t = await api.post(paths.connectionPart(conn.id, 'test'));
        if (t.ok) headerMessage.success(`✓ ${pms()} answered in ${t.latencyMs} ms: the connection works.`);
        else headerMessage.error(explainPmsKind(t.errorKind, { pmsName: pms(), labels: credentialLabels(system) }, t.message), h('p', { class: 'muted' }, `${pms()} said: ${t.message}`));
      } catch (e) {
        headerMessage.error(explainError(e, { pmsName: pms() }));
      }
    }));
    const inSetup = conn.setupStep !== null && conn.setupStep !== undefined;
    return h('div', {},
      h('p', { class: 'breadcrumb' }, h('a', { href: '#/connections' }, '‹ Connections')),
      h('div', { class: 'page-header' },
        h('div', {},
          h('h1', {}, conn.displayName),
          h('p', { class: 'muted' }, `${system?.displayName || conn.pmsType}${conn.practiceName ? ` · ${conn.practiceName}` : ''}`)),
        h('div', { class: 'header-actions' },
          inSetup ? h('a', { class: 'button button--primary', href: `#/setup/${encodeURIComponent(conn.id)}` }, 'Continue setup') : syncButton,
          testButton,
          h('a', { class: 'button button--quiet', href: `#/connections/${encodeURIComponent(conn.id)}/history` }, 'Sync history'))),
      inSetup ? h('p', { class: 'notice' }, `Setup is not finished (next step: ${setupStepLabel(conn.setupStep)}). Syncing starts when it is.`) : null,
      statusSlot,
      headerMessage.el);
  }

  // ---- syncing ----
  function syncSection() {
    const message = formMessage();
    const name = field({ label: 'Display name', name: 'displayName', required: true, value: conn.displayName, attrs: { maxlength: 255 } });
    const enabled = field({ label: 'Sync automatically', type: 'checkbox', name: 'syncEnabled', value: conn.syncEnabled, help: 'Off: the run sheet keeps what it has, and syncs happen only when someone presses Sync now.' });
    const freq = field({ label: 'Sync every (minutes)', type: 'number', name: 'syncFrequencyMinutes', required: true, value: String(conn.syncFrequencyMinutes), attrs: { min: 1, max: 1440, step: 1, inputmode: 'numeric' }, help: 'From 1 to 1440 (a day).' });
    const tele = field({ label: 'Only telehealth appointments', type: 'checkbox', name: 'syncTelehealthOnly', value: conn.syncTelehealthOnly });
    const unmapped = field({
      label: `Practitioners new to ${pms()}`, type: 'select', name: 'unmappedPractitioners', value: conn.unmappedPractitioners || 'create',
      options: [{ value: 'create', label: 'Get their own run-sheet column automatically' }, { value: 'skip', label: 'Wait until they are mapped below' }],
    });
    const save = h('button', { type: 'submit', class: 'button button--primary' }, 'Save');
    const form = h('form', { novalidate: true, 'aria-labelledby': 'settings-sync-title' },
      message.el, name.wrap, h('div', { class: 'form-row' }, freq.wrap, unmapped.wrap), enabled.wrap, tele.wrap,
      h('div', { class: 'form-actions' }, save));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      message.clear();
      [name, freq].forEach((f) => f.setError(''));
      const body = {};
      const n = name.value.trim();
      const minutes = Number(freq.value);
      let bad = null;
      if (!n) { name.setError('Enter a display name.'); bad = name; }
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) { freq.setError('Enter whole minutes from 1 to 1440.'); bad = bad || freq; }
      if (bad) { message.error('Check the highlighted fields.'); bad.input.focus(); return; }
      if (n !== conn.displayName) body.displayName = n;
      if (minutes !== conn.syncFrequencyMinutes) body.syncFrequencyMinutes = minutes;
      if (enabled.value !== conn.syncEnabled) body.syncEnabled = enabled.value;
      if (tele.value !== conn.syncTelehealthOnly) body.syncTelehealthOnly = tele.value;
      if (unmapped.value !== (conn.unmappedPractitioners || 'create')) body.unmappedPractitioners = unmapped.value;
      if (Object.keys(body).length === 0) { message.info('Nothing changed.'); return; }
      await withBusy(save, 'Saving…', async () => {
        try {
          conn = await api.patch(paths.connection(conn.id), body);
          message.success('Saved.');
          announce('Sync settings saved.');
          el.querySelector('h1').textContent = conn.displayName;
          refreshStatus();
        } catch (e) {
          const f = { displayName: name, syncFrequencyMinutes: freq }[e.field];
          if (f) f.setError(explainError(e));
          message.error(explainError(e, { pmsName: pms() }));
        }
      });
    });
    return h('section', { class: 'section', 'aria-labelledby': 'settings-sync-title' },
      h('h2', { id: 'settings-sync-title' }, 'Syncing'),
      h('p', { class: 'section-intro' }, 'How often pmsync reads this PMS, and what it brings to the run sheet.'),
      form);
  }

  // ---- connection details ----
  function detailsSection() {
    const pairing = (system?.capabilities || []).includes('pairing');
    const form = ConnectionForm({ system, connection: conn, timezone: conn.timezone, pairing, pairingRequired: false, withDisplayName: false, genericSettings });
    if (pairing && form.fields.code) {
      form.fields.code.wrap.querySelector('.field-label').firstChild.textContent = conn.pairedAt ? 'New pairing code (only to pair again)' : 'Pairing code';
    }
    const save = h('button', { type: 'submit', class: 'button button--primary' }, 'Save details');
    const formEl = h('form', { novalidate: true }, form.el, h('div', { class: 'form-actions' }, save));
    const ctx = { pmsName: pms(), labels: credentialLabels(system) };
    formEl.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const res = form.collect();
      if (!res.ok) return;
      if (Object.keys(res.body).length === 0 && !res.code) { form.message.info('Nothing changed.'); return; }
      await withBusy(save, 'Saving…', async () => {
        try {
          if (Object.keys(res.body).length) conn = await api.patch(paths.connection(conn.id), res.body);
          form.clearSecrets();
          if (res.code) {
            const paired = await api.post(paths.connectionPart(conn.id, 'pair'), { code: res.code }).catch((e) => { e.pairing = true; throw e; });
            conn = { ...conn, ...paired };
            form.fields.code.value = '';
          }
          const t = await api.post(paths.connectionPart(conn.id, 'test')).catch(() => null);
          if (t && !t.ok) {
            form.message.error(`Saved, but ${pms()} did not accept the connection. ${explainPmsKind(t.errorKind, ctx, t.message)}`);
          } else {
            form.message.success(t ? `Saved. ${pms()} answered in ${t.latencyMs} ms: the connection works.` : 'Saved.');
          }
        } catch (e) {
          const text = explainError(e, { ...ctx, action: e.pairing ? 'pair' : undefined });
          if (e.pairing && form.setServerError('code', text)) form.message.error('The pairing did not work: see the pairing code.');
          else if (!(e instanceof ApiError && e.field && form.setServerError(e.field, text))) form.message.error(text);
          else form.message.error('Check the highlighted field.');
        }
      });
    });
    return h('section', { class: 'section', 'aria-labelledby': 'settings-details-title' },
      h('h2', { id: 'settings-details-title' }, 'Connection details'),
      h('p', { class: 'section-intro' }, `The credentials pmsync uses to read ${pms()}. Saved secrets are never shown: leave them empty to keep them.`),
      formEl);
  }

  // ---- practitioners ----
  function practitionersSection() {
    const table = PractitionerMappingTable({ connectionId: conn.id, pmsName: pms() });
    const message = formMessage();
    const save = h('button', { type: 'button', class: 'button button--primary' }, 'Save mappings');
    save.addEventListener('click', () => withBusy(save, 'Saving…', async () => {
      message.clear();
      if (await table.save()) {
        message.success('Mappings saved. The next sync fills the columns.');
        announce('Practitioner mappings saved.');
      }
    }));
    const section = h('section', { class: 'section', 'aria-labelledby': 'settings-practitioners-title' },
      h('h2', { id: 'settings-practitioners-title' }, 'Practitioners'),
      h('p', { class: 'section-intro' }, `Which run-sheet column each ${pms()} practitioner's appointments go to.`),
      table.el, message.el, h('div', { class: 'form-actions' }, save));
    table.load();
    return section;
  }

  // ---- telehealth types ----
  function typesSection() {
    const types = TelehealthTypes({ connectionId: conn.id, pmsName: pms() });
    const message = formMessage();
    const save = h('button', { type: 'button', class: 'button button--primary' }, 'Save telehealth types');
    save.addEventListener('click', () => withBusy(save, 'Saving…', async () => {
      message.clear();
      if (await types.save()) {
        message.success('Telehealth types saved. The next sync applies them.');
        announce('Telehealth types saved.');
      }
    }));
    const intro = conn.pmsType === 'gentu'
      ? `${pms()} has no telehealth flag: tick the appointment types that are telehealth consultations.`
      : `Used for ${pms()} appointments that do not say themselves whether they are telehealth.`;
    const section = h('section', { class: 'section', 'aria-labelledby': 'settings-types-title' },
      h('h2', { id: 'settings-types-title' }, 'Telehealth appointment types'),
      h('p', { class: 'section-intro' }, intro),
      types.el, message.el, h('div', { class: 'form-actions' }, save));
    types.load();
    return section;
  }

  // ---- delete ----
  function deleteSection() {
    const message = formMessage();
    const button = h('button', { type: 'button', class: 'button button--danger' }, 'Delete this connection');
    button.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Delete ${conn.displayName}?`,
        message: [
          `pmsync stops syncing ${pms()} for this practice and forgets its credentials.`,
          h('p', {}, h('strong', {}, 'The run-sheet appointments that came from it are removed too'), ' (manual entries stay). This cannot be undone.'),
        ],
        confirmLabel: 'Delete connection', danger: true,
      });
      if (!ok) return;
      await withBusy(button, 'Deleting…', async () => {
        try {
          await api.del(paths.connection(conn.id));
          announce(`${conn.displayName} was deleted.`);
          navigate('#/connections');
        } catch (e) {
          if (e instanceof ApiError && e.code === 'sync_in_progress') {
            message.error('A sync of this connection is running or waiting: try again when it has finished.');
          } else {
            message.error(explainError(e, { pmsName: pms(), thing: 'connection' }));
          }
        }
      });
    });
    return h('section', { class: 'section section--danger', 'aria-labelledby': 'settings-delete-title' },
      h('h2', { id: 'settings-delete-title' }, 'Delete the connection'),
      h('p', { class: 'section-intro' }, 'Removes the connection and the run-sheet appointments that came from it.'),
      message.el, button);
  }

  async function start() {
    try {
      const [c, sys, st] = await Promise.all([
        api.get(paths.connection(connectionId)),
        getSystems(),
        api.get(paths.connectionPart(connectionId, 'sync'), { query: { limit: 1 } }).catch(() => null),
      ]);
      if (disposed) return;
      conn = c;
      system = (sys.pms || []).find((s) => s.name === conn.pmsType) || { name: conn.pmsType, displayName: conn.pmsType, settings: [], capabilities: conn.capabilities || [] };
      status = st;
      genericSettings = sys.genericSettings || [];
    } catch (e) {
      replaceChildren(el, h('h1', {}, 'Connection settings'), h('div', { class: 'form-message form-message--error', role: 'alert' },
        h('p', {}, e instanceof ApiError && e.status === 404 ? 'This connection no longer exists.' : `The settings could not be loaded. ${explainError(e)}`),
        h('p', {}, h('a', { href: '#/connections' }, 'Back to the connections'))));
      return;
    }
    app?.setTitle(`${conn.displayName} settings`);
    renderStatus();
    replaceChildren(el, header(), syncSection(), detailsSection(), practitionersSection(),
      typesApply(system) ? typesSection() : null, deleteSection());
  }

  const offs = [
    events.on('sync.started', (d) => { if (d.connectionId === connectionId) { status = { ...(status || conn), running: true, queued: false }; progress = ''; renderStatus(); } }),
    events.on('sync.progress', (d) => { if (d.connectionId === connectionId) { progress = progressText(d); status = { ...(status || conn), running: true }; renderStatus(); } }),
    events.on('sync.finished', (d) => { if (d.connectionId === connectionId) { progress = ''; refreshStatus(); } }),
  ];

  start();
  return {
    el,
    unmount() {
      disposed = true;
      offs.forEach((off) => off());
    },
  };
}
