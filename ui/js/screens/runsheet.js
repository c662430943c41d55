// The run sheet: a day in columns per clinician, live. Appointment events for the shown day
// re-fetch it (debounced); cards are reconciled by id and keep a fixed height, and the old day stays
// on screen until the new one has arrived, so nothing jumps.
import { api, ApiError } from '../api.js';
import { announce, h, replaceChildren, withBusy } from '../dom.js';
import * as events from '../events.js';
import { explainError } from '../explain.js';
import { addDays, isDate, longDate, plural, relTime, shortDate } from '../format.js';
import { hashFor, navigate } from '../router.js';
import { session } from '../session.js';
import { AppointmentCard, updateAppointmentCard } from '../components/AppointmentCard.js';
import { openAppointmentDialog } from '../components/AppointmentDialog.js';
import { progressText } from '../components/PMSConnectionCard.js';
import { activeCount, RunSheetSidebar } from '../components/RunSheetSidebar.js';

const REFETCH_DEBOUNCE_MS = 300;

export function mount(root, ctx) {
  let requestedDate = isDate(ctx.params.get('date')) ? ctx.params.get('date') : null; // null: today
  let showRemoved = ctx.params.get('removed') === '1';
  let sheet = null; // the last day received
  let todayDate = null; // the practice's today, learned from a load without a date
  let loading = false;
  let inflight = null;
  let refetchTimer = null;
  let disposed = false;
  let loadedAt = null;
  let changedIds = new Set();
  let syncRequested = false;
  const progress = new Map(); // connectionId -> text
  const columnEls = new Map(); // column id -> {section, list, title, count}
  const cardEls = new Map(); // appointment id -> li

  // ---- layout ----
  const sidebar = RunSheetSidebar({ onJump: jumpTo });
  const title = h('h1', { id: 'runsheet-title' }, h('span', { class: 'visually-hidden' }, 'Run sheet for '), h('span', { class: 'runsheet-date' }, requestedDate ? longDate(requestedDate) : 'Today'));
  const dateInput = h('input', { type: 'date', id: 'runsheet-date', value: requestedDate || '' });
  const prev = h('button', { type: 'button', class: 'button button--icon', 'aria-label': 'Previous day', title: 'Previous day', onclick: () => goDate(sheet ? addDays(sheet.date, -1) : null) }, h('span', { 'aria-hidden': 'true' }, '‹'));
  const next = h('button', { type: 'button', class: 'button button--icon', 'aria-label': 'Next day', title: 'Next day', onclick: () => goDate(sheet ? addDays(sheet.date, 1) : null) }, h('span', { 'aria-hidden': 'true' }, '›'));
  const today = h('button', { type: 'button', class: 'button button--quiet', onclick: () => goDate(null) }, 'Today');
  const removedToggle = h('input', { type: 'checkbox', id: 'show-removed' });
  removedToggle.checked = showRemoved;
  const addButton = h('button', { type: 'button', class: 'button', onclick: () => addAppointment() }, 'Add appointment');
  const syncButton = h('button', { type: 'button', class: 'button button--primary', onclick: () => syncNow() }, 'Sync now');
  const statusLoading = h('span', { class: 'loading', hidden: true, role: 'status' });
  const statusText = h('span', { class: 'status-text' });
  const statusSync = h('span', { class: 'sync-progress', 'aria-live': 'polite' });
  const statusError = h('span', { class: 'error', role: 'alert' });
  const tzNote = h('span', { class: 'timezone-note' });
  const columns = h('div', { class: 'columns', id: 'runsheet-columns', 'aria-labelledby': 'runsheet-title', 'aria-busy': 'true' },
    [0, 1, 2, 3].map(() => h('section', { class: 'column column--placeholder', 'aria-hidden': 'true' },
      h('div', { class: 'column-header' }, h('h2', {}, '…')),
      h('ul', { class: 'column-list' }, h('li', {}), h('li', {})))));

  root.append(h('div', { class: 'runsheet' },
    sidebar.el,
    h('div', { class: 'runsheet-main' },
      h('div', { class: 'runsheet-toolbar' },
        title,
        h('div', { class: 'date-nav', role: 'group', 'aria-label': 'Day' },
          prev,
          h('label', { for: 'runsheet-date', class: 'visually-hidden' }, 'Date to show'),
          dateInput,
          next,
          today),
        h('span', { class: 'toolbar-spacer' }),
        addButton,
        syncButton),
      h('div', { class: 'runsheet-status' }, statusLoading, statusText, statusSync, statusError,
        h('span', { class: 'status-spacer' }),
        h('label', { class: 'toolbar-check', for: 'show-removed' }, removedToggle, 'Show removed'),
        tzNote),
      columns)));

  dateInput.addEventListener('change', () => {
    if (isDate(dateInput.value)) goDate(dateInput.value);
  });
  removedToggle.addEventListener('change', () => {
    showRemoved = removedToggle.checked;
    navigate(hashFor('/run-sheet', { date: requestedDate, removed: showRemoved ? '1' : '' }), { silent: true });
    load();
  });

  function goDate(date) {
    if (date && date === todayDate) date = null;
    navigate(hashFor('/run-sheet', { date, removed: showRemoved ? '1' : '' }));
  }

  // ---- loading ----
  async function load({ live = false } = {}) {
    if (inflight) inflight.abort();
    const ac = new AbortController();
    inflight = ac;
    loading = true;
    // Keep the current day on screen; say that a new one is on its way.
    if (!live) {
      statusLoading.textContent = requestedDate ? `Loading ${shortDate(requestedDate)}…` : 'Loading…';
      statusLoading.hidden = false;
      columns.setAttribute('aria-busy', 'true');
    }
    try {
      const data = await api.get('/api/run-sheet', {
        query: {
          date: requestedDate, include: 'pms_status', include_removed: showRemoved ? 'true' : undefined,
        },
        signal: ac.signal,
      });
      if (disposed || inflight !== ac) return;
      const sameDay = sheet && sheet.date === data.date;
      sheet = data;
      if (!requestedDate) todayDate = data.date;
      loadedAt = new Date().toISOString();
      statusError.textContent = '';
      render({ flash: live && sameDay });
    } catch (e) {
      if (e?.name === 'AbortError' || disposed) return;
      if (e instanceof ApiError && e.status === 401) return; // the app shows sign-in
      statusError.replaceChildren(`The run sheet could not be loaded. ${explainError(e)} `,
        h('button', { type: 'button', class: 'button button--small', onclick: () => load() }, 'Try again'));
      if (!sheet) {
        replaceChildren(columns);
        columns.removeAttribute('aria-busy');
      }
    } finally {
      if (inflight === ac) {
        inflight = null;
        loading = false;
        statusLoading.hidden = true;
        columns.removeAttribute('aria-busy');
      }
    }
  }

  function scheduleRefetch(id) {
    if (id) changedIds.add(id);
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(() => load({ live: true }), REFETCH_DEBOUNCE_MS);
  }

  // ---- rendering ----
  function allColumns() {
    const cols = (sheet?.clinicians || []).map((c) => ({ id: c.id, name: c.name, appointments: c.appointments || [] }));
    if (sheet?.unassigned?.length) cols.push({ id: '__unassigned', name: 'Unassigned', appointments: sheet.unassigned, unassigned: true });
    return cols;
  }

  function render({ flash = false } = {}) {
    const tz = sheet.timezone;
    const isToday = !requestedDate || sheet.date === todayDate;
    replaceChildren(title.lastElementChild, longDate(sheet.date), isToday ? h('span', { class: 'today-mark' }, ' · today') : null);
    dateInput.value = sheet.date;
    tzNote.textContent = `Times in ${tz.replace(/_/g, ' ')}`;
    today.disabled = !requestedDate;
    ctx.app.setTitle(`Run sheet ${shortDate(sheet.date)}`);
    const cols = allColumns();
    const total = cols.reduce((n, c) => n + activeCount(c.appointments), 0);
    statusText.replaceChildren(`${plural(total, 'appointment')} · updated `, relTime(loadedAt));

    sidebar.update({ columns: cols, connections: sheet.pmsStatus?.connections || [], progress });
    updateSyncText();

    if (cols.length === 0) {
      columnEls.clear();
      cardEls.clear();
      replaceChildren(columns, h('div', { class: 'runsheet-empty' },
        h('h2', {}, 'The run sheet has no columns yet'),
        session.isAdmin
          ? [h('p', {}, 'Connect your practice management system: each practitioner becomes a column, and their telehealth appointments appear here by themselves.'),
            h('a', { class: 'button button--primary', href: '#/setup' }, 'Connect a PMS')]
          : h('p', {}, 'An administrator needs to connect the practice management system first.')));
      return;
    }
    if (columns.querySelector('.column--placeholder, .runsheet-empty')) columns.replaceChildren();

    const seenCols = new Set();
    const seenCards = new Set();
    const ctxCard = { timezone: tz, onEdit: (a) => editAppointment(a) };
    cols.forEach((col, i) => {
      seenCols.add(col.id);
      let c = columnEls.get(col.id);
      if (!c) {
        const titleId = `col-${col.id}`;
        const list = h('ul', { class: 'column-list', 'aria-labelledby': titleId });
        const colTitle = h('h2', { id: titleId, tabindex: '-1' }, col.name);
        const count = h('span', { class: 'column-count' });
        const section = h('section', { class: ['column', col.unassigned && 'column--unassigned'], dataset: { column: col.id }, 'aria-labelledby': titleId },
          h('div', { class: 'column-header' }, colTitle, count), list);
        c = { section, list, title: colTitle, count };
        columnEls.set(col.id, c);
      }
      if (c.title.textContent !== col.name) c.title.textContent = col.name;
      const n = activeCount(col.appointments);
      replaceChildren(c.count, String(n), h('span', { class: 'visually-hidden' }, n === 1 ? ' appointment' : ' appointments'));
      if (columns.children[i] !== c.section) columns.insertBefore(c.section, columns.children[i] || null);

      const items = [];
      for (const a of col.appointments) {
        seenCards.add(a.id);
        let li = cardEls.get(a.id);
        if (!li) {
          li = AppointmentCard(a, ctxCard);
          cardEls.set(a.id, li);
          if (flash) markChanged(li);
        } else if (updateAppointmentCard(li, a, ctxCard) && flash) {
          markChanged(li);
        } else if (flash && changedIds.has(a.id)) {
          markChanged(li);
        }
        items.push(li);
      }
      if (items.length === 0) {
        const empty = c.list.querySelector('.column-empty') || h('li', { class: 'column-empty' }, 'No appointments');
        items.push(empty);
      }
      items.forEach((li, j) => {
        if (c.list.children[j] !== li) c.list.insertBefore(li, c.list.children[j] || null);
      });
      while (c.list.children.length > items.length) c.list.lastElementChild.remove();
    });
    for (const [id, c] of columnEls) {
      if (!seenCols.has(id)) {
        c.section.remove();
        columnEls.delete(id);
      }
    }
    for (const [id, li] of cardEls) {
      if (!seenCards.has(id)) {
        li.remove();
        cardEls.delete(id);
      }
    }
    changedIds = new Set();
  }

  function markChanged(li) {
    const article = li.firstElementChild;
    article.classList.remove('appt--changed');
    // Restart the highlight (a reflow between remove and add).
    void article.offsetWidth;
    article.classList.add('appt--changed');
    article.addEventListener('animationend', () => article.classList.remove('appt--changed'), { once: true });
  }

  function jumpTo(columnId) {
    const c = columnEls.get(columnId);
    if (!c) return;
    c.section.scrollIntoView({ behavior: 'smooth', inline: 'nearest', block: 'nearest' });
    c.title.focus({ preventScroll: true });
  }

  function connName(id) {
    return sheet?.pmsStatus?.connections?.find((s) => s.connectionId === id)?.displayName || 'the PMS';
  }

  let clearSyncTextTimer = null;
  function updateSyncText() {
    const conns = sheet?.pmsStatus?.connections || [];
    const running = conns.filter((s) => s.running || s.queued);
    if (running.length) {
      clearTimeout(clearSyncTextTimer);
      statusSync.textContent = running.map((s) => {
        const p = progress.get(s.connectionId);
        return `Syncing ${s.displayName}…${p ? ` ${p}` : ''}`;
      }).join(' · ');
      return;
    }
    if (syncRequested) {
      // The sync asked for here has finished (or had nothing to do): say how it went.
      syncRequested = false;
      const failed = conns.filter((s) => s.lastSyncStatus === 'failed');
      const partial = conns.filter((s) => s.lastSyncStatus === 'partial');
      const text = failed.length
        ? `Sync failed for ${failed.map((s) => s.displayName).join(', ')}: see Connections.`
        : (partial.length ? 'Sync finished with some problems: see Connections.' : 'Sync finished.');
      statusSync.textContent = text;
      announce(text);
      clearTimeout(clearSyncTextTimer);
      clearSyncTextTimer = setTimeout(() => {
        if (!(sheet?.pmsStatus?.connections || []).some((s) => s.running || s.queued)) statusSync.textContent = '';
      }, 10000);
    } else if (/^Syncing /.test(statusSync.textContent)) {
      statusSync.textContent = '';
    }
  }

  function setConnStatus(id, patch) {
    const list = sheet?.pmsStatus?.connections;
    const s = list?.find((x) => x.connectionId === id);
    if (s) Object.assign(s, patch);
    sidebar.update({ connections: list || [], progress });
    updateSyncText();
  }

  // ---- actions ----
  async function syncNow() {
    statusError.textContent = '';
    await withBusy(syncButton, 'Starting…', async () => {
      try {
        const res = await api.post('/api/run-sheet/sync');
        const queued = (res?.connections || []);
        syncRequested = true;
        for (const c of queued) setConnStatus(c.connectionId, { queued: true });
        if (!queued.length) updateSyncText();
        // The sync may even be over already: the day's pmsStatus says (and brings what changed).
        scheduleRefetch();
      } catch (e) {
        if (e instanceof ApiError && e.code === 'sync_in_progress') {
          syncRequested = true;
          statusSync.textContent = 'Already syncing: the run sheet updates when it finishes.';
        } else {
          statusError.textContent = explainError(e, { action: 'run-sheet-sync' });
        }
      }
    });
  }

  async function clinicianList() {
    try {
      const res = await api.get('/api/run-sheet/clinicians');
      return res.clinicians || [];
    } catch {
      return (sheet?.clinicians || []).map((c) => ({ id: c.id, name: c.name }));
    }
  }

  async function addAppointment() {
    if (!sheet) return;
    const clinicians = await clinicianList();
    if (clinicians.length === 0) {
      statusError.textContent = session.isAdmin
        ? 'There are no run-sheet columns yet: connect a PMS first (Connections).'
        : 'There are no run-sheet columns yet: ask an administrator to connect the PMS.';
      return;
    }
    openAppointmentDialog({
      date: sheet.date, timezone: sheet.timezone, clinicians,
      defaultClinicianId: clinicians.length === 1 ? clinicians[0].id : '',
      onSaved: (saved) => {
        if (saved?.id) changedIds.add(saved.id);
        scheduleRefetch();
      },
    });
  }

  async function editAppointment(a) {
    const clinicians = await clinicianList();
    openAppointmentDialog({
      appointment: a, date: sheet.date, timezone: sheet.timezone, clinicians,
      onSaved: (saved) => {
        if (saved?.id) changedIds.add(saved.id);
        scheduleRefetch();
      },
    });
  }

  // ---- live ----
  const offs = [
    events.on('appointment.created', onAppointmentEvent),
    events.on('appointment.updated', onAppointmentEvent),
    events.on('appointment.removed', onAppointmentEvent),
    events.on('reset', () => scheduleRefetch()),
    events.on('reconnected', () => scheduleRefetch()),
    events.on('sync.started', (d) => {
      progress.set(d.connectionId, '');
      setConnStatus(d.connectionId, { running: true, queued: false });
    }),
    events.on('sync.progress', (d) => {
      progress.set(d.connectionId, progressText(d));
      setConnStatus(d.connectionId, { running: true, queued: false });
    }),
    events.on('sync.finished', (d) => {
      progress.delete(d.connectionId);
      setConnStatus(d.connectionId, { running: false, queued: false, lastSyncStatus: d.status || null });
      scheduleRefetch();
    }),
  ];

  function onAppointmentEvent(d) {
    if (!sheet || !d.date || d.date === sheet.date) {
      scheduleRefetch(d.id);
    }
  }

  // A safety net: while the live stream is down, and every 5 minutes for "today" (it rolls over).
  const poll = setInterval(() => {
    if (loading || disposed) return;
    const stale = Date.now() - Date.parse(loadedAt || 0);
    if (events.liveStatus() !== 'live' && stale > 25000) load({ live: true });
    else if (!requestedDate && stale > 300000) load({ live: true });
  }, 30000);

  load();

  return {
    update(next) {
      const d = isDate(next.params.get('date')) ? next.params.get('date') : null;
      const r = next.params.get('removed') === '1';
      if (d === requestedDate && r === showRemoved) return true;
      requestedDate = d;
      showRemoved = r;
      removedToggle.checked = r;
      if (d) dateInput.value = d;
      load();
      return true;
    },
    unmount() {
      disposed = true;
      inflight?.abort();
      clearTimeout(refetchTimer);
      clearInterval(poll);
      offs.forEach((off) => off());
    },
  };
}
