/* pmsd --demo: a demo account with an admin and a staff key, and connections to the built-in
 * PMS sandbox (Gentu paired, Medirecords, Halaxy) that sync every minute, so a fresh pmsd shows
 * a live run sheet. The sandbox's own /_sandbox/info says which credentials to use; they are the
 * sandbox's fake placeholders. */
#include "server/demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/accounts.h"
#include "pmsync/http.h"
#include "pmsync/log.h"
#include "pmsync/mappings.h"

static int fetch_info(const char *base, json_t **out, pms_error *err)
{
    pms_http_client *client = NULL;
    pms_http_options opts = {.connect_timeout_ms = 3000, .total_timeout_ms = 10000};
    int rc = pms_http_client_new(&opts, &client, err);
    if (rc != PMS_OK)
        return rc;
    char url[512];
    snprintf(url, sizeof url, "%s/_sandbox/info", base);
    pms_http_request req = {.method = "GET", .url = url};
    pms_http_response resp = {0};
    rc = pms_http_perform(client, &req, &resp, err);
    pms_http_client_free(client);
    if (rc == PMS_OK && resp.status != 200)
        rc = pms_error_set(err, PMS_ERR_HTTP, "the sandbox answered %ld", resp.status);
    if (rc == PMS_OK && (*out = json_loadb(resp.body, resp.body_len, 0, NULL)) == NULL)
        rc = pms_error_set(err, PMS_ERR_PARSE, "the sandbox's info is not JSON");
    pms_http_response_clear(&resp);
    if (rc != PMS_OK)
        pms_error_prefix(err, "cannot read %s/_sandbox/info (is pms-sandbox running?)", base);
    return rc;
}

static const char *text_at(const json_t *obj, const char *path)
{
    /* "a.b.0.c": objects by key, arrays by index */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *v = obj;
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && v;
         part = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(part, NULL, 10))
                             : json_object_get(v, part);
    return json_string_value(v);
}

/* Adds one connection to the sandbox: fields and settings as given, syncing every minute. */
static int add_connection(pms_store *st, const pms_keyring *ring, const char *account_id,
                          const char *pms, const char *name, const char *base_url,
                          const char *timezone, const pms_setting_value *settings, size_t count,
                          char id[PMS_UUID_LEN], pms_error *err)
{
    pms_connection_fields fields = {
        .display_name = name,
        .base_url = base_url,
        .timezone = timezone,
        .sync_enabled = 1,
        .sync_frequency_minutes = 1,
        .sync_telehealth_only = 1,
        .skip_unmapped = 0,
    };
    for (size_t i = 0; i < count; i++)
        if (settings[i].value == NULL)
            return pms_error_set(err, PMS_ERR_PARSE, "the sandbox's info has no %s for %s",
                                 settings[i].key, pms);
    return pms_connection_create(st, ring, account_id, pms, &fields, settings, count, id, err);
}

/* Reads practitioners and types from the PMS and marks the types named like telehealth. */
static int prepare(pms_store *st, const pms_keyring *ring, const char *id, pms_error *err)
{
    pms_connection c;
    int rc = st->ops->connection_get(st, id, &c, err);
    if (rc != PMS_OK)
        return rc;
    pms_session_options opts = {0};
    int marked = 0;
    rc = pms_catalog_refresh(st, ring, &c, &opts, true, true, NULL, err);
    if (rc == PMS_OK)
        rc = pms_type_mark_suggested(st, &c, true, &marked, err);
    pms_connection_clear(&c);
    return rc;
}

static int create_key(pms_store *st, const char *account_id, const char *name, pms_role role,
                      FILE *out, pms_error *err)
{
    char *key = NULL;
    int rc = pms_api_key_create(st, account_id, name, role, &key, NULL, err);
    if (rc != PMS_OK)
        return rc;
    fprintf(out, "  %-6s key: %s\n", pms_role_name(role), key);
    pms_secure_free(key, strlen(key));
    return PMS_OK;
}

int pmsd_demo_setup(pms_store *st, const pms_keyring *ring, const char *sandbox_url, FILE *out,
                    pms_error *err)
{
    json_t *info = NULL;
    int rc = fetch_info(sandbox_url, &info, err);
    if (rc != PMS_OK)
        return rc;
    char account[PMS_UUID_LEN], gentu[PMS_UUID_LEN], mr[PMS_UUID_LEN], hx[PMS_UUID_LEN];
    char base[3][600];
    snprintf(base[0], sizeof base[0], "%s/gentu", sandbox_url);
    snprintf(base[1], sizeof base[1], "%s/medirecords", sandbox_url);
    snprintf(base[2], sizeof base[2], "%s/halaxy", sandbox_url);
    const char *zone = text_at(info, "gentu.tenants.0.timezone");
    pms_setting_value gentu_settings[] = {
        {"client_id", text_at(info, "gentu.clientId")},
        {"client_secret", text_at(info, "gentu.clientSecret")},
        {"app_id", text_at(info, "gentu.appId")},
    };
    /* The provider list is a guessed Medirecords endpoint: the sandbox serves it when asked
     * (pms-sandbox --medirecords-providers); without it providers are learnt from appointments. */
    pms_setting_value mr_settings[] = {
        {"practice_id", text_at(info, "medirecords.practices.0.practiceId")},
        {"token", text_at(info, "medirecords.practices.0.token")},
        {"providers_path", "/v1/practices/{practiceId}/providers"},
    };
    pms_setting_value hx_settings[] = {
        {"client_id", text_at(info, "halaxy.practices.0.clientId")},
        {"client_secret", text_at(info, "halaxy.practices.0.clientSecret")},
    };
    const char *code = text_at(info, "gentu.tenants.0.pairingCode");
    pms_practice_info practice = {0};
    pms_session_options opts = {0};
    if ((rc = pms_account_create(st, "Demo clinic", zone, account, err)) != PMS_OK)
        goto out;
    fprintf(out, "Demo account %s\n", account);
    if ((rc = create_key(st, account, "demo admin", PMS_ROLE_ADMIN, out, err)) != PMS_OK ||
        (rc = create_key(st, account, "demo staff", PMS_ROLE_STAFF, out, err)) != PMS_OK)
        goto out;
    if ((rc = add_connection(st, ring, account, "gentu", "Demo practice (Gentu)", base[0], zone,
                             gentu_settings, 3, gentu, err)) != PMS_OK)
        goto out;
    if (code == NULL) {
        rc = pms_error_set(err, PMS_ERR_PARSE, "the sandbox's info has no Gentu pairing code");
        goto out;
    }
    if ((rc = pms_connection_pair(st, ring, gentu, code, &opts, &practice, err)) != PMS_OK ||
        (rc = prepare(st, ring, gentu, err)) != PMS_OK)
        goto out;
    if ((rc = add_connection(st, ring, account, "medirecords", "Demo practice (Medirecords)",
                             base[1], text_at(info, "medirecords.practices.0.timezone"),
                             mr_settings, 3, mr, err)) != PMS_OK ||
        (rc = prepare(st, ring, mr, err)) != PMS_OK)
        goto out;
    if ((rc = add_connection(st, ring, account, "halaxy", "Demo practice (Halaxy)", base[2],
                             text_at(info, "halaxy.practices.0.timezone"), hx_settings, 2, hx,
                             err)) != PMS_OK ||
        (rc = prepare(st, ring, hx, err)) != PMS_OK)
        goto out;
    fprintf(out, "Demo connections: Gentu %s, Medirecords %s, Halaxy %s (synced every minute)\n",
            gentu, mr, hx);
    fflush(out);
out:
    pms_practice_info_clear(&practice);
    json_decref(info);
    return rc;
}
