/* The Sikka API v4 simulator, served under /sikka/v4 (pms-api-notes §5).
 *
 * sikka.c holds the live dataset behind a mutex, the settings for the behaviours the notes
 * leave open (and the test controls: SPU offline, Data-Insert in progress, writeback delay and
 * failures, the advertised rate window), and the request keys; sikka_api.c answers the reads,
 * sikka_write.c the writebacks and sikka_control.c the /_sandbox/sikka controls. */
#ifndef SBX_SIKKA_H
#define SBX_SIKKA_H

#include "http.h"
#include "pms.h"
#include "sikka_data.h"
#include "tokens.h"

extern const sbx_pms sbx_sikka;

#define SK_KEY_LIFETIME 86400 /* seconds: a request key lasts 24 hours */

typedef struct sk_settings {
    bool spu_offline;             /* writes with check_spu answer 412 API2017 */
    bool data_insert_in_progress; /* Data-Insert: in progress on data endpoints */
    bool empty_204;               /* an empty list is 204 API2005 without a body */
    int writeback_delay_ms;       /* until the SPU completes a writeback */
    double writeback_failure_rate;
    int writeback_fail_next; /* the next N writebacks fail */
    int rate_limit;          /* requests per window and app (X-Rate-Limit-Limit) */
    int rate_window;         /* seconds */
} sk_settings;

/* The live world, with the lock held. Always pair with sk_unlock. Completes due writebacks. */
sk_world *sk_lock(void);
void sk_unlock(void);
/* Read and change with the lock held. */
sk_settings *sk_settings_get(void);
json_t *sk_settings_json(const sk_settings *s);
int sk_settings_update(sk_settings *s, const json_t *patch, pms_error *err);
/* Request keys (thread-safe on their own); the owner is the practice index. */
sbx_token_table *sk_request_keys(void);

/* Vendor API (sikka_api.c). */
void sk_api_route(const sbx_request *req, sbx_route_info *info);
void sk_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp);
void sk_api_fault(int status, const sbx_route_info *info, sbx_response *resp);
/* {"http_code":"400","http_code_desc":..,"error_code":..,"short_message":..,"long_message":..}
 */
void sk_respond_error(sbx_response *resp, int status, const char *code, const char *short_message,
                      const char *long_message);
/* The list envelope over items (taken), paged by page index; 204 when empty and so set. */
void sk_respond_list(const sbx_request *req, sbx_response *resp, json_t *items);
/* An appointment as the API serves it (malformed when the fault says so). */
json_t *sk_appt_json(const sbx_request *req, const sk_practice *p, const sk_appt *a, bool all);
const char *sk_malformed_kind(unsigned variant);
void sk_format_date(pms_date day, char out[32]); /* "2020-09-29T00:00:00" */

/* Writebacks (sikka_write.c); called with the lock held. */
void sk_write_book(const sbx_request *req, sk_world *w, sk_practice *p, sbx_response *resp);
void sk_write_change(const sbx_request *req, sk_world *w, sk_practice *p, const char *sr_no,
                     sbx_response *resp);
void sk_write_status(const sbx_request *req, sk_world *w, sk_practice *p, sbx_response *resp);
void sk_write_list(const sbx_request *req, sk_world *w, sk_practice *p, sbx_response *resp);
/* Completes every writeback that is due. */
void sk_writebacks_settle(sk_world *w, const sk_settings *s);
json_t *sk_writeback_json(const sk_world *w, const sk_writeback *wb);

/* Controls under /_sandbox/sikka (sikka_control.c). */
void sk_control_handle(const sbx_request *req, const char *rest, sbx_response *resp);

#endif
