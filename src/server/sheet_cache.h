/* Rendered run sheets, kept while they are current. A day's run sheet with a thousand
 * appointments takes tens of milliseconds of CPU to read and render; staff screens ask for it
 * again and again while it rarely changes. Each rendering is kept with the store's version of
 * that run sheet (store.h: run_sheet_version, moved by every change from any process), and is
 * served again only while the version is the same. Bounded in bytes (least recently used out).
 * Thread-safe. */
#ifndef PMSD_SHEET_CACHE_H
#define PMSD_SHEET_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct pmsd_sheet_cache pmsd_sheet_cache;

/* max_bytes 0: nothing is kept. NULL when out of memory. */
pmsd_sheet_cache *pmsd_sheet_cache_new(size_t max_bytes);
void pmsd_sheet_cache_free(pmsd_sheet_cache *c);

/* The rendering of key made at version: a copy of its text (*text, caller frees) and of the
 * patient ids it shows (*patients, new reference). false when there is none or it is older. */
bool pmsd_sheet_cache_get(pmsd_sheet_cache *c, const char *key, const char *version, char **text,
                          size_t *len, json_t **patients);
/* Keeps a rendering (text and patients are copied). */
void pmsd_sheet_cache_put(pmsd_sheet_cache *c, const char *key, const char *version,
                          const char *text, size_t len, const json_t *patients);

#endif
