#include "dates.h"

#include <pthread.h>
#include <string.h>

#include "numbers.h"
#include "utc.h"

/* ==== Words ==== */

enum unit { U_HOUR = 1, U_DAY, U_WEEK, U_MONTH, U_YEAR };

/* Classes of the words dates are made of; one word may be in several ("года" is a year
 * word and a unit), its val then means the same for all of them. */
enum {
    DW_MONTH = 1 << 0,   /* val: 1..12 */
    DW_MABBR = 1 << 1,   /* "ноя": a month only next to a day or a year; may take '.' */
    DW_YEARW = 1 << 2,   /* год, года, г; val 1 for an abbreviation that may take '.' */
    DW_REL = 1 << 3,     /* сегодня, вчера: val is the offset in days */
    DW_RELADJ = 1 << 4,  /* вчерашний: val as DW_REL, may be followed by "день" */
    DW_DAYW = 1 << 5,    /* день, дня */
    DW_LAST = 1 << 6,    /* последний */
    DW_NTH = 1 << 7,     /* прошлый (-1), позапрошлый (-2), этот, текущий (0) */
    DW_UNIT = 1 << 8,    /* val: enum unit */
    DW_FROM = 1 << 9,    /* с, со, от */
    DW_TO = 1 << 10,     /* по, до */
    DW_BETWEEN = 1 << 11,
    DW_AND = 1 << 12,
    DW_INCL = 1 << 13,   /* включительно */
    DW_HOURW = 1 << 14,  /* час, часов, ч */
    DW_ORD = 1 << 15,    /* го, е: "1-го", "1-е" */
};

