/* Structured logging: one JSON object per line on stderr.
 *
 *   pms_log(PMS_LOG_WARN, "sync.record_skipped", "connection", id, "reason", "unknown status",
 * NULL);
 *
 * Fields are string key/value pairs ending with NULL. Never pass patient data (names, phones,
 * emails, birth dates, notes, raw PMS records): log ids and reasons only.
 */
#ifndef PMSYNC_LOG_H
#define PMSYNC_LOG_H

#include <stdio.h>

typedef enum pms_log_level {
    PMS_LOG_DEBUG = 0,
    PMS_LOG_INFO,
    PMS_LOG_WARN,
    PMS_LOG_ERROR,
    PMS_LOG_OFF,
} pms_log_level;

/* Level from PMSYNC_LOG_LEVEL (debug|info|warn|error|off); default info. */
void pms_log_init_from_env(void);
void pms_log_set_level(pms_log_level level);
pms_log_level pms_log_get_level(void);
/* Where lines go (default stderr). Not owned. */
void pms_log_set_stream(FILE *stream);
int pms_log_enabled(pms_log_level level);

void pms_log(pms_log_level level, const char *event, ...) __attribute__((sentinel));

#endif
