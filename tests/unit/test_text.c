#include "text.h"
#include "utc.h"
#include "testhelp.h"

#define NOW 1764590400000000LL /* 2025-12-01T12:00:00Z */

/* ==== Helpers ==== */

/* Every token lies inside the normalized text, in order, without overlaps, and points
 * at its own span; the normalized text is valid UTF-8 and maps back into the input.
 * Returns the number of broken rules. */
static int doc_violations(const struct text_doc *d, size_t raw_len)
{
    int bad = 0;
    size_t at;
    const char *why;
    if (strlen(d->norm) != d->norm_len || text_utf8_check(d->norm, d->norm_len, &at, &why))
        bad++;
    if (d->orig[d->norm_len] != raw_len)
        bad++;
    for (size_t k = 0; k < d->norm_len; k++)
        if (d->orig[k] >= raw_len || (k && d->orig[k] < d->orig[k - 1]))
            bad++;
    for (size_t i = 0; i < d->ntoks; i++) {
        const struct tok *t = &d->toks[i];
        if (t->start >= t->end || t->end > d->norm_len || t->s != d->norm + t->start ||
            t->len != t->end - t->start || (i && t->start < d->toks[i - 1].end))
            bad++;
        if (t->kind == TOK_ID && strlen(t->id) != 32 && !(t->flags & TOK_F_PREFIX_ID))
            bad++;
        if (t->kind == TOK_DATE && !(t->flags & TOK_F_BAD_DATE) && t->from >= t->to)
            bad++;
        if (t->kind == TOK_TIMEWIN && !(t->flags & TOK_F_BAD_DATE) &&
            (t->from < 0 || t->to > 86400 || t->from >= t->to))
            bad++;
        /* a number is negative only when a minus sign is part of it */
        if (t->kind == TOK_NUM && t->num < 0 && t->s[0] != '-')
            bad++;
    }
    return bad;
}

static const char *norm_of(struct text_doc *d, const char *raw)
{
    if (text_prepare(d, raw, strlen(raw)) != TEXT_OK)
        return "(error)";
    return d->norm;
}

static const char *dump_of(struct text_doc *d, const char *raw, struct buf *b)
{
    buf_reset(b);
    if (text_analyze(d, raw, strlen(raw), NOW) != TEXT_OK)
        return text_errmsg(d);
    text_dump(d, b);
    return buf_str(b);
}

/* ==== UTF-8 ==== */

TEST(utf8_accepts_valid_text)
{
    static const char *const ok[] = {
        "", "abc", "привет", "€", "😀", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF", "\xED\x9F\xBF",
        "\xEE\x80\x80", "\xC2\x80", "\xE0\xA0\x80", "\xF0\x90\x80\x80", "Ёж ≥ 5 — «да»"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        size_t at = 99;
        const char *why = NULL;
        if (text_utf8_check(ok[i], strlen(ok[i]), &at, &why) != 0) {
            fprintf(stderr, "rejected valid #%zu: %s at %zu\n", i, why, at);
            CHECK(0);
        }
    }
}

