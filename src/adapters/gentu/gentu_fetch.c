/* Gentu appointments: one sweep per practitioner (practitionerId is required), each following
 * pagination.next to the end; practitioners are swept in parallel within the rate limit. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "pmsync/log.h"

#define MAX_PAGES_PER_SWEEP 10000

typedef struct sweep {
    const pms_fetch_options *opts;
    const pms_batch_sink *sink;
    const char *const *practitioner_ids;
    char *from_param; /* URI-encoded ISO 8601 with offset */
    char *to_param;
    int page_size;
} sweep;

static const char *lookup_type_name(void *ctx, const char *type_id)
{
    const pms_appt_type *t = pms_session_appt_type(ctx, type_id);
    return t ? t->name : NULL;
}

static int lookup_type_duration(void *ctx, const char *type_id)
{
    const pms_appt_type *t = pms_session_appt_type(ctx, type_id);
    return t && t->duration_minutes > 0 ? t->duration_minutes : -1;
}

static bool lookup_type_telehealth(void *ctx, const char *type_id)
{
    return pms_session_type_is_telehealth(ctx, type_id);
}

gentu_map_context pms_gentu_map_context_of(pms_session *s)
{
    return (gentu_map_context){
        .connection_id = pms_session_connection_id(s),
        .timezone = pms_session_tz_name(s),
        .phone_region = pms_phone_region_for_timezone(pms_session_tz_name(s)),
        .fetched_at = pms_now(),
        .type_name = lookup_type_name,
        .type_duration = lookup_type_duration,
        .type_is_telehealth = lookup_type_telehealth,
        .lookup_ctx = s,
    };
}

/* Object id -> item for an included array ("patients", "practitioners"). New reference. */
static json_t *index_by_id(const json_t *page, const char *key)
{
    json_t *index = json_object();
    const json_t *list = json_object_get(page, key);
    size_t i;
    json_t *item;
    if (index == NULL || !json_is_array(list))
        return index;
    json_array_foreach(list, i, item)
    {
        const json_t *id = json_object_get(item, "id");
        if (json_is_string(id))
            json_object_set(index, json_string_value(id), item);
    }
    return index;
}

/* Patients referenced on the page but not included: read each once (cached for the sync). */
static void resolve_missing_patients(pms_session *s, pms_http_client *client,
                                     const json_t *appointments, json_t *patients)
{
    size_t i;
    json_t *appt;
    json_array_foreach(appointments, i, appt)
    {
        const json_t *participants = json_object_get(appt, "participant");
        size_t j;
        json_t *p;
        if (!json_is_array(participants))
            continue;
        json_array_foreach(participants, j, p)
        {
            const json_t *type = json_object_get(p, "referenceType");
            const json_t *id = json_object_get(p, "referenceId");
            if (!json_is_string(type) || strcmp(json_string_value(type), "patient") != 0 ||
                !json_is_string(id) || json_object_get(patients, json_string_value(id)))
                continue;
            pms_error e = {0};
            json_t *patient = pms_gentu_patient_cached(s, client, json_string_value(id), &e);
            if (patient) {
                json_object_set_new(patients, json_string_value(id), patient);
            } else {
                pms_log(PMS_LOG_WARN, "gentu.patient_unavailable", "connection",
                        pms_session_connection_id(s), "reason", e.message, NULL);
                json_object_set_new(patients, json_string_value(id), json_null());
            }
        }
    }
}

/* Maps one page and hands it to the sink. */
static int emit_page(pms_session *s, pms_http_client *client, const sweep *sw,
                     const char *practitioner_id, const json_t *page, pms_error *err)
{
    const json_t *appointments = json_object_get(page, "appointments");
    size_t n = json_array_size(appointments);
    if (n == 0)
        return PMS_OK;
    json_t *patients = index_by_id(page, "patients");
    json_t *practitioners = index_by_id(page, "practitioners");
    pms_appointment *batch = calloc(n, sizeof *batch);
    if (patients == NULL || practitioners == NULL || batch == NULL) {
        json_decref(patients);
        json_decref(practitioners);
        free(batch);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (!sw->opts->without_patients)
        resolve_missing_patients(s, client, appointments, patients);
    gentu_map_context ctx = pms_gentu_map_context_of(s);
    ctx.swept_practitioner_id = practitioner_id;
    ctx.patients = patients;
    ctx.practitioners = practitioners;
    size_t kept = 0, i;
    json_t *appt;
    int rc = PMS_OK;
    json_array_foreach(appointments, i, appt)
    {
        const char *id = NULL;
        pms_error e = {0};
        gentu_map_outcome outcome = pms_gentu_map_appointment(appt, &ctx, &batch[kept], &id, &e);
        if (outcome == GENTU_MAPPED) {
            /* The API's date bounds are loosely specified: keep exactly [from, to). */
            if (batch[kept].start_time >= sw->opts->from && batch[kept].start_time < sw->opts->to)
                kept++;
            else
                pms_appointment_clear(&batch[kept]);
        } else if (e.code == PMS_ERR_NOMEM) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        } else if (outcome == GENTU_SKIP) {
            pms_session_emit_skipped(s, sw->sink, id, e.message);
        } else {
            pms_session_emit_invalid(s, sw->sink, id, e.message);
        }
    }
    if (rc == PMS_OK)
        rc = pms_session_emit(s, sw->sink, batch, kept, err);
    for (size_t k = 0; k < kept; k++)
        pms_appointment_clear(&batch[k]);
    free(batch);
    json_decref(patients);
    json_decref(practitioners);
    return rc;
}

