/* Request body validation: the first byte picks a JSON-body route, the rest is its body, read
 * by pmsd_json_parse (as pmsd_json_body does) and checked by the route's reader (handlers.h,
 * pms_ops.h, voice.h). Every failure must leave a 400 (or 409) with an error body; a success
 * must leave no response. */
#include <string.h>

#include "fuzz_common.h"
#include "server/handlers.h"
#include "server/pms_ops.h"
#include "server/voice.h"

#define ZONE "Australia/Melbourne"

enum {
    R_SESSION,
    R_CONNECTION_CREATE,
    R_CONNECTION_UPDATE,
    R_PAIR,
    R_SYNC,
    R_MAPPINGS,
    R_TYPES,
    R_CLINICIAN,
    R_ENTRY_CREATE,
    R_ENTRY_UPDATE_MANUAL,
    R_ENTRY_UPDATE_PMS,
    R_API_KEY,
    R_BOOK,
    R_MOVE,
    R_CANCEL,
    R_PATIENT,
    R_CONNECTION_ONLY,
    R_VOICE_SETTINGS,
    R_VOICE_CALLS,
    R_COUNT,
};

/* A stored entry as the PATCH handler loads it. */
static void stored_entry(pms_sheet_entry *e, pms_source source)
{
    e->source = source;
    e->appt.start_time = 1775340000000;
    e->appt.end_time = 1775340000000 + 30 * 60000;
    e->appt.duration_minutes = 30;
    e->appt.status = PMS_STATUS_BOOKED;
}

static bool check(int route, const json_t *body, pmsd_response *resp)
{
    const char *a, *b, *c;
    const json_t *j;
    int n;
    pms_instant t;
    switch (route) {
    case R_SESSION:
        return pmsd_read_credentials(body, &a, &b, &c, resp);
    case R_CONNECTION_CREATE:
    case R_CONNECTION_UPDATE: {
        pmsd_connection_input in;
        return pmsd_read_connection(body, route == R_CONNECTION_CREATE, &in, resp);
    }
    case R_PAIR:
        return pmsd_read_pairing(body, &a, resp);
    case R_SYNC: {
        pms_sync_window w;
        return pmsd_read_sync_window(body, &w, resp);
    }
    case R_MAPPINGS:
        return pmsd_read_mappings(body, &j, resp);
    case R_TYPES:
        return pmsd_read_type_flags(body, &j, &n, resp);
    case R_CLINICIAN:
        return pmsd_read_clinician(body, &a, resp);
    case R_ENTRY_CREATE:
    case R_ENTRY_UPDATE_MANUAL:
    case R_ENTRY_UPDATE_PMS: {
        pms_sheet_entry e;
        pms_sheet_entry_init(&e);
        bool ok;
        if (route == R_ENTRY_CREATE) {
            ok = pmsd_read_entry_create(body, ZONE, &e, resp);
        } else {
            stored_entry(&e, route == R_ENTRY_UPDATE_PMS ? PMS_SOURCE_PMS : PMS_SOURCE_MANUAL);
            ok = pmsd_read_entry_update(body, ZONE, &e, resp);
        }
        if (ok) {
            char hash[65];
            pms_appointment_content_hash(&e.appt, hash);
        }
        pms_sheet_entry_clear(&e);
        return ok;
    }
    case R_API_KEY: {
        pms_role role;
        return pmsd_read_api_key(body, &a, &role, resp);
    }
    case R_BOOK: {
        pmsd_book_args args;
        return pmsd_read_book(body, &args, resp);
    }
    case R_MOVE:
        return pmsd_read_move(body, &t, &n, resp);
    case R_CANCEL:
        return pmsd_read_cancel(body, &a, resp);
    case R_PATIENT: {
        pms_patient p;
        return pmsd_read_patient(body, &a, &p, resp);
    }
    case R_CONNECTION_ONLY:
        return pmsd_read_connection_only(body, &a, resp);
    case R_VOICE_SETTINGS:
        return pmsd_read_voice_settings(body, resp);
    default: { /* POST /api/voice/vapi: the calls themselves are fuzz_voice.c's */
        const json_t *msg, *calls;
        char clinic[64];
        if (pmsd_voice_tool_calls(body, &msg, &calls))
            (void)pmsd_voice_clinic(calls, NULL, clinic);
        return true;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    int route = data[0] % R_COUNT;
    pmsd_response resp = {0};
    json_t *body = pmsd_json_parse((const char *)data + 1, size - 1, &resp);
    if (body == NULL) {
        if (resp.status != 400)
            abort();
    } else {
        bool ok = check(route, body, &resp);
        if (ok ? resp.status != 0 : (resp.status != 400 && resp.status != 409) || resp.json == NULL)
            abort();
        json_decref(body);
    }
    pmsd_response_clear(&resp);
    return 0;
}
