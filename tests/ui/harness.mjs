// The harness of the web UI's end-to-end tests: a "world" (pms-sandbox + an account with an
// admin and a staff key + pmsd serving the UI, all on 127.0.0.1 in a temporary directory) and
// Debian's Chromium driven by playwright-core. tests/ui/README.md describes every helper.
//
// Everything a test starts is tracked here and cleaned up even when the test fails or is
// interrupted: stop() and browser.close() in after-hooks are the normal way; SIGINT, SIGTERM and
// SIGHUP stop whatever is still running and remove the temporary directories; a world left
// running when the process exits is killed (and the run fails); and pmsd and pms-sandbox are
// started under `setpriv --pdeathsig KILL`, so they die with the test process whatever happens.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const UI_TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.UI_CHROMIUM_BIN || '/usr/bin/chromium';

/** A generous per-test time limit: `test('...', { timeout: TEST_TIMEOUT_MS }, async () => ...)`. */
export const TEST_TIMEOUT_MS = 120_000;

const START_TIMEOUT_MS = 30_000; // pmsd and the sandbox write their port files (ASan builds too)
const STOP_TIMEOUT_MS = 30_000; // pmsd's graceful stop (shutdown_grace_seconds is 20 by default)
const HTTP_TIMEOUT_MS = 20_000; // one api() / sandbox() request
const PMSCTL_TIMEOUT_MS = 30_000;

const INSTALL_HINT = 'run scripts/install-deps.sh (it installs Chromium, Node.js and tests/ui/node_modules)';

// ---- bookkeeping and emergency clean-up ---------------------------------------------------

const liveWorlds = new Set();
const liveBrowsers = new Set();
let handlersInstalled = false;

function keepDirs() {
  return process.env.KEEP_UI_TEST_DIRS === '1';
}

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort, synchronous: kill what is left and remove its directories.
  process.on('exit', () => {
    for (const world of liveWorlds) {
      process.stderr.write(
        `harness: a world was still running at exit (call world.stop() in an after-hook); ` +
          `killed it${keepDirs() ? `, kept ${world.dir}` : ''}\n`,
      );
      world._killNow();
      if (!process.exitCode) process.exitCode = 1;
    }
  });
  // Interrupted (Ctrl-C, meson's timeout): close the browsers, stop the worlds, remove their
  // directories, then exit 128+signal. A signal more than 2 s later, or a clean-up that hangs,
  // ends the process at once (the exit handler above then kills what is left).
  let interruptedAt = 0;
  const onSignal = (signal, number) => {
    if (interruptedAt) {
      if (Date.now() - interruptedAt > 2_000) process.exit(128 + number);
      return;
    }
    interruptedAt = Date.now();
    setTimeout(() => process.exit(128 + number), 15_000).unref();
    emergencyCleanup().finally(() => process.exit(128 + number));
    // The test runner reading our stderr may be gone already (meson signals the whole group).
    process.stderr.on('error', () => {});
    process.stdout.on('error', () => {});
    try {
      process.stderr.write(`harness: ${signal}: stopping browsers, pmsd and pms-sandbox\n`);
    } catch {
      // nowhere to say it
    }
  };
  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
    process.on(signal, () => onSignal(signal, number));
  }
}

async function emergencyCleanup() {
  await Promise.allSettled([...liveBrowsers].map((b) => withTimeout(b.close(), 5_000, 'browser.close()')));
  await Promise.allSettled([...liveWorlds].map((w) => w.stop({ quiet: true })));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- small helpers --------------------------------------------------------------------------

/**
 * Polls fn() (sync or async) until it returns a truthy value, which it resolves to. Errors thrown
 * by fn count as "not yet". On timeout it rejects with `message`, the last error and the last value.
 */
export async function waitFor(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last, lastError;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `last error: ${lastError.stack || lastError}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`waitFor: ${message} not reached within ${timeout} ms (${detail})`);
    }
    await sleep(interval);
  }
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. Run the UI tests with 'meson test -C build/check ui', or ` +
        `'node tests/ui/run.mjs --build build/check' (see tests/ui/README.md)`,
    );
  }
  if (!fs.existsSync(value)) throw new Error(`${name}=${value} does not exist (build it first)`);
  return value;
}

