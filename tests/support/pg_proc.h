/* A private PostgreSQL cluster for tests and benchmarks (no cmocka): initdb into a new temporary
 * directory, postgres on a Unix socket in it (no TCP: listen_addresses is empty) and a free port
 * number, superuser "pmsync" with trust authentication. Run as the `postgres` system user when
 * started by root (initdb refuses root). A guardian process owns the cluster: when the caller
 * stops it, exits or dies (even by SIGKILL), the guardian shuts the server down (fast) and
 * removes the directory. Binaries: PMSYNC_TEST_PG_BINDIR, else the newest
 * /usr/lib/postgresql/<version>/bin, else initdb's directory on PATH. */
#ifndef PMSYNC_TESTS_PG_PROC_H
#define PMSYNC_TESTS_PG_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct tu_pg {
    pid_t guardian;   /* 0: not running */
    int keepalive;    /* our end of the guardian's pipe: closing it stops the cluster */
    int port;         /* names the socket (.s.PGSQL.<port>) */
    char dir[256];    /* data/, sock/, initdb.log, postgres.log */
    char sock[300];   /* the socket's directory */
    char bindir[256]; /* initdb, postgres */
} tu_pg;

/* Starts a cluster and waits until it answers. 0 on success; otherwise -1 and why. */
int tu_pg_start(tu_pg *pg, char *why, size_t why_len);
/* The location (libpq URI) of database db of the cluster. */
void tu_pg_location(const tu_pg *pg, const char *db, char *out, size_t len);
/* Runs SQL (one or more statements) as the superuser in database db. 0 on success; otherwise -1
 * and why. */
int tu_pg_exec(const tu_pg *pg, const char *db, const char *sql, char *why, size_t why_len);
/* Stops the server (fast shutdown), removes the directory, and waits for both. */
void tu_pg_stop(tu_pg *pg);

#endif
