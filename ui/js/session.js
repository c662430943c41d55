// The signed-in session. The session cookie is HttpOnly (never seen here); the CSRF token is kept
// in memory only, and GET /api/session gives it again after a reload.

const listeners = new Set();

export const session = {
  user: null, // {role, accountId, accountName, csrfToken, expiresAt, via, name}
  get signedIn() {
    return this.user !== null;
  },
  get csrfToken() {
    return this.user?.csrfToken ?? null;
  },
  get isAdmin() {
    return this.user?.role === 'admin';
  },
};

export function setSession(user) {
  session.user = user ? { ...user } : null;
  for (const fn of listeners) fn(session.user);
}

export function onSessionChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function roleLabel(role) {
  return { admin: 'Administrator', staff: 'Staff', agent: 'Agent' }[role] || role || '';
}
