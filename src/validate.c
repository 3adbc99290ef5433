#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "utc.h"

static int fail(struct buf *err, const char *path, const char *what, const char *got)
{
    buf_reset(err);
    buf_addf(err, "%s: %s", path, what);
    if (got) {
        buf_adds(err, " (got \"");
        text_add_clean(err, got, strlen(got), 60);
        buf_adds(err, "\")");
    }
    return -1;
}

static int fail_name(struct buf *err, const char *path, const char *what, const char *name)
{
    return fail(err, path, what, name ? name : "null");
}

/* ==== Ids ==== */

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Lowercases id and drops the dashes of the 8-4-4-4-12 form. Returns its length, or
 * 0 when it holds anything but letters, digits and UUID dashes. */
static size_t id_compact(char *id)
{
    size_t n = strlen(id), k = 0;
    int uuid = n == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch == '-' && uuid)
            continue;
        if (!isalnum(ch) || ch >= 0x80)
            return 0;
        id[k++] = (char)tolower(ch);
    }
    id[k] = '\0';
    return k;
}

/* An id is 32 hex digits. A short token (a placeholder such as "123" in "креатор 123")
 * is accepted: no row has it, so it answers 0, as an unknown id should. What looks like a
 * shortened id (8 to 31 hex digits) is refused: silently matching nothing would give a
 * wrong 0, so it has to be asked as creator_prefix. */
static int check_id(struct buf *err, const char *path, char *id, int dashed)
{
    char orig[SPEC_ID_MAX];
    memcpy(orig, id, sizeof orig);
    size_t n = id_compact(id);
    if (n == 0 || n > 32)
        return fail(err, path, "not an id: want 32 hex digits", orig);
    if (n >= 8 && n < 32 && is_hex(id, n))
        return fail(err, path, "a shortened id: use creator_prefix or the full id", orig);
    if (n == 32 && is_hex(id, n) && dashed) {
        char d[37];
        memcpy(d, id, 8);
        d[8] = '-';
        memcpy(d + 9, id + 8, 4);
        d[13] = '-';
        memcpy(d + 14, id + 12, 4);
        d[18] = '-';
        memcpy(d + 19, id + 16, 4);
        d[23] = '-';
        memcpy(d + 24, id + 20, 12);
        d[36] = '\0';
        memcpy(id, d, sizeof d);
    }
    return 0;
}

static int check_ids(struct buf *err, const char *key, char ids[][SPEC_ID_MAX], int n, int dashed)
{
    char path[64];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "filters.%s[%d]", key, i);
        if (check_id(err, path, ids[i], dashed))
            return -1;
    }
    return 0;
}

static int check_prefix(struct buf *err, struct spec *s)
{
    if (!s->creator_prefix[0])
        return 0;
    char orig[SPEC_ID_MAX];
    memcpy(orig, s->creator_prefix, sizeof orig);
    size_t n = id_compact(s->creator_prefix);
    if (n < 8 || n > 31 || !is_hex(s->creator_prefix, n))
        return fail(err, "filters.creator_prefix", "want 8 to 31 hex digits", orig);
    if (s->n_creators)
        return fail(err, "filters.creator_prefix", "give either creator_ids or creator_prefix", orig);
    return 0;
}

/* ==== Times ==== */

static int check_instant(struct buf *err, const char *path, int has, int64_t t)
{
    static int64_t lo, hi;
    if (!has)
        return 0;
    if (!lo) {
        lo = utc_days_from_civil(VALIDATE_MIN_YEAR, 1, 1) * UTC_US_PER_DAY;
        hi = utc_days_from_civil(VALIDATE_MAX_YEAR, 1, 1) * UTC_US_PER_DAY;
    }
    if (t < lo || t > hi) {
        char s[UTC_FMT_MAX];
        utc_format(t, s, sizeof s);
        return fail(err, path, "time out of range [2000, 2100)", s);
    }
    return 0;
}

static int check_range(struct buf *err, const char *name, const struct spec_range *r)
{
    char pf[48], pt[48];
    snprintf(pf, sizeof pf, "filters.%s_from", name);
    snprintf(pt, sizeof pt, "filters.%s_to", name);
    if (check_instant(err, pf, r->has_from, r->from) || check_instant(err, pt, r->has_to, r->to))
        return -1;
    if (r->has_from && r->has_to && r->from >= r->to) {
        char s[UTC_FMT_MAX];
        utc_format(r->to, s, sizeof s);
        return fail(err, pt, "the range is empty or inverted: to must come after from", s);
    }
    return 0;
}

