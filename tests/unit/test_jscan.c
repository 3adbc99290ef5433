#include "jscan.h"
#include "buf.h"
#include "testhelp.h"

/* What a scan produced: each object as "offset index <bytes>\n", then either
 * "end" or "error at OFFSET in INDEX: MESSAGE". Equal strings for every chunk size
 * mean that chunk boundaries change nothing. */
static char *scan(const char *in, size_t len, size_t chunk, size_t max_object, int max_depth)
{
    struct buf out = BUF_INIT;
    jscan *s = jscan_new("videos", max_object, max_depth);
    int rc = JSCAN_MORE;
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t pos = 0; pos < len && rc != JSCAN_ERROR;) {
        size_t n = len - pos < chunk ? len - pos : chunk, used;
        while (n > 0) {
            rc = jscan_feed(s, in + pos, n, &used);
            pos += used;
            n -= used;
            if (rc == JSCAN_ERROR)
                break;
            if (rc == JSCAN_OBJECT) {
                size_t olen;
                const char *o = jscan_object(s, &olen);
                buf_addf(&out, "%lld %lld ", jscan_object_offset(s), jscan_object_index(s));
                buf_add(&out, o, olen);
                buf_addc(&out, '\n');
            }
        }
    }
    if (rc != JSCAN_ERROR)
        rc = jscan_finish(s);
    if (rc == JSCAN_END)
        buf_adds(&out, "end");
    else
        buf_addf(&out, "error at %lld in %lld: %s", jscan_error_offset(s), jscan_error_index(s),
                 jscan_errmsg(s));
    jscan_free(s);
    return buf_detach(&out, NULL);
}

/* The result for whole, 1-byte and 7-byte chunks, checked to be the same. */
static char *scan_all(const char *in, size_t len, size_t max_object, int max_depth)
{
    char *whole = scan(in, len, 0, max_object, max_depth);
    char *one = scan(in, len, 1, max_object, max_depth);
    char *seven = scan(in, len, 7, max_object, max_depth);
    CHECK_STR(one, whole);
    CHECK_STR(seven, whole);
    free(one);
    free(seven);
    return whole;
}

static char *S(const char *in)
{
    return scan_all(in, strlen(in), 1000, 3);
}

#define EXPECT(in, want)                                                            \
    do {                                                                            \
        char *got_ = S(in);                                                         \
        CHECK_STR(got_, want);                                                      \
        free(got_);                                                                 \
    } while (0)

TEST(objects_come_out_with_offsets_and_indexes)
{
    EXPECT("{\"videos\":[{\"a\":1},{\"b\":[1,{\"c\":2}]}]}",
           "11 0 {\"a\":1}\n19 1 {\"b\":[1,{\"c\":2}]}\nend");
    EXPECT("{\"videos\":[]}", "end");
    EXPECT("  {  \"videos\"  :  [  ]  }  \n", "end");
}

TEST(whitespace_crlf_and_bom)
{
    EXPECT("\xEF\xBB\xBF{\"videos\": [{\"a\": 1}]}", "15 0 {\"a\": 1}\nend");
    EXPECT("{\r\n  \"videos\": [\r\n    {\r\n      \"a\": 1\r\n    }\r\n  ]\r\n}\r\n",
           "22 0 {\r\n      \"a\": 1\r\n    }\nend");
    EXPECT("\t{\"videos\":\n[\n{}\n,\n{}\n]\n}", "14 0 {}\n19 1 {}\nend");
    EXPECT("\xEF\xBB{\"videos\":[]}", "error at 2 in -1: incomplete UTF-8 byte order mark");
    EXPECT(" \xEF\xBB\xBF{\"videos\":[]}", "error at 1 in -1: expected '{' at the start, got byte 0xef");
}

TEST(strings_hide_brackets_and_quotes)
{
    EXPECT("{\"videos\":[{\"a\":\"}]\\\"{[\\\\\",\"b\":\"\\\\\"}]}",
           "11 0 {\"a\":\"}]\\\"{[\\\\\",\"b\":\"\\\\\"}\nend");
}

TEST(structure_errors_with_offsets)
{
    EXPECT("", "error at 0 in -1: empty input");
    EXPECT("  \n", "error at 3 in -1: no JSON value (only whitespace)");
    EXPECT("\xEF\xBB", "error at 2 in -1: incomplete UTF-8 byte order mark");
    EXPECT("not json", "error at 0 in -1: expected '{' at the start, got 'n'");
    EXPECT("[]", "error at 0 in -1: expected '{' at the start, got '['");
    EXPECT("{}", "error at 1 in -1: expected the key \"videos\" (the only one)");
    EXPECT("{\"video\":[]}", "error at 7 in -1: expected the key \"videos\" (the only one)");
    EXPECT("{\"videosx\":[]}", "error at 8 in -1: expected the key \"videos\" (the only one)");
    EXPECT("{\"videos\" []}", "error at 10 in -1: expected ':' after the key, got '['");
    EXPECT("{\"videos\": {}}", "error at 11 in -1: expected '[' (the value must be an array), got '{'");
    EXPECT("{\"videos\": [1]}", "error at 12 in 0: expected an object or ']', got '1'");
    EXPECT("{\"videos\": [{},]}", "12 0 {}\nerror at 15 in 1: expected an object after ',', got ']'");
    EXPECT("{\"videos\": [{} {}]}", "12 0 {}\nerror at 15 in -1: expected ',' or ']' after an object, got '{'");
    EXPECT("{\"videos\": [], \"x\": 1}", "error at 13 in -1: expected '}' after the array (it must be the only key), got ','");
    EXPECT("{\"videos\": []} x", "error at 15 in -1: expected nothing after the end, got 'x'");
    EXPECT("{\"videos\": []}\x01", "error at 14 in -1: expected nothing after the end, got byte 0x01");
}

