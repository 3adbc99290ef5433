/* db.h: PostgreSQL connections (libpq).
 *
 * A db handle wraps one PGconn and remembers its conninfo, so that a handle whose
 * server went away reconnects on the next call. Two kinds are opened:
 *   db_open()        the owner connection: schema, loading, bookkeeping tables; its
 *                    statement timeout is the caller's (0 for none: a load takes
 *                    minutes; DB_OWNER_TIMEOUT_MS for the bookkeeping of answers);
 *   db_open_reader() the query path: logs in as role vabot_reader (SELECT on the two
 *                    data tables only; never the owner's login with SET ROLE), runs
 *                    each statement in a read-only transaction that it rolls back, under
 *                    a statement timeout.
 * Ownership: db_open* copy their arguments; db_close() frees (NULL is fine).
 * Errors: functions return 0 or a negative value; db_errmsg() describes the last
 * failure in one line, without the password. A handle is used by one thread. */
#ifndef VABOT_DB_H
#define VABOT_DB_H

#include <stddef.h>

#include <libpq-fe.h>

typedef struct db db;

#define DB_READER_ROLE "vabot_reader"
#define DB_VALUE_MAX 64
/* Defaults that DATABASE_URL may override: seconds to wait for a connection. TCP
 * keepalives are on as well. */
#define DB_CONNECT_TIMEOUT_S "10"
/* The statement timeout of the owner's bookkeeping (query log, LLM cache, ledger): one
 * row each, so a statement that takes longer waits on something that is wrong. */
#define DB_OWNER_TIMEOUT_MS 10000

db *db_open(const char *conninfo, int timeout_ms, char *err, size_t errlen);
db *db_open_reader(const char *conninfo, int timeout_ms, char *err, size_t errlen);
void db_close(db *d);
const char *db_errmsg(const db *d);
PGconn *db_conn(db *d); /* the live connection after db_ensure(); owned by d */

/* Reconnects when the connection is bad. 0 ok, -1 unreachable. */
int db_ensure(db *d);

/* One parameterized statement (text parameters) that returns one row with one
 * column; each SQL text is prepared once per connection and reused. The value is
 * copied into out as text ("" for NULL).
 * Returns 0, -1 for a connection failure (after one reconnect attempt) or -2 when
 * the server rejected the statement (including a statement timeout). */
int db_query_value(db *d, const char *sql, int nparams, const char *const *params,
                   char *out, size_t outlen);

/* Applies sql/schema.sql and sql/roles.sql, then sets the reader's password from
 * reader_login as a SCRAM verifier (roles and password may fail without rights to
 * create or alter roles: a warning, not an error). */
int db_init_schema(db *d, const char *schema_path, const char *roles_path);

#endif
