/* lexicon.h: word classes of the rule engine (lexicon/closed.tsv, lexicon/open.tsv).
 *
 * Closed classes (question words, comparatives, aggregates, prepositions, fillers...)
 * are listed as surface forms, lowercase and ё-folded; a form may span several tokens,
 * written with '_' ("не_менее"). Open vocabulary (entities, metrics, verbs) is matched
 * by Snowball stem: each word listed in open.tsv is stemmed when the lexicon loads, and
 * a token matches when its stem is the same, so the file lists real words, not stems.
 * The class "_" marks fillers: words that carry no meaning and are dropped before the
 * grammar sees the question. A tag written "TAG@date" applies only right before a date
 * and makes a filler elsewhere («с 1 ноября» starts a range; «видео с лайками» does not).
 *
 * lexicon_tag() turns the tokens of an analysed question into items with a tag word
 * each: "ent:video", "cmp:gt", "n:10000", "id:full", "d:day", "tw", or "w:STEM" for a
 * word the lexicon does not know. The grammar's rules are written over these tags.
 *
 * Ownership: a lexicon owns its tables and a Snowball stemmer, which is not
 * thread-safe: use one lexicon per thread. lexicon_free() accepts NULL.
 * Errors: lexicon_load() returns NULL with "FILE:LINE: what" in err. */
#ifndef VABOT_LEXICON_H
#define VABOT_LEXICON_H

#include <stddef.h>

#include "buf.h"
#include "text.h"

#define LEX_TAG_MAX 64

struct lex_item {
    size_t first, count; /* tokens [first, first + count) of the doc */
    int filler;
    char tag[LEX_TAG_MAX];
};

typedef struct lexicon lexicon;

lexicon *lexicon_load(const char *dir, struct buf *err);
void lexicon_free(lexicon *lx);

/* Tags the tokens of d into out (at most max items). Returns the number of items, or
 * -1 when there are more than max. */
int lexicon_tag(lexicon *lx, const struct text_doc *d, struct lex_item *out, size_t max);

/* The Snowball stem of a lowercase word, into out (NUL-terminated, cut at a character
 * boundary to fit). For tests and for --explain. */
void lexicon_stem(lexicon *lx, const char *w, size_t len, char *out, size_t cap);

#endif
