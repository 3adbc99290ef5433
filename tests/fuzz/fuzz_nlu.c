/* fuzz_nlu.c: libFuzzer target for the whole rule path: arbitrary bytes as a question
 * through nlu_parse() (text, numbers, dates, lexicon, grammar, facts, validator) with a
 * fixed "now", 2025-12-01T12:00:00Z. The lexicon and grammar are read from
 * $VABOT_HOME (else the working directory), as tests/fuzz/run.sh arranges:
 *   make FUZZ=1 build/fuzz/libvabot.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_POSIX_C_SOURCE=200809L \
 *       -Isrc tests/fuzz/fuzz_nlu.c build/fuzz/libvabot.a $(pkg-config --libs libcjson \
 *       libpcre2-8) -lstemmer -lpthread -lm -o build/fuzz/fuzz_nlu
 *   VABOT_HOME=. build/fuzz/fuzz_nlu -dict=tests/fuzz/nlu.dict CORPUS_DIR
 *
 * What must hold: an understood question gives a spec that passes the validator again
 * and satisfies speccheck.h; a declined or refused one says why on one line; the words
 * echoed to the user and the cache key are valid UTF-8 without NUL. */
#include <stdint.h>

#include "nlu.h"
#include "speccheck.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXED_NOW 1764590400000000LL /* 2025-12-01T12:00:00Z */

static void check_utf8(const struct buf *b, const char *what)
{
    size_t at;
    const char *why;
    fz_check(strlen(buf_str(b)) == b->len && text_utf8_check(buf_str(b), b->len, &at, &why) == 0,
             what, buf_str(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nlu *n;
    static struct nlu_result r;
    if (!n) {
        struct buf err = BUF_INIT;
        const char *home = getenv("VABOT_HOME");
        n = nlu_new(home && *home ? home : ".", &err);
        fz_check(n != NULL, "cannot load the lexicon and grammar", buf_str(&err));
        buf_release(&err);
        nlu_result_init(&r);
    }
    int rc = nlu_parse(n, (const char *)data, size, FIXED_NOW, &r);
    if (rc == NLU_OK) {
        struct spec again = r.spec;
        struct buf err = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
        fz_check(validate_spec(&again, &err) == 0, "an understood spec fails validation",
                 buf_str(&err));
        spec_print(&r.spec, SPEC_JSON_CANON, &a);
        spec_print(&again, SPEC_JSON_CANON, &b);
        fz_check(a.len == b.len && !memcmp(a.p, b.p, a.len), "validation changed a validated spec",
                 buf_str(&b));
        fz_check_spec(&r.spec);
        buf_release(&err);
        buf_release(&a);
        buf_release(&b);
    } else {
        fz_check(rc == NLU_DECLINED || rc == NLU_BAD_TEXT, "an unknown status", NULL);
        fz_check_line(&r.why, "a refusal must say why on one line");
    }
    if (rc != NLU_BAD_TEXT) {
        check_utf8(&r.unknown, "the unknown words are not clean UTF-8");
        check_utf8(&r.norm, "the normalized question is not clean UTF-8");
    }
    return 0;
}
