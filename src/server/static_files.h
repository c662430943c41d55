/* The web UI's files, embedded in pmsd at build time (tools/embed_dir.py over ui/), or read from
 * `static_dir` while developing. Served under /ui/ and at / (index.html). */
#ifndef PMSD_STATIC_FILES_H
#define PMSD_STATIC_FILES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pmsd_static_file {
    const char *path; /* "/ui/app.js" */
    const unsigned char *data;
    size_t len;
    const char *content_type;
    const char *etag; /* quoted */
} pmsd_static_file;

extern const pmsd_static_file pmsd_ui_files[];
extern const size_t pmsd_ui_file_count;

struct MHD_Connection;
typedef struct pmsd_app pmsd_app;

/* Whether a GET/HEAD of url is a UI file (or / ); if so, queues the answer (200, 304 or 404) on
 * conn and returns true with *status. */
bool pmsd_static_serve(pmsd_app *app, struct MHD_Connection *conn, const char *method,
                       const char *url, int *status, int *result);

#endif
