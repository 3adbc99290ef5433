#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* Prepared statements: the query path sends a few SQL texts again and again (one per
 * shape of spec), so db_query_value() prepares each once per connection and from then on
 * only binds and executes it, saving the parse and analysis an unnamed statement repeats
 * every time (bench/results.md). The reader keeps custom plans (plan_cache_mode), so
 * each execution is still planned for its values: a generic plan could not use a
 * partial index. The cache empties on reconnect. */
#define STMT_MAX 64

/* conninfo is the user's connection string; user and options, when set, override
 * what it says; on_connect runs after every (re)connect. stmt holds the SQL of the
 * statements prepared on this connection, stmt[i] named "vabot_i"; no_stmt is set
 * when the server lost one behind our back (a transaction-pooling proxy does that),
 * and statements then stay unnamed. All owned by the handle. */
struct db {
    PGconn *conn;
    char *conninfo, *user, *options, *on_connect;
    char *stmt[STMT_MAX];
    int nstmt, no_stmt;
    char err[512];
};

static void set_err(db *d, const char *what, const char *msg)
{
    size_t n = msg ? strcspn(msg, "\n") : 0;
    snprintf(d->err, sizeof d->err, "db: %s%s%.*s", what, msg ? ": " : "", (int)n, msg ? msg : "");
}

static void forget_statements(db *d)
{
    for (int i = 0; i < d->nstmt; i++)
        free(d->stmt[i]);
    d->nstmt = 0;
}

static int connect_now(db *d)
{
    if (d->conn)
        PQfinish(d->conn);
    forget_statements(d);
    const char *keys[] = {"dbname", "user", "options", "application_name", NULL};
    const char *vals[] = {d->conninfo, d->user, d->options, "vabot", NULL};
    d->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(d->conn) != CONNECTION_OK) {
        set_err(d, "cannot connect", PQerrorMessage(d->conn));
        return -1;
    }
    /* All times are exchanged in UTC whatever the server's default zone is. */
    struct buf sql = BUF_INIT;
    buf_adds(&sql, "SET TimeZone = 'UTC'");
    if (d->on_connect)
        buf_addf(&sql, "; %s", d->on_connect);
    int rc = 0;
    for (PGresult *r = PQexec(d->conn, buf_str(&sql)); r; r = PQgetResult(d->conn)) {
        if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
            set_err(d, "cannot set up the session", PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
    }
    buf_release(&sql);
    return rc;
}

static db *open_with(const char *conninfo, const char *user, const char *options,
                     const char *on_connect, char *err, size_t errlen)
{
    db *d = xcalloc(1, sizeof *d);
    d->conninfo = xstrdup(conninfo ? conninfo : "");
    d->user = user ? xstrdup(user) : NULL;
    d->options = options ? xstrdup(options) : NULL;
    d->on_connect = on_connect ? xstrdup(on_connect) : NULL;
    if (connect_now(d)) {
        snprintf(err, errlen, "%s", d->err);
        db_close(d);
        return NULL;
    }
    return d;
}

db *db_open(const char *conninfo, char *err, size_t errlen)
{
    return open_with(conninfo, NULL, NULL, NULL, err, errlen);
}

/* The reader logs in as vabot_reader where the server lets it (trust on a local
 * socket, or a password in PGPASSFILE); otherwise it keeps the owner's login and
 * switches role after every connect. Either way every transaction is read-only and
 * bounded by statement_timeout, and the role itself has no right to write. */
db *db_open_reader(const char *conninfo, int timeout_ms, char *err, size_t errlen)
{
    char options[160], on_connect[200];
    snprintf(options, sizeof options,
             "-c default_transaction_read_only=on -c statement_timeout=%d"
             " -c plan_cache_mode=force_custom_plan", timeout_ms);
    db *d = open_with(conninfo, DB_READER_ROLE, options, NULL, err, errlen);
    if (d)
        return d;
    snprintf(on_connect, sizeof on_connect, "SET ROLE %s", DB_READER_ROLE);
    d = open_with(conninfo, NULL, options, on_connect, err, errlen);
    if (!d)
        snprintf(err + strlen(err), errlen - strlen(err), " (run `vabot db init` first)");
    return d;
}

