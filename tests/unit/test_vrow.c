#include "vrow.h"
#include "testhelp.h"

/* One video in the forms the loader accepts: upper case, ids with and without dashes,
 * offsets other than UTC, a negative delta. */
static const char video[] =
    "{\"id\": \"ECD8A4E41F244B97A94435D17078CE7C\", \"video_created_at\": \"2025-11-28T03:30:00+03:00\","
    " \"views_count\": 1461, \"likes_count\": 35, \"reports_count\": 0, \"comments_count\": 2,"
    " \"creator_id\": \"ACA1061A-9D32-4ECF-8C3F-A2BB32D7BE63\","
    " \"created_at\": \"2025-11-26T11:00:08.983295+00:00\", \"updated_at\": \"2025-12-01T10:00:00Z\","
    " \"snapshots\": [{\"id\": \"466bb5862d3f47fd85f11ca0dc1e6629\","
    " \"video_id\": \"ecd8a4e4-1f24-4b97-a944-35d17078ce7c\", \"views_count\": 1461,"
    " \"likes_count\": 35, \"reports_count\": 0, \"comments_count\": 2, \"delta_views_count\": 1461,"
    " \"delta_likes_count\": 35, \"delta_reports_count\": 0, \"delta_comments_count\": 2,"
    " \"created_at\": \"2025-11-26T11:00:09.0532+00:00\", \"updated_at\": \"2025-11-26T11:00:09.053201+00:00\"},"
    " {\"id\": \"B6765497-D60E-4EAE-8D7A-EBF2FA307BF0\", \"video_id\": \"ECD8A4E41F244B97A94435D17078CE7C\","
    " \"views_count\": 1500, \"likes_count\": 34, \"reports_count\": 0, \"comments_count\": 2,"
    " \"delta_views_count\": 39, \"delta_likes_count\": -1, \"delta_reports_count\": 0,"
    " \"delta_comments_count\": 0, \"created_at\": \"2025-11-26T14:00:09.334212+03:00\","
    " \"updated_at\": \"2025-11-26 12:00:09.334212+0100\"}]}";

/* s with the first occurrence of from replaced by to (which must be there). */
static char *replace(const char *s, const char *from, const char *to)
{
    struct buf b = BUF_INIT;
    const char *at = strstr(s, from);
    CHECK(at != NULL);
    if (!at)
        at = s + strlen(s);
    buf_add(&b, s, (size_t)(at - s));
    buf_adds(&b, to);
    if (*at)
        buf_adds(&b, at + strlen(from));
    return buf_detach(&b, NULL);
}

TEST(columns_follow_the_tables)
{
    struct buf b = BUF_INIT;
    vrow_columns(VROW_VIDEOS, &b);
    CHECK_STR(buf_str(&b), "id, video_created_at, views_count, likes_count, reports_count, "
                           "comments_count, creator_id, created_at, updated_at");
    buf_reset(&b);
    vrow_columns(VROW_SNAPSHOTS, &b);
    CHECK_STR(buf_str(&b), "id, video_id, views_count, likes_count, reports_count, comments_count, "
                           "delta_views_count, delta_likes_count, delta_reports_count, "
                           "delta_comments_count, created_at, updated_at");
    buf_release(&b);
}

TEST(a_video_becomes_rows_in_utc_with_normalized_ids)
{
    struct buf v = BUF_INIT, s = BUF_INIT;
    struct vrow_info info;
    CHECK_INT(vrow_convert(video, strlen(video), &v, &s, &info), 0);
    CHECK_STR(buf_str(&v), "ecd8a4e4-1f24-4b97-a944-35d17078ce7c\t2025-11-28 00:30:00.000000+00\t"
                           "1461\t35\t0\t2\taca1061a9d324ecf8c3fa2bb32d7be63\t"
                           "2025-11-26 11:00:08.983295+00\t2025-12-01 10:00:00.000000+00\n");
    CHECK_STR(buf_str(&s),
              "466bb5862d3f47fd85f11ca0dc1e6629\tecd8a4e4-1f24-4b97-a944-35d17078ce7c\t"
              "1461\t35\t0\t2\t1461\t35\t0\t2\t2025-11-26 11:00:09.053200+00\t2025-11-26 11:00:09.053201+00\n"
              "b6765497d60e4eae8d7aebf2fa307bf0\tecd8a4e4-1f24-4b97-a944-35d17078ce7c\t"
              "1500\t34\t0\t2\t39\t-1\t0\t0\t2025-11-26 11:00:09.334212+00\t2025-11-26 11:00:09.334212+00\n");
    CHECK_STR(info.id, "ecd8a4e4-1f24-4b97-a944-35d17078ce7c");
    CHECK_INT(info.snapshots, 2);
    /* Rows are appended: a second video goes after the first. */
    size_t vlen = v.len, slen = s.len;
    CHECK_INT(vrow_convert(video, strlen(video), &v, &s, &info), 0);
    CHECK_INT(v.len, 2 * vlen);
    CHECK_INT(s.len, 2 * slen);
    buf_release(&v);
    buf_release(&s);
}