/** The environment of pmsd and pmsctl: ours, without any PMSYNC_* of the caller's shell. */
function childEnv(dir, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PMSYNC_')) env[k] = v;
  return {
    ...env,
    PMSYNC_DB: path.join(dir, 'pmsync.db'),
    PMSYNC_SECRET_KEY_FILE: path.join(dir, 'pmsync.key'),
    ...extra,
  };
}

function tail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const SETPRIV = fs.existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;

/** A daemon with stdout and stderr in files; it dies with this process (pdeathsig). */
function startDaemon(name, bin, args, { env, outPath, logPath }) {
  const out = fs.openSync(outPath, 'a');
  const err = fs.openSync(logPath, 'a');
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { env, stdio: ['ignore', out, err] });
  fs.closeSync(out);
  fs.closeSync(err);
  const proc = { name, child, logPath, exit: null };
  proc.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal };
      resolve(proc.exit);
    });
    child.once('error', (e) => {
      proc.exit = { code: null, signal: null, error: e };
      resolve(proc.exit);
    });
  });
  child.unref(); // a world left running must not keep the test process alive: see 'exit' above
  return proc;
}

async function waitForPortFile(proc, file) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exit) {
      throw new Error(`${proc.name} exited (${describeExit(proc.exit)}) before listening; its log:\n${tail(proc.logPath)}`);
    }
    try {
      const port = parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (port > 0) return port;
    } catch {
      // not yet written
    }
    await sleep(20);
  }
  throw new Error(`${proc.name} did not write ${file} within ${START_TIMEOUT_MS} ms; its log:\n${tail(proc.logPath)}`);
}

function describeExit(exit) {
  if (!exit) return 'still running';
  if (exit.error) return `could not start: ${exit.error.message}`;
  return exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
}

/** SIGTERM, then up to `ms` for the exit; SIGKILL after that. Resolves to the exit. */
async function terminate(proc, ms) {
  if (!proc.exit) {
    proc.child.kill('SIGTERM');
    let timer;
    const exit = await Promise.race([
      proc.exited,
      new Promise((resolve) => (timer = setTimeout(resolve, ms, null))), // also keeps the loop alive
    ]);
    clearTimeout(timer);
    if (!exit) {
      proc.child.kill('SIGKILL');
      await proc.exited;
      proc.exit = { ...proc.exit, timedOut: true };
    }
  }
  return proc.exit;
}

async function httpJson(url, { method = 'GET', headers = {}, body } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: callers look at text
  }
  return { status: res.status, json, text, headers: res.headers };
}

// ---- the world ------------------------------------------------------------------------------

/**
 * Starts pms-sandbox and pmsd in a fresh temporary directory, with an account (Australia/Melbourne)
 * and an admin and a staff key. Options:
 *   pms:         PMS connections to create through the API, like `make run`'s demo: 'gentu'
 *                (paired), 'medirecords', 'halaxy', or {type, practice, as, settings, ...fields}:
 *                practice is the index of the sandbox's tenant or practice (default 0), `as` the
 *                name in world.connections (default the type), settings are merged over the
 *                sandbox's credentials (undefined removes one), fields are those of
 *                POST /api/pms/connections (displayName, syncTelehealthOnly...). Telehealth types
 *                are marked, unmapped practitioners become clinicians, and the first sync has
 *                finished when startWorld resolves (unless waitForFirstSync: false).
 *   sandboxArgs: extra pms-sandbox flags (e.g. ['--latency-ms', '200', '--fault-5xx', '0.1']).
 *                The sandbox always gets --medirecords-providers, as in `make run`.
 *   pmsdArgs:    extra pmsd `--set KEY=VALUE` pairs, as ['--set', 'k=v', ...].
 */
