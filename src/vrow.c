#include "vrow.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jscan.h"
#include "utc.h"

#define ROW_MAX 512 /* longer than any row the field tables below can produce */

/* ==== The format ==== */

enum kind {
    K_UUID,  /* an id stored as a dashed UUID */
    K_HEX32, /* an id stored as 32 hex digits */
    K_TIME,
    K_COUNT, /* an integer >= 0 */
    K_DELTA, /* any integer */
    K_SNAPSHOTS
};

struct field {
    const char *name; /* the JSON key and the column */
    enum kind kind;
};

/* In the order the file lists them, which is where they are looked for first. */
static const struct field video_fields[] = {
    {"id", K_UUID},           {"video_created_at", K_TIME}, {"views_count", K_COUNT},
    {"likes_count", K_COUNT}, {"reports_count", K_COUNT},   {"comments_count", K_COUNT},
    {"creator_id", K_HEX32},  {"created_at", K_TIME},       {"updated_at", K_TIME},
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

void vrow_columns(enum vrow_table table, struct buf *out)
{
    const struct field *f = table == VROW_VIDEOS ? video_fields : snapshot_fields;
    int n = table == VROW_VIDEOS ? NVIDEO : NSNAP;
    for (int k = 0; k < n; k++)
        if (f[k].kind != K_SNAPSHOTS)
            buf_addf(out, "%s%s", k ? ", " : "", f[k].name);
}

/* One conversion: the object's text (for offsets in messages) and the video's id,
 * which every snapshot's video_id must repeat. Lives for one vrow_convert() call. */
struct conv {
    const char *obj;
    size_t len;
    unsigned char vid[16];
    struct vrow_info *info;
};

/* ==== Messages ==== */

/* Text from the file, made safe for a one-line message: at most 40 bytes, anything
 * but printable ASCII shown as '?'. */
static void add_safe(struct buf *b, const char *s)
{
    size_t i;
    for (i = 0; s[i] && i < 40; i++)
        buf_addc(b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
    if (s[i])
        buf_adds(b, "...");
}

static void add_quoted(struct buf *b, const char *s)
{
    buf_addc(b, '"');
    add_safe(b, s);
    buf_addc(b, '"');
}

/* Where the value of key (in snapshot snap, or in the video when snap is -1) begins;
 * the enclosing object when the path cannot be followed. */
static long long locate(const struct conv *c, long long snap, const char *key)
{
    struct jscan_step path[3] = {{"snapshots", 0}, {NULL, snap}, {key, 0}};
    long long at = -1;
    if (snap < 0 && key)
        at = jscan_locate(c->obj, c->len, path + 2, 1);
    if (snap >= 0 && key)
        at = jscan_locate(c->obj, c->len, path, 3);
    if (snap >= 0 && at < 0)
        at = jscan_locate(c->obj, c->len, path, 2);
    return at < 0 ? 0 : at;
}

/* A content error about snapshots[snap].key (either part may be absent). `shown`, a
 * string from the file, comes first in the message, quoted. */
static int bad(struct conv *c, long long snap, const char *key, const char *shown,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad(struct conv *c, long long snap, const char *key, const char *shown,
               const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    if (snap >= 0)
        buf_addf(&b, "snapshots[%lld]%s", snap, key ? "." : ": ");
    if (key) {
        add_safe(&b, key);
        buf_adds(&b, ": ");
    }
    if (shown) {
        add_quoted(&b, shown);
        buf_addc(&b, ' ');
    }
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    snprintf(c->info->error, sizeof c->info->error, "%s", buf_str(&b));
    c->info->at = locate(c, snap, key);
    buf_release(&b);
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

/* ==== Values ==== */

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

/* Written by hand: snprintf twice per snapshot is a visible part of the load time.
 * Years 1 to 9999 hold both here and in PostgreSQL; an offset may not push past them. */
static char *put_time(char *p, const char *s)
{
    static const int64_t lo = -62135596800LL * UTC_US_PER_SEC; /* 0001-01-01 */
    static const int64_t hi = 253402300800LL * UTC_US_PER_SEC; /* 10000-01-01 */
    struct utc_civil c;
    int64_t t;
    if (utc_parse(s, strlen(s), &t) || t < lo || t >= hi)
        return NULL;
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
    return p + 3;
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

/* cJSON keeps numbers as doubles: only integers below 2^53 in magnitude are taken.
 * Each of them is exact, and any text from 2^53 on parses to 2^53 or more, so no
 * count is ever silently rounded. */
static char *put_count(struct conv *c, char *p, const struct field *f, const cJSON *v,
                       long long snap)
{
    if (!cJSON_IsNumber(v))
        return bad(c, snap, f->name, NULL, "expected an integer, got %s", type_name(v)), NULL;
    double x = v->valuedouble;
    if (!(x > -9007199254740992.0 && x < 9007199254740992.0))
        return bad(c, snap, f->name, NULL, "%.17g is out of range", x), NULL;
    if (x != (double)(long long)x)
        return bad(c, snap, f->name, NULL, "%.17g is not an integer", x), NULL;
    if (f->kind == K_COUNT && x < 0)
        return bad(c, snap, f->name, NULL, "%lld is negative", (long long)x), NULL;
    return put_int(p, (long long)x);
}

/* Writes one field at p; returns the end, or NULL after an error. */
static char *put_field(struct conv *c, char *p, const struct field *f, const cJSON *v,
                       long long snap)
{
    unsigned char id[16];
    char *end;
    if (f->kind == K_COUNT || f->kind == K_DELTA)
        return put_count(c, p, f, v, snap);
    if (!cJSON_IsString(v))
        return bad(c, snap, f->name, NULL, "expected a string, got %s", type_name(v)), NULL;
    const char *s = v->valuestring;
    if (f->kind == K_TIME) {
        if ((end = put_time(p, s)))
            return end;
        return bad(c, snap, f->name, s, "is not an ISO 8601 timestamp"), NULL;
    }
    if (parse_id(s, id))
        return bad(c, snap, f->name, s,
                   "is not an id (32 hex digits, dashes allowed as in a UUID)"), NULL;
    if (f->kind == K_UUID && snap >= 0 && memcmp(id, c->vid, 16))
        return bad(c, snap, f->name, s, "is not the id of its video"), NULL;
    return put_id(p, id, f->kind == K_UUID);
}

/* ==== Objects ==== */

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
static int collect(struct conv *c, const cJSON *obj, const struct field *f, int n,
                   const cJSON **slot, long long snap)
{
    int next = 0;
    if (!cJSON_IsObject(obj))
        return bad(c, snap, NULL, NULL, "expected an object, got %s", type_name(obj));
    memset(slot, 0, sizeof *slot * (size_t)n);
    for (const cJSON *it = obj->child; it; it = it->next) {
        int k = field_index(f, n, next, it->string);
        if (k < 0)
            return bad(c, snap, it->string, NULL, "unknown key");
        if (slot[k])
            return bad(c, snap, NULL, NULL, "duplicate key \"%s\"", f[k].name);
        slot[k] = it;
        next = k + 1 < n ? k + 1 : 0;
    }
    for (int k = 0; k < n; k++)
        if (!slot[k])
            return bad(c, snap, NULL, NULL, "missing key \"%s\"", f[k].name);
    return 0;
}

/* Appends one tab-separated row of the fields in f (all but the snapshots) to b. */
static int put_row(struct conv *c, struct buf *b, const struct field *f, int n,
                   const cJSON **slot, long long snap)
{
    buf_grow(b, ROW_MAX);
    char *start = b->p + b->len, *p = start;
    for (int k = 0; k < n; k++) {
        if (f[k].kind == K_SNAPSHOTS)
            continue;
        if (p != start)
            *p++ = '\t';
        if (!(p = put_field(c, p, &f[k], slot[k], snap))) {
            *start = '\0';
            return -1;
        }
    }
    *p++ = '\n';
    *p = '\0';
    b->len += (size_t)(p - start);
    return 0;
}

static int convert(struct conv *c, const cJSON *v, struct buf *video, struct buf *snapshots)
{
    const cJSON *vs[MAX_FIELDS], *ss[MAX_FIELDS], *list;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    /* The id first, so that a message about any other field can name the video. */
    if (cJSON_IsString(id) && parse_id(id->valuestring, c->vid) == 0)
        *put_id(c->info->id, c->vid, 1) = '\0';
    if (collect(c, v, video_fields, NVIDEO, vs, -1) ||
        put_row(c, video, video_fields, NVIDEO, vs, -1))
        return -1;
    list = vs[NVIDEO - 1];
    if (!cJSON_IsArray(list))
        return bad(c, -1, "snapshots", NULL, "expected an array, got %s", type_name(list));
    for (const cJSON *s = list->child; s; s = s->next, c->info->snapshots++)
        if (collect(c, s, snapshot_fields, NSNAP, ss, c->info->snapshots) ||
            put_row(c, snapshots, snapshot_fields, NSNAP, ss, c->info->snapshots))
            return -1;
    return 0;
}

int vrow_convert(const char *obj, size_t len, struct buf *video, struct buf *snapshots,
                 struct vrow_info *info)
{
    struct conv c = {.obj = obj, .len = len, .info = info};
    size_t video_len = video->len, snapshots_len = snapshots->len;
    const char *end = NULL;
    memset(info, 0, sizeof *info);
    cJSON *v = cJSON_ParseWithLengthOpts(obj, len, &end, 0);
    int rc = 0;
    if (!v) {
        struct buf q = BUF_INIT;
        char near[24] = "";
        info->at = end && end >= obj && end <= obj + len ? end - obj : 0;
        memcpy(near, obj + info->at, len - (size_t)info->at < 20 ? len - (size_t)info->at : 20);
        add_quoted(&q, near);
        snprintf(info->error, sizeof info->error, "malformed JSON at %s", buf_str(&q));
        buf_release(&q);
        return -1;
    }
    rc = convert(&c, v, video, snapshots);
    cJSON_Delete(v);
    if (rc) {
        buf_truncate(video, video_len);
        buf_truncate(snapshots, snapshots_len);
    }
    return rc;
}
