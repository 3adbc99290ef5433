/* The rule engine's mechanics on small rule files of the test's own. */
#include <sys/stat.h>
#include <unistd.h>

#include "grammar.h"
#include "testhelp.h"

static char dir[] = "/tmp/vabot-grammar-XXXXXX";

static void write_rules(const char *text)
{
    struct buf p = BUF_INIT;
    buf_addf(&p, "%s/t.rules", dir);
    FILE *f = fopen(buf_str(&p), "w");
    fputs(text, f);
    fclose(f);
    buf_release(&p);
}

static grammar *load(const char *text, struct buf *err)
{
    write_rules(text);
    buf_reset(err);
    return grammar_load(dir, err);
}

/* Splits a tag line into word starts. */
static size_t starts_of(const char *tags, size_t *starts)
{
    size_t n = 0;
    for (size_t i = 0; tags[i]; i++)
        if (i == 0 || tags[i - 1] == ' ')
            starts[n++] = i;
    return n;
}

static const char two_rules[] =
    "define MET met:\\w+\n"
    "rule cond\n"
    "  match (?<op>cmp:\\w+) (?<v>n:\\d+) (?<m>{MET})\n"
    "  emit cond m=$m op=$op v=$v\n"
    "rule metric\n"
    "  match (?<m>{MET})\n"
    "  emit metric m=$m\n"
    "rule cmp\n"
    "  match cmp:\\w+\n"
    "  emit noop\n"
    "rule num\n"
    "  match n:\\d+\n"
    "  emit noop\n"
    "rule q\n"
    "  match q:howmany\n"
    "  emit ask agg=howmany\n"
    "  prio 2\n";

TEST(fewest_fragments_win)
{
    struct buf err = BUF_INIT;
    grammar *g = load(two_rules, &err);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", buf_str(&err));
        return;
    }
    const char *tags = "q:howmany cmp:gt n:10 met:views";
    size_t starts[8], stuck;
    struct gram_frag f[8];
    size_t n = starts_of(tags, starts);
    int nf = grammar_cover(g, tags, starts, n, f, &stuck);
    CHECK_INT(nf, 2);
    CHECK_STR(grammar_rule_name(g, f[1].rule), "cond");
    CHECK_INT(f[1].first, 1);
    CHECK_INT(f[1].count, 3);
    CHECK_STR(f[1].facts[0].kind, "cond");
    CHECK_STR(f[1].facts[0].kv[0].key, "m");
    CHECK_INT(f[1].facts[0].kv[0].tag, 3);
    CHECK_INT(f[1].facts[0].kv[2].tag, 2);
    grammar_free(g);
    buf_release(&err);
}

TEST(a_word_nothing_starts_is_reported)
{
    struct buf err = BUF_INIT;
    grammar *g = load(two_rules, &err);
    const char *tags = "q:howmany w:погод met:views";
    size_t starts[8], stuck;
    struct gram_frag f[8];
    size_t n = starts_of(tags, starts);
    CHECK_INT(grammar_cover(g, tags, starts, n, f, &stuck), -1);
    CHECK_INT(stuck, 1);
    grammar_free(g);
    buf_release(&err);
}

TEST(fragments_end_at_word_boundaries)
{
    struct buf err = BUF_INIT;
    grammar *g = load("rule a\n  match met:view\n  emit noop\n", &err);
    const char *tags = "met:views";
    size_t starts[2] = {0}, stuck;
    struct gram_frag f[2];
    CHECK_INT(grammar_cover(g, tags, starts, 1, f, &stuck), -1); /* "met:view" is not a word of it */
    grammar_free(g);
    buf_release(&err);
}

TEST(load_errors_name_file_and_line)
{
    struct buf err = BUF_INIT;
    CHECK(load("rule a\n  match (unclosed\n  emit noop\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "t.rules:1: rule a:");
    CHECK(load("rule a\n  match x\n  emit noop\nrule a\n  match y\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "t.rules:4: duplicate rule name");
    CHECK(load("rule a\n  match {NOPE}\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "unknown macro {NOPE}");
    CHECK(load("rule a\n  match (?<x>y)\n  emit f v=$z\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "emit names $z");
    CHECK(load("  match x\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "t.rules:1: an indented line outside a rule");
    CHECK(load("rule a\n  emit noop\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "rule without a match line");
    CHECK(load("bogus line\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "want rule or define");
    CHECK(load("rule a\n  match x\n  prio 1000\n", &err) == NULL);
    CHECK_CONTAINS(buf_str(&err), "prio takes");
    buf_release(&err);
}

TEST(priority_breaks_ties)
{
    struct buf err = BUF_INIT;
    grammar *g = load("rule low\n  match a:b\n  emit x\nrule high\n  match a:b\n  emit y\n  prio 3\n", &err);
    const char *tags = "a:b";
    size_t starts[1] = {0}, stuck;
    struct gram_frag f[1];
    CHECK_INT(grammar_cover(g, tags, starts, 1, f, &stuck), 1);
    CHECK_STR(grammar_rule_name(g, f[0].rule), "high");
    grammar_free(g);
    buf_release(&err);
}

TEST(self_test_lines_are_listed)
{
    struct buf err = BUF_INIT;
    grammar *g = load("rule a\n  match a:b\n  emit x\n  test one\n  test two\n", &err);
    int rule = -1;
    CHECK_STR(grammar_test_text(g, 1, &rule), "two");
    CHECK_INT(rule, 0);
    CHECK(grammar_test_text(g, 2, &rule) == NULL);
    CHECK(grammar_matches_whole(g, 0, "a:b", 3));
    CHECK(!grammar_matches_whole(g, 0, "a:b c:d", 7));
    grammar_free(g);
    buf_release(&err);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(fewest_fragments_win);
    RUN(a_word_nothing_starts_is_reported);
    RUN(fragments_end_at_word_boundaries);
    RUN(load_errors_name_file_and_line);
    RUN(priority_breaks_ties);
    RUN(self_test_lines_are_listed);
    struct buf p = BUF_INIT;
    buf_addf(&p, "%s/t.rules", dir);
    unlink(buf_str(&p));
    rmdir(dir);
    buf_release(&p);
    return th_finish();
}
