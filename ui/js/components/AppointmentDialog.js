// Adding and editing run-sheet appointments by hand. On a PMS appointment only the phone, the
// start time and notes can change (the PMS owns the rest): the dialog says so and disables those
// fields; a manual or OCR entry can change everything and can be removed.
import { api, ApiError, paths } from '../api.js';
import { announce, h, withBusy } from '../dom.js';
import { confirmDialog, openDialog } from '../dialog.js';
import { explainError, fieldName } from '../explain.js';
import { field, focusFirstInvalid, formMessage } from '../forms.js';
import { displayPhone, isDate, localParts, STATUS_LABELS, zonedToIso } from '../format.js';
import { editedFields, pmsLabel } from './AppointmentCard.js';

const STATUS_OPTIONS = Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label }));

/**
 * Opens the dialog. options: appointment (to edit; none to add), date (the run sheet's),
 * timezone (the practice's), clinicians [{id, name}], defaultClinicianId, onSaved(appt).
 */
export function openAppointmentDialog({ appointment, date, timezone, clinicians, defaultClinicianId, onSaved }) {
  const editing = Boolean(appointment);
  const a = appointment || {};
  const fromPms = editing && a.source === 'pms';
  const pms = fromPms ? pmsLabel(a.pmsType) : '';
  const start = editing ? localParts(a.startTime, timezone) : { date, time: '' };
  const message = formMessage();

  const clinicianOptions = clinicians.map((c) => ({ value: c.id, label: c.name }));
  if (editing && a.clinicianId && !clinicians.some((c) => c.id === a.clinicianId)) {
    clinicianOptions.unshift({ value: a.clinicianId, label: a.clinicianName || 'Current clinician' });
  }
  if (!editing) clinicianOptions.unshift({ value: '', label: 'Choose a clinician…' });
  if (editing && !a.clinicianId) clinicianOptions.unshift({ value: '', label: 'Unassigned' });

  const f = {
    clinicianId: field({ label: 'Clinician (column)', type: 'select', name: 'clinicianId', required: true, options: clinicianOptions, value: editing ? (a.clinicianId || '') : (defaultClinicianId || '') }),
    date: field({ label: 'Date', type: 'date', name: 'date', required: true, value: start.date }),
    time: field({ label: `Start time (${timezone.split('/').pop().replace(/_/g, ' ')})`, type: 'time', name: 'startTime', required: true, value: start.time, attrs: { step: 300 } }),
    duration: field({ label: 'Duration (minutes)', type: 'number', name: 'durationMinutes', required: true, value: editing ? String(a.durationMinutes ?? '') : '15', attrs: { min: 1, max: 720, step: 5, inputmode: 'numeric' } }),
    fullName: field({ label: 'Patient name', name: 'patient.fullName', required: true, value: a.patient?.fullName || '', attrs: { autocomplete: 'off' } }),
    phone: field({ label: 'Phone', type: 'tel', name: 'patient.phone', value: displayPhone(a.patient?.phone || ''), attrs: { autocomplete: 'off', inputmode: 'tel' }, help: fromPms ? `Changing it here keeps your number even when ${pms} syncs again.` : null }),
    type: field({ label: 'Appointment type', name: 'appointmentTypeName', value: a.appointmentTypeName || '', attrs: { autocomplete: 'off' } }),
    telehealth: field({ label: 'Telehealth appointment', type: 'checkbox', name: 'isTelehealth', value: editing ? Boolean(a.isTelehealth) : true }),
    status: field({ label: 'Status', type: 'select', name: 'status', options: STATUS_OPTIONS, value: a.status || 'booked' }),
    notes: field({
      label: fromPms ? 'Your notes' : 'Notes', type: 'textarea', name: 'notes',
      value: fromPms ? (a.manualEdits?.notes || '') : (a.notes || ''),
      help: fromPms ? `Added after ${pms}'s own note; kept when ${pms} syncs again.` : null,
      attrs: { maxlength: 4000 },
    }),
  };

  const byServerField = {
    clinicianId: f.clinicianId, startTime: f.time, endTime: f.duration, durationMinutes: f.duration,
    'patient.fullName': f.fullName, 'patient.phone': f.phone, appointmentTypeName: f.type,
    isTelehealth: f.telehealth, notes: f.notes, status: f.status, patient: f.fullName,
  };

  if (fromPms) {
    for (const x of [f.clinicianId, f.duration, f.fullName, f.type, f.telehealth, f.status]) {
      x.input.disabled = true;
    }
  }

  const edited = editing ? editedFields(a) : [];
  const children = [];
  if (fromPms) {
    children.push(h('div', { class: 'owned-note', id: 'owned-note' },
      h('p', {}, h('strong', {}, `This appointment comes from ${pms}. `),
        `${pms} owns the patient's name, the clinician, the type, the duration, the status and whether it is telehealth: change those in ${pms}.`),
      h('p', {}, 'Here you can change the phone number and the start time, and add notes. Your changes stay on the run sheet when pmsync syncs again.')));
  }
  children.push(message.el);
  children.push(
    h('div', { class: 'form-row' }, f.clinicianId.wrap, f.fullName.wrap),
    h('div', { class: 'form-row' }, f.date.wrap, f.time.wrap, f.duration.wrap),
    h('div', { class: 'form-row' }, f.phone.wrap, f.type.wrap),
    h('div', { class: 'form-row' }, f.telehealth.wrap, editing ? f.status.wrap : null));
  if (fromPms && a.notes && a.notes !== a.manualEdits?.notes) {
    children.push(h('div', { class: 'field' },
      h('p', { class: 'field-label' }, 'Notes on the run sheet'),
      h('p', { class: 'pms-note' }, a.notes)));
  }
  children.push(f.notes.wrap);

  const form = h('form', { novalidate: true, id: 'appointment-form' }, children);
  const save = h('button', { type: 'submit', class: 'button button--primary', form: 'appointment-form' }, editing ? 'Save changes' : 'Add appointment');
  const cancel = h('button', { type: 'button', class: 'button', onclick: () => dlg.close('cancel') }, 'Cancel');
  const footer = [];
  if (editing && !fromPms) {
    footer.push(h('button', { type: 'button', class: 'button button--danger', onclick: (ev) => remove(ev.currentTarget) }, 'Remove'));
  }
  if (fromPms && edited.length) {
    footer.push(h('button', { type: 'button', class: 'button button--quiet', onclick: (ev) => undoEdits(ev.currentTarget) },
      `Undo my changes (${edited.join(', ')})`));
  }
  footer.push(h('span', { class: 'spacer' }), cancel, save);

  const dlg = openDialog({
    title: editing ? `Edit appointment — ${a.patient?.fullName || ''}` : 'Add appointment',
    body: form, footer, size: 'wide', describedBy: fromPms ? 'owned-note' : undefined,
    initialFocus: fromPms ? f.phone.input : (editing ? f.fullName.input : f.clinicianId.input),
  });

  function clearErrors() {
    message.clear();
    for (const x of Object.values(f)) x.setError('');
  }

  function showServerError(e) {
    const target = e instanceof ApiError && e.field ? byServerField[e.field] : null;
    let text = explainError(e, { pmsName: pms || undefined, thing: 'appointment' });
    if (e instanceof ApiError && e.code === 'pms_owned') {
      text = `${pms || 'The PMS'} owns the ${fieldName(e.field || 'detail')}: change it in ${pms || 'the PMS'}.`;
    }
    if (target && !target.input.disabled) {
      target.setError(text);
      message.error('Check the highlighted field.');
      target.input.focus();
    } else {
      message.error(text);
      message.el.scrollIntoView?.({ block: 'nearest' });
    }
  }

  /** Checks the form; returns the start as ISO with the zone's offset, or null. */
  function validate() {
    let ok = true;
    if (!isDate(f.date.value)) {
      f.date.setError('Enter the date.');
      ok = false;
    }
    if (!/^\d{2}:\d{2}/.test(f.time.value)) {
      f.time.setError('Enter the start time.');
      ok = false;
    }
    if (!fromPms) {
      if (!f.clinicianId.value) {
        f.clinicianId.setError('Choose the clinician whose column it goes in.');
        ok = false;
      }
      if (!f.fullName.value.trim()) {
        f.fullName.setError('Enter the patient\'s name.');
        ok = false;
      }
      const d = Number(f.duration.value);
      if (!Number.isInteger(d) || d < 1 || d > 720) {
        f.duration.setError('Enter whole minutes, from 1 to 720.');
        ok = false;
      }
    }
    if (!ok) {
      message.error('Some details are missing or not valid: check the highlighted fields.');
      focusFirstInvalid(form);
      return null;
    }
    return zonedToIso(f.date.value, f.time.value.slice(0, 5), timezone);
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    const startIso = validate();
    if (!startIso) return;
    let body;
    if (!editing) {
      body = {
        source: 'manual',
        clinicianId: f.clinicianId.value,
        startTime: startIso,
        durationMinutes: Number(f.duration.value),
        patient: { fullName: f.fullName.value.trim() },
        isTelehealth: f.telehealth.value,
      };
      if (f.phone.value.trim()) body.patient.phone = f.phone.value.trim();
      if (f.type.value.trim()) body.appointmentTypeName = f.type.value.trim();
      if (f.notes.value.trim()) body.notes = f.notes.value.trim();
    } else {
      // Only what changed: unchanged PMS fields are never sent (they would be refused).
      body = {};
      const startChanged = f.date.value !== start.date || f.time.value.slice(0, 5) !== start.time;
      if (startChanged) body.startTime = startIso;
      const phone = f.phone.value.trim();
      if (phone !== (a.patient?.phone || '') && phone !== displayPhone(a.patient?.phone || '')) body.patient = { phone: phone || null };
      const notes = f.notes.value.trim();
      const oldNotes = fromPms ? (a.manualEdits?.notes || '') : (a.notes || '');
      if (notes !== oldNotes) body.notes = notes || null;
      if (!fromPms) {
        if (f.clinicianId.value && f.clinicianId.value !== (a.clinicianId || '')) body.clinicianId = f.clinicianId.value;
        if (Number(f.duration.value) !== a.durationMinutes) body.durationMinutes = Number(f.duration.value);
        const name = f.fullName.value.trim();
        if (name !== (a.patient?.fullName || '')) body.patient = { ...(body.patient || {}), fullName: name };
        if (f.type.value.trim() !== (a.appointmentTypeName || '')) body.appointmentTypeName = f.type.value.trim() || null;
        if (f.telehealth.value !== Boolean(a.isTelehealth)) body.isTelehealth = f.telehealth.value;
        if (f.status.value !== (a.status || 'booked')) body.status = f.status.value;
      }
      if (Object.keys(body).length === 0) {
        dlg.close('unchanged');
        return;
      }
    }
    await withBusy(save, editing ? 'Saving…' : 'Adding…', async () => {
      try {
        const saved = editing
          ? await api.patch(paths.appointment(a.id), body)
          : await api.post('/api/run-sheet/appointments', body);
        dlg.close('saved');
        announce(editing ? 'Appointment saved.' : 'Appointment added to the run sheet.');
        onSaved?.(saved, editing ? 'updated' : 'created');
      } catch (e) {
        showServerError(e);
      }
    });
  });

  async function undoEdits(button) {
    const body = {};
    const m = a.manualEdits || {};
    if (m.phone) body.patient = { phone: null };
    if (m.startTime) body.startTime = null;
    if (m.notes) body.notes = null;
    await withBusy(button, 'Undoing…', async () => {
      try {
        const saved = await api.patch(paths.appointment(a.id), body);
        dlg.close('saved');
        announce(`Your changes were undone: the run sheet shows ${pms}'s details again.`);
        onSaved?.(saved, 'updated');
      } catch (e) {
        showServerError(e);
      }
    });
  }

  async function remove(button) {
    const ok = await confirmDialog({
      title: 'Remove this appointment?',
      message: `The ${a.source === 'ocr' ? 'screenshot' : 'manual'} entry for ${a.patient?.fullName || 'this patient'} leaves the run sheet.`,
      confirmLabel: 'Remove', danger: true,
    });
    if (!ok) return;
    await withBusy(button, 'Removing…', async () => {
      try {
        await api.del(paths.appointment(a.id));
        dlg.close('removed');
        announce('Appointment removed from the run sheet.');
        onSaved?.(null, 'removed');
      } catch (e) {
        showServerError(e);
      }
    });
  }

  return dlg;
}
