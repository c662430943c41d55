/* Who is calling: API keys presented as `Authorization: Bearer KEY` or `X-API-Key: KEY`. */
#ifndef PMSD_AUTH_H
#define PMSD_AUTH_H

#include "server/http.h"

/* Fills req->principal from the request's key. Public routes pass without one. A missing or
 * unknown key is a 401 (with WWW-Authenticate) written into resp, and false. */
bool pmsd_authenticate(pmsd_request *req, pmsd_response *resp);

#endif