#define M(w, m) {w, DW_MONTH, m}
#define MA(w, m) {w, DW_MONTH | DW_MABBR, m}
#define REL(w, o) {w, DW_RELADJ, o}
#define NTH(w, o) {w, DW_NTH, o}
#define UN(w, u) {w, DW_UNIT, u}
static const struct text_lex_word date_words[] = {
    M("январь", 1), M("января", 1), M("январе", 1), M("январем", 1), MA("янв", 1),
    M("февраль", 2), M("февраля", 2), M("феврале", 2), M("февралем", 2), MA("фев", 2),
    MA("февр", 2),
    M("март", 3), M("марта", 3), M("марте", 3), M("мартом", 3), MA("мар", 3),
    M("апрель", 4), M("апреля", 4), M("апреле", 4), M("апрелем", 4), MA("апр", 4),
    M("май", 5), M("мая", 5), M("мае", 5), M("маем", 5),
    M("июнь", 6), M("июня", 6), M("июне", 6), M("июнем", 6), MA("июн", 6),
    M("июль", 7), M("июля", 7), M("июле", 7), M("июлем", 7), MA("июл", 7),
    M("август", 8), M("августа", 8), M("августе", 8), M("августом", 8), MA("авг", 8),
    M("сентябрь", 9), M("сентября", 9), M("сентябре", 9), M("сентябрем", 9), MA("сен", 9),
    MA("сент", 9),
    M("октябрь", 10), M("октября", 10), M("октябре", 10), M("октябрем", 10), MA("окт", 10),
    M("ноябрь", 11), M("ноября", 11), M("ноябре", 11), M("ноябрем", 11), MA("ноя", 11),
    MA("нояб", 11),
    M("декабрь", 12), M("декабря", 12), M("декабре", 12), M("декабрем", 12), MA("дек", 12),
    {"год", DW_YEARW | DW_UNIT, U_YEAR}, {"года", DW_YEARW | DW_UNIT, U_YEAR},
    {"году", DW_YEARW | DW_UNIT, U_YEAR}, {"годом", DW_YEARW | DW_UNIT, U_YEAR},
    {"годе", DW_YEARW | DW_UNIT, U_YEAR}, {"г", DW_YEARW, 1}, {"гг", DW_YEARW, 1},
    UN("годы", U_YEAR), UN("годов", U_YEAR), UN("лет", U_YEAR), UN("годам", U_YEAR),
    UN("годами", U_YEAR), UN("годах", U_YEAR),
    {"сегодня", DW_REL, 0}, {"вчера", DW_REL, -1}, {"позавчера", DW_REL, -2},
    {"завтра", DW_REL, 1}, {"послезавтра", DW_REL, 2},
    REL("вчерашний", -1), REL("вчерашняя", -1), REL("вчерашнее", -1), REL("вчерашние", -1),
    REL("вчерашнего", -1), REL("вчерашней", -1), REL("вчерашнему", -1),
    REL("вчерашнюю", -1), REL("вчерашним", -1), REL("вчерашнем", -1), REL("вчерашних", -1),
    REL("сегодняшний", 0), REL("сегодняшняя", 0), REL("сегодняшнее", 0),
    REL("сегодняшние", 0), REL("сегодняшнего", 0), REL("сегодняшней", 0),
    REL("сегодняшнему", 0), REL("сегодняшнюю", 0), REL("сегодняшним", 0),
    REL("сегодняшнем", 0), REL("сегодняшних", 0),
    REL("позавчерашний", -2), REL("позавчерашняя", -2), REL("позавчерашнее", -2),
    REL("позавчерашние", -2), REL("позавчерашнего", -2), REL("позавчерашней", -2),
    REL("позавчерашнему", -2), REL("позавчерашнюю", -2), REL("позавчерашним", -2),
    REL("позавчерашнем", -2), REL("позавчерашних", -2),
    {"день", DW_DAYW | DW_UNIT, U_DAY}, {"дня", DW_DAYW | DW_UNIT, U_DAY},
    {"дню", DW_DAYW | DW_UNIT, U_DAY}, {"днем", DW_DAYW | DW_UNIT, U_DAY},
    {"дне", DW_DAYW | DW_UNIT, U_DAY}, UN("дней", U_DAY), UN("дням", U_DAY),
    UN("днями", U_DAY), UN("днях", U_DAY), UN("сутки", U_DAY), UN("суток", U_DAY),
    UN("неделя", U_WEEK), UN("недели", U_WEEK), UN("неделе", U_WEEK), UN("неделю", U_WEEK),
    UN("неделей", U_WEEK), UN("недель", U_WEEK), UN("неделям", U_WEEK),
    UN("неделями", U_WEEK), UN("неделях", U_WEEK),
    UN("месяц", U_MONTH), UN("месяца", U_MONTH), UN("месяцу", U_MONTH),
    UN("месяцем", U_MONTH), UN("месяце", U_MONTH), UN("месяцы", U_MONTH),
    UN("месяцев", U_MONTH), UN("месяцам", U_MONTH), UN("месяцами", U_MONTH),
    UN("месяцах", U_MONTH),
    {"час", DW_HOURW | DW_UNIT, U_HOUR}, {"часа", DW_HOURW | DW_UNIT, U_HOUR},
    {"часов", DW_HOURW | DW_UNIT, U_HOUR}, {"часу", DW_HOURW | DW_UNIT, U_HOUR},
    {"часам", DW_HOURW | DW_UNIT, U_HOUR}, {"часами", DW_HOURW | DW_UNIT, U_HOUR},
    {"часах", DW_HOURW | DW_UNIT, U_HOUR}, {"ч", DW_HOURW, 1},
    {"последний", DW_LAST, 0}, {"последняя", DW_LAST, 0}, {"последнее", DW_LAST, 0},
    {"последние", DW_LAST, 0}, {"последнего", DW_LAST, 0}, {"последней", DW_LAST, 0},
    {"последнему", DW_LAST, 0}, {"последнюю", DW_LAST, 0}, {"последним", DW_LAST, 0},
    {"последнем", DW_LAST, 0}, {"последних", DW_LAST, 0}, {"последними", DW_LAST, 0},
    NTH("прошлый", -1), NTH("прошлая", -1), NTH("прошлое", -1), NTH("прошлые", -1),
    NTH("прошлого", -1), NTH("прошлой", -1), NTH("прошлому", -1), NTH("прошлую", -1),
    NTH("прошлым", -1), NTH("прошлом", -1), NTH("прошлых", -1),
    NTH("предыдущий", -1), NTH("предыдущая", -1), NTH("предыдущее", -1),
    NTH("предыдущие", -1), NTH("предыдущего", -1), NTH("предыдущей", -1),
    NTH("предыдущему", -1), NTH("предыдущую", -1), NTH("предыдущим", -1),
    NTH("предыдущем", -1), NTH("предыдущих", -1),
    NTH("позапрошлый", -2), NTH("позапрошлая", -2), NTH("позапрошлое", -2),
    NTH("позапрошлого", -2), NTH("позапрошлой", -2), NTH("позапрошлому", -2),
    NTH("позапрошлую", -2), NTH("позапрошлым", -2), NTH("позапрошлом", -2),
    NTH("этот", 0), NTH("эта", 0), NTH("это", 0), NTH("этого", 0), NTH("этой", 0),
    NTH("этому", 0), NTH("эту", 0), NTH("этим", 0), NTH("этом", 0),
    NTH("текущий", 0), NTH("текущая", 0), NTH("текущее", 0), NTH("текущего", 0),
    NTH("текущей", 0), NTH("текущему", 0), NTH("текущую", 0), NTH("текущим", 0),
    NTH("текущем", 0),
    {"с", DW_FROM, 0}, {"c", DW_FROM, 0} /* a Latin c typed for с */, {"со", DW_FROM, 0},
    {"от", DW_FROM, 0}, {"по", DW_TO, 0},
    {"до", DW_TO, 0}, {"между", DW_BETWEEN, 0}, {"и", DW_AND, 0},
    {"включительно", DW_INCL, 0},
    {"го", DW_ORD, 0}, {"е", DW_ORD, 0}, {"ое", DW_ORD, 0}, {"ого", DW_ORD, 0},
};
#undef M
#undef MA
#undef REL
#undef NTH
#undef UN

