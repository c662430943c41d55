// Connections: a PMSConnectionCard per connection, live sync status, and "Connect a PMS".
import { api, getSystems } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import * as events from '../events.js';
import { explainError } from '../explain.js';
import { PMSConnectionCard, progressText } from '../components/PMSConnectionCard.js';
import { session } from '../session.js';

export function mount(root) {
  const grid = h('div', { class: 'card-grid', 'aria-busy': 'true' },
    [0, 1].map(() => h('div', { class: 'conn-card conn-card--placeholder', 'aria-hidden': 'true' })));
  const error = h('div', { class: 'page-error', role: 'alert', hidden: true });
  const headerActions = session.isAdmin
    ? h('a', { class: 'button button--primary', href: '#/setup' }, 'Connect a PMS')
    : null;
  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-header' },
      h('div', {},
        h('h1', {}, 'PMS connections'),
        h('p', { class: 'muted' }, session.isAdmin
          ? 'Each connection brings a practice\'s appointments from its practice management system onto the run sheet.'
          : 'The practice management systems that fill the run sheet. An administrator manages them.')),
      headerActions),
    error,
    grid));

  const cards = new Map();
  let systems = [];
  const progress = new Map();
  let connections = [];
  let statuses = new Map();
  let refreshTimer = null;
  let disposed = false;

  function statusOf(id) {
    return statuses.get(id) || null;
  }

  function render() {
    grid.removeAttribute('aria-busy');
    if (connections.length === 0) {
      cards.clear();
      replaceChildren(grid, h('div', { class: 'empty-state' },
        h('h2', {}, 'No PMS connected yet'),
        session.isAdmin
          ? [
            h('p', {}, 'Connect your practice management system — Gentu, Medirecords or Halaxy — and today\'s telehealth appointments appear on the run sheet by themselves, kept up to date every few minutes.'),
            h('p', {}, 'You need the PMS\'s API details (and, for Gentu, a pairing code from the Gentu Marketplace). It takes about five minutes.'),
            h('a', { class: 'button button--primary', href: '#/setup' }, 'Connect a PMS'),
          ]
          : h('p', {}, 'Ask an administrator of your account to connect your practice management system. Until then you can add appointments to the run sheet by hand.')));
      return;
    }
    const seen = new Set();
    const ordered = [];
    for (const c of connections) {
      seen.add(c.id);
      const system = systems.find((s) => s.name === c.pmsType);
      let card = cards.get(c.id);
      if (!card) {
        card = PMSConnectionCard({ connection: c, status: statusOf(c.id), system, onSynced: scheduleRefresh });
        cards.set(c.id, card);
      } else {
        card.update({ connection: c, status: statusOf(c.id), system, progress: progress.get(c.id) || '' });
      }
      ordered.push(card.el);
    }
    for (const id of [...cards.keys()]) if (!seen.has(id)) cards.delete(id);
    // Re-order without detaching cards that are already in place (keeps focus and scroll).
    if (grid.querySelector('.empty-state, .conn-card--placeholder')) grid.replaceChildren();
    ordered.forEach((el, i) => {
      if (grid.children[i] !== el) grid.insertBefore(el, grid.children[i] || null);
    });
    while (grid.children.length > ordered.length) grid.lastElementChild.remove();
  }

  async function load() {
    try {
      const [list, sync, sys] = await Promise.all([
        api.get('/api/pms/connections'),
        api.get('/api/pms/sync'),
        getSystems().catch(() => ({ pms: [] })),
      ]);
      if (disposed) return;
      systems = sys.pms || [];
      connections = list.connections || [];
      statuses = new Map((sync.connections || []).map((s) => [s.connectionId, s]));
      error.hidden = true;
      render();
    } catch (e) {
      if (disposed) return;
      error.textContent = `The connections could not be loaded. ${explainError(e)}`;
      error.hidden = false;
      if (connections.length === 0) grid.replaceChildren();
    }
  }

  async function refreshStatuses() {
    try {
      const sync = await api.get('/api/pms/sync');
      if (disposed) return;
      statuses = new Map((sync.connections || []).map((s) => [s.connectionId, s]));
      for (const c of connections) {
        cards.get(c.id)?.update({ status: statusOf(c.id), progress: progress.get(c.id) || '' });
      }
    } catch {
      // The next event or the periodic refresh tries again.
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshStatuses, 300);
  }

  const offs = [
    events.on('sync.started', (d) => {
      const s = statusOf(d.connectionId);
      if (s) statuses.set(d.connectionId, { ...s, running: true, queued: false });
      progress.set(d.connectionId, '');
      cards.get(d.connectionId)?.update({ status: statusOf(d.connectionId), progress: '' });
    }),
    events.on('sync.progress', (d) => {
      progress.set(d.connectionId, progressText(d));
      const s = statusOf(d.connectionId);
      if (s && !s.running) statuses.set(d.connectionId, { ...s, running: true, queued: false });
      cards.get(d.connectionId)?.update({ status: statusOf(d.connectionId), progress: progress.get(d.connectionId) });
    }),
    events.on('sync.finished', (d) => {
      progress.delete(d.connectionId);
      // A new connection (made elsewhere) or one that finished its setup: reload the list too.
      if (!cards.has(d.connectionId)) load();
      else scheduleRefresh();
    }),
    events.on('reconnected', () => load()),
    events.on('reset', () => load()),
  ];
  const poll = setInterval(load, 60000);
  load();

  return {
    unmount() {
      disposed = true;
      clearInterval(poll);
      clearTimeout(refreshTimer);
      offs.forEach((off) => off());
    },
  };
}
