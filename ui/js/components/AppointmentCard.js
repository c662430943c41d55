// AppointmentCard: one run-sheet appointment at a fixed height (so that live updates never move
// the cards around it): time in the practice's zone, duration, patient, phone (tap to call),
// status, telehealth and Join, where it came from, when it was synced, and manual edits.
import { h, replaceChildren } from '../dom.js';
import { displayPhone, duration, relTime, dateTimeIn, statusLabel, telHref, timeIn, listJoin } from '../format.js';

const PMS_NAMES = { gentu: 'Gentu', medirecords: 'Medirecords', halaxy: 'Halaxy', sikka: 'Sikka' };

export function pmsLabel(pmsType) {
  return PMS_NAMES[pmsType] || pmsType || 'PMS';
}

/** The fields a person changed by hand on this appointment, in words. */
export function editedFields(a) {
  const m = a.manualEdits || {};
  const out = [];
  if (m.phone) out.push('phone');
  if (m.startTime) out.push('start time');
  if (m.notes) out.push('notes');
  return out;
}

function syncedAt(a) {
  return a.pms_last_synced_at || a.pmsLastSyncedAt || null;
}

/** What the card shows, as a string: a change in it means the card is redrawn. */
export function cardSignature(a, timezone) {
  return JSON.stringify([
    a.startTime, a.endTime, a.durationMinutes, timezone, a.patient?.fullName, a.patient?.phone,
    a.status, a.isTelehealth, a.telehealthUrlProvider, a.appointmentTypeName, a.source, a.pmsType,
    a.removed, a.manualEdits?.phone, a.manualEdits?.startTime, a.manualEdits?.notes, a.notes,
    a.clinicianId,
  ]);
}

function stateClass(a) {
  if (a.removed) return 'appt--removed';
  if (a.status === 'cancelled') return 'appt--cancelled';
  if (a.status === 'no_show') return 'appt--no_show';
  return '';
}

function sourceLine(a) {
  const edited = editedFields(a);
  const parts = [];
  if (a.source === 'pms') {
    const synced = syncedAt(a);
    parts.push(h('span', { class: 'source-chip source-chip--pms', title: `From ${pmsLabel(a.pmsType)}, the practice management system` }, 'PMS'));
    parts.push(h('span', { class: 'appt-synced' }, pmsLabel(a.pmsType),
      synced ? [' · synced ', relTime(synced, { short: true })] : null));
  } else if (a.source === 'ocr') {
    parts.push(h('span', { class: 'source-chip source-chip--ocr', title: 'Read from a screenshot of the appointment book' }, 'OCR'));
    parts.push(h('span', {}, 'From a screenshot'));
  } else {
    parts.push(h('span', { class: 'source-chip source-chip--manual', title: 'Added on the run sheet by hand' }, 'Manual'));
    parts.push(h('span', {}, 'Added by hand'));
  }
  if (edited.length && a.source === 'pms') {
    parts.push(h('span', {
      class: 'edited-chip',
      title: `Changed here by hand (${listJoin(edited)}): kept when ${pmsLabel(a.pmsType)} syncs again`,
    }, 'Edited', h('span', { class: 'visually-hidden' }, `: ${listJoin(edited)} changed by hand`)));
  }
  return parts;
}

