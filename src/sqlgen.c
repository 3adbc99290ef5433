#include "sqlgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utc.h"
#include "xalloc.h"

/* ==== Parameters and conditions ==== */

static int add_param(struct sqlgen_query *q, const char *value)
{
    q->params[q->nparams] = xstrdup(value);
    return ++q->nparams;
}

/* Starts one WHERE term: "WHERE" before the first, "AND" before the others. */
static void term(struct sqlgen_query *q, int *n)
{
    buf_adds(&q->sql, (*n)++ ? " AND " : " WHERE ");
}

static void range_terms(struct sqlgen_query *q, int *n, const char *col, const struct spec_range *r)
{
    char t[UTC_FMT_MAX];
    if (r->has_from) {
        utc_format(r->from, t, sizeof t);
        term(q, n);
        buf_addf(&q->sql, "%s >= $%d::timestamptz", col, add_param(q, t));
    }
    if (r->has_to) {
        utc_format(r->to, t, sizeof t);
        term(q, n);
        buf_addf(&q->sql, "%s < $%d::timestamptz", col, add_param(q, t));
    }
}

/* One id compares with "=", several with "= ANY" of a text[] literal; the ids are
 * validated ([0-9a-z-] only), so the literal needs no quoting. */
static void ids_term(struct sqlgen_query *q, int *n, const char *col, const char ids[][SPEC_ID_MAX],
                     int count)
{
    if (count == 0)
        return;
    term(q, n);
    if (count == 1) {
        buf_addf(&q->sql, "%s = $%d", col, add_param(q, ids[0]));
        return;
    }
    struct buf lit = BUF_INIT;
    buf_addc(&lit, '{');
    for (int i = 0; i < count; i++)
        buf_addf(&lit, "%s%s", i ? "," : "", ids[i]);
    buf_addc(&lit, '}');
    buf_addf(&q->sql, "%s = ANY($%d::text[])", col, add_param(q, buf_str(&lit)));
    buf_release(&lit);
}

/* The smallest string above every id that starts with prefix: drop trailing 'f's and
 * step the last digit ('9' -> 'a'). Returns 0 when there is none (all 'f'). Ids are
 * lowercase hex in the "C" collation, so [prefix, upper) is exactly "starts with". */
static int prefix_upper(const char *prefix, char *upper, size_t cap)
{
    size_t n = strlen(prefix);
    while (n && prefix[n - 1] == 'f')
        n--;
    if (n == 0 || n >= cap)
        return 0;
    memcpy(upper, prefix, n);
    upper[n - 1] = upper[n - 1] == '9' ? 'a' : (char)(upper[n - 1] + 1);
    upper[n] = '\0';
    return 1;
}

static void prefix_terms(struct sqlgen_query *q, int *n, const char *col, const char *prefix)
{
    char upper[SPEC_ID_MAX];
    term(q, n);
    buf_addf(&q->sql, "%s >= $%d", col, add_param(q, prefix));
    if (prefix_upper(prefix, upper, sizeof upper)) {
        term(q, n);
        buf_addf(&q->sql, "%s < $%d", col, add_param(q, upper));
    }
}

/* ==== The SELECT ==== */

static const char *column(const struct spec *s, enum spec_field f)
{
    static const char *const video_cols[] = {
        [SPEC_FIELD_VIEWS] = "v.views_count", [SPEC_FIELD_LIKES] = "v.likes_count",
        [SPEC_FIELD_COMMENTS] = "v.comments_count", [SPEC_FIELD_REPORTS] = "v.reports_count",
        [SPEC_FIELD_VIDEO_ID] = "v.id", [SPEC_FIELD_CREATOR_ID] = "v.creator_id"};
    static const char *const snap_cols[] = {
        [SPEC_FIELD_VIEWS] = "s.views_count", [SPEC_FIELD_LIKES] = "s.likes_count",
        [SPEC_FIELD_COMMENTS] = "s.comments_count", [SPEC_FIELD_REPORTS] = "s.reports_count",
        [SPEC_FIELD_DELTA_VIEWS] = "s.delta_views_count",
        [SPEC_FIELD_DELTA_LIKES] = "s.delta_likes_count",
        [SPEC_FIELD_DELTA_COMMENTS] = "s.delta_comments_count",
        [SPEC_FIELD_DELTA_REPORTS] = "s.delta_reports_count",
        [SPEC_FIELD_VIDEO_ID] = "s.video_id", [SPEC_FIELD_CREATOR_ID] = "v.creator_id"};
    if (f == SPEC_FIELD_PUBLICATION_DAY)
        return "(v.video_created_at AT TIME ZONE 'UTC')::date";
    if ((int)f < 0 || f > SPEC_FIELD_CREATOR_ID)
        return NULL;
    return s->table == SPEC_TABLE_SNAPSHOTS ? snap_cols[f] : video_cols[f];
}

