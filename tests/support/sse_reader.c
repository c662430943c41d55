/* The run-sheet event stream read on a thread (libcurl), for tests. */
#include "sse_reader.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_proc.h"

static size_t sse_write(char *data, size_t size, size_t n, void *userp)
{
    tu_sse_reader *r = userp;
    pthread_mutex_lock(&r->lock);
    char *grown = realloc(r->text, r->len + size * n + 1);
    if (grown) {
        memcpy(grown + r->len, data, size * n);
        r->len += size * n;
        grown[r->len] = '\0';
        r->text = grown;
    }
    pthread_mutex_unlock(&r->lock);
    return size * n;
}

static int sse_progress(void *userp, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((tu_sse_reader *)userp)->stop);
}

static void *sse_main(void *arg)
{
    tu_sse_reader *r = arg;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    for (int i = 0; i < 2; i++)
        if (r->header[i][0])
            headers = curl_slist_append(headers, r->header[i]);
    curl_easy_setopt(curl, CURLOPT_URL, r->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sse_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, sse_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

int tu_sse_open(tu_sse_reader *r, const char *base, const char *key, const char *last_event_id)
{
    memset(r, 0, sizeof *r);
    atomic_init(&r->stop, 0);
    pthread_mutex_init(&r->lock, NULL);
    snprintf(r->url, sizeof r->url, "%s/api/run-sheet/events", base);
    snprintf(r->header[0], sizeof r->header[0], "Authorization: Bearer %s", key);
    if (last_event_id)
        snprintf(r->header[1], sizeof r->header[1], "Last-Event-ID: %s", last_event_id);
    return pthread_create(&r->thread, NULL, sse_main, r);
}

bool tu_sse_wait_for(tu_sse_reader *r, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        pthread_mutex_lock(&r->lock);
        bool found = r->text && strstr(r->text, needle);
        pthread_mutex_unlock(&r->lock);
        if (found)
            return true;
        tu_sleep_ms(50);
    }
    return false;
}

void tu_sse_close(tu_sse_reader *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
    free(r->text);
    pthread_mutex_destroy(&r->lock);
}
