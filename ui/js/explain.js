// Errors in plain words, with what to do next. Never shows raw JSON: the server's own message is
// one sentence for people, and it is used only where it helps.
import { ApiError } from './api.js';
import { listJoin } from './format.js';

/** The labels of a PMS's credential settings: the required ones, else the secret ones. */
export function credentialLabels(system) {
  const settings = system?.settings || [];
  const required = settings.filter((s) => s.required).map((s) => s.label);
  const secret = settings.filter((s) => s.secret && !/^only for/i.test(s.help || '')).map((s) => s.label);
  const labels = [...new Set([...required, ...secret])];
  return labels.length ? labels : ['credentials'];
}

function sentence(text) {
  if (!text) return '';
  const t = text.trim();
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * Explains a PMS failure kind (from an error's `pms.kind` or a test result's `errorKind`).
 * ctx: {pmsName, labels}
 */
export function explainPmsKind(kind, ctx = {}, serverMessage = '') {
  const pms = ctx.pmsName || 'the PMS';
  const labels = listJoin(ctx.labels || ['credentials']);
  switch (kind) {
    case 'auth':
      return `${pms} did not accept these credentials. Check the ${labels} in ${pms}'s settings ` +
        `(copy them again, without spaces), then try again.`;
    case 'transport':
      return `pmsync could not reach ${pms}. Check the base URL under "Advanced" and this ` +
        `computer's network connection, then try again.`;
    case 'rate_limited':
      return `${pms} is receiving too many requests right now. Wait a minute, then try again.`;
    case 'not_supported':
      return `${pms} does not offer this.${serverMessage ? ` ${sentence(serverMessage)}` : ''}`;
    case 'not_configured':
      return serverMessage
        ? `The connection is not finished: ${serverMessage.replace(/\.$/, '')}.`
        : `The connection to ${pms} is not finished: complete its set-up first.`;
    case 'not_found':
      return `${pms} could not find this practice. Check the ${labels}, then try again.`;
    case 'forbidden':
    case 'permission':
      return `${pms} refused access for these credentials. Make sure the API access is enabled ` +
        `for this practice in ${pms}, then try again.`;
    case 'timeout':
      return `${pms} took too long to answer. Try again in a moment.`;
    case 'http':
    case 'upstream':
    case 'server':
      return `${pms} answered with an error${serverMessage ? `: ${serverMessage.replace(/\.$/, '')}` : ''}. ` +
        `Try again in a few minutes; if it keeps happening, check ${pms}'s status.`;
    case 'invalid':
    case 'invalid_response':
      return `${pms} sent an answer pmsync could not read. Try again; if it keeps happening, ` +
        `contact pmsync support.`;
    default:
      return serverMessage ? sentence(serverMessage) : `${pms} could not be used just now. Try again in a moment.`;
  }
}

/**
 * A sentence for an error from the API. ctx: {pmsName, labels, action}; action 'pair' turns a
 * 404 into "this pairing code is not valid".
 */
export function explainError(err, ctx = {}) {
  if (!(err instanceof ApiError)) {
    return 'Something went wrong in this page. Reload it and try again.';
  }
  const pms = ctx.pmsName || 'the PMS';
  if (err.pms?.kind) return explainPmsKind(err.pms.kind, ctx, err.message);
  switch (err.code) {
    case 'network':
      return 'pmsync could not be reached. Check this computer\'s network connection, then try again.';
    case 'unauthorized':
      return 'Your session has ended. Sign in again.';
    case 'too_many_attempts': {
      const wait = Number(err.retryAfter);
      const when = wait > 0 ? `about ${Math.ceil(wait / 60)} minute${Math.ceil(wait / 60) === 1 ? '' : 's'}` : 'a few minutes';
      return `Too many sign-in attempts. Wait ${when}, then try again.`;
    }
    case 'csrf_failed':
      return 'This page\'s session could not be checked. Reload the page and try again.';
    case 'forbidden':
      return 'Your role does not allow this. Ask an administrator of this account.';
    case 'sync_in_progress':
      return `${ctx.pmsName ? `${pms} is` : 'It is'} already syncing: the run sheet updates as soon as that sync finishes.`;
    case 'not_configured':
      if (ctx.action === 'run-sheet-sync') {
        return 'No PMS is set to sync yet. An administrator can connect one, or turn syncing on, under Connections.';
      }
      return explainPmsKind('not_configured', ctx, err.message);
    case 'not_supported':
      return explainPmsKind('not_supported', ctx, err.message);
    case 'pms_owned':
      return `${ctx.pmsName || 'The PMS'} owns this detail${err.field ? ` (${fieldName(err.field)})` : ''}: change it in ${pms}.`;
    case 'not_found':
      if (ctx.action === 'pair') {
        return 'This pairing code is not valid or has expired. Generate a new one in the Gentu ' +
          'Marketplace (Gentu, Settings, Marketplace, pmsync, Pair) and enter it here.';
      }
      return `This ${ctx.thing || 'item'} no longer exists: it may have been removed. Reload the page.`;
    case 'pms_error':
      return explainPmsKind('upstream', ctx, err.message);
    case 'invalid_request':
    case 'invalid_json':
      return sentence(err.message) || 'Some details are not valid: check the form.';
    case 'conflict':
      return sentence(err.message) || 'This changed in the meantime. Reload the page and try again.';
    case 'body_too_large':
      return 'That is too much text to save at once. Shorten the notes and try again.';
    case 'audit_unavailable':
      return 'pmsync could not record this in its audit log, so nothing was shown or changed. ' +
        'Try again in a moment; if it keeps happening, contact your administrator.';
    case 'shutting_down':
    case 'database_unavailable':
    case 'scheduler_unavailable':
    case 'too_many_streams':
      return 'pmsync is busy or restarting. Try again in a moment.';
    default:
      if (err.status >= 500) return 'pmsync had a problem doing this. Try again in a moment.';
      return sentence(err.message) || 'That did not work. Try again.';
  }
}

const FIELD_NAMES = {
  'patient.phone': 'phone',
  'patient.fullName': 'patient name',
  startTime: 'start time',
  durationMinutes: 'duration',
  endTime: 'end time',
  status: 'status',
  clinicianId: 'clinician',
  isTelehealth: 'telehealth',
  appointmentTypeName: 'appointment type',
  notes: 'notes',
};

export function fieldName(field) {
  return FIELD_NAMES[field] || field;
}
