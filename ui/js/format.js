// Formatting: times in the practice's zone, relative times, durations, phones, statuses.
import { h } from './dom.js';

const LOCALE = 'en-AU';
const formatters = new Map();

function formatter(key, options) {
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALE, options);
    formatters.set(key, f);
  }
  return f;
}

/** "9:30 am": the wall-clock time of an instant in an IANA zone. */
export function timeIn(iso, timeZone) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return formatter(`t|${timeZone}`, { timeZone, hour: 'numeric', minute: '2-digit', hour12: true })
    .format(d);
}

/** "Sun 22 Nov, 9:30 am" in a zone (the browser's when none is given). */
export function dateTimeIn(iso, timeZone) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const opts = { weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit', hour12: true };
  if (timeZone) opts.timeZone = timeZone;
  return formatter(`dt|${timeZone || ''}`, opts).format(d);
}

/** The parts of an instant's local date and time in a zone: {date: "YYYY-MM-DD", time: "HH:MM"}. */
export function localParts(iso, timeZone) {
  const d = new Date(iso);
  const parts = formatter(`p|${timeZone}`, {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit',
  }).formatToParts(d);
  const get = (type) => parts.find((p) => p.type === type)?.value ?? '00';
  return { date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}` };
}

/** Minutes the zone is ahead of UTC at an instant (ms since the epoch). */
function offsetMinutes(timeZone, ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * A local date and time typed in the practice's zone as ISO 8601 with that zone's offset
 * ("2026-03-02T09:30:00+11:00"). A time in a daylight-saving gap moves forward by the gap.
 */
export function zonedToIso(date, time, timeZone) {
  const [y, mo, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, mo - 1, d, hh, mm);
  // The zone's offsets a day either side; a wall time is valid with an offset that holds at the
  // instant it gives. Both valid (a repeated hour): the first occurrence. Neither (a gap): the
  // offset before the change, which moves the time forward by the gap.
  const before = offsetMinutes(timeZone, wall - 86400000);
  const after = offsetMinutes(timeZone, wall + 86400000);
  const valid = [...new Set([before, after])]
    .map((o) => wall - o * 60000)
    .filter((t) => offsetMinutes(timeZone, t) * 60000 === wall - t)
    .sort((a, b) => a - b);
  const ms = valid.length ? valid[0] : wall - before * 60000;
  const off = offsetMinutes(timeZone, ms);
  const local = new Date(ms + off * 60000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "YYYY-MM-DD" plus n days. */
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

export function isDate(s) {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
}

/** "Sunday 22 November 2026" for a calendar date. */
export function longDate(date) {
  const [y, m, d] = date.split('-').map(Number);
  return formatter('long', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** "Sun 22 Nov" for a calendar date. */
export function shortDate(date) {
  const [y, m, d] = date.split('-').map(Number);
  return formatter('short', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** "3 minutes ago", "in 5 minutes", "just now"; short: "3 min ago". */
export function relativeTime(iso, { short = false, now = Date.now() } = {}) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const secs = Math.round((now - t) / 1000);
  const future = secs < -30;
  const s = Math.abs(secs);
  if (s < 45) return future ? 'in a moment' : 'just now';
  const unit = (n, long, brief) => `${n} ${short ? brief : long + (n === 1 ? '' : 's')}`;
  const phrase = (text) => (future ? `in ${text}` : `${text} ago`);
  const minutes = Math.round(s / 60);
  if (minutes < 60) return phrase(unit(minutes, 'minute', 'min'));
  const hours = Math.round(minutes / 60);
  if (hours < 24) return phrase(unit(hours, 'hour', hours === 1 ? 'hr' : 'hrs'));
  const days = Math.round(hours / 24);
  if (days === 1 && !future) return 'yesterday';
  if (days < 14) return phrase(unit(days, 'day', days === 1 ? 'day' : 'days'));
  return `on ${dateTimeIn(iso)}`;
}

/**
 * A <time> element showing a relative time that the ticker keeps current (every 30 s);
 * its title is the exact time.
 */
export function relTime(iso, { short = false } = {}) {
  return h('time', {
    datetime: iso,
    title: dateTimeIn(iso),
    dataset: { reltime: iso, short: short ? '1' : '' },
  }, relativeTime(iso, { short }));
}

let ticker = null;
/** Starts the 30-second refresh of every relative time on the page. */
export function startRelativeTicker() {
  if (ticker) return;
  ticker = setInterval(refreshRelativeTimes, 30000);
}

export function refreshRelativeTimes() {
  for (const el of document.querySelectorAll('time[data-reltime]')) {
    const text = relativeTime(el.dataset.reltime, { short: el.dataset.short === '1' });
    if (el.textContent !== text) el.textContent = text;
  }
}

/** "15 min", "1 hr 30 min". */
export function duration(minutes) {
  if (minutes === null || minutes === undefined) return '';
  if (minutes < 60) return `${minutes} min`;
  const hrs = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hrs} hr ${rest} min` : `${hrs} hr`;
}

/** "1.2 s", "340 ms". */
export function elapsed(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** An Australian number in E.164 shown the way it is written locally; anything else as given. */
export function displayPhone(phone) {
  if (!phone) return '';
  const m = /^\+61([2-478]\d{8})$/.exec(phone);
  if (!m) return phone;
  const n = `0${m[1]}`;
  if (n[1] === '4') return `${n.slice(0, 4)} ${n.slice(4, 7)} ${n.slice(7)}`;
  return `(${n.slice(0, 2)}) ${n.slice(2, 6)} ${n.slice(6)}`;
}

export function telHref(phone) {
  return `tel:${String(phone).replace(/[^\d+]/g, '')}`;
}

export const STATUS_LABELS = {
  booked: 'Booked',
  confirmed: 'Confirmed',
  arrived: 'Arrived',
  in_progress: 'With clinician',
  completed: 'Completed',
  cancelled: 'Cancelled',
  no_show: 'Did not attend',
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || (status ? status.replace(/_/g, ' ') : 'Booked');
}

/** "Dr A and Dr B", "A, B and C". */
export function listJoin(items, word = 'and') {
  const list = items.filter(Boolean);
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} ${word} ${list[list.length - 1]}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
