#!/usr/bin/env bash
# `make soak`: the fault soak (tests/soak/soak.c) against the sanitizer build.
#   scripts/soak.sh [SECONDS] [SEED]      default 1800 s (CI runs `meson test soak`: 90 s)
# Prints each round, then rounds, faults by kind, kills and invariant violations; exits non-zero
# on any violation. A seed reproduces a run's choices.
set -euo pipefail
seconds=${1:-1800}
seed=${2:-}
build=${BUILD:-build/check}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build" tests/soak/soak src/cmd/pmsd src/cmd/pmsctl sandbox/pms-sandbox >/dev/null
export PMS_SANDBOX_BIN="$root/$build/sandbox/pms-sandbox"
export PMSD_BIN="$root/$build/src/cmd/pmsd"
export PMSCTL_BIN="$root/$build/src/cmd/pmsctl"
export PMSYNC_LOG_LEVEL=${PMSYNC_LOG_LEVEL:-warn}
export PMSD_TEST_LOG_LEVEL=${PMSD_TEST_LOG_LEVEL:-info}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp}
args=(--seconds "$seconds")
[ -n "$seed" ] && args+=(--seed "$seed")
# pmsctl's notes on stderr (keys created) are noise here.
"$build/tests/soak/soak" "${args[@]}" 2> >(grep -v -e '^pmsctl: ' -e '^  id ' >&2)
