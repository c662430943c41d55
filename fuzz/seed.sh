#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ (docs/fuzzing.md): records of each PMS as pms-sandbox serves them,
# request bodies from docs/openapi.json's examples, the recorded Vapi payloads of
# tests/fixtures/voice/ (signed with the voice target's fixed secret), zone files from
# /usr/share/zoneinfo, and a few route paths. Needs curl, jq, openssl and a built pms-sandbox.
#
#   fuzz/seed.sh [BUILD_DIR]     (default build/check)
#
# Existing seeds are replaced. Files are named by content (sha1), so re-running is stable.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/check}
SANDBOX=$BUILD/sandbox/pms-sandbox
CORPUS=fuzz/corpus
PER_KIND=${PER_KIND:-6} # records of each kind per PMS
[ -x "$SANDBOX" ] || { echo "no $SANDBOX: build it first (meson compile -C $BUILD)" >&2; exit 2; }

WORK=$(mktemp -d)
SBX_PID=
cleanup() {
    [ -n "$SBX_PID" ] && kill "$SBX_PID" 2>/dev/null && wait "$SBX_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# put TARGET < content: one seed, named by its hash.
put() {
    local target=$1 tmp
    tmp=$(mktemp "$WORK/seed.XXXXXX")
    if [ "$target" = tzif ]; then
        cat >"$tmp"
    else # the sandbox's port changes from run to run; links in records carry it
        sed -E 's#127\.0\.0\.1:[0-9]+#127.0.0.1:8700#g' >"$tmp"
    fi
    [ -s "$tmp" ] || return 0
    mv "$tmp" "$CORPUS/$target/$(sha1sum "$tmp" | cut -c1-16)"
}
# each TARGET < JSON array: every item as a seed (compact).
each() {
    local target=$1
    jq -c ".[:$PER_KIND][]" | while IFS= read -r line; do printf '%s' "$line" | put "$target"; done
}

for t in gentu medirecords halaxy sikka tzif body router voice; do
    rm -rf "${CORPUS:?}/$t"
    mkdir -p "$CORPUS/$t"
done

# ---- the sandbox --------------------------------------------------------------------------
"$SANDBOX" --port 0 --port-file "$WORK/port" --today 2026-04-05 --practices 1 --patients 20 \
    --appointments-per-day 6 >/dev/null 2>"$WORK/sandbox.log" &
SBX_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
B=http://127.0.0.1:$(cat "$WORK/port")
INFO=$(curl -sf "$B/_sandbox/info")

# Gentu: appointments with their patient and practitioner, bare records, types.
G=$(jq '.gentu.tenants[0]' <<<"$INFO")
TEN=$(jq -r .tenantId <<<"$G")
GT=$(curl -sf -u sandbox-client:sandbox-secret -d grant_type=client_credentials \
    "$B/gentu/v1/oauth2/token" | jq -r .access_token)
curl -sf -X PUT -H "Authorization: Bearer $GT" \
    "$B/gentu/v1/apps/sandbox-app/pairing/$(jq -r .pairingCode <<<"$G")" >/dev/null
gget() { curl -sf -H "Authorization: Bearer $GT" "$B/gentu/v1/tenants/$TEN$1"; }
PR=$(jq -r '.practitionerIds[0]' <<<"$G")
gget "/appointments?fromDate=2026-04-05T00:00:00.000%2B11:00&toDate=2026-04-06T00:00:00.000%2B10:00&practitionerId=$PR&limit=50" \
    >"$WORK/g_appts.json"
gget "/practitioners" >"$WORK/g_users.json"
jq '.appointments' "$WORK/g_appts.json" | each gentu
jq '.appointments[:'"$PER_KIND"'][] | .participant[] | select(.referenceType == "patient") | .referenceId' -r \
    "$WORK/g_appts.json" | while read -r pid; do gget "/patients/$pid" >>"$WORK/g_patients.jsonl"; done
jq -s '.' "$WORK/g_patients.jsonl" | each gentu
jq 'if type == "array" then . else (.practitioners // .users // .items // []) end' "$WORK/g_users.json" | each gentu
gget "/appointment-types" | jq 'if type == "array" then . else (.appointmentTypes // .items // .data // []) end' | each gentu
jq -s --argjson users "$(jq 'if type == "array" then . else (.practitioners // .users // .items // []) end' "$WORK/g_users.json")" \
    --slurpfile appts "$WORK/g_appts.json" \
    '(map({key: .id, value: .}) | from_entries) as $patients
     | ($users | map({key: .id, value: .}) | from_entries) as $practitioners
     | [$appts[0].appointments[:'"$PER_KIND"'][] | {appointment: ., patients: $patients, practitioners: $practitioners, swept: "'"$PR"'"}]' \
    "$WORK/g_patients.jsonl" | each gentu

# Medirecords.
M=$(jq '.medirecords.practices[0]' <<<"$INFO")
MP=$(jq -r .practiceId <<<"$M")
mget() { curl -sf -H "Authorization: Bearer $(jq -r .token <<<"$M")" "$B/medirecords/v1$1"; }
mget "/practices/$MP/appointments?appointmentDateRangeStart=2026-04-05T00:00&appointmentDateRangeEnd=2026-04-05T23:59" \
    >"$WORK/m_appts.json"
items='if type == "array" then . else (.data // .content // .items // []) end'
jq "$items" "$WORK/m_appts.json" | each medirecords
jq -r "$items | .[:$PER_KIND][] | .patientId // empty" "$WORK/m_appts.json" | while read -r pid; do
    mget "/patients/$pid" >>"$WORK/m_patients.jsonl" || true
done
[ -s "$WORK/m_patients.jsonl" ] && jq -s '.' "$WORK/m_patients.jsonl" | each medirecords
mget "/practices/$MP/providers" | jq "$items" | each medirecords || true
mget "/practices/$MP/appointment-types" | jq "$items" | each medirecords || true
mget "/practices/$MP/appointment-types" | put medirecords || true
if [ -s "$WORK/m_patients.jsonl" ]; then
    jq -s --slurpfile appts "$WORK/m_appts.json" \
        '(map({key: .id, value: .}) | from_entries) as $patients
         | [($appts[0] | '"$items"')[:'"$PER_KIND"'][] | {appointment: ., patients: $patients}]' \
        "$WORK/m_patients.jsonl" | each medirecords
fi
printf '%s' '"1 hour 30 minutes"' | put medirecords
printf '%s' '[{"code":"2","value":"5 mins"},{"code":7,"display":"20 min"}]' | put medirecords

# Halaxy: appointments with the resources they reference.
H=$(jq '.halaxy.practices[0]' <<<"$INFO")
HT=$(curl -sf -A pmsync-seed -d "$(jq -c '{grant_type:"client_credentials",client_id:.clientId,client_secret:.clientSecret}' <<<"$H")" \
    "$B/halaxy/main/oauth/token" | jq -r .access_token)
hget() { curl -sf -A pmsync-seed -H "Authorization: Bearer $HT" "$B/halaxy/main$1"; }
hget "/Appointment?date=eq2026-04-05&_count=50" >"$WORK/h_bundle.json"
jq '[.entry[]?.resource | select(.resourceType == "Appointment")]' "$WORK/h_bundle.json" >"$WORK/h_appts.json"
each halaxy <"$WORK/h_appts.json"
: >"$WORK/h_res.jsonl"
jq -r '.[:'"$PER_KIND"'][] | (.participant[]?.actor.reference // empty), (.supportingInformation[]?.reference // empty)' \
    "$WORK/h_appts.json" | sed 's|^.*/main/||' | sort -u | while read -r ref; do
    r=$(hget "/$ref" || true)
    [ -n "$r" ] && jq -c --arg k "$ref" '{key: $k, value: .}' <<<"$r" >>"$WORK/h_res.jsonl"
    if [ -n "$r" ] && [ "$(jq -r .resourceType <<<"$r")" = PractitionerRole ]; then
        p=$(jq -r '.practitioner.reference // empty' <<<"$r" | sed 's|^.*/main/||')
        [ -n "$p" ] && hget "/$p" | jq -c --arg k "$p" '{key: $k, value: .}' >>"$WORK/h_res.jsonl" || true
    fi
done
jq -s '[.[].value]' "$WORK/h_res.jsonl" | PER_KIND=24 each halaxy
jq -s --slurpfile appts "$WORK/h_appts.json" \
    'from_entries as $res | [$appts[0][:'"$PER_KIND"'][] | {appointment: ., resources: $res}]' \
    "$WORK/h_res.jsonl" | each halaxy
for ref in '"Patient/123"' '"https://au-api.halaxy.com/main/PractitionerRole/PR-1/_history/2"' '"cancelled (no charge)"'; do
    printf '%s' "$ref" | put halaxy
done

# Sikka.
S=$(jq '.sikka.practices[0]' <<<"$INFO")
SB=$(jq -r .sikka.baseUrl <<<"$INFO")
SK=$(curl -sf -H 'Content-Type: application/json' -d "$(jq -c '{grant_type:"request_key",office_id:.officeId,secret_key:.secretKey,app_id:.appId,app_key:.appKey}' <<<"$S")" \
    "$SB/request_key" | jq -r .request_key)
sget() { curl -sf -H "Request-Key: $SK" "$SB$1"; }
sget "/appointments?startdate=2026-04-05&enddate=2026-04-05&limit=50" >"$WORK/s_appts.json"
jq '.items // .data // []' "$WORK/s_appts.json" | each sikka
sget "/patients?limit=$PER_KIND" | jq '.items // []' >"$WORK/s_patients.json"
sget "/providers" | jq '.items // []' >"$WORK/s_providers.json"
each sikka <"$WORK/s_patients.json"
each sikka <"$WORK/s_providers.json"
jq --slurpfile pat "$WORK/s_patients.json" --slurpfile prov "$WORK/s_providers.json" \
    '($pat[0] | map({key: .patient_id, value: .}) | from_entries) as $patients
     | ($prov[0] | map({key: .provider_id, value: .}) | from_entries) as $providers
     | [(.items // [])[:'"$PER_KIND"'][] | {appointment: ., patients: $patients, providers: $providers}]' \
    "$WORK/s_appts.json" | each sikka

kill "$SBX_PID" && wait "$SBX_PID" 2>/dev/null || true
SBX_PID=

# ---- TZif: real zones (version 2+, with and without rules, no DST, far transitions) -------
for z in UTC Australia/Melbourne Australia/Lord_Howe Australia/Perth America/New_York \
    America/Phoenix Europe/Dublin Pacific/Apia Africa/Casablanca Asia/Kolkata Antarctica/Troll \
    America/Sao_Paulo Pacific/Chatham; do
    [ -f "/usr/share/zoneinfo/$z" ] && put tzif <"/usr/share/zoneinfo/$z"
done

# ---- request bodies: the route selector byte, then the body -------------------------------
# Selectors follow fuzz_body.c's enum.
body() { { printf "\\x$(printf %02x "$1")"; cat; } | put body; }
jq -c '[.paths[][] | objects | .requestBody?.content?["application/json"]? | select(.) |
        (.example // empty), (.examples // {} | .[].value)] | .[]' docs/openapi.json >"$WORK/examples.jsonl" || true
while IFS= read -r ex; do
    for sel in $(seq 0 18); do printf '%s' "$ex" | body "$sel"; done
done < <(head -n 12 "$WORK/examples.jsonl")
printf '%s' '{"apiKey":"pmsk_live_0123456789abcdef"}' | body 0
printf '%s' '{"username":"front-desk","password":"correct horse battery"}' | body 0
printf '%s' '{"pmsType":"gentu","displayName":"Hawthorn","timezone":"Australia/Melbourne","settings":{"client_id":"x","page_size":50},"syncFrequencyMinutes":15,"unmappedPractitioners":"skip","setupStep":"pair"}' | body 1
printf '%s' '{"displayName":"Renamed","baseUrl":null,"setupStep":null,"syncEnabled":false}' | body 2
printf '%s' '{"code":"AGLS2LZV"}' | body 3
printf '%s' '{"from":"2026-04-01","to":"2026-04-30"}' | body 4
printf '%s' '{"date":"2026-04-05"}' | body 4
printf '%s' '{"mappings":[{"pmsPractitionerId":"p1","clinicianId":"c1"},{"pmsPractitionerId":"p2","createClinician":true,"clinicianName":"Dr Who"},{"pmsPractitionerId":"p3","syncEnabled":false}]}' | body 5
printf '%s' '{"appointmentTypes":[{"id":"t1","isTelehealth":true},{"id":"t2","syncEnabled":false}],"markSuggestedTelehealth":true}' | body 6
printf '%s' '{"name":"Dr Jane Citizen"}' | body 7
printf '%s' '{"source":"ocr","clinicianId":"c1","startTime":"2026-04-05T09:30:00+10:00","durationMinutes":30,"patient":{"fullName":"Pat Example","phone":"0412 345 678"},"appointmentTypeName":"Review","isTelehealth":true,"notes":"n","status":"confirmed"}' | body 8
printf '%s' '{"startTime":"2026-04-05T10:00:00+10:00","endTime":"2026-04-05T10:20:00+10:00","patient":{"phone":null}}' | body 9
printf '%s' '{"patient":{"phone":"+61412345678"},"startTime":null,"notes":"call first"}' | body 10
printf '%s' '{"name":"Reception tablet","role":"staff"}' | body 11
printf '%s' '{"connectionId":"c1","patientId":"p1","practitionerId":"pr1","appointmentTypeId":"t1","startTime":"2026-04-06T09:00:00+10:00","durationMinutes":15,"notes":"first visit"}' | body 12
printf '%s' '{"startTime":"2026-04-06T11:00:00Z","durationMinutes":30}' | body 13
printf '%s' '{"reason":"Patient is unwell"}' | body 14
printf '%s' '{"connectionId":"c1","givenName":"Pat","familyName":"Example","phone":"0412345678","email":"pat@example.com","dateOfBirth":"1984-07-21"}' | body 15
printf '%s' '{"connectionId":"c1","text":"note","amount":12.5}' | body 16
printf '%s' '{"bearerSecret":"0123456789abcdef0123","hmacSecret":null,"connectionId":"c1","phoneNumberId":"pn-1"}' | body 17
for f in tests/fixtures/voice/*.json; do body 18 <"$f"; done

# ---- router: "METHOD path" -----------------------------------------------------------------
jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | select(test("^(get|post|put|patch|delete)$")) |
       "\(ascii_upcase) \($p)"' docs/openapi.json |
    sed -e 's/{[^}]*}/6f9619ff-8b86-d011-b42d-00cf4fc964ff/g' | while IFS= read -r line; do
    printf '%s' "$line" | put router
done
printf '%s' 'GET /api/pms/connections/a/b/sync' | put router
printf '%s' 'PUT /api/run-sheet/appointments/x/' | put router

# ---- voice: signature, timestamp, authorization, body --------------------------------------
SECRET=fuzz-voice-hmac-secret-0123456789
TS=1775340000
for f in tests/fixtures/voice/*.json; do
    sig=$( { printf '%s.' "$TS"; cat "$f"; } | openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-64)
    { printf 'sha256=%s\n%s\n\n' "$sig" "$TS"; cat "$f"; } | put voice
    { printf '\n\nBearer %s\n' "$SECRET"; cat "$f"; } | put voice
done
{ printf '%s\n%s000\nbearer x\n' "$(printf 'A%.0s' $(seq 64))" "$TS"; printf '{}'; } | put voice

for t in gentu medirecords halaxy sikka tzif body router voice; do
    printf '%-12s %3d seeds\n' "$t" "$(find "$CORPUS/$t" -type f | wc -l)"
done
