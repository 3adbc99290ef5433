/* text.h: UTF-8 validation, normalization and tokens: the front of the rule engine.
 *
 * A question goes through four passes, in this order (text_analyze runs them all):
 *   1. text     check UTF-8, normalize (lowercase, ё→е, spaces, dashes, quotes), tokenize
 *   2. ids      numbers_ids: 32-hex ids, dashed UUIDs, hex id prefixes (numbers.h)
 *   3. dates    dates_apply: dates, ranges, relative days, time-of-day windows (dates.h)
 *   4. numbers  numbers_apply: digit groups, decimals, suffixes, number words (numbers.h)
 * Ids go first so that a hex id is never read as a number or a date; dates go before
 * numbers so that "28.11.2025", "2025-11-28" and "10:00" are not eaten as numbers. Each
 * pass rewrites the one token array in place, merging tokens (an array never grows).
 *
 * Ownership: a struct text_doc owns everything it points to (normalized text, offset map,
 * tokens). Set it up with text_doc_init(), reuse it for any number of questions (memory
 * is kept and only grows, so a warm doc allocates nothing), and free it with
 * text_doc_release(). Pointers into a doc (tok.s, norm) are valid until the next
 * text_prepare/text_analyze on it or its release. A doc is used by one thread at a time;
 * separate docs may be used from separate threads.
 * Errors: functions return TEXT_OK (0) or a negative text_status; text_errmsg(d) then
 * describes the failure in one line ("text: invalid UTF-8 at byte 17: overlong
 * encoding"). Allocation failure aborts (xalloc.h). */
#ifndef VABOT_TEXT_H
#define VABOT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum text_status {
    TEXT_OK = 0,
    TEXT_EUTF8 = -1,   /* invalid UTF-8 or a NUL byte */
    TEXT_ETOOLONG = -2 /* longer than the doc's max_len */
};

/* 16 KiB: a Telegram message is at most 4096 characters of at most 4 bytes. */
#define TEXT_MAX_DEFAULT 16384

enum tok_kind {
    TOK_WORD,   /* a run of letters and digits (Cyrillic, Latin, mixed): "видео", "100к" */
    TOK_NUM,    /* an integer: num (see TOK_F_FRACTION, TOK_F_OVERFLOW) */
    TOK_PUNCT,  /* one character that is neither letter, digit nor space: "?" "≥" "%" */
    TOK_ID,     /* a hex id or id prefix: id (and uuid) */
    TOK_DATE,   /* a UTC instant range [from, to) in microseconds, with a grain */
    TOK_TIMEWIN /* a time-of-day window [from, to) in seconds since local midnight */
};

enum tok_grain {
    TOK_GRAIN_NONE,
    TOK_GRAIN_HOUR,
    TOK_GRAIN_DAY,
    TOK_GRAIN_WEEK,  /* Monday to Sunday */
    TOK_GRAIN_MONTH,
    TOK_GRAIN_YEAR,
    TOK_GRAIN_SPAN   /* any other range: "с 1 по 5 ноября", "за последние 7 дней" */
};

#define TOK_F_FRACTION 0x001u  /* NUM: a fraction is left ("1,5"); num is truncated */
#define TOK_F_OVERFLOW 0x002u  /* NUM: beyond INT64_MAX; num is INT64_MAX */
#define TOK_F_WORDS 0x004u     /* NUM: written at least partly in words ("сто тысяч") */
#define TOK_F_PREFIX_ID 0x008u /* ID: 8-31 hex characters, a prefix of an id */
#define TOK_F_DASHED 0x010u    /* ID: written as 8-4-4-4-12 */
#define TOK_F_NO_YEAR 0x020u   /* DATE: no year was given; the most recent one was taken */
#define TOK_F_BAD_DATE 0x040u  /* DATE/TIMEWIN: no such day, end before start, ... */
#define TOK_F_RELATIVE 0x080u  /* DATE: resolved against now ("вчера", "в прошлом месяце") */

/* One token. start/end is the byte span in the normalized text; a token merged by a
 * pass spans all its parts, gaps included, so s/len show what it was made of. The
 * normalized text has single spaces between words, so the gap to the next token
 * (text_gap) is 0 (glued: "10:00", "1,5", "100к") or 1 (a space: "10 000"). */
struct tok {
    enum tok_kind kind;
    unsigned flags;       /* TOK_F_* */
    size_t start, end;    /* byte span in d->norm */
    const char *s;        /* d->norm + start, len = end - start; not NUL-terminated */
    size_t len;
    int64_t num;          /* NUM: the value */
    int scale;            /* NUM: the power of ten of its largest multiplier ("15 тысяч": 3) */
    int64_t from, to;     /* DATE: [from, to) UTC microseconds; TIMEWIN: seconds of day */
    enum tok_grain grain; /* DATE */
    char id[33];          /* ID: 32 lowercase hex, or the lowercase prefix */
    char uuid[37];        /* ID (full only): the dashed 8-4-4-4-12 form, as stored */
};

