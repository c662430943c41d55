#include "strmap.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_key(const char *key)
{
    size_t h = (size_t)0xcbf29ce484222325ULL;
    for (; *key != '\0'; key++) {
        h ^= (unsigned char)*key;
        h *= (size_t)0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

void sbx_strmap_init(sbx_strmap *map)
{
    map->slots = NULL;
    map->capacity = 0;
    map->count = 0;
}

void sbx_strmap_free(sbx_strmap *map)
{
    for (size_t i = 0; i < map->capacity; i++)
        free(map->slots[i].key);
    free(map->slots);
    sbx_strmap_init(map);
}

static size_t find_slot(const sbx_strmap *map, const char *key, size_t hash)
{
    size_t mask = map->capacity - 1;
    size_t i = hash & mask;
    while (map->slots[i].key != NULL) {
        if (map->slots[i].hash == hash && strcmp(map->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *sbx_strmap_get(const sbx_strmap *map, const char *key)
{
    if (map->capacity == 0)
        return NULL;
    size_t i = find_slot(map, key, hash_key(key));
    return map->slots[i].key != NULL ? map->slots[i].value : NULL;
}

static bool grow(sbx_strmap *map)
{
    size_t new_capacity = map->capacity == 0 ? 16 : map->capacity * 2;
    sbx_strmap_slot *slots = calloc(new_capacity, sizeof(*slots));
    if (slots == NULL)
        return false;
    size_t mask = new_capacity - 1;
    for (size_t i = 0; i < map->capacity; i++) {
        sbx_strmap_slot *old = &map->slots[i];
        if (old->key == NULL)
            continue;
        size_t j = old->hash & mask;
        while (slots[j].key != NULL)
            j = (j + 1) & mask;
        slots[j] = *old;
    }
    free(map->slots);
    map->slots = slots;
    map->capacity = new_capacity;
    return true;
}

bool sbx_strmap_put(sbx_strmap *map, const char *key, void *value)
{
    if ((map->count + 1) * 4 > map->capacity * 3 && !grow(map))
        return false;
    size_t hash = hash_key(key);
    size_t i = find_slot(map, key, hash);
    if (map->slots[i].key != NULL) {
        map->slots[i].value = value;
        return true;
    }
    char *copy = strdup(key);
    if (copy == NULL)
        return false;
    map->slots[i].key = copy;
    map->slots[i].value = value;
    map->slots[i].hash = hash;
    map->count++;
    return true;
}

void *sbx_strmap_remove(sbx_strmap *map, const char *key)
{
    if (map->capacity == 0)
        return NULL;
    size_t mask = map->capacity - 1;
    size_t i = find_slot(map, key, hash_key(key));
    if (map->slots[i].key == NULL)
        return NULL;
    void *value = map->slots[i].value;
    free(map->slots[i].key);
    map->slots[i].key = NULL;
    map->count--;
    /* Backward-shift: move later members of the probe run into the hole. */
    size_t hole = i;
    size_t j = (i + 1) & mask;
    while (map->slots[j].key != NULL) {
        size_t home = map->slots[j].hash & mask;
        /* Move j into the hole when its home is not in the cyclic range (hole, j]. */
        bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            map->slots[hole] = map->slots[j];
            map->slots[j].key = NULL;
            hole = j;
        }
        j = (j + 1) & mask;
    }
    return value;
}
