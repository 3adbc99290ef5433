#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "text.h"
#include "utc.h"

/* ==== Names ==== */

static const char *const table_names[] = {NULL, "videos", "video_snapshots"};
static const char *const agg_names[] = {NULL, "count", "count_distinct", "sum", "avg", "min", "max"};
static const char *const field_names[] = {
    NULL, "views_count", "likes_count", "comments_count", "reports_count",
    "delta_views_count", "delta_likes_count", "delta_comments_count", "delta_reports_count",
    "video_id", "creator_id", "publication_day"};
static const char *const op_names[] = {">", ">=", "<", "<=", "=", "!="};
static const char *const reason_names[] = {NULL, "list", "ranking", "non_numeric", "write",
                                           "off_topic", "unknown_metric", "ambiguous"};

#define COUNT_OF(a) (sizeof(a) / sizeof *(a))

static const char *name_at(const char *const *names, size_t n, int i)
{
    return i >= 0 && (size_t)i < n ? names[i] : NULL;
}

static int index_of(const char *const *names, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strlen(names[i]) == len && !memcmp(names[i], s, len))
            return (int)i;
    return -1;
}

const char *spec_table_name(enum spec_table t)
{
    return name_at(table_names, COUNT_OF(table_names), (int)t);
}

const char *spec_agg_name(enum spec_agg a)
{
    return name_at(agg_names, COUNT_OF(agg_names), (int)a);
}

const char *spec_field_name(enum spec_field f)
{
    return name_at(field_names, COUNT_OF(field_names), (int)f);
}

const char *spec_op_name(enum spec_op op)
{
    return name_at(op_names, COUNT_OF(op_names), (int)op);
}

const char *spec_reason_name(enum spec_reason r)
{
    return name_at(reason_names, COUNT_OF(reason_names), (int)r);
}

int spec_field_is_count(enum spec_field f)
{
    return f >= SPEC_FIELD_VIEWS && f <= SPEC_FIELD_DELTA_REPORTS;
}

int spec_field_is_delta(enum spec_field f)
{
    return f >= SPEC_FIELD_DELTA_VIEWS && f <= SPEC_FIELD_DELTA_REPORTS;
}

int spec_field_by_name(const char *s, size_t len)
{
    return index_of(field_names, COUNT_OF(field_names), s, len);
}

int spec_op_by_name(const char *s, size_t len)
{
    return index_of(op_names, COUNT_OF(op_names), s, len);
}

void spec_init(struct spec *s)
{
    memset(s, 0, sizeof *s);
    s->supported = 1;
}

void spec_unsupported(struct spec *s, enum spec_reason why)
{
    spec_init(s);
    s->supported = 0;
    s->reason = why;
}

/* ==== Parsing ==== */

/* Context of one parse: the JSON path being read, for error messages. */
struct pctx {
    struct buf *err;
    char path[128];
};

static void value_repr(const cJSON *v, struct buf *out)
{
    if (!v) {
        buf_adds(out, "nothing");
        return;
    }
    char *txt = cJSON_PrintUnformatted(v);
    if (!txt) {
        buf_adds(out, "?");
        return;
    }
    size_t n = strlen(txt);
    text_add_clean(out, txt, n, 60);
    if (n > 60)
        buf_adds(out, "...");
    cJSON_free(txt);
}

static int fail(struct pctx *c, const char *what, const cJSON *got)
{
    buf_reset(c->err);
    buf_addf(c->err, "%s: %s (got ", c->path[0] ? c->path : "spec", what);
    value_repr(got, c->err);
    buf_addc(c->err, ')');
    return -1;
}

/* Appends ".key" or "[i]" to the path for the duration of one member. A key is any
 * JSON string, so it is cleaned and shortened: errors are one line of UTF-8. */
static size_t path_push(struct pctx *c, const char *key, int index)
{
    size_t old = strlen(c->path);
    if (key) {
        struct buf k = BUF_INIT;
        text_add_clean(&k, key, strlen(key), 40);
        snprintf(c->path + old, sizeof c->path - old, "%s%s", old ? "." : "", buf_str(&k));
        buf_release(&k);
    } else
        snprintf(c->path + old, sizeof c->path - old, "[%d]", index);
    return old;
}

static void path_pop(struct pctx *c, size_t old)
{
    c->path[old] = '\0';
}

