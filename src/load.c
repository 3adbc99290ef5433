#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cfg.h"
#include "jscan.h"
#include "utc.h"
#include "xalloc.h"

#define READ_CHUNK (1 << 20)
/* Rows go to the server in pieces of about this size: big enough that libpq's
 * per-call cost vanishes, small enough to keep the loader's memory flat. */
#define COPY_CHUNK (1 << 20)
/* A video object, its snapshots array and a snapshot object: nothing deeper. */
#define VIDEO_DEPTH 3
#define PROGRESS_EVERY_NS 250000000LL
#define ROW_MAX 512 /* longer than any row the field tables below can produce */

/* ==== The format ==== */

/* What a key holds and how it becomes a COPY field. Every kind is written in a
 * closed alphabet (hex digits, '-', digits, the timestamp's punctuation), so no field
 * ever needs COPY text-format escaping. */
enum kind {
    K_UUID,  /* 32 hex digits, dashes optional; stored as the dashed lowercase UUID */
    K_HEX32, /* the same input forms; stored as 32 lowercase hex digits */
    K_TIME,  /* ISO 8601, any offset; stored in UTC */
    K_COUNT, /* an integer >= 0 */
    K_DELTA, /* any integer */
    K_SNAPSHOTS
};

struct field {
    const char *name; /* the JSON key and the column */
    enum kind kind;
};

/* In the order the file lists them, which is the order they are usually found in. */
static const struct field video_fields[] = {
    {"id", K_UUID},          {"video_created_at", K_TIME}, {"views_count", K_COUNT},
    {"likes_count", K_COUNT}, {"reports_count", K_COUNT},  {"comments_count", K_COUNT},
    {"creator_id", K_HEX32}, {"created_at", K_TIME},       {"updated_at", K_TIME},
    {"snapshots", K_SNAPSHOTS},
};
static const struct field snapshot_fields[] = {
    {"id", K_HEX32},
    {"video_id", K_UUID},
    {"views_count", K_COUNT},
    {"likes_count", K_COUNT},
    {"reports_count", K_COUNT},
    {"comments_count", K_COUNT},
    {"delta_views_count", K_DELTA},
    {"delta_likes_count", K_DELTA},
    {"delta_reports_count", K_DELTA},
    {"delta_comments_count", K_DELTA},
    {"created_at", K_TIME},
    {"updated_at", K_TIME},
};
#define NVIDEO ((int)(sizeof video_fields / sizeof *video_fields))
#define NSNAP ((int)(sizeof snapshot_fields / sizeof *snapshot_fields))
#define MAX_FIELDS 12

/* Constraints and indexes of the two tables as the catalog has them (schema.sql made
 * them), with the statements that drop and re-create each: loading into bare tables
 * and building every index once at the end is much faster than maintaining them row
 * by row. Ordered for re-creation: keys, then plain indexes, then foreign keys. */
static const char ddl_query[] =
    "SELECT t.relname, q.name, q.drop_sql, q.create_sql FROM ("
    " SELECT c.conrelid AS rel, CASE c.contype WHEN 'f' THEN 3 ELSE 1 END AS rank,"
    "  c.conname::text AS name,"
    "  format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,"
    "  format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,"
    "         pg_get_constraintdef(c.oid)) AS create_sql"
    " FROM pg_constraint c"
    " WHERE c.conrelid IN ('videos'::regclass, 'video_snapshots'::regclass)"
    "   AND c.contype IN ('p', 'u', 'f', 'x')"
    " UNION ALL"
    " SELECT i.indrelid, 2, i.indexrelid::regclass::text,"
    "  format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)"
    " FROM pg_index i"
    " WHERE i.indrelid IN ('videos'::regclass, 'video_snapshots'::regclass)"
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
 * vanish when closed. obj points into the scanner and is valid while one video is
 * checked. */
