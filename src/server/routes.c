/* Every endpoint of pmsd: method, path pattern, handler, who may call it. The OpenAPI document
 * (docs/openapi.json, served at /api/openapi.json) describes each; a test checks that it does. */
#include "server/handlers.h"

#define ADMIN           PMSD_ADMIN
#define STAFF           (PMSD_ADMIN | PMSD_STAFF)
#define ANY_ROLE        (PMSD_ADMIN | PMSD_STAFF | PMSD_AGENT)
#define CONNECTION      "/api/pms/connections/{id}"
#define APPOINTMENT     "/api/run-sheet/appointments/{id}"
#define PMS_APPOINTMENT "/api/pms/appointments/{id}"
#define PATIENT         "/api/pms/patients/{id}"

const pmsd_route pmsd_routes[] = {
    {"GET", "/healthz", pmsd_h_healthz, PMSD_PUBLIC, "Liveness"},
    {"GET", "/readyz", pmsd_h_readyz, PMSD_PUBLIC, "Readiness (database reachable)"},
    {"GET", "/metrics", pmsd_h_metrics, PMSD_PUBLIC, "Prometheus metrics"},
    {"GET", "/api/openapi.json", pmsd_h_openapi, PMSD_PUBLIC, "This API's OpenAPI document"},

    {"POST", "/api/session", pmsd_h_session_create, PMSD_PUBLIC,
     "Sign in: a session cookie for the browser"},
    {"GET", "/api/session", pmsd_h_session_get, ANY_ROLE, "Who is signed in"},
    {"DELETE", "/api/session", pmsd_h_session_delete, ANY_ROLE, "Sign out"},

    {"GET", "/api/pms/systems", pmsd_h_pms_types, STAFF, "Supported PMSs and their settings"},
    {"GET", "/api/pms/connections", pmsd_h_connections_list, STAFF, "List connections"},
    {"POST", "/api/pms/connections", pmsd_h_connections_create, ADMIN, "Create a connection"},
    {"GET", CONNECTION, pmsd_h_connection_get, STAFF, "A connection"},
    {"PATCH", CONNECTION, pmsd_h_connection_update, ADMIN, "Change a connection"},
    {"DELETE", CONNECTION, pmsd_h_connection_delete, ADMIN, "Remove a connection"},
    {"POST", CONNECTION "/pair", pmsd_h_connection_pair, ADMIN, "Pair with a pairing code"},
    {"POST", CONNECTION "/sync", pmsd_h_connection_sync_post, ADMIN, "Sync now"},
    {"GET", CONNECTION "/sync", pmsd_h_connection_sync_get, STAFF, "Sync status and history"},
    {"GET", CONNECTION "/practitioners", pmsd_h_practitioners_get, ADMIN,
     "Practitioners from the PMS with their mappings"},
    {"POST", CONNECTION "/practitioners", pmsd_h_practitioners_post, ADMIN,
     "Map practitioners to run-sheet clinicians"},
    {"GET", CONNECTION "/appointment-types", pmsd_h_types_get, ADMIN,
     "Appointment types with telehealth flags"},
    {"PATCH", CONNECTION "/appointment-types", pmsd_h_types_patch, ADMIN,
     "Set telehealth and sync flags of appointment types"},
    {"GET", CONNECTION "/telehealth-check", pmsd_h_telehealth_check, ADMIN,
     "Whether the PMS tells telehealth apart or the practice must mark types"},
    {"POST", CONNECTION "/test", pmsd_h_connection_test, ADMIN, "Test the connection"},
    {"GET", "/api/pms/sync", pmsd_h_pms_sync_get, STAFF, "Sync status of every connection"},

    {"GET", "/api/run-sheet", pmsd_h_runsheet_get, STAFF, "A day's run sheet"},
    {"POST", "/api/run-sheet/sync", pmsd_h_runsheet_sync_post, STAFF, "Sync today's run sheet"},
    {"GET", "/api/run-sheet/sync", pmsd_h_runsheet_sync_get, STAFF, "Today's sync status"},
    {"GET", "/api/run-sheet/events", pmsd_h_events, STAFF, "Live updates (Server-Sent Events)"},
    {"GET", "/api/run-sheet/clinicians", pmsd_h_clinicians_list, STAFF, "Run-sheet clinicians"},
    {"POST", "/api/run-sheet/clinicians", pmsd_h_clinicians_create, ADMIN, "Add a clinician"},
    {"GET", "/api/run-sheet/appointments", pmsd_h_appointments_list, STAFF, "A day's appointments"},
    {"POST", "/api/run-sheet/appointments", pmsd_h_appointment_create, STAFF,
     "Add a manual or OCR appointment"},
    {"GET", APPOINTMENT, pmsd_h_appointment_get, STAFF, "An appointment"},
    {"PATCH", APPOINTMENT, pmsd_h_appointment_update, STAFF, "Change an appointment"},
    {"DELETE", APPOINTMENT, pmsd_h_appointment_delete, STAFF, "Remove a manual or OCR appointment"},

    {"GET", "/api/pms/appointments/availability", pmsd_h_pms_availability, ANY_ROLE,
     "Free slots from the PMS"},
    {"POST", "/api/pms/appointments", pmsd_h_pms_book, ANY_ROLE,
     "Book an appointment in the PMS (Idempotency-Key)"},
    {"PATCH", PMS_APPOINTMENT, pmsd_h_pms_reschedule, ANY_ROLE,
     "Move a PMS appointment (Idempotency-Key)"},
    {"DELETE", PMS_APPOINTMENT, pmsd_h_pms_cancel, ANY_ROLE,
     "Cancel a PMS appointment (Idempotency-Key)"},
    {"GET", "/api/pms/patients/search", pmsd_h_pms_patient_search, ANY_ROLE,
     "Find patients in the PMS"},
    {"POST", "/api/pms/patients", pmsd_h_pms_patient_create, ANY_ROLE,
     "Create a patient in the PMS (Idempotency-Key)"},
    {"GET", PATIENT, pmsd_h_pms_patient_get, ANY_ROLE, "A patient from the PMS"},
    {"GET", PATIENT "/notes", pmsd_h_pms_notes_get, ANY_ROLE, "A patient's notes"},
    {"POST", PATIENT "/notes", pmsd_h_pms_notes_post, ANY_ROLE,
     "Add a patient note (Idempotency-Key)"},
    {"GET", PATIENT "/insurance", pmsd_h_pms_insurance, ANY_ROLE, "A patient's insurance"},
    {"GET", PATIENT "/balance", pmsd_h_pms_balance, ANY_ROLE, "A patient's balance"},
    {"POST", "/api/pms/payments", pmsd_h_pms_payments, ANY_ROLE,
     "Record a payment (Idempotency-Key)"},

    {"POST", "/api/voice/vapi", pmsd_h_voice_vapi, PMSD_PUBLIC,
     "Vapi tool calls (authenticated by the clinic's voice credential)"},
    {"GET", "/api/voice/settings", pmsd_h_voice_settings_get, ADMIN,
     "The account's voice receptionist settings (secrets never shown)"},
    {"PUT", "/api/voice/settings", pmsd_h_voice_settings_put, ADMIN,
     "Set the voice receptionist's credentials and connection"},

    {"GET", "/api/keys", pmsd_h_keys_list, ADMIN, "The account's API keys"},
    {"POST", "/api/keys", pmsd_h_keys_create, ADMIN, "Create an API key (shown once)"},
    {"DELETE", "/api/keys/{id}", pmsd_h_key_revoke, ADMIN, "Revoke an API key"},
};

const size_t pmsd_route_count = sizeof pmsd_routes / sizeof pmsd_routes[0];