static struct text_lex date_lex;
static pthread_once_t date_lex_once = PTHREAD_ONCE_INIT;

static void date_lex_build(void)
{
    text_lex_build(&date_lex, date_words, sizeof date_words / sizeof *date_words);
}

/* ==== Reading tokens ==== */

#define HOUR_US (3600 * UTC_US_PER_SEC)

/* The text being read, the instant it is read at, and today in the user's zone. */
struct dctx {
    const struct text_doc *d;
    int64_t now;
    int64_t today; /* local calendar day, days since 1970-01-01 */
    int64_t hour0; /* the instant the current local hour began */
    int year;      /* local year of now */
};

/* A date as read and then resolved. A relative one ("вчера") is resolved as it is
 * read; an absolute one keeps what was said (0 = not said) until its year is known. */
struct dpt {
    int y, m, d;
    enum tok_grain grain;
    int rel, bad, noyear;
    int64_t from, to;
};

static const struct tok *tk(const struct dctx *c, size_t i)
{
    return i < c->d->ntoks ? &c->d->toks[i] : NULL;
}

static const struct text_lex_word *dword(const struct dctx *c, size_t i, unsigned cls)
{
    const struct tok *t = tk(c, i);
    if (!t || t->kind != TOK_WORD)
        return NULL;
    const struct text_lex_word *w = text_lex_find(&date_lex, t->s, t->len);
    return w && (w->cls & cls) ? w : NULL;
}

static int punct(const struct dctx *c, size_t i, const char *p)
{
    const struct tok *t = tk(c, i);
    return t && text_is(t, p);
}

static int glued(const struct dctx *c, size_t i)
{
    return text_gap(c->d, i) == 0;
}

/* A plain digit run of minlen..maxlen digits: its value, else -1. */
static int64_t digits(const struct dctx *c, size_t i, size_t minlen, size_t maxlen)
{
    const struct tok *t = tk(c, i);
    if (!t || t->kind != TOK_NUM || t->len < minlen || t->len > maxlen ||
        (t->flags & TOK_F_OVERFLOW))
        return -1;
    return t->num;
}

/* A '.' glued after an abbreviation ("г.", "ноя.") belongs to it. */
static size_t abbr_dot(const struct dctx *c, size_t i)
{
    return punct(c, i + 1, ".") && glued(c, i);
}

/* A word that starts with 1-2 digits and goes on with a word of class cls ("1го",
 * "28ноября", "2025г"): the digits' value, else -1. */
static int64_t digits_word(const struct dctx *c, size_t i, size_t maxd, unsigned cls,
                           const struct text_lex_word **w)
{
    const struct tok *t = tk(c, i);
    size_t n = 0;
    int64_t v = 0;
    if (!t || t->kind != TOK_WORD)
        return -1;
    while (n < t->len && n < maxd + 1 && t->s[n] >= '0' && t->s[n] <= '9')
        v = v * 10 + (t->s[n++] - '0');
    if (!n || n > maxd)
        return -1;
    *w = text_lex_find(&date_lex, t->s + n, t->len - n);
    return *w && ((*w)->cls & cls) ? v : -1;
}

/* ==== Resolving ==== */

/* Local midnight at the start of a calendar day (days since 1970-01-01). */
static int midnight(int64_t days, int64_t *out)
{
    struct utc_civil cv = {0};
    if (days < utc_days_from_civil(1, 1, 1) || days > utc_days_from_civil(9999, 12, 31))
        return -1;
    utc_civil_from_days(days, &cv.year, &cv.month, &cv.day);
    return utc_from_local(&cv, out);
}

static int days_span(struct dpt *p, int64_t first, int64_t end)
{
    return midnight(first, &p->from) || midnight(end, &p->to) ? -1 : 0;
}

/* The calendar day `months` months before day `days`, clamped to that month's end. */
static int64_t months_back(int64_t days, int64_t months)
{
    int y, m, d;
    utc_civil_from_days(days, &y, &m, &d);
    int64_t idx = (int64_t)y * 12 + (m - 1) - months;
    int64_t ny = idx >= 0 ? idx / 12 : -((-idx + 11) / 12);
    int nm = (int)(idx - ny * 12) + 1;
    if (ny < 1)
        return INT64_MIN;
    int dim = utc_days_in_month((int)ny, nm);
    return utc_days_from_civil((int)ny, nm, d < dim ? d : dim);
}

