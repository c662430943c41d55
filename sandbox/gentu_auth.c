#include "gentu_auth.h"

#include "tokens.h"

static sbx_token_table tokens = SBX_TOKEN_TABLE_INIT;

int gentu_token_mint(int lifetime_seconds, char out[GENTU_TOKEN_LEN], pms_error *err)
{
    return sbx_token_mint(&tokens, GENTU_TOKEN_LEN - 1, lifetime_seconds, 0, out, err);
}

gentu_token_state gentu_token_check(const char *token)
{
    switch (sbx_token_check(&tokens, token, NULL)) {
    case SBX_TOKEN_VALID:
        return GENTU_TOKEN_VALID;
    case SBX_TOKEN_EXPIRED:
        return GENTU_TOKEN_EXPIRED;
    default:
        return GENTU_TOKEN_UNKNOWN;
    }
}

void gentu_tokens_expire_all(void)
{
    sbx_tokens_expire_all(&tokens);
}

void gentu_tokens_clear(void)
{
    sbx_tokens_clear(&tokens);
}