TEST(element_errors_with_offsets)
{
    EXPECT("{\"videos\":[{\"a\":[}]}", "error at 17 in 0: unexpected '}' inside an array");
    EXPECT("{\"videos\":[{},{\"a\":{]}]}", "11 0 {}\nerror at 20 in 1: unexpected ']' inside an object");
    /* Depth 3 is the deepest allowed: object, array, object. */
    EXPECT("{\"videos\":[{\"s\":[{\"x\":1}]}]}", "11 0 {\"s\":[{\"x\":1}]}\nend");
    EXPECT("{\"videos\":[{\"s\":[{\"x\":[1]}]}]}", "error at 22 in 0: nesting deeper than 3 levels");
    EXPECT("{\"videos\":[{\"s\":[[[[[[[[[[[[", "error at 18 in 0: nesting deeper than 3 levels");
}

TEST(truncation_is_reported_at_the_end)
{
    EXPECT("{\"videos\":[{\"a\":1}", "11 0 {\"a\":1}\nerror at 18 in -1: truncated: the input ends where ',' or ']' after an object was expected");
    EXPECT("{\"videos\":[{\"a\":1},{\"b\":\"x", "11 0 {\"a\":1}\nerror at 26 in 1: truncated: the input ends inside the object");
    EXPECT("{\"videos\":[]", "error at 12 in -1: truncated: the input ends where '}' after the array (it must be the only key) was expected");
    EXPECT("{\"vid", "error at 5 in -1: truncated: the input ends where the key was expected");
}

/* Every proper prefix of a valid input is an error, and what came out before the
 * error is a prefix of what the whole input gives. */
TEST(every_prefix_is_truncated)
{
    const char *in = "\xEF\xBB\xBF{ \"videos\": [ {\"id\": \"a\", \"s\": [{\"x\": -1.5e3}]}, {\"id\": \"b\\\"}\"} ] }";
    size_t len = strlen(in);
    char *full = scan(in, len, 0, 1000, 3);
    int bad = 0;
    for (size_t n = 0; n < len; n++) {
        char *got = scan(in, n, 1, 1000, 3);
        const char *err = strstr(got, "error at ");
        /* The first 3 bytes are the byte order mark: nothing to truncate yet. */
        if (!err || strncmp(got, full, (size_t)(err - got)) || (n > 3 && !strstr(err, "truncated")))
            bad++;
        free(got);
    }
    CHECK_INT(bad, 0);
    CHECK(strstr(full, "end") != NULL);
    free(full);
}

TEST(object_limit_is_enforced_before_buffering)
{
    const char *in = "{\"videos\":[{\"a\":1},{\"b\":\"0123456789\"}]}";
    char *got = scan_all(in, strlen(in), 12, 3);
    /* The second object starts at 19 and may not reach byte 19 + 12. */
    CHECK_STR(got, "11 0 {\"a\":1}\nerror at 31 in 1: object larger than the limit of 12 bytes");
    free(got);
    /* An object of exactly the limit is fine. */
    got = scan_all(in, strlen(in), 18, 3);
    CHECK_CONTAINS(got, "19 1 {\"b\":\"0123456789\"}\nend");
    free(got);
}

TEST(an_endless_string_stops_at_the_limit)
{
    jscan *s = jscan_new("videos", 1000, 3);
    const char *head = "{\"videos\":[{\"a\":\"";
    char block[256];
    size_t used;
    int rc = jscan_feed(s, head, strlen(head), &used);
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 100 && rc == JSCAN_MORE; i++)
        rc = jscan_feed(s, block, sizeof block, &used);
    CHECK_INT(rc, JSCAN_ERROR);
    CHECK_INT(jscan_error_offset(s), 11 + 1000);
    CHECK_INT(jscan_error_index(s), 0);
    jscan_free(s);
}

TEST(locate_follows_a_path)
{
    const char *j = "{\"id\": \"v\", \"x\": {\"a\": [1]}, \"snapshots\": [ {\"id\": 1}, {\"k\": \"}\", \"id\": 7} ]}";
    struct jscan_step p1[] = {{"snapshots", 0}, {NULL, 1}, {"id", 0}};
    struct jscan_step p2[] = {{"snapshots", 0}, {NULL, 1}};
    struct jscan_step p3[] = {{"snapshots", 0}, {NULL, 2}};
    struct jscan_step p4[] = {{"nope", 0}};
    struct jscan_step p5[] = {{"id", 0}};
    size_t n = strlen(j);
    CHECK_INT(jscan_locate(j, n, p1, 3), strstr(j, "7}") - j);
    CHECK_INT(jscan_locate(j, n, p2, 2), strstr(j, "{\"k\"") - j);
    CHECK_INT(jscan_locate(j, n, p3, 2), -1);
    CHECK_INT(jscan_locate(j, n, p4, 1), -1);
    CHECK_INT(jscan_locate(j, n, p5, 1), 7);
}

int main(void)
{
    RUN(objects_come_out_with_offsets_and_indexes);
    RUN(whitespace_crlf_and_bom);
    RUN(strings_hide_brackets_and_quotes);
    RUN(structure_errors_with_offsets);
    RUN(element_errors_with_offsets);
    RUN(truncation_is_reported_at_the_end);
    RUN(every_prefix_is_truncated);
    RUN(object_limit_is_enforced_before_buffering);
    RUN(an_endless_string_stops_at_the_limit);
    RUN(locate_follows_a_path);
    return th_finish();
}
