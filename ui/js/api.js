// The pmsd API client: JSON in and out, the session cookie, the CSRF header on every change, one
// error type. A 401 anywhere (except while signing in) sends the app back to the sign-in screen.
import { session, setSession } from './session.js';

export class ApiError extends Error {
  constructor(status, error = {}, { retryAfter = null, path = '' } = {}) {
    super(error?.message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error?.code || (status === 0 ? 'network' : 'http_error');
    this.field = error?.field || null;
    this.pms = error?.pms || null; // {kind, httpStatus} when the PMS failed
    this.retryAfter = retryAfter;
    this.path = path;
  }
}

let unauthorizedHandler = null;
/** Called with the error when any request (other than the session's own) gets 401. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

const CHANGES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

async function send(method, path, { body, query, signal } = {}) {
  let url = path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, v);
    const s = qs.toString();
    if (s) url += `?${s}`;
  }
  const headers = { Accept: 'application/json' };
  const init = { method, headers, signal, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (CHANGES.has(method) && session.csrfToken) headers['X-CSRF-Token'] = session.csrfToken;
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network', message: 'pmsync could not be reached' }, { path });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  throw new ApiError(res.status, data?.error, { retryAfter: res.headers.get('Retry-After'), path });
}

/**
 * One request. Options: body (JSON), query (object), signal, session (true for the session's
 * own calls: a 401 there is an answer, not an expiry).
 */
export async function request(method, path, options = {}) {
  try {
    return await send(method, path, options);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 403 && err.code === 'csrf_failed' && !options.retried && !options.session) {
      // The token may have been renewed by another tab: read the session again and retry once.
      try {
        const fresh = await send('GET', '/api/session');
        setSession(fresh);
        return await request(method, path, { ...options, retried: true });
      } catch (e2) {
        if (e2 instanceof ApiError && e2.status === 401) {
          unauthorizedHandler?.(e2);
        }
        throw err;
      }
    }
    if (err.status === 401 && !options.session) unauthorizedHandler?.(err);
    throw err;
  }
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options) => request('POST', path, { ...options, body }),
  patch: (path, body, options) => request('PATCH', path, { ...options, body }),
  put: (path, body, options) => request('PUT', path, { ...options, body }),
  del: (path, options) => request('DELETE', path, options),
};

const enc = encodeURIComponent;
export const paths = {
  connection: (id) => `/api/pms/connections/${enc(id)}`,
  connectionPart: (id, part) => `/api/pms/connections/${enc(id)}/${part}`,
  appointment: (id) => `/api/run-sheet/appointments/${enc(id)}`,
};

// The PMS catalogue (systems and their settings) changes only with a new pmsd: read it once.
let systemsPromise = null;
export function getSystems() {
  if (!systemsPromise) {
    systemsPromise = api.get('/api/pms/systems').catch((e) => {
      systemsPromise = null;
      throw e;
    });
  }
  return systemsPromise;
}

export async function getSystem(name) {
  const { pms } = await getSystems();
  return pms.find((p) => p.name === name) || null;
}

/** A PMS's name for people ("Gentu (Magentus)" → "Gentu"), from its catalogue entry or its type. */
export function pmsShortName(system, pmsType) {
  const full = system?.displayName || pmsType || 'the PMS';
  return full.replace(/\s*\(.*\)\s*$/, '');
}
