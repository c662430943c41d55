/* The pms-sandbox command line (every flag is listed in docs/sandbox.md). */
#ifndef SBX_OPTIONS_H
#define SBX_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "pmsync/error.h"

/* Fills *cfg with the defaults. */
void sbx_options_defaults(sbx_config *cfg);
/* Parses argv over the defaults. --large applies its preset before every other flag, whatever
 * their order. *help is set when --help was given (nothing else is parsed then). */
int sbx_options_parse(int argc, char **argv, sbx_config *cfg, bool *help, pms_error *err);
void sbx_options_usage(FILE *out);

#endif
