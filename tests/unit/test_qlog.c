/* test_qlog.c: the --since forms of `vabot log` (src/qlog.c). Writing and printing
 * need PostgreSQL: tests/e2e/qlog.sh. */
#include "qlog.h"
#include "testhelp.h"
#include "utc.h"

static const int64_t now = 1764750600LL * UTC_US_PER_SEC; /* 2025-12-03T08:30:00Z */

static int64_t since(const char *s, int *rc)
{
    int64_t t = -1;
    *rc = qlog_parse_since(s, now, &t);
    return t;
}

TEST(spans_count_back_from_now)
{
    int rc;
    CHECK_INT(since("90s", &rc), now - 90 * UTC_US_PER_SEC);
    CHECK_INT(rc, 0);
    CHECK_INT(since("30m", &rc), now - 1800 * UTC_US_PER_SEC);
    CHECK_INT(since("2h", &rc), now - 7200 * UTC_US_PER_SEC);
    CHECK_INT(since("1d", &rc), now - UTC_US_PER_DAY);
    CHECK_INT(since("2w", &rc), now - 14 * UTC_US_PER_DAY);
    CHECK_INT(rc, 0);
}

TEST(iso_instants)
{
    int rc;
    CHECK_INT(since("2025-11-28T10:00:00Z", &rc), 1764324000LL * UTC_US_PER_SEC);
    CHECK_INT(rc, 0);
    CHECK_INT(since("2025-12-01", &rc), 1764547200LL * UTC_US_PER_SEC);
    CHECK_INT(rc, 0);
}

TEST(everything_else_is_rejected)
{
    const char *bad[] = {"", "h", "2", "2x", "-1h", "2 h", "1.5h", "h2", "2025-13-01",
                         "99999999999999999999d", "1000000d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        since(bad[i], &rc);
        if (rc != -1)
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK_INT(rc, -1);
    }
}

int main(void)
{
    RUN(spans_count_back_from_now);
    RUN(iso_instants);
    RUN(everything_else_is_rejected);
    return th_finish();
}