TEST(no_snapshots_and_the_largest_exact_count)
{
    char *in = replace(video, "\"views_count\": 1461", "\"views_count\": 9007199254740991");
    struct buf b = BUF_INIT, v = BUF_INIT, s = BUF_INIT;
    struct vrow_info info;
    buf_add(&b, in, (size_t)(strstr(in, "\"snapshots\"") - in));
    buf_adds(&b, "\"snapshots\": []}");
    CHECK_INT(vrow_convert(b.p, b.len, &v, &s, &info), 0);
    CHECK_CONTAINS(buf_str(&v), "\t9007199254740991\t");
    CHECK_INT(s.len, 0);
    CHECK_INT(info.snapshots, 0);
    free(in);
    buf_release(&b);
    buf_release(&v);
    buf_release(&s);
}

/* Replaces from with to in the video; the conversion must fail with message want,
 * pointing at the first occurrence of mark, and leave the buffers as they were. */
static int expect_error(const char *from, const char *to, const char *mark, const char *want)
{
    char *in = replace(video, from, to);
    struct buf v = BUF_INIT, s = BUF_INIT;
    struct vrow_info info;
    int ok = 1;
    buf_adds(&v, "before");
    buf_adds(&s, "before");
    ok &= vrow_convert(in, strlen(in), &v, &s, &info) == -1;
    ok &= !strcmp(info.error, want);
    ok &= strstr(in, mark) && info.at == strstr(in, mark) - in;
    ok &= !strcmp(buf_str(&v), "before") && !strcmp(buf_str(&s), "before");
    if (!ok)
        fprintf(stderr, "  %s -> %s: got \"%s\" at %lld\n  want \"%s\" at %lld\n", from, to,
                info.error, info.at, want, strstr(in, mark) ? (long long)(strstr(in, mark) - in) : -1);
    free(in);
    buf_release(&v);
    buf_release(&s);
    return ok;
}

TEST(counts)
{
    CHECK(expect_error("\"views_count\": 1461", "\"views_count\": -5", "-5", "views_count: -5 is negative"));
    CHECK(expect_error("\"likes_count\": 34", "\"likes_count\": -1", "-1,", "snapshots[1].likes_count: -1 is negative"));
    CHECK(expect_error("\"delta_views_count\": 39", "\"delta_views_count\": 1.5", "1.5",
                       "snapshots[1].delta_views_count: 1.5 is not an integer"));
    CHECK(expect_error("\"comments_count\": 2", "\"comments_count\": 1e300", "1e300",
                       "comments_count: 1.0000000000000001e+300 is out of range"));
    /* 2^53 + 1 would be rounded by a double: everything from 2^53 on is refused. */
    CHECK(expect_error("\"views_count\": 1461", "\"views_count\": 9007199254740993", "9007",
                       "views_count: 9007199254740992 is out of range"));
    CHECK(expect_error("\"reports_count\": 0", "\"reports_count\": \"0\"", "\"0\"",
                       "reports_count: expected an integer, got a string"));
    CHECK(expect_error("\"delta_reports_count\": 0", "\"delta_reports_count\": null", "null",
                       "snapshots[0].delta_reports_count: expected an integer, got null"));
}

TEST(ids)
{
    CHECK(expect_error("\"creator_id\": \"ACA1061A-9D32-4ECF-8C3F-A2BB32D7BE63\"", "\"creator_id\": \"aca1061a9d32\"",
                       "\"aca1061a9d32\"", "creator_id: \"aca1061a9d32\" is not an id (32 hex digits, dashes allowed as in a UUID)"));
    CHECK(expect_error("\"id\": \"466bb5862d3f47fd85f11ca0dc1e6629\"", "\"id\": \"466bb586-2d3f47fd-85f11ca0dc1e6629\"",
                       "\"466bb586-", "snapshots[0].id: \"466bb586-2d3f47fd-85f11ca0dc1e6629\" is not an id (32 hex digits, dashes allowed as in a UUID)"));
    CHECK(expect_error("\"id\": \"466bb5862d3f47fd85f11ca0dc1e6629\"", "\"id\": \"466bb5862d3f47fd85f11ca0dc1e662g\"",
                       "\"466bb", "snapshots[0].id: \"466bb5862d3f47fd85f11ca0dc1e662g\" is not an id (32 hex digits, dashes allowed as in a UUID)"));
    CHECK(expect_error("\"video_id\": \"ECD8A4E41F244B97A94435D17078CE7C\"", "\"video_id\": \"ECD8A4E41F244B97A94435D17078CE7D\"",
                       "\"ECD8A4E41F244B97A94435D17078CE7D", "snapshots[1].video_id: \"ECD8A4E41F244B97A94435D17078CE7D\" is not the id of its video"));
    CHECK(expect_error("\"id\": \"ECD8A4E41F244B97A94435D17078CE7C\"", "\"id\": 5", "5",
                       "id: expected a string, got a number"));
}