/* An absolute date in year y: its range, or -1 when there is no such day. */
static int resolve_in(struct dpt *p, int y)
{
    if (y < 1 || y > 9999)
        return -1;
    switch (p->grain) {
    case TOK_GRAIN_DAY:
        if (!utc_valid_date(y, p->m, p->d))
            return -1;
        return days_span(p, utc_days_from_civil(y, p->m, p->d),
                         utc_days_from_civil(y, p->m, p->d) + 1);
    case TOK_GRAIN_MONTH:
        return days_span(p, utc_days_from_civil(y, p->m, 1),
                         utc_days_from_civil(y, p->m, 1) + utc_days_in_month(y, p->m));
    case TOK_GRAIN_YEAR:
        return days_span(p, utc_days_from_civil(y, 1, 1), utc_days_from_civil(y + 1, 1, 1));
    default:
        return -1;
    }
}

/* Without a year: the latest one whose start is not after now. Eight years back is
 * enough for any 29 February. */
static int resolve_recent(const struct dctx *c, struct dpt *p)
{
    for (int y = c->year; y >= c->year - 8; y--)
        if (resolve_in(p, y) == 0 && p->from <= c->now) {
            p->y = y;
            return 0;
        }
    return -1;
}

static void resolve(const struct dctx *c, struct dpt *p)
{
    if (p->rel || p->bad)
        return;
    if (p->y) {
        p->bad = resolve_in(p, p->y) != 0;
        return;
    }
    p->bad = resolve_recent(c, p) != 0;
    p->noyear = 1;
}

/* The end takes the start's year and the start the end's, moved by one when the range
 * crosses a new year ("с 25 декабря по 5 января 2026"): only then is the start's month
 * later than the end's. Anything else that runs backwards stays wrong. */
static int wraps(const struct dpt *x, const struct dpt *y)
{
    return x->grain != TOK_GRAIN_YEAR && y->grain != TOK_GRAIN_YEAR && x->m > y->m;
}

static void resolve_pair(const struct dctx *c, struct dpt *x, struct dpt *y)
{
    if (x->rel || y->rel || (x->y && y->y) || x->bad || y->bad) {
        resolve(c, x);
        resolve(c, y);
        return;
    }
    if (!x->y && y->y) {
        x->noyear = 0;
        x->bad = resolve_in(x, y->y) || resolve_in(y, y->y);
        if (!x->bad && x->from > y->from && wraps(x, y))
            x->bad = resolve_in(x, y->y - 1);
        return;
    }
    int noyear = !x->y;
    resolve(c, x);
    if (x->bad)
        return;
    y->noyear = noyear;
    y->bad = resolve_in(y, x->y);
    if (!y->bad && y->from < x->from && wraps(x, y))
        y->bad = resolve_in(y, x->y + 1);
}

/* ==== Relative dates ==== */

/* "за последние N <unit>": N units ending with the current one. */
static int last_n(const struct dctx *c, struct dpt *p, int64_t n, int unit)
{
    p->grain = TOK_GRAIN_SPAN;
    if (n == 1 && unit == U_DAY)
        p->grain = TOK_GRAIN_DAY;
    if (n == 1 && unit == U_HOUR)
        p->grain = TOK_GRAIN_HOUR;
    switch (unit) {
    case U_HOUR:
        p->from = c->hour0 - (n - 1) * HOUR_US;
        p->to = c->hour0 + HOUR_US;
        return 0;
    case U_DAY:
        return days_span(p, c->today - n + 1, c->today + 1);
    case U_WEEK:
        return days_span(p, c->today - 7 * n + 1, c->today + 1);
    case U_MONTH:
        return days_span(p, months_back(c->today, n) + 1, c->today + 1);
    default:
        return days_span(p, months_back(c->today, 12 * n) + 1, c->today + 1);
    }
}

/* "прошлый/этот/позапрошлый <unit>": the calendar unit `off` units from the current. */
static int nth_unit(const struct dctx *c, struct dpt *p, int off, int unit)
{
    int y, m, d;
    utc_civil_from_days(c->today, &y, &m, &d);
    switch (unit) {
    case U_HOUR:
        p->grain = TOK_GRAIN_HOUR;
        p->from = c->hour0 + off * HOUR_US;
        p->to = p->from + HOUR_US;
        return 0;
    case U_DAY:
        p->grain = TOK_GRAIN_DAY;
        return days_span(p, c->today + off, c->today + off + 1);
    case U_WEEK: {
        p->grain = TOK_GRAIN_WEEK;
        int64_t monday = c->today - utc_weekday(c->today) + 7 * off;
        return days_span(p, monday, monday + 7);
    }
    case U_MONTH: {
        p->grain = TOK_GRAIN_MONTH;
        int64_t first = months_back(utc_days_from_civil(y, m, 1), -off);
        int fy, fm, fd;
        utc_civil_from_days(first, &fy, &fm, &fd);
        return days_span(p, first, first + utc_days_in_month(fy, fm));
    }
    default:
        p->grain = TOK_GRAIN_YEAR;
        return days_span(p, utc_days_from_civil(y + off, 1, 1),
                         utc_days_from_civil(y + off + 1, 1, 1));
    }
}

