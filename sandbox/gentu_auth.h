/* Gentu access tokens: minted by the token endpoint, random, valid for the lifetime in force
 * when minted (server clock). No refresh tokens exist. Thread-safe (own mutex).
 */
#ifndef SBX_GENTU_AUTH_H
#define SBX_GENTU_AUTH_H

#include "pmsync/error.h"

typedef enum gentu_token_state {
    GENTU_TOKEN_VALID = 0,
    GENTU_TOKEN_UNKNOWN,
    GENTU_TOKEN_EXPIRED,
} gentu_token_state;

#define GENTU_TOKEN_LEN      29   /* 28 characters and NUL, like Apigee's */
#define GENTU_TOKEN_LIFETIME 3599 /* seconds, unless --token-lifetime says otherwise */

int gentu_token_mint(int lifetime_seconds, char out[GENTU_TOKEN_LEN], pms_error *err);
gentu_token_state gentu_token_check(const char *token);
/* Every token so far expires now (a token that expires mid-sweep). */
void gentu_tokens_expire_all(void);
/* Forgets every token (dataset reset) and frees the table. */
void gentu_tokens_clear(void);

#endif
