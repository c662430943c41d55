// Which appointment types are telehealth: checkboxes, "Mark suggested", saved with one PATCH.
// Types whose PMS says it itself are shown as decided by the PMS.
import { api, paths } from '../api.js';
import { h, replaceChildren, uid } from '../dom.js';
import { explainError } from '../explain.js';
import { formMessage } from '../forms.js';
import { duration, plural } from '../format.js';

/**
 * options: connectionId, pmsName, cachedFirst (show the types pmsync already has without asking
 * the PMS, and ask it only when there are none). Returns {el, load(), save(), markedCount()}.
 */
export function TelehealthTypes({ connectionId, pmsName, cachedFirst = false }) {
  const message = formMessage();
  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const markButton = h('button', { type: 'button', class: 'button', onclick: () => markSuggested() }, 'Mark suggested');
  const clearButton = h('button', { type: 'button', class: 'button button--quiet', onclick: () => setAll(false) }, 'Clear all');
  const list = h('ul', { class: 'type-list', 'aria-label': 'Appointment types' });
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, `Reading the appointment types from ${pmsName}…`));
  const el = h('div', { class: 'types' }, message.el, body);
  let types = [];
  let boxes = []; // {t, box}

  function updateCount() {
    const n = boxes.filter((b) => b.box.checked).length;
    count.textContent = `${plural(n, 'type')} marked as telehealth`;
  }

  function render() {
    body.removeAttribute('aria-busy');
    if (types.length === 0) {
      replaceChildren(body, h('p', { class: 'muted' }, `${pmsName} lists no appointment types.`));
      return;
    }
    boxes = [];
    replaceChildren(list, types.map((t) => {
      const id = uid('type');
      const box = h('input', { type: 'checkbox', id, disabled: t.telehealthAutoDetected });
      box.checked = Boolean(t.isTelehealth);
      box.addEventListener('change', updateCount);
      boxes.push({ t, box });
      return h('li', {},
        box,
        h('label', { for: id },
          h('span', {}, t.name),
          t.durationMinutes ? h('span', { class: 'type-duration' }, `(${duration(t.durationMinutes)})`) : null,
          t.suggestedTelehealth && !t.telehealthAutoDetected ? h('span', { class: 'suggest-chip' }, 'suggested') : null,
          t.telehealthAutoDetected ? h('span', { class: 'auto-chip' }, `decided by ${pmsName}`) : null));
    }));
    replaceChildren(body,
      h('div', { class: 'toolbar-row' }, markButton, clearButton, count),
      list);
    updateCount();
  }

  function markSuggested() {
    let n = 0;
    for (const { t, box } of boxes) {
      if (t.suggestedTelehealth && !box.disabled && !box.checked) {
        box.checked = true;
        n += 1;
      }
    }
    updateCount();
    message.info(n ? `${plural(n, 'suggested type')} marked. Check the list, then save.` : 'Every suggested type is already marked.');
  }

  function setAll(value) {
    for (const { box } of boxes) if (!box.disabled) box.checked = value;
    updateCount();
  }

  async function load() {
    message.clear();
    try {
      const path = paths.connectionPart(connectionId, 'appointment-types');
      let res = cachedFirst ? await api.get(path, { query: { refresh: 'false' } }) : null;
      if (!res?.appointmentTypes?.length) res = await api.get(path);
      types = res.appointmentTypes || [];
      render();
      return true;
    } catch (e) {
      body.removeAttribute('aria-busy');
      replaceChildren(body, h('div', { class: 'form-message form-message--error', role: 'alert' },
        h('p', {}, `The appointment types could not be read from ${pmsName}. ${explainError(e, { pmsName })}`),
        h('button', { type: 'button', class: 'button', onclick: () => load() }, 'Try again')));
      return false;
    }
  }

  async function save() {
    message.clear();
    const changed = boxes
      .filter(({ t, box }) => !box.disabled && box.checked !== Boolean(t.isTelehealth))
      .map(({ t, box }) => ({ id: t.id, isTelehealth: box.checked }));
    if (changed.length === 0) return true;
    try {
      const res = await api.patch(paths.connectionPart(connectionId, 'appointment-types'), { appointmentTypes: changed });
      types = res.appointmentTypes || types;
      render();
      return true;
    } catch (e) {
      message.error(`The telehealth types were not saved. ${explainError(e, { pmsName })}`);
      return false;
    }
  }

  return {
    el,
    load,
    save,
    markedCount: () => (boxes.length ? boxes.filter((b) => b.box.checked).length : types.filter((t) => t.isTelehealth).length),
  };
}
