/* The rule engine end to end, without a database:
 *  - every rule's own "test" lines match it whole (nlu_selftest);
 *  - golden cases, the .tsv files of tests/grammar: question -> spec (or NOT_UNDERSTOOD).
 * A case file is "question<TAB>expected" lines; "# now: ISO8601" and "# tz: ZONE" set
 * the clock and zone for the lines after them. `expected` is a spec in any JSON form the
 * validator accepts (compared canonically) or NOT_UNDERSTOOD. */
#include <dirent.h>

#include "nlu.h"
#include "testhelp.h"
#include "utc.h"
#include "validate.h"

static nlu *engine;
static int cases;

TEST(rule_self_tests)
{
    struct buf report = BUF_INIT;
    int failures = nlu_selftest(engine, &report);
    if (failures)
        fprintf(stderr, "%s", buf_str(&report));
    CHECK_INT(failures, 0);
    buf_release(&report);
}

/* The expected column, canonical; "" and a message on stderr when it is malformed. */
static void expected_canon(const char *file, int line, const char *want, struct buf *out)
{
    struct spec s;
    struct buf err = BUF_INIT;
    if (!strcmp(want, "NOT_UNDERSTOOD")) {
        buf_adds(out, want);
    } else if (validate_json(want, strlen(want), &s, &err)) {
        fprintf(stderr, "%s:%d: the expected spec is invalid: %s\n", file, line, buf_str(&err));
    } else {
        spec_print(&s, SPEC_JSON_CANON, out);
    }
    buf_release(&err);
}

static int run_case(const char *file, int line, const char *q, const char *want, int64_t now)
{
    struct nlu_result r;
    struct buf got = BUF_INIT, exp = BUF_INIT;
    nlu_result_init(&r);
    int rc = nlu_parse(engine, q, strlen(q), now, &r);
    if (rc == NLU_OK)
        spec_print(&r.spec, SPEC_JSON_CANON, &got);
    else
        buf_adds(&got, "NOT_UNDERSTOOD");
    expected_canon(file, line, want, &exp);
    int ok = exp.len && !strcmp(buf_str(&got), buf_str(&exp));
    if (!ok)
        fprintf(stderr, "%s:%d: %s\n  want %s\n  got  %s\n  (%s)\n%s", file, line, q, buf_str(&exp),
                buf_str(&got), rc == NLU_OK ? "understood" : buf_str(&r.why), buf_str(&r.explain));
    nlu_result_release(&r);
    buf_release(&got);
    buf_release(&exp);
    return ok;
}

/* What a golden file's lines share: its name, and the "now" its "# now:" line set. */
struct golden {
    const char *path;
    int64_t now;
};

static void golden_line(char *line, size_t lineno, void *ctx)
{
    struct golden *g = ctx;
    if (!strncmp(line, "# now:", 6)) {
        const char *v = line + 6 + strspn(line + 6, " ");
        CHECK(utc_parse(v, strlen(v), &g->now) == 0);
        return;
    }
    if (!strncmp(line, "# tz:", 5)) {
        CHECK(utc_set_zone(line + 5 + strspn(line + 5, " ")) == 0);
        return;
    }
    if (!line[0] || line[0] == '#')
        return;
    char *tab = strrchr(line, '\t');
    if (!tab) {
        fprintf(stderr, "%s:%zu: want question<TAB>expected\n", g->path, lineno);
        th_current_failed = 1;
        return;
    }
    *tab = '\0';
    cases++;
    if (!run_case(g->path, (int)lineno, line, tab + 1, g->now))
        th_current_failed = 1;
}

static void run_file(const char *path)
{
    struct golden g = {path, 0};
    utc_set_zone(NULL);
    th_each_line(path, golden_line, &g);
    utc_set_zone(NULL);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(golden_cases)
{
    DIR *d = opendir("tests/grammar");
    char *names[64];
    int n = 0;
    CHECK(d != NULL);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d)) && n < 64;) {
        size_t len = strlen(de->d_name);
        if (len > 4 && !strcmp(de->d_name + len - 4, ".tsv")) {
            struct buf p = BUF_INIT;
            buf_addf(&p, "tests/grammar/%s", de->d_name);
            names[n++] = buf_detach(&p, NULL);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    fprintf(stderr, "grammar cases: %d\n", cases);
    CHECK(cases >= 400);
}

int main(void)
{
    struct buf err = BUF_INIT;
    engine = nlu_new(".", &err);
    if (!engine) {
        fprintf(stderr, "%s\n", buf_str(&err));
        return 1;
    }
    RUN(rule_self_tests);
    RUN(golden_cases);
    nlu_free(engine);
    buf_release(&err);
    return th_finish();
}
