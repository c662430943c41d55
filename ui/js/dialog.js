// Modal dialogs: a native <dialog> opened with showModal (the page behind is inert), focus kept
// inside with Tab and Shift+Tab, Escape closes, and focus returns to what opened it.
import { h, focusable, uid } from './dom.js';

const open = [];

/**
 * Opens a dialog. options: title, body (node or array), footer (node or array), onClose(reason),
 * initialFocus (element), size ('narrow' | 'wide'), role ('dialog' | 'alertdialog'),
 * describedBy (id of the text that explains it).
 * Returns {el, close(reason)}.
 */
export function openDialog({ title, body, footer, onClose, initialFocus, size = '', role, describedBy } = {}) {
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = uid('dlg-title');
  const closeButton = h('button', {
    type: 'button', class: 'icon-button dialog-close', 'aria-label': 'Close',
    onclick: () => handle.close('dismiss'),
  }, '×');
  const el = h('dialog', {
    class: ['dialog', size && `dialog--${size}`],
    'aria-labelledby': titleId,
    'aria-describedby': describedBy,
    role: role === 'alertdialog' ? 'alertdialog' : undefined,
    'aria-modal': 'true',
  },
  h('div', { class: 'dialog-header' }, h('h2', { id: titleId, class: 'dialog-title' }, title), closeButton),
  h('div', { class: 'dialog-body' }, body),
  footer ? h('div', { class: 'dialog-footer' }, footer) : null);

  let closed = false;
  const handle = {
    el,
    close(reason = 'close') {
      if (closed) return;
      closed = true;
      const i = open.indexOf(handle);
      if (i >= 0) open.splice(i, 1);
      if (el.open) el.close();
      el.remove();
      if (returnTo && returnTo.isConnected) returnTo.focus();
      onClose?.(reason);
    },
  };

  el.addEventListener('cancel', (ev) => {
    // Escape: close ourselves, so focus is returned and onClose runs.
    ev.preventDefault();
    handle.close('escape');
  });
  el.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Tab') return;
    const items = focusable(el);
    if (items.length === 0) {
      ev.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    if (ev.shiftKey && (document.activeElement === first || !el.contains(document.activeElement))) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (document.activeElement === last || !el.contains(document.activeElement))) {
      ev.preventDefault();
      first.focus();
    }
  });

  document.body.appendChild(el);
  el.showModal();
  open.push(handle);
  const target = initialFocus || focusable(el.querySelector('.dialog-body'))[0] || closeButton;
  target.focus();
  return handle;
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog({ title, message, confirmLabel = 'OK', cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const msgId = uid('dlg-msg');
    let result = false;
    const cancel = h('button', { type: 'button', class: 'button', onclick: () => dlg.close('cancel') }, cancelLabel);
    const ok = h('button', {
      type: 'button', class: ['button', danger ? 'button--danger' : 'button--primary'],
      onclick: () => {
        result = true;
        dlg.close('confirm');
      },
    }, confirmLabel);
    const body = (Array.isArray(message) ? message : [message]).map((m, i) =>
      (typeof m === 'string' ? h('p', { id: i === 0 ? msgId : undefined }, m) : m));
    const dlg = openDialog({
      title, body, footer: [cancel, ok], size: 'narrow', role: 'alertdialog', describedBy: msgId,
      initialFocus: cancel, onClose: () => resolve(result),
    });
  });
}

export function closeAllDialogs() {
  for (const d of [...open]) d.close('navigate');
}
