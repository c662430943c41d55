// The app: session bootstrap, the top bar, and mounting one screen per route into <main>.
import { api, ApiError, onUnauthorized } from './api.js';
import { h, replaceChildren } from './dom.js';
import { closeAllDialogs } from './dialog.js';
import * as events from './events.js';
import { explainError } from './explain.js';
import { startRelativeTicker } from './format.js';
import { current, hashFor, navigate, onRoute, route } from './router.js';
import { onSessionChange, roleLabel, session, setSession } from './session.js';

route('/', 'home');
route('/signin', 'signin', { public: true, title: 'Sign in' });
route('/run-sheet', 'runsheet', { title: 'Run sheet', nav: 'run-sheet' });
route('/connections', 'connections', { title: 'PMS connections', nav: 'connections' });
route('/setup', 'setup', { admin: true, title: 'Connect a PMS', nav: 'connections' });
route('/setup/:id', 'setup', { admin: true, title: 'Connect a PMS', nav: 'connections' });
route('/connections/:id/settings', 'settings', { admin: true, title: 'Connection settings', nav: 'connections' });
route('/connections/:id/history', 'history', { admin: true, title: 'Sync history', nav: 'connections' });

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');

const app = {
  signInMessage: '',
  /** After a successful sign-in: keep the session, open the live stream, go on. */
  signedIn(user, next) {
    setSession(user);
    app.signInMessage = '';
    events.start({ expired: () => sessionEnded() });
    navigate(next && next.startsWith('#/') && !next.startsWith('#/signin') ? next : '#/run-sheet', { replace: true });
  },
  async signOut() {
    try {
      await api.del('/api/session', { session: true });
    } catch {
      // Signed out here either way: the cookie is HttpOnly and the server forgets the session.
    }
    endSession('You have signed out.');
  },
  /** Sets the document title: "<screen> — pmsync". */
  setTitle(title) {
    document.title = title ? `${title} — pmsync` : 'pmsync';
  },
};

function endSession(message) {
  setSession(null);
  events.stop();
  closeAllDialogs();
  app.signInMessage = message;
  const loc = current();
  const next = loc.route && !loc.route.public ? location.hash : '';
  navigate(hashFor('/signin', { next }), { replace: true });
}

function sessionEnded() {
  if (!session.signedIn) return;
  endSession('Your session has ended. Sign in again to continue.');
}

onUnauthorized(() => sessionEnded());

// ---- the top bar ----

function renderTopbar(active) {
  if (!session.signedIn) {
    topbar.hidden = true;
    topbar.replaceChildren();
    return;
  }
  const u = session.user;
  const link = (href, label, key) => h('li', {},
    h('a', { href, class: 'nav-link', 'aria-current': active === key ? 'page' : undefined }, label));
  const liveDot = h('span', { class: 'live-indicator', id: 'live-indicator' });
  replaceChildren(topbar,
    h('div', { class: 'topbar-inner' },
      h('a', { class: 'brand', href: '#/run-sheet' },
        h('img', { src: '/ui/icon.svg', alt: '', width: 24, height: 24 }),
        h('span', { class: 'brand-name' }, 'pmsync')),
      h('span', { class: 'account-name', title: 'Account' }, u.accountName || ''),
      h('nav', { class: 'main-nav', 'aria-label': 'Main' },
        h('ul', {}, link('#/run-sheet', 'Run sheet', 'run-sheet'), link('#/connections', 'Connections', 'connections'))),
      h('div', { class: 'topbar-user' },
        liveDot,
        h('span', { class: 'user-name' },
          h('span', { class: 'visually-hidden' }, 'Signed in as '),
          u.name || (u.via === 'api_key' ? 'API key' : 'Signed in'),
          h('span', { class: 'role-chip' }, roleLabel(u.role))),
        h('button', { type: 'button', class: 'button button--quiet', onclick: () => app.signOut() }, 'Sign out'))));
  topbar.hidden = false;
  updateLive(events.liveStatus());
}

