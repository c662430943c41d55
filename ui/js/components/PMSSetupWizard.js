// PMSSetupWizard: the plan's five steps — choose the PMS, connect, map practitioners, telehealth
// types, confirm — resumable: the connection's setupStep (connect → practitioners → types →
// confirm → null) is saved as the person moves on, and coming back resumes there.
import { api, ApiError, getSystems, paths, pmsShortName } from '../api.js';
import { announce, h, replaceChildren, withBusy } from '../dom.js';
import { confirmDialog } from '../dialog.js';
import { credentialLabels, explainError, explainPmsKind } from '../explain.js';
import { field, formMessage } from '../forms.js';
import { plural } from '../format.js';
import { navigate } from '../router.js';
import { session } from '../session.js';
import { ConnectionForm } from './ConnectionForm.js';
import { SETUP_STEPS } from './PMSConnectionCard.js';
import { PractitionerMappingTable } from './PractitionerMappingTable.js';
import { TelehealthTypes } from './TelehealthTypes.js';

const ORDER = SETUP_STEPS.map((s) => s.key);

const PMS_BLURB = {
  pairing: 'Connects with your Gentu Marketplace app\'s details and a pairing code made in Gentu.',
  telehealth_auto: 'Connects with the practice ID and API token; marks telehealth appointments itself.',
  default: 'Connects with an API key\'s client ID and secret made in the PMS.',
};

function blurb(system) {
  const caps = system.capabilities || [];
  if (caps.includes('pairing')) return PMS_BLURB.pairing;
  if (caps.includes('telehealth_auto')) return PMS_BLURB.telehealth_auto;
  const labels = (system.settings || []).filter((s) => s.required).map((s) => s.label);
  return labels.length ? `Connects with its ${labels.join(' and ')}.` : PMS_BLURB.default;
}

/** How step 4 applies to a PMS: 'types' (choose), 'check' (ask the server), 'auto' (skip). */
function typesMode(system) {
  const caps = system?.capabilities || [];
  if (caps.includes('telehealth_auto')) return 'auto';
  if (caps.includes('pairing') || system?.name === 'gentu') return 'types';
  if (caps.includes('telehealth_by_type')) return 'check';
  return 'auto';
}

/**
 * Mounts the wizard. options: connectionId (resume), onTitle(text).
 * Returns {el, unmount()}.
 */
