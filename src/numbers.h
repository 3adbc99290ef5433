/* numbers.h: ids and numbers in a token array (passes 2 and 4 of text.h).
 *
 * Both passes rewrite d->toks in place, merging tokens; they never fail and never
 * allocate. Tokens already taken by an earlier pass (ID, DATE, TIMEWIN) are left alone.
 *
 * numbers_ids: a word of exactly 32 hex digits, or 8-4-4-4-12 hex parts joined by '-'
 *   with nothing between them, becomes a full TOK_ID (id = 32 lowercase hex, uuid = the
 *   dashed form, TOK_F_DASHED when it was written dashed); a word of 8 to 31 hex digits
 *   with at least one letter a-f and one digit becomes a TOK_ID with TOK_F_PREFIX_ID.
 *
 * numbers_apply: one TOK_NUM for each number, whatever the spelling:
 *   "10000"; groups of exactly 3 digits after a space ("10 000", "1 000 000"); "10.000" and
 *   "10,000" (a separator followed by exactly 3 digits after 1-3 leading digits, with no
 *   multiplier after it) are groups too, any other "1,5" "1.5" "1,25" is a decimal;
 *   multipliers glued or after a space: к k кк kk тыс тыс. тысяча... млн млн. миллион...
 *   млрд миллиард... ("к" only glued: alone it is a preposition; never "г");
 *   number words in every case (ноль ... девятьсот, тысяча, миллион, миллиард, полтора,
 *   полторы, полтораста, полтысячи, полмиллиона, полмиллиарда) and their composites
 *   ("сто двадцать тысяч пятьсот", "3 миллиона 200 тысяч", "2 млн 500 тыс").
 *   A fraction that a multiplier does not absorb ("1,5", "полтора", "1,2345 тыс") sets
 *   TOK_F_FRACTION, num truncated toward zero; a value beyond INT64_MAX sets
 *   TOK_F_OVERFLOW, num = INT64_MAX. Signs stay separate PUNCT tokens (">" "≥" "-"). */
#ifndef VABOT_NUMBERS_H
#define VABOT_NUMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

void numbers_ids(struct text_doc *d);
void numbers_apply(struct text_doc *d);

/* The number that starts at token i, without changing anything: for other passes (the
 * date resolver reads "семь" in "за последние семь дней"). Returns the number of tokens
 * it spans (0 when no number starts at i) and fills *v. */
struct numbers_value {
    int64_t value;
    unsigned flags; /* TOK_F_FRACTION, TOK_F_OVERFLOW, TOK_F_WORDS */
    int scale;      /* the power of ten of the largest multiplier, 0 when none */
};
size_t numbers_parse_at(const struct text_doc *d, size_t i, struct numbers_value *v);

#endif