export async function startWorld({ pms = [], sandboxArgs = [], pmsdArgs = [], waitForFirstSync = true } = {}) {
  const pmsdBin = requireEnv('PMSD_BIN');
  const pmsctlBin = requireEnv('PMSCTL_BIN');
  const sandboxBin = requireEnv('PMS_SANDBOX_BIN');
  installHandlers();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pmsync-ui-'));
  const world = new World(dir, pmsctlBin);
  liveWorlds.add(world);
  try {
    // pms-sandbox, as `make run` starts it (Medirecords' provider list on).
    const sandboxPort = path.join(dir, 'sandbox.port');
    world._sandboxProc = startDaemon(
      'pms-sandbox',
      sandboxBin,
      ['--port', '0', '--port-file', sandboxPort, '--medirecords-providers', ...sandboxArgs],
      { env: childEnv(dir), outPath: path.join(dir, 'sandbox.out'), logPath: world.sandboxLogPath },
    );
    world.sandboxUrl = `http://127.0.0.1:${await waitForPortFile(world._sandboxProc, sandboxPort)}`;
    world.sandboxInfo = await world.sandbox('GET', '/_sandbox/info');

    // The account and its keys, with pmsctl as an operator would.
    world.accountId = await world.pmsctl(['account', 'add', 'UI Test Clinic', '--timezone', 'Australia/Melbourne']);
    world.adminKey = await world.pmsctl(['apikey', 'create', '--account', world.accountId, '--role', 'admin', '--name', 'ui-admin']);
    world.staffKey = await world.pmsctl(['apikey', 'create', '--account', world.accountId, '--role', 'staff', '--name', 'ui-staff']);

    // pmsd on that database.
    const pmsdPort = path.join(dir, 'pmsd.port');
    const args = [
      '--set', 'listen=127.0.0.1:0',
      '--set', `port_file=${pmsdPort}`,
      '--set', 'scheduler_scan_seconds=1',
      '--set', 'sse_heartbeat_seconds=2',
    ];
    if (process.env.PMSD_STATIC_DIR) args.push('--set', `static_dir=${path.resolve(process.env.PMSD_STATIC_DIR)}`);
    args.push(...pmsdArgs);
    world._pmsdProc = startDaemon('pmsd', pmsdBin, args, {
      env: childEnv(dir, { PMSYNC_LOG_LEVEL: process.env.PMSD_TEST_LOG_LEVEL || 'info' }),
      outPath: path.join(dir, 'pmsd.out'),
      logPath: world.logPath,
    });
    world.baseUrl = `http://127.0.0.1:${await waitForPortFile(world._pmsdProc, pmsdPort)}`;

    for (const spec of pms) await world._addConnection(spec);
    if (pms.length > 0) {
      // Enabled once set up, so the first sync sees the telehealth types; then synced at once
      // (the scheduler would wait for its jitter, up to a minute). 409: it started already.
      for (const c of Object.values(world.connections)) {
        await world.api('PATCH', `/api/pms/connections/${c.id}`, { body: { syncEnabled: true }, expect: 200 });
        await world.api('POST', `/api/pms/connections/${c.id}/sync`, { body: {}, expect: [202, 409] });
      }
      if (waitForFirstSync) {
        await world.waitForSyncs();
        for (const [as, c] of Object.entries(world.connections)) {
          world.connections[as] = (await world.api('GET', `/api/pms/connections/${c.id}`, { expect: 200 })).json;
        }
      }
    }
    return world;
  } catch (err) {
    await world.stop({ quiet: true }).catch(() => {});
    throw err;
  }
}

class World {
  constructor(dir, pmsctlBin) {
    this.dir = dir;
    this.logPath = path.join(dir, 'pmsd.log');
    this.sandboxLogPath = path.join(dir, 'sandbox.log');
    this.baseUrl = null;
    this.sandboxUrl = null;
    this.sandboxInfo = null;
    this.accountId = null;
    this.adminKey = null;
    this.staffKey = null;
    /** Connections made by startWorld({pms}), by PMS type (or their `as`): the API's connection objects. */
    this.connections = {};
    this._pmsctlBin = pmsctlBin;
    this._pmsdProc = null;
    this._sandboxProc = null;
    this._stopping = null;
  }

