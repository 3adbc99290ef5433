#include "text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "numbers.h"
#include "utc.h"
#include "xalloc.h"

/* ==== UTF-8 ==== */

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* The length of the sequence at s[i], or 0 with *why set. The second byte's range
 * depends on the lead byte: that is where overlongs (E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points above U+10FFFF (F4 90..BF) show. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i, const char **why)
{
    unsigned char c = s[i];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0) {
        *why = "NUL byte";
        return 0;
    }
    if (c < 0x80)
        return 1;
    if (c < 0xC0) {
        *why = "unexpected continuation byte";
        return 0;
    }
    if (c < 0xC2) {
        *why = "overlong encoding";
        return 0;
    }
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        *why = c < 0xF8 ? "code point above U+10FFFF" : "invalid byte";
        return 0;
    }
    if (i + 1 >= len || !is_cont(s[i + 1])) {
        *why = "truncated sequence";
        return 0;
    }
    if (s[i + 1] < lo || s[i + 1] > hi) {
        *why = c == 0xED ? "surrogate code point"
               : c == 0xF4 ? "code point above U+10FFFF"
                           : "overlong encoding";
        return 0;
    }
    for (size_t k = 2; k < n; k++) {
        if (i + k >= len || !is_cont(s[i + k])) {
            *why = "truncated sequence";
            return 0;
        }
    }
    return n;
}

int text_utf8_check(const char *s, size_t len, size_t *bad_at, const char **why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs are the common case: skip them a byte at a time without calls. */
        if (u[i] > 0 && u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq(u, len, i, why);
        if (!n) {
            *bad_at = i;
            return TEXT_EUTF8;
        }
        i += n;
    }
    return 0;
}

void text_add_clean(struct buf *out, const char *s, size_t len, size_t max)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *why;
    size_t i = 0, n;
    while (i < len) {
        n = utf8_seq(u, len, i, &why);
        if (i + (n ? n : 1) > max)
            break;
        int control = (n == 1 && (u[i] < 0x20 || u[i] == 0x7f)) ||
                      (n == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0); /* C0, DEL, C1 */
        if (n && !control)
            buf_add(out, s + i, n);
        else
            buf_addc(out, '?');
        i += n ? n : 1;
    }
}

/* Decodes the valid sequence at s[*i] and advances *i past it. */
static uint32_t utf8_next(const unsigned char *s, size_t *i)
{
    uint32_t c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c < 0xE0) {
        c = ((c & 0x1F) << 6) | (s[*i + 1] & 0x3F);
        *i += 2;
    } else if (c < 0xF0) {
        c = ((c & 0x0F) << 12) | ((uint32_t)(s[*i + 1] & 0x3F) << 6) | (s[*i + 2] & 0x3F);
        *i += 3;
    } else {
        c = ((c & 0x07) << 18) | ((uint32_t)(s[*i + 1] & 0x3F) << 12) |
            ((uint32_t)(s[*i + 2] & 0x3F) << 6) | (s[*i + 3] & 0x3F);
        *i += 4;
    }
    return c;
}

static size_t utf8_put(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ==== Normalization ==== */

/* What a code point becomes; values above the Unicode range are actions. */
#define N_DROP 0x110000u
#define N_SPACE 0x110001u
#define N_BREVE 0x110002u /* U+0306: turns a preceding и into й */

static uint32_t fold_ascii(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c == '\'')
        return '"';
    if (c <= 0x20 || c == 0x7F)
        return N_SPACE;
    return c;
}

static uint32_t fold_punct(uint32_t c)
{
    if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
        (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF ||
        c == 0x00AD || c == 0x180E || (c >= 0xFE00 && c <= 0xFE0F))
        return N_DROP;
    if (c == 0x00A0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
        c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || (c >= 0x80 && c <= 0x9F))
        return N_SPACE;
    if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212 || c == 0xFE58 || c == 0xFE63 ||
        c == 0xFF0D)
        return '-';
    if (c == 0x00AB || c == 0x00BB || (c >= 0x2018 && c <= 0x201F) || c == 0x2039 ||
        c == 0x203A)
        return '"';
    return c;
}

static uint32_t fold(uint32_t c)
{
    if (c < 0x80)
        return fold_ascii(c);
    if (c == 0x0306)
        return N_BREVE;
    if (c >= 0x0300 && c <= 0x036F)
        return N_DROP; /* the diaeresis of a decomposed ё, stress marks */
    if (c == 0x0401 || c == 0x0451)
        return 0x0435; /* ё → е */
    if (c >= 0x0400 && c <= 0x040F)
        return c + 0x50;
    if (c >= 0x0410 && c <= 0x042F)
        return c + 0x20;
    return fold_punct(c);
}

/* Spaces are collapsed to one and trimmed: a space is written only when a character
 * follows it. */
struct norm_out {
    struct text_doc *d;
    size_t space_at; /* raw offset of a pending space, or SIZE_MAX */
};

