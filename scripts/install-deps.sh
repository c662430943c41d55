#!/usr/bin/env bash
# Installs the Debian packages pmsync needs to build, test and benchmark, when any are missing.
# Safe to run repeatedly: it only calls apt-get when a package is absent.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build clang
  libcurl4-openssl-dev libjansson-dev libsqlite3-dev libpq-dev libssl-dev
  libmicrohttpd-dev libcmocka-dev sqlite3 tzdata curl jq ca-certificates
  wrk nginx # the pmsd benchmark (bench/bench_pmsd.c) compares pmsd with nginx under wrk
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
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
