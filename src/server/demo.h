/* pmsd --demo: a demo account, keys and sandbox connections (demo.c). */
#ifndef PMSD_DEMO_H
#define PMSD_DEMO_H

#include <stdio.h>

#include "pmsync/crypto.h"
#include "pmsync/store.h"

/* Creates the demo account, an admin and a staff key (printed once on out) and connections to
 * the pms-sandbox at sandbox_url. */
int pmsd_demo_setup(pms_store *st, const pms_keyring *ring, const char *sandbox_url, FILE *out,
                    pms_error *err);

#endif