static void norm_put(struct norm_out *o, uint32_t c, size_t at)
{
    struct text_doc *d = o->d;
    if (c == N_DROP)
        return;
    if (c == N_SPACE) {
        if (o->space_at == SIZE_MAX && d->norm_len)
            o->space_at = at;
        return;
    }
    if (c == N_BREVE) {
        /* и is U+0438 (D0 B8), й is U+0439 (D0 B9); a breve on anything else goes. */
        if (o->space_at == SIZE_MAX && d->norm_len >= 2 &&
            (unsigned char)d->norm[d->norm_len - 2] == 0xD0 &&
            (unsigned char)d->norm[d->norm_len - 1] == 0xB8)
            d->norm[d->norm_len - 1] = (char)0xB9;
        return;
    }
    if (o->space_at != SIZE_MAX) {
        d->orig[d->norm_len] = o->space_at;
        d->norm[d->norm_len++] = ' ';
        o->space_at = SIZE_MAX;
    }
    size_t n = utf8_put(d->norm + d->norm_len, c);
    for (size_t k = 0; k < n; k++)
        d->orig[d->norm_len + k] = at;
    d->norm_len += n;
}

/* Input is valid UTF-8. No code point grows when folded, so len + 1 bytes suffice. */
static void normalize(struct text_doc *d, const char *raw, size_t len)
{
    const unsigned char *u = (const unsigned char *)raw;
    struct norm_out o = {d, SIZE_MAX};
    if (d->norm_cap < len + 1) {
        free(d->norm);
        free(d->orig);
        d->norm = xmalloc(len + 1);
        d->orig = xmalloc((len + 1) * sizeof *d->orig);
        d->norm_cap = len + 1;
    }
    d->norm_len = 0;
    for (size_t i = 0; i < len;) {
        size_t at = i;
        norm_put(&o, fold(utf8_next(u, &i)), at);
    }
    d->orig[d->norm_len] = len;
    d->norm[d->norm_len] = '\0';
}

/* ==== Tokens ==== */

static int is_letter(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= 0x00C0 && c <= 0x024F && c != 0x00D7 && c != 0x00F7) ||
           (c >= 0x0370 && c <= 0x03FF) || (c >= 0x0400 && c <= 0x052F) ||
           (c >= 0x1E00 && c <= 0x1EFF);
}

static struct tok *tok_push(struct text_doc *d)
{
    if (d->ntoks == d->toks_cap) {
        d->toks_cap = d->toks_cap ? d->toks_cap * 2 : 64;
        d->toks = xrealloc(d->toks, d->toks_cap * sizeof *d->toks);
    }
    struct tok *t = &d->toks[d->ntoks++];
    memset(t, 0, sizeof *t);
    return t;
}

/* The value of a digit run; beyond INT64_MAX it saturates and says so. */
static void digits_value(struct tok *t)
{
    int64_t v = 0;
    for (size_t k = 0; k < t->len; k++) {
        int dg = t->s[k] - '0';
        if (v > (INT64_MAX - dg) / 10) {
            t->flags |= TOK_F_OVERFLOW;
            v = INT64_MAX;
            break;
        }
        v = v * 10 + dg;
    }
    t->num = v;
}

static void tokenize(struct text_doc *d)
{
    const unsigned char *u = (const unsigned char *)d->norm;
    size_t i = 0;
    d->ntoks = 0;
    while (i < d->norm_len) {
        size_t start = i;
        uint32_t c = utf8_next(u, &i);
        if (c == ' ')
            continue;
        struct tok *t = tok_push(d);
        int digits_only = c >= '0' && c <= '9';
        t->kind = TOK_PUNCT;
        if (digits_only || is_letter(c)) {
            t->kind = TOK_WORD;
            while (i < d->norm_len) {
                size_t next = i;
                uint32_t c2 = utf8_next(u, &next);
                int dg = c2 >= '0' && c2 <= '9';
                if (!dg && !is_letter(c2))
                    break;
                digits_only &= dg;
                i = next;
            }
        }
        t->start = start;
        t->end = i;
        t->s = d->norm + start;
        t->len = i - start;
        if (digits_only) {
            t->kind = TOK_NUM;
            digits_value(t);
        }
    }
}

/* ==== Documents ==== */

void text_doc_init(struct text_doc *d, size_t max_len)
{
    memset(d, 0, sizeof *d);
    d->max_len = max_len ? max_len : TEXT_MAX_DEFAULT;
}

void text_doc_release(struct text_doc *d)
{
    if (!d)
        return;
    free(d->norm);
    free(d->orig);
    free(d->toks);
    text_doc_init(d, d->max_len);
}

const char *text_errmsg(const struct text_doc *d)
{
    return d->err;
}

int text_prepare(struct text_doc *d, const char *raw, size_t len)
{
    size_t bad_at;
    const char *why;
    d->ntoks = 0;
    d->norm_len = 0;
    d->err[0] = '\0';
    if (len > d->max_len) {
        snprintf(d->err, sizeof d->err, "text: input of %zu bytes is longer than the limit of %zu",
                 len, d->max_len);
        return TEXT_ETOOLONG;
    }
    if (text_utf8_check(raw, len, &bad_at, &why)) {
        snprintf(d->err, sizeof d->err, "text: invalid UTF-8 at byte %zu: %s", bad_at, why);
        return TEXT_EUTF8;
    }
    normalize(d, raw, len);
    tokenize(d);
    return TEXT_OK;
}

