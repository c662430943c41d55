#!/usr/bin/env bash
# `make bench`: runs every benchmark against an optimised build and prints figures and ratios.
# Record the figures of a run in docs/performance.md.
set -euo pipefail
build=${1:-build/release}
shift || true
echo "== Syncs of a large practice ($(nproc) cores, $(uname -r))"
"$build/bench/bench_sync" "$build/sandbox/pms-sandbox" "$build/src/cmd/pmsctl" ${BENCH_QUICK:+--quick} "$@"
echo
echo "== pmsd: run sheet vs nginx, memory, scheduler ($(nproc) cores, $(uname -r))"
"$build/bench/bench_pmsd" "$build/src/cmd/pmsd" "$build/sandbox/pms-sandbox" "$build/src/cmd/pmsctl" \
  ${BENCH_QUICK:+--quick}
echo
echo "== Store: upserts vs COPY / .import, lease claims ($(nproc) cores, $(uname -r))"
"$build/bench/bench_store" ${BENCH_QUICK:+--quick}
echo
echo "== pmsd under API load while it syncs ($(nproc) cores, $(uname -r))"
"$(dirname "$0")/load.sh" "$build" "${LOAD_SECONDS:-30}"
