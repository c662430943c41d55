/* Who is calling: an API key presented as `Authorization: Bearer KEY` or `X-API-Key: KEY`, or
 * else a browser session's cookie (pmsd_session) with, on changes, its CSRF token. */
#ifndef PMSD_AUTH_H
#define PMSD_AUTH_H

#include "pmsync/store.h"
#include "server/http.h"

#define PMSD_SESSION_COOKIE      "pmsd_session"
#define PMSD_CSRF_HEADER         "X-CSRF-Token"
#define PMSD_SIGNIN_CLIENTS      4096 /* client addresses the sign-in throttle remembers */
#define PMSD_SIGNIN_MAX_FAILURES 10
#define PMSD_SIGNIN_WINDOW_MS    (5 * 60 * 1000)

/* Fills req->principal from the request's key, else its session cookie. Public routes pass
 * without either. A missing or unknown key or session is a 401 (with WWW-Authenticate) written
 * into resp, a change (POST, PUT, PATCH, DELETE) by cookie without the session's CSRF token or
 * from another origin a 403 csrf_failed, and false. */
bool pmsd_authenticate(pmsd_request *req, pmsd_response *resp);

/* A request's Origin header, when it has one, is this server as the browser reached it:
 * "http://<Host>" or "https://<Host>". True without an Origin header. */
bool pmsd_same_origin(const pmsd_request *req);

/* The principal a browser session stands for. */
void pmsd_principal_from_session(pmsd_principal *p, const pms_web_session *ws);

#endif