export function PMSSetupWizard({ connectionId = null, app }) {
  const stepper = h('ol', { class: 'stepper', 'aria-label': 'Setup steps' });
  const panel = h('section', { class: 'wizard-panel', 'aria-labelledby': 'wizard-step-title' });
  const el = h('div', { class: 'wizard' }, stepper, panel);

  const state = {
    step: connectionId ? null : 'select',
    systems: [],
    system: null,
    connection: null,
    connected: false, // the PMS answered (paired or tested) in this visit
    accountTimezone: 'Australia/Sydney',
    genericSettings: [],
    practitionerSummary: null,
    typesSummary: null,
  };
  let disposed = false;
  let checkAbort = null;

  function renderStepper() {
    const current = ORDER.indexOf(state.step);
    replaceChildren(stepper, SETUP_STEPS.map((s, i) => h('li', {
      class: i < current ? 'is-done' : '',
      'aria-current': i === current ? 'step' : undefined,
    },
    h('span', { class: 'step-num', 'aria-hidden': 'true' }, i < current ? '✓' : String(i + 1)),
    h('span', { class: 'step-label' }, s.label),
    h('span', { class: 'visually-hidden' }, i < current ? ' (done)' : (i === current ? ' (current step)' : '')))));
  }

  function stepTitle(text) {
    const i = ORDER.indexOf(state.step);
    return h('h2', { id: 'wizard-step-title', tabindex: '-1' },
      h('span', { class: 'muted' }, `Step ${i + 1} of ${ORDER.length}: `), text);
  }

  function pmsName() {
    return pmsShortName(state.system, state.connection?.pmsType);
  }

  function nav({ back, next, nextLabel = 'Continue', extra } = {}) {
    const parts = [];
    if (back) parts.push(h('button', { type: 'button', class: 'button', onclick: back }, 'Back'));
    parts.push(h('span', { class: 'spacer' }));
    if (extra) parts.push(extra);
    let nextButton = null;
    if (next) {
      nextButton = h('button', { type: 'button', class: 'button button--primary' }, nextLabel);
      nextButton.addEventListener('click', () => withBusy(nextButton, 'Saving…', next));
      parts.push(nextButton);
    }
    return { el: h('div', { class: 'wizard-nav' }, parts), next: nextButton };
  }

  /** Moves to a step; with a connection, saves it as the connection's setupStep first. */
  async function goTo(step, { message } = {}) {
    if (state.connection && step !== 'select') {
      try {
        state.connection = await api.patch(paths.connection(state.connection.id), { setupStep: step });
      } catch (e) {
        message?.error(`pmsync could not save your progress. ${explainError(e, { pmsName: pmsName() })}`);
        return false;
      }
    }
    state.step = step;
    render(true);
    return true;
  }

  function render(focus = false) {
    if (disposed) return;
    checkAbort?.abort();
    checkAbort = null;
    renderStepper();
    const renderers = { select: renderSelect, connect: renderConnect, practitioners: renderPractitioners, types: renderTypes, confirm: renderConfirm };
    (renderers[state.step] || renderDone)();
    if (focus) panel.querySelector('h2')?.focus();
    app?.setTitle(`Connect a PMS: ${SETUP_STEPS.find((s) => s.key === state.step)?.label || 'done'}`);
  }

  // ---- step 1: choose the PMS ----
  function renderSelect() {
    const message = formMessage();
    const locked = Boolean(state.connection);
    const options = state.systems.map((s) => {
      const id = `pms-${s.name}`;
      const input = h('input', { type: 'radio', name: 'pms', id, value: s.name, disabled: locked && s.name !== state.connection.pmsType });
      input.checked = state.system?.name === s.name;
      return h('div', { class: 'pms-option' }, input,
        h('label', { for: id },
          h('span', { class: 'pms-option-name' }, s.displayName),
          h('span', { class: 'pms-option-text' }, blurb(s))));
    });
    const fieldset = h('fieldset', {},
      h('legend', { class: 'field-label' }, 'Which practice management system does the practice use?'),
      h('div', { class: 'pms-options' }, options));
    const next = async () => {
      const chosen = panel.querySelector('input[name="pms"]:checked');
      if (!chosen) {
        message.error('Choose the practice management system first.');
        panel.querySelector('input[name="pms"]')?.focus();
        return;
      }
      state.system = state.systems.find((s) => s.name === chosen.value);
      await goTo('connect', { message });
    };
    const parts = [stepTitle('Choose the PMS'), message.el, fieldset];
    if (locked) {
      parts.push(h('p', { class: 'notice' },
        `This draft connection uses ${pmsName()}. To use another PMS, start over: the draft is deleted.`,
        ' ',
        h('button', { type: 'button', class: 'button button--small', onclick: () => startOver() }, 'Start over')));
    }
    const n = nav({ next, extra: h('a', { class: 'button button--quiet', href: '#/connections' }, 'Cancel') });
    parts.push(n.el);
    replaceChildren(panel, parts);
  }

  async function startOver() {
    const ok = await confirmDialog({
      title: 'Start over?',
      message: `The draft connection "${state.connection.displayName}" is deleted, with everything entered so far.`,
      confirmLabel: 'Delete the draft', danger: true,
    });
    if (!ok) return;
    try {
      await api.del(paths.connection(state.connection.id));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) {
        announce(explainError(e));
        return;
      }
    }
    state.connection = null;
    state.system = null;
    state.connected = false;
    navigate('#/setup', { silent: true });
    state.step = 'select';
    render(true);
  }

  // ---- step 2: connect ----
  function renderConnect() {
    const system = state.system;
    const pms = pmsName();
    const conn = state.connection;
    const pairing = (system.capabilities || []).includes('pairing');
    const paired = Boolean(conn?.pairedAt);
    const form = ConnectionForm({
      system, connection: conn, timezone: state.accountTimezone, genericSettings: state.genericSettings,
      defaultName: session.user?.accountName || '', pairing: pairing && !paired, pairingRequired: pairing && !paired,
    });
    const banner = h('div', { class: 'connected-slot', 'aria-live': 'polite' });
    const connectButton = h('button', { type: 'submit', class: 'button button--primary' },
      pairing && !paired ? 'Pair with Gentu' : (state.connected ? 'Save and check again' : 'Connect'));
    const formEl = h('form', { novalidate: true, class: 'connect-form' }, form.el,
      h('div', { class: 'form-actions' }, connectButton));
    const ctx = { pmsName: pms, labels: credentialLabels(system) };

    function showConnected(extra) {
      const c = state.connection;
      replaceChildren(banner, h('div', { class: 'connected-banner', role: 'status' },
        h('span', { 'aria-hidden': 'true' }, '✓'),
        h('span', {}, 'Connected to ', h('strong', {}, c.practiceName || c.displayName), ` (${pms})`, extra ? `. ${extra}` : '.')));
    }

    formEl.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const res = form.collect();
      if (!res.ok) return;
      await withBusy(connectButton, 'Connecting…', async () => {
        // 1. Create the connection (or save changes to the draft).
        try {
          if (!state.connection) {
            const body = {
              pmsType: system.name, syncEnabled: false, setupStep: 'connect',
              unmappedPractitioners: 'skip', ...res.body,
            };
            body.settings = body.settings || {};
            state.connection = await api.post('/api/pms/connections', body);
            navigate(`#/setup/${encodeURIComponent(state.connection.id)}`, { silent: true });
          } else if (Object.keys(res.body).length) {
            state.connection = await api.patch(paths.connection(state.connection.id), res.body);
          }
        } catch (e) {
          const text = explainError(e, ctx);
          if (!(e instanceof ApiError && e.field && form.setServerError(e.field, text))) form.message.error(text);
          else form.message.error('Check the highlighted field.');
          return;
        }
        // 2. Pair (Gentu) or test the credentials (Medirecords, Halaxy).
        if (pairing && !state.connection.pairedAt) {
          try {
            const paired = await api.post(paths.connectionPart(state.connection.id, 'pair'), { code: res.code });
            state.connection = { ...state.connection, ...paired };
            delete state.connection.practice;
            state.connected = true;
            form.clearSecrets();
            announce(`Paired with ${paired.practice?.name || paired.practiceName || 'the practice'}.`);
            render();
            panel.querySelector('.connected-banner')?.focus?.();
            return;
          } catch (e) {
            const text = explainError(e, { ...ctx, action: 'pair' });
            if (e instanceof ApiError && (e.status === 404 || e.field === 'code') && form.setServerError('code', text)) {
              form.message.error('The pairing did not work: see the pairing code.');
            } else if (!(e instanceof ApiError && e.field && form.setServerError(e.field, text))) {
              form.message.error(text);
            }
            return;
          }
        }
        try {
          const t = await api.post(paths.connectionPart(state.connection.id, 'test'));
          if (!t.ok) {
            form.message.error(explainPmsKind(t.errorKind, ctx, t.message), h('p', { class: 'muted' }, `${pms} said: ${t.message}`));
            state.connected = false;
            replaceChildren(banner);
            return;
          }
          state.connection = await api.get(paths.connection(state.connection.id)).catch(() => state.connection);
          state.connected = true;
          form.clearSecrets();
          showConnected(`${pms} answered in ${t.latencyMs} ms`);
          form.message.clear();
          continueButton.disabled = false;
          continueButton.focus();
        } catch (e) {
          form.message.error(explainError(e, ctx));
        }
      });
    });

    const n = nav({
      back: () => { state.step = 'select'; render(true); },
      next: async () => {
        if (!state.connected && !state.connection?.pairedAt) {
          form.message.error(`Connect to ${pms} first: fill in the details and press "${connectButton.textContent}".`);
          connectButton.focus();
          return;
        }
        await goTo('practitioners', { message: form.message });
      },
    });
    const continueButton = n.next;
    continueButton.disabled = !(state.connected || paired);

    const intro = pairing
      ? h('p', { class: 'section-intro' }, `Enter your Gentu Marketplace app's details, then a pairing code from the practice's Gentu. pmsync only reads from ${pms}.`)
      : h('p', { class: 'section-intro' }, `Enter the details ${pms} gave the practice for API access. pmsync checks them with ${pms} and only ever reads.`);
    replaceChildren(panel, stepTitle(`Connect to ${pms}`), intro, banner, formEl, n.el);
    if (state.connected || paired) showConnected();
  }

  // ---- step 3: practitioners ----
  function renderPractitioners() {
    const pms = pmsName();
    const message = formMessage();
    const table = PractitionerMappingTable({ connectionId: state.connection.id, pmsName: pms });
    const n = nav({
      back: () => goTo('connect', { message }),
      next: async () => {
        if (!(await table.save())) return;
        state.practitionerSummary = table.summary();
        await goTo('types', { message });
      },
      nextLabel: 'Save and continue',
    });
    replaceChildren(panel,
      stepTitle('Practitioners and run-sheet columns'),
      h('p', { class: 'section-intro' }, `Each ${pms} practitioner whose appointments you want fills a column of the run sheet. Match them to columns you already have (names like "Dr. John Smith" and "Dr Smith" are matched for you), create new ones, or leave someone out.`),
      message.el, table.el, n.el);
    table.load();
  }

  // ---- step 4: telehealth types ----
  function renderTypes() {
    const pms = pmsName();
    const message = formMessage();
    const mode = typesMode(state.system);
    const body = h('div', {});
    let types = null;
    const n = nav({
      back: () => goTo('practitioners', { message }),
      next: async () => {
        if (types && !(await types.save())) return;
        state.typesSummary = types ? { mode: 'types', marked: types.markedCount() } : { mode };
        await goTo('confirm', { message });
      },
      nextLabel: 'Save and continue',
    });
    replaceChildren(panel, stepTitle('Telehealth appointment types'), message.el, body, n.el);

    const showTypes = (intro, cachedFirst = false) => {
      types = TelehealthTypes({ connectionId: state.connection.id, pmsName: pms, cachedFirst });
      replaceChildren(body, h('p', { class: 'section-intro' }, intro), types.el);
      types.load();
    };

    if (mode === 'auto') {
      n.next.textContent = 'Continue';
      replaceChildren(body, h('div', { class: 'notice' },
        h('p', {}, `Nothing to choose here: ${pms}'s appointments say themselves whether they are telehealth (they carry the telehealth link), so pmsync picks them out without help.`)));
      return;
    }
    const gentuIntro = `${pms} has no telehealth flag: its appointment types are the practice's own. Tick the types that are telehealth consultations (video or phone). With "telehealth only" on, only appointments of these types reach the run sheet.`;
    if (mode === 'types') {
      showTypes(gentuIntro);
      return;
    }
    // The check reads the coming week's appointments from the PMS, which can take a while: the
    // services can be chosen without waiting for it.
    let listShown = false;
    const ac = new AbortController();
    checkAbort = ac;
    const waitButton = h('button', { type: 'button', class: 'button button--small' }, 'Choose services without waiting');
    const typesIntro = (check) => (check && !check.typesStepNeeded
      ? `${pms}'s appointments carry their location type, so these services are only used for an appointment that does not. Tick the ones that are telehealth.`
      : `For ${pms} appointments that do not say where they take place${check ? ` (${check.decidedByType ?? 0} of the ${plural(check.appointments ?? 0, 'appointment')} checked)` : ''}, pmsync goes by the service: tick the services that are telehealth.`);
    waitButton.addEventListener('click', () => {
      listShown = true;
      showTypes(typesIntro(null), true);
    });
    replaceChildren(body, h('div', { class: 'notice', 'aria-busy': 'true' },
      h('p', {}, `Checking how ${pms} marks telehealth appointments (pmsync looks at the coming week's appointments)…`),
      waitButton));
    api.get(paths.connectionPart(state.connection.id, 'telehealth-check'), { signal: ac.signal }).then((check) => {
      if (disposed || ac.signal.aborted) return;
      if (listShown) {
        const intro = body.querySelector('.section-intro');
        if (intro) intro.textContent = typesIntro(check);
        return;
      }
      if (check.typesStepNeeded) {
        showTypes(typesIntro(check));
      } else {
        n.next.textContent = 'Continue';
        const checked = check.appointments
          ? ` Of the ${plural(check.appointments, 'coming appointment')} checked, ${check.decidedByPms} said so themselves.`
          : '';
        const more = h('button', { type: 'button', class: 'button button--small' }, 'Choose services anyway');
        more.addEventListener('click', () => {
          listShown = true;
          showTypes(typesIntro(check));
        });
        replaceChildren(body, h('div', { class: 'notice' },
          h('p', {}, `Nothing to choose here: ${pms}'s appointments carry their location type (telehealth or clinic), so pmsync tells telehealth appointments apart by itself.${checked}`),
          more));
      }
    }).catch((e) => {
      if (disposed || e?.name === 'AbortError' || listShown) return;
      if (e instanceof ApiError && e.status === 404) {
        showTypes(typesIntro(null));
      } else {
        message.error(`pmsync could not check ${pms}'s appointments. ${explainError(e, { pmsName: pms })}`);
        showTypes(typesIntro(null));
      }
      listShown = true;
    });
  }

  // ---- step 5: confirm ----
  function renderConfirm() {
    const pms = pmsName();
    const c = state.connection;
    const message = formMessage();
    const testResult = h('div', { class: 'test-result', 'aria-live': 'polite' });
    const summary = h('ul', { class: 'summary-list' });
    const freq = field({
      label: 'Sync every', type: 'select', name: 'syncFrequencyMinutes', value: String(c.syncFrequencyMinutes || 15),
      options: [5, 10, 15, 30, 60, 120].map((m) => ({ value: String(m), label: m < 60 ? `${m} minutes` : plural(m / 60, 'hour') }))
        .concat([5, 10, 15, 30, 60, 120].includes(c.syncFrequencyMinutes) || !c.syncFrequencyMinutes ? [] : [{ value: String(c.syncFrequencyMinutes), label: `${c.syncFrequencyMinutes} minutes` }]),
    });
    const teleOnly = field({ label: 'Only telehealth appointments', type: 'checkbox', name: 'syncTelehealthOnly', value: c.syncTelehealthOnly !== false, help: 'Leave ticked for a telehealth run sheet; untick to bring every appointment.' });
    const autoColumns = field({ label: `Give practitioners added to ${pms} later their own column`, type: 'checkbox', name: 'unmappedPractitioners', value: true, help: 'Otherwise they wait, unsynced, until you map them in Settings.' });

    function fillSummary(pr, types) {
      const item = (k, v) => h('li', {}, h('span', { class: 'summary-key' }, k), h('span', {}, v));
      let practitioners;
      if (pr?.listedByPms === false) practitioners = `found on the first sync (${pms} lists them with their appointments)`;
      else if (pr) practitioners = `${plural(pr.synced, 'practitioner')} synced${pr.total > pr.synced ? ` (${pr.total - pr.synced} left out)` : ''}`;
      else practitioners = '…';
      let typesText;
      if (types?.mode === 'types') typesText = `${plural(types.marked, 'telehealth type')} selected`;
      else if (types?.mode === 'auto' || types?.mode === 'check') typesText = `decided by ${pms} for each appointment`;
      else typesText = '…';
      replaceChildren(summary,
        item('Connected to', `${c.practiceName || c.displayName} (${pms})`),
        item('Display name', c.displayName),
        item('Practitioners', practitioners),
        item('Telehealth', typesText),
        item('Syncs', `every ${freq.input.selectedOptions[0]?.textContent || `${freq.value} minutes`} · ${teleOnly.value ? 'telehealth appointments only' : 'all appointments'}`),
        item('Time zone', (c.timezone || '').replace(/_/g, ' ')));
    }
    freq.input.addEventListener('change', () => fillSummary(state.practitionerSummary, state.typesSummary));
    teleOnly.input.addEventListener('change', () => fillSummary(state.practitionerSummary, state.typesSummary));
    fillSummary(state.practitionerSummary, state.typesSummary);
    // After a resume the summaries are not known yet: read them without asking the PMS again.
    if (!state.practitionerSummary || !state.typesSummary) {
      Promise.all([
        api.get(paths.connectionPart(c.id, 'practitioners'), { query: { refresh: 'false' } }).catch(() => null),
        typesMode(state.system) === 'auto' ? Promise.resolve(null)
          : api.get(paths.connectionPart(c.id, 'appointment-types'), { query: { refresh: 'false' } }).catch(() => null),
      ]).then(([pr, ty]) => {
        if (disposed) return;
        if (!state.practitionerSummary && pr) {
          const list = (pr.practitioners || []).filter((p) => p.active !== false && p.shownInAppointmentBook !== false);
          state.practitionerSummary = {
            synced: list.filter((p) => p.syncEnabled !== false && p.clinicianId).length,
            total: list.length,
            listedByPms: list.length === 0 && (typesMode(state.system) === 'auto') ? false : pr.listedByPms,
          };
        }
        if (!state.typesSummary) {
          const mode = typesMode(state.system);
          state.typesSummary = mode === 'auto' ? { mode }
            : { mode: 'types', marked: (ty?.appointmentTypes || []).filter((t) => t.isTelehealth).length };
        }
        fillSummary(state.practitionerSummary, state.typesSummary);
      });
    }

    const testButton = h('button', { type: 'button', class: 'button' }, 'Test connection');
    testButton.addEventListener('click', () => withBusy(testButton, 'Testing…', async () => {
      try {
        const t = await api.post(paths.connectionPart(c.id, 'test'));
        replaceChildren(testResult, t.ok
          ? h('p', { class: 'form-message form-message--success', role: 'status' }, `✓ ${pms} answered in ${t.latencyMs} ms: the connection works.`)
          : h('div', { class: 'form-message form-message--error', role: 'alert' },
            h('p', {}, explainPmsKind(t.errorKind, { pmsName: pms, labels: credentialLabels(state.system) }, t.message)),
            h('p', {}, h('button', { type: 'button', class: 'button button--small', onclick: () => goTo('connect', { message }) }, 'Change the connection details'))));
      } catch (e) {
        replaceChildren(testResult, h('p', { class: 'form-message form-message--error', role: 'alert' }, explainError(e, { pmsName: pms })));
      }
    }));

    const n = nav({
      back: () => goTo('types', { message }),
      next: async () => {
        try {
          state.connection = await api.patch(paths.connection(c.id), {
            setupStep: null,
            syncEnabled: true,
            syncFrequencyMinutes: Number(freq.value),
            syncTelehealthOnly: teleOnly.value,
            unmappedPractitioners: autoColumns.value ? 'create' : 'skip',
          });
        } catch (e) {
          message.error(`The connection could not be saved. ${explainError(e, { pmsName: pms })}`);
          return;
        }
        try {
          await api.post(paths.connectionPart(c.id, 'sync'));
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 'sync_in_progress')) {
            // Saved and enabled: the scheduler syncs it soon even if this first request failed.
            announce(`Saved. The first sync starts shortly. ${explainError(e, { pmsName: pms })}`);
          }
        }
        announce(`${c.displayName} is connected: the first sync has started.`);
        navigate('#/run-sheet');
      },
      nextLabel: 'Save & start sync',
      extra: testButton,
    });
    replaceChildren(panel,
      stepTitle('Confirm and start syncing'),
      h('p', { class: 'section-intro' }, 'Check the summary. Saving turns syncing on: the first sync starts at once and the run sheet fills as it goes.'),
      message.el,
      summary,
      h('div', { class: 'form-row' }, freq.wrap),
      teleOnly.wrap,
      autoColumns.wrap,
      testResult,
      n.el);
  }

  function renderDone() {
    const c = state.connection;
    replaceChildren(stepper);
    replaceChildren(panel,
      h('h2', { id: 'wizard-step-title', tabindex: '-1' }, `${c.displayName} is set up`),
      h('p', {}, 'This connection has finished its setup. Change it under Settings.'),
      h('div', { class: 'form-actions' },
        h('a', { class: 'button button--primary', href: `#/connections/${encodeURIComponent(c.id)}/settings` }, 'Settings'),
        h('a', { class: 'button', href: '#/run-sheet' }, 'Run sheet')));
  }

  async function start() {
    replaceChildren(panel, h('p', { class: 'muted', 'aria-busy': 'true' }, 'Loading…'));
    try {
      const [sys, tz] = await Promise.all([
        getSystems(),
        api.get('/api/run-sheet/sync').catch(() => null),
      ]);
      state.systems = sys.pms || [];
      state.genericSettings = sys.genericSettings || [];
      if (tz?.timezone) state.accountTimezone = tz.timezone;
      if (connectionId) {
        state.connection = await api.get(paths.connection(connectionId));
        state.system = state.systems.find((s) => s.name === state.connection.pmsType) || null;
        state.step = state.connection.setupStep ?? null;
        if (!state.system) throw new Error('unknown PMS');
      }
    } catch (e) {
      replaceChildren(panel, h('div', { class: 'form-message form-message--error', role: 'alert' },
        h('p', {}, e instanceof ApiError && e.status === 404
          ? 'This connection no longer exists. It may have been deleted.'
          : `The setup could not be loaded. ${explainError(e)}`),
        h('p', {}, h('a', { href: '#/connections' }, 'Back to the connections'))));
      return;
    }
    render();
  }

  start();
  return {
    el,
    unmount() {
      disposed = true;
      checkAbort?.abort();
    },
  };
}
