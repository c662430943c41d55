#!/usr/bin/env bash
# Installs the Debian packages pmsync needs to build, test and benchmark, when any are missing.
# Safe to run repeatedly: it only calls apt-get when a package is absent.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build clang
  libcurl4-openssl-dev libjansson-dev libsqlite3-dev libpq-dev libssl-dev
  libmicrohttpd-dev libcmocka-dev sqlite3 tzdata curl jq ca-certificates
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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
