/* Store records: clearing, names, and opening a store by location. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/store.h"

void pms_connection_clear(pms_connection *c)
{
    free(c->id);
    free(c->account_id);
    free(c->pms_type);
    free(c->display_name);
    free(c->practice_name);
    free(c->tenant_id);
    free(c->practice_id);
    free(c->organization_id);
    free(c->base_url);
    free(c->timezone);
    json_decref(c->settings);
    free(c->secrets_sealed);
    json_decref(c->secret_keys);
    free(c->access_token_sealed);
    free(c->refresh_token_sealed);
    free(c->last_sync_status);
    free(c->last_sync_error);
    free(c->setup_step);
    memset(c, 0, sizeof *c);
}

void pms_connection_list_clear(pms_connection_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_connection_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_clinician_clear(pms_clinician *c)
{
    free(c->id);
    free(c->account_id);
    free(c->name);
    free(c->pms_practitioner_id);
    free(c->pms_connection_id);
    memset(c, 0, sizeof *c);
}

void pms_clinician_list_clear(pms_clinician_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_clinician_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_mapping_clear(pms_mapping *m)
{
    free(m->id);
    free(m->pms_connection_id);
    free(m->pms_practitioner_id);
    free(m->pms_practitioner_name);
    free(m->run_sheet_clinician_id);
    free(m->clinician_name);
    memset(m, 0, sizeof *m);
}

void pms_mapping_list_clear(pms_mapping_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_mapping_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_stored_type_list_clear(pms_stored_type_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        pms_stored_type *t = &l->items[i];
        free(t->id);
        free(t->pms_connection_id);
        free(t->pms_type_id);
        free(t->pms_type_name);
        free(t->colour);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

const char *pms_source_name(pms_source s)
{
    switch (s) {
    case PMS_SOURCE_OCR:
        return "ocr";
    case PMS_SOURCE_MANUAL:
        return "manual";
    case PMS_SOURCE_PMS:
        break;
    }
    return "pms";
}

int pms_source_parse(const char *name, pms_source *out)
{
    if (name == NULL)
        return PMS_ERR_PARSE;
    if (strcmp(name, "pms") == 0)
        *out = PMS_SOURCE_PMS;
    else if (strcmp(name, "ocr") == 0)
        *out = PMS_SOURCE_OCR;
    else if (strcmp(name, "manual") == 0)
        *out = PMS_SOURCE_MANUAL;
    else
        return PMS_ERR_PARSE;
    return PMS_OK;
}

const char *pms_role_name(pms_role r)
{
    switch (r) {
    case PMS_ROLE_STAFF:
        return "staff";
    case PMS_ROLE_AGENT:
        return "agent";
    case PMS_ROLE_ADMIN:
        break;
    }
    return "admin";
}

int pms_role_parse(const char *name, pms_role *out)
{
    if (name == NULL)
        return PMS_ERR_PARSE;
    if (strcmp(name, "admin") == 0)
        *out = PMS_ROLE_ADMIN;
    else if (strcmp(name, "staff") == 0)
        *out = PMS_ROLE_STAFF;
    else if (strcmp(name, "agent") == 0)
        *out = PMS_ROLE_AGENT;
    else
        return PMS_ERR_PARSE;
    return PMS_OK;
}

void pms_account_clear(pms_account *a)
{
    free(a->id);
    free(a->name);
    free(a->timezone);
    memset(a, 0, sizeof *a);
}

void pms_account_array_clear(pms_account_array *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_account_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_api_key_clear(pms_api_key *k)
{
    free(k->id);
    free(k->account_id);
    free(k->name);
    memset(k, 0, sizeof *k);
    k->created_at = k->last_used_at = k->revoked_at = PMS_INSTANT_NONE;
}

void pms_api_key_array_clear(pms_api_key_array *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_api_key_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_user_clear(pms_user *u)
{
    free(u->id);
    free(u->account_id);
    free(u->username);
    if (u->password_hash)
        pms_secure_free(u->password_hash, strlen(u->password_hash));
    memset(u, 0, sizeof *u);
    u->created_at = u->disabled_at = PMS_INSTANT_NONE;
}

void pms_user_array_clear(pms_user_array *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_user_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_web_session_clear(pms_web_session *s)
{
    free(s->account_id);
    free(s->api_key_id);
    free(s->user_id);
    if (s->csrf_token)
        pms_secure_free(s->csrf_token, strlen(s->csrf_token));
    free(s->principal_name);
    free(s->account_name);
    memset(s, 0, sizeof *s);
    s->created_at = s->expires_at = s->last_seen_at = s->revoked_at = PMS_INSTANT_NONE;
}

void pms_sheet_entry_init(pms_sheet_entry *e)
{
    memset(e, 0, sizeof *e);
    pms_appointment_init(&e->appt);
    e->pms_last_synced_at = PMS_INSTANT_NONE;
    e->edited_start = PMS_INSTANT_NONE;
    e->edited_end = PMS_INSTANT_NONE;
    e->edited_at = PMS_INSTANT_NONE;
    e->removed_at = PMS_INSTANT_NONE;
    e->created_at = PMS_INSTANT_NONE;
    e->updated_at = PMS_INSTANT_NONE;
}

void pms_sheet_entry_clear(pms_sheet_entry *e)
{
    free(e->id);
    free(e->run_sheet_id);
    free(e->account_id);
    free(e->clinician_id);
    free(e->clinician_name);
    pms_appointment_clear(&e->appt);
    free(e->edited_phone);
    free(e->manual_notes);
    pms_sheet_entry_init(e);
}

void pms_sheet_entry_list_clear(pms_sheet_entry_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_sheet_entry_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_sync_log_entry_clear(pms_sync_log_entry *e)
{
    free(e->id);
    free(e->pms_connection_id);
    free(e->sync_type);
    free(e->status);
    free(e->error_message);
    json_decref(e->error_details);
    free(e->worker);
    memset(e, 0, sizeof *e);
}

void pms_sync_log_list_clear(pms_sync_log_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_sync_log_entry_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int pms_store_open(const char *location, bool migrate, pms_store **out, pms_error *err)
{
    *out = NULL;
    if (location == NULL || location[0] == '\0')
        return pms_error_set(err, PMS_ERR_CONFIG, "no database given");
    const char *path = strncmp(location, "sqlite:", 7) == 0 ? location + 7 : location;
    pms_store *st = NULL;
    int rc = pms_store_location_is_postgres(location) ? pms_store_pg_open(location, &st, err)
                                                      : pms_store_sqlite_open(path, &st, err);
    if (rc != PMS_OK)
        return rc;
    if (migrate && (rc = st->ops->migrate(st, err)) != PMS_OK) {
        st->ops->close(st);
        return rc;
    }
    *out = st;
    return PMS_OK;
}

bool pms_store_location_is_postgres(const char *location)
{
    return location && (strncmp(location, "postgres://", 11) == 0 ||
                        strncmp(location, "postgresql://", 13) == 0);
}

void pms_store_location_redacted(const char *location, char *out, size_t len)
{
    if (len == 0)
        return;
    out[0] = '\0';
    if (location == NULL)
        return;
    if (!pms_store_location_is_postgres(location)) {
        snprintf(out, len, "%s", location);
        return;
    }
    size_t o = 0;
    const char *p = location, *authority = strstr(location, "://") + 3;
    const char *authority_end = authority + strcspn(authority, "/?");
    const char *at = memchr(authority, '@', (size_t)(authority_end - authority));
    const char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
    while (*p && o + 1 < len) {
        if (colon && p == colon + 1) { /* user:PASSWORD@ */
            p = at;
            for (const char *r = "***"; *r && o + 1 < len;)
                out[o++] = *r++;
            continue;
        }
        if (p > authority_end && (p[-1] == '?' || p[-1] == '&') &&
            strncmp(p, "password=", 9) == 0) {
            for (int i = 0; i < 9 && o + 1 < len; i++)
                out[o++] = *p++;
            p += strcspn(p, "&");
            for (const char *r = "***"; *r && o + 1 < len;)
                out[o++] = *r++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

void pms_store_close(pms_store *st)
{
    if (st)
        st->ops->close(st);
}

json_t *pms_sync_window_to_json(const pms_sync_window *w)
{
    char from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(w->from, from);
    pms_date_format(w->to, to);
    return json_pack("{s:b, s:s, s:s, s:s}", "today", w->today, "from", w->today ? "" : from, "to",
                     w->today ? "" : to, "type", w->sync_type[0] ? w->sync_type : "manual");
}

int pms_sync_window_from_json(const json_t *j, pms_sync_window *out)
{
    memset(out, 0, sizeof *out);
    out->today = true;
    snprintf(out->sync_type, sizeof out->sync_type, "manual");
    if (j == NULL)
        return PMS_OK;
    if (!json_is_object(j))
        return PMS_ERR_PARSE;
    out->today = json_is_true(json_object_get(j, "today"));
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type && type[0])
        snprintf(out->sync_type, sizeof out->sync_type, "%s", type);
    if (out->today)
        return PMS_OK;
    const char *from = json_string_value(json_object_get(j, "from"));
    const char *to = json_string_value(json_object_get(j, "to"));
    if (from == NULL || to == NULL || pms_date_parse(from, &out->from, NULL) != PMS_OK ||
        pms_date_parse(to, &out->to, NULL) != PMS_OK)
        return PMS_ERR_PARSE;
    return PMS_OK;
}

void pms_write_record_clear(pms_write_record *r)
{
    free(r->account_id);
    free(r->idem_key);
    free(r->request_hash);
    free(r->operation);
    free(r->connection_id);
    free(r->state);
    json_decref(r->response);
    free(r->tracking_id);
    free(r->entry_id);
    memset(r, 0, sizeof *r);
}

void pms_write_record_array_clear(pms_write_record_array *l)
{
    for (size_t i = 0; i < l->count; i++)
        pms_write_record_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void pms_voice_settings_clear(pms_voice_settings *v)
{
    free(v->account_id);
    free(v->connection_id);
    free(v->bearer_sealed);
    free(v->hmac_sealed);
    free(v->phone_number_id);
    memset(v, 0, sizeof *v);
}

void pms_voice_aad(const char *account_id, const char *which, char *out, size_t len)
{
    snprintf(out, len, "voice:%s:%s", account_id, which);
}

void pms_voice_settings_array_clear(pms_voice_settings_array *l)
{
    for (size_t i = 0; l && i < l->count; i++)
        pms_voice_settings_clear(&l->items[i]);
    if (l) {
        free(l->items);
        l->items = NULL;
        l->count = 0;
    }
}
