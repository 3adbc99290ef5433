/* test_tg.c: the getUpdates parser and the reply splitter of src/tg.c. */
#include "testhelp.h"

#include "buf.h"
#include "tg.h"

static int parse(const char *body, struct tg_updates *u)
{
    char err[256];
    return tg_parse_updates(body, strlen(body), u, err, sizeof err);
}

TEST(big_ids_and_negative_chat)
{
    struct tg_updates u;
    CHECK_INT(parse("{\"ok\":true,\"result\":[{\"update_id\":4294967301,\"message\":{"
                    "\"message_id\":3000000000,\"from\":{\"id\":7000000001,\"username\":\"ivan\"},"
                    "\"chat\":{\"id\":-1001234567890,\"type\":\"supergroup\"},"
                    "\"text\":\"Сколько видео?\"}}]}",
                    &u),
              0);
    CHECK_INT(u.n, 1);
    if (u.n == 1) {
        CHECK_INT(u.v[0].update_id, 4294967301LL);
        CHECK_INT(u.v[0].message_id, 3000000000LL);
        CHECK_INT(u.v[0].chat_id, -1001234567890LL);
        CHECK_INT(u.v[0].from_id, 7000000001LL);
        CHECK_INT(u.v[0].kind, TG_UPDATE_MESSAGE);
        CHECK_STR(u.v[0].chat_type, "supergroup");
        CHECK_STR(u.v[0].from_username, "ivan");
        CHECK_STR(u.v[0].text, "Сколько видео?");
        CHECK_INT(u.v[0].text_len, strlen("Сколько видео?"));
    }
    tg_updates_free(&u);
}

TEST(missing_fields)
{
    struct tg_updates u;
    /* no update_id: skipped; fractional id: skipped; no chat: OTHER; no text: NULL */
    CHECK_INT(parse("{\"ok\":true,\"result\":[{\"message\":{\"text\":\"x\"}},"
                    "{\"update_id\":1.5},"
                    "{\"update_id\":10,\"message\":{\"text\":\"x\"}},"
                    "{\"update_id\":11,\"message\":{\"chat\":{\"id\":5}}},"
                    "{\"update_id\":12,\"callback_query\":{}},"
                    "{\"update_id\":13,\"message\":{\"chat\":{\"id\":\"5\"},\"text\":\"x\"}},"
                    "7]}",
                    &u),
              0);
    CHECK_INT(u.n, 4);
    if (u.n == 4) {
        CHECK_INT(u.v[0].update_id, 10);
        CHECK_INT(u.v[0].kind, TG_UPDATE_OTHER);
        CHECK_INT(u.v[1].kind, TG_UPDATE_MESSAGE);
        CHECK_INT(u.v[1].chat_id, 5);
        CHECK(u.v[1].text == NULL);
        CHECK_STR(u.v[1].chat_type, "");
        CHECK_STR(u.v[1].from_username, "");
        CHECK_INT(u.v[2].kind, TG_UPDATE_OTHER);
        CHECK_INT(u.v[3].kind, TG_UPDATE_OTHER); /* a chat id that is a string */
    }
    tg_updates_free(&u);
}

TEST(non_text_and_edited)
{
    struct tg_updates u;
    CHECK_INT(parse("{\"ok\":true,\"result\":["
                    "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1,\"type\":\"private\"},"
                    "\"sticker\":{\"file_id\":\"abc\",\"emoji\":\"😀\"}}},"
                    "{\"update_id\":2,\"message\":{\"chat\":{\"id\":1,\"type\":\"private\"},"
                    "\"photo\":[{\"file_id\":\"p\"}],\"caption\":\"Сколько?\"}},"
                    "{\"update_id\":3,\"edited_message\":{\"chat\":{\"id\":1},\"text\":\"new\"}}]}",
                    &u),
              0);
    CHECK_INT(u.n, 3);
    if (u.n == 3) {
        CHECK(u.v[0].text == NULL);
        CHECK_INT(u.v[0].kind, TG_UPDATE_MESSAGE);
        CHECK(u.v[1].text == NULL);
        CHECK_INT(u.v[2].kind, TG_UPDATE_EDITED);
        CHECK_STR(u.v[2].text, "new");
    }
    tg_updates_free(&u);
}

TEST(garbage)
{
    struct tg_updates u;
    const char *bad[] = {"", "{", "null", "[]", "{\"ok\":false,\"error_code\":409}",
                         "{\"ok\":true}", "{\"ok\":true,\"result\":{}}",
                         "{\"ok\":true,\"result\":[{\"update_id\":", "\xff\xfe{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(parse(bad[i], &u), -1);
        CHECK_INT(u.n, 0);
        tg_updates_free(&u);
    }
    CHECK_INT(parse("{\"ok\":true,\"result\":[]}", &u), 0);
    CHECK_INT(u.n, 0);
    tg_updates_free(&u);
}

