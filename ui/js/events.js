// Live run-sheet updates: one EventSource for the session (the cookie authenticates it). The
// browser reconnects by itself and sends Last-Event-ID; if the stream is closed for good (an error
// status), the session is checked and a new stream resumes from the last id seen.
import { api, ApiError } from './api.js';

const TYPES = [
  'sync.started', 'sync.progress', 'sync.finished',
  'appointment.created', 'appointment.updated', 'appointment.removed', 'reset',
];

const listeners = new Map(); // type -> Set(fn); '*' for all
const statusListeners = new Set();
let source = null;
let lastId = null;
let status = 'off'; // off | connecting | live | reconnecting
let retryTimer = null;
let retryDelay = 2000;
let wasInterrupted = false;
let onExpired = null;

function setStatus(next) {
  if (status === next) return;
  status = next;
  for (const fn of statusListeners) fn(status);
}

function dispatch(type, data) {
  for (const key of [type, '*']) {
    for (const fn of listeners.get(key) || []) {
      try {
        fn(data, type);
      } catch (e) {
        console.error('event listener failed', e);
      }
    }
  }
}

function open() {
  clearTimeout(retryTimer);
  const url = lastId ? `/api/run-sheet/events?lastEventId=${encodeURIComponent(lastId)}` : '/api/run-sheet/events';
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  setStatus(wasInterrupted ? 'reconnecting' : 'connecting');
  es.onopen = () => {
    retryDelay = 2000;
    setStatus('live');
    if (wasInterrupted) {
      wasInterrupted = false;
      // Anything missed is replayed from Last-Event-ID (or a reset comes); screens may refresh too.
      dispatch('reconnected', {});
    }
  };
  es.onerror = () => {
    if (source !== es) return;
    wasInterrupted = true;
    if (es.readyState === EventSource.CONNECTING) {
      setStatus('reconnecting');
      return;
    }
    // Closed for good: the server refused the stream (e.g. the session ended, or too many streams).
    es.close();
    source = null;
    setStatus('reconnecting');
    checkAndRetry();
  };
  for (const type of TYPES) {
    es.addEventListener(type, (ev) => {
      if (ev.lastEventId) lastId = ev.lastEventId;
      let data = {};
      try {
        data = ev.data ? JSON.parse(ev.data) : {};
      } catch {
        data = {};
      }
      dispatch(type, data);
    });
  }
}

async function checkAndRetry() {
  try {
    await api.get('/api/session', { session: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      stop();
      onExpired?.(e);
      return;
    }
  }
  retryTimer = setTimeout(() => {
    if (status !== 'off') open();
  }, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 30000);
}

/** Opens the stream (after sign-in). expired: called when the session turns out to be over. */
export function start({ expired } = {}) {
  onExpired = expired || null;
  if (source) return;
  wasInterrupted = false;
  open();
}

/** Closes the stream (sign-out). */
export function stop() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  lastId = null;
  setStatus('off');
}

/** Listens to one event type ('*' for all, 'reconnected' after an interruption); returns off(). */
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type)?.delete(fn);
}

export function onStatus(fn) {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}

export function liveStatus() {
  return status;
}