static char *page_url(pms_session *s, const sweep *sw, const char *practitioner_id,
                      const char *cursor, pms_error *err)
{
    char *pid = pms_url_encode(practitioner_id);
    char *cur = cursor ? pms_url_encode(cursor) : NULL;
    char *suffix = NULL;
    int n = -1;
    if (pid && (cursor == NULL || cur))
        n = asprintf(&suffix,
                     "/appointments?fromDate=%s&toDate=%s&practitionerId=%s&limit=%d"
                     "&include=patients,practitioners%s%s",
                     sw->from_param, sw->to_param, pid, sw->page_size, cur ? "&cursor=" : "",
                     cur ? cur : "");
    free(pid);
    free(cur);
    if (n < 0) {
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *url = pms_gentu_tenant_url(s, suffix, err);
    free(suffix);
    return url;
}

/* Sweeps one practitioner's window to the last page. */
static int sweep_practitioner(pms_session *s, pms_http_client *client, size_t index, void *arg,
                              pms_error *err)
{
    const sweep *sw = arg;
    const char *practitioner_id = sw->practitioner_ids[index];
    char *cursor = NULL;
    int rc = PMS_OK;
    for (int page_no = 0;; page_no++) {
        if (page_no >= MAX_PAGES_PER_SWEEP) {
            rc = pms_error_set(err, PMS_ERR_UPSTREAM, "Gentu kept returning pages (over %d)",
                               MAX_PAGES_PER_SWEEP);
            break;
        }
        char *url = page_url(s, sw, practitioner_id, cursor, err);
        if (url == NULL) {
            rc = err ? (int)err->code : PMS_ERR_NOMEM;
            break;
        }
        json_t *page = NULL;
        rc = pms_session_get_json(s, client, url, &page, err);
        free(url);
        if (rc != PMS_OK)
            break;
        const json_t *appointments = json_object_get(page, "appointments");
        const json_t *pagination = json_object_get(page, "pagination");
        if (!json_is_object(page) || !json_is_array(appointments)) {
            json_decref(page);
            rc = pms_error_set(err, PMS_ERR_PARSE,
                               "Gentu's appointment page has no appointments array");
            break;
        }
        rc = emit_page(s, client, sw, practitioner_id, page, err);
        const json_t *next = json_object_get(pagination, "next");
        char *next_cursor = NULL;
        if (rc == PMS_OK && json_is_string(next) && json_string_length(next) > 0) {
            if (cursor && strcmp(cursor, json_string_value(next)) == 0)
                rc = pms_error_set(err, PMS_ERR_UPSTREAM, "Gentu returned the same cursor twice");
            else if ((next_cursor = strdup(json_string_value(next))) == NULL)
                rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
        json_decref(page);
        free(cursor);
        cursor = next_cursor;
        if (rc != PMS_OK || cursor == NULL)
            break;
    }
    free(cursor);
    return rc;
}

static char *encoded_instant(pms_session *s, pms_instant t)
{
    char text[PMS_TIME_BUFLEN];
    pms_format_offset(t, pms_tz_offset_at(pms_session_tz(s), t, NULL), text);
    return pms_url_encode(text);
}

int pms_gentu_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                 const pms_batch_sink *sink, pms_error *err)
{
    pms_practitioner_list listed = {0};
    const char **ids = NULL;
    size_t count = 0;
    int rc = PMS_OK;
    sweep sw = {.opts = opts, .sink = sink};

    if (opts->practitioner_ids != NULL) {
        sw.practitioner_ids = opts->practitioner_ids;
        count = opts->practitioner_count;
    } else {
        /* No list given: every active practitioner shown in the appointment book. */
        if ((rc = pms_gentu_list_practitioners(s, &listed, err)) != PMS_OK)
            return rc;
        ids = calloc(listed.count + 1, sizeof *ids);
        if (ids == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < listed.count; i++)
            if (listed.items[i].active && listed.items[i].bookable)
                ids[count++] = listed.items[i].id;
        sw.practitioner_ids = ids;
    }
    sw.page_size = opts->page_size > 0 ? opts->page_size
                                       : (int)pms_session_setting_long(s, "page_size", 5, 100, 100);
    if (sw.page_size < 5)
        sw.page_size = 5;
    if (sw.page_size > 100)
        sw.page_size = 100;
    sw.from_param = encoded_instant(s, opts->from);
    sw.to_param = encoded_instant(s, opts->to);
    if (sw.from_param == NULL || sw.to_param == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    int concurrency = (int)pms_session_setting_long(s, "concurrency", 1, 16, 4);
    pms_error first = {0};
    size_t failed = pms_session_parallel(s, count, concurrency, sweep_practitioner, &sw, &first);
    if (failed > 0) {
        rc = first.code != PMS_OK ? (int)first.code : PMS_ERR_UPSTREAM;
        if (err) {
            *err = first;
            pms_error_prefix(err, "%zu of %zu practitioners could not be read", failed, count);
        }
    }
out:
    free(sw.from_param);
    free(sw.to_param);
    free(ids);
    pms_practitioner_list_clear(&listed);
    return rc;
}
