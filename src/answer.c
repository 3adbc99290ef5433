#include "answer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "cfg.h"
#include "db.h"
#include "llm.h"
#include "nlu.h"
#include "qlog.h"
#include "sqlgen.h"
#include "text.h"
#include "utc.h"
#include "validate.h"
#include "xalloc.h"

/* One answering context. The reader runs the generated queries; the owner connection
 * (optional: answering goes on without it) serves the LLM cache and the query log;
 * llm is NULL with --no-llm. `why` holds, for the question being answered, the technical
 * reason of a failure: the query log is read by us, the reply by the user. Everything is
 * owned and freed by answer_free(), except `cache`: the process's one LLM cache, borrowed
 * (NULL without an LLM). */
struct answerer {
    nlu *nlu;
    db *reader; /* NULL in dry-run mode */
    db *owner;  /* NULL in dry-run mode or when it could not connect */
    llm_client *llm;
    cache *cache;
    struct answer_opts o;
    struct nlu_result nr;
    struct buf why;
};

/* ==== What users read ==== */

/* The apologies for a failed backend, each on its own line: the end-to-end tests read
 * them here to compare the bot's replies exactly. */
static const char db_apology[] =
    "Не получилось обратиться к базе данных. Попробуйте позже.";
static const char llm_apology[] =
    "Сейчас могу ответить только на стандартные вопросы: попробуйте спросить проще или позже.";

static const char hint[] =
    " Спросите, например: «Сколько видео набрали больше 10 000 просмотров?» или "
    "«На сколько просмотров выросли все видео 28 ноября 2025?»";

static const char *reason_text(enum spec_reason r)
{
    switch (r) {
    case SPEC_REASON_LIST:
        return "Я отвечаю одним числом, а список показать не могу.";
    case SPEC_REASON_RANKING:
        return "Рейтинги и «топы» я не составляю: отвечаю одним числом.";
    case SPEC_REASON_NON_NUMERIC:
        return "Ответом здесь было бы не число, а я отвечаю только числами.";
    case SPEC_REASON_WRITE:
        return "Я только читаю статистику и ничего в ней не меняю.";
    case SPEC_REASON_UNKNOWN_METRIC:
        return "Таких данных у меня нет: есть просмотры, лайки, комментарии и жалобы.";
    case SPEC_REASON_AMBIGUOUS:
        return "Этот вопрос можно понять по-разному: уточните, пожалуйста.";
    default:
        return "Я отвечаю только на вопросы о статистике видео.";
    }
}

static void set_reply(struct answer_result *r, enum answer_status st, const char *text)
{
    free(r->reply);
    r->status = st;
    r->reply = xstrdup(text);
}

static void not_understood(struct answer_result *r, const struct buf *unknown)
{
    struct buf b = BUF_INIT;
    if (unknown->len)
        buf_addf(&b, "Не понял вопрос: не знаю, что значит «%s».", buf_str(unknown));
    else
        buf_adds(&b, "Не понял вопрос целиком.");
    buf_adds(&b, hint);
    set_reply(r, ANSWER_NOT_UNDERSTOOD, buf_str(&b));
    buf_release(&b);
}

/* ==== Life cycle ==== */

/* The LLM cache is one per process (cache.h), so that what one bot worker learnt from
 * the model serves every worker: the first answerer with an LLM makes it, the last one
 * freed frees it. */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static cache *shared_cache;
static int shared_users;

static cache *shared_cache_take(void)
{
    pthread_mutex_lock(&shared_mu);
    if (!shared_users++)
        shared_cache = cache_new(CACHE_DEFAULT_CAPACITY);
    cache *c = shared_cache;
    pthread_mutex_unlock(&shared_mu);
    return c;
}

static void shared_cache_drop(void)
{
    pthread_mutex_lock(&shared_mu);
    if (!--shared_users) {
        cache_free(shared_cache);
        shared_cache = NULL;
    }
    pthread_mutex_unlock(&shared_mu);
}

static int open_llm(answerer *a, char *err, size_t errlen)
{
    struct llm_opts lo = {0};
    if (a->o.no_llm)
        return 0;
    llm_opts_from_cfg(&lo);
    a->llm = llm_new(&lo, err, errlen);
    if (!a->llm)
        return -1;
    if (!llm_enabled(a->llm)) {
        /* No key means grammar only, as for the bot: specs cached from an earlier run
         * with a key do not answer either. */
        llm_free(a->llm);
        a->llm = NULL;
        return 0;
    }
    a->cache = shared_cache_take();
    return 0;
}

/* The database side: the reader is required; the owner only serves the cache and the
 * log, so without it answering goes on and a warning says what is missing. */