/* A count before a unit: digits or words ("7", "семь"); *n = 1 when there is none. */
static size_t count_at(const struct dctx *c, size_t i, int64_t *n)
{
    struct numbers_value v;
    size_t k = numbers_parse_at(c->d, i, &v);
    *n = 1;
    if (!k)
        return 0;
    *n = (v.flags & (TOK_F_FRACTION | TOK_F_OVERFLOW)) || v.value > 100000 ? -1 : v.value;
    return k;
}

/* вчера; вчерашний [день]; [за] последние [N] дней; N последних дней; прошлой неделе. */
static size_t p_relative(const struct dctx *c, size_t i, struct dpt *p)
{
    const struct text_lex_word *w, *u;
    int64_t n = 1;
    size_t k = i;
    p->rel = 1;
    if ((w = dword(c, i, DW_REL | DW_RELADJ))) {
        p->grain = TOK_GRAIN_DAY;
        p->bad = days_span(p, c->today + w->val, c->today + w->val + 1) != 0;
        return 1 + ((w->cls & DW_RELADJ) && dword(c, i + 1, DW_DAYW));
    }
    if ((w = dword(c, i, DW_NTH)) && (u = dword(c, i + 1, DW_UNIT))) {
        p->bad = nth_unit(c, p, w->val, u->val) != 0;
        return 2;
    }
    if (dword(c, k, DW_LAST)) {
        k += 1 + count_at(c, k + 1, &n);
    } else {
        size_t cn = count_at(c, k, &n);
        if (!cn || !dword(c, k + cn, DW_LAST))
            return 0;
        k += cn + 1;
    }
    if (!(u = dword(c, k, DW_UNIT)))
        return 0;
    p->bad = n < 1 || last_n(c, p, n, u->val) != 0;
    return k + 1 - i;
}

/* ==== Absolute dates ==== */

/* A year after a day or a month: "2025", "2025 года", "2025 г.", "2025г". Without a
 * year word only 1900..2199 counts as a year ("в ноябре 1000 просмотров" is not one);
 * with it, fewer than 4 digits is a duration ("за 3 года") and more is a bad year. */
static size_t p_year_part(const struct dctx *c, size_t k, struct dpt *p, int need_word)
{
    const struct tok *t = tk(c, k);
    const struct text_lex_word *w;
    int64_t v;
    if (t && t->kind == TOK_NUM) {
        if ((w = dword(c, k + 1, DW_YEARW))) {
            if (t->len < 4)
                return 0;
            p->y = t->len == 4 ? (int)t->num : 0;
            p->bad = !p->y;
            return 2 + (w->val ? abbr_dot(c, k + 1) : 0);
        }
        if (need_word || t->len != 4 || t->num < 1900 || t->num > 2199)
            return 0;
        p->y = (int)t->num;
        return 1;
    }
    if ((v = digits_word(c, k, 4, DW_YEARW, &w)) < 1000)
        return 0;
    p->y = (int)v;
    return 1 + (w->val ? abbr_dot(c, k) : 0);
}

/* "28 ноября [2025 [года]]", "1-го ноября", "28ноября"; with allow_bare also a day
 * alone ("с 1 по 5 ноября"), leaving the month 0 for the range to fill in. */
static size_t p_day(const struct dctx *c, size_t i, struct dpt *p, int allow_bare)
{
    const struct text_lex_word *w = NULL;
    size_t k = i + 1;
    int64_t day = digits(c, i, 1, 2);
    if (day < 0 && (day = digits_word(c, i, 2, DW_ORD | DW_MONTH, &w)) < 0)
        return 0;
    if (!w && punct(c, i + 1, "-") && glued(c, i) && glued(c, i + 1) && dword(c, i + 2, DW_ORD))
        k = i + 3;
    if (!w || !(w->cls & DW_MONTH)) {
        if ((w = dword(c, k, DW_MONTH)))
            k++;
    }
    p->d = (int)day;
    p->grain = TOK_GRAIN_DAY;
    if (!w) {
        return allow_bare && day >= 1 && day <= 31 ? k - i : 0;
    }
    p->m = w->val;
    if (w->cls & DW_MABBR)
        k += abbr_dot(c, k - 1);
    k += p_year_part(c, k, p, 0);
    p->bad |= day < 1 || day > 31;
    return k - i;
}

static int glued_run(const struct dctx *c, size_t i, size_t n)
{
    for (size_t k = i; k < i + n; k++)
        if (!glued(c, k))
            return 0;
    return 1;
}

