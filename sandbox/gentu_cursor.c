#include "gentu_cursor.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct cursor_slot {
    char id[SBX_UUID_LEN]; /* "" when unused */
    gentu_cursor cursor;
} cursor_slot;

static pthread_mutex_t cursor_lock = PTHREAD_MUTEX_INITIALIZER;
static cursor_slot *slots; /* ring of GENTU_CURSOR_CAPACITY, allocated on first use */
static size_t next_slot;
static sbx_strmap by_id; /* id -> cursor_slot* */
static sbx_prng id_prng;
static uint64_t generation; /* so ids differ after every reset */

void gentu_cursors_reset(uint64_t seed)
{
    pthread_mutex_lock(&cursor_lock);
    sbx_strmap_free(&by_id);
    free(slots);
    slots = NULL;
    next_slot = 0;
    sbx_prng_derive(&id_prng, seed, 0xc0, 0x5e, ++generation);
    pthread_mutex_unlock(&cursor_lock);
}

bool gentu_cursor_save(const gentu_cursor *cursor, char id_out[SBX_UUID_LEN])
{
    bool ok = false;
    pthread_mutex_lock(&cursor_lock);
    if (slots == NULL && (slots = calloc(GENTU_CURSOR_CAPACITY, sizeof(*slots))) == NULL)
        goto out;
    cursor_slot *slot = &slots[next_slot];
    if (slot->id[0] != '\0')
        sbx_strmap_remove(&by_id, slot->id);
    do {
        sbx_prng_uuid(&id_prng, slot->id);
    } while (sbx_strmap_get(&by_id, slot->id) != NULL);
    slot->cursor = *cursor;
    if (!sbx_strmap_put(&by_id, slot->id, slot)) {
        slot->id[0] = '\0';
        goto out;
    }
    next_slot = (next_slot + 1) % GENTU_CURSOR_CAPACITY;
    memcpy(id_out, slot->id, SBX_UUID_LEN);
    ok = true;
out:
    pthread_mutex_unlock(&cursor_lock);
    return ok;
}

bool gentu_cursor_load(const char *id, gentu_cursor *out)
{
    pthread_mutex_lock(&cursor_lock);
    cursor_slot *slot = sbx_strmap_get(&by_id, id);
    if (slot != NULL)
        *out = slot->cursor;
    pthread_mutex_unlock(&cursor_lock);
    return slot != NULL;
}

void gentu_cursors_free(void)
{
    pthread_mutex_lock(&cursor_lock);
    sbx_strmap_free(&by_id);
    free(slots);
    slots = NULL;
    pthread_mutex_unlock(&cursor_lock);
}