/* An enum member given as a string from names[], or null when nullable. */
static int parse_enum(struct pctx *c, const cJSON *v, const char *const *names, size_t n,
                      int nullable, int *out)
{
    if (nullable && cJSON_IsNull(v)) {
        *out = 0;
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(c, nullable ? "expected a string or null" : "expected a string", v);
    int i = index_of(names, n, v->valuestring, strlen(v->valuestring));
    if (i < 0)
        return fail(c, "unknown value", v);
    *out = i;
    return 0;
}

/* JSON numbers are doubles: an integer is one with no fraction, within +-2^53. */
static int parse_int(struct pctx *c, const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return fail(c, "expected an integer", v);
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0)
        return fail(c, "expected an integer", v);
    *out = (int64_t)d;
    return 0;
}

static int parse_time(struct pctx *c, const cJSON *v, int *has, int64_t *out)
{
    if (cJSON_IsNull(v)) {
        *has = 0;
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(c, "expected an ISO 8601 time or null", v);
    if (utc_parse(v->valuestring, strlen(v->valuestring), out))
        return fail(c, "not an ISO 8601 time", v);
    *has = 1;
    return 0;
}

static int parse_id(struct pctx *c, const cJSON *v, char out[SPEC_ID_MAX])
{
    if (!cJSON_IsString(v))
        return fail(c, "expected a string", v);
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= SPEC_ID_MAX)
        return fail(c, "id of a wrong length", v);
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

static int parse_ids(struct pctx *c, const cJSON *v, char ids[][SPEC_ID_MAX], int *n)
{
    if (!cJSON_IsArray(v))
        return fail(c, "expected an array", v);
    if (cJSON_GetArraySize(v) > SPEC_MAX_IDS)
        return fail(c, "too many ids (at most 50)", v);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        size_t old = path_push(c, NULL, i);
        if (parse_id(c, e, ids[i]))
            return -1;
        path_pop(c, old);
    }
    *n = i;
    return 0;
}

static int parse_hours(struct pctx *c, const cJSON *v, int64_t *out_us)
{
    if (cJSON_IsNull(v)) {
        *out_us = 0;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return fail(c, "expected a number of hours or null", v);
    double h = v->valuedouble;
    if (h <= 0 || h > 24.0 * 366)
        return fail(c, "hours out of range (0, 8784]", v);
    *out_us = (int64_t)llround(h * 3600.0) * UTC_US_PER_SEC;
    if (*out_us <= 0)
        return fail(c, "hours out of range (0, 8784]", v);
    return 0;
}

/* Checks that obj is an object whose keys are all in keys[] and none repeats; sets
 * bit i of *seen for keys[i]. */
static int check_keys(struct pctx *c, const cJSON *obj, const char *const *keys, size_t n,
                      unsigned *seen)
{
    if (!cJSON_IsObject(obj))
        return fail(c, "expected an object", obj);
    *seen = 0;
    for (const cJSON *m = obj->child; m; m = m->next) {
        int i = index_of(keys, n, m->string, strlen(m->string));
        size_t old = path_push(c, m->string, 0);
        if (i < 0)
            return fail(c, "unknown key", m);
        if (*seen & (1u << i))
            return fail(c, "duplicate key", m);
        path_pop(c, old);
        *seen |= 1u << i;
    }
    return 0;
}

static int parse_cond(struct pctx *c, const cJSON *v, struct spec_cond *out)
{
    static const char *const keys[] = {"field", "op", "value"};
    unsigned seen;
    int f = 0, op = 0;
    if (check_keys(c, v, keys, COUNT_OF(keys), &seen))
        return -1;
    if (seen != 7)
        return fail(c, "a condition needs field, op and value", v);
    size_t old = path_push(c, "field", 0);
    if (parse_enum(c, cJSON_GetObjectItemCaseSensitive(v, "field"), field_names,
                   COUNT_OF(field_names), 0, &f))
        return -1;
    if (!spec_field_is_count((enum spec_field)f))
        return fail(c, "not a numeric column", cJSON_GetObjectItemCaseSensitive(v, "field"));
    path_pop(c, old);
    old = path_push(c, "op", 0);
    if (parse_enum(c, cJSON_GetObjectItemCaseSensitive(v, "op"), op_names, COUNT_OF(op_names), 0, &op))
        return -1;
    path_pop(c, old);
    old = path_push(c, "value", 0);
    if (parse_int(c, cJSON_GetObjectItemCaseSensitive(v, "value"), &out->value))
        return -1;
    path_pop(c, old);
    out->field = (enum spec_field)f;
    out->op = (enum spec_op)op;
    return 0;
}

static int parse_conds(struct pctx *c, const cJSON *v, struct spec *s)
{
    if (!cJSON_IsArray(v))
        return fail(c, "expected an array", v);
    if (cJSON_GetArraySize(v) > SPEC_MAX_CONDS)
        return fail(c, "too many conditions (at most 8)", v);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        size_t old = path_push(c, NULL, i);
        if (parse_cond(c, e, &s->conds[i]))
            return -1;
        path_pop(c, old);
    }
    s->n_conds = i;
    return 0;
}

