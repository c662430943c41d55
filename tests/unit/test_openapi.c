/* The OpenAPI document served at /api/openapi.json describes every route pmsd has, and nothing
 * it doesn't: a route added to routes.c without its description fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "server/http.h"
#include "server/openapi_doc.h"

static json_t *load_doc(void)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)pmsd_openapi_json, pmsd_openapi_json_len, 0, &jerr);
    if (doc == NULL)
        fail_msg("docs/openapi.json is not JSON: line %d: %s", jerr.line, jerr.text);
    return doc;
}

static void lower(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static void every_route_is_documented(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    json_t *paths = json_object_get(doc, "paths");
    assert_true(json_is_object(paths));
    int missing = 0;
    for (size_t i = 0; i < pmsd_route_count; i++) {
        const pmsd_route *r = &pmsd_routes[i];
        char method[16];
        lower(r->method, method, sizeof method);
        json_t *op = json_object_get(json_object_get(paths, r->pattern), method);
        if (op == NULL) {
            fprintf(stderr, "not in docs/openapi.json: %s %s\n", r->method, r->pattern);
            missing++;
            continue;
        }
        if (!json_is_string(json_object_get(op, "operationId")) ||
            !json_is_object(json_object_get(op, "responses"))) {
            fprintf(stderr, "%s %s: no operationId or responses\n", r->method, r->pattern);
            missing++;
        }
        /* Routes that need a key say so; public ones say they don't. */
        json_t *security = json_object_get(op, "security");
        bool public_doc = json_is_array(security) && json_array_size(security) == 0;
        if (public_doc != (r->access == PMSD_PUBLIC)) {
            fprintf(stderr, "%s %s: security does not match the route's access\n", r->method,
                    r->pattern);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    json_decref(doc);
}

static void nothing_undocumented_is_described(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    const char *path;
    json_t *item;
    int stale = 0;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            if (strcmp(method, "parameters") == 0 || strcmp(method, "summary") == 0 ||
                strcmp(method, "description") == 0)
                continue;
            bool found = false;
            for (size_t i = 0; i < pmsd_route_count && !found; i++) {
                char m[16];
                lower(pmsd_routes[i].method, m, sizeof m);
                found = strcmp(pmsd_routes[i].pattern, path) == 0 && strcmp(m, method) == 0;
            }
            if (!found) {
                fprintf(stderr, "described but not served: %s %s\n", method, path);
                stale++;
            }
        }
    }
    assert_int_equal(stale, 0);
    json_decref(doc);
}

/* Every $ref points at something in the document. */
static int check_refs(json_t *doc, json_t *node)
{
    int bad = 0;
    if (json_is_object(node)) {
        const char *key;
        json_t *v;
        json_object_foreach(node, key, v)
        {
            if (strcmp(key, "$ref") == 0 && json_is_string(v)) {
                const char *ref = json_string_value(v);
                if (strncmp(ref, "#/", 2) != 0) {
                    fprintf(stderr, "external $ref %s\n", ref);
                    bad++;
                    continue;
                }
                char buf[256];
                snprintf(buf, sizeof buf, "%s", ref + 2);
                json_t *at = doc;
                for (char *save = NULL, *part = strtok_r(buf, "/", &save); part && at;
                     part = strtok_r(NULL, "/", &save))
                    at = json_object_get(at, part);
                if (at == NULL) {
                    fprintf(stderr, "unresolved $ref %s\n", ref);
                    bad++;
                }
            } else {
                bad += check_refs(doc, v);
            }
        }
    } else if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v)
        {
            bad += check_refs(doc, v);
        }
    }
    return bad;
}

static void every_reference_resolves(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    assert_int_equal(check_refs(doc, doc), 0);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented),
        cmocka_unit_test(nothing_undocumented_is_described),
        cmocka_unit_test(every_reference_resolves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
