/* sqlcheck.h: the tests' own list of what generated SQL may contain, kept apart from
 * src/sqlgen.c on purpose (an oracle, not a copy): keywords, functions, aliases and
 * alias.column words, parameters $1..$n and the one literal 'UTC'. Never a ';', a
 * comment, a quoted identifier, a backslash or a control byte. Used by the mutation
 * test (test_validate.c), the fuzz targets (tests/fuzz/speccheck.h) and, through the
 * word list between the BEGIN/END WORDS lines, tests/e2e/hostile.sh. Header-only. */
#ifndef VABOT_TEST_SQLCHECK_H
#define VABOT_TEST_SQLCHECK_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const sqlcheck_words[] = {
    /* BEGIN WORDS */
    "SELECT", "COUNT", "DISTINCT", "COALESCE", "SUM", "ROUND", "AVG", "MIN", "MAX", "NULLIF",
    "FROM", "JOIN", "ON", "WHERE", "AND", "ANY", "AT", "TIME", "ZONE",
    "date", "bigint", "timestamptz", "text", "interval",
    "videos", "video_snapshots", "v", "s", "m",
    "v.id", "v.creator_id", "v.video_created_at", "v.views_count", "v.likes_count",
    "v.comments_count", "v.reports_count",
    "s.video_id", "s.created_at", "s.views_count", "s.likes_count", "s.comments_count",
    "s.reports_count", "s.delta_views_count", "s.delta_likes_count", "s.delta_comments_count",
    "s.delta_reports_count", "m.created_at",
    "rollup_hours", "rollup_ages", "rollup_video_days", "vabot_rollups_fresh", "h", "a", "d",
    "h.hour", "h.snapshots", "h.delta_views_count", "h.delta_likes_count",
    "h.delta_comments_count", "h.delta_reports_count",
    "a.age_hour", "a.snapshots", "a.delta_views_count", "a.delta_likes_count",
    "a.delta_comments_count", "a.delta_reports_count",
    "d.day", "d.video_id", "d.max_delta_views_count", "d.min_delta_views_count",
    "d.max_delta_likes_count", "d.min_delta_likes_count", "d.max_delta_comments_count",
    "d.min_delta_comments_count", "d.max_delta_reports_count", "d.min_delta_reports_count",
    /* END WORDS */
};

static int sqlcheck_word(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof sqlcheck_words / sizeof *sqlcheck_words; i++)
        if (strlen(sqlcheck_words[i]) == n && !memcmp(sqlcheck_words[i], w, n))
            return 1;
    return 0;
}

/* 1 when sql is made only of the above; else 0 with *why saying what broke it. */
static int sqlcheck(const char *sql, int nparams, const char **why)
{
    for (const char *p = sql; *p;) {
        unsigned char c = (unsigned char)*p;
        if (isalpha(c) || c == '_') {
            const char *w = p;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
                p++;
            if (!sqlcheck_word(w, (size_t)(p - w)))
                return *why = "a word the generator never writes", 0;
        } else if (c == '\'') {
            if (strncmp(p, "'UTC'", 5))
                return *why = "a string literal other than 'UTC'", 0;
            p += 5;
        } else if (c == '$') {
            char *end;
            long k = strtol(p + 1, &end, 10);
            if (end == p + 1 || k < 1 || k > nparams)
                return *why = "a parameter out of range", 0;
            p = end;
        } else if (strchr(";\\\"#", c) || c < 0x20 || c >= 0x7f || (c == '-' && p[1] == '-') ||
                   (c == '/' && p[1] == '*')) {
            return *why = "a byte the generator never writes", 0;
        } else {
            p++;
        }
    }
    return 1;
}

#endif
