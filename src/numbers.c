#include "numbers.h"

#include <pthread.h>
#include <string.h>

/* ==== Ids ==== */

static int hex_run(const struct tok *t, size_t len, int *letters, int *digits)
{
    if ((t->kind != TOK_WORD && t->kind != TOK_NUM) || t->len != len)
        return 0;
    for (size_t k = 0; k < len; k++) {
        char c = t->s[k];
        if (c >= '0' && c <= '9')
            ++*digits;
        else if (c >= 'a' && c <= 'f')
            ++*letters;
        else
            return 0;
    }
    return 1;
}

static int is_hex(const struct tok *t, size_t len)
{
    int letters = 0, digits = 0;
    return hex_run(t, len, &letters, &digits);
}

static int is_dash(const struct text_doc *d, size_t i)
{
    return i < d->ntoks && text_is(&d->toks[i], "-");
}

/* 8-4-4-4-12 hex parts with dashes and nothing else between them: 9 tokens. */
static int is_uuid_at(const struct text_doc *d, size_t i)
{
    static const size_t part[5] = {8, 4, 4, 4, 12};
    if (i + 9 > d->ntoks)
        return 0;
    for (size_t p = 0; p < 5; p++) {
        size_t k = i + 2 * p;
        if (!is_hex(&d->toks[k], part[p]) || (p < 4 && !is_dash(d, k + 1)))
            return 0;
    }
    for (size_t k = i; k < i + 8; k++)
        if (text_gap(d, k) != 0)
            return 0;
    return 1;
}

/* id holds 32 hex digits: uuid gets the dashed form. */
static void set_full_id(struct tok *t, const char *hex32)
{
    static const int dash_after[] = {8, 12, 16, 20};
    size_t o = 0;
    memcpy(t->id, hex32, 32);
    t->id[32] = '\0';
    for (int k = 0, p = 0; k < 32; k++) {
        if (p < 4 && k == dash_after[p]) {
            t->uuid[o++] = '-';
            p++;
        }
        t->uuid[o++] = hex32[k];
    }
    t->uuid[o] = '\0';
}

/* Returns how many tokens from i make an id, with the id written to *out. */
static size_t read_id(const struct text_doc *d, size_t i, struct tok *out)
{
    const struct tok *t = &d->toks[i];
    int letters = 0, digits = 0;
    if (is_uuid_at(d, i)) {
        char hex[32];
        size_t o = 0;
        for (size_t k = i; k < i + 9; k += 2) {
            memcpy(hex + o, d->toks[k].s, d->toks[k].len);
            o += d->toks[k].len;
        }
        set_full_id(out, hex);
        out->flags = TOK_F_DASHED;
        return 9;
    }
    if (t->len < 8 || t->len > 32 || !hex_run(t, t->len, &letters, &digits))
        return 0;
    if (t->len == 32) {
        set_full_id(out, t->s);
        return 1;
    }
    if (!letters || !digits)
        return 0;
    memcpy(out->id, t->s, t->len);
    out->id[t->len] = '\0';
    out->flags = TOK_F_PREFIX_ID;
    return 1;
}

void numbers_ids(struct text_doc *d)
{
    size_t j = 0;
    for (size_t i = 0; i < d->ntoks; j++) {
        struct tok id = {0};
        size_t n = read_id(d, i, &id);
        if (!n) {
            d->toks[j] = d->toks[i++];
            continue;
        }
        struct tok *t = text_merge(d, j, i, n, TOK_ID);
        t->flags = id.flags;
        memcpy(t->id, id.id, sizeof t->id);
        memcpy(t->uuid, id.uuid, sizeof t->uuid);
        i += n;
    }
    d->ntoks = j;
}

/* ==== Number words ==== */

/* Classes of the words a number is made of. val is the value for UNIT..HUND, the power
 * of ten for scales, and 15 (tenths) for HALF. */