struct loader {
    db *d;
    PGconn *conn;
    const char *name; /* the input as messages name it */
    int fd;
    long long size; /* -1 when unknown (a pipe) */
    jscan *scan;
    struct buf rows;  /* snapshot rows not yet sent */
    struct buf vrow;  /* the current video's row */
    FILE *videos;     /* video rows, sent after the snapshots (one COPY at a time) */
    FILE *offsets;    /* each video's byte offset, for messages about duplicates */
    int in_copy;
    struct ddl *ddl;
    int nddl;
    /* the video being checked */
    const char *obj;
    size_t obj_len;
    long long index, offset;
    unsigned char vid[16];
    char vid_text[40];
    int have_id;
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

/* Text from the file, made safe for a one-line message: quoted, at most 40 bytes,
 * anything but printable ASCII shown as '?'. */
static void add_quoted(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_addc(b, '"');
    for (size_t i = 0; i < n && i < 40; i++)
        buf_addc(b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
    buf_adds(b, n > 40 ? "...\"" : "\"");
}

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
    if (L->have_id)
        buf_addf(&L->err, ", id %s", L->vid_text);
    buf_adds(&L->err, "): ");
    va_start(ap, fmt);
    buf_vaddf(&L->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Where in the file the value of key (in snapshot snap, or in the video when snap
 * is -1) begins; the enclosing object when the path cannot be followed. */
static long long locate(const struct loader *L, long long snap, const char *key)
{
    struct jscan_step path[3] = {{"snapshots", 0}, {NULL, snap}, {key, 0}};
    long long rel = -1;
    if (snap < 0 && key)
        rel = jscan_locate(L->obj, L->obj_len, path + 2, 1);
    if (snap >= 0 && key)
        rel = jscan_locate(L->obj, L->obj_len, path, 3);
    if (snap >= 0 && rel < 0)
        rel = jscan_locate(L->obj, L->obj_len, path, 2);
    return L->offset + (rel < 0 ? 0 : rel);
}

/* A content error at snapshots[snap].key (either part may be absent). */
static int bad(struct loader *L, long long snap, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(struct loader *L, long long snap, const char *key, const char *fmt, ...)
{
    struct buf path = BUF_INIT, what = BUF_INIT;
    va_list ap;
    if (snap >= 0)
        buf_addf(&path, "snapshots[%lld]%s", snap, key ? "." : ": ");
    if (key) {
        for (const char *k = key; *k && k - key < 40; k++)
            buf_addc(&path, *k > 0x20 && *k < 0x7f ? *k : '?');
        buf_adds(&path, ": ");
    }
    va_start(ap, fmt);
    buf_vaddf(&what, fmt, ap);
    va_end(ap);
    fail_video(L, locate(L, snap, key), "%s%s", buf_str(&path), buf_str(&what));
    buf_release(&path);
    buf_release(&what);
    return -1;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsBool(v))
        return "a boolean";
    return "null";
}

static int db_fail(struct loader *L, const char *what, const PGresult *r)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(L->conn);
    return fail(L, "database: %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

/* ==== Fields ==== */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 32 hex digits, or 8-4-4-4-12 with dashes; either case. */
static int parse_id(const char *s, unsigned char out[16])
{
    size_t len = strlen(s), j = 0;
    if (len != 32 && len != 36)
        return -1;
    for (size_t i = 0; i < len;) {
        if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i++] != '-')
                return -1;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[j++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

static char *put_id(char *p, const unsigned char id[16], int dashed)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        if (dashed && (i == 4 || i == 6 || i == 8 || i == 10))
            *p++ = '-';
        *p++ = hex[id[i] >> 4];
        *p++ = hex[id[i] & 15];
    }
    return p;
}

static char *put_digits(char *p, long v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* Years 1 to 9999 both here and in PostgreSQL; an offset must not push past them. */
static int put_time(char **pp, const char *s)
{
    static const int64_t lo = -62135596800LL * UTC_US_PER_SEC;  /* 0001-01-01 */
    static const int64_t hi = 253402300800LL * UTC_US_PER_SEC;  /* 10000-01-01 */
    struct utc_civil c;
    int64_t t;
    char *p = *pp;
    if (utc_parse(s, strlen(s), &t) || t < lo || t >= hi)
        return -1;
    utc_to_civil(t, &c);
    p = put_digits(p, c.year, 4);
    *p++ = '-';
    p = put_digits(p, c.month, 2);
    *p++ = '-';
    p = put_digits(p, c.day, 2);
    *p++ = ' ';
    p = put_digits(p, c.hour, 2);
    *p++ = ':';
    p = put_digits(p, c.min, 2);
    *p++ = ':';
    p = put_digits(p, c.sec, 2);
    *p++ = '.';
    p = put_digits(p, c.usec, 6);
    memcpy(p, "+00", 3);
    *pp = p + 3;
    return 0;
}

static char *put_int(char *p, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Writes one field at *pp. A snapshot's video_id must be its video's id. */
static int put_field(struct loader *L, char **pp, const struct field *f, const cJSON *v,
                     long long snap)
{
    unsigned char id[16];
    if (f->kind == K_COUNT || f->kind == K_DELTA) {
        /* cJSON keeps numbers as doubles: take only integers a double holds exactly. */
        if (!cJSON_IsNumber(v))
            return bad(L, snap, f->name, "expected an integer, got %s", type_name(v));
        double x = v->valuedouble;
        if (!(x >= -9007199254740992.0 && x <= 9007199254740992.0))
            return bad(L, snap, f->name, "%.17g is out of range", x);
        if (x != (double)(long long)x)
            return bad(L, snap, f->name, "%.17g is not an integer", x);
        if (f->kind == K_COUNT && x < 0)
            return bad(L, snap, f->name, "%lld is negative", (long long)x);
        *pp = put_int(*pp, (long long)x);
        return 0;
    }
    if (!cJSON_IsString(v)) {
        return bad(L, snap, f->name, "expected a string, got %s", type_name(v));
    }
    if (f->kind == K_TIME) {
        if (put_time(pp, v->valuestring) == 0)
            return 0;
        struct buf q = BUF_INIT;
        add_quoted(&q, v->valuestring);
        bad(L, snap, f->name, "%s is not an ISO 8601 timestamp", buf_str(&q));
        buf_release(&q);
        return -1;
    }
    if (parse_id(v->valuestring, id)) {
        struct buf q = BUF_INIT;
        add_quoted(&q, v->valuestring);
        bad(L, snap, f->name, "%s is not an id (32 hex digits, dashes allowed as in a UUID)",
            buf_str(&q));
        buf_release(&q);
        return -1;
    }
    if (f->kind == K_UUID && snap >= 0 && memcmp(id, L->vid, 16)) {
        struct buf q = BUF_INIT;
        add_quoted(&q, v->valuestring);
        bad(L, snap, f->name, "%s is not the id of its video", buf_str(&q));
        buf_release(&q);
        return -1;
    }
    *pp = put_id(*pp, id, f->kind == K_UUID);
    return 0;
}

/* ==== One video ==== */

static int field_index(const struct field *f, int n, int guess, const char *key)
{
    if (!strcmp(f[guess].name, key))
        return guess;
    for (int k = 0; k < n; k++)
        if (!strcmp(f[k].name, key))
            return k;
    return -1;
}

/* Finds each key of obj in f; an unknown, repeated or missing key is an error. */
static int collect(struct loader *L, const cJSON *obj, const struct field *f, int n,
                   const cJSON **slot, long long snap)
{
    int next = 0;
    if (!cJSON_IsObject(obj))
        return bad(L, snap, NULL, "expected an object, got %s", type_name(obj));
    memset(slot, 0, sizeof *slot * (size_t)n);
    for (const cJSON *it = obj->child; it; it = it->next) {
        int k = field_index(f, n, next, it->string);
        if (k < 0) {
            struct buf q = BUF_INIT;
            add_quoted(&q, it->string);
            bad(L, snap, NULL, "unknown key %s", buf_str(&q));
            buf_release(&q);
            return -1;
        }
        if (slot[k])
            return bad(L, snap, NULL, "duplicate key \"%s\"", f[k].name);
        slot[k] = it;
        next = k + 1 < n ? k + 1 : 0;
    }
    for (int k = 0; k < n; k++)
        if (!slot[k])
            return bad(L, snap, NULL, "missing key \"%s\"", f[k].name);
    return 0;
}

/* Appends one tab-separated row of the fields in f (all but the snapshots) to b. */
static int put_row(struct loader *L, struct buf *b, const struct field *f, int n,
                   const cJSON **slot, long long snap)
{
    buf_grow(b, ROW_MAX);
    char *start = b->p + b->len, *p = start;
    for (int k = 0; k < n; k++) {
        if (f[k].kind == K_SNAPSHOTS)
            continue;
        if (p != start)
            *p++ = '\t';
        if (put_field(L, &p, &f[k], slot[k], snap))
            return -1;
    }
    *p++ = '\n';
    *p = '\0';
    b->len += (size_t)(p - start);
    return 0;
}

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
 * so client and server work at the same time. At most one chunk waits. */
static int copy_send(struct loader *L, const char *p, size_t n)
{
    if (!n)
        return 0;
    if (copy_drain(L))
        return -1;
    if (PQputCopyData(L->conn, p, (int)n) != 1)
        return db_fail(L, "sending rows", NULL);
    return 0;
}

static int copy_push(struct loader *L)
{
    return PQflush(L->conn) < 0 ? db_fail(L, "sending rows", NULL) : 0;
}

/* The id is read first so that every later message about the video can name it. */
static void note_id(struct loader *L, const cJSON *v)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    L->have_id = cJSON_IsString(id) && parse_id(id->valuestring, L->vid) == 0;
    if (L->have_id)
        *put_id(L->vid_text, L->vid, 1) = '\0';
}

static int check_video(struct loader *L, const cJSON *v)
{
    const cJSON *vs[MAX_FIELDS], *ss[MAX_FIELDS], *list;
    long long k = 0;
    note_id(L, v);
    buf_reset(&L->vrow);
    if (collect(L, v, video_fields, NVIDEO, vs, -1) ||
        put_row(L, &L->vrow, video_fields, NVIDEO, vs, -1))
        return -1;
    list = vs[NVIDEO - 1];
    if (!cJSON_IsArray(list))
        return bad(L, -1, "snapshots", "expected an array, got %s", type_name(list));
    for (const cJSON *s = list->child; s; s = s->next, k++)
        if (collect(L, s, snapshot_fields, NSNAP, ss, k) ||
            put_row(L, &L->rows, snapshot_fields, NSNAP, ss, k))
            return -1;
    if (fwrite(L->vrow.p, 1, L->vrow.len, L->videos) != L->vrow.len ||
        fwrite(&L->offset, sizeof L->offset, 1, L->offsets) != 1)
        return fail(L, "cannot write a temporary file: %s", strerror(errno));
    L->st->videos++;
    L->st->snapshots += k;
    if (L->rows.len < COPY_CHUNK)
        return copy_push(L);
    if (copy_send(L, L->rows.p, L->rows.len))
        return -1;
    buf_reset(&L->rows);
    return 0;
}

static int handle_video(struct loader *L)
{
    const char *end = NULL;
    L->obj = jscan_object(L->scan, &L->obj_len);
    L->index = jscan_object_index(L->scan);
    L->offset = jscan_object_offset(L->scan);
    L->have_id = 0;
    cJSON *v = cJSON_ParseWithLengthOpts(L->obj, L->obj_len, &end, 0);
    if (!v) {
        long long at = end && end >= L->obj && end <= L->obj + L->obj_len ? end - L->obj : 0;
        struct buf near = BUF_INIT;
        char *s = xmemdup(L->obj + at, L->obj_len - (size_t)at < 20 ? L->obj_len - (size_t)at : 20);
        add_quoted(&near, s);
        fail_video(L, L->offset + at, "malformed JSON at %s", buf_str(&near));
        free(s);
        buf_release(&near);
        return -1;
    }
    int rc = check_video(L, v);
    cJSON_Delete(v);
    return rc;
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
    L->have_id = 0;
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

static int copy_begin(struct loader *L, const char *table, const struct field *f, int n)
{
    struct buf sql = BUF_INIT;
    buf_addf(&sql, "COPY %s (", table);
    for (int k = 0; k < n; k++)
        if (f[k].kind != K_SNAPSHOTS)
            buf_addf(&sql, "%s%s", k ? ", " : "", f[k].name);
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
        exec(L, "TRUNCATE videos, video_snapshots", "emptying the tables (run `vabot db init` first)") ||
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
        rc = copy_begin(L, "videos", video_fields, NVIDEO);
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
    L->have_id = 1;
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
    buf_release(&L->vrow);
    if (L->progress)
        fputs("\r\033[K", stderr);
}

int load_file(db *d, const char *path, int progress, struct load_stats *st, char *err,
              size_t errlen)
{
    struct loader L = {.d = d, .name = path, .fd = -1, .st = st, .progress = progress};
    long max = cfg_get_long("VABOT_LOAD_MAX_OBJECT", LOAD_MAX_OBJECT, 64, 1L << 40);
    memset(st, 0, sizeof *st);
    clock_gettime(CLOCK_MONOTONIC, &L.started);
    L.shown = L.started;
    L.scan = jscan_new("videos", (size_t)max, VIDEO_DEPTH);
    int rc = open_input(&L, path) || prepare(&L) ||
             copy_begin(&L, "video_snapshots", snapshot_fields, NSNAP) || stream(&L);
    if (rc == 0) {
        rc = copy_end(&L, NULL) || copy_videos(&L);
        show_progress(&L, "building indexes");
    }
    if (rc == 0)
        rc = restore(&L) || exec(&L, "ANALYZE videos, video_snapshots", "ANALYZE") ||
             exec(&L, "COMMIT", "COMMIT");
    cleanup(&L, rc != 0);
    st->seconds = since(&L.started);
    snprintf(err, errlen, "%s", rc ? buf_str(&L.err) : "");
    buf_release(&L.err);
    return rc ? -1 : 0;
}
