/* pms-sandbox: simulators of practice management system APIs for demos, integration tests and
 * benchmarks (docs/sandbox.md). Listens on 127.0.0.1 only; stops cleanly on SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>

#include "control.h"
#include "faults.h"
#include "options.h"
#include "pms.h"
#include "pmsync/log.h"
#include "pmsync/tz.h"
#include "server.h"
#include "stats.h"

/* Safe for simulators that never started. */
static void stop_simulators(void)
{
    for (const sbx_pms *const *p = sbx_pms_list; *p != NULL; p++)
        (*p)->stop();
}

int main(int argc, char **argv)
{
    pms_log_init_from_env();
    sbx_config cfg;
    sbx_options_defaults(&cfg);
    bool help = false;
    pms_error err;
    if (sbx_options_parse(argc, argv, &cfg, &help, &err) != PMS_OK) {
        fprintf(stderr, "pms-sandbox: %s\n", err.message);
        sbx_options_usage(stderr);
        return 2;
    }
    if (help) {
        sbx_options_usage(stdout);
        return 0;
    }

    /* Every thread started from here on inherits the blocked set; main waits for them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 1;
    sbx_faults_init(&cfg.faults);
    sbx_control_init(&cfg);
    if (sbx_stats_init((size_t)cfg.request_log, &err) != PMS_OK) {
        fprintf(stderr, "pms-sandbox: %s\n", err.message);
        return 1;
    }
    for (const sbx_pms *const *p = sbx_pms_list; *p != NULL; p++) {
        if ((*p)->start(&cfg, &err) != PMS_OK) {
            fprintf(stderr, "pms-sandbox: %s: %s\n", (*p)->name, err.message);
            goto out;
        }
    }
    if (sbx_server_start(&cfg, &err) != PMS_OK) {
        fprintf(stderr, "pms-sandbox: %s\n", err.message);
        goto out;
    }
    printf("pms-sandbox listening on %s\n", sbx_server_base_url());
    fflush(stdout);

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    pms_log(PMS_LOG_INFO, "sandbox.stopping", "signal", signal_number == SIGINT ? "INT" : "TERM",
            NULL);
    sbx_server_stop();
    exit_code = 0;
out:
    stop_simulators();
    sbx_stats_cleanup();
    pms_tz_cleanup();
    return exit_code;
}