enum {
    NW_UNIT = 1 << 0,       /* 0..9 */
    NW_TEEN = 1 << 1,       /* 10..19 */
    NW_TENS = 1 << 2,       /* 20..90 */
    NW_HUND = 1 << 3,       /* 100..900, and 150 */
    NW_SCALE = 1 << 4,      /* тысяча, миллион, миллиард: a number by itself too */
    NW_ABBR = 1 << 5,       /* тыс, млн, млрд: only after a number, may take a '.' */
    NW_GLUED = 1 << 6,      /* к, k: only glued to digits ("100к") */
    NW_HALF = 1 << 7,       /* полтора: 1.5 */
    NW_HALF_SCALE = 1 << 8, /* полтысячи, полмиллиона: half a scale */
};

#define U(w, v) {w, NW_UNIT, v}
#define T(w, v) {w, NW_TEEN, v}
#define D(w, v) {w, NW_TENS, v}
#define H(w, v) {w, NW_HUND, v}
#define S(w, e) {w, NW_SCALE, e}
#define A(w, e) {w, NW_SCALE | NW_ABBR, e}
static const struct text_lex_word num_words[] = {
    U("ноль", 0), U("нуль", 0), U("ноля", 0), U("нуля", 0), U("нолю", 0), U("нулю", 0),
    U("нолем", 0), U("нулем", 0), U("ноле", 0), U("нуле", 0),
    U("один", 1), U("одна", 1), U("одно", 1), U("одни", 1), U("одного", 1), U("одной", 1),
    U("одному", 1), U("одну", 1), U("одним", 1), U("одном", 1), U("одною", 1),
    U("одними", 1), U("одних", 1),
    U("два", 2), U("две", 2), U("двух", 2), U("двум", 2), U("двумя", 2),
    U("три", 3), U("трех", 3), U("трем", 3), U("тремя", 3),
    U("четыре", 4), U("четырех", 4), U("четырем", 4), U("четырьмя", 4),
    U("пять", 5), U("пяти", 5), U("пятью", 5), U("шесть", 6), U("шести", 6), U("шестью", 6),
    U("семь", 7), U("семи", 7), U("семью", 7), U("восемь", 8), U("восьми", 8),
    U("восемью", 8), U("восьмью", 8), U("девять", 9), U("девяти", 9), U("девятью", 9),
    /* collective numerals: «за первые двое суток» */
    U("двое", 2), U("двоих", 2), U("трое", 3), U("троих", 3), U("четверо", 4),
    U("четверых", 4), U("пятеро", 5), U("шестеро", 6), U("семеро", 7),
    T("десять", 10), T("десяти", 10), T("десятью", 10),
    T("одиннадцать", 11), T("одиннадцати", 11), T("одиннадцатью", 11),
    T("двенадцать", 12), T("двенадцати", 12), T("двенадцатью", 12),
    T("тринадцать", 13), T("тринадцати", 13), T("тринадцатью", 13),
    T("четырнадцать", 14), T("четырнадцати", 14), T("четырнадцатью", 14),
    T("пятнадцать", 15), T("пятнадцати", 15), T("пятнадцатью", 15),
    T("шестнадцать", 16), T("шестнадцати", 16), T("шестнадцатью", 16),
    T("семнадцать", 17), T("семнадцати", 17), T("семнадцатью", 17),
    T("восемнадцать", 18), T("восемнадцати", 18), T("восемнадцатью", 18),
    T("девятнадцать", 19), T("девятнадцати", 19), T("девятнадцатью", 19),
    D("двадцать", 20), D("двадцати", 20), D("двадцатью", 20),
    D("тридцать", 30), D("тридцати", 30), D("тридцатью", 30),
    D("сорок", 40), D("сорока", 40),
    D("пятьдесят", 50), D("пятидесяти", 50), D("пятьюдесятью", 50),
    D("шестьдесят", 60), D("шестидесяти", 60), D("шестьюдесятью", 60),
    D("семьдесят", 70), D("семидесяти", 70), D("семьюдесятью", 70),
    D("восемьдесят", 80), D("восьмидесяти", 80), D("восемьюдесятью", 80),
    D("восьмьюдесятью", 80), D("девяносто", 90), D("девяноста", 90),
    H("сто", 100), H("ста", 100),
    H("двести", 200), H("двухсот", 200), H("двумстам", 200), H("двумястами", 200),
    H("двухстах", 200),
    H("триста", 300), H("трехсот", 300), H("тремстам", 300), H("тремястами", 300),
    H("трехстах", 300),
    H("четыреста", 400), H("четырехсот", 400), H("четыремстам", 400),
    H("четырьмястами", 400), H("четырехстах", 400),
    H("пятьсот", 500), H("пятисот", 500), H("пятистам", 500), H("пятьюстами", 500),
    H("пятистах", 500),
    H("шестьсот", 600), H("шестисот", 600), H("шестистам", 600), H("шестьюстами", 600),
    H("шестистах", 600),
    H("семьсот", 700), H("семисот", 700), H("семистам", 700), H("семьюстами", 700),
    H("семистах", 700),
    H("восемьсот", 800), H("восьмисот", 800), H("восьмистам", 800), H("восемьюстами", 800),
    H("восьмьюстами", 800), H("восьмистах", 800),
    H("девятьсот", 900), H("девятисот", 900), H("девятистам", 900), H("девятьюстами", 900),
    H("девятистах", 900),
    H("полтораста", 150), H("полутораста", 150),
    S("тысяча", 3), S("тысячи", 3), S("тысяче", 3), S("тысячу", 3), S("тысячей", 3),
    S("тысячею", 3), S("тысяч", 3), S("тысячам", 3), S("тысячами", 3), S("тысячах", 3),
    S("тыща", 3), S("тыщи", 3), S("тыщу", 3), S("тыщ", 3), S("тыщей", 3),
    S("миллион", 6), S("миллиона", 6), S("миллиону", 6), S("миллионом", 6),
    S("миллионе", 6), S("миллионы", 6), S("миллионов", 6), S("миллионам", 6),
    S("миллионами", 6), S("миллионах", 6),
    S("миллиард", 9), S("миллиарда", 9), S("миллиарду", 9), S("миллиардом", 9),
    S("миллиарде", 9), S("миллиарды", 9), S("миллиардов", 9), S("миллиардам", 9),
    S("миллиардами", 9), S("миллиардах", 9),
    A("тыс", 3), A("млн", 6), A("млрд", 9),
    {"к", NW_GLUED, 3}, {"k", NW_GLUED, 3}, {"кк", NW_GLUED, 6}, {"kk", NW_GLUED, 6},
    {"полтора", NW_HALF, 15}, {"полторы", NW_HALF, 15}, {"полутора", NW_HALF, 15},
    {"полтысячи", NW_HALF_SCALE, 3}, {"полтыщи", NW_HALF_SCALE, 3},
    {"полмиллиона", NW_HALF_SCALE, 6}, {"полмиллиарда", NW_HALF_SCALE, 9},
};
#undef U
#undef T
#undef D
#undef H
#undef S
#undef A

