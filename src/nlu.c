#include "nlu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "grammar.h"
#include "lexicon.h"
#include "text.h"
#include "utc.h"
#include "validate.h"
#include "xalloc.h"

#define NLU_MAX_ITEMS 512

struct nlu {
    lexicon *lx;
    grammar *g;
    struct text_doc doc;
    struct lex_item items[NLU_MAX_ITEMS];
    struct buf tags;                       /* the tag words of the content items */
    size_t starts[GRAM_MAX_TAGS];          /* byte offset of each tag word */
    size_t item_of[GRAM_MAX_TAGS];         /* tag word -> item */
    struct gram_frag frags[GRAM_MAX_TAGS];
};

nlu *nlu_new(const char *home, struct buf *err)
{
    struct buf dir = BUF_INIT;
    nlu *n = xcalloc(1, sizeof *n);
    buf_addf(&dir, "%s/lexicon", home);
    n->lx = lexicon_load(buf_str(&dir), err);
    buf_reset(&dir);
    buf_addf(&dir, "%s/grammar", home);
    if (n->lx)
        n->g = grammar_load(buf_str(&dir), err);
    buf_release(&dir);
    if (!n->g) {
        nlu_free(n);
        return NULL;
    }
    text_doc_init(&n->doc, 0);
    return n;
}

void nlu_free(nlu *n)
{
    if (!n)
        return;
    lexicon_free(n->lx);
    grammar_free(n->g);
    text_doc_release(&n->doc);
    buf_release(&n->tags);
    free(n);
}

void nlu_result_init(struct nlu_result *r)
{
    memset(r, 0, sizeof *r);
}

void nlu_result_release(struct nlu_result *r)
{
    buf_release(&r->explain);
    buf_release(&r->why);
    buf_release(&r->unknown);
    buf_release(&r->norm);
}

/* ==== The frame: what the fragments said ==== */

enum { AGG_NONE, AGG_HOWMANY, AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX };
enum { WHAT_NONE, WHAT_VIDEO, WHAT_SNAPSHOT, WHAT_CREATOR, WHAT_DAY };
/* MODE_GET: «получили хотя бы один лайк»: growth when said with a day of measurement,
 * final totals otherwise, like a "has". */
enum { MODE_NONE, MODE_FINAL, MODE_GROWTH, MODE_AUTO, MODE_GET };
enum { ROLE_ANY, ROLE_PUB, ROLE_MEAS };

static const char *const agg_words[] = {"", "howmany", "count", "sum", "avg", "min", "max", NULL};
static const char *const what_words[] = {"", "video", "snapshot", "creator", "day", NULL};
static const char *const mode_words[] = {"", "final", "growth", "auto", "get", NULL};
static const char *const role_words[] = {"any", "pub", "meas", NULL};
static const char *const metric_words[] = {"views", "likes", "comments", "reports", NULL};
static const char *const op_words[] = {"gt", "ge", "lt", "le", "eq", "ne", NULL};
static const char *const reason_words[] = {"", "list", "ranking", "non_numeric", "write",
                                           "off_topic", "unknown_metric", "ambiguous", NULL};
/* When several reasons apply («Какое видео набрало больше всего…» is both a ranking and
 * a non-number), the most telling one is reported. */
static const int reason_rank[] = {0, 2, 3, 1, 5, 0, 4, 0};
static const char *const bound_words[] = {"all", "from", "before", "after", "through", NULL};

struct fcond {
    int metric, op, mode;
    int64_t value;
};

/* A date and the part of it that bounds the range: all of it, or only its start
 * («с 1 ноября»), everything before it («до 1 ноября») or after it («после 20 ноября»). */
enum { BOUND_ALL, BOUND_FROM, BOUND_BEFORE, BOUND_AFTER, BOUND_THROUGH };

struct fdate {
    const struct tok *t;
    int role, bound;
};

#define MAX_DATES 4
#define MAX_CONDS SPEC_MAX_CONDS

/* Everything the fragments of one question said, before it becomes a spec. `why`
 * receives the first conflict. */
struct frame {
    int agg, what, what_weak, metric, growth_metric, distinct, mode, role_hint, reason;
    int measured;  /* the videos counted are those measured (in a time range) */
    int video_said; /* videos were named, whether or not they are what is counted */
    int snapshot_said; /* so were measurements («видео … в замерах») */
    int per_video;  /* «у одного видео»: only an average or an extreme can follow */
    int as_of;      /* «на сегодня», «к 20 ноября»: a state at a date, which no table holds */
    int second;     /* «… и видео», «… и лайков»: a second thing asked */
    int per_day;    /* «в день»: a rate per day, which no spec holds */
    int all_videos; /* «все видео» (of a creator): for creators, "every video", not "one" */
    int times;      /* «сколько раз»: events, that is measurements */
    int db_date;    /* «в базе 28 ноября»: as of that date, unless published or grown then */
    int questions; /* question words: two mean two questions in one message */
    struct tok merged; /* a date moved into the year said apart from it (merge_year) */
    int ncreators;
    char creators[SPEC_MAX_IDS][SPEC_ID_MAX];
    char prefix[SPEC_ID_MAX];
    int nvideos;
    char videos[SPEC_MAX_IDS][SPEC_ID_MAX];
    int ndates;
    struct fdate dates[MAX_DATES];
    const struct tok *window;
    int nconds, nhas;
    struct fcond conds[MAX_CONDS];
    struct fcond has[MAX_CONDS];
    int64_t after_pub_us;
    struct buf *why;
};

/* A value of a fact: its text (a literal, or what follows ':' in the captured tag word)
 * and, for captured values, the token behind it. */
struct val {
    const char *s;
    size_t len;
    const struct tok *tok;
};

