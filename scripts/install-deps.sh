#!/usr/bin/env bash
# Installs the Debian packages pmsync needs to build, test and benchmark, when any are missing,
# then the npm packages of the browser tests (tests/ui) when they are missing or out of date.
# Safe to run repeatedly: it only calls apt-get when a package is absent, and npm when
# tests/ui/node_modules is older than tests/ui/package-lock.json. Nothing is fetched at test time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential pkg-config meson ninja-build clang
  libcurl4-openssl-dev libjansson-dev libsqlite3-dev libpq-dev libssl-dev
  libmicrohttpd-dev libcmocka-dev sqlite3 tzdata curl jq ca-certificates
  libclang-rt-14-dev openssl # make fuzz: libFuzzer for clang; fuzz/seed.sh signs voice seeds
  postgresql # the store's PostgreSQL backend: tests and benchmarks start private clusters of their own
  wrk nginx # the pmsd benchmark (bench/bench_pmsd.c) compares pmsd with nginx under wrk
  chromium fonts-liberation nodejs npm # the web UI's browser tests (tests/ui): Playwright drives Chromium
)

missing=()
for p in "${packages[@]}"; do
  # A Node.js that is already installed is used as it is: NodeSource's nodejs package, for one,
  # brings its own npm and conflicts with Debian's npm package.
  case "$p" in
    nodejs | npm) command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# The browser tests' npm packages (playwright-core; never a browser: Debian's Chromium is used),
# exactly as pinned in tests/ui/package-lock.json.
install_ui_node_modules() {
  local ui="$root/tests/ui" stamp="$root/tests/ui/node_modules/.package-lock.json"
  [ -f "$ui/package-lock.json" ] || return 0
  if [ -f "$stamp" ] && [ ! "$stamp" -ot "$ui/package-lock.json" ]; then
    return 0
  fi
  echo "install-deps: npm ci in tests/ui" >&2
  (cd "$ui" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
}

if [ ${#missing[@]} -eq 0 ]; then
  install_ui_node_modules
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

# Packages must not start services while installing (nginx would start a system-wide server on
# port 80): a policy-rc.d that forbids it, unless the machine already has one.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# pmsync install-deps: no services started while installing\nexit 101\n' |
    $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi

$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Nor start at boot: the benchmark runs its own nginx in the foreground.
if [[ " ${missing[*]} " == *" nginx "* ]]; then
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
fi

install_ui_node_modules