int text_analyze(struct text_doc *d, const char *raw, size_t len, int64_t now)
{
    int rc = text_prepare(d, raw, len);
    if (rc)
        return rc;
    numbers_ids(d);
    dates_apply(d, now);
    numbers_apply(d);
    return TEXT_OK;
}

size_t text_gap(const struct text_doc *d, size_t i)
{
    if (i + 1 >= d->ntoks)
        return SIZE_MAX;
    return d->toks[i + 1].start - d->toks[i].end;
}

int text_is(const struct tok *t, const char *w)
{
    size_t n = strlen(w);
    return (t->kind == TOK_WORD || t->kind == TOK_PUNCT) && t->len == n && !memcmp(t->s, w, n);
}

const char *text_kind_name(enum tok_kind k)
{
    static const char *const names[] = {"word", "num", "punct", "id", "date", "timewin"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

const char *text_grain_name(enum tok_grain g)
{
    static const char *const names[] = {"none", "hour", "day", "week", "month", "year", "span"};
    return (unsigned)g < sizeof names / sizeof *names ? names[g] : "?";
}

/* ==== Dump ==== */

static void dump_value(const struct tok *t, struct buf *out)
{
    char a[UTC_FMT_MAX], b[UTC_FMT_MAX];
    switch (t->kind) {
    case TOK_NUM:
        buf_addf(out, "%" PRId64, t->num);
        break;
    case TOK_ID:
        buf_adds(out, t->id);
        break;
    case TOK_DATE:
        utc_format(t->from, a, sizeof a);
        utc_format(t->to, b, sizeof b);
        buf_addf(out, "%s/%s/%s", a, b, text_grain_name(t->grain));
        break;
    case TOK_TIMEWIN:
        buf_addf(out, "%02d:%02d/%02d:%02d", (int)(t->from / 3600), (int)(t->from / 60 % 60),
                 (int)(t->to / 3600), (int)(t->to / 60 % 60));
        break;
    default:
        buf_add(out, t->s, t->len);
    }
}

void text_dump(const struct text_doc *d, struct buf *out)
{
    static const struct {
        unsigned flag;
        const char *name;
    } flags[] = {{TOK_F_FRACTION, "fraction"}, {TOK_F_OVERFLOW, "overflow"},
                 {TOK_F_PREFIX_ID, "prefix"},  {TOK_F_NO_YEAR, "noyear"},
                 {TOK_F_BAD_DATE, "bad"}};
    for (size_t i = 0; i < d->ntoks; i++) {
        const struct tok *t = &d->toks[i];
        if (i)
            buf_addc(out, ' ');
        buf_addf(out, "%s:", text_kind_name(t->kind));
        dump_value(t, out);
        for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
            if (t->flags & flags[k].flag)
                buf_addf(out, "!%s", flags[k].name);
    }
}

/* ==== Word sets ==== */

/* FNV-1a: short words, a few hundred of them; anything spreading bytes will do. */
static unsigned lex_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < len; k++)
        h = (h ^ (unsigned char)s[k]) * 16777619u;
    return h & (TEXT_LEX_SLOTS - 1);
}

/* A table with a duplicate word or too many words is a bug in the source, caught by the
 * first unit test that builds it. */
void text_lex_build(struct text_lex *x, const struct text_lex_word *words, size_t n)
{
    if (n > TEXT_LEX_SLOTS / 2) {
        fprintf(stderr, "text: word table of %zu words is too big\n", n);
        abort();
    }
    memset(x, 0, sizeof *x);
    x->words = words;
    x->n = n;
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(words[k].w);
        if (text_lex_find(x, words[k].w, len)) {
            fprintf(stderr, "text: word table: duplicate \"%s\"\n", words[k].w);
            abort();
        }
        unsigned h = lex_hash(words[k].w, len);
        while (x->slot[h])
            h = (h + 1) & (TEXT_LEX_SLOTS - 1);
        x->slot[h] = (unsigned short)(k + 1);
    }
}

const struct text_lex_word *text_lex_find(const struct text_lex *x, const char *s, size_t len)
{
    for (unsigned h = lex_hash(s, len); x->slot[h]; h = (h + 1) & (TEXT_LEX_SLOTS - 1)) {
        const struct text_lex_word *w = &x->words[x->slot[h] - 1];
        if (!strncmp(w->w, s, len) && w->w[len] == '\0')
            return w;
    }
    return NULL;
}

/* ==== Merging tokens ==== */

struct tok *text_merge(struct text_doc *d, size_t j, size_t i, size_t n, enum tok_kind kind)
{
    size_t start = d->toks[i].start, end = d->toks[i + n - 1].end;
    struct tok *t = &d->toks[j];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->start = start;
    t->end = end;
    t->s = d->norm + start;
    t->len = end - start;
    return t;
}
