#include "dates.h"
#include "text.h"
#include "utc.h"
#include "testhelp.h"

#define GOLDEN "tests/data/dates.tsv"
#define NOW 1764590400000000LL /* 2025-12-01T12:00:00Z, a Monday */

static int64_t P(const char *s)
{
    int64_t t = 0;
    CHECK(utc_parse(s, strlen(s), &t) == 0);
    return t;
}

/* A DATE or TIMEWIN token as the golden file writes it: three tab-separated fields. */
static void render(const struct tok *t, struct buf *out)
{
    char a[UTC_FMT_MAX], b[UTC_FMT_MAX];
    if (t->flags & TOK_F_BAD_DATE) {
        buf_adds(out, "ERROR\t-\t-");
        return;
    }
    if (t->kind == TOK_TIMEWIN) {
        buf_addf(out, "%02d:%02d\t%02d:%02d\ttimewin", (int)(t->from / 3600),
                 (int)(t->from / 60 % 60), (int)(t->to / 3600), (int)(t->to / 60 % 60));
        return;
    }
    utc_format(t->from, a, sizeof a);
    utc_format(t->to, b, sizeof b);
    buf_addf(out, "%s\t%s\t%s%s", a, b, text_grain_name(t->grain),
             t->flags & TOK_F_NO_YEAR ? "+noyear" : "");
}

static void render_doc(const struct text_doc *d, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < d->ntoks; i++) {
        if (d->toks[i].kind != TOK_DATE && d->toks[i].kind != TOK_TIMEWIN)
            continue;
        if (out->len)
            buf_addc(out, '\t');
        render(&d->toks[i], out);
    }
    if (!out->len)
        buf_adds(out, "NONE");
}

struct golden {
    struct text_doc d;
    struct buf got;
    int cases;
};

/* One golden line: phrase, now, expectations. Returns 1 when it was a case. */
static int golden_case(struct text_doc *d, char *line, size_t lineno, struct buf *got)
{
    char *phrase = line, *now_s = strchr(line, '\t'), *want;
    int64_t now;
    if (!strncmp(line, "#tz ", 4)) {
        CHECK_INT(utc_set_zone(line + 4), 0);
        return 0;
    }
    if (!line[0] || line[0] == '#')
        return 0;
    if (!now_s || !(want = strchr(now_s + 1, '\t'))) {
        fprintf(stderr, "%s:%zu: want phrase, now and expectations\n", GOLDEN, lineno);
        CHECK(0);
        return 0;
    }
    *now_s++ = '\0';
    *want++ = '\0';
    if (utc_parse(now_s, strlen(now_s), &now)) {
        fprintf(stderr, "%s:%zu: bad now \"%s\"\n", GOLDEN, lineno, now_s);
        CHECK(0);
        return 0;
    }
    if (text_analyze(d, phrase, strlen(phrase), now) != TEXT_OK) {
        fprintf(stderr, "%s:%zu: %s\n", GOLDEN, lineno, text_errmsg(d));
        CHECK(0);
        return 1;
    }
    render_doc(d, got);
    if (strcmp(got->p, want)) {
        fprintf(stderr, "%s:%zu: %s (now %s, zone %s):\n  want %s\n  got  %s\n", GOLDEN,
                lineno, phrase, now_s, utc_zone(), want, got->p);
        CHECK(0);
    }
    return 1;
}

static void golden_line(char *line, size_t lineno, void *ctx)
{
    struct golden *g = ctx;
    g->cases += golden_case(&g->d, line, lineno, &g->got);
}

TEST(golden_file)
{
    struct golden g = {.got = BUF_INIT};
    text_doc_init(&g.d, 0);
    if (th_each_line(GOLDEN, golden_line, &g) == 0)
        CHECK(g.cases >= 60);
    utc_set_zone(NULL);
    text_doc_release(&g.d);
    buf_release(&g.got);
}

/* Range prepositions go into the token; role words stay for the grammar. */
TEST(prepositions_consumed_and_left)
{
    struct text_doc d;
    struct buf b = BUF_INIT;
    const char *s = "в период с 1 по 5 ноября 2025 включительно? за вчера, на прошлой неделе";
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, s, strlen(s), NOW), TEXT_OK);
    text_dump(&d, &b);
    CHECK_STR(b.p, "word:в word:период date:2025-11-01T00:00:00Z/2025-11-06T00:00:00Z/span "
                   "punct:? word:за date:2025-11-30T00:00:00Z/2025-12-01T00:00:00Z/day "
                   "punct:, word:на date:2025-11-24T00:00:00Z/2025-12-01T00:00:00Z/week");
    CHECK(d.toks[5].flags & TOK_F_RELATIVE);
    CHECK(!(d.toks[2].flags & TOK_F_RELATIVE));
    buf_release(&b);
    text_doc_release(&d);
}

