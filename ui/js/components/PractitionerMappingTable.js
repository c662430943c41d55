// PractitionerMappingTable: each PMS practitioner → a run-sheet column (clinician): match an
// existing column (the best name match highlighted), create a new column with this name, or don't
// sync. Saved all or nothing; a refused row shows its own error.
import { api, ApiError, paths } from '../api.js';
import { h, replaceChildren, uid } from '../dom.js';
import { explainError } from '../explain.js';
import { formMessage } from '../forms.js';
import { plural } from '../format.js';

const NEW = '__new';
const SKIP = '__skip';
const GOOD_MATCH = 0.5;

const REASONS = {
  inactive: 'inactive in {pms}',
  not_in_appointment_book: 'not shown in {pms}\'s appointment book',
  disabled: 'set not to sync',
  not_mapped: 'no run-sheet column yet',
};

function reasonText(reason, pms) {
  return (REASONS[reason] || reason || '').replace('{pms}', pms);
}

function bookable(p) {
  return p.active !== false && p.shownInAppointmentBook !== false;
}

/**
 * options: connectionId, pmsName, refresh (read the PMS again: default true).
 * Returns {el, load(), save() → Promise<boolean>, summary()}.
 */
export function PractitionerMappingTable({ connectionId, pmsName, refresh = true }) {
  const message = formMessage();
  const body = h('div', { class: 'mapping-body', 'aria-live': 'polite', 'aria-busy': 'true' },
    h('p', { class: 'muted' }, `Reading the practitioners from ${pmsName}…`));
  const el = h('div', { class: 'mapping' }, message.el, body);
  let data = null; // {listedByPms, practitioners}
  let clinicians = [];
  let rows = []; // {p, select, nameInput, nameWrap, error}

  function initialValue(p) {
    if (p.syncEnabled === false) return SKIP;
    if (p.clinicianId) return p.clinicianId;
    const best = p.suggestions?.[0];
    if (best && best.score >= GOOD_MATCH) return best.clinicianId;
    return NEW;
  }

  function selectFor(p, labelId) {
    const suggested = new Set((p.suggestions || []).map((s) => s.clinicianId));
    const groups = [];
    if (p.suggestions?.length) {
      groups.push(h('optgroup', { label: 'Similar names' },
        p.suggestions.map((s, i) => h('option', { value: s.clinicianId },
          `${s.name}${i === 0 ? ' — best match' : ''} (${Math.round(s.score * 100)}% alike)`))));
    }
    const others = clinicians.filter((c) => !suggested.has(c.id));
    if (others.length) {
      groups.push(h('optgroup', { label: 'Existing columns' }, others.map((c) => h('option', { value: c.id }, c.name))));
    }
    const select = h('select', { id: uid('map'), 'aria-describedby': labelId },
      h('option', { value: NEW }, 'Create a new column…'),
      groups,
      h('option', { value: SKIP }, 'Don\'t sync this practitioner'));
    select.value = initialValue(p);
    if (!select.value) select.value = NEW;
    return select;
  }

  function render() {
    body.removeAttribute('aria-busy');
    const list = data.practitioners || [];
    const main = list.filter(bookable);
    const others = list.filter((p) => !bookable(p));
    const parts = [];
    if (data.listedByPms === false) {
      parts.push(h('div', { class: 'notice' },
        h('p', {}, `${pmsName} does not list its practitioners up front. They appear after the first sync — each gets a run-sheet column named after them.`),
        h('p', {}, 'You can then match them to existing columns, rename or stop syncing them under this connection\'s Settings.')));
    }
    if (main.length === 0) {
      if (data.listedByPms !== false) {
        parts.push(h('p', { class: 'muted' }, `${pmsName} lists no practitioners who take appointments.`));
      }
    } else {
      rows = [];
      const tbody = h('tbody', {}, main.map((p) => {
        const nameId = uid('pract');
        const select = selectFor(p, `${nameId}-hint`);
        const newName = h('input', { type: 'text', id: uid('newcol'), value: p.name || '', maxlength: 255 });
        newName.value = p.clinicianName && select.value === NEW ? p.clinicianName : (p.name || '');
        const nameWrap = h('div', { class: 'new-name field', hidden: select.value !== NEW },
          h('label', { for: newName.id, class: 'field-label' }, 'New column name'), newName);
        const best = p.suggestions?.[0];
        const hint = best
          ? h('span', { class: 'suggestion', id: `${nameId}-hint` }, `Best match: ${best.name} (${Math.round(best.score * 100)}% alike)`)
          : h('span', { class: 'suggestion suggestion--none', id: `${nameId}-hint` },
            p.clinicianId ? `Now: ${p.clinicianName || 'a column'}` : 'No column with a similar name');
        const error = h('p', { class: 'row-error', role: 'alert', hidden: true });
        select.addEventListener('change', () => {
          nameWrap.hidden = select.value !== NEW;
          error.hidden = true;
          select.removeAttribute('aria-invalid');
        });
        const row = { p, select, newName, nameWrap, error };
        rows.push(row);
        const note = p.synced
          ? `synced to ${p.clinicianName || 'a column'}`
          : (p.notSyncedReason && p.notSyncedReason !== 'not_mapped' && p.notSyncedReason !== 'unmapped'
            ? `not synced: ${reasonText(p.notSyncedReason, pmsName)}` : '');
        return h('tr', { class: p.synced ? '' : 'is-unsynced' },
          h('th', { scope: 'row', id: nameId },
            h('span', { class: 'practitioner-name' }, p.name || p.pmsPractitionerId),
            note ? h('span', { class: 'practitioner-note' }, note) : null),
          h('td', {},
            h('label', { for: select.id, class: 'visually-hidden' }, `Run-sheet column for ${p.name}`),
            select, hint, nameWrap, error));
      }));
      parts.push(h('div', { class: 'table-wrap' },
        h('table', { class: 'data mapping-table' },
          h('caption', { class: 'visually-hidden' }, `${pmsName} practitioners and their run-sheet columns`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, `${pmsName} practitioner`), h('th', { scope: 'col' }, 'Run-sheet column'))),
          tbody)));
    }
    if (others.length) {
      parts.push(h('details', { class: 'advanced' },
        h('summary', {}, `${plural(others.length, 'practitioner')} ${pmsName} does not book (not synced)`),
        h('ul', {}, others.map((p) => h('li', {}, `${p.name} — ${reasonText(p.active === false ? 'inactive' : 'not_in_appointment_book', pmsName)}`)))));
    }
    replaceChildren(body, parts);
  }

  async function load() {
    message.clear();
    body.setAttribute('aria-busy', 'true');
    try {
      const [pr, cl] = await Promise.all([
        api.get(paths.connectionPart(connectionId, 'practitioners'), { query: { refresh: refresh ? undefined : 'false' } }),
        api.get('/api/run-sheet/clinicians'),
      ]);
      data = pr;
      clinicians = cl.clinicians || [];
      render();
      return true;
    } catch (e) {
      body.removeAttribute('aria-busy');
      replaceChildren(body, h('div', { class: 'form-message form-message--error', role: 'alert' },
        h('p', {}, `The practitioners could not be read from ${pmsName}. ${explainError(e, { pmsName })}`),
        h('button', { type: 'button', class: 'button', onclick: () => load() }, 'Try again')));
      return false;
    }
  }

  /** Saves the changed rows; true when saved (or nothing to save). */
  async function save() {
    message.clear();
    if (!data) return false;
    const mappings = [];
    const sentRows = [];
    let invalid = null;
    for (const r of rows) {
      r.error.hidden = true;
      r.select.removeAttribute('aria-invalid');
      const v = r.select.value;
      const p = r.p;
      let m = null;
      if (v === SKIP) {
        if (p.syncEnabled !== false) m = { pmsPractitionerId: p.pmsPractitionerId, syncEnabled: false };
      } else if (v === NEW) {
        const name = r.newName.value.trim();
        if (!name) {
          r.error.textContent = 'Enter a name for the new column.';
          r.error.hidden = false;
          invalid = invalid || r.newName;
          continue;
        }
        m = { pmsPractitionerId: p.pmsPractitionerId, createClinician: true, clinicianName: name, syncEnabled: true };
      } else if (v !== p.clinicianId || p.syncEnabled === false) {
        m = { pmsPractitionerId: p.pmsPractitionerId, clinicianId: v, syncEnabled: true };
      }
      if (m) {
        mappings.push(m);
        sentRows.push(r);
      }
    }
    if (invalid) {
      message.error('Some rows need attention.');
      invalid.focus();
      return false;
    }
    if (mappings.length === 0) return true;
    try {
      data = await api.post(paths.connectionPart(connectionId, 'practitioners'), { mappings });
      const cl = await api.get('/api/run-sheet/clinicians').catch(() => null);
      if (cl) clinicians = cl.clinicians || [];
      if (data.listedByPms === null || data.listedByPms === undefined) data.listedByPms = true;
      render();
      return true;
    } catch (e) {
      const m = e instanceof ApiError && e.field ? /^mappings\[(\d+)\]/.exec(e.field) : null;
      const row = m ? sentRows[Number(m[1])] : null;
      const text = explainError(e, { pmsName });
      if (row) {
        row.error.textContent = text;
        row.error.hidden = false;
        row.select.setAttribute('aria-invalid', 'true');
        message.error(`The mappings were not saved: ${row.p.name}'s row needs attention.`);
        row.select.focus();
      } else {
        message.error(`The mappings were not saved. ${text}`);
      }
      return false;
    }
  }

  return {
    el,
    load,
    save,
    /** {synced, total, listedByPms} after load. */
    summary() {
      const list = (data?.practitioners || []).filter(bookable);
      const synced = rows.length
        ? rows.filter((r) => r.select.value !== SKIP).length
        : list.filter((p) => p.syncEnabled !== false).length;
      return { synced, total: list.length, listedByPms: data?.listedByPms };
    },
  };
}
