/* testhelp.h: the unit test harness, in the spirit of redis's testhelp.h.
 *
 * A test file defines functions with TEST(name), checks with the CHECK macros and
 * ends with TEST_MAIN(run_a, run_b, ...). A test passes when none of its checks
 * failed; a failed check prints "file:line: what" and the test goes on, so one run
 * shows every failure. The last line is "N passed, N failed", which tests/run.sh
 * adds up; the exit status is 1 when anything failed. */
#ifndef VABOT_TESTHELP_H
#define VABOT_TESTHELP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int th_passed, th_failed, th_current_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            th_current_failed = 1;                                                  \
        }                                                                           \
    } while (0)

#define CHECK_INT(got, want)                                                        \
    do {                                                                            \
        long long th_g = (long long)(got), th_w = (long long)(want);               \
        if (th_g != th_w) {                                                         \
            fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, \
                    #got, th_g, th_w);                                              \
            th_current_failed = 1;                                                  \
        }                                                                           \
    } while (0)

#define CHECK_STR(got, want)                                                        \
    do {                                                                            \
        const char *th_g = (got), *th_w = (want);                                   \
        if (!th_g || !th_w || strcmp(th_g, th_w) != 0) {                            \
            fprintf(stderr, "%s:%d: %s:\n  got  \"%s\"\n  want \"%s\"\n", __FILE__, \
                    __LINE__, #got, th_g ? th_g : "(null)", th_w ? th_w : "(null)"); \
            th_current_failed = 1;                                                  \
        }                                                                           \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                 \
    do {                                                                            \
        const char *th_h = (hay), *th_n = (needle);                                 \
        if (!th_h || !strstr(th_h, th_n)) {                                         \
            fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__,  \
                    __LINE__, #hay, th_h ? th_h : "(null)", th_n);                  \
            th_current_failed = 1;                                                  \
        }                                                                           \
    } while (0)

static void th_run(const char *name, void (*fn)(void))
{
    th_current_failed = 0;
    fn();
    if (th_current_failed) {
        fprintf(stderr, "FAIL %s\n", name);
        th_failed++;
    } else {
        th_passed++;
    }
}

#define RUN(fn) th_run(#fn, fn)

/* Calls fn with each line of a data file (its end of line cut; lines of any length) and
 * the line's number from 1; comments and blank lines too, for fn may read directives in
 * them. A file that cannot be opened fails the current test and returns -1, else 0. */
static inline int th_each_line(const char *path, void (*fn)(char *line, size_t lineno, void *ctx),
                               void *ctx)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    if (!f) {
        fprintf(stderr, "%s: cannot open (run from the repository root)\n", path);
        th_current_failed = 1;
        return -1;
    }
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        fn(line, ++lineno, ctx);
    }
    free(line);
    fclose(f);
    return 0;
}

static int th_finish(void)
{
    printf("%d passed, %d failed\n", th_passed, th_failed);
    return th_failed ? 1 : 0;
}

#endif
