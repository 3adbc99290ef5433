#include "utc.h"
#include "testhelp.h"

static int64_t P(const char *s)
{
    int64_t t = 0;
    CHECK(utc_parse(s, strlen(s), &t) == 0);
    return t;
}

static const char *F(int64_t t)
{
    static char out[UTC_FMT_MAX];
    utc_format(t, out, sizeof out);
    return out;
}

TEST(civil_round_trip_over_many_years)
{
    int bad = 0;
    for (int64_t d = utc_days_from_civil(1600, 1, 1); d < utc_days_from_civil(2500, 1, 1); d += 7) {
        int y, m, dd;
        utc_civil_from_days(d, &y, &m, &dd);
        if (utc_days_from_civil(y, m, dd) != d || !utc_valid_date(y, m, dd))
            bad++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(utc_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(utc_days_from_civil(2000, 3, 1), 11017);
}

TEST(calendar_facts)
{
    CHECK_INT(utc_days_in_month(2024, 2), 29);
    CHECK_INT(utc_days_in_month(2025, 2), 28);
    CHECK_INT(utc_days_in_month(1900, 2), 28);
    CHECK_INT(utc_days_in_month(2000, 2), 29);
    CHECK_INT(utc_days_in_month(2025, 13), 0);
    CHECK(!utc_valid_date(2025, 2, 29));
    CHECK(!utc_valid_date(2025, 4, 31));
    CHECK_INT(utc_weekday(utc_days_from_civil(2025, 11, 28)), 4); /* a Friday */
    CHECK_INT(utc_weekday(utc_days_from_civil(2026, 11, 23)), 0); /* a Monday */
}

TEST(parse_data_file_forms)
{
    CHECK_STR(F(P("2025-08-19T08:54:35+00:00")), "2025-08-19T08:54:35Z");
    CHECK_STR(F(P("2025-11-26T11:00:08.983295+00:00")), "2025-11-26T11:00:08.983295Z");
    CHECK_STR(F(P("2025-11-28")), "2025-11-28T00:00:00Z");
    CHECK_STR(F(P("2025-11-28T10:00Z")), "2025-11-28T10:00:00Z");
    CHECK_STR(F(P("2025-11-28 10:00:00")), "2025-11-28T10:00:00Z");
    CHECK_STR(F(P("2025-11-28T03:00:00+03:00")), "2025-11-28T00:00:00Z");
    CHECK_STR(F(P("2025-11-27T21:30:00-02:30")), "2025-11-28T00:00:00Z");
    CHECK_STR(F(P("2025-11-28T10:00:00.5Z")), "2025-11-28T10:00:00.500000Z");
}

TEST(parse_rejects_garbage)
{
    const char *bad[] = {"", "2025", "2025-11", "2025-13-01", "2025-02-29", "2025-11-28T",
                         "2025-11-28T25:00", "2025-11-28T10:00:00+", "2025-11-28x",
                         "2025-11-28T10:00:00Zjunk", "2025-11-28T10:60", "２０２５-11-28",
                         "2025-11-28T10:00:00+24:00", "99999-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t t;
        if (utc_parse(bad[i], strlen(bad[i]), &t) == 0) {
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
            CHECK(0);
        }
    }
}

TEST(parse_reads_exactly_len)
{
    int64_t t;
    const char *s = "2025-11-28T10:00:00Z, more";
    CHECK(utc_parse(s, 20, &t) == 0);
    CHECK_STR(F(t), "2025-11-28T10:00:00Z");
    CHECK(utc_parse(s, 21, &t) == -1);
}

TEST(negative_instants_format)
{
    CHECK_STR(F(P("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59Z");
    CHECK_INT(P("1969-12-31T23:59:59Z"), -UTC_US_PER_SEC);
}

TEST(local_zone_edges)
{
    struct utc_civil c = {2025, 11, 28, 0, 0, 0, 0};
    int64_t t;
    CHECK(utc_set_zone("Europe/Moscow") == 0);
    CHECK(utc_from_local(&c, &t) == 0);
    CHECK_STR(F(t), "2025-11-27T21:00:00Z");
    utc_to_local(t, &c);
    CHECK_INT(c.day, 28);
    CHECK_INT(c.hour, 0);
    CHECK(utc_set_zone("Mars/Olympus") == -1);
    CHECK_STR(utc_zone(), "UTC");
    CHECK(utc_set_zone("../etc/passwd") == -1);
    CHECK(utc_set_zone(NULL) == 0);
    c = (struct utc_civil){2025, 11, 28, 0, 0, 0, 0};
    CHECK(utc_from_local(&c, &t) == 0);
    CHECK_STR(F(t), "2025-11-28T00:00:00Z");
}

int main(void)
{
    RUN(civil_round_trip_over_many_years);
    RUN(calendar_facts);
    RUN(parse_data_file_forms);
    RUN(parse_rejects_garbage);
    RUN(parse_reads_exactly_len);
    RUN(negative_instants_format);
    RUN(local_zone_edges);
    return th_finish();
}
