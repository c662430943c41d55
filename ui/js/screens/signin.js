// Sign-in: a staff login (username and password) or an API key. POST /api/session sets the
// HttpOnly session cookie; the body gives the role, the account and the CSRF token.
import { api, ApiError } from '../api.js';
import { h, withBusy } from '../dom.js';
import { explainError } from '../explain.js';
import { field, formMessage } from '../forms.js';

export function mount(root, { app, params }) {
  const next = params.get('next') || '';
  const message = formMessage();

  const username = field({ label: 'Username', name: 'username', required: true, attrs: { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' } });
  const password = field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } });
  const apiKey = field({
    label: 'Your API key', name: 'apiKey', type: 'password', required: true,
    help: 'A key made by pmsctl apikey create or by an administrator; it starts with pmsk_.',
    attrs: { autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' },
  });

  const methodPassword = h('input', { type: 'radio', name: 'method', id: 'method-password', value: 'password', checked: true });
  const methodKey = h('input', { type: 'radio', name: 'method', id: 'method-key', value: 'key' });
  const passwordGroup = h('div', { class: 'signin-fields', id: 'signin-password' }, username.wrap, password.wrap);
  const keyGroup = h('div', { class: 'signin-fields', id: 'signin-key', hidden: true }, apiKey.wrap);

  function showMethod() {
    const byKey = methodKey.checked;
    keyGroup.hidden = !byKey;
    passwordGroup.hidden = byKey;
    for (const f of [username, password, apiKey]) f.setError('');
    message.clear();
  }
  methodPassword.addEventListener('change', showMethod);
  methodKey.addEventListener('change', showMethod);

  const submit = h('button', { type: 'submit', class: 'button button--primary button--block' }, 'Sign in');

  const form = h('form', { class: 'signin-form', novalidate: true, 'aria-labelledby': 'signin-title' },
    h('fieldset', { class: 'segmented' },
      h('legend', { class: 'field-label' }, 'Sign in with'),
      h('div', { class: 'segmented-options' },
        h('span', { class: 'segmented-option' }, methodPassword, h('label', { for: 'method-password' }, 'Username and password')),
        h('span', { class: 'segmented-option' }, methodKey, h('label', { for: 'method-key' }, 'API key')))),
    passwordGroup,
    keyGroup,
    message.el,
    submit);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    message.clear();
    const byKey = methodKey.checked;
    let body;
    let invalid = null;
    for (const f of [username, password, apiKey]) f.setError('');
    if (byKey) {
      const key = apiKey.value.trim();
      if (!key) {
        apiKey.setError('Enter the API key.');
        invalid = apiKey.input;
      } else if (!key.startsWith('pmsk_')) {
        apiKey.setError('An API key starts with pmsk_. Check that the whole key was copied.');
        invalid = apiKey.input;
      }
      body = { apiKey: key };
    } else {
      if (!username.value.trim()) {
        username.setError('Enter your username.');
        invalid = username.input;
      }
      if (!password.value) {
        password.setError('Enter your password.');
        invalid = invalid || password.input;
      }
      body = { username: username.value.trim(), password: password.value };
    }
    if (invalid) {
      invalid.focus();
      return;
    }
    await withBusy(submit, 'Signing in…', async () => {
      try {
        const user = await api.post('/api/session', body, { session: true });
        password.value = '';
        apiKey.value = '';
        app.signedIn(user, next);
      } catch (e) {
        let text;
        if (e instanceof ApiError && e.status === 401) {
          text = byKey
            ? 'This API key was not accepted. Check that it was copied whole and has not been revoked.'
            : 'The username or password is not right. Check them and try again.';
        } else if (e instanceof ApiError && e.status === 404) {
          text = 'Signing in is not available on this pmsync server yet. Ask your administrator to update pmsd.';
        } else {
          text = explainError(e);
        }
        message.error(text);
        (byKey ? apiKey.input : password.input).focus();
      }
    });
  });

  const notice = app.signInMessage
    ? h('p', { class: 'notice', role: 'status' }, app.signInMessage)
    : null;

  root.append(h('div', { class: 'signin-page' },
    h('div', { class: 'signin-card' },
      h('div', { class: 'signin-brand' }, h('img', { src: '/ui/icon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'pmsync')),
      h('h1', { id: 'signin-title' }, 'Sign in'),
      h('p', { class: 'muted' }, 'Your clinic\'s run sheet, kept in sync with your practice management system.'),
      notice,
      form)));
  // The first field, so that a person can type at once.
  setTimeout(() => username.input.focus(), 0);
  return {};
}