static int add_select(const struct spec *s, struct sqlgen_query *q)
{
    const char *col = s->field ? column(s, s->field) : NULL;
    if (s->agg != SPEC_AGG_COUNT && !col)
        return -1;
    switch (s->agg) {
    case SPEC_AGG_COUNT:
        buf_adds(&q->sql, "SELECT COUNT(*)");
        return 0;
    case SPEC_AGG_COUNT_DISTINCT:
        buf_addf(&q->sql, "SELECT COUNT(DISTINCT %s)", col);
        return 0;
    case SPEC_AGG_SUM:
        buf_addf(&q->sql, "SELECT COALESCE(SUM(%s), 0)", col);
        return 0;
    case SPEC_AGG_AVG:
        buf_addf(&q->sql, "SELECT COALESCE(ROUND(AVG(%s)), 0)::bigint", col);
        return 0;
    case SPEC_AGG_MIN:
        buf_addf(&q->sql, "SELECT COALESCE(MIN(%s), 0)", col);
        return 0;
    case SPEC_AGG_MAX:
        buf_addf(&q->sql, "SELECT COALESCE(MAX(%s), 0)", col);
        return 0;
    default:
        return -1;
    }
}

/* Snapshots meet videos only when the question needs a column of videos. */
static int needs_videos(const struct spec *s)
{
    return s->n_creators || s->creator_prefix[0] || s->published.has_from ||
           s->published.has_to || s->after_pub_us || s->field == SPEC_FIELD_CREATOR_ID ||
           s->field == SPEC_FIELD_PUBLICATION_DAY;
}

static void add_from(const struct spec *s, struct sqlgen_query *q)
{
    if (s->table == SPEC_TABLE_VIDEOS)
        buf_adds(&q->sql, " FROM videos v");
    else if (needs_videos(s))
        buf_adds(&q->sql, " FROM video_snapshots s JOIN videos v ON v.id = s.video_id");
    else
        buf_adds(&q->sql, " FROM video_snapshots s");
}

static void add_where(const struct spec *s, struct sqlgen_query *q)
{
    int n = 0, snaps = s->table == SPEC_TABLE_SNAPSHOTS;
    char v[32];
    ids_term(q, &n, "v.creator_id", s->creator_ids, s->n_creators);
    if (s->creator_prefix[0])
        prefix_terms(q, &n, "v.creator_id", s->creator_prefix);
    ids_term(q, &n, snaps ? "s.video_id" : "v.id", s->video_ids, s->n_videos);
    range_terms(q, &n, "v.video_created_at", &s->published);
    range_terms(q, &n, "s.created_at", &s->measured);
    if (s->after_pub_us) {
        snprintf(v, sizeof v, "%lld microseconds", (long long)s->after_pub_us);
        int k = add_param(q, v);
        term(q, &n);
        buf_addf(&q->sql, "s.created_at >= v.video_created_at AND s.created_at < v.video_created_at + $%d::interval",
                 k);
        /* Implied by the two terms above, and what keeps this fast: a video counts only
         * when it was published in (first snapshot - N, last snapshot], so the join
         * starts from those videos (index videos_published) instead of all of them. */
        buf_addf(&q->sql,
                 " AND v.video_created_at > (SELECT MIN(m.created_at) FROM video_snapshots m)"
                 " - $%d::interval"
                 " AND v.video_created_at <= (SELECT MAX(m.created_at) FROM video_snapshots m)",
                 k);
    }
    for (int i = 0; i < s->n_conds; i++) {
        const struct spec_cond *c = &s->conds[i];
        snprintf(v, sizeof v, "%lld", (long long)c->value);
        term(q, &n);
        buf_addf(&q->sql, "%s %s $%d::bigint", column(s, c->field), spec_op_name(c->op), add_param(q, v));
    }
}

