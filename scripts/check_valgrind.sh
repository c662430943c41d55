#!/usr/bin/env bash
# valgrind's memcheck over integration tests: the test programs and every pmsd, pmsctl and
# pms-sandbox they start run under valgrind (the `valgrind` test setup of tests/meson.build,
# PMSYNC_TEST_WRAPPER in tests/support/sandbox_proc.h). Any memory error or definitely or
# indirectly lost block, in any of those processes, fails the run (exit 1) and is printed.
#
#   scripts/check_valgrind.sh [BUILD_DIR] [TEST...]   default build/valgrind and the tests below;
#                                                     the build is configured here when missing
#
# A debug build without sanitizers (valgrind cannot run ASan binaries). Runs at most two tests at
# a time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/valgrind}"
shift || true
cd "$root"

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    tests=(api sync_gentu voice writes_medirecords)
    # Every process costs a second or two of start-up under valgrind and the sync suite starts
    # hundreds: of it, the syncs themselves (a day and its resync, a token expiring mid-sync, a
    # killed sync rerun, a refused second sync, referenced records read once). The daylight
    # saving weeks, faults and backend move run under ASan in `make check`.
    export PMSYNC_TEST_ONLY="${PMSYNC_TEST_ONLY:-test_sync:*sync*}"
fi

if ! command -v valgrind >/dev/null 2>&1; then
    echo "check_valgrind: valgrind is missing: run scripts/install-deps.sh" >&2
    exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=debug
fi
meson compile -C "$build"

# One log per process (--log-file=valgrind-logs/%p.log), empty unless memcheck found something.
logs="$build/valgrind-logs"
rm -rf "$logs"
mkdir -p "$logs"

status=0
meson test -C "$build" --no-rebuild --setup valgrind --print-errorlogs --num-processes 2 \
    "${tests[@]}" || status=$?

found=0
for f in "$logs"/*.log; do
    [ -s "$f" ] || continue
    found=1
    echo "==== $f" >&2
    cat "$f" >&2
done
if [ "$found" -ne 0 ]; then
    echo "check_valgrind: memcheck reported the above" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "check_valgrind: tests failed (exit $status)" >&2
    exit 1
fi
echo "check_valgrind: no memory errors or leaks"