TEST(window_on_a_day)
{
    struct text_doc d;
    const char *s = "с 10:00 до 15:00 28 ноября 2025 с 23:00 до 24:00";
    int64_t from, to;
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, s, strlen(s), NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 3);
    CHECK_INT(dates_window_on_day(&d.toks[1], &d.toks[0], &from, &to), 0);
    CHECK(from == P("2025-11-28T10:00:00Z") && to == P("2025-11-28T15:00:00Z"));
    CHECK_INT(dates_window_on_day(&d.toks[1], &d.toks[2], &from, &to), 0);
    CHECK(from == P("2025-11-28T23:00:00Z") && to == P("2025-11-29T00:00:00Z"));
    CHECK_INT(dates_window_on_day(&d.toks[0], &d.toks[1], &from, &to), -1);
    CHECK_INT(utc_set_zone("Europe/Moscow"), 0);
    CHECK_INT(text_analyze(&d, s, strlen(s), NOW), TEXT_OK);
    CHECK_INT(dates_window_on_day(&d.toks[1], &d.toks[0], &from, &to), 0);
    CHECK(from == P("2025-11-28T07:00:00Z") && to == P("2025-11-28T12:00:00Z"));
    utc_set_zone(NULL);
    s = "с 1 по 5 ноября 2025 с 10:00 до 15:00 31 февраля с 15 до 10 часов";
    CHECK_INT(text_analyze(&d, s, strlen(s), NOW), TEXT_OK);
    CHECK_INT(d.ntoks, 4);
    CHECK_INT(dates_window_on_day(&d.toks[0], &d.toks[1], &from, &to), -1); /* a span */
    CHECK_INT(dates_window_on_day(&d.toks[2], &d.toks[1], &from, &to), -1); /* bad day */
    CHECK(d.toks[3].flags & TOK_F_BAD_DATE);
    text_doc_release(&d);
}

TEST(plain_resolver)
{
    struct tok t;
    CHECK_INT(dates_resolve("вчера", strlen("вчера"), NOW, &t), 0);
    CHECK_INT(t.kind, TOK_DATE);
    CHECK_INT(t.grain, TOK_GRAIN_DAY);
    CHECK(t.from == P("2025-11-30") && t.to == P("2025-12-01"));
    CHECK_INT(dates_resolve("с 10 до 15 часов", strlen("с 10 до 15 часов"), NOW, &t), 0);
    CHECK_INT(t.kind, TOK_TIMEWIN);
    CHECK(t.from == 36000 && t.to == 54000);
    CHECK_INT(dates_resolve("сколько видео", strlen("сколько видео"), NOW, &t), -1);
    CHECK_INT(dates_resolve("вчера\xFF", 11, NOW, &t), -1);
}

/* For every hour over three years (and so every weekday, month end and leap day), the
 * relative phrases keep their shape. */
TEST(relative_phrases_over_three_years)
{
    struct text_doc d;
    int bad = 0;
    text_doc_init(&d, 0);
    for (int64_t now = P("2023-01-01T00:00:00Z"); now < P("2026-01-01T00:00:00Z");
         now += 3600 * UTC_US_PER_SEC) {
        const char *s = "вчера сегодня за последние 7 дней на прошлой неделе в прошлом месяце";
        int64_t today = now - now % UTC_US_PER_DAY;
        struct utc_civil c;
        if (text_analyze(&d, s, strlen(s), now) != TEXT_OK || d.ntoks != 8) {
            bad++;
            continue;
        }
        const struct tok *y = &d.toks[0], *t = &d.toks[1], *l7 = &d.toks[3],
                         *w = &d.toks[5], *m = &d.toks[7];
        bad += y->from != today - UTC_US_PER_DAY || y->to != today;
        bad += t->from != today || t->to != today + UTC_US_PER_DAY;
        bad += l7->to != t->to || l7->to - l7->from != 7 * UTC_US_PER_DAY;
        bad += w->to - w->from != 7 * UTC_US_PER_DAY || w->to > today ||
               w->to + 7 * UTC_US_PER_DAY <= today ||
               utc_weekday(w->from / UTC_US_PER_DAY) != 0;
        utc_to_civil(m->from, &c);
        bad += c.day != 1 || m->to > today || c.hour || m->grain != TOK_GRAIN_MONTH;
        utc_to_civil(m->to, &c);
        bad += c.day != 1;
    }
    CHECK_INT(bad, 0);
    text_doc_release(&d);
}

int main(void)
{
    RUN(golden_file);
    RUN(prepositions_consumed_and_left);
    RUN(window_on_a_day);
    RUN(plain_resolver);
    RUN(relative_phrases_over_three_years);
    return th_finish();
}
