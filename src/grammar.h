/* grammar.h: PCRE2 rules over the tag words of a question (grammar/NAME.rules).
 *
 * A question, once tagged by the lexicon and stripped of fillers, is a line of tag
 * words: "q:howmany ent:video ent:creator id:full cmp:gt n:10000 met:views mode:final".
 * Each rule is a PCRE2 pattern (UTF, UCP, JIT) that recognizes one fragment of a
 * question at a tag-word boundary and emits facts, whose values may name the pattern's
 * named groups:
 *
 *   define METRIC met:\w+
 *   rule cond_final
 *     match  (?<op>cmp:\w+) (?<v>n:-?\d+) (?<m>{METRIC})
 *     emit   cond m=$m op=$op value=$v
 *     test   больше 10 000 просмотров
 *
 * grammar_cover() finds fragments that together cover every tag word exactly once,
 * with as few fragments as possible (longer constructs beat word-by-word readings; the
 * sum of the rules' priorities breaks ties, then the rule order). A question nothing
 * covers is not understood. What the facts mean is nlu's business, not this module's.
 *
 * Ownership: a grammar owns its compiled patterns and one match-data block, so one
 * grammar serves one thread. Results point into the grammar (kinds, keys, literals) and
 * are valid while it lives. Errors: grammar_load() returns NULL with "FILE:LINE: what"
 * in err; grammar_cover() returns -1 when no cover exists. */
#ifndef VABOT_GRAMMAR_H
#define VABOT_GRAMMAR_H

#include <stddef.h>

#include "buf.h"

#define GRAM_MAX_KV 6
#define GRAM_MAX_FACTS 6
#define GRAM_MAX_TAGS 96

/* A value of a fact: a literal from the rule, or (tag >= 0) the tag word a named group
 * captured; both NULL/-1 when an optional group did not take part. */
struct gram_kv {
    const char *key;
    const char *lit;
    int tag;
};

struct gram_fact {
    const char *kind;
    int nkv;
    struct gram_kv kv[GRAM_MAX_KV];
};

struct gram_frag {
    int rule;
    size_t first, count; /* tag words [first, first + count) */
    int nfacts;
    struct gram_fact facts[GRAM_MAX_FACTS];
};

typedef struct grammar grammar;

grammar *grammar_load(const char *dir, struct buf *err);
void grammar_free(grammar *g);

/* tags: the tag words joined by single spaces; starts[i]: byte offset of word i.
 * Fills out[] (ntags entries are always enough) and returns the number of fragments, or
 * -1 when no cover exists; then *stuck is the first tag word no rule can start at, or
 * ntags when every word starts some rule but they do not fit together. */
int grammar_cover(grammar *g, const char *tags, const size_t *starts, size_t ntags,
                  struct gram_frag *out, size_t *stuck);

const char *grammar_rule_name(const grammar *g, int rule);
int grammar_nrules(const grammar *g);

/* Rule self-tests: the i-th "test" line of all rules (NULL past the end), and whether a
 * rule alone matches a whole tag line. */
const char *grammar_test_text(const grammar *g, int i, int *rule);
int grammar_matches_whole(grammar *g, int rule, const char *tags, size_t len);

#endif
