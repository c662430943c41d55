/* Access tokens shared by the simulators: random opaque strings, each valid until an expiry on
 * the server clock and owned by an integer the simulator chooses (a practice index, or 0).
 *
 * Each simulator keeps its own table (SBX_TOKEN_TABLE_INIT). Thread-safe: every table has its
 * own mutex. Expired tokens are kept for an hour, so callers can tell "expired" from "unknown".
 */
#ifndef SBX_TOKENS_H
#define SBX_TOKENS_H

#include <pthread.h>
#include <stddef.h>

#include "pmsync/error.h"
#include "strmap.h"

typedef enum sbx_token_state {
    SBX_TOKEN_VALID = 0,
    SBX_TOKEN_UNKNOWN,
    SBX_TOKEN_EXPIRED,
} sbx_token_state;

#define SBX_TOKEN_MAX 64 /* longest token, without the NUL */

typedef struct sbx_token_table {
    pthread_mutex_t lock;
    sbx_strmap tokens; /* token -> malloc'd entry */
} sbx_token_table;

#define SBX_TOKEN_TABLE_INIT                                                                       \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER,                                                                 \
        {                                                                                          \
            NULL, 0, 0                                                                             \
        }                                                                                          \
    }

/* Mints a token of len (1..SBX_TOKEN_MAX) letters and digits into out (len + 1 bytes). */
int sbx_token_mint(sbx_token_table *table, size_t len, int lifetime_seconds, int owner, char *out,
                   pms_error *err);
/* The token's state; *owner (when not NULL) gets its owner when it is known. */
sbx_token_state sbx_token_check(sbx_token_table *table, const char *token, int *owner);
/* Every token so far expires now. */
void sbx_tokens_expire_all(sbx_token_table *table);
/* Forgets every token and frees the table's memory. */
void sbx_tokens_clear(sbx_token_table *table);

#endif
