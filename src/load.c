#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "jscan.h"
#include "vrow.h"
#include "xalloc.h"

#define READ_CHUNK (1 << 20)
/* Rows go to the server in pieces of about this size: big enough that libpq's
 * per-call cost vanishes, small enough to keep the loader's memory flat. */
#define COPY_CHUNK (1 << 20)
#define PROGRESS_EVERY_NS 250000000LL
/* The rollups of sql/schema.sql: emptied with the data, refilled from it by
 * vabot_refresh_rollups() before COMMIT, so readers never see them disagree. */
#define ROLLUPS "rollup_hours, rollup_ages, rollup_video_days"

/* Constraints and indexes of the two tables (and of rollup_video_days, the one rollup
 * big enough to matter) as the catalog has them (schema.sql made them), with the
 * statements that drop and re-create each: loading into bare tables and building every
 * index once at the end is much faster than maintaining them row by row. Ordered for
 * re-creation: keys, then plain indexes, then foreign keys. */
static const char ddl_query[] =
    "SELECT t.relname, q.name, q.drop_sql, q.create_sql FROM ("
    " SELECT c.conrelid AS rel, CASE c.contype WHEN 'f' THEN 3 ELSE 1 END AS rank,"
    "  c.conname::text AS name,"
    "  format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,"
    "  format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,"
    "         pg_get_constraintdef(c.oid)) AS create_sql"
    " FROM pg_constraint c"
    " WHERE c.conrelid IN ('videos'::regclass, 'video_snapshots'::regclass,"
    "                      'rollup_video_days'::regclass)"
    "   AND c.contype IN ('p', 'u', 'f', 'x')"
    " UNION ALL"
    " SELECT i.indrelid, 2, i.indexrelid::regclass::text,"
    "  format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)"
    " FROM pg_index i"
    " WHERE i.indrelid IN ('videos'::regclass, 'video_snapshots'::regclass,"
    "                      'rollup_video_days'::regclass)"
    "   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
    "                   AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))"
    ") q JOIN pg_class t ON t.oid = q.rel"
    " ORDER BY q.rank, t.relname = 'videos' DESC, q.name";

struct ddl {
    char *table, *name, *drop_sql, *create_sql;
};

/* ==== One load ==== */

/* Everything one load_file() call uses. The loader owns all of it except d, st and
 * the connection (owned by d). The temporary files are unlinked from the start and
 * vanish when closed. index, offset and vid_text describe the video that messages
 * are about. */
struct loader {
    db *d;
    PGconn *conn;
    const char *name; /* the input as messages name it */
    int fd;
    long long size; /* -1 when unknown (a pipe) */
    jscan *scan;
    struct buf rows;  /* snapshot rows not yet sent */
    struct buf video_row; /* the current video's row */
    FILE *videos;     /* video rows, sent after the snapshots (one COPY at a time) */
    FILE *offsets;    /* each video's byte offset, for messages about duplicates */
    int in_copy;
    struct ddl *ddl;
    int nddl;
    long long index, offset;
    char vid_text[40]; /* "" when the id is not known */
    struct load_stats *st;
    int progress;
    struct timespec started, shown;
    struct buf err; /* the first failure wins */
};

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* ==== Messages ==== */

