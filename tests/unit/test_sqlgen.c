/* Golden tests: tests/sql/cases.tsv maps a spec to the exact SQL and parameters;
 * tests/sql/plain.tsv does the same for SQL that may not read the rollups. */
#include "sqlgen.h"
#include "testhelp.h"
#include "validate.h"

static int check_case(const char *file, int line, unsigned flags, char *spec_json,
                      const char *want_sql, const char *want_params)
{
    struct spec s;
    struct buf err = BUF_INIT, params = BUF_INIT;
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    int ok = 0;
    if (validate_json(spec_json, strlen(spec_json), &s, &err)) {
        fprintf(stderr, "%s:%d: spec rejected: %s\n", file, line, buf_str(&err));
    } else if (sqlgen_build_opts(&s, flags, &q, &err)) {
        fprintf(stderr, "%s:%d: %s\n", file, line, buf_str(&err));
    } else {
        sqlgen_params_json(&q, &params);
        ok = !strcmp(buf_str(&q.sql), want_sql) && !strcmp(buf_str(&params), want_params);
        if (!ok)
            fprintf(stderr, "%s:%d:\n  want %s %s\n  got  %s %s\n", file, line, want_sql, want_params,
                    buf_str(&q.sql), buf_str(&params));
    }
    sqlgen_release(&q);
    buf_release(&err);
    buf_release(&params);
    return ok;
}

struct golden {
    const char *file;
    unsigned flags;
    int cases;
};

/* One golden line: spec <TAB> SQL <TAB> parameters. */
static void golden_line(char *line, size_t lineno, void *ctx)
{
    struct golden *g = ctx;
    if (!line[0] || line[0] == '#')
        return;
    char *sql = strchr(line, '\t');
    char *params = sql ? strchr(sql + 1, '\t') : NULL;
    if (!params) {
        fprintf(stderr, "%s:%zu: want three tab-separated columns\n", g->file, lineno);
        CHECK(0);
        return;
    }
    *sql++ = '\0';
    *params++ = '\0';
    g->cases++;
    if (!check_case(g->file, (int)lineno, g->flags, line, sql, params))
        th_current_failed = 1;
}

/* Checks every case of a golden file; returns how many there were. */
static int golden_file(const char *file, unsigned flags)
{
    struct golden g = {file, flags, 0};
    th_each_line(file, golden_line, &g);
    return g.cases;
}

TEST(golden_cases)
{
    CHECK(golden_file("tests/sql/cases.tsv", 0) >= 50);
}

TEST(golden_cases_without_rollups)
{
    CHECK(golden_file("tests/sql/plain.tsv", SQLGEN_NO_ROLLUPS) >= 4);
}

/* sqlgen trusts nothing it was not promised: a spec that skipped the validator with
 * out-of-range enums gets no SQL at all. */
TEST(unvalidated_spec_is_refused)
{
    struct spec s;
    struct buf err = BUF_INIT;
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    spec_init(&s);
    CHECK(sqlgen_build(&s, &q, &err) == -1); /* no table, no aggregation */
    s.table = SPEC_TABLE_VIDEOS;
    s.agg = SPEC_AGG_SUM;
    s.field = (enum spec_field)99;
    CHECK(sqlgen_build(&s, &q, &err) == -1);
    s.field = SPEC_FIELD_VIEWS;
    s.n_conds = 1;
    s.conds[0].field = SPEC_FIELD_VIEWS;
    s.conds[0].op = (enum spec_op)42;
    CHECK(sqlgen_build(&s, &q, &err) == -1);
    spec_unsupported(&s, SPEC_REASON_LIST);
    CHECK(sqlgen_build(&s, &q, &err) == -1);
    sqlgen_release(&q);
    buf_release(&err);
}

TEST(prefix_check_query)
{
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    struct buf p = BUF_INIT;
    sqlgen_prefix_creators("df5973c0", &q);
    CHECK_STR(buf_str(&q.sql), "SELECT COUNT(*) FROM (SELECT DISTINCT v.creator_id FROM videos v "
                               "WHERE v.creator_id >= $1 AND v.creator_id < $2 LIMIT 2) c");
    sqlgen_params_json(&q, &p);
    CHECK_STR(buf_str(&p), "[\"df5973c0\",\"df5973c1\"]");
    sqlgen_release(&q);
    buf_release(&p);
}

int main(void)
{
    RUN(golden_cases);
    RUN(golden_cases_without_rollups);
    RUN(unvalidated_spec_is_refused);
    RUN(prefix_check_query);
    return th_finish();
}
