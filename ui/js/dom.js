// Small DOM helpers. The Content-Security-Policy forbids inline styles, so nothing here ever sets a
// style attribute: looks come from classes in app.css.

/**
 * Creates an element. props: class (string or array), text, dataset, on<Event> handlers,
 * `.prop` keys set as DOM properties after the children are added (e.g. '.value' on a select),
 * other keys as attributes (true gives an empty attribute; false, null and undefined skip it).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  const later = [];
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style') throw new Error('inline styles are not allowed (CSP): use a class');
    if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key.startsWith('.')) {
      later.push([key.slice(1), value]);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  for (const [key, value] of later) el[key] = value;
  return el;
}

/** Appends children: nodes, strings, numbers, arrays of them; null/false/undefined are skipped. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of el. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let counter = 0;
/** A document-unique id with a readable prefix. */
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Says something to screen-reader users without moving focus. */
export function announce(message) {
  const live = document.getElementById('announcer');
  if (!live) return;
  live.textContent = '';
  // A separate task, so that the same message twice is announced twice.
  setTimeout(() => {
    live.textContent = message;
  }, 30);
}

/** The elements inside root that can take keyboard focus, in order. */
export function focusable(root) {
  const selector = [
    'a[href]', 'button:not([disabled])', 'input:not([disabled]):not([type="hidden"])',
    'select:not([disabled])', 'textarea:not([disabled])', 'summary',
    '[tabindex]:not([tabindex="-1"])',
  ].join(',');
  return [...root.querySelectorAll(selector)].filter(
    (el) => !el.closest('[hidden]') && !el.closest('details:not([open]) > :not(summary)') &&
      el.getClientRects().length > 0,
  );
}

/** Puts a busy marker and disabled state on a button while an action runs. */
export async function withBusy(button, busyLabel, action) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (busyLabel) button.textContent = busyLabel;
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (busyLabel) button.textContent = label;
  }
}

/** A visually hidden span: text for screen readers only. */
export function srOnly(text) {
  return h('span', { class: 'visually-hidden' }, text);
}
