/* test_db.c: the reader connection (src/db.c) cannot be talked into writing.
 *
 * Without a database only the offline checks run. tests/e2e/privilege.sh runs this
 * binary (both builds) against throwaway clusters, with
 *   VABOT_TEST_DB       libpq conninfo of the owner, on a database after `vabot db init`
 *                       and a load;
 *   VABOT_TEST_DB_MODE  "login": the reader must log in (trust, or the password that
 *                       db init made); "reject": pg_hba.conf rejects vabot_reader, and
 *                       the reader must refuse to open rather than fall back to the
 *                       owner's login;
 *   VABOT_TEST_DIR      a directory where a COPY ... TO PROGRAM would leave a file.
 * Every hostile statement goes through db_query_value(), the way the query path runs
 * generated SQL, one after the other on the same connection. */
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "testhelp.h"

static const char *owner_ci, *mode, *dir;

TEST(unreachable_reader_says_why_without_the_password)
{
    char err[1024];
    db *d = db_open_reader("host=/nonexistent/socket user=u password=SECRET-PW connect_timeout=2",
                           1000, err, sizeof err);
    CHECK(d == NULL);
    CHECK_CONTAINS(err, "cannot connect");
    CHECK_CONTAINS(err, "logs in as vabot_reader only");
    CHECK(strstr(err, "SECRET-PW") == NULL);
    CHECK(strchr(err, '\n') == NULL);
    db_close(NULL);
    CHECK_STR(db_errmsg(NULL), "db: no connection");
}

/* The owner's view of the data: count of each table, and whether a table exists. */
static long long owner_count(const char *sql)
{
    char err[512], v[DB_VALUE_MAX];
    long long n = -1;
    db *o = db_open(owner_ci, 0, err, sizeof err);
    if (o && db_query_value(o, sql, 0, NULL, v, sizeof v) == 0)
        n = strtoll(v, NULL, 10);
    else
        fprintf(stderr, "owner: %s\n", o ? db_errmsg(o) : err);
    db_close(o);
    return n;
}

static const char *value(db *r, const char *sql)
{
    static char v[DB_VALUE_MAX];
    if (db_query_value(r, sql, 0, NULL, v, sizeof v))
        snprintf(v, sizeof v, "ERROR");
    return v;
}

/* A statement that must fail on the reader, whatever it is. */
#define REFUSED(r, sql)                                                                    \
    do {                                                                                   \
        char v_[DB_VALUE_MAX];                                                             \
        if (db_query_value(r, sql, 0, NULL, v_, sizeof v_) == 0) {                        \
            fprintf(stderr, "%s:%d: the reader ran: %s (got %s)\n", __FILE__, __LINE__,   \
                    sql, v_);                                                              \
            th_current_failed = 1;                                                         \
        }                                                                                  \
    } while (0)

static const char *const hostile[] = {
    "INSERT INTO videos SELECT 'x' || id, creator_id, video_created_at, views_count, "
    "likes_count, comments_count, reports_count, created_at, updated_at FROM videos "
    "RETURNING 1",
    "UPDATE videos SET views_count = 0 RETURNING 1",
    "DELETE FROM video_snapshots RETURNING 1",
    "TRUNCATE video_snapshots",
    "DROP TABLE videos",
    "CREATE TABLE evil (x int)",
    "CREATE TEMP TABLE videos AS SELECT 1 AS id",
    "SELECT count(*) FROM videos; DELETE FROM videos",
    "SET default_transaction_read_only = off; DELETE FROM videos",
    "SELECT count(*) FROM query_log",
    "SELECT count(*) FROM bot_state",
    "SELECT password FROM reader_login",
    "SELECT nextval('query_log_id_seq')",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT lo_import('/etc/hostname')",
    "SELECT set_config('role', 'postgres', false)",
    "SET SESSION AUTHORIZATION postgres",
    "ALTER ROLE vabot_reader SUPERUSER",
    "GRANT ALL ON videos TO vabot_reader",
};

/* Statements that try to change the session for the next statement: each may run, but
 * must leave nothing behind. */
static void prepare_the_ground(db *r)
{
    static const char *const steps[] = {
        "RESET ROLE",
        "SET ROLE NONE",
        "SELECT set_config('role', 'none', false)",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SET default_transaction_read_only = off",
        "SELECT set_config('statement_timeout', '0', false)",
        "SELECT set_config('search_path', 'pg_temp, public', false)",
    };
    char v[DB_VALUE_MAX];
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        db_query_value(r, steps[i], 0, NULL, v, sizeof v);
}

