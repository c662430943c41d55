/* Appointment page cursors: opaque UUID-looking ids for a server-side record of where a page
 * ended ((startAt, id) of its last appointment) and which query it belongs to. A cursor stays
 * valid when the dataset changes between pages: the next page starts strictly after that
 * position. The table keeps the most recent GENTU_CURSOR_CAPACITY cursors (older ones become
 * unknown -> 400). Thread-safe (own mutex).
 */
#ifndef SBX_GENTU_CURSOR_H
#define SBX_GENTU_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "pmsync/time.h"
#include "prng.h"

#define GENTU_CURSOR_CAPACITY 65536

typedef struct gentu_cursor {
    char tenant_id[SBX_UUID_LEN];
    char practitioner_id[SBX_UUID_LEN];
    pms_instant from, to; /* the query window */
    pms_instant last_start;
    char last_id[SBX_UUID_LEN];
} gentu_cursor;

/* Forgets every cursor; new ids come from a stream derived from seed. */
void gentu_cursors_reset(uint64_t seed);
/* Stores a copy; writes its id. False when out of memory. */
bool gentu_cursor_save(const gentu_cursor *cursor, char id_out[SBX_UUID_LEN]);
bool gentu_cursor_load(const char *id, gentu_cursor *out);
void gentu_cursors_free(void);

#endif
