#!/usr/bin/env bash
# `make run`: the main job on the embedded default (SQLite + the built-in PMS sandbox).
# Starts pms-sandbox and pmsd --demo against it: a demo account with an admin and a staff key,
# and Gentu, Medirecords and Halaxy connections that pmsd syncs every minute. Prints the keys,
# today's run sheet and a few curl commands, then keeps running (Ctrl-C stops both) while the
# sandbox's appointments change now and then, so the run sheet is live.
set -euo pipefail

build=${1:-build/release}
pmsd="$build/src/cmd/pmsd"
sandbox="$build/sandbox/pms-sandbox"
demo_dir=${PMSYNC_DEMO_DIR:-demo}
port=${PMSD_PORT:-8080}

mkdir -p "$demo_dir"
chmod 700 "$demo_dir"
# A fresh database each run; the encryption key is kept (created 0600 on the first run).
rm -f "$demo_dir"/pmsync.db "$demo_dir"/pmsync.db-wal "$demo_dir"/pmsync.db-shm
rm -rf "$demo_dir"/pmsync.db-locks "$demo_dir"/sandbox.port "$demo_dir"/pmsd.port
export PMSYNC_DB="$demo_dir/pmsync.db"
export PMSYNC_SECRET_KEY_FILE="$demo_dir/pmsync.key"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for_file() { # FILE PID WHAT LOG
    for _ in $(seq 1 200); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || { echo "$3 did not start:" >&2; cat "$4" >&2; exit 1; }
        sleep 0.1
    done
    echo "$3 did not start in time" >&2
    exit 1
}

# The provider list is a guessed Medirecords endpoint: the sandbox serves it on request.
"$sandbox" --port 0 --port-file "$demo_dir/sandbox.port" --medirecords-providers \
    >"$demo_dir/sandbox.out" \
    2>"$demo_dir/sandbox.log" &
pids+=($!)
wait_for_file "$demo_dir/sandbox.port" "${pids[0]}" pms-sandbox "$demo_dir/sandbox.log"
sandbox_url="http://127.0.0.1:$(cat "$demo_dir/sandbox.port")"

"$pmsd" --demo "$sandbox_url" --set "listen=127.0.0.1:$port" \
    --set "port_file=$demo_dir/pmsd.port" >"$demo_dir/pmsd.out" 2>"$demo_dir/pmsd.log" &
pids+=($!)
wait_for_file "$demo_dir/pmsd.port" "${pids[1]}" pmsd "$demo_dir/pmsd.log"
api="http://127.0.0.1:$(cat "$demo_dir/pmsd.port")"
admin_key=$(awk '/admin +key:/ {print $3}' "$demo_dir/pmsd.out")
staff_key=$(awk '/staff +key:/ {print $3}' "$demo_dir/pmsd.out")

echo "== pms-sandbox serves Gentu, Medirecords and Halaxy at $sandbox_url"
echo "== pmsd listens at $api"
cat "$demo_dir/pmsd.out"
echo
echo "== Waiting for the first syncs"
for _ in $(seq 1 120); do
    pending=$(curl -sf -H "Authorization: Bearer $staff_key" "$api/api/pms/sync" |
        jq '[.connections[] | select(.lastSyncStatus == null)] | length')
    [ "$pending" = "0" ] && break
    sleep 0.5
done
curl -sf -H "Authorization: Bearer $staff_key" "$api/api/pms/sync" |
    jq -r '.connections[] | "  \(.displayName): \(.lastSyncStatus) at \(.lastSyncAt)"'
echo
echo "== Today's run sheet (times in the practice's zone)"
sheet=$(curl -sf -H "Authorization: Bearer $staff_key" "$api/api/run-sheet")
TZ=$(jq -r .timezone <<<"$sheet") jq -r '
    def local: sub("\\.[0-9]+Z$"; "Z") | fromdate | strflocaltime("%H:%M");
    "\(.date) (\(.timezone)): \(.appointmentCount) appointment(s)",
    (.clinicians[] | select((.appointments | length) > 0) |
        "\n\(.name)",
        (.appointments[] | "  \(.startTime | local)  \(.durationMinutes) min  \(.patient.fullName // "?")  \(.status)  (\(.pmsType))"))' <<<"$sheet"
cat <<EOF

== Open $api/ in a browser and sign in with the admin key (the staff key sees the run sheet only).
== Or try the API (the staff key reads the run sheet, the admin key manages connections):
  curl -s -H 'Authorization: Bearer $staff_key' $api/api/run-sheet | jq .
  curl -s -N -H 'Authorization: Bearer $staff_key' $api/api/run-sheet/events
  curl -s -H 'Authorization: Bearer $admin_key' $api/api/pms/connections | jq .
  curl -s $api/metrics
The API is described at $api/api/openapi.json. pmsd syncs every minute; the sandbox's
appointments change every 30 seconds. Logs: $demo_dir/pmsd.log. Ctrl-C stops the demo.
EOF

# Keep the run sheet moving: every 30 s a Gentu appointment of today changes status.
info=$(curl -sf "$sandbox_url/_sandbox/info")
tenant=$(jq -r '.gentu.tenants[0].tenantId' <<<"$info")
today=$(jq -r '.gentu.tenants[0].today' <<<"$info")
statuses=(confirmed in_waiting_room with_doctor completed)
turn=0
while kill -0 "${pids[1]}" 2>/dev/null; do
    sleep 30 &
    wait $! || true
    ids=$(curl -sf "$sandbox_url/_sandbox/gentu/truth?tenantId=$tenant&from=$today&to=$today" |
        jq -r '.appointments[] | select(._telehealth and (._malformed | not)) | ._id')
    [ -n "$ids" ] || continue
    count=$(wc -l <<<"$ids")
    id=$(sed -n "$(((turn % count) + 1))p" <<<"$ids")
    status=${statuses[$((turn % ${#statuses[@]}))]}
    curl -sf -X PATCH -H 'Content-Type: application/json' -d "{\"status\":\"$status\"}" \
        "$sandbox_url/_sandbox/gentu/tenants/$tenant/appointments/$id" >/dev/null || true
    echo "$(date +%T) sandbox: a Gentu appointment is now $status (pmsd picks it up within a minute)"
    turn=$((turn + 1))
done
