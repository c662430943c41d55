#!/usr/bin/env bash
# `make check`: every test, stage by stage, stopping at the first failing stage.
#
#   1. the test suite under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer):
#      unit, integration on SQLite and PostgreSQL, the browser suite (build/check)
#   2. the libFuzzer targets, CHECK_FUZZ_SECONDS each (default 15; docs/fuzzing.md)
#
# Each stage prints its wall time. CHECK_STAGES (e.g. "suite") runs only the stages named.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKBUILD=${CHECKBUILD:-build/check}
STAGES=${CHECK_STAGES:-"suite fuzz"}

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
stage fuzz scripts/fuzz.sh "${CHECK_FUZZ_SECONDS:-15}"
