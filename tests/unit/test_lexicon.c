/* The lexicon on the project's own word lists, and its loader on broken ones. */
#include <sys/stat.h>
#include <unistd.h>

#include "lexicon.h"
#include "testhelp.h"

static lexicon *lx;

/* The tag words of a phrase, fillers left out, space-separated. */
static const char *tags(const char *phrase)
{
    static struct buf out = BUF_INIT;
    struct text_doc d;
    struct lex_item items[64];
    text_doc_init(&d, 0);
    buf_reset(&out);
    CHECK(text_analyze(&d, phrase, strlen(phrase), 0) == TEXT_OK);
    int n = lexicon_tag(lx, &d, items, 64);
    for (int i = 0; i < n; i++) {
        if (items[i].filler)
            continue;
        if (out.len)
            buf_addc(&out, ' ');
        buf_adds(&out, items[i].tag);
    }
    text_doc_release(&d);
    return buf_str(&out);
}

TEST(stems_and_their_traps)
{
    char s[64];
    lexicon_stem(lx, "видео", strlen("видео"), s, sizeof s);
    CHECK_STR(s, "виде");
    /* "в виде" stems to "вид": it must not read as a video */
    CHECK_STR(tags("в виде"), "w:вид");
    CHECK_STR(tags("видео"), "ent:video");
    CHECK_STR(tags("видеоролика"), "ent:video");
    CHECK_STR(tags("просмотров просмотрами просмотры"), "met:views met:views met:views");
    CHECK_STR(tags("канала"), "ent:creator");
}

TEST(closed_words_by_surface)
{
    /* Snowball would cut "более" to "бол" and "менее" to "мен"; these are listed forms. */
    CHECK_STR(tags("более"), "cmp:gt");
    CHECK_STR(tags("не менее"), "cmp:ge");
    CHECK_STR(tags("не более"), "cmp:le");
    CHECK_STR(tags("менее"), "cmp:lt");
    CHECK_STR(tags("хотя бы"), "cmp:ge");
    CHECK_STR(tags("перевалили за"), "cmp:gt");
    CHECK_STR(tags("на сколько"), "q:howmuch");
    CHECK_STR(tags("сколько"), "q:howmany");
    /* "день/дня/дней" would be three stems; they are one class */
    CHECK_STR(tags("день дня дней"), "ent:day ent:day ent:day");
    /* a lone "не" is a word nobody knows: it must block a question, not vanish */
    CHECK_STR(tags("не"), "w:не");
    CHECK_STR(tags("больше всего"), "unsup:rank");
}

TEST(fillers_and_tokens)
{
    CHECK_STR(tags("сколько всего есть?"), "q:howmany");
    /* "в системе" names the data as a whole: a tag the grammar may skip */
    CHECK_STR(tags("сколько всего есть в системе?"), "q:howmany db");
    CHECK_STR(tags("10 000"), "n:10000");
    CHECK_STR(tags("1,5"), "n:bad");
    CHECK_STR(tags("aca1061a9d324ecf8c3fa2bb32d7be63"), "id:full");
    CHECK_STR(tags("aca1061a"), "id:prefix");
    CHECK_STR(tags("28 ноября 2025"), "d:day");
    CHECK_STR(tags("31 февраля 2025"), "d:bad");
    CHECK_STR(tags("с 10:00 до 15:00"), "tw");
    CHECK_STR(tags("погода"), "w:погод");
}

static int load_broken(const char *closed, const char *open, struct buf *err)
{
    char dir[] = "/tmp/vabot-lex-XXXXXX";
    struct buf p = BUF_INIT;
    if (!mkdtemp(dir))
        return -1;
    const char *names[2] = {"closed.tsv", "open.tsv"}, *texts[2] = {closed, open};
    for (int i = 0; i < 2; i++) {
        buf_reset(&p);
        buf_addf(&p, "%s/%s", dir, names[i]);
        FILE *f = fopen(buf_str(&p), "w");
        fputs(texts[i], f);
        fclose(f);
    }
    buf_reset(err);
    lexicon *l = lexicon_load(dir, err);
    lexicon_free(l);
    for (int i = 0; i < 2; i++) {
        buf_reset(&p);
        buf_addf(&p, "%s/%s", dir, names[i]);
        unlink(buf_str(&p));
    }
    rmdir(dir);
    buf_release(&p);
    return l ? 0 : -1;
}

TEST(loader_refuses_ambiguity_and_bad_forms)
{
    struct buf err = BUF_INIT;
    CHECK(load_broken("a:x\tслово\n", "b:y\tвидео\n", &err) == 0);
    CHECK(load_broken("a:x\tслово\nb:y\tслово\n", "", &err) == -1);
    CHECK_CONTAINS(buf_str(&err), "closed.tsv:2: \"слово\" is both a:x and b:y");
    CHECK(load_broken("", "a:x\tролик\nb:y\tроликов\n", &err) == -1);
    CHECK_CONTAINS(buf_str(&err), "open.tsv:2: \"роликов\" has the stem \"ролик\" of a:x");
    CHECK(load_broken("a:x\tЁлка\n", "", &err) == -1);
    CHECK_CONTAINS(buf_str(&err), "not lowercase");
    CHECK(load_broken("a:x\tсвёкла\n", "", &err) == -1);
    CHECK(load_broken("Bad Tag\tслово\n", "", &err) == -1);
    CHECK_CONTAINS(buf_str(&err), "closed.tsv:1:");
    CHECK(load_broken("no tab here\n", "", &err) == -1);
    buf_release(&err);
}

int main(void)
{
    struct buf err = BUF_INIT;
    lx = lexicon_load("lexicon", &err);
    if (!lx) {
        fprintf(stderr, "%s\n", buf_str(&err));
        return 1;
    }
    RUN(stems_and_their_traps);
    RUN(closed_words_by_surface);
    RUN(fillers_and_tokens);
    RUN(loader_refuses_ambiguity_and_bad_forms);
    lexicon_free(lx);
    buf_release(&err);
    return th_finish();
}