/* "2025-11-28": 5 tokens. */
static size_t p_iso(const struct dctx *c, size_t i, struct dpt *p)
{
    const struct tok *t = tk(c, i);
    if (t->len < 4 || !punct(c, i + 1, "-") || !punct(c, i + 3, "-") || !glued_run(c, i, 4))
        return 0;
    int64_t m = digits(c, i + 2, 1, 2), d = digits(c, i + 4, 1, 2);
    if (m < 0 || d < 0)
        return 0;
    p->y = t->len == 4 ? (int)t->num : 0;
    p->m = (int)m;
    p->d = (int)d;
    p->bad = !p->y;
    return 5;
}

/* "28.11.2025", "28.11.25", "28/11/2025", "28-11-2025": 5 tokens. */
static size_t p_dmy(const struct dctx *c, size_t i, struct dpt *p)
{
    static const char *const seps[] = {".", "/", "-"};
    for (size_t s = 0; s < 3; s++) {
        const struct tok *y = tk(c, i + 4);
        int64_t m = digits(c, i + 2, 1, 2);
        if (!punct(c, i + 1, seps[s]) || !punct(c, i + 3, seps[s]) || m < 0 || !y ||
            y->kind != TOK_NUM || y->len < 2 || !glued_run(c, i, 4))
            continue;
        p->d = (int)tk(c, i)->num;
        p->m = (int)m;
        p->y = y->len == 2 ? 2000 + (int)y->num : y->len == 4 ? (int)y->num : 0;
        p->bad = !p->y;
        return 5;
    }
    return 0;
}

/* "28.11": both parts of 2 digits, a real day and month, and not a decimal with a
 * multiplier ("10.12 млн") or a longer dotted number. */
static size_t p_dm(const struct dctx *c, size_t i, struct dpt *p)
{
    struct numbers_value v;
    int64_t d = digits(c, i, 2, 2), m = digits(c, i + 2, 2, 2);
    if (d < 1 || d > 31 || m < 1 || m > 12 || !punct(c, i + 1, ".") || !glued_run(c, i, 2))
        return 0;
    if (punct(c, i + 3, ".") && glued(c, i + 2) && digits(c, i + 4, 1, 40) >= 0 &&
        glued(c, i + 3))
        return 0;
    if (numbers_parse_at(c->d, i, &v) > 3)
        return 0;
    p->d = (int)d;
    p->m = (int)m;
    return 3;
}

static size_t p_numeric(const struct dctx *c, size_t i, struct dpt *p)
{
    const struct tok *t = tk(c, i);
    const struct text_lex_word *w;
    size_t n;
    if (t->kind != TOK_NUM || (t->flags & TOK_F_OVERFLOW))
        return 0;
    if (!(n = p_iso(c, i, p)) && !(t->len <= 2 && (n = p_dmy(c, i, p))) && !(n = p_dm(c, i, p)))
        return 0;
    p->grain = TOK_GRAIN_DAY;
    p->bad |= p->m < 1 || p->m > 12 || p->d < 1 || p->d > 31;
    if (p->y && (w = dword(c, i + n, DW_YEARW)))
        n += 1 + (w->val ? abbr_dot(c, i + n) : 0);
    return n;
}

/* "июнь 2025", "в июне 2025 года", "за ноябрь", "ноя 2025". */
static size_t p_month(const struct dctx *c, size_t i, struct dpt *p)
{
    const struct text_lex_word *w = dword(c, i, DW_MONTH);
    if (!w)
        return 0;
    size_t k = i + 1 + ((w->cls & DW_MABBR) ? abbr_dot(c, i) : 0);
    size_t yn = p_year_part(c, k, p, 0);
    if ((w->cls & DW_MABBR) && !yn)
        return 0;
    p->m = w->val;
    p->grain = TOK_GRAIN_MONTH;
    return k + yn - i;
}

/* "2025 год", "в 2025 году", "2025 г.". */
static size_t p_year(const struct dctx *c, size_t i, struct dpt *p)
{
    p->grain = TOK_GRAIN_YEAR;
    return p_year_part(c, i, p, 1);
}

/* One date; allow_bare lets a range end be a day number alone. */
static size_t p_point(const struct dctx *c, size_t i, struct dpt *p, int allow_bare)
{
    size_t n;
    memset(p, 0, sizeof *p);
    if (!tk(c, i))
        return 0;
    if ((n = p_numeric(c, i, p)) || (n = p_day(c, i, p, allow_bare)))
        return n;
    memset(p, 0, sizeof *p);
    if ((n = p_month(c, i, p)))
        return n;
    memset(p, 0, sizeof *p);
    if ((n = p_year(c, i, p)))
        return n;
    memset(p, 0, sizeof *p);
    return p_relative(c, i, p);
}

/* ==== Ranges ==== */

/* A day number alone takes its month from the other end; two of them are no range. */
static int fill_months(struct dpt *x, struct dpt *y)
{
    int xbare = x->grain == TOK_GRAIN_DAY && !x->m, ybare = y->grain == TOK_GRAIN_DAY && !y->m;
    if (xbare && ybare)
        return 0;
    if (xbare || ybare) {
        struct dpt *bare = xbare ? x : y, *full = xbare ? y : x;
        if (full->rel || full->grain != TOK_GRAIN_DAY)
            return 0;
        bare->m = full->m;
    }
    return 1;
}