static struct text_lex num_lex;
static pthread_once_t num_lex_once = PTHREAD_ONCE_INIT;

static void num_lex_build(void)
{
    text_lex_build(&num_lex, num_words, sizeof num_words / sizeof *num_words);
}

/* The number word that token t is, if any. */
static const struct text_lex_word *num_word(const struct tok *t)
{
    if (t->kind != TOK_WORD)
        return NULL;
    return text_lex_find(&num_lex, t->s, t->len);
}

/* ==== Numbers ==== */

static const int64_t pow10_tab[19] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL,
    1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL,
    100000000000000LL, 1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL};
#define MAX_FRACTION_DIGITS 18

/* One part of a number before a multiplier: mant / 10^fd, with the power of ten of a
 * multiplier that came in the same token ("100к", "полмиллиона"), else -1. */
struct item {
    int64_t mant;
    int fd;
    int exp;
    unsigned flags;
};

/* Digits of a fraction that no longer fit are dropped, and say so when not zero. */
static void push_digits(struct item *it, const char *s, size_t n, int fraction)
{
    for (size_t k = 0; k < n && !(it->flags & TOK_F_OVERFLOW); k++) {
        int dg = s[k] - '0';
        if (it->mant > (INT64_MAX - dg) / 10 || (fraction && it->fd >= MAX_FRACTION_DIGITS)) {
            if (fraction) {
                it->flags |= dg ? TOK_F_FRACTION : 0;
                continue;
            }
            it->flags |= TOK_F_OVERFLOW;
            it->mant = INT64_MAX;
            return;
        }
        it->mant = it->mant * 10 + dg;
        it->fd += fraction;
    }
}