static int open_db(answerer *a, const char *conninfo, char *err, size_t errlen)
{
    char oerr[512];
    int timeout = (int)cfg_get_long("VABOT_STATEMENT_TIMEOUT_MS", 5000, 100, 600000);
    a->reader = db_open_reader(conninfo, timeout, err, errlen);
    if (!a->reader)
        return -1;
    a->owner = db_open(conninfo, DB_OWNER_TIMEOUT_MS, oerr, sizeof oerr);
    if (!a->owner)
        fprintf(stderr, "answer: no query log or LLM cache: %s\n", oerr);
    return 0;
}

answerer *answer_new(const struct answer_opts *o, enum answer_setup *why, char *err,
                     size_t errlen)
{
    struct buf e = BUF_INIT;
    enum answer_setup st = ANSWER_SETUP_OK;
    answerer *a = xcalloc(1, sizeof *a);
    a->o = *o;
    a->o.conninfo = NULL; /* not kept: the caller owns it */
    nlu_result_init(&a->nr);
    a->nlu = nlu_new(cfg_home(), &e);
    if (!a->nlu)
        snprintf(err, errlen, "%s", buf_str(&e));
    buf_release(&e);
    if (!a->nlu || open_llm(a, err, errlen))
        st = ANSWER_SETUP_FILES;
    else if (!o->dry_run && open_db(a, o->conninfo, err, errlen))
        st = ANSWER_SETUP_DATABASE;
    if (why)
        *why = st;
    if (st != ANSWER_SETUP_OK) {
        answer_free(a);
        return NULL;
    }
    return a;
}

void answer_free(answerer *a)
{
    if (!a)
        return;
    nlu_free(a->nlu);
    llm_free(a->llm);
    if (a->cache)
        shared_cache_drop();
    db_close(a->reader);
    db_close(a->owner);
    nlu_result_release(&a->nr);
    buf_release(&a->why);
    free(a);
}

cache *answer_cache(const answerer *a)
{
    return a->cache;
}

void answer_set_llm_hook(answerer *a, void (*hook)(void *ctx), void *ctx)
{
    if (a->llm)
        llm_set_hook(a->llm, hook, ctx);
}

void answer_result_release(struct answer_result *r)
{
    free(r->reply);
    free(r->spec_json);
    free(r->sql);
    free(r->params_json);
    free(r->explain);
    memset(r, 0, sizeof *r);
}

/* ==== The pipeline ==== */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int64_t now_us(const answerer *a)
{
    struct timespec t;
    if (a->o.has_now)
        return a->o.now_us;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * UTC_US_PER_SEC + t.tv_nsec / 1000;
}

/* A shortened creator id must name exactly one creator: with two, any number would be
 * a guess. Returns 0 when it is safe to run the query. */
static int prefix_is_unique(answerer *a, const struct spec *s, struct answer_result *r)
{
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    char value[DB_VALUE_MAX];
    int rc = 0;
    if (!s->creator_prefix[0] || !a->reader)
        return 0;
    sqlgen_prefix_creators(s->creator_prefix, &q);
    if (db_query_value(a->reader, buf_str(&q.sql), q.nparams, (const char *const *)q.params,
                       value, sizeof value)) {
        fprintf(stderr, "answer: %s\n", db_errmsg(a->reader));
        buf_adds(&a->why, db_errmsg(a->reader));
        set_reply(r, ANSWER_BACKEND, db_apology);
        rc = -1;
    } else if (strcmp(value, "0") && strcmp(value, "1")) {
        set_reply(r, ANSWER_UNSUPPORTED,
                  "Этому сокращённому id подходят несколько креаторов: укажите id полностью.");
        rc = -1;
    }
    sqlgen_release(&q);
    return rc;
}