TEST(the_id_is_known_to_later_messages)
{
    char *in = replace(video, "\"views_count\": 1461", "\"views_count\": true");
    struct buf v = BUF_INIT, s = BUF_INIT;
    struct vrow_info info;
    CHECK_INT(vrow_convert(in, strlen(in), &v, &s, &info), -1);
    CHECK_STR(info.error, "views_count: expected an integer, got a boolean");
    CHECK_STR(info.id, "ecd8a4e4-1f24-4b97-a944-35d17078ce7c");
    free(in);
    in = replace(video, "ECD8A4E41F244B97A94435D17078CE7C", "nope");
    CHECK_INT(vrow_convert(in, strlen(in), &v, &s, &info), -1);
    CHECK_STR(info.id, "");
    free(in);
    buf_release(&v);
    buf_release(&s);
}

TEST(times)
{
    CHECK(expect_error("\"video_created_at\": \"2025-11-28T03:30:00+03:00\"", "\"video_created_at\": \"2025-02-29T03:30:00Z\"",
                       "\"2025-02-29", "video_created_at: \"2025-02-29T03:30:00Z\" is not an ISO 8601 timestamp"));
    CHECK(expect_error("\"updated_at\": \"2025-12-01T10:00:00Z\"", "\"updated_at\": \"0001-01-01T00:30:00+01:00\"",
                       "\"0001", "updated_at: \"0001-01-01T00:30:00+01:00\" is not an ISO 8601 timestamp"));
    CHECK(expect_error("\"created_at\": \"2025-11-26T11:00:09.0532+00:00\"", "\"created_at\": \"yesterday\\u0000\"",
                       "\"yesterday", "snapshots[0].created_at: \"yesterday\" is not an ISO 8601 timestamp"));
    CHECK(expect_error("\"created_at\": \"2025-11-26T11:00:09.0532+00:00\"", "\"created_at\": 20251126",
                       "20251126", "snapshots[0].created_at: expected a string, got a number"));
}

TEST(keys)
{
    CHECK(expect_error("\"likes_count\": 35, ", "", "{", "missing key \"likes_count\""));
    CHECK(expect_error("\"delta_likes_count\": -1, ", "", "{\"id\": \"B67",
                       "snapshots[1]: missing key \"delta_likes_count\""));
    CHECK(expect_error("\"likes_count\": 35, ", "\"likes_count\": 35, \"likes_count\": 35, ", "{",
                       "duplicate key \"likes_count\""));
    CHECK(expect_error("\"delta_likes_count\": -1, ", "\"delta_likes_count\": -1, \"delta_likes_count\": -1, ",
                       "{\"id\": \"B67", "snapshots[1]: duplicate key \"delta_likes_count\""));
    CHECK(expect_error("\"reports_count\": 0, ", "\"reports_count\": 0, \"title\": \"x\", ", "\"x\"",
                       "title: unknown key"));
    /* A key written with escapes is not found in the text: the object is pointed at. */
    CHECK(expect_error("\"reports_count\": 0, ", "\"reports_count\": 0, \"Title\\n\": \"x\", ", "{",
                       "Title?: unknown key"));
    CHECK(expect_error("\"snapshots\": [", "\"snapshots\": [[], ", "[]", "snapshots[0]: expected an object, got an array"));
}

TEST(snapshots_must_be_an_array)
{
    struct buf b = BUF_INIT, v = BUF_INIT, s = BUF_INIT;
    struct vrow_info info;
    buf_add(&b, video, (size_t)(strstr(video, "\"snapshots\"") - video));
    buf_adds(&b, "\"snapshots\": {}}");
    CHECK_INT(vrow_convert(b.p, b.len, &v, &s, &info), -1);
    CHECK_STR(info.error, "snapshots: expected an array, got an object");
    CHECK_INT(info.at, b.len - 3);
    CHECK_INT(v.len, 0);
    buf_release(&b);
    buf_release(&v);
    buf_release(&s);
}

TEST(malformed_json)
{
    CHECK(expect_error("\"likes_count\": 35,", "\"likes_count\": 35", "\"reports_count\"",
                       "malformed JSON at \"\"reports_count\": 0, \""));
    CHECK(expect_error("\"likes_count\": 35,", "\"likes_count\": 3x5,", "x5",
                       "malformed JSON at \"x5, \"reports_count\":\""));
}

int main(void)
{
    RUN(columns_follow_the_tables);
    RUN(a_video_becomes_rows_in_utc_with_normalized_ids);
    RUN(no_snapshots_and_the_largest_exact_count);
    RUN(counts);
    RUN(ids);
    RUN(the_id_is_known_to_later_messages);
    RUN(times);
    RUN(keys);
    RUN(snapshots_must_be_an_array);
    RUN(malformed_json);
    return th_finish();
}
