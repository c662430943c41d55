#!/usr/bin/env bash
# `make run`: the main job on the embedded default (SQLite + the built-in PMS sandbox).
# Starts pms-sandbox, creates a Gentu connection to it, pairs it, marks the telehealth
# appointment types, syncs the practice's today and prints the run sheet; then does the same for
# a Medirecords and a Halaxy practice.
set -euo pipefail

build=${1:-build/release}
pmsctl="$build/src/cmd/pmsctl"
sandbox="$build/sandbox/pms-sandbox"
demo_dir=${PMSYNC_DEMO_DIR:-demo}

mkdir -p "$demo_dir"
chmod 700 "$demo_dir"
# A fresh database each run; the encryption key is kept (created 0600 on the first run).
rm -f "$demo_dir"/pmsync.db "$demo_dir"/pmsync.db-wal "$demo_dir"/pmsync.db-shm
rm -rf "$demo_dir"/pmsync.db-locks "$demo_dir"/sandbox.port
export PMSYNC_DB="$demo_dir/pmsync.db"
export PMSYNC_SECRET_KEY_FILE="$demo_dir/pmsync.key"

# The provider list is a guessed Medirecords endpoint: the sandbox serves it on request.
"$sandbox" --port 0 --port-file "$demo_dir/sandbox.port" --medirecords-providers \
    >"$demo_dir/sandbox.out" \
    2>"$demo_dir/sandbox.log" &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null; wait "$sandbox_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    [ -s "$demo_dir/sandbox.port" ] && break
    kill -0 "$sandbox_pid" 2>/dev/null || { echo "pms-sandbox did not start:" >&2; cat "$demo_dir/sandbox.log" >&2; exit 1; }
    sleep 0.1
done
port=$(cat "$demo_dir/sandbox.port")
base="http://127.0.0.1:$port"
info=$(curl -sf "$base/_sandbox/info")
client_id=$(jq -r .gentu.clientId <<<"$info")
client_secret=$(jq -r .gentu.clientSecret <<<"$info")
app_id=$(jq -r .gentu.appId <<<"$info")
pairing_code=$(jq -r '.gentu.tenants[0].pairingCode' <<<"$info")

echo "== pms-sandbox is serving the Gentu, Medirecords and Halaxy APIs at $base"
id=$("$pmsctl" connection add --pms gentu --name "Demo practice (Gentu)" --base-url "$base/gentu" \
    --set client_id="$client_id" --set client_secret="$client_secret" --set app_id="$app_id")
echo "== Added Gentu connection $id"
"$pmsctl" pair "$id" "$pairing_code"
echo "== Practitioners"
"$pmsctl" practitioners list "$id"
echo "== Appointment types (Gentu has no telehealth flag: marking the ones named like telehealth)"
"$pmsctl" types telehealth "$id" --suggested
echo "== Syncing the practice's today"
"$pmsctl" sync "$id"
echo
"$pmsctl" runsheet --connection "$id"

# Medirecords: a practice id and its API token; the practice's zone is set by hand.
mr_practice=$(jq -r '.medirecords.practices[0].practiceId' <<<"$info")
mr_token=$(jq -r '.medirecords.practices[0].token' <<<"$info")
mr_zone=$(jq -r '.medirecords.practices[0].timezone' <<<"$info")
mr=$("$pmsctl" connection add --pms medirecords --name "Demo practice (Medirecords)" \
    --base-url "$base/medirecords" --timezone "$mr_zone" \
    --set practice_id="$mr_practice" --set token="$mr_token" \
    --set providers_path='/v1/practices/{practiceId}/providers')
echo
echo "== Added Medirecords connection $mr (telehealth is detected from the data)"
"$pmsctl" sync "$mr"
echo
"$pmsctl" runsheet --connection "$mr"

# Halaxy: client credentials; the practice marks its telehealth services.
hx_id=$(jq -r '.halaxy.practices[0].clientId' <<<"$info")
hx_secret=$(jq -r '.halaxy.practices[0].clientSecret' <<<"$info")
hx_zone=$(jq -r '.halaxy.practices[0].timezone' <<<"$info")
hx=$("$pmsctl" connection add --pms halaxy --name "Demo practice (Halaxy)" \
    --base-url "$base/halaxy" --timezone "$hx_zone" \
    --set client_id="$hx_id" --set client_secret="$hx_secret")
echo
echo "== Added Halaxy connection $hx"
"$pmsctl" types telehealth "$hx" --suggested
"$pmsctl" sync "$hx"
echo
"$pmsctl" runsheet --connection "$hx"
echo
echo "The database is $PMSYNC_DB. Try: PMSYNC_DB=$PMSYNC_DB PMSYNC_SECRET_KEY_FILE=$PMSYNC_SECRET_KEY_FILE $pmsctl connection list"