/* ==== Table, aggregation, field ==== */

/* The numeric columns each table has: the four totals everywhere, deltas on snapshots. */
static int column_of(enum spec_table t, enum spec_field f)
{
    return spec_field_is_count(f) && (t == SPEC_TABLE_SNAPSHOTS || !spec_field_is_delta(f));
}

static int check_shape(struct buf *err, const struct spec *s)
{
    const char *fname = spec_field_name(s->field);
    if (!s->table)
        return fail(err, "table", "required when supported is true", NULL);
    if (!s->agg)
        return fail(err, "aggregation", "required when supported is true", NULL);
    switch (s->agg) {
    case SPEC_AGG_COUNT:
        if (s->field)
            return fail_name(err, "field", "count counts rows: field must be null", fname);
        return 0;
    case SPEC_AGG_COUNT_DISTINCT:
        if (s->field != SPEC_FIELD_VIDEO_ID && s->field != SPEC_FIELD_CREATOR_ID &&
            s->field != SPEC_FIELD_PUBLICATION_DAY)
            return fail_name(err, "field",
                             "count_distinct needs video_id, creator_id or publication_day", fname);
        return 0;
    default:
        if (!column_of(s->table, s->field))
            return fail_name(err, "field", s->table == SPEC_TABLE_VIDEOS
                                               ? "not a numeric column of videos"
                                               : "not a numeric column of video_snapshots",
                             fname);
        return 0;
    }
}

static int check_conds(struct buf *err, const struct spec *s)
{
    char path[64];
    for (int i = 0; i < s->n_conds; i++) {
        const struct spec_cond *c = &s->conds[i];
        snprintf(path, sizeof path, "filters.conditions[%d].field", i);
        if (!column_of(s->table, c->field))
            return fail_name(err, path, "not a numeric column of the table", spec_field_name(c->field));
        snprintf(path, sizeof path, "filters.conditions[%d].op", i);
        if (!spec_op_name(c->op))
            return fail(err, path, "unknown operator", NULL);
        if (c->value > VALIDATE_MAX_VALUE || c->value < -VALIDATE_MAX_VALUE) {
            char v[32];
            snprintf(v, sizeof v, "%lld", (long long)c->value);
            snprintf(path, sizeof path, "filters.conditions[%d].value", i);
            return fail(err, path, "value out of range", v);
        }
    }
    return 0;
}

static int check_snapshot_only(struct buf *err, const struct spec *s)
{
    if (s->table == SPEC_TABLE_SNAPSHOTS)
        return 0;
    if (s->measured.has_from || s->measured.has_to)
        return fail(err, s->measured.has_from ? "filters.measured_from" : "filters.measured_to",
                    "measurement times need table video_snapshots", NULL);
    if (s->after_pub_us)
        return fail(err, "filters.hours_after_publication",
                    "a window after publication needs table video_snapshots", NULL);
    return 0;
}

int validate_spec(struct spec *s, struct buf *err)
{
    if (!s->supported) {
        if (!spec_reason_name(s->reason))
            return fail(err, "reason", "required when supported is false", NULL);
        enum spec_reason why = s->reason;
        spec_unsupported(s, why); /* nothing else of an unsupported spec is used */
        return 0;
    }
    if (s->reason)
        return fail_name(err, "reason", "must be null when supported is true",
                         spec_reason_name(s->reason));
    if (s->n_creators < 0 || s->n_creators > SPEC_MAX_IDS || s->n_videos < 0 ||
        s->n_videos > SPEC_MAX_IDS || s->n_conds < 0 || s->n_conds > SPEC_MAX_CONDS)
        return fail(err, "filters", "too many ids or conditions", NULL);
    if (!spec_table_name(s->table) && s->table)
        return fail(err, "table", "unknown table", NULL);
    if (check_shape(err, s) || check_conds(err, s) || check_snapshot_only(err, s) ||
        check_ids(err, "creator_ids", s->creator_ids, s->n_creators, 0) ||
        check_ids(err, "video_ids", s->video_ids, s->n_videos, 1) || check_prefix(err, s) ||
        check_range(err, "published", &s->published) || check_range(err, "measured", &s->measured))
        return -1;
    if (s->after_pub_us < 0 || s->after_pub_us > 8784LL * 3600 * UTC_US_PER_SEC)
        return fail(err, "filters.hours_after_publication", "hours out of range (0, 8784]", NULL);
    return 0;
}

int validate_json(const char *json, size_t len, struct spec *out, struct buf *err)
{
    if (spec_parse(json, len, out, err))
        return -1;
    return validate_spec(out, err);
}
