// Sync history of a connection: #/connections/<id>/history — each run's start, type, status,
// counts, duration and error; refreshed when a sync of it finishes.
import { api, ApiError, getSystems, paths, pmsShortName } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import * as events from '../events.js';
import { explainError } from '../explain.js';
import { dateTimeIn, elapsed, relTime } from '../format.js';
import { SyncStatusBadge } from '../components/SyncStatusBadge.js';

const STATUS_WORDS = { success: 'Success', partial: 'Partial', failed: 'Failed', running: 'Running', cancelled: 'Stopped', locked: 'Skipped (locked)' };
const TYPE_WORDS = { full: 'Scheduled', incremental: 'Scheduled', manual: 'Manual' };
const COUNTS = [['fetched', 'Read'], ['created', 'New'], ['updated', 'Changed'], ['unchanged', 'Unchanged'], ['skipped', 'Skipped'], ['removed', 'Removed']];

export function mount(root, { args, app }) {
  const id = args.id;
  const title = h('h1', {}, 'Sync history');
  const sub = h('p', { class: 'muted' });
  const statusSlot = h('div', { class: 'conn-sync' });
  const stats = h('dl', { class: 'stat-row' });
  const error = h('div', { class: 'page-error', role: 'alert', hidden: true });
  const tableSlot = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  const refresh = h('button', { type: 'button', class: 'button', onclick: () => load() }, 'Refresh');
  root.append(h('div', { class: 'page' },
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/connections' }, '‹ Connections')),
    h('div', { class: 'page-header' },
      h('div', {}, title, sub),
      h('div', { class: 'header-actions' },
        h('a', { class: 'button', href: `#/connections/${encodeURIComponent(id)}/settings` }, 'Settings'), refresh)),
    statusSlot, stats, error, tableSlot));

  let disposed = false;
  let conn = null;

  function row(r) {
    const started = r.startedAt;
    const ms = r.completedAt && started ? Date.parse(r.completedAt) - Date.parse(started) : null;
    const status = r.status || 'running';
    return h('tr', {},
      h('th', { scope: 'row' }, h('span', {}, dateTimeIn(started, conn?.timezone)), h('br'), h('span', { class: 'muted' }, relTime(started))),
      h('td', {}, TYPE_WORDS[r.syncType] || r.syncType || ''),
      h('td', {}, h('span', { class: `status-text--${status}` }, STATUS_WORDS[status] || status)),
      COUNTS.map(([k]) => h('td', { class: 'num' }, String(r.counts?.[k] ?? 0))),
      h('td', { class: 'num' }, ms === null ? '…' : elapsed(ms)),
      h('td', { class: 'history-error-cell' }, r.errorMessage ? h('span', { class: 'history-error' }, r.errorMessage) : h('span', { class: 'muted' }, '—')));
  }

  async function load() {
    try {
      const [c, s, sys] = await Promise.all([
        conn ? Promise.resolve(conn) : api.get(paths.connection(id)),
        api.get(paths.connectionPart(id, 'sync'), { query: { limit: 50 } }),
        getSystems().catch(() => ({ pms: [] })),
      ]);
      if (disposed) return;
      conn = c;
      const system = (sys.pms || []).find((x) => x.name === c.pmsType);
      title.textContent = `Sync history — ${c.displayName}`;
      sub.textContent = `${pmsShortName(system, c.pmsType)}${c.practiceName ? ` · ${c.practiceName}` : ''} · the last 50 syncs, newest first`;
      app.setTitle(`${c.displayName} sync history`);
      replaceChildren(statusSlot, SyncStatusBadge(s));
      replaceChildren(stats,
        h('div', {}, h('dt', {}, 'Next sync'), h('dd', {}, s.running ? 'running now' : (s.queued ? 'waiting to start' : (s.nextSyncAt ? relTime(s.nextSyncAt) : (s.syncEnabled ? 'soon' : 'automatic syncing is off'))))),
        h('div', {}, h('dt', {}, 'Every'), h('dd', {}, `${s.syncFrequencyMinutes} minutes`)),
        h('div', {}, h('dt', {}, 'Failures in a row'), h('dd', {}, String(s.consecutiveFailures ?? 0))));
      error.hidden = true;
      const history = s.history || [];
      tableSlot.removeAttribute('aria-busy');
      if (history.length === 0) {
        replaceChildren(tableSlot, h('p', { class: 'muted' }, 'No syncs yet.'));
        return;
      }
      replaceChildren(tableSlot, h('div', { class: 'table-wrap' },
        h('table', { class: 'data history-table' },
          h('caption', { class: 'visually-hidden' }, 'Syncs, newest first'),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Started'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Status'),
            COUNTS.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)),
            h('th', { scope: 'col', class: 'num' }, 'Took'), h('th', { scope: 'col' }, 'Error'))),
          h('tbody', {}, history.map(row)))));
    } catch (e) {
      if (disposed) return;
      tableSlot.removeAttribute('aria-busy');
      error.textContent = e instanceof ApiError && e.status === 404
        ? 'This connection no longer exists.'
        : `The sync history could not be loaded. ${explainError(e)}`;
      error.hidden = false;
    }
  }

  const offs = [
    events.on('sync.started', (d) => { if (d.connectionId === id) load(); }),
    events.on('sync.finished', (d) => { if (d.connectionId === id) load(); }),
  ];
  load();
  return {
    unmount() {
      disposed = true;
      offs.forEach((off) => off());
    },
  };
}