TEST(utf8_rejects_each_kind_of_bad_sequence)
{
    static const struct {
        const char *s;
        size_t len, at;
        const char *why;
    } bad[] = {
        {"a\0b", 3, 1, "NUL byte"},
        {"\xC0\xAF", 2, 0, "overlong"},
        {"\xC1\xBF", 2, 0, "overlong"},
        {"\xE0\x80\xAF", 3, 0, "overlong"},
        {"\xE0\x9F\xBF", 3, 0, "overlong"},
        {"\xF0\x80\x80\xAF", 4, 0, "overlong"},
        {"\xF0\x8F\xBF\xBF", 4, 0, "overlong"},
        {"\xED\xA0\x80", 3, 0, "surrogate"},
        {"x\xED\xBF\xBF", 4, 1, "surrogate"},
        {"\xF4\x90\x80\x80", 4, 0, "above U+10FFFF"},
        {"\xF5\x80\x80\x80", 4, 0, "above U+10FFFF"},
        {"\xFF", 1, 0, "invalid byte"},
        {"\xFE\xFE", 2, 0, "invalid byte"},
        {"\x80", 1, 0, "unexpected continuation"},
        {"ab\xBF", 3, 2, "unexpected continuation"},
        {"ab\xD0", 3, 2, "truncated"},
        {"\xE2\x82", 2, 0, "truncated"},
        {"\xF0\x9F\x98", 3, 0, "truncated"},
        {"\xD0" "A", 2, 0, "truncated"},
        {"\xE2\x82" "A", 3, 0, "truncated"},
        {"привет\xD0", 13, 12, "truncated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t at = 99;
        const char *why = "";
        int rc = text_utf8_check(bad[i].s, bad[i].len, &at, &why);
        if (rc != TEXT_EUTF8 || at != bad[i].at || !strstr(why, bad[i].why)) {
            fprintf(stderr, "bad #%zu: rc %d at %zu why \"%s\", want at %zu \"%s\"\n", i, rc,
                    at, why, bad[i].at, bad[i].why);
            CHECK(0);
        }
    }
}

TEST(prepare_reports_errors_in_one_line)
{
    struct text_doc d;
    text_doc_init(&d, 8);
    CHECK_INT(text_prepare(&d, "ab\xD0", 3), TEXT_EUTF8);
    CHECK_STR(text_errmsg(&d), "text: invalid UTF-8 at byte 2: truncated sequence");
    CHECK_INT(d.ntoks, 0);
    CHECK_INT(text_analyze(&d, "123456789", 9, NOW), TEXT_ETOOLONG);
    CHECK_STR(text_errmsg(&d), "text: input of 9 bytes is longer than the limit of 8");
    CHECK_INT(text_analyze(&d, "12345678", 8, NOW), TEXT_OK);
    CHECK_STR(text_errmsg(&d), "");
    CHECK_INT(d.ntoks, 1);
    text_doc_release(&d);
    text_doc_release(NULL);
    text_doc_init(&d, 0);
    CHECK_INT(d.max_len, TEXT_MAX_DEFAULT);
    CHECK_INT(text_prepare(&d, "", 0), TEXT_OK);
    CHECK_INT(d.ntoks, 0);
    CHECK_STR(d.norm, "");
    text_doc_release(&d);
}

/* ==== Normalization ==== */

TEST(normalization_cases)
{
    static const char *const cases[][2] = {
        {"ПРИВЕТ Мир", "привет мир"},
        {"ABC Def xyz", "abc def xyz"},
        {"Ёлка ёж ЁЖ", "елка еж еж"},
        {"Е\xCC\x88лка", "елка"},                        /* е + U+0308 */
        {"И\xCC\x86од и\xCC\x86", "йод й"},              /* и + U+0306 */
        {"a\xCC\x86", "a"},                              /* a breve elsewhere goes */
        {"моло\xCC\x81ко", "молоко"},                    /* stress mark */
        {"10\xE2\x80\x8B" "000", "10000"},               /* U+200B */
        {"\xE2\x80\x8F" "abc\xE2\x80\xAE" "def\xE2\x81\xA6", "abcdef"},
        {"\xEF\xBB\xBFтекст", "текст"},                  /* BOM */
        {"про\xC2\xADсмотры", "просмотры"},              /* soft hyphen */
        {"10\xC2\xA0" "000", "10 000"},                  /* NBSP */
        {"10\xE2\x80\xAF" "000", "10 000"},              /* U+202F */
        {"10\xE2\x80\x89" "000", "10 000"},              /* U+2009 */
        {"  a \t\n\r b  ", "a b"},
        {"a\xE3\x80\x80" "b", "a b"},                    /* ideographic space */
        {"a\xE2\x80\x94" "b \xE2\x80\x93 c", "a-b - c"}, /* em, en dash */
        {"\xE2\x88\x92" "5 \xE2\x80\x90" "x", "-5 -x"},  /* minus, hyphen */
        {"«Ёлка»", "\"елка\""},
        {"„a“ ‘b’ 'c'", "\"a\" \"b\" \"c\""},
        {"≥5 ≤ 3 ≠", "≥5 ≤ 3 ≠"},
        {"Ѓ Ђ", "ѓ ђ"},
        {"😀 ok", "😀 ok"},
        {"\xE2\x80\x8B", ""},
    };
    struct text_doc d;
    text_doc_init(&d, 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_STR(norm_of(&d, cases[i][0]), cases[i][1]);
    text_doc_release(&d);
}

TEST(normalized_bytes_map_back_to_the_input)
{
    struct text_doc d;
    const char *raw = "  Ёж\xC2\xA0\xE2\x80\x8B" "10";
    text_doc_init(&d, 0);
    CHECK_INT(text_prepare(&d, raw, strlen(raw)), TEXT_OK);
    CHECK_STR(d.norm, "еж 10");
    CHECK_INT(d.orig[0], 2); /* е came from Ё at byte 2 */
    CHECK_INT(d.orig[2], 4); /* ж */
    CHECK_INT(d.orig[4], 6); /* the space came from the NBSP */
    CHECK_INT(d.orig[5], 11); /* the zero-width space left no trace */
    CHECK_INT(d.orig[d.norm_len], strlen(raw));
    CHECK_INT(doc_violations(&d, strlen(raw)), 0);
    text_doc_release(&d);
}

/* ==== Tokens ==== */

TEST(tokens_kinds_spans_and_gaps)
{
    struct text_doc d;
    const char *raw = "Сколько видео, 100к 10k aBc1? 10:00 10 000 28.11.2025";
    text_doc_init(&d, 0);
    CHECK_INT(text_prepare(&d, raw, strlen(raw)), TEXT_OK);
    static const struct {
        enum tok_kind kind;
        const char *s;
        size_t gap;
    } want[] = {
        {TOK_WORD, "сколько", 1}, {TOK_WORD, "видео", 0}, {TOK_PUNCT, ",", 1},
        {TOK_WORD, "100к", 1},    {TOK_WORD, "10k", 1},   {TOK_WORD, "abc1", 0},
        {TOK_PUNCT, "?", 1},      {TOK_NUM, "10", 0},     {TOK_PUNCT, ":", 0},
        {TOK_NUM, "00", 1},       {TOK_NUM, "10", 1},     {TOK_NUM, "000", 1},
        {TOK_NUM, "28", 0},       {TOK_PUNCT, ".", 0},    {TOK_NUM, "11", 0},
        {TOK_PUNCT, ".", 0},      {TOK_NUM, "2025", SIZE_MAX},
    };
    CHECK_INT(d.ntoks, sizeof want / sizeof *want);
    for (size_t i = 0; i < d.ntoks && i < sizeof want / sizeof *want; i++) {
        const struct tok *t = &d.toks[i];
        if (t->kind != want[i].kind || t->len != strlen(want[i].s) ||
            memcmp(t->s, want[i].s, t->len) || text_gap(&d, i) != want[i].gap) {
            fprintf(stderr, "token %zu: %s \"%.*s\" gap %zu, want %s \"%s\" gap %zu\n", i,
                    text_kind_name(t->kind), (int)t->len, t->s, text_gap(&d, i),
                    text_kind_name(want[i].kind), want[i].s, want[i].gap);
            CHECK(0);
        }
    }
    CHECK_INT(d.toks[0].start, 0);
    CHECK_INT(d.toks[0].end, 14); /* seven Cyrillic letters */
    CHECK_INT(d.toks[7].num, 10);
    CHECK(text_is(&d.toks[2], ","));
    CHECK(!text_is(&d.toks[7], "10"));
    CHECK_INT(doc_violations(&d, strlen(raw)), 0);
    text_doc_release(&d);
}

TEST(merged_tokens_span_their_parts)
{
    struct text_doc d;
    const char *raw = "больше 10\xC2\xA0" "000 просмотров 28 ноября 2025";
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, raw, strlen(raw), NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 4);
    CHECK_INT(d.toks[1].kind, TOK_NUM);
    CHECK_INT(d.toks[1].start, 13);
    CHECK_INT(d.toks[1].len, 6);
    CHECK(!memcmp(d.toks[1].s, "10 000", 6));
    CHECK_INT(d.orig[d.toks[1].start], 13);
    CHECK_INT(d.orig[d.toks[1].end], 20); /* NBSP is two bytes in the input */
    CHECK_INT(d.toks[3].kind, TOK_DATE);
    CHECK_INT(d.toks[3].end, d.norm_len);
    CHECK_INT(doc_violations(&d, strlen(raw)), 0);
    text_doc_release(&d);
}

TEST(dump_shows_every_kind)
{
    struct text_doc d;
    struct buf b = BUF_INIT;
    text_doc_init(&d, 0);
    CHECK_STR(dump_of(&d, "Сколько видео у aca1061a с 10:00 до 15:00 вчера, 1,5?", &b),
              "word:сколько word:видео word:у id:aca1061a!prefix timewin:10:00/15:00 "
              "date:2025-11-30T00:00:00Z/2025-12-01T00:00:00Z/day punct:, num:1!fraction "
              "punct:?");
    CHECK_STR(dump_of(&d, "31 февраля", &b),
              "date:1970-01-01T00:00:00Z/1970-01-01T00:00:00Z/day!noyear!bad");
    CHECK_STR(text_kind_name(TOK_TIMEWIN), "timewin");
    CHECK_STR(text_grain_name(TOK_GRAIN_SPAN), "span");
    buf_release(&b);
    text_doc_release(&d);
}

TEST(word_sets_find_exact_words)
{
    static const struct text_lex_word words[] = {{"да", 1, 10}, {"нет", 2, 20}, {"д", 4, 30}};
    static struct text_lex x;
    text_lex_build(&x, words, 3);
    CHECK(text_lex_find(&x, "да", strlen("да")) == &words[0]);
    CHECK(text_lex_find(&x, "нет", strlen("нет")) == &words[1]);
    CHECK(text_lex_find(&x, "д", strlen("д")) == &words[2]);
    CHECK(text_lex_find(&x, "дан", strlen("дан")) == NULL);
    CHECK(text_lex_find(&x, "да", 1) == NULL); /* a prefix of a word is not the word */
    CHECK(text_lex_find(&x, "", 0) == NULL);
}

/* ==== Hostile input ==== */

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

TEST(random_bytes_never_break_anything)
{
    struct text_doc d;
    char raw[256];
    int broken = 0, accepted = 0;
    text_doc_init(&d, 0);
    for (int n = 0; n < 20000; n++) {
        size_t len = rng() % sizeof raw;
        for (size_t k = 0; k < len; k++)
            raw[k] = (char)(rng() % 4 ? 0x20 + rng() % 0x60 : rng() & 0xFF);
        int rc = text_analyze(&d, raw, len, NOW);
        if (rc == TEXT_OK) {
            accepted++;
            broken += doc_violations(&d, len) != 0;
        } else if (rc != TEXT_EUTF8 || !strstr(text_errmsg(&d), "invalid UTF-8 at byte")) {
            broken++;
        }
    }
    CHECK_INT(broken, 0);
    CHECK(accepted > 0);
    text_doc_release(&d);
}

/* Phrases glued from pieces that mean something to the passes, in random order. */
TEST(random_phrases_keep_the_invariants)
{
    static const char *const pieces[] = {
        "с", "по", "до", "между", "и", "от", "1", "5", "10", "15", "28", "31", "2025", "99999",
        "00", "000", "ноября", "февраля", "ноя", "года", "г", ".", ",", ":", "-", "—", " ",
        "\xC2\xA0", "вчера", "последние", "семь", "дней", "недели", "прошлой", "этом",
        "месяце", "часов", "тыс", "млн", "к", "полтора", "двадцать", "тысяч", "aca1061a",
        "cd87be38", "b50b", "8342", "bb3c383f3c7d", "\xE2\x80\x8B", "\xCC\x86", "и", "😀",
        "≥", ">", "включительно", "9999999999999999999999", "24", "го", "е", "сегодня"};
    struct text_doc d;
    char raw[400];
    int broken = 0;
    text_doc_init(&d, 0);
    for (int n = 0; n < 20000; n++) {
        size_t len = 0;
        for (int p = rng() % 12; p >= 0; p--) {
            const char *s = pieces[rng() % (sizeof pieces / sizeof *pieces)];
            size_t sl = strlen(s);
            if (len + sl + 1 >= sizeof raw)
                break;
            memcpy(raw + len, s, sl);
            len += sl;
            if (rng() % 3)
                raw[len++] = ' ';
        }
        if (text_analyze(&d, raw, len, NOW) != TEXT_OK || doc_violations(&d, len)) {
            fprintf(stderr, "broken: \"%.*s\"\n", (int)len, raw);
            broken++;
        }
    }
    CHECK_INT(broken, 0);
    text_doc_release(&d);
}

TEST(a_hundred_kilobytes_of_text)
{
    static const char q[] = "Сколько видео набрало больше 10 000 просмотров с 1 по 5 ноября "
                            "2025 у креатора aca1061a9d324ecf8c3fa2bb32d7be63? ";
    struct buf b = BUF_INIT;
    struct text_doc d;
    while (b.len < 100 * 1024)
        buf_add(&b, q, sizeof q - 1);
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, b.p, b.len, NOW), TEXT_ETOOLONG);
    text_doc_release(&d);
    text_doc_init(&d, 200 * 1024);
    CHECK_INT(text_analyze(&d, b.p, b.len, NOW), TEXT_OK);
    size_t copies = b.len / (sizeof q - 1), nums = 0, dates = 0, ids = 0;
    for (size_t i = 0; i < d.ntoks; i++) {
        nums += d.toks[i].kind == TOK_NUM && d.toks[i].num == 10000;
        dates += d.toks[i].kind == TOK_DATE;
        ids += d.toks[i].kind == TOK_ID;
    }
    CHECK_INT(nums, copies);
    CHECK_INT(dates, copies);
    CHECK_INT(ids, copies);
    CHECK_INT(doc_violations(&d, b.len), 0);
    text_doc_release(&d);
    buf_release(&b);
}

