/* A string-keyed hash map (open addressing, linear probing, backward-shift deletion).
 *
 * Keys are copied and owned by the map; values are borrowed pointers the caller manages.
 * Not thread-safe: guard it with the lock of the structure that owns it.
 */
#ifndef SBX_STRMAP_H
#define SBX_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sbx_strmap_slot {
    char *key; /* NULL = empty */
    void *value;
    size_t hash;
} sbx_strmap_slot;

typedef struct sbx_strmap {
    sbx_strmap_slot *slots;
    size_t capacity; /* power of two, or 0 */
    size_t count;
} sbx_strmap;

void sbx_strmap_init(sbx_strmap *map);
/* Frees the keys and the table (not the values). */
void sbx_strmap_free(sbx_strmap *map);
void *sbx_strmap_get(const sbx_strmap *map, const char *key);
/* Inserts or replaces; returns false only when out of memory. */
bool sbx_strmap_put(sbx_strmap *map, const char *key, void *value);
/* Removes the key; returns its value, or NULL when absent. */
void *sbx_strmap_remove(sbx_strmap *map, const char *key);

#endif
