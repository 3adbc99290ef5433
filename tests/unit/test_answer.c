/* test_answer.c: what src/answer.c decides before any question: why an answerer could
 * not be made (the front ends' exit status depends on it), and the one LLM cache per
 * process. Dry-run answerers need no database; the LLM is never called (its URL leads
 * nowhere). The data files are found next to the binary (cfg_home). */
#include <stdlib.h>

#include "answer.h"
#include "cache.h"
#include "cfg.h"
#include "testhelp.h"

static answerer *make(int no_llm, int dry_run, const char *conninfo, enum answer_setup *why)
{
    struct answer_opts o = {0};
    char err[512];
    o.no_llm = no_llm;
    o.dry_run = dry_run;
    o.conninfo = conninfo;
    answerer *a = answer_new(&o, why, err, sizeof err);
    if (!a)
        fprintf(stderr, "answer_new: %s\n", err);
    return a;
}

TEST(one_llm_cache_for_the_process)
{
    enum answer_setup why;
    answerer *a = make(0, 1, NULL, &why), *b = make(0, 1, NULL, &why);
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK(answer_cache(a) != NULL);
    CHECK(answer_cache(a) == answer_cache(b));
    answerer *rules_only = make(1, 1, NULL, &why);
    CHECK(rules_only && answer_cache(rules_only) == NULL);
    answer_free(rules_only);
    /* what one answerer stored, the other finds; the cache outlives its first user */
    struct buf spec = BUF_INIT;
    const char s[] = "{\"filters\":{}}";
    CHECK_INT(cache_put(answer_cache(a), NULL, "ns", "q", 1, 0, s, sizeof s - 1), 1);
    answer_free(a);
    CHECK_INT(cache_get(answer_cache(b), NULL, "ns", "q", 1, 0, &spec), 1);
    CHECK_STR(buf_str(&spec), s);
    answer_free(b);
    /* the last one freed it: a new answerer starts with an empty cache */
    answerer *c = make(0, 1, NULL, &why);
    CHECK(c && cache_count(answer_cache(c)) == 0);
    answer_free(c);
    buf_release(&spec);
}

TEST(missing_data_files_are_not_a_backend_failure)
{
    enum answer_setup why = ANSWER_SETUP_OK;
    setenv("VABOT_HOME", "/nonexistent/vabot-home", 1);
    cfg_free(); /* forget the home found before */
    answerer *a = make(1, 1, NULL, &why);
    CHECK(a == NULL);
    CHECK_INT(why, ANSWER_SETUP_FILES);
    unsetenv("VABOT_HOME");
    cfg_free();
}

TEST(an_unreachable_database_is_a_backend_failure)
{
    enum answer_setup why = ANSWER_SETUP_OK;
    answerer *a = make(1, 0, "host=/nonexistent/socket connect_timeout=2", &why);
    CHECK(a == NULL);
    CHECK_INT(why, ANSWER_SETUP_DATABASE);
    a = make(1, 1, NULL, &why);
    CHECK(a != NULL);
    CHECK_INT(why, ANSWER_SETUP_OK);
    answer_free(a);
}

int main(void)
{
    setenv("OPENAI_API_KEY", "sk-unit-test-key", 1);
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1", 1);
    RUN(one_llm_cache_for_the_process);
    RUN(missing_data_files_are_not_a_backend_failure);
    RUN(an_unreachable_database_is_a_backend_failure);
    return th_finish();
}