static size_t p_time(const struct dctx *c, size_t i, int64_t *sec, int *sure);

/* A time of day right after a whole day of a range end: «28 ноября 2025 10:00».
 * Returns the tokens it takes, and the seconds in *sec (-1: none). */
static size_t day_time(const struct dctx *c, size_t k, const struct dpt *p, int64_t *sec)
{
    int sure = 0;
    size_t n;
    *sec = -1;
    if (p->grain != TOK_GRAIN_DAY || !(n = p_time(c, k, sec, &sure)) || !sure) {
        *sec = -1;
        return 0;
    }
    return n;
}

/* "с X по|до Y", "от X до Y", "между X и Y", "X - Y", optionally "включительно"; X and
 * Y may carry a time of day («с 28 ноября 10:00 по 29 ноября 10:00»). */
static size_t p_range(const struct dctx *c, size_t i, struct dpt *out)
{
    struct dpt x, y;
    int64_t tx, ty;
    const struct text_lex_word *w = dword(c, i, DW_FROM | DW_BETWEEN);
    size_t k = i + (w != NULL), n;
    if (!(n = p_point(c, k, &x, 1)))
        return 0;
    k += n;
    k += day_time(c, k, &x, &tx);
    if (w ? !dword(c, k, (w->cls & DW_BETWEEN) ? DW_AND : DW_TO) : !punct(c, k, "-"))
        return 0;
    if (!(n = p_point(c, ++k, &y, 1)) || !fill_months(&x, &y))
        return 0;
    k += n;
    k += day_time(c, k, &y, &ty);
    k += dword(c, k, DW_INCL) != NULL;
    resolve_pair(c, &x, &y);
    /* a time makes the end an instant: "по 29 ноября 10:00" ends at 10:00, not at midnight */
    if (tx >= 0)
        x.from += tx * UTC_US_PER_SEC;
    if (ty >= 0)
        y.to = y.from + ty * UTC_US_PER_SEC;
    memset(out, 0, sizeof *out);
    out->grain = TOK_GRAIN_SPAN;
    out->rel = x.rel || y.rel;
    out->noyear = x.noyear || y.noyear;
    out->bad = x.bad || y.bad || y.to <= x.from;
    out->from = x.from;
    out->to = y.to;
    return k - i;
}

/* ==== Time-of-day windows ==== */

/* "10:00", "10", "10 часов", "10.30": seconds since midnight in *sec (-1 when out of
 * range). *sure is set when it cannot be a day number: minutes or an hour word. A dot
 * separates minutes only when they cannot be a month ("10.00", "10.30", not "10.11"). */
static size_t p_time(const struct dctx *c, size_t i, int64_t *sec, int *sure)
{
    int64_t h = digits(c, i, 1, 2), m = -1;
    size_t k = i + 1;
    const struct text_lex_word *w;
    if (h < 0)
        return 0;
    if (glued(c, i) && glued(c, i + 1) && (m = digits(c, i + 2, 2, 2)) >= 0 &&
        (punct(c, i + 1, ":") || (punct(c, i + 1, ".") && (m == 0 || m > 12)))) {
        k += 2;
        *sure = 1;
    } else {
        m = 0;
    }
    if ((w = dword(c, k, DW_HOURW))) {
        k += 1 + (w->val ? abbr_dot(c, k) : 0);
        *sure = 1;
    }
    /* «10 утра», «3 часов дня», «8 вечера», «12 ночи» */
    const struct tok *part = tk(c, k);
    if (part && h >= 1 && h <= 12 && (text_is(part, "утра") || text_is(part, "ночи"))) {
        h = h == 12 ? 0 : h;
        k++;
        *sure = 1;
    } else if (part && h >= 1 && h <= 12 && (text_is(part, "дня") || text_is(part, "вечера"))) {
        h = h == 12 ? 12 : h + 12;
        k++;
        *sure = 1;
    }
    *sec = h > 24 || m > 59 || (h == 24 && m) ? -1 : h * 3600 + m * 60;
    return k - i;
}

/* «до 12:00» and «после 18:00»: a window open at one end of the day. The time must be
 * unmistakable (minutes or an hour word): «до 5» may be a day. */
static size_t p_open_window(const struct dctx *c, size_t i, struct tok *out)
{
    int before = dword(c, i, DW_TO) && text_is(tk(c, i), "до");
    int after = tk(c, i) && text_is(tk(c, i), "после");
    int64_t t;
    int sure = 0;
    size_t n;
    if ((!before && !after) || !(n = p_time(c, i + 1, &t, &sure)) || !sure)
        return 0;
    out->kind = TOK_TIMEWIN;
    if (t < 0 || (before && t == 0) || (after && t >= 86400)) {
        out->flags = TOK_F_BAD_DATE;
        return n + 1;
    }
    out->from = before ? 0 : t;
    out->to = before ? t : 86400;
    return n + 1;
}

