/* nlu.h: the rule-based engine: Russian text -> query spec, or "not mine".
 *
 * nlu_parse() runs text analysis (text.h: UTF-8, normalization, ids, dates, numbers),
 * tags the tokens with the lexicon, covers the tags with grammar fragments and turns
 * their facts into one spec, which then passes the shared validator. It answers only
 * when every content word was consumed and the facts agree; otherwise it declines
 * (NLU_DECLINED) and the caller may try the LLM. A wrong number is worse than none.
 *
 * Ownership: an nlu owns its lexicon, grammar and text buffers; one nlu per thread.
 * nlu_result owns its buffers: init once, reuse, release. Errors: nlu_new() returns NULL
 * with a reason in err. */
#ifndef VABOT_NLU_H
#define VABOT_NLU_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "spec.h"

enum nlu_status {
    NLU_OK = 0,        /* r->spec holds a validated spec (possibly supported = false) */
    NLU_DECLINED = -1, /* not understood: r->why says why, for logs and hints */
    NLU_BAD_TEXT = -2, /* invalid UTF-8 or too long: r->why says what */
};

struct nlu_result {
    struct spec spec;
    struct buf explain; /* tokens, tags, fragments and facts, the chosen spec */
    struct buf why;     /* one line: why it declined */
    struct buf unknown; /* the words nothing understood, comma-separated (for the user) */
    struct buf norm;    /* the normalized question: the cache key */
};

typedef struct nlu nlu;

nlu *nlu_new(const char *home, struct buf *err); /* reads home/lexicon and home/grammar */
void nlu_free(nlu *n);

void nlu_result_init(struct nlu_result *r);
void nlu_result_release(struct nlu_result *r);

/* now: UTC microseconds that relative dates resolve against. */
int nlu_parse(nlu *n, const char *text, size_t len, int64_t now, struct nlu_result *r);

/* Checks every rule's "test" lines: each must be matched whole by its own rule.
 * Returns the number of failures, described in report. */
int nlu_selftest(nlu *n, struct buf *report);

#endif
