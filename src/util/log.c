#include "pmsync/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/time.h"

static atomic_int log_level = PMS_LOG_INFO;
static FILE *log_stream; /* NULL means stderr */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_name(pms_log_level level)
{
    switch (level) {
    case PMS_LOG_DEBUG:
        return "debug";
    case PMS_LOG_INFO:
        return "info";
    case PMS_LOG_WARN:
        return "warn";
    case PMS_LOG_ERROR:
        return "error";
    case PMS_LOG_OFF:
        break;
    }
    return "off";
}

void pms_log_init_from_env(void)
{
    const char *value = getenv("PMSYNC_LOG_LEVEL");
    if (value == NULL)
        return;
    for (int l = PMS_LOG_DEBUG; l <= PMS_LOG_OFF; l++) {
        if (strcmp(value, level_name((pms_log_level)l)) == 0) {
            pms_log_set_level((pms_log_level)l);
            return;
        }
    }
}

void pms_log_set_level(pms_log_level level)
{
    atomic_store(&log_level, (int)level);
}

pms_log_level pms_log_get_level(void)
{
    return (pms_log_level)atomic_load(&log_level);
}

void pms_log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&log_lock);
    log_stream = stream;
    pthread_mutex_unlock(&log_lock);
}

int pms_log_enabled(pms_log_level level)
{
    return level != PMS_LOG_OFF && (int)level >= atomic_load(&log_level);
}

void pms_log(pms_log_level level, const char *event, ...)
{
    if (!pms_log_enabled(level))
        return;
    json_t *line = json_object();
    if (line == NULL)
        return;
    char ts[PMS_TIME_BUFLEN];
    pms_format_utc(pms_now(), ts);
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_name(level)));
    json_object_set_new(line, "event", json_string(event));

    va_list ap;
    va_start(ap, event);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL)
            break;
        const char *value = va_arg(ap, const char *);
        /* json_string rejects invalid UTF-8; keep the line and mark the value instead. */
        json_t *v = value ? json_string(value) : json_null();
        json_object_set_new(line, key, v ? v : json_string("<invalid utf-8>"));
    }
    va_end(ap);

    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (text == NULL)
        return;
    pthread_mutex_lock(&log_lock);
    FILE *out = log_stream ? log_stream : stderr;
    fputs(text, out);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
    free(text);
}