static const char *const filter_keys[] = {
    "creator_ids", "creator_prefix", "video_ids", "published_from", "published_to",
    "measured_from", "measured_to", "hours_after_publication", "conditions"};

/* One member of "filters", by its index in filter_keys. */
static int parse_filter(struct pctx *c, int k, const cJSON *v, struct spec *s)
{
    switch (k) {
    case 0:
        return parse_ids(c, v, s->creator_ids, &s->n_creators);
    case 1:
        if (cJSON_IsNull(v))
            return 0;
        return parse_id(c, v, s->creator_prefix);
    case 2:
        return parse_ids(c, v, s->video_ids, &s->n_videos);
    case 3:
        return parse_time(c, v, &s->published.has_from, &s->published.from);
    case 4:
        return parse_time(c, v, &s->published.has_to, &s->published.to);
    case 5:
        return parse_time(c, v, &s->measured.has_from, &s->measured.from);
    case 6:
        return parse_time(c, v, &s->measured.has_to, &s->measured.to);
    case 7:
        return parse_hours(c, v, &s->after_pub_us);
    default:
        return parse_conds(c, v, s);
    }
}

static int parse_filters(struct pctx *c, const cJSON *v, struct spec *s)
{
    unsigned seen;
    if (cJSON_IsNull(v))
        return 0;
    if (check_keys(c, v, filter_keys, COUNT_OF(filter_keys), &seen))
        return -1;
    for (size_t k = 0; k < COUNT_OF(filter_keys); k++) {
        if (!(seen & (1u << k)))
            continue;
        size_t old = path_push(c, filter_keys[k], 0);
        if (parse_filter(c, (int)k, cJSON_GetObjectItemCaseSensitive(v, filter_keys[k]), s))
            return -1;
        path_pop(c, old);
    }
    return 0;
}

static const char *const top_keys[] = {"supported", "reason", "table", "aggregation", "field",
                                       "filters"};

static int parse_top(struct pctx *c, int k, const cJSON *v, struct spec *s)
{
    int e = 0, rc = 0;
    switch (k) {
    case 0:
        if (!cJSON_IsBool(v))
            return fail(c, "expected true or false", v);
        s->supported = cJSON_IsTrue(v);
        return 0;
    case 1:
        rc = parse_enum(c, v, reason_names, COUNT_OF(reason_names), 1, &e);
        s->reason = (enum spec_reason)e;
        return rc;
    case 2:
        rc = parse_enum(c, v, table_names, COUNT_OF(table_names), 1, &e);
        s->table = (enum spec_table)e;
        return rc;
    case 3:
        rc = parse_enum(c, v, agg_names, COUNT_OF(agg_names), 1, &e);
        s->agg = (enum spec_agg)e;
        return rc;
    case 4:
        rc = parse_enum(c, v, field_names, COUNT_OF(field_names), 1, &e);
        s->field = (enum spec_field)e;
        return rc;
    default:
        return parse_filters(c, v, s);
    }
}