static size_t lead_digits(const struct tok *t)
{
    size_t n = 0;
    while (n < t->len && t->s[n] >= '0' && t->s[n] <= '9')
        n++;
    return n;
}

static int is_punct(const struct text_doc *d, size_t i, const char *p)
{
    return i < d->ntoks && text_is(&d->toks[i], p);
}

/* A digit run as the tokenizer made it; a NUM merged earlier ("10 000") is final. */
static int is_num(const struct text_doc *d, size_t i, size_t len)
{
    return i < d->ntoks && d->toks[i].kind == TOK_NUM && (!len || d->toks[i].len == len) &&
           lead_digits(&d->toks[i]) == d->toks[i].len;
}

/* A '.' glued after an abbreviation ("тыс.") belongs to it. */
static size_t abbr_dot(const struct text_doc *d, size_t i, const struct text_lex_word *w)
{
    return (w->cls & NW_ABBR) && is_punct(d, i + 1, ".") && text_gap(d, i) == 0;
}

/* A word of digits and a multiplier ("100к", "5млн", "10тыс"): its digits go to the
 * item; returns the tokens it spans (with an abbreviation's '.'), 0 when it is not one. */
static size_t read_glued(const struct text_doc *d, size_t i, struct item *it, int fraction)
{
    const struct tok *t = &d->toks[i];
    size_t nd = lead_digits(t);
    if (t->kind != TOK_WORD || !nd)
        return 0;
    const struct text_lex_word *w = text_lex_find(&num_lex, t->s + nd, t->len - nd);
    if (!w || !(w->cls & (NW_SCALE | NW_GLUED)))
        return 0;
    push_digits(it, t->s, nd, fraction);
    it->exp = w->val;
    return 1 + abbr_dot(d, i, w);
}

static size_t read_scale(const struct text_doc *d, size_t i, int *exp)
{
    if (i >= d->ntoks || text_gap(d, i - 1) != 1)
        return 0;
    const struct text_lex_word *w = num_word(&d->toks[i]);
    if (!w || !(w->cls & NW_SCALE))
        return 0;
    *exp = w->val;
    return 1 + abbr_dot(d, i, w);
}

/* Groups of exactly 3 digits after token i (1-3 digits, not starting with 0): after a
 * space ("10 000"), or after one separator used throughout ("10.000", "1,000,000").
 * A single separated group followed by a multiplier is a decimal ("1,500 млн"). */
static size_t read_groups(const struct text_doc *d, size_t i, struct item *it)
{
    const struct tok *t = &d->toks[i];
    size_t k = i, groups = 0;
    int exp;
    if (t->len > 3 || t->s[0] == '0')
        return 0;
    while (text_gap(d, k) == 1 && is_num(d, k + 1, 3))
        push_digits(it, d->toks[++k].s, 3, 0);
    if (k > i)
        return k - i;
    const char *sep = is_punct(d, k + 1, ".") ? "." : ",";
    while (text_gap(d, k) == 0 && is_punct(d, k + 1, sep) && text_gap(d, k + 1) == 0 &&
           is_num(d, k + 2, 3)) {
        k += 2;
        groups++;
    }
    if (!groups || (groups == 1 && read_scale(d, k + 1, &exp)))
        return 0;
    for (size_t g = i + 2; g <= k; g += 2)
        push_digits(it, d->toks[g].s, 3, 0);
    return k - i;
}

