// Hash routing: #/path?query. A route names a screen module; the app mounts it into <main>.

const routes = [];
let handler = null;

/** Registers a route: pattern like '/connections/:id/settings'. */
export function route(pattern, name, options = {}) {
  const keys = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        keys.push(part.slice(1));
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  routes.push({ re: new RegExp(`^${source}/?$`), keys, name, pattern, ...options });
}

/** The current location: {path, params (URLSearchParams), route, args}. */
export function current() {
  const raw = decodeURI(location.hash.replace(/^#/, '')) || '/';
  const [path, qs = ''] = raw.split('?');
  const params = new URLSearchParams(qs);
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const args = {};
      r.keys.forEach((k, i) => {
        args[k] = decodeURIComponent(m[i + 1]);
      });
      return { path, params, route: r, args };
    }
  }
  return { path, params, route: null, args: {} };
}

export function onRoute(fn) {
  handler = fn;
}

/** Goes to a hash ('#/run-sheet?date=...'). replace: no new history entry. */
export function navigate(hash, { replace = false, silent = false } = {}) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  if (location.hash === target) {
    if (!silent) handler?.(current());
    return;
  }
  if (replace || silent) {
    history.replaceState(history.state, '', target);
    if (!silent) handler?.(current());
  } else {
    location.hash = target;
  }
}

/** A hash for a path and query object (empty values dropped). */
export function hashFor(path, query = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

window.addEventListener('hashchange', () => handler?.(current()));