/* ==== Rollups ====
 * sql/schema.sql keeps three rollups of video_snapshots, refilled with every load. A
 * spec is answered from one only when the number is provably the raw rows' number:
 *   rollup_hours   COUNT, SUM or AVG of a delta over all snapshots whose measurement
 *                  range has whole UTC hours for ends: with from and to on hour
 *                  boundaries, t is in [from, to) exactly when the hour t falls in is.
 *   rollup_ages    the same over "the first N hours after publication", N whole: the
 *                  age t - p is in [0, N h) exactly when floor((t - p) / 1 h) is in [0, N).
 *   rollup_video_days  COUNT(DISTINCT video_id) over whole UTC days, with at most one
 *                  condition "delta op c", op > >= < <=: some snapshot of a video that day
 *                  meets it exactly when the day's largest (> >=) or smallest (< <=) delta
 *                  does. There is one row per (day, video), so for one day COUNT(*) is
 *                  the distinct count.
 * AVG is SUM / count as numeric, which is how PostgreSQL computes AVG(bigint) itself.
 * Any other filter (creator, video, publication, more conditions) needs the raw rows.
 * Every rollup query first asks vabot_rollups_fresh(), which fails when the data changed
 * without the rollups (sql/schema.sql): an error, never an outdated number. */
#define FRESH "vabot_rollups_fresh()"

#define US_PER_HOUR (3600 * UTC_US_PER_SEC)

static const char *rollup_column(enum spec_field f)
{
    static const char *const cols[] = {
        [SPEC_FIELD_DELTA_VIEWS] = "delta_views_count",
        [SPEC_FIELD_DELTA_LIKES] = "delta_likes_count",
        [SPEC_FIELD_DELTA_COMMENTS] = "delta_comments_count",
        [SPEC_FIELD_DELTA_REPORTS] = "delta_reports_count"};
    return spec_field_is_delta(f) ? cols[f] : NULL;
}

static int on_grid(const struct spec_range *r, int64_t unit)
{
    return (!r->has_from || r->from % unit == 0) && (!r->has_to || r->to % unit == 0);
}

/* Snapshots of all videos: no creator, video or publication filter. */
static int all_videos(const struct spec *s)
{
    return s->table == SPEC_TABLE_SNAPSHOTS && !s->n_creators && !s->creator_prefix[0] &&
           !s->n_videos && !s->published.has_from && !s->published.has_to;
}

/* COUNT, or SUM or AVG of a delta: what the hour and age rollups hold. */
static int summable(const struct spec *s)
{
    return s->agg == SPEC_AGG_COUNT ||
           ((s->agg == SPEC_AGG_SUM || s->agg == SPEC_AGG_AVG) && rollup_column(s->field));
}

static void rollup_select(const struct spec *s, char alias, struct sqlgen_query *q)
{
    if (s->agg == SPEC_AGG_COUNT)
        buf_addf(&q->sql, "SELECT COALESCE(SUM(%c.snapshots), 0)", alias);
    else if (s->agg == SPEC_AGG_SUM)
        buf_addf(&q->sql, "SELECT COALESCE(SUM(%c.%s), 0)", alias, rollup_column(s->field));
    else
        buf_addf(&q->sql,
                 "SELECT COALESCE(ROUND(SUM(%c.%s) / NULLIF(SUM(%c.snapshots), 0)), 0)::bigint",
                 alias, rollup_column(s->field), alias);
}

static void from_hours(const struct spec *s, struct sqlgen_query *q)
{
    int n = 0;
    rollup_select(s, 'h', q);
    buf_adds(&q->sql, " FROM rollup_hours h WHERE " FRESH);
    n = 1;
    range_terms(q, &n, "h.hour", &s->measured);
}

static void from_ages(const struct spec *s, struct sqlgen_query *q)
{
    char hours[32];
    snprintf(hours, sizeof hours, "%lld", (long long)(s->after_pub_us / US_PER_HOUR));
    rollup_select(s, 'a', q);
    buf_addf(&q->sql, " FROM rollup_ages a WHERE " FRESH " AND a.age_hour >= 0 AND a.age_hour < $%d::bigint",
             add_param(q, hours));
}

static int add_day_param(struct sqlgen_query *q, int64_t us)
{
    struct utc_civil c;
    char day[16];
    utc_to_civil(us, &c);
    snprintf(day, sizeof day, "%04d-%02d-%02d", c.year, c.month, c.day);
    return add_param(q, day);
}

