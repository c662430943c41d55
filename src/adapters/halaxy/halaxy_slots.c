/* Halaxy free times (pms-api-notes §4.4): GET /main/Appointment/$find?start=&end=&duration=
 * &practitioner-role=PR-… answers a Bundle of candidate Appointments, each a free time with the
 * PractitionerRole as participant. The adapter names practitioners by their Practitioner id (as
 * its reads do): a practitioner is asked about through their practice roles (PR-), found with
 * GET /main/PractitionerRole?practitioner=Practitioner/{id}; a role id (PR-…, EP-…) is taken as
 * it is. Without a practitioner, every active practice role is asked about. */
#include <stdlib.h>
#include <string.h>

#include "adapters/halaxy/halaxy.h"
#include "adapters/write.h"

#define MAX_ROLES 32
#define MAX_SLOTS 5000

typedef struct role_list {
    char role[MAX_ROLES][HALAXY_ID_LEN];
    char practitioner[MAX_ROLES][HALAXY_ID_LEN];
    size_t count;
} role_list;

/* Keeps the Bundle's active practice roles. */
static int on_role_page(pms_session *s, pms_http_client *client, const json_t *bundle, void *ctx,
                        pms_error *err)
{
    (void)s;
    (void)client;
    (void)err;
    role_list *roles = ctx;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(bundle, "entry"), i, entry)
    {
        const json_t *role = pms_halaxy_entry_resource(entry, "PractitionerRole");
        const char *id = json_string_value(json_object_get(role, "id"));
        halaxy_ref practitioner;
        if (id == NULL || strncmp(id, "PR-", 3) != 0 ||
            json_is_false(json_object_get(role, "active")) || strlen(id) >= HALAXY_ID_LEN ||
            roles->count == MAX_ROLES ||
            pms_halaxy_role_practitioner(role, &practitioner) != PMS_OK)
            continue;
        snprintf(roles->role[roles->count], HALAXY_ID_LEN, "%s", id);
        snprintf(roles->practitioner[roles->count], HALAXY_ID_LEN, "%s", practitioner.id);
        roles->count++;
    }
    return PMS_OK;
}

/* The practice roles to ask about for a practitioner id (or every one for NULL). */
static int roles_for(pms_session *s, const char *practitioner_id, role_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (practitioner_id &&
        (strncmp(practitioner_id, "PR-", 3) == 0 || strncmp(practitioner_id, "EP-", 3) == 0)) {
        snprintf(out->role[0], HALAXY_ID_LEN, "%s", practitioner_id);
        snprintf(out->practitioner[0], HALAXY_ID_LEN, "%s", practitioner_id);
        out->count = 1;
        return PMS_OK;
    }
    char *who = practitioner_id ? pms_url_encode(practitioner_id) : NULL;
    char *url = NULL;
    if (practitioner_id && who == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    url = who ? pms_write_url(
                    s, "/main/PractitionerRole?practitioner=Practitioner%%2F%s&_count=100", who)
              : pms_write_url(s, "/main/PractitionerRole?active=true&_count=100");
    free(who);
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc =
        pms_halaxy_walk_bundle(s, NULL, url, "practitioner role search", on_role_page, out, err);
    free(url);
    if (rc == PMS_OK && practitioner_id) /* the practitioner's own id, as the reads name them */
        for (size_t i = 0; i < out->count; i++)
            snprintf(out->practitioner[i], HALAXY_ID_LEN, "%s", practitioner_id);
    return rc;
}

int pms_halaxy_practice_role(pms_session *s, const char *practitioner_id, char role[HALAXY_ID_LEN],
                             pms_error *err)
{
    role_list *roles = calloc(1, sizeof *roles);
    if (roles == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = roles_for(s, practitioner_id, roles, err);
    if (rc == PMS_OK && roles->count == 0)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND,
                           "Halaxy has no active practice role for that practitioner");
    if (rc == PMS_OK)
        snprintf(role, HALAXY_ID_LEN, "%s", roles->role[0]);
    free(roles);
    return rc;
}

typedef struct slot_walk {
    const pms_slot_query *q;
    const char *practitioner;
    pms_slot_list *out;
    size_t capacity;
} slot_walk;

/* Each candidate Appointment of a page: its start and end (or minutesDuration). */
static int on_candidate_page(pms_session *s, pms_http_client *client, const json_t *bundle,
                             void *ctx, pms_error *err)
{
    (void)s;
    (void)client;
    slot_walk *w = ctx;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(bundle, "entry"), i, entry)
    {
        const json_t *appt = pms_halaxy_entry_resource(entry, "Appointment");
        pms_instant start, end = PMS_INSTANT_NONE;
        if (appt == NULL || w->out->count >= MAX_SLOTS)
            continue;
        const json_t *minutes = json_object_get(appt, "minutesDuration");
        if (pms_iso8601_parse(json_string_value(json_object_get(appt, "start")), &start, NULL,
                              NULL) != PMS_OK)
            return pms_error_set(err, PMS_ERR_PARSE,
                                 "Halaxy sent a free time without a readable start");
        if (pms_iso8601_parse(json_string_value(json_object_get(appt, "end")), &end, NULL, NULL) !=
            PMS_OK)
            end = start + (json_is_integer(minutes) ? json_integer_value(minutes)
                                                    : w->q->duration_minutes) *
                              60000;
        if (start < w->q->from || start >= w->q->to)
            continue;
        if (pms_slot_list_push(w->out, &w->capacity, w->practitioner, start, end) != PMS_OK)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_halaxy_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                          pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (q->to <= q->from || q->duration_minutes <= 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "Halaxy needs a window and a length to find free times");
    role_list *roles = calloc(1, sizeof *roles);
    if (roles == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = roles_for(s, q->practitioner_id, roles, err);
    char *from = pms_write_query_time(s, q->from, false),
         *to = pms_write_query_time(s, q->to, false);
    slot_walk w = {.q = q, .out = out};
    for (size_t i = 0; rc == PMS_OK && i < roles->count; i++) {
        char *role = pms_url_encode(roles->role[i]);
        char *url = from && to && role
                        ? pms_write_url(s,
                                        "/main/Appointment/$find?start=%s&end=%s&duration=%d"
                                        "&practitioner-role=%s&apply-buffer-time=true"
                                        "&include-overbooked=false",
                                        from, to, q->duration_minutes, role)
                        : NULL;
        free(role);
        if (url == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        w.practitioner = roles->practitioner[i];
        rc = pms_halaxy_walk_bundle(s, NULL, url, "free time search", on_candidate_page, &w, err);
        free(url);
    }
    free(from);
    free(to);
    free(roles);
    if (rc != PMS_OK)
        pms_slot_list_clear(out);
    else
        pms_slot_list_sort_unique(out);
    return rc;
}