/* ",5" or ".5" glued after token i, also "1,5млн". */
static size_t read_fraction(const struct text_doc *d, size_t i, struct item *it)
{
    if (text_gap(d, i) != 0 || !(is_punct(d, i + 1, ",") || is_punct(d, i + 1, ".")) ||
        text_gap(d, i + 1) != 0 || i + 2 >= d->ntoks)
        return 0;
    if (is_num(d, i + 2, 0)) {
        push_digits(it, d->toks[i + 2].s, d->toks[i + 2].len, 1);
        return 2;
    }
    size_t n = read_glued(d, i + 2, it, 1);
    return n ? 1 + n : 0;
}

static size_t read_digit_item(const struct text_doc *d, size_t i, struct item *it)
{
    size_t n = read_glued(d, i, it, 0);
    if (n)
        return n;
    if (!is_num(d, i, 0))
        return 0;
    push_digits(it, d->toks[i].s, d->toks[i].len, 0);
    n = 1 + read_groups(d, i, it);
    if (it->exp < 0)
        n += read_fraction(d, i + n - 1, it);
    return n;
}

/* Hundreds, tens and units in that order, each at most once: "сто двадцать пять";
 * or one word that is a number by itself: полтора, полмиллиона, тысяча. */
static size_t read_word_item(const struct text_doc *d, size_t i, struct item *it)
{
    int stage = 0; /* 1 after hundreds, 2 after tens, 3 after units or teens */
    size_t k = i;
    for (; k < d->ntoks && (k == i || text_gap(d, k - 1) == 1); k++) {
        const struct text_lex_word *w = num_word(&d->toks[k]);
        if (w && (w->cls & NW_HUND) && stage < 1)
            stage = 1;
        else if (w && (w->cls & NW_TENS) && stage < 2)
            stage = 2;
        else if (w && (((w->cls & NW_TEEN) && stage < 2) || ((w->cls & NW_UNIT) && stage < 3)))
            stage = 3;
        else
            break;
        it->mant += w->val;
    }
    it->flags |= TOK_F_WORDS;
    if (k > i)
        return k - i;
    const struct text_lex_word *w = num_word(&d->toks[i]);
    if (!w || !(w->cls & (NW_HALF | NW_HALF_SCALE | NW_SCALE)) || (w->cls & NW_ABBR))
        return 0;
    it->mant = w->cls & NW_HALF ? 15 : w->cls & NW_HALF_SCALE ? 5 : 1;
    it->fd = w->cls & NW_SCALE ? 0 : 1;
    it->exp = w->cls & NW_HALF ? -1 : w->val;
    return 1;
}

static size_t read_item(const struct text_doc *d, size_t i, struct item *it)
{
    memset(it, 0, sizeof *it);
    it->exp = -1;
    size_t n = read_digit_item(d, i, it);
    return n ? n : read_word_item(d, i, it);
}

static void add_scaled(struct numbers_value *v, const struct item *it, int exp)
{
    int64_t x = it->mant;
    v->flags |= it->flags;
    if (v->flags & TOK_F_OVERFLOW)
        goto overflow;
    if (exp >= it->fd) {
        int64_t m = pow10_tab[exp - it->fd];
        if (x > INT64_MAX / m)
            goto overflow;
        x *= m;
    } else {
        int64_t m = pow10_tab[it->fd - exp];
        if (x % m)
            v->flags |= TOK_F_FRACTION;
        x /= m;
    }
    if (v->value > INT64_MAX - x)
        goto overflow;
    v->value += x;
    return;
overflow:
    v->flags |= TOK_F_OVERFLOW;
    v->value = INT64_MAX;
}

/* Items with falling multipliers add up ("три миллиона двести тысяч пятьсот"); the
 * first item without a multiplier ends the number, and after a multiplier it must be
 * smaller than it ("тысяча двести", not "тысяча 2025"). */
