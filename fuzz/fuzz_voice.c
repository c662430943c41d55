/* The voice endpoint without a database: "X-Signature\nX-Timestamp\nAuthorization\nbody".
 * The headers go through the bearer and HMAC checks (the secret and the clock are fixed, so
 * seeds can carry valid signatures), and the body through the tool-calls parsing the handler
 * does before and after authentication. */
#include <string.h>

#include "fuzz_common.h"
#include "server/voice.h"

#define FUZZ_SECRET "fuzz-voice-hmac-secret-0123456789"
#define FUZZ_NOW    1775340000000 /* 2026-04-04T22:00:00Z; seeds sign 1775340000 */

/* The next line of the input (NUL-terminated in place), or NULL when there is none. */
static char *next_line(char **cursor, char *end)
{
    if (*cursor >= end)
        return NULL;
    char *line = *cursor;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL)
        return NULL;
    *nl = '\0';
    *cursor = nl + 1;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size, FUZZ_MAX_INPUT);
    if (text == NULL)
        return 0;
    char *cursor = text, *end = text + size;
    char *sig = next_line(&cursor, end);
    char *ts = next_line(&cursor, end);
    char *auth = next_line(&cursor, end);
    const char *body = cursor;
    size_t body_len = (size_t)(end - cursor);

    char lower[65];
    (void)pmsd_voice_hmac_valid(sig && sig[0] ? sig : NULL, ts, body, body_len, FUZZ_SECRET,
                                strlen(FUZZ_SECRET), FUZZ_NOW, lower);
    const char *sent = pmsd_voice_bearer_sent(NULL, auth);
    (void)pmsd_voice_secret_matches(sent, FUZZ_SECRET, strlen(FUZZ_SECRET));
    (void)pmsd_voice_secret_matches(pmsd_voice_bearer_sent(auth, NULL), FUZZ_SECRET,
                                    strlen(FUZZ_SECRET));

    /* The handler parses the body as it came (not necessarily an object). */
    json_t *parsed = json_loadb(body, body_len, 0, NULL);
    const json_t *msg, *calls;
    if (pmsd_voice_tool_calls(parsed, &msg, &calls)) {
        char clinic[64];
        (void)pmsd_voice_clinic(calls, ts, clinic);
        if (strnlen(clinic, sizeof clinic) == sizeof clinic)
            abort();
        size_t i;
        json_t *item;
        json_array_foreach(calls, i, item)
        {
            const char *name, *tool_call_id;
            json_t *args;
            pmsd_voice_call_of(item, &name, &args, &tool_call_id);
            if (!json_is_object(args))
                abort();
            json_decref(args);
        }
    }
    json_decref(parsed);
    free(text);
    return 0;
}
