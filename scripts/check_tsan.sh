#!/usr/bin/env bash
# ThreadSanitizer over the thread-heavy tests: the unit tests of the token cache, rate limiter,
# session (parallel fetches), store (SQLite and PostgreSQL), audit log and key rotation, and the
# integration tests that run pmsd (HTTP thread pool, SSE hub, scheduler and sync workers, the
# PostgreSQL listener, three workers sharing a database) and pms-sandbox built with TSan. Any
# report fails the run (exit 1) and is printed at the end.
#
#   scripts/check_tsan.sh [BUILD_DIR]     default build/tsan; configured here when missing
#
# The spawned pmsd, pmsctl and pms-sandbox are that build's (the tests' PMSD_BIN, PMSCTL_BIN and
# PMS_SANDBOX_BIN point into it), so they run instrumented too. Runs at most two tests at a time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/tsan}"
cd "$root"

# Unit tests with threads of their own, then the integration tests whose processes are threaded.
unit_tests=(token ratelimit session store store_pg audit rotation crypto pmsd_parts)
integration_tests=(workers api api_pg scheduler voice sandbox_gentu writes_gentu)

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=debug -Db_sanitize=thread -Db_lundef=false
fi
meson compile -C "$build"

# Reports go to files (every process, whatever its stderr is), one per process: reports/tsan.PID.
reports="$build/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$reports/tsan"

status=0
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 \
    "${unit_tests[@]}" "${integration_tests[@]}" || status=$?

if compgen -G "$reports/tsan.*" >/dev/null; then
    for f in "$reports"/tsan.*; do
        echo "==== $f" >&2
        cat "$f" >&2
    done
    echo "check_tsan: ThreadSanitizer reported the above" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "check_tsan: tests failed (exit $status)" >&2
    exit 1
fi
echo "check_tsan: no ThreadSanitizer reports"
