/* Serving the web UI: embedded files, or files from static_dir (development). */
#include "server/static_files.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/app.h"

/* The UI only loads its own scripts and styles, talks only to pmsd, and is never framed. */
static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
                          "object-src 'none'; base-uri 'none'; form-action 'self'; "
                          "frame-ancestors 'none'";

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static void common_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (strncmp(type, "text/html", 9) == 0) {
        MHD_add_response_header(r, "Content-Security-Policy", csp);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    }
}

static int queue(struct MHD_Connection *conn, struct MHD_Response *r, int status, int *result)
{
    if (r == NULL) {
        *result = MHD_NO;
        return 500;
    }
    *result = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return status;
}

static int not_found(struct MHD_Connection *conn, int *result)
{
    static const char body[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such file\"}}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r)
        common_headers(r, "application/json");
    return queue(conn, r, 404, result);
}

/* A file under static_dir: relative path without "..", "." or hidden parts, a regular file. */
static int serve_from_dir(const char *dir, const char *rel, struct MHD_Connection *conn,
                          int *result)
{
    for (const char *p = rel; *p; p++)
        if ((p == rel || p[-1] == '/') && *p == '.')
            return not_found(conn, result);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
        return not_found(conn, result);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return not_found(conn, result);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)sb.st_size, fd); /* owns fd */
    if (r) {
        common_headers(r, type_of(path));
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    } else {
        close(fd);
    }
    return queue(conn, r, 200, result);
}

bool pmsd_static_serve(pmsd_app *app, struct MHD_Connection *conn, const char *method,
                       const char *url, int *status, int *result)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return false;
    const char *path = strcmp(url, "/") == 0 ? "/ui/index.html" : url;
    if (strncmp(path, "/ui/", 4) != 0)
        return false;
    if (app->cfg.static_dir) {
        *status = serve_from_dir(app->cfg.static_dir, path + 4, conn, result);
        return true;
    }
    const pmsd_static_file *f = NULL;
    for (size_t i = 0; i < pmsd_ui_file_count && f == NULL; i++)
        if (strcmp(pmsd_ui_files[i].path, path) == 0)
            f = &pmsd_ui_files[i];
    if (f == NULL) {
        *status = not_found(conn, result);
        return true;
    }
    /* Revalidated on each load (no-cache) and answered 304 while unchanged. */
    const char *if_none =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool same = if_none && strstr(if_none, f->etag) != NULL;
    struct MHD_Response *r =
        same ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
             : MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (r) {
        common_headers(r, f->content_type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    *status = queue(conn, r, same ? 304 : 200, result);
    return true;
}
