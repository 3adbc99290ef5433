#include "numbers.h"
#include "text.h"
#include "testhelp.h"

#define NOW 1764590400000000LL /* 2025-12-01T12:00:00Z */
#define GOLDEN "tests/data/numbers.tsv"

/* "\uXXXX" in golden text stands for that character, so that invisible spaces stay
 * readable in the file. */
static void unescape(const char *s, struct buf *out)
{
    buf_reset(out);
    for (; *s; s++) {
        unsigned cp = 0;
        int n = 0;
        if (s[0] == '\\' && s[1] == 'u' && sscanf(s + 2, "%4x%n", &cp, &n) == 1 && n == 4) {
            char u[3];
            int len = cp < 0x800 ? 2 : 3;
            if (cp < 0x80) {
                buf_addc(out, (char)cp);
                s += 5;
                continue;
            }
            if (len == 2) {
                u[0] = (char)(0xC0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3F));
            } else {
                u[0] = (char)(0xE0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[2] = (char)(0x80 | (cp & 0x3F));
            }
            buf_add(out, u, (size_t)len);
            s += 5;
            continue;
        }
        buf_addc(out, *s);
    }
}

/* The NUM, ID, DATE and TIMEWIN tokens, as the golden file writes them. */
static void render(const struct text_doc *d, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < d->ntoks; i++) {
        const struct tok *t = &d->toks[i];
        size_t before = out->len;
        if (out->len)
            buf_addc(out, ' ');
        if (t->kind == TOK_NUM && (t->flags & (TOK_F_FRACTION | TOK_F_OVERFLOW)))
            buf_adds(out, "ERROR");
        else if (t->kind == TOK_NUM)
            buf_addf(out, "%" PRId64, t->num);
        else if (t->kind == TOK_ID)
            buf_addf(out, "%s:%s", t->flags & TOK_F_PREFIX_ID ? "idp" : "id", t->id);
        else if (t->kind == TOK_DATE)
            buf_adds(out, "DATE");
        else if (t->kind == TOK_TIMEWIN)
            buf_adds(out, "TIMEWIN");
        else
            buf_truncate(out, before);
    }
    if (!out->len)
        buf_addc(out, '-');
}

struct golden {
    struct text_doc d;
    struct buf text, got;
    int cases;
};

/* One golden line: text (with \uXXXX escapes) <TAB> its tokens. */
static void golden_line(char *line, size_t lineno, void *ctx)
{
    struct golden *g = ctx;
    if (!line[0] || line[0] == '#')
        return;
    char *tab = strchr(line, '\t');
    if (!tab || strchr(tab + 1, '\t')) {
        fprintf(stderr, "%s:%zu: want 2 tab-separated columns\n", GOLDEN, lineno);
        CHECK(0);
        return;
    }
    *tab = '\0';
    unescape(line, &g->text);
    g->cases++;
    if (text_analyze(&g->d, g->text.p, g->text.len, NOW) != TEXT_OK) {
        fprintf(stderr, "%s:%zu: %s\n", GOLDEN, lineno, text_errmsg(&g->d));
        CHECK(0);
        return;
    }
    render(&g->d, &g->got);
    if (strcmp(g->got.p, tab + 1)) {
        fprintf(stderr, "%s:%zu: %s: want %s got %s\n", GOLDEN, lineno, line, tab + 1,
                g->got.p);
        CHECK(0);
    }
}

TEST(golden_file)
{
    struct golden g = {.text = BUF_INIT, .got = BUF_INIT};
    text_doc_init(&g.d, 0);
    if (th_each_line(GOLDEN, golden_line, &g) == 0)
        CHECK(g.cases >= 60);
    text_doc_release(&g.d);
    buf_release(&g.text);
    buf_release(&g.got);
}

static const struct tok *first(struct text_doc *d, const char *s)
{
    static const struct tok none;
    if (text_analyze(d, s, strlen(s), NOW) != TEXT_OK || !d->ntoks)
        return &none;
    return &d->toks[0];
}

TEST(full_ids_carry_both_forms)
{
    struct text_doc d;
    const struct tok *t;
    text_doc_init(&d, 0);
    t = first(&d, "CD87BE38-B50B-4FDD-8342-BB3C383F3C7D");
    CHECK_INT(t->kind, TOK_ID);
    CHECK_STR(t->id, "cd87be38b50b4fdd8342bb3c383f3c7d");
    CHECK_STR(t->uuid, "cd87be38-b50b-4fdd-8342-bb3c383f3c7d");
    CHECK(t->flags & TOK_F_DASHED);
    CHECK_INT(t->len, 36);
    t = first(&d, "cd87be38b50b4fdd8342bb3c383f3c7d");
    CHECK_STR(t->uuid, "cd87be38-b50b-4fdd-8342-bb3c383f3c7d");
    CHECK(!(t->flags & (TOK_F_DASHED | TOK_F_PREFIX_ID)));
    t = first(&d, "aca1061a");
    CHECK(t->flags & TOK_F_PREFIX_ID);
    CHECK_STR(t->uuid, "");
    /* the parts of a UUID must touch: with spaces it is a prefix and loose words */
    CHECK_INT(first(&d, "cd87be38 - b50b-4fdd-8342-bb3c383f3c7d")->flags, TOK_F_PREFIX_ID);
    CHECK_INT(d.ntoks, 9);
    text_doc_release(&d);
}

TEST(number_flags)
{
    struct text_doc d;
    text_doc_init(&d, 0);
    CHECK_INT(first(&d, "двадцать пять тысяч")->flags, TOK_F_WORDS);
    CHECK_INT(first(&d, "25 тысяч")->flags, 0);
    CHECK_INT(first(&d, "полтора")->flags, TOK_F_WORDS | TOK_F_FRACTION);
    CHECK_INT(first(&d, "полтора")->num, 1);
    CHECK_INT(first(&d, "1,9")->num, 1);
    CHECK_INT(first(&d, "99999999999999999999")->flags, TOK_F_OVERFLOW);
    CHECK_INT(first(&d, "10 000 просмотров")->len, 6);
    text_doc_release(&d);
}

TEST(parse_at_reads_without_merging)
{
    struct text_doc d;
    struct numbers_value v;
    const char *s = "за последние двадцать пять дней";
    text_doc_init(&d, 0);
    CHECK_INT(text_prepare(&d, s, strlen(s)), TEXT_OK);
    CHECK_INT(numbers_parse_at(&d, 0, &v), 0);
    CHECK_INT(numbers_parse_at(&d, 2, &v), 2);
    CHECK_INT(v.value, 25);
    CHECK_INT(v.flags, TOK_F_WORDS);
    CHECK_INT(numbers_parse_at(&d, 4, &v), 0);
    CHECK_INT(d.ntoks, 5);
    text_doc_release(&d);
}

TEST(passes_are_idempotent)
{
    struct text_doc d;
    struct buf a = BUF_INIT, b = BUF_INIT;
    const char *s = "у aca1061a больше 10 000 и двадцати тысяч лайков с 1 по 5 ноября";
    text_doc_init(&d, 0);
    CHECK_INT(text_analyze(&d, s, strlen(s), NOW), TEXT_OK);
    text_dump(&d, &a);
    numbers_ids(&d);
    numbers_apply(&d);
    text_dump(&d, &b);
    CHECK_STR(b.p, a.p);
    buf_release(&a);
    buf_release(&b);
    text_doc_release(&d);
}

int main(void)
{
    RUN(golden_file);
    RUN(full_ids_carry_both_forms);
    RUN(number_flags);
    RUN(parse_at_reads_without_merging);
    RUN(passes_are_idempotent);
    return th_finish();
}
