// SyncStatusBadge: a connection's sync state in words (never colour alone): syncing…, synced,
// partly synced, failed, not synced yet — with the last sync time ("3 minutes ago", kept current)
// and, after a failure, the error text.
import { h } from '../dom.js';
import { relTime } from '../format.js';

/** The state key of a sync status: syncing | success | partial | failed | never. */
export function syncState(status) {
  if (!status) return 'never';
  if (status.running || status.queued) return 'syncing';
  return status.lastSyncStatus || 'never';
}

const LABELS = {
  syncing: 'Syncing…',
  success: 'Synced',
  partial: 'Partly synced',
  failed: 'Sync failed',
  cancelled: 'Sync stopped',
  never: 'Not synced yet',
};

const ICONS = { syncing: '↻', success: '✓', partial: '!', failed: '✕', cancelled: '■', never: '○' };

/**
 * status: a SyncStatus ({running, queued, lastSyncAt, lastSyncStatus, lastSyncError, syncEnabled}).
 * options: compact (one line, no error text), progress (text such as "42 read, 3 new").
 */
export function SyncStatusBadge(status, { compact = false, progress = '' } = {}) {
  const state = syncState(status);
  const label = state === 'syncing' && status?.queued && !status?.running ? 'Waiting to sync…' : (LABELS[state] || state);
  const badge = h('span', { class: `badge badge--${state}` },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, ICONS[state] || '•'),
    h('span', { class: 'badge-label' }, label));
  const parts = [badge];
  if (progress && state === 'syncing') parts.push(h('span', { class: 'sync-progress' }, progress));
  if (status?.lastSyncAt) {
    const verb = state === 'syncing' ? 'last synced' : (state === 'failed' ? 'tried' : '');
    parts.push(h('span', { class: 'sync-when' }, verb ? `${verb} ` : '', relTime(status.lastSyncAt)));
  }
  if (status && status.syncEnabled === false && state !== 'syncing') {
    parts.push(h('span', { class: 'sync-off' }, 'Automatic syncing is off'));
  }
  const el = h('div', { class: ['sync-status', compact && 'sync-status--compact'], dataset: { state } }, parts);
  if (!compact && (state === 'failed' || state === 'partial') && status?.lastSyncError) {
    el.append(h('p', { class: 'sync-error' }, status.lastSyncError));
  }
  if (!compact && state === 'failed' && status?.syncEnabled && status?.nextSyncAt) {
    el.append(h('p', { class: 'sync-retry' }, 'pmsync tries again by itself ', relTime(status.nextSyncAt), '.'));
  }
  return el;
}