/* Runs a validated, supported spec and puts the number in r. */
static void run_spec(answerer *a, const struct spec *s, struct answer_result *r)
{
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    struct buf b = BUF_INIT, err = BUF_INIT;
    char value[DB_VALUE_MAX];
    struct timespec t0;
    spec_print(s, SPEC_JSON_PRETTY, &b);
    r->spec_json = buf_detach(&b, NULL);
    if (sqlgen_build(s, &q, &err)) {
        fprintf(stderr, "answer: %s\n", buf_str(&err));
        set_reply(r, ANSWER_NOT_UNDERSTOOD, "Не понял вопрос.");
        goto out;
    }
    r->sql = xstrdup(buf_str(&q.sql));
    sqlgen_params_json(&q, &b);
    r->params_json = buf_detach(&b, NULL);
    if (a->o.dry_run) {
        set_reply(r, ANSWER_OK, "");
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (prefix_is_unique(a, s, r) == 0) {
        if (db_query_value(a->reader, buf_str(&q.sql), q.nparams, (const char *const *)q.params,
                           value, sizeof value)) {
            fprintf(stderr, "answer: %s\n", db_errmsg(a->reader));
            buf_adds(&a->why, db_errmsg(a->reader));
            set_reply(r, ANSWER_BACKEND, db_apology);
        } else {
            set_reply(r, ANSWER_OK, value);
        }
    }
    r->ms_db = ms_since(&t0);
out:
    sqlgen_release(&q);
    buf_release(&b);
    buf_release(&err);
}

/* ==== The LLM fallback ==== */

/* The validator the model's answers must pass: the same one as the grammar's. */
static int validate_cb(void *ctx, const char *json, size_t len, struct buf *why)
{
    return validate_json(json, len, (struct spec *)ctx, why);
}

/* Asks the cache, then the model, for a spec of a question the grammar declined.
 * Returns 0 with *s set and r->source named; otherwise sets the reply. */
static int ask_llm(answerer *a, const char *text, size_t len, int64_t now, struct spec *s,
                   struct answer_result *r)
{
    struct buf json = BUF_INIT, why = BUF_INIT;
    struct timespec t0;
    int rc = -1;
    if (cache_get(a->cache, a->owner, llm_fingerprint(a->llm), text, len, now, &json) &&
        validate_json(json.p, json.len, s, &why) == 0) {
        r->source = "cache";
        buf_release(&json);
        buf_release(&why);
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    llm_status st = llm_ask(a->llm, text, len, now, validate_cb, s, &json);
    r->ms_llm = ms_since(&t0);
    if (st == LLM_OK && validate_json(json.p, json.len, s, &why) == 0) {
        r->source = "llm";
        cache_put(a->cache, a->owner, llm_fingerprint(a->llm), text, len, now, json.p,
                  json.len);
        rc = 0;
    } else if (st == LLM_OK || st == LLM_NOT_UNDERSTOOD) {
        buf_adds(&a->why, st == LLM_OK ? buf_str(&why) : llm_errmsg(a->llm));
        not_understood(r, &a->nr.unknown);
    } else {
        buf_adds(&a->why, llm_errmsg(a->llm));
        set_reply(r, ANSWER_BACKEND, llm_apology);
    }
    buf_release(&json);
    buf_release(&why);
    return rc;
}

static void log_question(answerer *a, int64_t chat_id, const char *text, size_t len,
                         const struct answer_result *r)
{
    if (!a->owner)
        return;
    int ok = r->status == ANSWER_OK;
    const char *err = a->why.len ? buf_str(&a->why) : r->reply;
    struct qlog_entry e = {chat_id, text, len, r->source, r->spec_json, r->sql,
                           ok ? r->reply : NULL, ok ? NULL : err,
                           r->ms_nlu, r->ms_llm, r->ms_db, r->ms_total};
    qlog_write(a->owner, &e);
}

int answer_question(answerer *a, int64_t chat_id, const char *text, size_t len,
                    struct answer_result *r)
{
    struct timespec t0;
    struct spec llm_spec;
    const struct spec *s = &a->nr.spec;
    int64_t now = now_us(a);
    memset(r, 0, sizeof *r);
    buf_reset(&a->why);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = nlu_parse(a->nlu, text, len, now, &a->nr);
    r->ms_nlu = ms_since(&t0);
    r->explain = xstrdup(buf_str(&a->nr.explain));
    if (rc == NLU_BAD_TEXT) {
        fprintf(stderr, "answer: %s\n", buf_str(&a->nr.why));
        buf_adds(&a->why, buf_str(&a->nr.why));
        set_reply(r, ANSWER_BAD_INPUT,
                  len > TEXT_MAX_DEFAULT ? "Сообщение слишком длинное: задайте вопрос короче."
                                         : "Не могу прочитать сообщение: текст испорчен (не UTF-8).");
        s = NULL;
    } else if (rc == NLU_OK) {
        r->source = "grammar";
    } else if (!a->llm) {
        buf_adds(&a->why, buf_str(&a->nr.why));
        not_understood(r, &a->nr.unknown);
        s = NULL;
    } else {
        s = ask_llm(a, text, len, now, &llm_spec, r) == 0 ? &llm_spec : NULL;
    }
    if (s && !s->supported) {
        buf_addf(&a->why, "unsupported: %s", spec_reason_name(s->reason));
        set_reply(r, ANSWER_UNSUPPORTED, reason_text(s->reason));
    } else if (s) {
        run_spec(a, s, r);
    }
    r->ms_total = ms_since(&t0);
    if (!a->o.dry_run)
        log_question(a, chat_id, text, len, r);
    return r->status;
}