function fill(article, a, { timezone, onEdit }) {
  const start = timeIn(a.startTime, timezone);
  const removedChip = a.removed
    ? h('span', { class: 'status-chip status-chip--removed', title: a.removedAt ? `Removed ${dateTimeIn(a.removedAt, timezone)}` : undefined }, 'Removed')
    : null;
  const status = removedChip || h('span', { class: `status-chip status-chip--${a.status || 'booked'}` }, statusLabel(a.status));
  const phone = a.patient?.phone;
  const edited = editedFields(a);
  const name = a.patient?.fullName || 'Patient not named';
  const actions = [];
  if (phone) {
    actions.push(h('a', {
      class: 'appt-phone', href: telHref(phone),
      'aria-label': `Call ${name} on ${displayPhone(phone)}`,
      title: edited.includes('phone') ? 'Phone changed by hand' : 'Tap to call',
    }, h('span', { 'aria-hidden': 'true' }, '☎'), displayPhone(phone)));
  } else {
    actions.push(h('span', { class: 'appt-nophone' }, 'No phone'));
  }
  actions.push(h('span', { class: 'spacer' }));
  if (a.telehealthUrlProvider && !a.removed && a.status !== 'cancelled') {
    actions.push(h('a', {
      class: 'button button--small', href: a.telehealthUrlProvider, target: '_blank', rel: 'noopener noreferrer',
      'aria-label': `Join the telehealth call with ${name} (opens in a new tab)`,
    }, 'Join'));
  }
  if (onEdit) {
    actions.push(h('button', {
      type: 'button', class: 'button button--small', dataset: { action: 'edit' },
      'aria-label': `Edit the ${start} appointment of ${name}`,
      onclick: () => onEdit(article._appt || a),
    }, 'Edit'));
  }

  article.className = ['appt', a.isTelehealth && 'appt--tele', stateClass(a)].filter(Boolean).join(' ');
  article.dataset.status = a.removed ? 'removed' : (a.status || 'booked');
  replaceChildren(article,
    h('div', { class: 'appt-top' },
      h('span', { class: 'appt-time' }, start,
        edited.includes('start time') ? h('span', { class: 'visually-hidden' }, ' (time changed by hand)') : null),
      status),
    h('h3', { class: 'appt-patient', title: name }, name),
    h('div', { class: 'appt-line' },
      a.isTelehealth ? h('span', { class: 'tele-chip' }, 'Telehealth') : h('span', { class: 'visually-hidden' }, 'In person.'),
      h('span', { class: 'appt-duration' }, duration(a.durationMinutes)),
      a.appointmentTypeName ? h('span', { class: 'appt-type', title: a.appointmentTypeName }, `· ${a.appointmentTypeName}`) : null),
    h('div', { class: 'appt-line' }, sourceLine(a)),
    h('div', { class: 'appt-actions' }, actions));
}

/** A card (an <li> holding an <article>). ctx: {timezone, onEdit}. */
export function AppointmentCard(a, ctx) {
  const article = h('article', { class: 'appt', dataset: { id: a.id } });
  article._appt = a;
  fill(article, a, ctx);
  const li = h('li', { class: 'appt-item', dataset: { id: a.id } }, article);
  li._sig = cardSignature(a, ctx.timezone);
  li._synced = syncedAt(a);
  return li;
}

/**
 * Brings a card up to date in place. Returns true when what it shows changed (not only the
 * "synced … ago" time). Keyboard focus stays on the same control.
 */
export function updateAppointmentCard(li, a, ctx) {
  const sig = cardSignature(a, ctx.timezone);
  const article = li.firstElementChild;
  if (sig === li._sig) {
    const synced = syncedAt(a);
    if (synced && synced !== li._synced) {
      const t = article.querySelector('.appt-synced time');
      if (t) replaceChildren(t.parentElement, pmsLabel(a.pmsType), ' · synced ', relTime(synced, { short: true }));
      li._synced = synced;
    }
    article._appt = a; // the Edit button opens the newest data even when nothing visible changed
    return false;
  }
  const active = document.activeElement;
  const focusKey = article.contains(active)
    ? (active.dataset.action || (active.classList.contains('appt-phone') ? 'phone' : null))
    : null;
  article._appt = a;
  fill(article, a, ctx);
  li._sig = sig;
  li._synced = syncedAt(a);
  if (focusKey) {
    const again = focusKey === 'phone' ? article.querySelector('.appt-phone') : article.querySelector(`[data-action="${focusKey}"]`);
    (again || article.querySelector('[data-action="edit"]'))?.focus();
  }
  return true;
}