  /** Runs pmsctl on the world's database; resolves to its stdout (trimmed), rejects on failure. */
  pmsctl(args) {
    return new Promise((resolve, reject) => {
      execFile(
        this._pmsctlBin,
        args,
        { env: childEnv(this.dir, { PMSYNC_LOG_LEVEL: 'warn' }), timeout: PMSCTL_TIMEOUT_MS, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => {
          if (err) {
            reject(new Error(`pmsctl ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stderr}${stdout}`));
          } else {
            resolve(stdout.trim());
          }
        },
      );
    });
  }

  /**
   * A request to pmsd: api('GET', '/api/run-sheet', {key, body, headers, expect}). The key is
   * the admin key unless given (key: null sends none). Resolves to {status, json, text, headers};
   * with `expect` (a status or a list of them) any other status rejects with the body.
   */
  async api(method, apiPath, { key = this.adminKey, body, headers = {}, expect } = {}) {
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    const res = await httpJson(this.baseUrl + apiPath, { method, headers: h, body });
    if (expect !== undefined && ![].concat(expect).includes(res.status)) {
      throw new Error(`${method} ${apiPath}: status ${res.status}, expected ${expect}: ${res.text}`);
    }
    return res;
  }

  /** A request to the sandbox's control API; resolves to its JSON, rejects on a non-2xx answer. */
  async sandbox(method, sandboxPath, body) {
    const res = await httpJson(this.sandboxUrl + sandboxPath, { method, body });
    if (res.status < 200 || res.status > 299) {
      throw new Error(`sandbox ${method} ${sandboxPath}: status ${res.status}: ${res.text}`);
    }
    return res.json;
  }

  /** Waits until no connection is syncing or queued and each has synced at least once. */
  async waitForSyncs({ timeout = 60_000 } = {}) {
    return waitFor(
      async () => {
        const { json } = await this.api('GET', '/api/pms/sync', { expect: 200 });
        const done = json.connections.every((c) => c.lastSyncStatus !== null && !c.running && !c.queued);
        return done && json;
      },
      { timeout, interval: 200, message: 'every connection synced' },
    );
  }

  async _addConnection(spec) {
    const { type, practice = 0, as = type, settings: extraSettings = {}, ...fields } =
      typeof spec === 'string' ? { type: spec } : spec;
    if (this.connections[as]) throw new Error(`startWorld: two connections named '${as}' (give one an 'as')`);
    const info = this.sandboxInfo;
    let base;
    if (type === 'gentu') {
      const t = info.gentu.tenants[practice];
      base = {
        baseUrl: `${this.sandboxUrl}/gentu`,
        timezone: t.timezone,
        settings: { client_id: info.gentu.clientId, client_secret: info.gentu.clientSecret, app_id: info.gentu.appId },
      };
    } else if (type === 'medirecords') {
      const p = info.medirecords.practices[practice];
      base = {
        baseUrl: `${this.sandboxUrl}/medirecords`,
        timezone: p.timezone,
        settings: { practice_id: p.practiceId, token: p.token, providers_path: '/v1/practices/{practiceId}/providers' },
      };
    } else if (type === 'halaxy') {
      const p = info.halaxy.practices[practice];
      base = {
        baseUrl: `${this.sandboxUrl}/halaxy`,
        timezone: p.timezone,
        settings: { client_id: p.clientId, client_secret: p.clientSecret },
      };
    } else {
      throw new Error(`startWorld: unknown PMS '${type}' (gentu, medirecords or halaxy)`);
    }
    const settings = { ...base.settings, ...extraSettings };
    for (const k of Object.keys(settings)) if (settings[k] === undefined) delete settings[k];
    const body = {
      pmsType: type,
      displayName: `UI test practice (${as})`,
      baseUrl: base.baseUrl,
      timezone: base.timezone,
      ...fields,
      settings,
      syncEnabled: false, // enabled once set up, so the first sync sees the telehealth types
    };
    const { json: created } = await this.api('POST', '/api/pms/connections', { body, expect: 201 });
    const id = created.id;
    if (type === 'gentu') {
      const code = info.gentu.tenants[practice].pairingCode;
      await this.api('POST', `/api/pms/connections/${id}/pair`, { body: { code }, expect: 200 });
    }
    await this.api('GET', `/api/pms/connections/${id}/practitioners`, { expect: 200 });
    await this.api('GET', `/api/pms/connections/${id}/appointment-types`, { expect: 200 });
    await this.api('PATCH', `/api/pms/connections/${id}/appointment-types`, {
      body: { markSuggestedTelehealth: true },
      expect: 200,
    });
    const { json } = await this.api('GET', `/api/pms/connections/${id}`, { expect: 200 });
    this.connections[as] = json;
    return json;
  }

  /**
   * Stops pmsd (SIGTERM) and the sandbox, and removes the directory (kept with
   * KEEP_UI_TEST_DIRS=1). Rejects, with the end of the log, if pmsd or the sandbox did not exit
   * with status 0 (ASan and LSan findings make the status non-zero). Safe to call twice.
   */
  stop({ quiet = false } = {}) {
    this._stopping ??= this._stop(quiet);
    return this._stopping;
  }

  async _stop(quiet) {
    const problems = [];
    for (const proc of [this._pmsdProc, this._sandboxProc]) {
      if (!proc) continue;
      const exit = await terminate(proc, STOP_TIMEOUT_MS);
      if (exit.timedOut || exit.code !== 0) {
        problems.push(
          `${proc.name} did not stop cleanly (${exit.timedOut ? 'no exit within ' + STOP_TIMEOUT_MS + ' ms, killed' : describeExit(exit)}); ` +
            `the end of its log (KEEP_UI_TEST_DIRS=1 keeps ${proc.logPath}):\n${tail(proc.logPath, 60)}`,
        );
      }
    }
    liveWorlds.delete(this);
    if (keepDirs()) process.stderr.write(`harness: kept ${this.dir} (KEEP_UI_TEST_DIRS=1)\n`);
    else await fsp.rm(this.dir, { recursive: true, force: true });
    if (problems.length > 0 && !quiet) throw new Error(problems.join('\n\n'));
  }

  /** Synchronous kill at process exit. */
  _killNow() {
    for (const proc of [this._pmsdProc, this._sandboxProc]) if (proc && !proc.exit) proc.child.kill('SIGKILL');
    if (!keepDirs()) fs.rmSync(this.dir, { recursive: true, force: true });
    liveWorlds.delete(this);
  }
}

// ---- the browser ----------------------------------------------------------------------------

/**
 * Launches Debian's Chromium headless through playwright-core. Close it in an after-hook
 * (browser.close()); an interrupted run closes it too.
 */
export async function launchBrowser({ args = [], ...options } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: ${INSTALL_HINT}`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    throw new Error(`playwright-core cannot be loaded (${err.message}): ${INSTALL_HINT}`);
  }
  installHandlers();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium refuses to start as root with its sandbox on; otherwise keep the sandbox.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ...args],
    timeout: START_TIMEOUT_MS,
    // Our own handlers stop pmsd and the sandbox as well (Playwright's would just exit).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    ...options,
  });
  liveBrowsers.add(browser);
  browser.on('disconnected', () => liveBrowsers.delete(browser));
  return browser;
}

export const DESKTOP = Object.freeze({ viewport: { width: 1280, height: 800 } });
export const TABLET = Object.freeze({ viewport: { width: 1024, height: 768 }, hasTouch: true });

/**
 * A new page in its own browser context (its own cookies and storage), 1280×800, with baseURL
 * set to the world's pmsd (so page.goto('/') works), the en-AU locale and the account's zone
 * (Australia/Melbourne). `options` go to browser.newContext() and win. The page records what
 * went wrong, for assertNoPageErrors():
 *   page.pageErrors      uncaught exceptions and unhandled rejections (with their stacks)
 *   page.consoleErrors   console.error() and Chromium's own errors (CSP violations, blocked
 *                        styles...); its "Failed to load resource" lines are left out: they
 *                        are the entries of the two lists below
 *   page.failedRequests  requests that got no response (refused, aborted, blocked)
 *   page.httpErrors      responses with status 400 or more: {method, url, status}
 *   page.consoleLog      every console message, as "type: text" (for debugging)
 * Chromium's own request for /favicon.ico is not recorded. Close the page with
 * `await page.context().close()` (browser.close() closes every context).
 */
export async function newPage(browser, world, options = {}) {
  const context = await browser.newContext({
    ...DESKTOP,
    baseURL: world?.baseUrl,
    locale: 'en-AU',
    timezoneId: 'Australia/Melbourne',
    ...options,
  });
  const page = await context.newPage();
  page.pageErrors = [];
  page.consoleErrors = [];
  page.failedRequests = [];
  page.httpErrors = [];
  page.consoleLog = [];
  const favicon = (url) => /\/favicon\.ico(\?|$)/.test(url ?? '');
  page.on('console', (msg) => {
    const url = msg.location()?.url;
    page.consoleLog.push(`${msg.type()}: ${msg.text()}`);
    if (msg.type() !== 'error' || favicon(url) || msg.text().startsWith('Failed to load resource:')) return;
    page.consoleErrors.push(`${msg.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (err) => page.pageErrors.push(String(err?.stack || err)));
  page.on('requestfailed', (req) => {
    if (favicon(req.url())) return;
    page.failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText ?? 'failed'}`);
  });
  page.on('response', (res) => {
    if (res.status() < 400 || favicon(res.url())) return;
    page.httpErrors.push({ method: res.request().method(), url: res.url(), status: res.status() });
  });
  return page;
}

/** newPage() as a 1024×768 touch tablet (landscape). */
export function newTabletPage(browser, world, options = {}) {
  return newPage(browser, world, { ...TABLET, ...options });
}

/**
 * Asserts that nothing went wrong on the page: no uncaught exception, no console error, no
 * request without a response, and no error status for the UI's own files (anything outside
 * /api/). Error answers of the API (401 before signing in, 502 from a failing PMS...) are the
 * UI's business and are checked only with {apiErrors: true}. `ignore` lists RegExps of entries
 * that are expected, matched against the lines of the report (e.g. [/HTTP 401: GET .*\/api\/session/]).
 */
export function assertNoPageErrors(page, { ignore = [], apiErrors = false } = {}) {
  const keep = (s) => !ignore.some((re) => re.test(s));
  const http = page.httpErrors
    .filter((e) => apiErrors || !new URL(e.url).pathname.startsWith('/api/'))
    .map((e) => `HTTP ${e.status}: ${e.method} ${e.url}`);
  const found = [
    ...page.pageErrors.map((s) => `uncaught: ${s}`),
    ...page.consoleErrors.map((s) => `console: ${s}`),
    ...page.failedRequests.map((s) => `request failed: ${s}`),
    ...http,
  ].filter(keep);
  if (found.length > 0) throw new Error(`the page reported ${found.length} problem(s):\n  ${found.join('\n  ')}`);
}

// ---- screenshots ------------------------------------------------------------------------------

/** Where screenshots go: $UI_ARTIFACTS_DIR (meson: <build dir>/ui-artifacts), else tests/ui/artifacts. */
export function artifactsDir() {
  return path.resolve(process.env.UI_ARTIFACTS_DIR || path.join(UI_TEST_DIR, 'artifacts'));
}

/** A full-page PNG named `name` (e.g. 'runsheet-tablet') in artifactsDir(); resolves to its path. */
export async function screenshot(page, name) {
  const safe = String(name).replace(/\.png$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const dir = artifactsDir();
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${safe}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

