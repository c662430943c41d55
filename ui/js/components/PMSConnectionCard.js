// PMSConnectionCard: one PMS connection — its PMS, practice, display name, sync status, and the
// actions the signed-in role may take (Sync now, Settings, History, Continue setup).
import { api, ApiError, paths, pmsShortName } from '../api.js';
import { h, replaceChildren, withBusy } from '../dom.js';
import { explainError } from '../explain.js';
import { plural } from '../format.js';
import { session } from '../session.js';
import { SyncStatusBadge } from './SyncStatusBadge.js';

export const SETUP_STEPS = [
  { key: 'select', label: 'Choose PMS' },
  { key: 'connect', label: 'Connect' },
  { key: 'practitioners', label: 'Practitioners' },
  { key: 'types', label: 'Telehealth types' },
  { key: 'confirm', label: 'Confirm' },
];

export function setupStepLabel(step) {
  return SETUP_STEPS.find((s) => s.key === step)?.label || step;
}

/** "42 read, 3 new, 1 changed" from a sync.progress event (or a sync log's counts). */
export function progressText(p) {
  if (!p) return '';
  const parts = [];
  if (p.fetched !== undefined) parts.push(`${p.fetched} read`);
  if (p.created) parts.push(`${p.created} new`);
  if (p.updated) parts.push(`${p.updated} changed`);
  if (p.removed) parts.push(`${p.removed} removed`);
  return parts.join(', ');
}

export function frequencyText(conn) {
  const m = conn.syncFrequencyMinutes;
  if (!m) return '';
  if (m % 60 === 0 && m >= 60) return `every ${plural(m / 60, 'hour')}`;
  return `every ${plural(m, 'minute')}`;
}

/**
 * Creates a card. Returns {el, update({connection, status, system, progress})}.
 * onSynced: called after a sync was queued (so the page can refresh its statuses).
 */
export function PMSConnectionCard({ connection, status, system, onSynced }) {
  let conn = connection;
  let sync = status;
  let sys = system;
  let progress = '';
  const titleId = `conn-${conn.id}-title`;
  const el = h('article', { class: 'conn-card', 'aria-labelledby': titleId, dataset: { connectionId: conn.id } });
  const message = h('p', { class: 'card-message', role: 'status', 'aria-live': 'polite' });
  let messageTimer = null;

  function say(text, kind = 'info') {
    clearTimeout(messageTimer);
    message.textContent = text;
    message.className = `card-message card-message--${kind}`;
    if (kind !== 'error') {
      messageTimer = setTimeout(() => {
        message.textContent = '';
      }, 8000);
    }
  }

  async function syncNow(button) {
    await withBusy(button, 'Starting…', async () => {
      try {
        const st = await api.post(paths.connectionPart(conn.id, 'sync'));
        sync = { ...sync, ...st, queued: st?.queued ?? true };
        say(`Sync started: ${pmsShortName(sys, conn.pmsType)} is being read.`);
        render();
        onSynced?.(conn.id);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'sync_in_progress') {
          say('Already syncing: the status updates when that sync finishes.');
        } else {
          say(explainError(e, { pmsName: pmsShortName(sys, conn.pmsType), action: 'sync' }), 'error');
        }
      }
    });
  }

  function render() {
    const pmsName = pmsShortName(sys, conn.pmsType);
    const admin = session.isAdmin;
    const inSetup = conn.setupStep !== null && conn.setupStep !== undefined;
    const details = h('dl', { class: 'conn-details' },
      h('div', {}, h('dt', {}, 'Practice'),
        h('dd', {}, conn.practiceName || h('span', { class: 'muted' }, inSetup ? 'Not connected yet' : `Not given by ${pmsShortName(sys, conn.pmsType)}`))),
      h('div', {}, h('dt', {}, 'Time zone'), h('dd', {}, (conn.timezone || '').replace(/_/g, ' '))),
      h('div', {}, h('dt', {}, 'Syncs'),
        h('dd', {}, conn.syncEnabled ? frequencyText(conn) : 'Off',
          conn.syncTelehealthOnly ? ' · telehealth only' : ' · all appointments')));

    const actions = [];
    if (admin && inSetup) {
      actions.push(h('a', { class: 'button button--primary', href: `#/setup/${encodeURIComponent(conn.id)}` }, 'Continue setup'));
    }
    if (admin && !inSetup) {
      const b = h('button', { type: 'button', class: 'button button--primary' }, 'Sync now');
      b.addEventListener('click', () => syncNow(b));
      actions.push(b);
    }
    if (admin) {
      actions.push(h('a', { class: 'button', href: `#/connections/${encodeURIComponent(conn.id)}/settings` }, 'Settings'));
      actions.push(h('a', { class: 'button button--quiet', href: `#/connections/${encodeURIComponent(conn.id)}/history` }, 'History'));
    }

    replaceChildren(el,
      h('header', { class: 'conn-card-header' },
        h('h2', { id: titleId, class: 'conn-card-title' }, conn.displayName),
        h('span', { class: `pms-chip pms-chip--${conn.pmsType}` }, pmsName)),
      details,
      inSetup
        ? h('p', { class: 'setup-note' },
          h('span', { class: 'badge badge--setup' }, h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, '…'), h('span', {}, 'Setup not finished')),
          ` Next step: ${setupStepLabel(conn.setupStep)}.`)
        : h('div', { class: 'conn-sync' }, SyncStatusBadge(sync, { progress })),
      h('div', { class: 'card-actions' }, actions),
      message);
  }

  render();
  return {
    el,
    id: conn.id,
    update({ connection: c, status: s, system: y, progress: p } = {}) {
      if (c) conn = c;
      if (s) sync = s;
      if (y) sys = y;
      if (p !== undefined) progress = p;
      // Keep keyboard focus on the same action when the card is redrawn.
      const focused = el.contains(document.activeElement) ? document.activeElement.textContent : null;
      render();
      if (focused) {
        const again = [...el.querySelectorAll('a, button')].find((b) => b.textContent === focused);
        again?.focus();
      }
    },
  };
}
