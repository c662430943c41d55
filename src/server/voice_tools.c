/* The voice receptionist's tools, run through the unified API's operations and told back as
 * single-line sentences: checkAvailability, bookAppointment, rescheduleAppointment,
 * cancelAppointment, findPatient, createPatient, addPatientNote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/tz.h"
#include "server/pms_ops.h"
#include "server/voice.h"

#define DEFAULT_MINUTES 15
#define SLOTS_TOLD      6

static const char *arg(const json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

static int arg_minutes(const json_t *args)
{
    const json_t *m = json_object_get(args, "durationMinutes");
    long n = json_is_integer(m)  ? (long)json_integer_value(m)
             : json_is_string(m) ? strtol(json_string_value(m), NULL, 10)
                                 : 0;
    return n >= 5 && n <= 480 ? (int)n : 0;
}

/* One line: newlines and tabs become spaces. */
static char *one_line(const char *text)
{
    char *s = strdup(text ? text : "");
    for (char *c = s; c && *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    return s;
}

static void append(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
    size_t used = strlen(buf);
    if (used < len)
        snprintf(buf + used, len - used, fmt, a ? a : "", b ? b : "");
}

/* A slot list as "2026-09-02T09:00:00+10:00 with P1; ...". */
static void tell_slots(const json_t *slots, char *buf, size_t len)
{
    size_t i;
    json_t *s;
    json_array_foreach(slots, i, s)
    {
        if (i == SLOTS_TOLD)
            break;
        append(buf, len, i ? "; %s with practitioner %s" : "%s with practitioner %s",
               arg(s, "startTime"), arg(s, "practitionerId"));
    }
}

/* t at the practice's offset, without milliseconds: "2026-06-10T09:15:00-06:00". */
static void local_text(pms_instant t, const pms_tz *tz, char out[PMS_TIME_BUFLEN])
{
    pms_format_offset(t, tz ? pms_tz_offset_at(tz, t, NULL) : 0, out);
    char *dot = strchr(out, '.');
    if (dot && strlen(dot) >= 4)
        memmove(dot, dot + 4, strlen(dot + 4) + 1);
}

static pms_instant slot_instant(const json_t *slot)
{
    pms_instant t = PMS_INSTANT_NONE;
    int offset = 0;
    if (pms_iso8601_parse(arg(slot, "startTime"), &t, &offset, NULL) != PMS_OK)
        return PMS_INSTANT_NONE;
    return t;
}

/* 409 slot_taken as one sentence naming the (up to) two free times nearest to asked, in the
 * practice's zone, as times bookAppointment takes. */
static void tell_taken(const json_t *alts, pms_instant asked, const pms_tz *tz, char *line,
                       size_t len)
{
    const json_t *near[2] = {NULL, NULL};
    size_t i;
    json_t *s;
    json_array_foreach(alts, i, s)
    {
        pms_instant t = slot_instant(s);
        if (t == PMS_INSTANT_NONE)
            continue;
        pms_instant d = t > asked ? t - asked : asked - t;
        for (int k = 0; k < 2; k++) {
            pms_instant dk = near[k] ? slot_instant(near[k]) : 0;
            dk = dk > asked ? dk - asked : asked - dk;
            if (near[k] == NULL || d < dk) {
                if (k == 0)
                    near[1] = near[0];
                near[k] = s;
                break;
            }
        }
    }
    if (near[1] && slot_instant(near[1]) < slot_instant(near[0])) {
        const json_t *first = near[1];
        near[1] = near[0];
        near[0] = first;
    }
    if (near[0] == NULL) {
        snprintf(line, len,
                 "That time has just been taken and there are no other free times "
                 "nearby; ask the caller for another time.");
        return;
    }
    char a[PMS_TIME_BUFLEN], b[PMS_TIME_BUFLEN];
    local_text(slot_instant(near[0]), tz, a);
    if (near[1] == NULL) {
        snprintf(line, len,
                 "That time has just been taken; the nearest free time with this practitioner "
                 "is %s.",
                 a);
        return;
    }
    local_text(slot_instant(near[1]), tz, b);
    snprintf(line, len,
             "That time has just been taken; the nearest free times with this practitioner are "
             "%s and %s.",
             a, b);
}

static const char *pending_line(const char *tool)
{
    if (strcmp(tool, "cancelAppointment") == 0)
        return "The cancellation has been sent to the practice's system and is being confirmed; "
               "tell the caller the clinic will confirm it shortly.";
    if (strcmp(tool, "rescheduleAppointment") == 0)
        return "The change has been sent to the practice's system and is being confirmed; tell "
               "the caller the clinic will confirm it shortly.";
    return "The booking has been sent to the practice's system and is being confirmed; tell the "
           "caller the clinic will confirm it shortly.";
}

/* resp turned into a sentence: an error's message, or what the success says. asked: the time
 * asked for (409 names the free times nearest to it); tz: the practice's zone (may be NULL). */
static void tell(const char *tool, const pmsd_response *resp, pms_instant asked, const pms_tz *tz,
                 char **result, char **error)
{
    const json_t *body = resp->json;
    const char *state = arg(body, "state");
    char line[2048] = "";
    if (resp->status == 409 && json_object_get(body, "alternatives")) {
        tell_taken(json_object_get(body, "alternatives"), asked, tz, line, sizeof line);
        *error = one_line(line);
        return;
    }
    if (resp->status >= 400) {
        const char *msg = arg(json_object_get(body, "error"), "message");
        if (arg(body, "reason")) /* a refusal, or why the PMS could not be asked, in words */
            msg = arg(body, "reason");
        if (resp->status == 409 && state && strcmp(state, "pending") == 0)
            msg = "That request is already being processed by the practice system.";
        *error = one_line(msg ? msg : "The practice system could not do that just now.");
        return;
    }
    if (strcmp(tool, "checkAvailability") == 0) {
        const json_t *slots = json_object_get(body, "slots");
        if (json_array_size(slots) == 0) {
            *result = strdup("There are no free times then.");
            return;
        }
        snprintf(line, sizeof line, "Free times: ");
        tell_slots(slots, line, sizeof line);
        append(line, sizeof line, "%s%s", ".", NULL);
    } else if (strcmp(tool, "findPatient") == 0) {
        const json_t *list = json_object_get(body, "patients");
        size_t i;
        json_t *p;
        if (json_array_size(list) == 0) {
            *result = strdup("No matching patient was found.");
            return;
        }
        snprintf(line, sizeof line, "Matching patients: ");
        json_array_foreach(list, i, p)
        {
            if (i == 5)
                break;
            append(line, sizeof line, i ? "; %s (patient id %s" : "%s (patient id %s",
                   arg(p, "fullName") ? arg(p, "fullName") : arg(p, "familyName"), arg(p, "id"));
            append(line, sizeof line, "%s%s)", arg(p, "dateOfBirth") ? ", born " : "",
                   arg(p, "dateOfBirth"));
        }
        append(line, sizeof line, "%s%s", ".", NULL);
    } else if (strcmp(tool, "createPatient") == 0) {
        append(line, sizeof line, "The patient was added with patient id %s.%s", arg(body, "id"),
               NULL);
    } else if (state && strcmp(state, "pending") == 0) {
        snprintf(line, sizeof line, "%s", pending_line(tool));
    } else if (strcmp(tool, "cancelAppointment") == 0) {
        append(line, sizeof line, "The appointment is cancelled (appointment id %s).%s",
               arg(body, "appointmentId"), NULL);
    } else {
        /* the time at the practice's offset, as the caller's clock shows it */
        char when[PMS_TIME_BUFLEN];
        pms_instant t = slot_instant(body);
        if (t != PMS_INSTANT_NONE && tz)
            local_text(t, tz, when);
        else
            snprintf(when, sizeof when, "%s", arg(body, "startTime") ? arg(body, "startTime") : "");
        append(line, sizeof line, "Confirmed for %s (appointment id %s).", when,
               arg(body, "appointmentId") ? arg(body, "appointmentId")
                                          : arg(body, "pmsAppointmentId"));
    }
    *result = one_line(line);
}

static bool instant_arg(const json_t *args, const char *key, pms_instant *out, char **error)
{
    const char *text = arg(args, key);
    int offset = 0;
    if (text && pms_iso8601_parse(text, out, &offset, NULL) == PMS_OK)
        return true;
    char line[128];
    snprintf(line, sizeof line, "I need %s as a date and time with its UTC offset.", key);
    *error = strdup(line);
    return false;
}

static void run(pmsd_request *req, pmsd_response *resp, const char *connection_id, const char *tool,
                const json_t *args, const char *idem_key, char **error)
{
    if (strcmp(tool, "checkAvailability") == 0) {
        pmsd_slot_args a = {
            connection_id,    arg(args, "practitionerId"), arg(args, "appointmentTypeId"), 0, 0,
            arg_minutes(args)};
        if (a.duration_minutes == 0)
            a.duration_minutes = DEFAULT_MINUTES;
        pms_store *st = pmsd_req_store(req, resp);
        if (st && pmsd_slot_window(req, resp, st, connection_id, arg(args, "date"),
                                   arg(args, "from"), arg(args, "to"), &a))
            pmsd_op_availability(req, resp, &a);
    } else if (strcmp(tool, "bookAppointment") == 0) {
        pmsd_book_args a = {connection_id,
                            arg(args, "patientId"),
                            arg(args, "practitionerId"),
                            arg(args, "appointmentTypeId"),
                            0,
                            arg_minutes(args),
                            arg(args, "notes")};
        if (a.duration_minutes == 0)
            a.duration_minutes = DEFAULT_MINUTES;
        if (a.patient_id == NULL || a.practitioner_id == NULL)
            *error = strdup("I need the patient id and the practitioner id to book.");
        else if (instant_arg(args, "startTime", &a.start, error))
            pmsd_op_book(req, resp, &a, idem_key);
    } else if (strcmp(tool, "rescheduleAppointment") == 0) {
        pms_instant start;
        if (arg(args, "appointmentId") == NULL)
            *error = strdup("I need the appointment id to move it.");
        else if (instant_arg(args, "startTime", &start, error))
            pmsd_op_reschedule(req, resp, arg(args, "appointmentId"), start, arg_minutes(args),
                               idem_key);
    } else if (strcmp(tool, "cancelAppointment") == 0) {
        if (arg(args, "appointmentId") == NULL)
            *error = strdup("I need the appointment id to cancel it.");
        else
            pmsd_op_cancel(req, resp, arg(args, "appointmentId"), arg(args, "reason"), idem_key);
    } else if (strcmp(tool, "findPatient") == 0) {
        pms_patient_query q = {arg(args, "familyName"),
                               arg(args, "givenName"),
                               arg(args, "phone"),
                               arg(args, "email"),
                               false,
                               {0}};
        const char *dob = arg(args, "dateOfBirth");
        q.has_date_of_birth = dob && pms_date_parse(dob, &q.date_of_birth, NULL) == PMS_OK;
        if (!q.family_name && !q.given_name && !q.phone && !q.email && !q.has_date_of_birth)
            *error = strdup("I need a name, phone number, email or date of birth to search.");
        else
            pmsd_op_patient_search(req, resp, connection_id, &q);
    } else if (strcmp(tool, "createPatient") == 0) {
        pms_patient p = {0};
        p.first_name = (char *)arg(args, "givenName");
        p.last_name = (char *)arg(args, "familyName");
        p.phone = (char *)arg(args, "phone");
        p.email = (char *)arg(args, "email");
        const char *dob = arg(args, "dateOfBirth");
        p.has_date_of_birth = dob && pms_date_parse(dob, &p.date_of_birth, NULL) == PMS_OK;
        if (p.first_name == NULL || p.last_name == NULL)
            *error = strdup("I need the patient's given name and family name.");
        else
            pmsd_op_patient_create(req, resp, connection_id, &p, idem_key);
    } else if (strcmp(tool, "addPatientNote") == 0) {
        pmsd_op_not_offered(req, resp, connection_id, "patient notes", true, idem_key);
    } else {
        *error = strdup("This clinic's receptionist has no such tool.");
    }
}

void pmsd_voice_run_tool(pmsd_request *req, const pms_voice_settings *v, const char *name,
                         const json_t *args, const char *idem_key, char **result, char **error)
{
    const char *connection_id = arg(args, "connection_id");
    if (connection_id == NULL)
        connection_id = v->connection_id;
    pmsd_response resp = {0};
    *result = *error = NULL;
    run(req, &resp, connection_id, name, args, idem_key, error);
    pms_store *st = pmsd_req_store(req, &resp);
    if (*error == NULL && resp.status == 0) {
        *error = strdup("The practice system could not do that just now.");
    } else if (*error == NULL) {
        pms_instant asked = PMS_INSTANT_NONE;
        int offset = 0;
        const char *start = arg(args, "startTime");
        if (start == NULL || pms_iso8601_parse(start, &asked, &offset, NULL) != PMS_OK)
            asked = PMS_INSTANT_NONE;
        const pms_tz *tz = NULL;
        pms_connection c = {0};
        if (st && connection_id && st->ops->connection_get(st, connection_id, &c, NULL) == PMS_OK &&
            strcmp(c.account_id, req->principal.account_id) == 0 && c.timezone)
            pms_tz_get(c.timezone, &tz, NULL);
        pms_connection_clear(&c);
        tell(name, &resp, asked, tz, result, error);
    }
    if (st) {
        pmsd_response ignored = {0};
        pmsd_audit(req, &ignored, st, false, "voice.tool_call", name, NULL,
                   resp.status ? resp.status : 400);
        pmsd_response_clear(&ignored);
    }
    pmsd_response_clear(&resp);
}