void db_close(db *d)
{
    if (!d)
        return;
    if (d->conn)
        PQfinish(d->conn);
    free(d->conninfo);
    free(d->user);
    free(d->options);
    free(d->on_connect);
    forget_statements(d);
    free(d);
}

const char *db_errmsg(const db *d)
{
    return d ? d->err : "db: no connection";
}

PGconn *db_conn(db *d)
{
    return d->conn;
}

int db_ensure(db *d)
{
    if (d->conn && PQstatus(d->conn) == CONNECTION_OK)
        return 0;
    return connect_now(d);
}

int db_exec(db *d, const char *sql)
{
    if (db_ensure(d))
        return -1;
    PGresult *r = PQexec(d->conn, sql);
    int rc = 0;
    for (; r; r = PQgetResult(d->conn)) {
        ExecStatusType st = PQresultStatus(r);
        if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            set_err(d, "statement failed", PQresultErrorMessage(r));
            rc = -2;
        }
        PQclear(r);
    }
    return rc;
}

int db_exec_file(db *d, const char *path)
{
    struct buf b = BUF_INIT;
    char chunk[8192];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(d->err, sizeof d->err, "db: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    int rc = db_exec(d, buf_str(&b));
    buf_release(&b);
    return rc;
}

/* The name of sql's prepared statement, preparing it on first use; 0 when it runs
 * unnamed instead (statements off, or the server would not prepare it: running it
 * unnamed then reports why). */
static int statement(db *d, const char *sql, int nparams, char *name, size_t cap)
{
    int i = 0;
    if (d->no_stmt)
        return 0;
    while (i < d->nstmt && strcmp(d->stmt[i], sql))
        i++;
    snprintf(name, cap, "vabot_%d", i);
    if (i < d->nstmt)
        return 1;
    if (d->nstmt == STMT_MAX) {
        PQclear(PQexec(d->conn, "DEALLOCATE ALL"));
        forget_statements(d);
        snprintf(name, cap, "vabot_0");
    }
    PGresult *r = PQprepare(d->conn, name, sql, nparams, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && !strcmp(state, "42P05")) /* "already exists": not ours to manage */
        d->no_stmt = 1;
    PQclear(r);
    if (ok)
        d->stmt[d->nstmt++] = xstrdup(sql);
    return ok;
}

static PGresult *run(db *d, const char *sql, int nparams, const char *const *params)
{
    char name[32];
    if (!statement(d, sql, nparams, name, sizeof name))
        return PQexecParams(d->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    PGresult *r = PQexecPrepared(d->conn, name, nparams, params, NULL, NULL, 0);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!state || strcmp(state, "26000")) /* 26000: no such prepared statement */
        return r;
    PQclear(r);
    d->no_stmt = 1;
    return PQexecParams(d->conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

int db_query_value(db *d, const char *sql, int nparams, const char *const *params, char *out,
                   size_t outlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (db_ensure(d))
            return -1;
        PGresult *r = run(d, sql, nparams, params);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 1) {
            snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
            PQclear(r);
            return 0;
        }
        int lost = PQstatus(d->conn) != CONNECTION_OK;
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            set_err(d, "query did not return exactly one value", NULL);
        else
            set_err(d, lost ? "connection lost" : "query failed", PQresultErrorMessage(r));
        PQclear(r);
        if (!lost)
            return -2;
    }
    return -1;
}

int db_init_schema(db *d, const char *schema_path, const char *roles_path)
{
    if (db_exec_file(d, schema_path))
        return -1;
    if (roles_path && db_exec_file(d, roles_path))
        fprintf(stderr, "vabot: warning: %s; the query path will use the owner's role\n",
                d->err);
    return 0;
}