static int fail(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct loader *L, const char *fmt, ...)
{
    va_list ap;
    if (L->err.len)
        return -1;
    buf_addf(&L->err, "load: %s: ", L->name);
    va_start(ap, fmt);
    buf_vaddf(&L->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* "byte B: video I (0-based, id X): " then the text. */
static int fail_video(struct loader *L, long long at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_video(struct loader *L, long long at, const char *fmt, ...)
{
    va_list ap;
    if (L->err.len)
        return -1;
    buf_addf(&L->err, "load: %s: byte %lld: video %lld (0-based", L->name, at, L->index);
    if (L->vid_text[0])
        buf_addf(&L->err, ", id %s", L->vid_text);
    buf_adds(&L->err, "): ");
    va_start(ap, fmt);
    buf_vaddf(&L->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int db_fail(struct loader *L, const char *what, const PGresult *r)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(L->conn);
    return fail(L, "database: %s: %.*s%s", what, (int)strcspn(msg, "\n"), msg,
                state && !strcmp(state, "42P01") ? " (run `vabot db init` first)" : "");
}

/* ==== Sending rows ==== */

/* Waits until libpq has handed everything queued to the kernel. Reading while waiting
 * is what libpq asks for: the server may have something to say first. */
static int copy_drain(struct loader *L)
{
    int rc;
    while ((rc = PQflush(L->conn)) == 1) {
        struct pollfd pfd = {.fd = PQsocket(L->conn), .events = POLLIN | POLLOUT};
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return fail(L, "database: waiting to send rows: %s", strerror(errno));
        if ((pfd.revents & POLLIN) && !PQconsumeInput(L->conn))
            return db_fail(L, "sending rows", NULL);
    }
    return rc < 0 ? db_fail(L, "sending rows", NULL) : 0;
}

/* The COPY runs in nonblocking mode: a chunk of rows waits in libpq's buffer and
 * goes out piece by piece (copy_push between videos) while the next chunk is parsed,
 * so client and server work at the same time. At most one chunk waits. The rows of
 * one big video can pass what PQputCopyData's int length holds: they go in slices of
 * at most COPY_CHUNK bytes. */
static int copy_send(struct loader *L, const char *p, size_t n)
{
    while (n) {
        size_t slice = n < COPY_CHUNK ? n : COPY_CHUNK;
        if (copy_drain(L))
            return -1;
        if (PQputCopyData(L->conn, p, (int)slice) != 1)
            return db_fail(L, "sending rows", NULL);
        p += slice;
        n -= slice;
    }
    return 0;
}

static int copy_push(struct loader *L)
{
    return PQflush(L->conn) < 0 ? db_fail(L, "sending rows", NULL) : 0;
}

/* One video: converted to rows, its row kept for later, the snapshot rows sent
 * whenever a chunk is full. */
static int handle_video(struct loader *L)
{
    struct vrow_info info;
    size_t len;
    const char *obj = jscan_object(L->scan, &len);
    L->index = jscan_object_index(L->scan);
    L->offset = jscan_object_offset(L->scan);
    buf_reset(&L->video_row);
    int rc = vrow_convert(obj, len, &L->video_row, &L->rows, &info);
    memcpy(L->vid_text, info.id, sizeof L->vid_text);
    if (rc)
        return fail_video(L, L->offset + info.at, "%s", info.error);
    if (fwrite(L->video_row.p, 1, L->video_row.len, L->videos) != L->video_row.len ||
        fwrite(&L->offset, sizeof L->offset, 1, L->offsets) != 1)
        return fail(L, "cannot write a temporary file: %s", strerror(errno));
    L->st->videos++;
    L->st->snapshots += info.snapshots;
    if (L->rows.len < COPY_CHUNK)
        return copy_push(L);
    if (copy_send(L, L->rows.p, L->rows.len))
        return -1;
    buf_reset(&L->rows);
    return 0;
}

/* ==== Reading ==== */

static void show_progress(struct loader *L, const char *phase)
{
    if (!L->progress || (!phase && since(&L->shown) < PROGRESS_EVERY_NS / 1e9))
        return;
    clock_gettime(CLOCK_MONOTONIC, &L->shown);
    fprintf(stderr, "\r\033[Kload: %s: ", L->name);
    if (L->size > 0)
        fprintf(stderr, "%.0f%% ", 100.0 * (double)L->st->bytes / (double)L->size);
    fprintf(stderr, "%.1f MB, %lld videos, %lld snapshots%s%s", (double)L->st->bytes / 1e6,
            L->st->videos, L->st->snapshots, phase ? ", " : "", phase ? phase : "");
}

static int fail_scan(struct loader *L)
{
    L->index = jscan_error_index(L->scan);
    L->vid_text[0] = '\0';
    if (L->index >= 0)
        return fail_video(L, jscan_error_offset(L->scan), "%s", jscan_errmsg(L->scan));
    return fail(L, "byte %lld: %s", jscan_error_offset(L->scan), jscan_errmsg(L->scan));
}

static int stream(struct loader *L)
{
    char *chunk = xmalloc(READ_CHUNK);
    int rc = 0;
    for (;;) {
        ssize_t n = read(L->fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fail(L, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        L->st->bytes += n;
        for (size_t off = 0, used; off < (size_t)n && rc == 0; off += used) {
            int r = jscan_feed(L->scan, chunk + off, (size_t)n - off, &used);
            if (r == JSCAN_ERROR)
                rc = fail_scan(L);
            else if (r == JSCAN_OBJECT)
                rc = handle_video(L);
        }
        if (rc)
            break;
        show_progress(L, NULL);
    }
    free(chunk);
    if (rc == 0 && jscan_finish(L->scan) != JSCAN_END)
        rc = fail_scan(L);
    if (rc == 0)
        rc = copy_send(L, L->rows.p, L->rows.len);
    return rc;
}

static int open_input(struct loader *L, const char *path)
{
    struct stat sb;
    if (!strcmp(path, "-")) {
        L->name = "standard input";
        L->fd = STDIN_FILENO;
    } else if ((L->fd = open(path, O_RDONLY)) < 0) {
        return fail(L, "cannot open: %s", strerror(errno));
    }
    L->size = fstat(L->fd, &sb) == 0 && S_ISREG(sb.st_mode) ? (long long)sb.st_size : -1;
    L->videos = tmpfile();
    L->offsets = tmpfile();
    if (!L->videos || !L->offsets)
        return fail(L, "cannot create a temporary file: %s", strerror(errno));
    return 0;
}

/* ==== The transaction ==== */

static int exec(struct loader *L, const char *sql, const char *what)
{
    PGresult *r = PQexec(L->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : db_fail(L, what, r);
    PQclear(r);
    return rc;
}

static int copy_begin(struct loader *L, const char *table, enum vrow_table cols)
{
    struct buf sql = BUF_INIT;
    buf_addf(&sql, "COPY %s (", table);
    vrow_columns(cols, &sql);
    /* FREEZE: the table was truncated in this transaction, so its rows can be
     * written frozen and all-visible, ready for index-only scans. */
    buf_adds(&sql, ") FROM STDIN WITH (FREEZE)");
    PGresult *r = PQexec(L->conn, buf_str(&sql));
    int rc = PQresultStatus(r) == PGRES_COPY_IN ? 0 : db_fail(L, "starting COPY", r);
    PQclear(r);
    buf_release(&sql);
    L->in_copy = rc == 0;
    if (rc == 0 && PQsetnonblocking(L->conn, 1))
        rc = db_fail(L, "starting COPY", NULL);
    return rc;
}

/* Ends the COPY; with errmsg set it is abandoned and the server discards it. The
 * connection goes back to blocking mode either way. */
static int copy_end(struct loader *L, const char *errmsg)
{
    int rc = PQputCopyEnd(L->conn, errmsg) == 1 ? copy_drain(L) : db_fail(L, "ending COPY", NULL);
    L->in_copy = 0;
    if (PQsetnonblocking(L->conn, 0) && rc == 0)
        rc = db_fail(L, "ending COPY", NULL);
    for (PGresult *r; (r = PQgetResult(L->conn));) {
        if (rc == 0 && !errmsg && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = db_fail(L, "COPY", r);
        PQclear(r);
    }
    return errmsg ? -1 : rc;
}

static int read_ddl(struct loader *L)
{
    PGresult *r = PQexec(L->conn, ddl_query);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_fail(L, "reading the schema", r);
        PQclear(r);
        return -1;
    }
    L->nddl = PQntuples(r);
    L->ddl = xcalloc((size_t)L->nddl + 1, sizeof *L->ddl);
    for (int i = 0; i < L->nddl; i++) {
        L->ddl[i].table = xstrdup(PQgetvalue(r, i, 0));
        L->ddl[i].name = xstrdup(PQgetvalue(r, i, 1));
        L->ddl[i].drop_sql = xstrdup(PQgetvalue(r, i, 2));
        L->ddl[i].create_sql = xstrdup(PQgetvalue(r, i, 3));
    }
    PQclear(r);
    return 0;
}

/* Empties both tables and strips their keys and indexes, all inside the transaction:
 * until COMMIT, everyone else still sees the old rows (and waits for our locks). The
 * catalog is read after TRUNCATE has taken the locks, so a load that ran meanwhile
 * has committed its own rebuilt indexes by then. */
static int prepare(struct loader *L)
{
    if (db_ensure(L->d))
        return fail(L, "%s", db_errmsg(L->d));
    L->conn = db_conn(L->d);
    if (exec(L, "BEGIN", "BEGIN") ||
        exec(L, "TRUNCATE videos, video_snapshots, " ROLLUPS, "emptying the tables") ||
        read_ddl(L))
        return -1;
    for (int i = L->nddl - 1; i >= 0; i--)
        if (exec(L, L->ddl[i].drop_sql, L->ddl[i].name))
            return -1;
    return 0;
}

static int copy_videos(struct loader *L)
{
    char *chunk = xmalloc(COPY_CHUNK);
    size_t n;
    int rc = 0;
    if (fflush(L->videos) || fseek(L->videos, 0, SEEK_SET))
        rc = fail(L, "cannot read back a temporary file: %s", strerror(errno));
    if (rc == 0)
        rc = copy_begin(L, "videos", VROW_VIDEOS);
    while (rc == 0 && (n = fread(chunk, 1, COPY_CHUNK, L->videos)) > 0)
        rc = copy_send(L, chunk, n);
    if (rc == 0 && ferror(L->videos))
        rc = fail(L, "cannot read back a temporary file: %s", strerror(errno));
    free(chunk);
    return rc ? rc : copy_end(L, NULL);
}

/* ==== Duplicates ==== */

/* The index of the first video row in the temporary file whose id is id, from
 * index `from` on; -1 when there is none. */
static long long find_video(struct loader *L, const char *id, long long from)
{
    char *line = NULL;
    size_t cap = 0, n = strlen(id);
    long long i = 0, found = -1;
    rewind(L->videos);
    for (; getline(&line, &cap, L->videos) > 0; i++)
        if (i >= from && !strncmp(line, id, n) && line[n] == '\t') {
            found = i;
            break;
        }
    free(line);
    return found;
}

static long long video_offset(struct loader *L, long long index)
{
    long long off = 0;
    if (fseek(L->offsets, index * (long long)sizeof off, SEEK_SET) ||
        fread(&off, sizeof off, 1, L->offsets) != 1)
        return 0;
    return off;
}

static void point_at(struct loader *L, long long index, const char *id)
{
    L->index = index;
    L->offset = video_offset(L, index);
    snprintf(L->vid_text, sizeof L->vid_text, "%s", id);
}

static int one_value(struct loader *L, const char *sql, struct buf *out)
{
    PGresult *r = PQexec(L->conn, sql);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? 0 : -1;
    if (rc == 0)
        buf_adds(out, PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

static int duplicate_video(struct loader *L)
{
    struct buf id = BUF_INIT;
    long long first = -1, second = -1;
    if (one_value(L, "SELECT id FROM videos GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 1",
                  &id) == 0)
        first = find_video(L, buf_str(&id), 0);
    if (first >= 0)
        second = find_video(L, buf_str(&id), first + 1);
    if (second >= 0) {
        point_at(L, second, buf_str(&id));
        fail_video(L, L->offset, "duplicate video id (first seen as video %lld)", first);
    }
    buf_release(&id);
    return second >= 0 ? -1 : fail(L, "duplicate video ids");
}

static int duplicate_snapshot(struct loader *L)
{
    struct buf id = BUF_INIT;
    PGresult *r = NULL;
    long long a = -1, b = -1;
    if (one_value(L, "SELECT id FROM video_snapshots GROUP BY id HAVING count(*) > 1"
                     " ORDER BY id LIMIT 1", &id) == 0) {
        const char *param = buf_str(&id);
        r = PQexecParams(L->conn, "SELECT video_id FROM video_snapshots WHERE id = $1 LIMIT 2", 1,
                         NULL, &param, NULL, NULL, 0);
    }
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 2) {
        a = find_video(L, PQgetvalue(r, 0, 0), 0);
        b = find_video(L, PQgetvalue(r, 1, 0), 0);
    }
    if (a >= 0 && b >= 0) {
        long long later = a > b ? a : b, other = a > b ? b : a;
        point_at(L, later, PQgetvalue(r, a > b ? 0 : 1, 0));
        if (a == b)
            fail_video(L, L->offset, "snapshot id %s appears twice", buf_str(&id));
        else
            fail_video(L, L->offset, "duplicate snapshot id %s (also in video %lld)",
                       buf_str(&id), other);
    }
    PQclear(r);
    buf_release(&id);
    return a >= 0 && b >= 0 ? -1 : fail(L, "duplicate snapshot ids");
}

/* Re-creates the keys and indexes. A unique key that cannot be built means duplicate
 * ids: roll back to before the attempt and find them for the message. */
static int restore(struct loader *L)
{
    if (exec(L, "SAVEPOINT load_keys", "SAVEPOINT"))
        return -1;
    for (int i = 0; i < L->nddl; i++) {
        PGresult *r = PQexec(L->conn, L->ddl[i].create_sql);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        int dup = state && !strcmp(state, "23505");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok && !dup)
            db_fail(L, L->ddl[i].name, r);
        PQclear(r);
        if (ok)
            continue;
        if (!dup || exec(L, "ROLLBACK TO SAVEPOINT load_keys", "ROLLBACK TO SAVEPOINT"))
            return -1;
        return strcmp(L->ddl[i].table, "videos") ? duplicate_snapshot(L) : duplicate_video(L);
    }
    return 0;
}

/* ==== Entry ==== */

static void cleanup(struct loader *L, int failed)
{
    if (L->conn && failed) {
        if (L->in_copy)
            copy_end(L, "load aborted");
        if (PQtransactionStatus(L->conn) != PQTRANS_IDLE) {
            PGresult *r = PQexec(L->conn, "ROLLBACK");
            PQclear(r);
        }
    }
    for (int i = 0; i < L->nddl; i++) {
        free(L->ddl[i].table);
        free(L->ddl[i].name);
        free(L->ddl[i].drop_sql);
        free(L->ddl[i].create_sql);
    }
    free(L->ddl);
    if (L->fd > STDIN_FILENO)
        close(L->fd);
    if (L->videos)
        fclose(L->videos);
    if (L->offsets)
        fclose(L->offsets);
    jscan_free(L->scan);
    buf_release(&L->rows);
    buf_release(&L->video_row);
    if (L->progress)
        fputs("\r\033[K", stderr);
}

int load_file(db *d, const char *path, int progress, struct load_stats *st, char *err,
              size_t errlen)
{
    struct loader L = {.d = d, .name = path, .fd = -1, .st = st, .progress = progress};
    long max = cfg_get_long("VABOT_LOAD_MAX_OBJECT", LOAD_MAX_OBJECT, 64, LOAD_MAX_OBJECT_LIMIT);
    memset(st, 0, sizeof *st);
    clock_gettime(CLOCK_MONOTONIC, &L.started);
    L.shown = L.started;
    L.scan = jscan_new("videos", (size_t)max, VROW_DEPTH);
    int rc = open_input(&L, path) || prepare(&L) ||
             copy_begin(&L, "video_snapshots", VROW_SNAPSHOTS) || stream(&L);
    if (rc == 0) {
        rc = copy_end(&L, NULL) || copy_videos(&L);
        show_progress(&L, "building rollups and indexes");
    }
    if (rc == 0)
        rc = exec(&L, "SELECT vabot_refresh_rollups()", "building the rollups") || restore(&L) ||
             exec(&L, "ANALYZE videos, video_snapshots, " ROLLUPS, "ANALYZE") ||
             exec(&L, "COMMIT", "COMMIT");
    /* The rollup rows were inserted, not copied frozen: a VACUUM marks them all-visible
     * so that counting from rollup_video_days stays an index-only scan. Best effort:
     * autovacuum gets there too, later. */
    if (rc == 0)
        PQclear(PQexec(L.conn, "VACUUM rollup_video_days"));
    cleanup(&L, rc != 0);
    st->seconds = since(&L.started);
    snprintf(err, errlen, "%s", rc ? buf_str(&L.err) : "");
    buf_release(&L.err);
    return rc ? -1 : 0;
}