static void from_days(const struct spec *s, struct sqlgen_query *q)
{
    const struct spec_range *r = &s->measured;
    int n = 1, one_day = r->has_from && r->has_to && r->to - r->from == UTC_US_PER_DAY;
    char v[32];
    buf_adds(&q->sql, one_day ? "SELECT COUNT(*)" : "SELECT COUNT(DISTINCT d.video_id)");
    buf_adds(&q->sql, " FROM rollup_video_days d WHERE " FRESH);
    if (one_day) {
        term(q, &n);
        buf_addf(&q->sql, "d.day = $%d::date", add_day_param(q, r->from));
    } else {
        if (r->has_from) {
            term(q, &n);
            buf_addf(&q->sql, "d.day >= $%d::date", add_day_param(q, r->from));
        }
        if (r->has_to) {
            term(q, &n);
            buf_addf(&q->sql, "d.day < $%d::date", add_day_param(q, r->to));
        }
    }
    if (s->n_conds) {
        const struct spec_cond *c = &s->conds[0];
        int upper = c->op == SPEC_OP_GT || c->op == SPEC_OP_GE;
        snprintf(v, sizeof v, "%lld", (long long)c->value);
        term(q, &n);
        buf_addf(&q->sql, "d.%s_%s %s $%d::bigint", upper ? "max" : "min", rollup_column(c->field),
                 spec_op_name(c->op), add_param(q, v));
    }
}

static int days_condition_ok(const struct spec *s)
{
    if (s->n_conds == 0)
        return 1;
    enum spec_op op = s->conds[0].op;
    return s->n_conds == 1 && rollup_column(s->conds[0].field) &&
           (op == SPEC_OP_GT || op == SPEC_OP_GE || op == SPEC_OP_LT || op == SPEC_OP_LE);
}

enum rollup { ROLLUP_NONE, ROLLUP_HOURS, ROLLUP_AGES, ROLLUP_DAYS };

/* The rollup that gives the raw rows' number for s, if any (see the banner). */
static enum rollup rollup_for(const struct spec *s)
{
    if (!all_videos(s))
        return ROLLUP_NONE;
    if (summable(s) && !s->n_conds && !s->after_pub_us && on_grid(&s->measured, US_PER_HOUR))
        return ROLLUP_HOURS;
    if (summable(s) && !s->n_conds && s->after_pub_us > 0 && s->after_pub_us % US_PER_HOUR == 0 &&
        !s->measured.has_from && !s->measured.has_to)
        return ROLLUP_AGES;
    if (s->agg == SPEC_AGG_COUNT_DISTINCT && s->field == SPEC_FIELD_VIDEO_ID && !s->after_pub_us &&
        days_condition_ok(s) && on_grid(&s->measured, UTC_US_PER_DAY))
        return ROLLUP_DAYS;
    return ROLLUP_NONE;
}

int sqlgen_build_opts(const struct spec *s, unsigned flags, struct sqlgen_query *q,
                      struct buf *err)
{
    buf_reset(&q->sql);
    if (!s->supported || (s->table != SPEC_TABLE_VIDEOS && s->table != SPEC_TABLE_SNAPSHOTS) ||
        add_select(s, q)) {
        buf_reset(err);
        buf_adds(err, "sqlgen: the spec was not validated");
        return -1;
    }
    for (int i = 0; i < s->n_conds; i++) {
        if (!column(s, s->conds[i].field) || !spec_op_name(s->conds[i].op)) {
            buf_reset(err);
            buf_adds(err, "sqlgen: the spec was not validated");
            return -1;
        }
    }
    enum rollup r = flags & SQLGEN_NO_ROLLUPS ? ROLLUP_NONE : rollup_for(s);
    if (r != ROLLUP_NONE)
        buf_reset(&q->sql); /* the rollup has a SELECT of its own */
    if (r == ROLLUP_HOURS)
        from_hours(s, q);
    else if (r == ROLLUP_AGES)
        from_ages(s, q);
    else if (r == ROLLUP_DAYS)
        from_days(s, q);
    else {
        add_from(s, q);
        add_where(s, q);
    }
    return 0;
}

int sqlgen_build(const struct spec *s, struct sqlgen_query *q, struct buf *err)
{
    return sqlgen_build_opts(s, 0, q, err);
}

void sqlgen_prefix_creators(const char *prefix, struct sqlgen_query *q)
{
    int n = 0;
    buf_reset(&q->sql);
    buf_adds(&q->sql, "SELECT COUNT(*) FROM (SELECT DISTINCT v.creator_id FROM videos v");
    prefix_terms(q, &n, "v.creator_id", prefix);
    buf_adds(&q->sql, " LIMIT 2) c");
}

void sqlgen_params_json(const struct sqlgen_query *q, struct buf *out)
{
    buf_addc(out, '[');
    for (int i = 0; i < q->nparams; i++) {
        buf_adds(out, i ? ",\"" : "\"");
        for (const char *p = q->params[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf_addc(out, '\\');
            buf_addc(out, *p);
        }
        buf_addc(out, '"');
    }
    buf_addc(out, ']');
}

void sqlgen_release(struct sqlgen_query *q)
{
    buf_release(&q->sql);
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i]);
    q->nparams = 0;
}