TEST(entities_in_utf16)
{
    struct tg_updates u;
    /* "😀 Привет @TestNameBot /sql": the emoji is 2 UTF-16 units and 4 bytes, each
     * Cyrillic letter 1 unit and 2 bytes. */
    CHECK_INT(parse("{\"ok\":true,\"result\":[{\"update_id\":1,\"message\":{"
                    "\"chat\":{\"id\":-5,\"type\":\"group\"},"
                    "\"reply_to_message\":{\"from\":{\"id\":666}},"
                    "\"text\":\"😀 Привет @TestNameBot\","
                    "\"entities\":[{\"type\":\"mention\",\"offset\":10,\"length\":12},"
                    "{\"type\":\"bold\",\"offset\":0,\"length\":2},"
                    "{\"type\":\"mention\",\"offset\":-1,\"length\":3}]}},"
                    "{\"update_id\":2,\"message\":{\"chat\":{\"id\":-5},\"text\":\"/sql@TestNameBot\","
                    "\"entities\":[{\"type\":\"bot_command\",\"offset\":0,\"length\":16}]}}]}",
                    &u),
              0);
    CHECK_INT(u.n, 2);
    if (u.n == 2) {
        CHECK_INT(u.v[0].nmentions, 1);
        CHECK_INT(u.v[0].reply_to_from_id, 666);
        CHECK_INT(u.v[0].starts_with_command, 0);
        if (u.v[0].nmentions == 1) {
            struct tg_span s = u.v[0].mentions[0];
            CHECK_INT(s.len, 12);
            CHECK(s.off + s.len <= u.v[0].text_len &&
                  memcmp(u.v[0].text + s.off, "@TestNameBot", 12) == 0);
        }
        CHECK_INT(u.v[1].starts_with_command, 1);
    }
    tg_updates_free(&u);
}

/* ==== Counting and splitting ==== */

static int valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3 : (p[i] >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > len)
            return 0;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

/* Splits s into pieces of at most max units; checks each piece and the whole. */
static void check_split(const char *s, size_t len, size_t max, size_t *npieces)
{
    struct buf joined = BUF_INIT;
    *npieces = 0;
    for (size_t off = 0; off < len;) {
        size_t n = tg_split(s + off, len - off, max);
        CHECK(n > 0);
        if (n == 0)
            break;
        CHECK(tg_utf16_units(s + off, n) <= max);
        CHECK(valid_utf8(s + off, n));
        buf_add(&joined, s + off, n);
        off += n;
        (*npieces)++;
    }
    CHECK_INT(joined.len, len);
    CHECK(joined.len == len && memcmp(joined.p, s, len) == 0);
    buf_release(&joined);
}

TEST(units)
{
    CHECK_INT(tg_utf16_units("abc", 3), 3);
    CHECK_INT(tg_utf16_units("Жук", strlen("Жук")), 3);
    CHECK_INT(tg_utf16_units("😀", 4), 2);
    CHECK_INT(tg_utf16_units("\xff\xc3", 2), 2); /* invalid bytes count one each */
    CHECK_INT(tg_utf16_to_byte("Жук", 6, 1), 2);
    CHECK_INT(tg_utf16_to_byte("😀x", 5, 2), 4);
    CHECK_INT(tg_utf16_to_byte("ab", 2, 99), 2);
}

TEST(split_cyrillic_10000)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_adds(&b, i % 7 == 3 ? "ё" : "д");
    size_t pieces;
    CHECK_INT(tg_utf16_units(b.p, b.len), 10000);
    check_split(b.p, b.len, TG_MAX_UNITS, &pieces);
    CHECK_INT(pieces, 3);
    CHECK_INT(tg_split(b.p, b.len, TG_MAX_UNITS), 2 * TG_MAX_UNITS);
    buf_release(&b);
}

TEST(split_prefers_newline)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 300; i++)
        buf_adds(&b, "строка номер сто\n"); /* 17 units a line */
    size_t n = tg_split(b.p, b.len, TG_MAX_UNITS), pieces;
    CHECK(n > 0 && b.p[n - 1] == '\n');
    CHECK(tg_utf16_units(b.p, n) > TG_MAX_UNITS - 17);
    check_split(b.p, b.len, TG_MAX_UNITS, &pieces);
    CHECK_INT(pieces, 2);
    buf_release(&b);
}

TEST(split_emoji_and_tiny_limits)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 3000; i++)
        buf_adds(&b, i % 2 ? "😀" : "я");
    size_t pieces;
    check_split(b.p, b.len, TG_MAX_UNITS, &pieces);
    CHECK_INT(pieces, 2);
    check_split(b.p, b.len, 3, &pieces);
    CHECK_INT(tg_split("😀", 4, 1), 4); /* never 0, never a broken code point */
    CHECK_INT(tg_split("", 0, 10), 0);
    CHECK_INT(tg_split("short", 5, TG_MAX_UNITS), 5);
    buf_release(&b);
}

TEST(scrub_tokens_of_any_length)
{
    char s[64];
    snprintf(s, sizeof s, "tg: 123:SECRET failed at /bot123:SECRET/x");
    tg_scrub(s, "123:SECRET");
    CHECK_STR(s, "tg: *** failed at /bot***/x");
    snprintf(s, sizeof s, "a-b-a");
    tg_scrub(s, "a"); /* shorter than the mask: as many stars, the rest intact */
    CHECK_STR(s, "*-b-*");
    snprintf(s, sizeof s, "xaby ab");
    tg_scrub(s, "ab");
    CHECK_STR(s, "x**y **");
    snprintf(s, sizeof s, "a*b");
    tg_scrub(s, "*"); /* the mask itself matches: still ends */
    CHECK_STR(s, "a*b");
    snprintf(s, sizeof s, "abcabc");
    tg_scrub(s, "abc");
    CHECK_STR(s, "******");
    snprintf(s, sizeof s, "unchanged");
    tg_scrub(s, "");
    CHECK_STR(s, "unchanged");
}

int main(void)
{
    RUN(big_ids_and_negative_chat);
    RUN(missing_fields);
    RUN(non_text_and_edited);
    RUN(garbage);
    RUN(entities_in_utf16);
    RUN(units);
    RUN(split_cyrillic_10000);
    RUN(split_prefers_newline);
    RUN(split_emoji_and_tiny_limits);
    RUN(scrub_tokens_of_any_length);
    return th_finish();
}
