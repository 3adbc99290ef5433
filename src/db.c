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

/* conninfo is the user's connection string; user, password and options, when set,
 * override what it says. timeout_ms, when not 0, is the owner's statement timeout. A
 * reader handle (db_open_reader) runs every statement in a read-only transaction that
 * it rolls back (its timeout is in its options). stmt holds the SQL of the statements
 * prepared on this connection, stmt[i] named "vabot_i"; no_stmt is set when the server
 * lost one behind our back (a transaction-pooling proxy does that), and statements then
 * stay unnamed. All owned by the handle; conninfo and password are wiped before they
 * are freed. */
struct db {
    PGconn *conn;
    char *conninfo, *user, *password, *options;
    int reader, timeout_ms;
    char *stmt[STMT_MAX];
    int nstmt, no_stmt;
    char err[512];
};

static void set_err(db *d, const char *what, const char *msg)
{
    size_t n = msg ? strcspn(msg, "\n") : 0;
    snprintf(d->err, sizeof d->err, "db: %s%s%.*s", what, msg ? ": " : "", (int)n, msg ? msg : "");
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

static void forget_statements(db *d)
{
    for (int i = 0; i < d->nstmt; i++)
        free(d->stmt[i]);
    d->nstmt = 0;
}

static int connect_now(db *d)
{
    char setup[96];
    if (d->conn)
        PQfinish(d->conn);
    forget_statements(d);
    /* Without these, a server that does not answer holds a connect for minutes, and a
     * peer gone without a word (a dropped NAT entry) holds a query for as long as the
     * kernel's TCP timeout. They are defaults: placed before "dbname", whose expansion
     * (the user's DATABASE_URL) overrides what it sets; PGCONNECT_TIMEOUT too. */
    const char *keys[] = {"connect_timeout", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "dbname", "user",
                          "password", "options", "application_name", NULL};
    const char *vals[] = {getenv("PGCONNECT_TIMEOUT") ? NULL : DB_CONNECT_TIMEOUT_S, "1", "60",
                          "10", "3", d->conninfo, d->user, d->password, d->options, "vabot",
                          NULL};
    d->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(d->conn) != CONNECTION_OK) {
        set_err(d, "cannot connect", PQerrorMessage(d->conn));
        return -1;
    }
    /* All times are exchanged in UTC whatever the server's default zone is. */
    snprintf(setup, sizeof setup, "SET TimeZone = 'UTC'");
    if (d->timeout_ms > 0)
        snprintf(setup + strlen(setup), sizeof setup - strlen(setup),
                 "; SET statement_timeout = %d", d->timeout_ms);
    PGresult *r = PQexec(d->conn, setup);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        set_err(d, "cannot set up the session", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

static db *open_with(const char *conninfo, const char *user, const char *password,
                     const char *options, int timeout_ms, char *err, size_t errlen)
{
    db *d = xcalloc(1, sizeof *d);
    d->timeout_ms = timeout_ms;
    d->conninfo = xstrdup(conninfo ? conninfo : "");
    d->user = user ? xstrdup(user) : NULL;
    d->password = password ? xstrdup(password) : NULL;
    d->options = options ? xstrdup(options) : NULL;
    if (connect_now(d)) {
        snprintf(err, errlen, "%s", d->err);
        db_close(d);
        return NULL;
    }
    return d;
}

db *db_open(const char *conninfo, int timeout_ms, char *err, size_t errlen)
{
    return open_with(conninfo, NULL, NULL, NULL, timeout_ms, err, errlen);
}

/* The reader's password that `vabot db init` made (sql/roles.sql), read through an
 * owner connection; "" when there is none, as where the server trusts local logins. */
static void reader_password(const char *conninfo, char *out, size_t cap)
{
    char err[512];
    out[0] = '\0';
    db *o = db_open(conninfo, DB_OWNER_TIMEOUT_MS, err, sizeof err);
    if (!o)
        return;
    PGresult *r = PQexec(o->conn, "SELECT password FROM reader_login");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    db_close(o);
}

/* The reader logs in as vabot_reader, and as nobody else. A session that logged in as
 * the owner and switched with SET ROLE could be switched back by the SQL it runs
 * (RESET ROLE, set_config('role', 'none', false)) and then write, or, as a superuser,
 * run COPY ... TO PROGRAM; a session that logged in as the reader can never hold
 * more than the reader's rights. */
db *db_open_reader(const char *conninfo, int timeout_ms, char *err, size_t errlen)
{
    char options[160], password[128];
    snprintf(options, sizeof options,
             "-c default_transaction_read_only=on -c statement_timeout=%d"
             " -c plan_cache_mode=force_custom_plan", timeout_ms);
    reader_password(conninfo, password, sizeof password);
    /* The reader's timeout is in its options: a SET would be rolled back with its
     * statements' transactions, and could be undone by them. */
    db *d = open_with(conninfo, DB_READER_ROLE, password[0] ? password : NULL, options, 0,
                      err, errlen);
    for (volatile char *p = password; p < password + sizeof password; p++)
        *p = 0;
    if (d) {
        d->reader = 1;
        return d;
    }
    size_t n = strlen(err);
    snprintf(err + n, errlen - n, " (the query path logs in as %s only: run `vabot db init`, "
             "and let that role log in, see sql/roles.sql)", DB_READER_ROLE);
    return NULL;
}

void db_close(db *d)
{
    if (!d)
        return;
    if (d->conn)
        PQfinish(d->conn);
    wipe_free(d->conninfo); /* the user's string: it may hold the owner's password */
    free(d->user);
    wipe_free(d->password);
    free(d->options);
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

/* Runs a script or statement(s) through the simple query protocol. */
static int db_exec(db *d, const char *sql)
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

static int db_exec_file(db *d, const char *path)
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

/* One statement of a reader: BEGIN READ ONLY, the statement, ROLLBACK, sent as one
 * pipeline (one round trip). Whatever the statement changes in its session (a
 * set_config of default_transaction_read_only, statement_timeout, search_path or role,
 * a temporary table) is rolled back with it, so no statement can prepare the ground
 * for the next one, and nothing it does is ever committed. The statement itself runs
 * prepared when it can (name non-empty). Returns the statement's result, or the first
 * error, or NULL when nothing could be sent. */
static PGresult *exec_read_only(PGconn *c, const char *name, const char *sql, int nparams,
                                const char *const *params)
{
    PGresult *keep = NULL, *r;
    int sent = PQenterPipelineMode(c) &&
               PQsendQueryParams(c, "BEGIN READ ONLY", 0, NULL, NULL, NULL, NULL, 0) &&
               (name[0] ? PQsendQueryPrepared(c, name, nparams, params, NULL, NULL, 0)
                        : PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0)) &&
               PQsendQueryParams(c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) &&
               PQpipelineSync(c);
    /* Each statement's results end with a NULL; the sync's result comes last. */
    for (int stmt = 0; sent && stmt < 4;) {
        if (!(r = PQgetResult(c))) {
            if (PQstatus(c) != CONNECTION_OK)
                break;
            stmt++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (!keep && (stmt == 1 || st == PGRES_FATAL_ERROR))
            keep = r;
        else
            PQclear(r);
    }
    PQexitPipelineMode(c);
    /* An error skips the pipeline's ROLLBACK and leaves the transaction open. */
    if (PQtransactionStatus(c) == PQTRANS_INERROR || PQtransactionStatus(c) == PQTRANS_INTRANS)
        PQclear(PQexec(c, "ROLLBACK"));
    return keep;
}

/* Runs one statement, prepared once per connection where possible; a reader's in its
 * rolled-back read-only transaction. A statement the server lost (26000: a pooler
 * between us) is run again unnamed, and statements stay unnamed from then on. */
static PGresult *run(db *d, const char *sql, int nparams, const char *const *params)
{
    char name[32] = "";
    if (!statement(d, sql, nparams, name, sizeof name))
        name[0] = '\0';
    PGresult *r = d->reader ? exec_read_only(d->conn, name, sql, nparams, params)
              : name[0]    ? PQexecPrepared(d->conn, name, nparams, params, NULL, NULL, 0)
                           : PQexecParams(d->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!name[0] || !state || strcmp(state, "26000"))
        return r;
    PQclear(r);
    d->no_stmt = 1;
    return d->reader ? exec_read_only(d->conn, "", sql, nparams, params)
                     : PQexecParams(d->conn, sql, nparams, NULL, params, NULL, NULL, 0);
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
            set_err(d, lost ? "connection lost" : "query failed",
                    r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
        PQclear(r);
        if (!lost)
            return -2;
    }
    return -1;
}

/* Sets the reader's password that sql/roles.sql keeps in reader_login. The server is
 * sent the SCRAM verifier that libpq computes here, never the password: whatever the
 * server logs (log_statement, an error's statement), the password is not in it. */
static int set_reader_password(db *d)
{
    PGresult *r = PQexec(d->conn, "SELECT password FROM reader_login LIMIT 1");
    char *verifier = NULL, *literal = NULL;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        set_err(d, "cannot read the reader's password", PQresultErrorMessage(r));
    } else {
        char *pw = PQgetvalue(r, 0, 0);
        verifier = PQencryptPasswordConn(d->conn, pw, DB_READER_ROLE, "scram-sha-256");
        memset(pw, 0, strlen(pw));
        if (!verifier)
            set_err(d, "cannot encrypt the reader's password", PQerrorMessage(d->conn));
    }
    PQclear(r);
    if (verifier)
        literal = PQescapeLiteral(d->conn, verifier, strlen(verifier));
    int rc = -1;
    if (literal) {
        struct buf sql = BUF_INIT;
        buf_addf(&sql, "ALTER ROLE " DB_READER_ROLE " PASSWORD %s", literal);
        r = PQexec(d->conn, buf_str(&sql));
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (rc)
            set_err(d, "cannot set the password of " DB_READER_ROLE, PQresultErrorMessage(r));
        PQclear(r);
        buf_release(&sql);
    }
    PQfreemem(verifier);
    PQfreemem(literal);
    return rc;
}

int db_init_schema(db *d, const char *schema_path, const char *roles_path)
{
    /* The scripts are idempotent: "already exists, skipping" notices are no news. */
    if (db_exec(d, "SET client_min_messages = warning") || db_exec_file(d, schema_path))
        return -1;
    if (roles_path && (db_exec_file(d, roles_path) || set_reader_password(d)))
        fprintf(stderr, "vabot: warning: %s; without role %s, questions cannot be answered\n",
                d->err, DB_READER_ROLE);
    return 0;
}
