// RunSheetSidebar: the run sheet's columns (clinicians) with their counts — a button jumps to a
// column — and each PMS connection's sync status with live progress; a key to the card styles.
import { h, replaceChildren } from '../dom.js';
import { plural } from '../format.js';
import { SyncStatusBadge } from './SyncStatusBadge.js';

/** Appointments that count for a column: not removed, not cancelled. */
export function activeCount(list) {
  return list.filter((a) => !a.removed && a.status !== 'cancelled').length;
}

/**
 * Returns {el, update({columns, connections, progress})}.
 * columns: [{id, name, appointments}], connections: SyncStatus[], progress: Map(connectionId → text).
 * onJump(columnId): focus that column.
 */
export function RunSheetSidebar({ onJump }) {
  const columnsList = h('ul', { class: 'sidebar-list', 'aria-labelledby': 'sidebar-columns-title' });
  const connList = h('div', { class: 'sidebar-conns' });
  const el = h('aside', { class: 'runsheet-sidebar', 'aria-label': 'Run sheet overview' },
    h('section', { class: 'sidebar-section' },
      h('h2', { id: 'sidebar-columns-title' }, 'Clinicians'),
      columnsList),
    h('section', { class: 'sidebar-section', 'aria-labelledby': 'sidebar-sync-title' },
      h('h2', { id: 'sidebar-sync-title' }, 'PMS sync'),
      connList),
    h('section', { class: 'sidebar-section sidebar-legend', 'aria-labelledby': 'sidebar-key-title' },
      h('h2', { id: 'sidebar-key-title' }, 'Key'),
      h('dl', {},
        h('dt', {}, h('span', { class: 'tele-chip' }, 'Telehealth')), h('dd', {}, 'video or phone consult'),
        h('dt', {}, h('span', { class: 'source-chip' }, 'PMS')), h('dd', {}, 'synced from the PMS'),
        h('dt', {}, h('span', { class: 'source-chip source-chip--manual' }, 'Manual')), h('dd', {}, 'added here by hand'),
        h('dt', {}, h('span', { class: 'source-chip source-chip--ocr' }, 'OCR')), h('dd', {}, 'read from a screenshot'),
        h('dt', {}, h('span', { class: 'edited-chip' }, 'Edited')), h('dd', {}, 'changed here; kept on sync'),
        h('dt', {}, h('span', { class: 'status-chip status-chip--cancelled' }, 'Cancelled')), h('dd', {}, 'struck through'),
        h('dt', {}, h('span', { class: 'status-chip status-chip--removed' }, 'Removed')), h('dd', {}, 'gone from the PMS'))));

  let lastColumnsKey = '';

  function renderColumns(columns) {
    const key = JSON.stringify(columns.map((c) => [c.id, c.name, activeCount(c.appointments)]));
    if (key === lastColumnsKey) return;
    lastColumnsKey = key;
    const focusedId = columnsList.contains(document.activeElement) ? document.activeElement.dataset.column : null;
    if (columns.length === 0) {
      replaceChildren(columnsList, h('li', { class: 'muted' }, 'No columns yet'));
      return;
    }
    replaceChildren(columnsList, columns.map((c) => {
      const n = activeCount(c.appointments);
      return h('li', {},
        h('button', {
          type: 'button', class: 'sidebar-clinician', dataset: { column: c.id },
          onclick: () => onJump?.(c.id),
        },
        h('span', { class: 'name' }, c.name),
        h('span', { class: 'count' }, String(n), h('span', { class: 'visually-hidden' }, ` ${n === 1 ? 'appointment' : 'appointments'}`))));
    }));
    if (focusedId) columnsList.querySelector(`[data-column="${CSS.escape(focusedId)}"]`)?.focus();
  }

  function renderConnections(connections, progress) {
    if (!connections || connections.length === 0) {
      replaceChildren(connList, h('p', { class: 'muted' }, 'No PMS is connected.'));
      return;
    }
    replaceChildren(connList, connections.map((s) => h('div', { class: 'sidebar-conn', dataset: { connectionId: s.connectionId } },
      h('span', { class: 'sidebar-conn-name' }, s.displayName),
      SyncStatusBadge(s, { compact: false, progress: progress?.get(s.connectionId) || '' }))));
  }

  return {
    el,
    update({ columns, connections, progress }) {
      if (columns) renderColumns(columns);
      if (connections) renderConnections(connections, progress);
    },
  };
}

export function columnSummary(columns) {
  const total = columns.reduce((n, c) => n + activeCount(c.appointments), 0);
  return plural(total, 'appointment');
}