TEST(ten_thousand_digits_overflow_cleanly)
{
    struct buf b = BUF_INIT;
    struct text_doc d;
    for (int k = 0; k < 10000; k++)
        buf_addc(&b, (char)('1' + k % 9));
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, b.p, b.len, NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 1);
    CHECK_INT(d.toks[0].kind, TOK_NUM);
    CHECK(d.toks[0].flags & TOK_F_OVERFLOW);
    CHECK(d.toks[0].num == INT64_MAX);
    buf_adds(&b, ",5 млн");
    CHECK_INT(text_analyze(&d, b.p, b.len, NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 1);
    CHECK(d.toks[0].flags & TOK_F_OVERFLOW);
    buf_reset(&b);
    buf_adds(&b, "0,");
    for (int k = 0; k < 10000; k++)
        buf_addc(&b, '5');
    CHECK_INT(text_analyze(&d, b.p, b.len, NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 1);
    CHECK_INT(d.toks[0].num, 0);
    CHECK(d.toks[0].flags & TOK_F_FRACTION);
    CHECK(!(d.toks[0].flags & TOK_F_OVERFLOW));
    text_doc_release(&d);
    buf_release(&b);
}

TEST(emoji_and_bidi_marks)
{
    struct text_doc d;
    struct buf b = BUF_INIT;
    text_doc_init(&d, 0);
    CHECK_STR(dump_of(&d, "\xE2\x80\xAE" "Сколько\xE2\x80\xAC видео 😀😀 за вчера\xE2\x80\x8F?",
                      &b),
              "word:сколько word:видео punct:😀 punct:😀 word:за "
              "date:2025-11-30T00:00:00Z/2025-12-01T00:00:00Z/day punct:?");
    CHECK_STR(dump_of(&d, "👍🏽 \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", &b),
              "punct:👍 punct:🏽 punct:👨 punct:👩");
    buf_release(&b);
    text_doc_release(&d);
}

TEST(a_doc_is_reused_without_growing)
{
    struct text_doc d;
    const char *big = "Сколько видео набрало больше 10 000 просмотров за последние семь дней?";
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, big, strlen(big), NOW), TEXT_OK);
    char *norm = d.norm;
    struct tok *toks = d.toks;
    CHECK_INT(text_analyze(&d, "вчера", strlen("вчера"), NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 1);
    CHECK(d.norm == norm && d.toks == toks);
    CHECK_INT(text_analyze(&d, big, strlen(big), NOW), TEXT_OK);
    CHECK(d.norm == norm && d.toks == toks);
    text_doc_release(&d);
}

