#!/usr/bin/env node
// Runs the web UI's browser tests: every *.test.mjs under tests/ui, one file at a time, with
// Node's test runner. `meson test -C build/check ui` runs it; directly:
//
//   node tests/ui/run.mjs --build build/check            # every test file
//   node tests/ui/run.mjs --build build/check smoke      # files whose name contains "smoke"
//   UI_TESTS=smoke meson test -C build/check ui           # the same, through meson
//
// --build DIR sets PMSD_BIN, PMSCTL_BIN and PMS_SANDBOX_BIN from a build directory (variables
// already set win). It first checks that Chromium, Node.js and tests/ui/node_modules are
// installed and fails, saying to run scripts/install-deps.sh, when they are not.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const INSTALL = 'run scripts/install-deps.sh (it installs Chromium, Node.js and npm, then tests/ui/node_modules)';

function fail(message) {
  process.stderr.write(`ui tests: ${message}\n`);
  process.exit(1);
}

// ---- arguments --------------------------------------------------------------------------------

const args = process.argv.slice(2);
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--build') {
    const dir = path.resolve(args[++i] ?? fail('--build needs a directory'));
    const bins = {
      PMSD_BIN: 'src/cmd/pmsd',
      PMSCTL_BIN: 'src/cmd/pmsctl',
      PMS_SANDBOX_BIN: 'sandbox/pms-sandbox',
    };
    for (const [name, rel] of Object.entries(bins)) process.env[name] ||= path.join(dir, rel);
    process.env.UI_ARTIFACTS_DIR ||= path.join(dir, 'ui-artifacts');
  } else if (args[i] === '--help' || args[i] === '-h') {
    process.stdout.write('usage: node tests/ui/run.mjs [--build BUILD_DIR] [FILE|NAME...]\n');
    process.exit(0);
  } else {
    filters.push(args[i]);
  }
}

// ---- what the tests need ------------------------------------------------------------------

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 18 || (major === 18 && minor < 15)) fail(`Node.js ${process.versions.node} is too old (18.15 or later): ${INSTALL}`);

const chromium = process.env.UI_CHROMIUM_BIN || '/usr/bin/chromium';
if (!fs.existsSync(chromium)) fail(`Chromium (${chromium}) is not installed: ${INSTALL}`);

const lock = path.join(here, 'package-lock.json');
const installed = path.join(here, 'node_modules', '.package-lock.json');
if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core', 'package.json')) || !fs.existsSync(installed)) {
  fail(`tests/ui/node_modules is missing: ${INSTALL}`);
}
if (fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  fail(`tests/ui/node_modules is older than tests/ui/package-lock.json: ${INSTALL}`);
}

for (const name of ['PMSD_BIN', 'PMSCTL_BIN', 'PMS_SANDBOX_BIN']) {
  if (!process.env[name]) fail(`${name} is not set: use 'meson test -C BUILD ui' or '--build BUILD'`);
  if (!fs.existsSync(process.env[name])) fail(`${name}=${process.env[name]} does not exist (build it first)`);
}
// Paths given relative to where we were started stay right whatever the tests' directory.
for (const name of ['PMSD_BIN', 'PMSCTL_BIN', 'PMS_SANDBOX_BIN', 'PMSD_STATIC_DIR', 'UI_ARTIFACTS_DIR', 'UI_CHROMIUM_BIN']) {
  if (process.env[name]) process.env[name] = path.resolve(process.env[name]);
}
if (process.env.PMSD_STATIC_DIR && !fs.existsSync(path.join(process.env.PMSD_STATIC_DIR, 'index.html'))) {
  fail(`PMSD_STATIC_DIR=${process.env.PMSD_STATIC_DIR} has no index.html (it is the ui/ directory)`);
}

// ---- the test files ---------------------------------------------------------------------------

function findTests(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'artifacts') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(full));
    else if (entry.name.endsWith('.test.mjs')) found.push(full);
  }
  return found.sort();
}

// UI_TESTS="smoke wizard" selects files under meson too: UI_TESTS=smoke meson test -C BUILD ui
if (filters.length === 0 && process.env.UI_TESTS) filters.push(...process.env.UI_TESTS.split(/[\s,]+/).filter(Boolean));

let files = findTests(here);
if (filters.length > 0) {
  files = filters.flatMap((f) => {
    if (fs.existsSync(f) && fs.statSync(f).isFile()) return [path.resolve(f)];
    const matching = files.filter((file) => path.relative(here, file).includes(f));
    if (matching.length === 0) fail(`no test file matches '${f}'`);
    return matching;
  });
}
if (files.length === 0) fail(`no *.test.mjs files in ${here}`);

// ---- run them -------------------------------------------------------------------------------

// --test-concurrency exists from Node 20.10; older runners (Debian 12's Node 18) run files in
// parallel, so there each file gets its own `node --test`, one after the other.
const hasConcurrency = major > 20 || (major === 20 && minor >= 10);
const batches = hasConcurrency ? [files] : files.map((f) => [f]);
const base = ['--test', '--test-reporter=spec'];
if (hasConcurrency) base.push('--test-concurrency=1');

let child = null;
let interrupted = false;
// Meson's timeout sends SIGTERM to the whole process group and SIGKILLs it if this process is
// still there half a second later: leave at once; the test processes got the signal too and
// clean up on their own. Ctrl-C (SIGINT) also reaches every process: wait for their clean-up.
process.on('SIGTERM', () => process.exit(143));
for (const signal of ['SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = true;
    child?.kill(signal);
  });
}

let status = 0;
for (const batch of batches) {
  if (interrupted) break;
  const code = await new Promise((resolve) => {
    child = spawn(process.execPath, [...base, ...batch], { stdio: 'inherit' });
    child.on('exit', (c, s) => resolve(c ?? 128 + (s === 'SIGINT' ? 2 : 1)));
    child.on('error', (e) => {
      process.stderr.write(`ui tests: cannot run node: ${e.message}\n`);
      resolve(1);
    });
  });
  if (code !== 0) status = code;
}
process.exit(interrupted && status === 0 ? 130 : status);
