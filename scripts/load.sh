#!/usr/bin/env bash
# `make load`: pmsd under sustained API load (wrk) while it syncs against pms-sandbox.
#   scripts/load.sh [BUILD] [SECONDS]      default build/release, 30 s
# One pmsd (SQLite, the scheduler on, 6 connections of Medirecords and Halaxy practices synced
# every minute and asked to sync again every 2 s) answers a mix of API calls with a staff key
# (the run sheet, its appointments, connections, sync status) from wrk. Prints requests/s,
# latency percentiles (p50, p99), errors (non-2xx and socket errors: there must be none), the
# syncs run meanwhile, and pmsd's peak RSS (VmHWM). Exits 1 on any error. Needs wrk.
set -euo pipefail
build=${1:-build/release}
seconds=${2:-30}
threads=${LOAD_THREADS:-2}
conns=${LOAD_CONNECTIONS:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed" >&2; exit 2; }
for bin in src/cmd/pmsd src/cmd/pmsctl sandbox/pms-sandbox; do
  [ -x "$build/$bin" ] || { echo "load.sh: $build/$bin is missing (build first)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/pmsync-load-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_file() { # path, tenths of a second
  for _ in $(seq "$2"); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "load.sh: $1 did not appear" >&2; exit 1
}

export PMSYNC_DB="$work/pmsync.db" PMSYNC_SECRET_KEY_FILE="$work/pmsync.key" PMSYNC_LOG_LEVEL=warn
"$build/sandbox/pms-sandbox" --port-file "$work/sandbox.port" --practices 3 --practitioners 8 \
  --appointments-per-day 20 --patients 200 --days-before 0 --days-after 1 --latency-ms 20 \
  >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for_file "$work/sandbox.port" 100
box="http://127.0.0.1:$(cat "$work/sandbox.port")"
info=$(curl -sf "$box/_sandbox/info")

pmsctl() { "$build/src/cmd/pmsctl" "$@" 2>/dev/null; }
account=$(pmsctl account add "Load clinic" --timezone Australia/Melbourne)
staff=$(pmsctl apikey create --account "$account" --name load --role staff)
for i in 0 1 2; do
  field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$info"; }
  pmsctl connection add --account "$account" --pms medirecords --name "Medirecords $i" \
    --base-url "$box/medirecords" --timezone "$(field "['medirecords']['practices'][$i]['timezone']")" \
    --sync-frequency 1 --all-appointments --set rate_per_minute=100000 \
    --set "practice_id=$(field "['medirecords']['practices'][$i]['practiceId']")" \
    --set "token=$(field "['medirecords']['practices'][$i]['token']")" >/dev/null
  pmsctl connection add --account "$account" --pms halaxy --name "Halaxy $i" \
    --base-url "$box/halaxy" --timezone "$(field "['halaxy']['practices'][$i]['timezone']")" \
    --sync-frequency 1 --all-appointments --set rate_per_minute=100000 \
    --set "client_id=$(field "['halaxy']['practices'][$i]['clientId']")" \
    --set "client_secret=$(field "['halaxy']['practices'][$i]['clientSecret']")" >/dev/null
done

"$build/src/cmd/pmsd" --set listen=127.0.0.1:0 --set "port_file=$work/pmsd.port" \
  --set scheduler_scan_seconds=1 >"$work/pmsd.out" 2>"$work/pmsd.log" &
pmsd=$!
pids+=($pmsd)
wait_for_file "$work/pmsd.port" 300
base="http://127.0.0.1:$(cat "$work/pmsd.port")"
day=$(curl -sf -H "Authorization: Bearer $staff" "$base/api/run-sheet/sync" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["date"])')
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$pmsd/status")

# The mix: the run sheet most of the time, then its appointments, connections, sync status.
cat >"$work/mix.lua" <<LUA
local paths = {
  "/api/run-sheet?date=$day", "/api/run-sheet?date=$day", "/api/run-sheet?date=$day",
  "/api/run-sheet?date=$day&include=pms_status", "/api/run-sheet/appointments?date=$day",
  "/api/pms/connections", "/api/pms/sync", "/api/run-sheet/sync", "/api/run-sheet/clinicians",
  "/healthz",
}
local n = 0
wrk.headers["Authorization"] = "Bearer $staff"
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
LUA

# Syncs keep running: besides the scheduler, ask for today's sync every 2 s (409 while one runs).
syncs_before=$(curl -sf "$base/metrics" | awk '/^pmsd_syncs_total/ {s += $2} END {print s + 0}')
(
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null -X POST -H "Authorization: Bearer $staff" "$base/api/run-sheet/sync" || true
    sleep 2
  done
) &
pids+=($!)

wrk -t"$threads" -c"$conns" -d"${seconds}s" --latency -s "$work/mix.lua" "$base" >"$work/wrk.txt"
peak=$(awk '/VmHWM/ {print $2}' "/proc/$pmsd/status")
syncs_after=$(curl -sf "$base/metrics" | awk '/^pmsd_syncs_total/ {s += $2} END {print s + 0}')
errors_5xx=$(curl -sf "$base/metrics" |
  awk '/^pmsd_http_requests_total/ && /status="5/ {s += $2} END {print s + 0}')

rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
total=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$work/wrk.txt")
socket=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/wrk.txt")
non2xx=${non2xx:-0}
socket=${socket:-0}

echo "pmsd under load: $seconds s, wrk -t$threads -c$conns, $(nproc) cores, $(uname -r)"
echo "  requests:  $total ($rps/s), latency p50 $p50, p99 $p99"
echo "  errors:    non-2xx $non2xx, socket errors $socket, pmsd 5xx $errors_5xx"
echo "  syncs:     $((syncs_after - syncs_before)) finished meanwhile (6 connections)"
echo "  memory:    pmsd RSS ${rss_before} kB before, peak (VmHWM) ${peak} kB"
if [ "$non2xx" != 0 ] || [ "$socket" != 0 ] || [ "$errors_5xx" != 0 ]; then
  cat "$work/wrk.txt"
  exit 1
fi