static const char *clean(const char *s, size_t len, size_t max)
{
    static struct buf b = BUF_INIT;
    buf_reset(&b);
    text_add_clean(&b, s, len, max);
    return buf_str(&b);
}

/* Quoting outside text in an error message: one printable line of valid UTF-8. */
TEST(add_clean_keeps_one_line_of_utf8)
{
    CHECK_STR(clean("views_count", 11, 60), "views_count");
    CHECK_STR(clean("a\nb\rc\td\x7f", 8, 60), "a?b?c?d?");
    CHECK_STR(clean("x\0y", 3, 60), "x?y");
    CHECK_STR(clean("\xd0\xbf\xd1\x80\xd0", 5, 60), "пр?");      /* truncated sequence */
    CHECK_STR(clean("\xff\xc0\x80ok", 5, 60), "???ok");               /* invalid, overlong */
    CHECK_STR(clean("\xc2\x85x", 3, 60), "?x");                        /* C1 control (NEL) */
    CHECK_STR(clean("\xd0\xbf\xd1\x80\xd0\xb8", 6, 5), "пр");       /* a cut drops a character */
    CHECK_STR(clean("abc", 3, 0), "");
}

int main(void)
{
    RUN(utf8_accepts_valid_text);
    RUN(utf8_rejects_each_kind_of_bad_sequence);
    RUN(prepare_reports_errors_in_one_line);
    RUN(normalization_cases);
    RUN(normalized_bytes_map_back_to_the_input);
    RUN(tokens_kinds_spans_and_gaps);
    RUN(merged_tokens_span_their_parts);
    RUN(dump_shows_every_kind);
    RUN(word_sets_find_exact_words);
    RUN(random_bytes_never_break_anything);
    RUN(random_phrases_keep_the_invariants);
    RUN(a_hundred_kilobytes_of_text);
    RUN(ten_thousand_digits_overflow_cleanly);
    RUN(emoji_and_bidi_marks);
    RUN(a_doc_is_reused_without_growing);
    RUN(add_clean_keeps_one_line_of_utf8);
    return th_finish();
}
