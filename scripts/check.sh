#!/usr/bin/env bash
# `make check`: every test, stage by stage, stopping at the first failing stage.
#
#   1. suite:    the test suite under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer):
#                unit, integration on SQLite and PostgreSQL, the browser suite (build/check)
#   2. tsan:     the thread-heavy tests under ThreadSanitizer (scripts/check_tsan.sh, build/tsan)
#   3. valgrind: integration tests with every process under memcheck (scripts/check_valgrind.sh)
#   4. fuzz:     the libFuzzer targets, CHECK_FUZZ_SECONDS each (default 15; docs/fuzzing.md)
#
# Each stage prints its wall time (docs/reliability.md). CHECK_STAGES (e.g. "suite tsan") runs
# only the stages named.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKBUILD=${CHECKBUILD:-build/check}
STAGES=${CHECK_STAGES:-"suite tsan valgrind fuzz"}

stage() {
    local name=$1
    shift
    case " $STAGES " in *" $name "*) ;; *) return 0 ;; esac
    local start=$SECONDS
    echo "check: $name" >&2
    "$@"
    echo "check: $name passed in $((SECONDS - start)) s" >&2
}

suite() {
    meson compile -C "$CHECKBUILD"
    meson test -C "$CHECKBUILD" --print-errorlogs --num-processes 2
}

stage suite suite
stage tsan scripts/check_tsan.sh
stage valgrind scripts/check_valgrind.sh
stage fuzz scripts/fuzz.sh "${CHECK_FUZZ_SECONDS:-15}"