static int get_val(const nlu *n, const struct gram_fact *f, const char *key, struct val *v)
{
    for (int i = 0; i < f->nkv; i++) {
        if (strcmp(f->kv[i].key, key))
            continue;
        if (f->kv[i].lit) {
            v->s = f->kv[i].lit;
            v->len = strlen(v->s);
            v->tok = NULL;
            return 1;
        }
        if (f->kv[i].tag < 0)
            return 0;
        size_t t = (size_t)f->kv[i].tag;
        const char *w = n->tags.p + n->starts[t];
        size_t wl = strcspn(w, " ");
        const char *colon = memchr(w, ':', wl);
        v->s = colon ? colon + 1 : w;
        v->len = wl - (size_t)(v->s - w);
        v->tok = &n->doc.toks[n->items[n->item_of[t]].first];
        return 1;
    }
    return 0;
}

static int word_index(const char *const *words, const struct val *v)
{
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == v->len && !memcmp(words[i], v->s, v->len))
            return i;
    return -1;
}

static int conflict(struct frame *fr, const char *what)
{
    if (!fr->why->len)
        buf_addf(fr->why, "nlu: %s", what);
    return -1;
}

/* An enumerated key of a fact, required. */
static int enum_val(const nlu *n, struct frame *fr, const struct gram_fact *f, const char *key,
                    const char *const *words, int *out)
{
    struct val v;
    if (!get_val(n, f, key, &v) || (*out = word_index(words, &v)) < 0) {
        char msg[120];
        snprintf(msg, sizeof msg, "fact %s has no valid %s", f->kind, key);
        return conflict(fr, msg);
    }
    return 0;
}

/* Sets an enumerated slot once; a second, different value is a conflict. */
static int set_once(struct frame *fr, int *slot, int value, const char *name)
{
    if (*slot && *slot != value) {
        char msg[80];
        snprintf(msg, sizeof msg, "two different %s", name);
        return conflict(fr, msg);
    }
    *slot = value;
    return 0;
}

/* A weak subject ("публиковал видео") yields to a strong one ("в скольких днях"). */
static int set_subject(const nlu *n, struct frame *fr, const struct gram_fact *f, int what)
{
    struct val v;
    int weak = get_val(n, f, "weak", &v) && v.len == 1 && v.s[0] == '1';
    if (what == WHAT_VIDEO)
        fr->video_said = 1;
    if (what == WHAT_SNAPSHOT && weak)
        fr->snapshot_said = 1;
    if (fr->what && fr->what_weak && !weak) {
        fr->what = what;
        fr->what_weak = 0;
        return 0;
    }
    if (fr->what && weak && !fr->what_weak)
        return 0;
    if (!fr->what)
        fr->what_weak = weak;
    return set_once(fr, &fr->what, what, "subjects");
}

static int set_agg(struct frame *fr, int agg)
{
    /* "сколько" asks a count or a sum; any other word ("суммарно", "в среднем") says
     * which, and wins. */
    if (fr->agg == AGG_HOWMANY && agg != AGG_NONE) {
        fr->agg = agg;
        return 0;
    }
    if (agg == AGG_HOWMANY && fr->agg != AGG_NONE)
        return 0;
    return set_once(fr, &fr->agg, agg, "aggregations");
}