int spec_parse(const char *json, size_t len, struct spec *out, struct buf *err)
{
    struct pctx c = {err, ""};
    const char *end = NULL;
    unsigned seen;
    spec_init(out);
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        buf_reset(err);
        buf_addf(err, "spec: not valid JSON near byte %zu", end && end >= json ? (size_t)(end - json) : 0);
        return -1;
    }
    while (end && end < json + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    int rc = 0;
    if (end != json + len) {
        buf_reset(err);
        buf_addf(err, "spec: unexpected text after the JSON value at byte %zu", (size_t)(end - json));
        rc = -1;
    } else if (check_keys(&c, root, top_keys, COUNT_OF(top_keys), &seen)) {
        rc = -1;
    } else {
        for (size_t k = 0; k < COUNT_OF(top_keys) && rc == 0; k++) {
            if (!(seen & (1u << k)))
                continue;
            size_t old = path_push(&c, top_keys[k], 0);
            rc = parse_top(&c, (int)k, cJSON_GetObjectItemCaseSensitive(root, top_keys[k]), out);
            path_pop(&c, old);
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* ==== Printing ==== */

static void put_str(struct buf *b, const char *s)
{
    buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            buf_addf(b, "\\%c", ch);
        else if (ch < 0x20)
            buf_addf(b, "\\u%04x", ch);
        else
            buf_addc(b, (char)ch);
    }
    buf_addc(b, '"');
}

static void put_name_or_null(struct buf *b, const char *name)
{
    if (name)
        put_str(b, name);
    else
        buf_adds(b, "null");
}

/* Emits members in the order the caller asks; `canon` skips empty ones. */
struct emitter {
    struct buf *b;
    int canon;
    int n; /* members written in the current object */
};

static int member(struct emitter *e, const char *key, int empty)
{
    if (e->canon && empty)
        return 0;
    buf_adds(e->b, e->n++ ? ",\"" : "\"");
    buf_adds(e->b, key);
    buf_adds(e->b, "\":");
    return 1;
}

static void put_ids(struct buf *b, const char ids[][SPEC_ID_MAX], int n)
{
    buf_addc(b, '[');
    for (int i = 0; i < n; i++) {
        if (i)
            buf_addc(b, ',');
        put_str(b, ids[i]);
    }
    buf_addc(b, ']');
}

static void put_time(struct buf *b, int has, int64_t t)
{
    char s[UTC_FMT_MAX];
    if (!has) {
        buf_adds(b, "null");
        return;
    }
    utc_format(t, s, sizeof s);
    put_str(b, s);
}

static void put_hours(struct buf *b, int64_t us)
{
    const int64_t hour = 3600 * UTC_US_PER_SEC;
    if (us % hour == 0) {
        buf_addf(b, "%lld", (long long)(us / hour));
        return;
    }
    size_t at = b->len;
    buf_addf(b, "%.6f", (double)us / (double)hour);
    while (b->len > at && b->p[b->len - 1] == '0')
        buf_truncate(b, b->len - 1);
}

static void put_conds(struct buf *b, const struct spec *s)
{
    buf_addc(b, '[');
    for (int i = 0; i < s->n_conds; i++) {
        const struct spec_cond *c = &s->conds[i];
        buf_adds(b, i ? ",{\"field\":" : "{\"field\":");
        put_name_or_null(b, spec_field_name(c->field));
        buf_adds(b, ",\"op\":");
        put_name_or_null(b, spec_op_name(c->op));
        buf_addf(b, ",\"value\":%lld}", (long long)c->value);
    }
    buf_addc(b, ']');
}

static int filters_empty(const struct spec *s)
{
    return !s->n_creators && !s->creator_prefix[0] && !s->n_videos && !s->published.has_from &&
           !s->published.has_to && !s->measured.has_from && !s->measured.has_to &&
           !s->after_pub_us && !s->n_conds;
}

/* Canonical order is alphabetical; full order is the schema's. Both lists name the same
 * members, so one function per member serves both. */
static void emit_filter(struct emitter *e, const struct spec *s, const char *key)
{
    struct buf *b = e->b;
    if (!strcmp(key, "conditions")) {
        if (member(e, key, !s->n_conds))
            put_conds(b, s);
    } else if (!strcmp(key, "creator_ids")) {
        if (member(e, key, !s->n_creators))
            put_ids(b, s->creator_ids, s->n_creators);
    } else if (!strcmp(key, "creator_prefix")) {
        if (member(e, key, !s->creator_prefix[0]))
            put_name_or_null(b, s->creator_prefix[0] ? s->creator_prefix : NULL);
    } else if (!strcmp(key, "hours_after_publication")) {
        if (member(e, key, !s->after_pub_us)) {
            if (s->after_pub_us)
                put_hours(b, s->after_pub_us);
            else
                buf_adds(b, "null");
        }
    } else if (!strcmp(key, "measured_from")) {
        if (member(e, key, !s->measured.has_from))
            put_time(b, s->measured.has_from, s->measured.from);
    } else if (!strcmp(key, "measured_to")) {
        if (member(e, key, !s->measured.has_to))
            put_time(b, s->measured.has_to, s->measured.to);
    } else if (!strcmp(key, "published_from")) {
        if (member(e, key, !s->published.has_from))
            put_time(b, s->published.has_from, s->published.from);
    } else if (!strcmp(key, "published_to")) {
        if (member(e, key, !s->published.has_to))
            put_time(b, s->published.has_to, s->published.to);
    } else if (!strcmp(key, "video_ids")) {
        if (member(e, key, !s->n_videos))
            put_ids(b, s->video_ids, s->n_videos);
    }
}

static void emit_top(struct emitter *e, const struct spec *s, const char *key)
{
    struct buf *b = e->b;
    if (!strcmp(key, "supported")) {
        if (member(e, key, s->supported))
            buf_adds(b, s->supported ? "true" : "false");
    } else if (!strcmp(key, "reason")) {
        if (member(e, key, !s->reason))
            put_name_or_null(b, spec_reason_name(s->reason));
    } else if (!strcmp(key, "table")) {
        if (member(e, key, !s->table))
            put_name_or_null(b, spec_table_name(s->table));
    } else if (!strcmp(key, "aggregation")) {
        if (member(e, key, !s->agg))
            put_name_or_null(b, spec_agg_name(s->agg));
    } else if (!strcmp(key, "field")) {
        if (member(e, key, !s->field))
            put_name_or_null(b, spec_field_name(s->field));
    } else if (!strcmp(key, "filters")) {
        if (member(e, key, filters_empty(s))) {
            static const char *const canon[] = {
                "conditions", "creator_ids", "creator_prefix", "hours_after_publication",
                "measured_from", "measured_to", "published_from", "published_to", "video_ids"};
            struct emitter inner = {b, e->canon, 0};
            buf_addc(b, '{');
            for (size_t i = 0; i < COUNT_OF(canon); i++)
                emit_filter(&inner, s, e->canon ? canon[i] : filter_keys[i]);
            buf_addc(b, '}');
        }
    }
}

/* Re-indents compact JSON (our own output: no whitespace outside strings). */
static void pretty(const char *in, struct buf *out)
{
    int depth = 0, in_str = 0;
    for (const char *p = in; *p; p++) {
        char ch = *p;
        if (in_str) {
            buf_addc(out, ch);
            if (ch == '\\' && p[1])
                buf_addc(out, *++p);
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if ((ch == '{' || ch == '[') && (p[1] == '}' || p[1] == ']')) {
            buf_addc(out, ch);
            buf_addc(out, *++p);
        } else if (ch == '{' || ch == '[') {
            buf_addc(out, ch);
            buf_addf(out, "\n%*s", 2 * ++depth, "");
        } else if (ch == '}' || ch == ']') {
            buf_addf(out, "\n%*s", 2 * --depth, "");
            buf_addc(out, ch);
        } else if (ch == ',') {
            buf_addf(out, ",\n%*s", 2 * depth, "");
        } else if (ch == ':') {
            buf_adds(out, ": ");
        } else {
            if (ch == '"')
                in_str = 1;
            buf_addc(out, ch);
        }
    }
}

void spec_print(const struct spec *s, enum spec_json_style style, struct buf *out)
{
    static const char *const canon[] = {"aggregation", "field", "filters", "reason",
                                        "supported", "table"};
    struct buf tmp = BUF_INIT;
    struct emitter e = {style == SPEC_JSON_PRETTY ? &tmp : out, style == SPEC_JSON_CANON, 0};
    buf_addc(e.b, '{');
    for (size_t i = 0; i < COUNT_OF(top_keys); i++)
        emit_top(&e, s, e.canon ? canon[i] : top_keys[i]);
    buf_addc(e.b, '}');
    if (style == SPEC_JSON_PRETTY)
        pretty(buf_str(&tmp), out);
    buf_release(&tmp);
}
