// The connection details form, generated from the PMS's settings (labels and help from the API;
// secret ones as password inputs): display name, credentials, time zone, and under "Advanced" the
// base URL and optional settings. Used by the setup wizard and the settings panel.
import { h } from '../dom.js';
import { field, formMessage, timeZoneOptions } from '../forms.js';

/** Whether a setting belongs in the main part of the form (not under "Advanced"). */
export function isMainSetting(setting, system) {
  if (setting.required) return true;
  if (!setting.secret || /^only for/i.test(setting.help || '')) return false;
  // A PMS whose credential is an optional secret (Medirecords' token, the alternative being OAuth).
  const requiredSecret = (system.settings || []).some((s) => s.required && s.secret);
  const firstSecret = (system.settings || []).find((s) => s.secret && !/^only for/i.test(s.help || ''));
  return !requiredSecret && firstSecret?.key === setting.key;
}

/**
 * options: system (catalogue entry), connection (to edit; none to create), timezone (default),
 * defaultName, pairing (show a pairing-code field), pairingRequired.
 * Returns {el, message, collect() → {ok, body, code}, setServerError(field, text) → bool, fields}.
 */
export function ConnectionForm({ system, connection, timezone, defaultName = '', pairing = false, pairingRequired = false, withDisplayName = true, genericSettings = [] }) {
  const message = formMessage();
  const conn = connection || null;
  const pms = (system.displayName || system.name).replace(/\s*\(.*\)\s*$/, '');
  const displayName = field({
    label: 'Display name', name: 'displayName', required: true,
    value: conn?.displayName || defaultName,
    help: 'How this connection is named in pmsync, e.g. the practice\'s name.',
    attrs: { maxlength: 255, autocomplete: 'organization' },
  });
  const settingFields = new Map();
  const main = [];
  const advanced = [];
  const limits = [];
  const known = new Set((system.settings || []).map((s) => s.key));
  const allSettings = [...(system.settings || []), ...genericSettings.filter((g) => !known.has(g.key)).map((g) => ({ ...g, generic: true }))];
  for (const s of allSettings) {
    const isSet = Boolean(conn?.secretsSet?.[s.key]);
    const required = s.required && !(s.secret && isSet);
    const f = field({
      label: s.label, name: `settings.${s.key}`, type: s.secret ? 'password' : 'text', required,
      value: s.secret ? '' : (conn?.settings?.[s.key] ?? ''),
      help: s.help || null,
      attrs: {
        autocomplete: s.secret ? 'new-password' : 'off', spellcheck: 'false', autocapitalize: 'none',
        placeholder: s.secret && isSet ? 'Saved — leave empty to keep it' : (s.default ? `Default: ${s.default}` : undefined),
      },
    });
    f.setting = s;
    settingFields.set(s.key, f);
    if (s.generic) limits.push(f.wrap);
    else (isMainSetting(s, system) ? main : advanced).push(f.wrap);
  }
  const tz = field({
    label: 'Practice time zone', type: 'select', name: 'timezone', required: true,
    options: timeZoneOptions(conn?.timezone || timezone), value: conn?.timezone || timezone || 'Australia/Sydney',
    help: 'Appointment times are shown, and "today" is decided, in this zone.',
  });
  const baseUrl = field({
    label: 'Base URL', type: 'url', name: 'baseUrl', value: conn?.baseUrl || '',
    help: `Only to reach ${pms} somewhere else than usual (a test system or a proxy).`,
    attrs: { placeholder: system.defaultBaseUrl || '', spellcheck: 'false', autocapitalize: 'none' },
  });
  const code = pairing ? field({
    label: 'Pairing code', name: 'code', required: pairingRequired,
    help: 'In Gentu, open the Marketplace, choose pmsync and generate a pairing code: 8 letters and numbers, used once.',
    attrs: { maxlength: 16, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', class: 'mono' },
  }) : null;
  if (code) code.input.addEventListener('input', () => {
    const pos = code.input.selectionStart;
    code.input.value = code.input.value.toUpperCase();
    code.input.setSelectionRange(pos, pos);
  });

  const el = h('div', { class: 'connection-form' },
    message.el,
    withDisplayName ? displayName.wrap : null,
    h('fieldset', {},
      h('legend', { class: 'field-label' }, `${pms} credentials`),
      main),
    code ? code.wrap : null,
    tz.wrap,
    h('details', { class: 'advanced' },
      h('summary', {}, 'Advanced'),
      baseUrl.wrap,
      advanced,
      limits.length ? h('fieldset', { class: 'limits' }, h('legend', { class: 'field-label' }, 'Limits and retries'), limits) : null));

  const all = [...(withDisplayName ? [displayName] : []), tz, baseUrl, ...settingFields.values(), ...(code ? [code] : [])];

  function collect() {
    message.clear();
    for (const f of all) f.setError('');
    let first = null;
    const fail = (f, text) => {
      f.setError(text);
      first = first || f;
    };
    const body = {};
    if (withDisplayName) {
      const name = displayName.value.trim();
      if (!name) fail(displayName, 'Enter a display name.');
      if (!conn || name !== conn.displayName) body.displayName = name;
    }
    if (!conn || tz.value !== conn.timezone) body.timezone = tz.value;
    const url = baseUrl.value.trim();
    if (url && !/^https?:\/\/\S+$/i.test(url)) fail(baseUrl, 'Enter a full address starting with https:// (or leave it empty).');
    if (conn) {
      if (url !== (conn.baseUrl || '')) body.baseUrl = url || null;
    } else if (url) {
      body.baseUrl = url;
    }
    const settings = {};
    for (const [key, f] of settingFields) {
      const s = f.setting;
      const v = f.value.trim();
      if (s.secret) {
        if (v) settings[key] = v;
        else if (s.required && !conn?.secretsSet?.[key]) fail(f, `Enter the ${s.label}.`);
      } else {
        if (s.required && !v) fail(f, `Enter the ${s.label}.`);
        if (conn) {
          if (v !== (conn.settings?.[key] ?? '')) settings[key] = v || null;
        } else if (v) {
          settings[key] = v;
        }
      }
    }
    if (Object.keys(settings).length) body.settings = settings;
    let pairingCode = '';
    if (code) {
      pairingCode = code.value.replace(/\s+/g, '').toUpperCase();
      if (pairingRequired && !pairingCode) fail(code, 'Enter the pairing code from the Gentu Marketplace.');
      else if (pairingCode && !/^[A-Z0-9]{4,16}$/.test(pairingCode)) fail(code, 'A pairing code is made of letters and numbers only (8 of them).');
    }
    if (first) {
      message.error('Some details are missing or not valid: check the highlighted fields.');
      first.input.focus();
      return { ok: false };
    }
    return { ok: true, body, code: pairingCode };
  }

  /** Shows a server error next to its field (settings.client_id → that input). */
  function setServerError(path, text) {
    let f = null;
    if (path?.startsWith('settings.')) f = settingFields.get(path.slice(9));
    else if (path === 'displayName') f = displayName;
    else if (path === 'timezone') f = tz;
    else if (path === 'baseUrl') f = baseUrl;
    else if (path === 'code') f = code;
    if (!f) return false;
    f.setError(text);
    if (f === baseUrl || advanced.includes(f.wrap) || limits.includes(f.wrap)) el.querySelector('details.advanced').open = true;
    f.input.focus();
    return true;
  }

  return {
    el, message, collect, setServerError,
    fields: { displayName, timezone: tz, baseUrl, code, settings: settingFields },
    clearSecrets() {
      for (const f of settingFields.values()) if (f.setting.secret) f.value = '';
    },
  };
}