/* A whole number: a literal of the rule, or a number token. */
static int num_val(const struct val *v, int64_t *out)
{
    char buf[32], *end;
    if ((v->tok && v->tok->kind != TOK_NUM) || v->len == 0 || v->len >= sizeof buf)
        return -1;
    memcpy(buf, v->s, v->len);
    buf[v->len] = '\0';
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

/* Field by field: memcmp would also compare the padding after mode, which no
 * initializer or assignment sets. */
static int fcond_eq(const struct fcond *a, const struct fcond *b)
{
    return a->metric == b->metric && a->op == b->op && a->mode == b->mode && a->value == b->value;
}

static int add_cond(const nlu *n, struct frame *fr, const struct gram_fact *f, int is_has)
{
    struct fcond c = {0, SPEC_OP_GT, MODE_AUTO, 0};
    struct val v;
    if (enum_val(n, fr, f, "m", metric_words, &c.metric))
        return -1;
    if (get_val(n, f, "mode", &v) && (c.mode = word_index(mode_words, &v)) <= 0)
        return conflict(fr, "bad condition mode");
    if (!is_has) {
        if (enum_val(n, fr, f, "op", op_words, &c.op))
            return -1;
        if (!get_val(n, f, "v", &v) || num_val(&v, &c.value))
            return conflict(fr, "a condition without a whole number");
    }
    struct fcond *list = is_has ? fr->has : fr->conds;
    int *count = is_has ? &fr->nhas : &fr->nconds;
    for (int i = 0; i < *count; i++)
        if (fcond_eq(&list[i], &c))
            return 0; /* said twice, meant once ("... то есть ... стало меньше") */
    if (*count == MAX_CONDS)
        return conflict(fr, "too many conditions");
    list[(*count)++] = c;
    return 0;
}

/* The id, prefix or placeholder given for a creator or a video. */
static int add_id(const nlu *n, struct frame *fr, const struct gram_fact *f, int video)
{
    struct val v;
    char (*list)[SPEC_ID_MAX] = video ? fr->videos : fr->creators;
    int *count = video ? &fr->nvideos : &fr->ncreators;
    if (get_val(n, f, "prefix", &v) && v.tok && v.tok->kind == TOK_ID) {
        if (video || fr->prefix[0])
            return conflict(fr, "a shortened id where it cannot be used");
        snprintf(fr->prefix, sizeof fr->prefix, "%s", v.tok->id);
        return 0;
    }
    if (*count == SPEC_MAX_IDS)
        return conflict(fr, "too many ids");
    if (get_val(n, f, "id", &v) && v.tok && v.tok->kind == TOK_ID) {
        snprintf(list[(*count)++], SPEC_ID_MAX, "%s", video ? v.tok->uuid : v.tok->id);
        return 0;
    }
    /* A placeholder such as "123" or "abc": its surface text; no row has it. */
    if (get_val(n, f, "placeholder", &v) && v.tok && v.tok->len < SPEC_ID_MAX) {
        snprintf(list[(*count)++], SPEC_ID_MAX, "%.*s", (int)v.tok->len, v.tok->s);
        return 0;
    }
    return 0; /* an optional id of a list rule that was not there */
}

static int add_date(const nlu *n, struct frame *fr, const struct gram_fact *f)
{
    struct val v;
    int role = ROLE_ANY;
    for (int i = 0; i < f->nkv; i++)
        if (!strcmp(f->kv[i].key, "d") && !f->kv[i].lit && f->kv[i].tag < 0)
            return 0; /* the other branch of a rule with two places for its date */
    if (!get_val(n, f, "d", &v) || !v.tok || v.tok->kind != TOK_DATE)
        return conflict(fr, "a date fact without a date");
    const struct tok *t = v.tok;
    if (t->flags & TOK_F_BAD_DATE)
        return conflict(fr, "a date that does not exist");
    if (get_val(n, f, "role", &v) && (role = word_index(role_words, &v)) < 0)
        return conflict(fr, "bad date role");
    int bound = BOUND_ALL;
    if (get_val(n, f, "bound", &v) && (bound = word_index(bound_words, &v)) < 0)
        return conflict(fr, "bad date bound");
    if (fr->ndates == MAX_DATES)
        return conflict(fr, "too many dates");
    fr->dates[fr->ndates++] = (struct fdate){t, role, bound};
    return 0;
}

static int add_window(const nlu *n, struct frame *fr, const struct gram_fact *f)
{
    struct val v;
    if (!get_val(n, f, "tw", &v) || !v.tok || v.tok->kind != TOK_TIMEWIN)
        return conflict(fr, "a window fact without a time window");
    if (v.tok->flags & TOK_F_BAD_DATE)
        return conflict(fr, "a time window that does not exist");
    if (fr->window)
        return conflict(fr, "two time windows");
    fr->window = v.tok;
    return 0;
}

static int add_after_pub(const nlu *n, struct frame *fr, const struct gram_fact *f)
{
    struct val v;
    int64_t hours, days;
    if (get_val(n, f, "days", &v))
        hours = num_val(&v, &days) || days <= 0 || days > 366 ? -1 : days * 24;
    else if (!get_val(n, f, "hours", &v) || num_val(&v, &hours))
        hours = -1;
    if (hours <= 0 || hours > 24 * 366)
        return conflict(fr, "a window after publication without a sane number of hours");
    int64_t us = hours * 3600 * UTC_US_PER_SEC;
    if (fr->after_pub_us && fr->after_pub_us != us)
        return conflict(fr, "two windows after publication");
    fr->after_pub_us = us;
    return 0;
}

static int apply_fact(const nlu *n, struct frame *fr, const struct gram_fact *f)
{
    int x;
    const char *k = f->kind;
    if (!strcmp(k, "ask"))
        return enum_val(n, fr, f, "agg", agg_words, &x) || set_agg(fr, x);
    if (!strcmp(k, "subject"))
        return enum_val(n, fr, f, "what", what_words, &x) || set_subject(n, fr, f, x);
    if (!strcmp(k, "metric"))
        return enum_val(n, fr, f, "m", metric_words, &x) || set_once(fr, &fr->metric, x + 1, "metrics");
    if (!strcmp(k, "growth"))
        return enum_val(n, fr, f, "m", metric_words, &x) ||
               set_once(fr, &fr->growth_metric, x + 1, "growing metrics");
    if (!strcmp(k, "mode"))
        return enum_val(n, fr, f, "v", mode_words, &x) || set_once(fr, &fr->mode, x, "modes");
    if (!strcmp(k, "role"))
        return enum_val(n, fr, f, "v", role_words, &x) || set_once(fr, &fr->role_hint, x, "date roles");
    if (!strcmp(k, "unsupported")) {
        if (enum_val(n, fr, f, "reason", reason_words, &x))
            return -1;
        if (reason_rank[x] > reason_rank[fr->reason])
            fr->reason = x;
        return 0;
    }
    if (!strcmp(k, "measured"))
        return fr->measured = 1, 0;
    if (!strcmp(k, "per_video"))
        return fr->per_video = 1, 0;
    if (!strcmp(k, "as_of"))
        return fr->as_of = 1, 0;
    if (!strcmp(k, "second"))
        return fr->second = 1, 0;
    if (!strcmp(k, "per_day"))
        return fr->per_day = 1, 0;
    if (!strcmp(k, "times"))
        return fr->times = 1, 0;
    if (!strcmp(k, "db_date"))
        return fr->db_date = 1, 0;
    if (!strcmp(k, "all_videos"))
        return fr->all_videos = 1, 0;
    if (!strcmp(k, "question"))
        return ++fr->questions > 1 ? conflict(fr, "two questions in one message") : 0;
    if (!strcmp(k, "distinct"))
        return fr->distinct = 1, 0;
    if (!strcmp(k, "cond"))
        return add_cond(n, fr, f, 0);
    if (!strcmp(k, "has"))
        return add_cond(n, fr, f, 1);
    if (!strcmp(k, "creator"))
        return add_id(n, fr, f, 0);
    if (!strcmp(k, "video"))
        return add_id(n, fr, f, 1);
    if (!strcmp(k, "date"))
        return add_date(n, fr, f);
    if (!strcmp(k, "window"))
        return add_window(n, fr, f);
    if (!strcmp(k, "after_pub"))
        return add_after_pub(n, fr, f);
    if (!strcmp(k, "noop"))
        return 0;
    return conflict(fr, "a fact of an unknown kind");
}

/* ==== From the frame to a spec ==== */

/* A condition on growth itself, or a "has" of growth: what a count of growing videos or
 * of snapshots with growth needs, else "сколько видео выросли" counts every video. */
static int growth_condition(const struct frame *fr)
{
    for (int i = 0; i < fr->nconds; i++)
        if (fr->conds[i].mode == MODE_GROWTH || fr->conds[i].mode == MODE_GET)
            return 1;
    return fr->nhas > 0;
}

/* A condition on final totals other than "has any": for a creator, «набрали больше
 * 100 000 просмотров» is about the sum of their videos, not about one of them. */
static int threshold_on_totals(const struct frame *fr)
{
    for (int i = 0; i < fr->nconds; i++) {
        const struct fcond *c = &fr->conds[i];
        if (c->mode != MODE_GROWTH &&
            !((c->op == SPEC_OP_GT && c->value == 0) || (c->op == SPEC_OP_GE && c->value == 1)))
            return 1;
    }
    return 0;
}

/* A date that may be of measurement (not tied to publication). */
static int measured_day_said(const struct frame *fr)
{
    for (int k = 0; k < fr->ndates; k++)
        if (fr->dates[k].role != ROLE_PUB && fr->role_hint != ROLE_PUB)
            return 1;
    return 0;
}

static int growth_asked(const struct frame *fr)
{
    if (fr->mode == MODE_GROWTH || fr->after_pub_us)
        return 1;
    for (int i = 0; i < fr->nconds; i++)
        if (fr->conds[i].mode == MODE_GROWTH)
            return 1;
    for (int i = 0; i < fr->nconds; i++)
        if (fr->conds[i].mode == MODE_GET && measured_day_said(fr))
            return 1;
    /* «сколько раз видео получали жалобы»: each time is a measurement with new ones */
    if (fr->times && fr->nhas)
        return 1;
    for (int i = 0; i < fr->nhas; i++) {
        if (fr->has[i].mode == MODE_GROWTH)
            return 1;
        /* "получали просмотры 27 ноября": getting views on a day is growth on that day */
        for (int k = 0; k < fr->ndates; k++)
            if (fr->dates[k].role != ROLE_PUB && fr->role_hint != ROLE_PUB)
                return 1;
    }
    return 0;
}

/* Growth of a metric is what a sum adds up ("прирост лайков"), or in a count what the
 * counted videos had ("видео, у которых был прирост просмотров"). */
static int push_has(struct frame *fr, int metric)
{
    if (fr->nhas == MAX_CONDS)
        return conflict(fr, "too many conditions");
    fr->has[fr->nhas++] = (struct fcond){metric, SPEC_OP_GT, MODE_GROWTH, 0};
    return 0;
}

static int fold_growth(struct frame *fr, int agg)
{
    if (agg == AGG_COUNT) {
        if (fr->growth_metric && push_has(fr, fr->growth_metric - 1))
            return -1;
        /* "сколько видео выросли по просмотрам": the metric of the growth asked about */
        if (fr->metric && fr->mode == MODE_GROWTH) {
            if (push_has(fr, fr->metric - 1))
                return -1;
            fr->metric = 0;
        }
        return 0;
    }
    if (!fr->growth_metric)
        return 0;
    if (fr->metric && fr->metric != fr->growth_metric)
        return conflict(fr, "two metrics");
    if (fr->mode == MODE_FINAL)
        return conflict(fr, "growth and final totals at once");
    fr->metric = fr->growth_metric;
    fr->mode = MODE_GROWTH;
    return 0;
}

static int publication_said(const struct frame *fr)
{
    if (fr->role_hint == ROLE_PUB)
        return 1;
    for (int k = 0; k < fr->ndates; k++)
        if (fr->dates[k].role == ROLE_PUB)
            return 1;
    return 0;
}

/* Table, aggregation and field from what was asked. */
static int decide_shape(struct frame *fr, struct spec *s, int *growth)
{
    int agg = fr->agg;
    /* A question without a question word names what it wants: «Всего лайков у видео?»,
     * «Прирост просмотров за вчера?». */
    if (agg == AGG_NONE && (fr->metric || fr->growth_metric))
        agg = AGG_SUM;
    if (agg == AGG_NONE)
        return conflict(fr, "no question word");
    if (fr->as_of)
        return conflict(fr, "a state as of a date: the tables hold final totals and growth only");
    if (fr->second)
        return conflict(fr, "a second thing asked after «и»");
    if (fr->per_day)
        return conflict(fr, "a rate per day");
    if (fr->times && (fr->role_hint == ROLE_PUB || publication_said(fr)))
        return conflict(fr, "«сколько раз» of publications: that is a count of videos");
    /* «Сколько видео … и лайков?»: the things counted right after «сколько», and a metric
     * besides, are two questions. */
    if (agg == AGG_HOWMANY && fr->metric && fr->what && !fr->what_weak)
        return conflict(fr, "a count of things and a metric at once");
    if (agg == AGG_HOWMANY)
        agg = fr->metric || (!fr->what && !fr->nhas && fr->growth_metric) ? AGG_SUM : AGG_COUNT;
    if (fr->per_video && agg != AGG_AVG && agg != AGG_MIN && agg != AGG_MAX)
        return conflict(fr, "«одно видео» with a total: an average or an extreme was meant?");
    if (fr->distinct && agg != AGG_COUNT)
        return conflict(fr, "distinct values of a sum");
    if (fold_growth(fr, agg))
        return -1;
    *growth = growth_asked(fr);
    if (fr->db_date && !*growth && !publication_said(fr))
        return conflict(fr, "what was in the database on a date: the tables hold no history");
    if (agg == AGG_COUNT) {
        int what = fr->what ? fr->what : (fr->nhas ? WHAT_VIDEO : WHAT_NONE);
        if (fr->metric)
            return conflict(fr, "a count with a metric left over");
        if (*growth && !fr->after_pub_us && !growth_condition(fr))
            return conflict(fr, "growth of what? No metric grew");
        /* «Сколько креаторов набрали больше 100 000 просмотров» means their totals; only
         * «креаторы, у которых есть видео с …» is a condition on videos. */
        if (what == WHAT_CREATOR && !fr->video_said && threshold_on_totals(fr))
            return conflict(fr, "a condition on creators' totals, not on their videos");
        if (what == WHAT_CREATOR && fr->all_videos && (fr->nconds || fr->nhas))
            return conflict(fr, "a condition on all of a creator's videos");
        if (what == WHAT_CREATOR && fr->measured)
            *growth = 1; /* creators of measured videos: read from the snapshots */
        if (what == WHAT_DAY && strcmp(utc_zone(), "UTC"))
            return conflict(fr, "publication days are UTC days; with another VABOT_TZ they would differ");
        if (what == WHAT_VIDEO && fr->snapshot_said)
            fr->measured = 1; /* «сколько видео есть в замерах» */
        s->agg = SPEC_AGG_COUNT;
        switch (what) {
        case WHAT_VIDEO:
            s->table = *growth || fr->measured ? SPEC_TABLE_SNAPSHOTS : SPEC_TABLE_VIDEOS;
            if (s->table == SPEC_TABLE_SNAPSHOTS) {
                s->agg = SPEC_AGG_COUNT_DISTINCT;
                s->field = SPEC_FIELD_VIDEO_ID;
            }
            return 0;
        case WHAT_SNAPSHOT:
            s->table = SPEC_TABLE_SNAPSHOTS;
            return 0;
        case WHAT_CREATOR:
            s->table = *growth ? SPEC_TABLE_SNAPSHOTS : SPEC_TABLE_VIDEOS;
            s->agg = SPEC_AGG_COUNT_DISTINCT;
            s->field = SPEC_FIELD_CREATOR_ID;
            return 0;
        case WHAT_DAY:
            /* days of what? Only publication days are known */
            if (*growth || !publication_said(fr))
                return conflict(fr, "days of something other than publication");
            s->table = SPEC_TABLE_VIDEOS;
            s->agg = SPEC_AGG_COUNT_DISTINCT;
            s->field = SPEC_FIELD_PUBLICATION_DAY;
            return 0;
        default:
            return conflict(fr, "a count of nothing");
        }
    }
    /* «На сколько выросли видео по просмотрам»: the videos' metric is the one summed */
    if (!fr->metric && fr->nhas == 1 && fr->has[0].mode == MODE_AUTO) {
        fr->metric = fr->has[0].metric + 1;
        fr->nhas = 0;
    }
    if (!fr->metric)
        return conflict(fr, "a sum of nothing");
    if (fr->what == WHAT_CREATOR || fr->what == WHAT_DAY || fr->nhas)
        return conflict(fr, "a sum over creators or days");
    if (!*growth && fr->mode != MODE_FINAL) {
        /* No word says final or growth: a date decides, when its role is clear. */
        for (int k = 0; k < fr->ndates; k++) {
            int role = fr->dates[k].role != ROLE_ANY ? fr->dates[k].role : fr->role_hint;
            if (role == ROLE_MEAS)
                *growth = 1;
            else if (role != ROLE_PUB)
                return conflict(fr, "a sum with a date that may be publication or growth");
        }
    }
    if (*growth && agg != AGG_SUM)
        return conflict(fr, "an average or extreme of growth is ambiguous");
    static const enum spec_agg aggs[] = {[AGG_SUM] = SPEC_AGG_SUM, [AGG_AVG] = SPEC_AGG_AVG,
                                         [AGG_MIN] = SPEC_AGG_MIN, [AGG_MAX] = SPEC_AGG_MAX};
    s->agg = aggs[agg];
    s->table = *growth ? SPEC_TABLE_SNAPSHOTS : SPEC_TABLE_VIDEOS;
    s->field = (enum spec_field)((*growth ? SPEC_FIELD_DELTA_VIEWS : SPEC_FIELD_VIEWS) + fr->metric - 1);
    return 0;
}

/* Puts a date into a range, whole or as one bound of it. */
static int put_range(struct frame *fr, struct spec_range *r, const struct fdate *d)
{
    if (r->has_from || r->has_to)
        return conflict(fr, "two dates for the same time");
    switch (d->bound) {
    case BOUND_FROM:
        *r = (struct spec_range){1, 0, d->t->from, 0};
        break;
    case BOUND_AFTER:
        *r = (struct spec_range){1, 0, d->t->to, 0};
        break;
    case BOUND_BEFORE:
        *r = (struct spec_range){0, 1, 0, d->t->from};
        break;
    case BOUND_THROUGH:
        *r = (struct spec_range){0, 1, 0, d->t->to};
        break;
    default:
        *r = (struct spec_range){1, 1, d->t->from, d->t->to};
    }
    return 0;
}

/* «в ноябре прошлого года»: a day or month said without a year, and a year said apart,
 * make one date: the day or month moves into that year. */
static void merge_year(struct frame *fr)
{
    struct fdate *part = NULL, *year = NULL;
    if (fr->ndates != 2)
        return;
    for (int k = 0; k < 2; k++) {
        struct fdate *d = &fr->dates[k];
        if (d->t->grain == TOK_GRAIN_YEAR)
            year = d;
        else if ((d->t->flags & TOK_F_NO_YEAR) && d->bound == BOUND_ALL &&
                 (d->t->grain == TOK_GRAIN_MONTH || d->t->grain == TOK_GRAIN_DAY))
            part = d;
    }
    /* Only a year said right after the day or month: «в ноябре прошлого года»; in «28
     * ноября у видео, опубликованных в 2024 году» the two are dates of two things. */
    if (!part || !year || year->bound != BOUND_ALL || year->t != part->t + 1 ||
        (part->role != ROLE_ANY && year->role != ROLE_ANY && part->role != year->role))
        return;
    struct utc_civil y, a, b;
    utc_to_local(year->t->from, &y);
    utc_to_local(part->t->from, &a);
    utc_to_local(part->t->to, &b);
    int shift = y.year - a.year;
    a.year += shift;
    b.year += shift;
    struct tok *t = &fr->merged;
    *t = *part->t;
    if (utc_from_local(&a, &t->from) || utc_from_local(&b, &t->to))
        return; /* 29 February of a year without one: leave both, the conflict declines */
    struct fdate one = *part;
    one.t = t;
    if (one.role == ROLE_ANY)
        one.role = year->role;
    fr->dates[0] = one;
    fr->ndates = 1;
}

static int decide_dates(struct frame *fr, struct spec *s, int growth)
{
    merge_year(fr);
    int snaps = s->table == SPEC_TABLE_SNAPSHOTS;
    const struct fdate *day = NULL;
    struct spec_range *day_range = NULL;
    for (int k = 0; k < fr->ndates; k++) {
        const struct fdate *d = &fr->dates[k];
        int role = d->role;
        /* «у видео, которые опубликовал креатор X»: a publication word that says nothing
         * of a date does not make a growth question's date a publication date */
        if (role == ROLE_ANY && !snaps)
            role = fr->role_hint;
        if (role == ROLE_ANY && fr->after_pub_us)
            return conflict(fr, "a date beside «после публикации»: of publication or of growth?");
        if (role == ROLE_ANY)
            role = snaps && (growth || s->agg == SPEC_AGG_COUNT || fr->measured) ? ROLE_MEAS : ROLE_PUB;
        if (role == ROLE_MEAS && !snaps)
            return conflict(fr, "a measurement time in a question about final totals");
        struct spec_range *r = role == ROLE_PUB ? &s->published : &s->measured;
        if (put_range(fr, r, d))
            return -1;
        if (d->t->grain == TOK_GRAIN_DAY && d->bound == BOUND_ALL) {
            day = d;
            day_range = r;
        }
    }
    if (fr->window) {
        /* A time of day narrows the one whole day it is said with. */
        int64_t from, to;
        if (!day || fr->ndates != 1)
            return conflict(fr, "a time of day without the one day it belongs to");
        if (dates_window_on_day(day->t, fr->window, &from, &to))
            return conflict(fr, "a time window that does not fit the day");
        day_range->from = from;
        day_range->to = to;
    }
    return 0;
}

static int decide_conds(struct frame *fr, struct spec *s, int growth)
{
    int snaps = s->table == SPEC_TABLE_SNAPSHOTS;
    for (int i = 0; i < fr->nconds + fr->nhas; i++) {
        struct fcond c = i < fr->nconds ? fr->conds[i] : fr->has[i - fr->nconds];
        /* An auto condition is on growth when it is a "has" of a growth question, or a
         * condition of a snapshot count whose question speaks of growth. */
        int delta = c.mode == MODE_GROWTH || (c.mode == MODE_GET && growth) ||
                    (c.mode == MODE_AUTO && growth && (i >= fr->nconds || s->agg == SPEC_AGG_COUNT));
        if (delta && fr->mode == MODE_FINAL)
            return conflict(fr, "growth and final totals at once");
        /* No total is below zero: «просмотров меньше нуля» means a fall, said unclearly */
        if (!delta && ((c.op == SPEC_OP_LT && c.value <= 0) || (c.op == SPEC_OP_LE && c.value < 0)))
            return conflict(fr, "a total below zero");
        /* «замеры у видео с более чем 1000 просмотров»: the videos' final views, which a
         * snapshot count cannot filter on; only «замеры, где просмотров больше» can */
        if (!delta && snaps && s->agg == SPEC_AGG_COUNT && fr->video_said)
            return conflict(fr, "a condition on the videos of counted measurements");
        /* «новые просмотры видео с отрицательным приростом лайков»: a condition on another
         * metric's delta would pick snapshots, not videos */
        if (delta && s->agg == SPEC_AGG_SUM && spec_field_is_delta(s->field) &&
            s->field != (enum spec_field)(SPEC_FIELD_DELTA_VIEWS + c.metric))
            return conflict(fr, "a sum of one metric's growth filtered by another's");
        if (delta && !snaps)
            return conflict(fr, "growth condition in a question about final totals");
        /* In "which videos grew" questions a condition on final totals would need the
         * videos table too: not expressible, so not answered. */
        if (!delta && snaps && s->agg != SPEC_AGG_COUNT)
            return conflict(fr, "a final-total condition in a question about growth");
        /* Videos (or creators) counted by their growth: a delta is one hour's, so only
         * "grew at all" (> 0, >= 1) or "fell at all" (< 0, <= -1) means the same over a
         * day; «больше 100 новых просмотров за день» would need the day's sum per video. */
        if (delta && s->agg == SPEC_AGG_COUNT_DISTINCT && i < fr->nconds &&
            !((c.op == SPEC_OP_GT && c.value == 0) || (c.op == SPEC_OP_GE && c.value == 1) ||
              (c.op == SPEC_OP_LT && c.value == 0) || (c.op == SPEC_OP_LE && c.value == -1)))
            return conflict(fr, "a threshold on the growth of each video over a period");
        if (s->n_conds == SPEC_MAX_CONDS)
            return conflict(fr, "too many conditions");
        struct spec_cond *sc = &s->conds[s->n_conds++];
        sc->field = (enum spec_field)((delta ? SPEC_FIELD_DELTA_VIEWS : SPEC_FIELD_VIEWS) + c.metric);
        sc->op = (enum spec_op)c.op;
        sc->value = c.value;
    }
    return 0;
}

static int frame_to_spec(struct frame *fr, struct spec *s)
{
    int growth;
    spec_init(s);
    if (fr->reason) {
        spec_unsupported(s, (enum spec_reason)fr->reason);
        return 0;
    }
    if (decide_shape(fr, s, &growth) || decide_dates(fr, s, growth) || decide_conds(fr, s, growth))
        return -1;
    s->n_creators = fr->ncreators;
    memcpy(s->creator_ids, fr->creators, sizeof s->creator_ids);
    memcpy(s->creator_prefix, fr->prefix, sizeof s->creator_prefix);
    s->n_videos = fr->nvideos;
    memcpy(s->video_ids, fr->videos, sizeof s->video_ids);
    if (fr->after_pub_us && s->table != SPEC_TABLE_SNAPSHOTS)
        return conflict(fr, "hours after publication in a question about final totals");
    s->after_pub_us = fr->after_pub_us;
    return 0;
}

/* ==== The pipeline ==== */

/* Builds the tag line of the content items; fillers are dropped. */
static int build_tags(nlu *n, int nitems, struct nlu_result *r)
{
    size_t nt = 0;
    buf_reset(&n->tags);
    for (int i = 0; i < nitems; i++) {
        if (n->items[i].filler)
            continue;
        if (nt == GRAM_MAX_TAGS) {
            buf_adds(&r->why, "nlu: the question is too long");
            return -1;
        }
        if (nt)
            buf_addc(&n->tags, ' ');
        n->starts[nt] = n->tags.len;
        n->item_of[nt++] = (size_t)i;
        buf_adds(&n->tags, n->items[i].tag);
    }
    return (int)nt;
}

static void item_text(const nlu *n, size_t item, struct buf *out)
{
    const struct lex_item *it = &n->items[item];
    const struct tok *a = &n->doc.toks[it->first], *b = &n->doc.toks[it->first + it->count - 1];
    buf_add(out, n->doc.norm + a->start, b->end - a->start);
}

/* A value as a person wants to see it: the id itself, the dates of a range. */
static void explain_value(const struct val *v, struct buf *out)
{
    char a[UTC_FMT_MAX], b[UTC_FMT_MAX];
    const struct tok *t = v->tok;
    if (t && t->kind == TOK_ID) {
        buf_adds(out, t->id);
    } else if (t && t->kind == TOK_DATE) {
        utc_format(t->from, a, sizeof a);
        utc_format(t->to, b, sizeof b);
        buf_addf(out, "[%s,%s)", a, b);
    } else if (t && t->kind == TOK_TIMEWIN) {
        buf_addf(out, "[%02d:%02d,%02d:%02d)", (int)(t->from / 3600), (int)(t->from / 60 % 60),
                 (int)(t->to / 3600), (int)(t->to / 60 % 60));
    } else {
        buf_add(out, v->s, v->len);
    }
}

static void explain_frags(const nlu *n, int nf, struct buf *out)
{
    for (int i = 0; i < nf; i++) {
        const struct gram_frag *f = &n->frags[i];
        buf_addf(out, "rule %s: \"", grammar_rule_name(n->g, f->rule));
        for (size_t k = 0; k < f->count; k++) {
            if (k)
                buf_addc(out, ' ');
            item_text(n, n->item_of[f->first + k], out);
        }
        buf_addc(out, '"');
        for (int k = 0; k < f->nfacts; k++) {
            const struct gram_fact *fa = &f->facts[k];
            buf_addf(out, "%s %s", k ? ";" : " ->", fa->kind);
            for (int j = 0; j < fa->nkv; j++) {
                struct val v;
                if (!get_val(n, fa, fa->kv[j].key, &v))
                    continue;
                buf_addf(out, " %s=", fa->kv[j].key);
                explain_value(&v, out);
            }
        }
        buf_addc(out, '\n');
    }
}

/* The unknown words, to tell the user what was not understood: at most five, each cut
 * to about 40 bytes, so a huge message does not make a huge reply. */
static void collect_unknown(const nlu *n, size_t ntags, struct nlu_result *r)
{
    struct buf w = BUF_INIT;
    int listed = 0;
    for (size_t t = 0; t < ntags && listed < 5; t++) {
        if (strncmp(n->tags.p + n->starts[t], "w:", 2))
            continue;
        buf_reset(&w);
        item_text(n, n->item_of[t], &w);
        size_t len = w.len;
        if (len > 40) {
            len = 40;
            while (len && (w.p[len] & 0xc0) == 0x80)
                len--;
        }
        buf_adds(&r->unknown, listed++ ? ", " : "");
        buf_add(&r->unknown, w.p, len);
        if (len < w.len)
            buf_adds(&r->unknown, "…");
    }
    buf_release(&w);
}

/* When no reading holds together, a word that no number can answer («удали», «топ»,
 * «когда», «репостов») still decides: the user gets why instead of "not understood".
 * Only a fallback («у самого популярного видео» inside a question is a maximum), and
 * only when every word is known: «DROP TABLE videos» is not a request we understood. */
static int reason_from_tags(const nlu *n, int ntags)
{
    for (int t = 0; t < ntags; t++)
        if (!strncmp(n->tags.p + n->starts[t], "w:", 2))
            return 0;
    static const struct {
        const char *tag;
        int reason;
    } map[] = {{"unsup:list", 1}, {"unsup:rank", 2}, {"unsup:when", 3}, {"unsup:who", 3},
               {"unsup:write", 4}, {"unsup:metric", 6}};
    int best = 0;
    for (int t = 0; t < ntags; t++) {
        const char *w = n->tags.p + n->starts[t];
        size_t wl = strcspn(w, " ");
        for (size_t k = 0; k < sizeof map / sizeof *map; k++)
            if (strlen(map[k].tag) == wl && !memcmp(w, map[k].tag, wl) &&
                reason_rank[map[k].reason] > reason_rank[best])
                best = map[k].reason;
    }
    return best;
}

static int cover_and_resolve(nlu *n, int ntags, struct nlu_result *r)
{
    size_t stuck;
    int nf = grammar_cover(n->g, buf_str(&n->tags), n->starts, (size_t)ntags, n->frags, &stuck);
    collect_unknown(n, (size_t)ntags, r);
    int fallback = reason_from_tags(n, ntags);
    if (nf < 0 && fallback) {
        spec_unsupported(&r->spec, (enum spec_reason)fallback);
        return NLU_OK;
    }
    if (nf < 0) {
        buf_adds(&r->why, "nlu: no reading covers every word");
        if (stuck < (size_t)ntags) {
            buf_adds(&r->why, " (stuck at \"");
            item_text(n, n->item_of[stuck], &r->why);
            buf_adds(&r->why, "\")");
        }
        return NLU_DECLINED;
    }
    explain_frags(n, nf, &r->explain);
    struct frame *fr = xcalloc(1, sizeof *fr);
    fr->why = &r->why;
    int rc = NLU_OK;
    for (int i = 0; i < nf && rc == NLU_OK; i++)
        for (int k = 0; k < n->frags[i].nfacts && rc == NLU_OK; k++)
            if (apply_fact(n, fr, &n->frags[i].facts[k]))
                rc = NLU_DECLINED;
    if (rc == NLU_OK && frame_to_spec(fr, &r->spec))
        rc = NLU_DECLINED;
    if (rc != NLU_OK && (fallback || fr->reason)) {
        spec_unsupported(&r->spec, (enum spec_reason)(fr->reason ? fr->reason : fallback));
        rc = NLU_OK;
    }
    free(fr);
    return rc;
}

int nlu_parse(nlu *n, const char *text, size_t len, int64_t now, struct nlu_result *r)
{
    struct buf err = BUF_INIT;
    buf_reset(&r->explain);
    buf_reset(&r->why);
    buf_reset(&r->unknown);
    buf_reset(&r->norm);
    spec_init(&r->spec);
    if (text_analyze(&n->doc, text, len, now) != TEXT_OK) {
        buf_adds(&r->why, text_errmsg(&n->doc));
        return NLU_BAD_TEXT;
    }
    buf_add(&r->norm, n->doc.norm, n->doc.norm_len);
    buf_adds(&r->explain, "tokens: ");
    text_dump(&n->doc, &r->explain);
    int nitems = lexicon_tag(n->lx, &n->doc, n->items, NLU_MAX_ITEMS);
    if (nitems < 0) {
        buf_adds(&r->why, "nlu: the question is too long");
        return NLU_DECLINED;
    }
    int ntags = build_tags(n, nitems, r);
    if (ntags < 0)
        return NLU_DECLINED;
    buf_addf(&r->explain, "\ntags: %s\n", buf_str(&n->tags));
    if (ntags == 0) {
        buf_adds(&r->why, "nlu: no content words");
        return NLU_DECLINED;
    }
    int rc = cover_and_resolve(n, ntags, r);
    if (rc == NLU_OK && validate_spec(&r->spec, &err)) {
        buf_addf(&r->why, "nlu: the reading fails validation: %s", buf_str(&err));
        rc = NLU_DECLINED;
    }
    if (rc == NLU_OK) {
        buf_adds(&r->explain, "spec: ");
        spec_print(&r->spec, SPEC_JSON_CANON, &r->explain);
        buf_addc(&r->explain, '\n');
    } else {
        buf_addf(&r->explain, "declined: %s\n", buf_str(&r->why));
    }
    buf_release(&err);
    return rc;
}

/* ==== Rule self-tests ==== */

int nlu_selftest(nlu *n, struct buf *report)
{
    int failures = 0, rule;
    const char *text;
    struct nlu_result r;
    nlu_result_init(&r);
    for (int i = 0; (text = grammar_test_text(n->g, i, &rule)); i++) {
        int ok = text_analyze(&n->doc, text, strlen(text), 0) == TEXT_OK;
        int nitems = ok ? lexicon_tag(n->lx, &n->doc, n->items, NLU_MAX_ITEMS) : -1;
        int ntags = nitems >= 0 ? build_tags(n, nitems, &r) : -1;
        if (ntags <= 0 || !grammar_matches_whole(n->g, rule, buf_str(&n->tags), n->tags.len)) {
            buf_addf(report, "rule %s: test \"%s\" (tags: %s) is not matched whole\n",
                     grammar_rule_name(n->g, rule), text, buf_str(&n->tags));
            failures++;
        }
    }
    nlu_result_release(&r);
    return failures;
}
