#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/fuzzing.md) with clang, ASan and UBSan in build/fuzz
# and runs each for a bounded time on its corpus. Exits non-zero when any target finds a crash,
# a leak, a timeout or runs out of memory; what it found is in build/fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 60 s, every target)
#
# CI runs `scripts/fuzz.sh 15` (8 targets: about 2 minutes after the build). New inputs the
# fuzzer keeps go to build/fuzz/corpus/<target>/, never into the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
BUILD=${FUZZ_BUILD:-build/fuzz}
ALL=(gentu medirecords halaxy sikka tzif body router voice)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (scripts/install-deps.sh)" >&2; exit 2; }
if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" --buildtype=debugoptimized -Dfuzz=true \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$BUILD" "${TARGETS[@]/#/fuzz/fuzz_}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
export PMSYNC_LOG_LEVEL=error

failed=()
for t in "${TARGETS[@]}"; do
    work=$BUILD/corpus/$t
    artifacts=$BUILD/artifacts/$t
    mkdir -p "$work" "$artifacts"
    log=$BUILD/fuzz_$t.log
    start=$(date +%s)
    if "$BUILD/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        failed+=("$t")
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
    printf '%-12s %-6s %4ss  %9s runs  cov %s\n' "$t" "$result" "$(($(date +%s) - start))" "$runs" "$cov"
done
if [ ${#failed[@]} -gt 0 ]; then
    for t in "${failed[@]}"; do
        echo "--- fuzz_$t ($BUILD/fuzz_$t.log):"
        grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$BUILD/fuzz_$t.log" | head -8
    done
    echo "fuzz.sh: ${failed[*]} failed; add each input to fuzz/regressions/<target>/ once fixed" >&2
    exit 1
fi