/* A question and its tokens. Fields above the line are for reading; the rest is the
 * doc's own bookkeeping. orig[k] is the byte offset in the raw input of the character
 * that produced norm[k]; orig[norm_len] is the raw length. */
struct text_doc {
    char *norm;           /* normalized text, NUL-terminated */
    size_t norm_len;
    size_t *orig;         /* norm_len + 1 entries */
    struct tok *toks;
    size_t ntoks;
    size_t max_len;       /* raw inputs longer than this are refused */
    /* ---- */
    size_t norm_cap, toks_cap;
    char err[160];
};

void text_doc_init(struct text_doc *d, size_t max_len); /* 0 means TEXT_MAX_DEFAULT */
void text_doc_release(struct text_doc *d);              /* NULL is fine */
const char *text_errmsg(const struct text_doc *d);

/* All four passes; `now` (UTC microseconds) anchors relative dates, in the zone set with
 * utc_set_zone(). */
int text_analyze(struct text_doc *d, const char *raw, size_t len, int64_t now);
/* Pass 1 alone: validation, normalization, tokens of kind WORD, NUM and PUNCT. */
int text_prepare(struct text_doc *d, const char *raw, size_t len);

/* Checks that s[0..len) is UTF-8 without NUL bytes, overlong forms, surrogates or code
 * points above U+10FFFF. Returns 0, or TEXT_EUTF8 with the offset of the bad sequence in
 * *bad_at and a short reason ("truncated sequence") in *why. */
int text_utf8_check(const char *s, size_t len, size_t *bad_at, const char **why);

/* Appends at most max bytes of s[0..len) to out as one printable line of valid UTF-8:
 * control characters and bytes that are not UTF-8 become '?', and a character cut by
 * max is dropped. For quoting outside text in error messages, which go to logs and
 * back to the LLM (whose API refuses a request body that is not UTF-8). */
void text_add_clean(struct buf *out, const char *s, size_t len, size_t max);

/* Bytes between token i and token i + 1 in the normalized text (0 or 1); SIZE_MAX when
 * i + 1 is past the end. */
size_t text_gap(const struct text_doc *d, size_t i);
/* 1 when t is a WORD or PUNCT whose text is exactly w (NUL-terminated). */
int text_is(const struct tok *t, const char *w);

const char *text_kind_name(enum tok_kind k);   /* "word", "num", ... */
const char *text_grain_name(enum tok_grain g); /* "day", "span", ... */
/* One line for logs, --explain and tests, tokens separated by spaces:
 * word:сколько num:10000 punct:? id:aca1...63 date:2025-11-01T00:00:00Z/2025-11-06T00:00:00Z/span
 * timewin:10:00/15:00; flags follow as "!fraction", "!overflow", "!prefix", "!noyear",
 * "!bad". */
void text_dump(const struct text_doc *d, struct buf *out);

/* ==== For the passes ====
 * A pass walks the array with a read index i and a write index j <= i; to replace tokens
 * i .. i+n-1 by one, it calls text_merge(d, j, i, n), which writes a token of the given
 * kind spanning them all (other fields zero) at j and returns it. A pass only reads
 * tokens from i on, which are not yet overwritten. */
struct tok *text_merge(struct text_doc *d, size_t j, size_t i, size_t n, enum tok_kind kind);

/* ==== Word sets for the passes ====
 * A fixed table of lowercase, ё-folded words, each with a class bit mask and a value,
 * looked up by a small hash built once by text_lex_build() (call it under pthread_once
 * or before threads start). Used by numbers and dates for their closed word classes.
 * A table with a duplicate word or more than TEXT_LEX_SLOTS / 2 words is a bug in the
 * source: text_lex_build() says so on stderr and aborts, at the first use. */
struct text_lex_word {
    const char *w;
    unsigned cls;
    int val;
};
#define TEXT_LEX_SLOTS 1024
struct text_lex {
    const struct text_lex_word *words;
    size_t n;                            /* at most TEXT_LEX_SLOTS / 2 */
    unsigned short slot[TEXT_LEX_SLOTS]; /* index + 1, 0 = empty */
};
void text_lex_build(struct text_lex *x, const struct text_lex_word *words, size_t n);
const struct text_lex_word *text_lex_find(const struct text_lex *x, const char *s, size_t len);

#endif