/* "с 10:00 до 15:00", "между 10 и 15 часами", "10-15 часов". Ending at 00:00 means
 * midnight at the end of the day. */
static size_t p_window(const struct dctx *c, size_t i, struct tok *out)
{
    const struct text_lex_word *w = dword(c, i, DW_FROM | DW_BETWEEN);
    size_t k = i + (w != NULL), n;
    int64_t a, b;
    int sure = 0;
    if (!(n = p_time(c, k, &a, &sure)))
        return 0;
    k += n;
    if (w ? !dword(c, k, (w->cls & DW_BETWEEN) ? DW_AND : DW_TO) : !punct(c, k, "-"))
        return 0;
    if (!(n = p_time(c, ++k, &b, &sure)) || !sure)
        return 0;
    k += n;
    if (b == 0)
        b = 86400;
    out->kind = TOK_TIMEWIN;
    if (a < 0 || b < 0 || a >= 86400 || a >= b) {
        out->flags = TOK_F_BAD_DATE;
        return k - i;
    }
    out->from = a;
    out->to = b;
    return k - i;
}

/* ==== The pass ==== */

static size_t read_temporal(const struct dctx *c, size_t i, struct tok *t)
{
    struct dpt p;
    size_t n;
    if (c->d->toks[i].kind != TOK_WORD && c->d->toks[i].kind != TOK_NUM)
        return 0;
    if ((n = p_window(c, i, t)) || (n = p_open_window(c, i, t)))
        return n;
    if (!(n = p_range(c, i, &p))) {
        if (!(n = p_point(c, i, &p, 0)))
            return 0;
        resolve(c, &p);
    }
    t->kind = TOK_DATE;
    t->grain = p.grain;
    t->flags = (p.rel ? TOK_F_RELATIVE : 0) | (p.noyear ? TOK_F_NO_YEAR : 0);
    if (p.bad) {
        t->flags |= TOK_F_BAD_DATE;
        return n;
    }
    t->from = p.from;
    t->to = p.to;
    return n;
}

void dates_apply(struct text_doc *d, int64_t now)
{
    struct dctx c = {d, now, 0, 0, 0};
    struct utc_civil lc;
    pthread_once(&date_lex_once, date_lex_build);
    utc_to_local(now, &lc);
    c.today = utc_days_from_civil(lc.year, lc.month, lc.day);
    c.year = lc.year;
    /* Local minutes and seconds are the same count back to the hour in any zone. */
    c.hour0 = now - (lc.min * 60 + lc.sec) * UTC_US_PER_SEC - lc.usec;
    size_t j = 0;
    for (size_t i = 0; i < d->ntoks; j++) {
        struct tok t = {0};
        size_t n = read_temporal(&c, i, &t);
        if (!n) {
            d->toks[j] = d->toks[i++];
            continue;
        }
        struct tok *o = text_merge(d, j, i, n, t.kind);
        o->flags = t.flags;
        o->from = t.from;
        o->to = t.to;
        o->grain = t.grain;
        i += n;
    }
    d->ntoks = j;
}

/* ==== Helpers ==== */

static int local_at(int64_t days, int64_t sec, int64_t *out)
{
    struct utc_civil cv = {0};
    utc_civil_from_days(days + sec / 86400, &cv.year, &cv.month, &cv.day);
    cv.hour = (int)(sec % 86400 / 3600);
    cv.min = (int)(sec % 3600 / 60);
    return utc_from_local(&cv, out);
}

int dates_window_on_day(const struct tok *day, const struct tok *win, int64_t *from,
                        int64_t *to)
{
    struct utc_civil cv;
    if (day->kind != TOK_DATE || day->grain != TOK_GRAIN_DAY || win->kind != TOK_TIMEWIN ||
        ((day->flags | win->flags) & TOK_F_BAD_DATE))
        return -1;
    utc_to_local(day->from, &cv);
    int64_t days = utc_days_from_civil(cv.year, cv.month, cv.day);
    return local_at(days, win->from, from) || local_at(days, win->to, to) ? -1 : 0;
}

int dates_resolve(const char *phrase, size_t len, int64_t now, struct tok *out)
{
    struct text_doc d;
    int rc = -1;
    text_doc_init(&d, len + 1);
    if (text_analyze(&d, phrase, len, now) == TEXT_OK) {
        for (size_t i = 0; i < d.ntoks && rc; i++) {
            if (d.toks[i].kind == TOK_DATE || d.toks[i].kind == TOK_TIMEWIN) {
                *out = d.toks[i];
                out->s = NULL;
                rc = 0;
            }
        }
    }
    text_doc_release(&d);
    return rc;
}