size_t numbers_parse_at(const struct text_doc *d, size_t i, struct numbers_value *v)
{
    int last_exp = 100;
    size_t k = i, end = i;
    pthread_once(&num_lex_once, num_lex_build);
    memset(v, 0, sizeof *v);
    while (k < d->ntoks && (k == i || text_gap(d, k - 1) == 1)) {
        struct item it;
        size_t n = read_item(d, k, &it);
        if (!n)
            break;
        size_t m = k + n;
        int exp = it.exp;
        if (exp < 0)
            m += read_scale(d, m, &exp);
        if (exp >= 0) {
            if (exp >= last_exp)
                break;
            if (last_exp == 100)
                v->scale = exp;
            add_scaled(v, &it, exp);
            last_exp = exp;
            k = end = m;
            continue;
        }
        if (k > i && (it.fd || it.mant >= pow10_tab[last_exp]))
            break;
        add_scaled(v, &it, 0);
        end = m;
        break;
    }
    return end - i;
}

/* A minus glued to a number and standing apart from what precedes it is a sign:
 * «меньше -100», «ровно −5»; «топ-5» and «10 - 15» are not. */
static void signs(struct text_doc *d)
{
    size_t j = 0;
    for (size_t i = 0; i < d->ntoks; j++) {
        struct tok *m = &d->toks[i];
        struct tok *n = i + 1 < d->ntoks ? &d->toks[i + 1] : NULL;
        int apart = i == 0 || d->toks[i - 1].end < m->start;
        if (n && text_is(m, "-") && n->kind == TOK_NUM && m->end == n->start && apart &&
            !(n->flags & TOK_F_OVERFLOW)) {
            int64_t v = n->num;
            unsigned fl = n->flags;
            int sc = n->scale;
            struct tok *t = text_merge(d, j, i, 2, TOK_NUM);
            t->num = -v;
            t->flags = fl;
            t->scale = sc;
            i += 2;
            continue;
        }
        d->toks[j] = d->toks[i++];
    }
    d->ntoks = j;
}

/* «от 10 до 15 тысяч», «10-15 тыс.», «между 1 и 2 млн», «больше 10, но меньше 15 тысяч»:
 * the multiplier of the range's end is its start's too, when the start read without it
 * would be implausibly small (below the end). «от 500 до 15 тысяч» keeps its 500. */
static int range_link(const struct tok *t)
{
    static const char *const words[] = {"до", "по", "и", "-", ",", "но", "а", "меньше",
                                        "менее", "ниже", "не", "более", "больше", "чем"};
    for (size_t k = 0; k < sizeof words / sizeof *words; k++)
        if (text_is(t, words[k]))
            return 1;
    return 0;
}

static void range_scales(struct text_doc *d)
{
    for (size_t i = 0; i + 2 < d->ntoks; i++) {
        struct tok *a = &d->toks[i];
        if (a->kind != TOK_NUM || a->scale || a->num <= 0 ||
            (a->flags & (TOK_F_FRACTION | TOK_F_OVERFLOW)))
            continue;
        size_t k = i + 1;
        while (k < d->ntoks && k < i + 5 && range_link(&d->toks[k]))
            k++;
        struct tok *b = k < d->ntoks ? &d->toks[k] : NULL;
        if (k == i + 1 || !b || b->kind != TOK_NUM || !b->scale)
            continue;
        int64_t m = pow10_tab[b->scale];
        if (a->num > INT64_MAX / m || a->num * m >= b->num)
            continue;
        a->num *= m;
        a->scale = b->scale;
    }
}

void numbers_apply(struct text_doc *d)
{
    size_t j = 0;
    for (size_t i = 0; i < d->ntoks; j++) {
        struct numbers_value v;
        enum tok_kind kind = d->toks[i].kind;
        size_t n = kind == TOK_NUM || kind == TOK_WORD ? numbers_parse_at(d, i, &v) : 0;
        if (!n) {
            d->toks[j] = d->toks[i++];
            continue;
        }
        struct tok *t = text_merge(d, j, i, n, TOK_NUM);
        t->num = v.value;
        t->flags = v.flags;
        t->scale = v.scale;
        i += n;
    }
    d->ntoks = j;
    signs(d);
    range_scales(d);
}