function updateLive(status) {
  const el = document.getElementById('live-indicator');
  if (!el) return;
  const text = {
    live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', off: 'Offline',
  }[status] || status;
  el.className = `live-indicator live-indicator--${status}`;
  el.textContent = text;
  el.title = status === 'live'
    ? 'Updates arrive as they happen'
    : 'Live updates are interrupted: pmsync is reconnecting';
}
events.onStatus(updateLive);
onSessionChange(() => renderTopbar(current().route?.nav));

// ---- screens ----

let screen = null; // {name, handle}
let renderToken = 0;
let firstRender = true;

async function render(loc) {
  const token = ++renderToken;
  if (!loc.route) {
    mountStatic('Page not found', [
      h('p', {}, 'There is no page at this address.'),
      h('p', {}, h('a', { href: '#/run-sheet' }, 'Go to the run sheet')),
    ]);
    return;
  }
  const r = loc.route;
  if (r.name === 'home') {
    navigate(session.signedIn ? '#/run-sheet' : '#/signin', { replace: true });
    return;
  }
  if (!r.public && !session.signedIn) {
    navigate(hashFor('/signin', { next: location.hash }), { replace: true });
    return;
  }
  if (r.name === 'signin' && session.signedIn) {
    navigate(loc.params.get('next') || '#/run-sheet', { replace: true });
    return;
  }
  renderTopbar(r.nav);
  const ctx = { params: loc.params, args: loc.args, app, route: r };
  if (r.admin && !session.isAdmin) {
    mountStatic('For administrators', [
      h('p', {}, 'This page is for administrators of the account. Ask an administrator if something here needs changing.'),
      h('p', {}, h('a', { href: '#/run-sheet' }, 'Go to the run sheet')),
    ]);
    return;
  }
  // Same screen, new query (e.g. the run sheet's date): let it update in place, without a remount.
  if (screen && screen.name === r.name && screen.path === loc.path && screen.handle?.update) {
    if (screen.handle.update(ctx) !== false) return;
  }
  let mod;
  try {
    mod = await import(`./screens/${r.name}.js`);
  } catch (e) {
    console.error(e);
    mountStatic('Something went wrong', [h('p', {}, 'This page could not be loaded. Reload the page and try again.')]);
    return;
  }
  if (token !== renderToken) return;
  unmountScreen();
  closeAllDialogs();
  main.replaceChildren();
  main.removeAttribute('aria-busy');
  app.setTitle(r.title);
  let handle = null;
  try {
    handle = mod.mount(main, ctx) || null;
  } catch (e) {
    console.error(e);
  }
  screen = { name: r.name, path: loc.path, handle };
  if (!firstRender) {
    // Move focus to the new page's heading, so keyboard and screen-reader users start there.
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
    }
  }
  firstRender = false;
}

function unmountScreen() {
  if (screen?.handle?.unmount) {
    try {
      screen.handle.unmount();
    } catch (e) {
      console.error(e);
    }
  }
  screen = null;
}

function mountStatic(title, body) {
  unmountScreen();
  closeAllDialogs();
  app.setTitle(title);
  renderTopbar(current().route?.nav);
  replaceChildren(main, h('div', { class: 'page page--narrow' }, h('h1', {}, title), body));
}

onRoute(render);

document.getElementById('skip-link').addEventListener('click', () => {
  const target = main.querySelector('h1') || main;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
});

async function boot() {
  startRelativeTicker();
  try {
    const user = await api.get('/api/session', { session: true });
    setSession(user);
  } catch (e) {
    setSession(null);
    if (e instanceof ApiError && e.status !== 401 && e.status !== 404) {
      app.signInMessage = explainError(e);
    }
  }
  if (session.signedIn) events.start({ expired: () => sessionEnded() });
  render(current());
}

boot();
