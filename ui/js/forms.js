// Form fields with a <label for>, optional help, and an error shown next to the field
// (aria-invalid, aria-describedby) — plus a form-level alert region.
import { h, uid } from './dom.js';

/**
 * A labelled field. type: text | password | number | time | date | url | email | tel |
 * select | textarea | checkbox. options (select): [{value, label, group?}] or groups
 * [{group, options}]. Returns {wrap, input, setError(msg), value, set value}.
 */
export function field({
  label, type = 'text', name, value = '', help, required = false, options = [], attrs = {},
  id, class: className, hint,
}) {
  const inputId = id || uid(name || 'field');
  const helpId = `${inputId}-help`;
  const errorId = `${inputId}-error`;
  let input;
  if (type === 'select') {
    input = h('select', { id: inputId, name, ...attrs }, renderOptions(options));
    input.value = value ?? '';
  } else if (type === 'textarea') {
    input = h('textarea', { id: inputId, name, rows: 3, ...attrs });
    input.value = value ?? '';
  } else if (type === 'checkbox') {
    input = h('input', { id: inputId, name, type: 'checkbox', ...attrs });
    input.checked = Boolean(value);
  } else {
    input = h('input', { id: inputId, name, type, ...attrs });
    input.value = value ?? '';
  }
  if (required) input.setAttribute('aria-required', 'true');
  const helpEl = help ? h('p', { class: 'field-help', id: helpId }, help) : null;
  const errorEl = h('p', { class: 'field-error', id: errorId, hidden: true });
  input.setAttribute('aria-describedby', [helpEl && helpId, errorId].filter(Boolean).join(' '));

  let wrap;
  if (type === 'checkbox') {
    wrap = h('div', { class: ['field', 'field--check', className] },
      h('div', { class: 'check-row' }, input, h('label', { for: inputId }, label)),
      helpEl, errorEl);
  } else {
    wrap = h('div', { class: ['field', className] },
      h('label', { for: inputId, class: ['field-label', required && 'field-label--required'] }, label,
        hint ? h('span', { class: 'field-hint' }, ` ${hint}`) : null),
      helpEl, input, errorEl);
  }
  return {
    wrap,
    input,
    name,
    setError(message) {
      if (message) {
        errorEl.textContent = message;
        errorEl.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        wrap.classList.add('field--invalid');
      } else {
        errorEl.textContent = '';
        errorEl.hidden = true;
        input.removeAttribute('aria-invalid');
        wrap.classList.remove('field--invalid');
      }
    },
    get value() {
      return type === 'checkbox' ? input.checked : input.value;
    },
    set value(v) {
      if (type === 'checkbox') input.checked = Boolean(v);
      else input.value = v ?? '';
    },
  };
}

function renderOptions(options) {
  return options.map((o) => {
    if (o.group) return h('optgroup', { label: o.group }, renderOptions(o.options));
    return h('option', { value: o.value, disabled: o.disabled }, o.label);
  });
}

/** A form-level message region: role=alert for errors, role=status for good news. */
export function formMessage() {
  const el = h('div', { class: 'form-message', hidden: true });
  return {
    el,
    error(text, extra) {
      el.replaceChildren();
      el.className = 'form-message form-message--error';
      el.setAttribute('role', 'alert');
      el.append(h('p', {}, text));
      if (extra) el.append(extra);
      el.hidden = false;
    },
    success(text, extra) {
      el.replaceChildren();
      el.className = 'form-message form-message--success';
      el.setAttribute('role', 'status');
      el.append(h('p', {}, text));
      if (extra) el.append(extra);
      el.hidden = false;
    },
    info(text) {
      el.replaceChildren();
      el.className = 'form-message form-message--info';
      el.setAttribute('role', 'status');
      el.append(h('p', {}, text));
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.replaceChildren();
    },
  };
}

/** The IANA zones for a select: Australian and New Zealand ones first, then every other. */
export function timeZoneOptions(selected) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  const local = ['Australia/Sydney', 'Australia/Melbourne', 'Australia/Brisbane', 'Australia/Adelaide',
    'Australia/Perth', 'Australia/Hobart', 'Australia/Darwin', 'Australia/Lord_Howe',
    'Australia/Broken_Hill', 'Australia/Eucla', 'Australia/Lindeman', 'Pacific/Auckland', 'Pacific/Chatham'];
  const rest = zones.filter((z) => !local.includes(z));
  if (selected && !local.includes(selected) && !rest.includes(selected)) rest.unshift(selected);
  const label = (z) => z.replace(/_/g, ' ').replace('/', ' / ');
  return [
    { group: 'Australia and New Zealand', options: local.map((z) => ({ value: z, label: label(z) })) },
    { group: 'Other time zones', options: rest.map((z) => ({ value: z, label: label(z) })) },
  ];
}

/** Focuses the first invalid field of a form; returns whether there was one. */
export function focusFirstInvalid(root) {
  const el = root.querySelector('[aria-invalid="true"]');
  if (el) {
    el.focus();
    return true;
  }
  return false;
}