static void check_session_unchanged(db *r)
{
    CHECK_STR(value(r, "SELECT current_user"), "vabot_reader");
    CHECK_STR(value(r, "SELECT session_user"), "vabot_reader");
    CHECK_STR(value(r, "SELECT current_setting('transaction_read_only')"), "on");
    CHECK_STR(value(r, "SELECT current_setting('default_transaction_read_only')"), "on");
    CHECK_STR(value(r, "SELECT current_setting('statement_timeout')"), "800ms");
    CHECK_STR(value(r, "SELECT current_setting('search_path')"), "\"$user\", public");
    CHECK_STR(value(r, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"),
              "false");
}

TEST(reader_cannot_write_or_escape)
{
    char err[1024];
    struct buf marker = BUF_INIT, copy = BUF_INIT, kill = BUF_INIT;
    db *o = db_open(owner_ci, 0, err, sizeof err); /* a superuser session to be left alone */
    CHECK(o != NULL);
    if (!o)
        return;
    int owner_pid = PQbackendPID(db_conn(o));
    long long videos = owner_count("SELECT count(*) FROM videos");
    long long snaps = owner_count("SELECT count(*) FROM video_snapshots");
    CHECK(videos > 0 && snaps > 0);
    db *r = db_open_reader(owner_ci, 800, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    buf_addf(&marker, "%s/copy-to-program-ran", dir);
    buf_addf(&copy, "COPY videos TO PROGRAM 'touch %s'", buf_str(&marker));
    buf_addf(&kill, "SELECT pg_terminate_backend(%d)", owner_pid);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++)
            REFUSED(r, hostile[i]);
        REFUSED(r, buf_str(&copy));
        REFUSED(r, buf_str(&kill));
        REFUSED(r, "COPY (SELECT 1) TO '/tmp/vabot-reader-copy'");
        REFUSED(r, "SELECT pg_sleep(5)"); /* the statement timeout stops it */
        check_session_unchanged(r);
        prepare_the_ground(r); /* the second round runs after it */
    }
    /* Each in one statement: switch, then act with what the switch gave. */
    REFUSED(r, "SELECT set_config('role', 'none', false) || lo_import('/etc/hostname')::text");
    CHECK_STR(value(r, "SELECT set_config('role', 'none', false) || current_user"),
              "nonevabot_reader");
    check_session_unchanged(r);
    CHECK(access(buf_str(&marker), F_OK) != 0);
    CHECK_INT(owner_count("SELECT count(*) FROM videos"), videos);
    CHECK_INT(owner_count("SELECT count(*) FROM video_snapshots"), snaps);
    CHECK_INT(owner_count("SELECT count(*) FROM pg_tables WHERE tablename = 'evil'"), 0);
    CHECK_INT(owner_count("SELECT count(*) FROM pg_roles WHERE rolname = 'vabot_reader' AND "
                          "rolsuper"), 0);
    /* the owner's session lived through it, and the reader still answers */
    CHECK(PQstatus(db_conn(o)) == CONNECTION_OK);
    CHECK_INT(strtoll(value(o, "SELECT pg_backend_pid()"), NULL, 10), owner_pid);
    CHECK_INT(strtoll(value(r, "SELECT count(*) FROM videos"), NULL, 10), videos);
    db_close(r);
    db_close(o);
    buf_release(&marker);
    buf_release(&copy);
    buf_release(&kill);
}

/* The value libpq uses for keyword on c's connection, or "". */
static const char *setting(db *d, const char *keyword)
{
    static char v[64];
    PQconninfoOption *opts = PQconninfo(db_conn(d));
    v[0] = '\0';
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, keyword))
            snprintf(v, sizeof v, "%s", o->val ? o->val : "");
    PQconninfoFree(opts);
    return v;
}

TEST(connection_defaults_and_the_owner_timeout)
{
    char err[1024];
    struct buf ci = BUF_INIT;
    db *o = db_open(owner_ci, 1234, err, sizeof err);
    CHECK(o != NULL);
    if (!o)
        return;
    CHECK_STR(setting(o, "connect_timeout"), DB_CONNECT_TIMEOUT_S);
    CHECK_STR(setting(o, "keepalives"), "1");
    CHECK_STR(value(o, "SHOW statement_timeout"), "1234ms");
    db_close(o);
    /* a load's connection has none */
    o = db_open(owner_ci, 0, err, sizeof err);
    CHECK(o && !strcmp(value(o, "SHOW statement_timeout"), "0"));
    db_close(o);
    /* the reader has its own, and the same defaults */
    db *r = db_open_reader(owner_ci, 800, err, sizeof err);
    CHECK(r && !strcmp(setting(r, "connect_timeout"), DB_CONNECT_TIMEOUT_S));
    db_close(r);
    /* what DATABASE_URL says wins over the defaults */
    buf_addf(&ci, "%s%sconnect_timeout=3&keepalives=0", owner_ci, strchr(owner_ci, '?') ? "&" : "?");
    o = db_open(buf_str(&ci), 0, err, sizeof err);
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(setting(o, "connect_timeout"), "3");
        CHECK_STR(setting(o, "keepalives"), "0");
    }
    db_close(o);
    buf_release(&ci);
}

TEST(reader_refuses_to_fall_back_to_the_owner)
{
    char err[1024];
    db *o = db_open(owner_ci, 0, err, sizeof err);
    CHECK(o != NULL); /* the owner can log in... */
    db_close(o);
    db *r = db_open_reader(owner_ci, 800, err, sizeof err);
    CHECK(r == NULL); /* ...but the reader does not borrow its login */
    CHECK_CONTAINS(err, "vabot_reader");
    CHECK_CONTAINS(err, "logs in as vabot_reader only");
    db_close(r);
}

int main(void)
{
    owner_ci = getenv("VABOT_TEST_DB");
    mode = getenv("VABOT_TEST_DB_MODE");
    dir = getenv("VABOT_TEST_DIR");
    RUN(unreachable_reader_says_why_without_the_password);
    if (owner_ci && dir && mode && !strcmp(mode, "login")) {
        RUN(reader_cannot_write_or_escape);
        RUN(connection_defaults_and_the_owner_timeout);
    } else if (owner_ci && mode && !strcmp(mode, "reject")) {
        RUN(reader_refuses_to_fall_back_to_the_owner);
    } else {
        printf("test_db: the database checks run from tests/e2e/privilege.sh\n");
    }
    return th_finish();
}
