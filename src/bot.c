/* bot.c: the serve loop: polling, per-chat queues, worker threads, delivery. */
#include "bot.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "botmsg.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "ledger.h"
#include "tg.h"
#include "utc.h"
#include "xalloc.h"

#define CHAT_BUCKETS 1024
/* Chats are forgotten after VABOT_CHAT_IDLE_S of silence, looked for at most every
 * SWEEP_EVERY_S; beyond CHATS_MAX, every idle chat is forgotten at once. */
#define SWEEP_EVERY_S 60.0
#define CHATS_MAX 10000
#define SEND_ATTEMPTS 8
#define RETRY_AFTER_MAX_S 60
#define LOG_PREFIX_UNITS 40
/* A poll that brought nothing new in less than this was not a long poll (the test
 * fake answers at once; Telegram does while updates at the offset are still being
 * answered): wait before the next one instead of spinning, until an update is done
 * (the offset moves) or for IDLE_NAP_MS. */
#define FAST_POLL_S 0.5
#define IDLE_NAP_MS 200
/* Telegram shows a chat action for five seconds (or until the bot's next message):
 * renewed a little sooner, the indicator stays up for as long as the LLM call. */
#define TYPING_RENEW_S 4.0

/* How a delivery ended badly: Telegram refused the reply; or it could not be delivered
 * in time; or a stop came while waiting to try again (the update is then left
 * unhandled, for Telegram to deliver again after a restart). */
enum { SEND_REJECTED = -1, SEND_GAVE_UP = -2, SEND_STOPPED = -3 };

/* Raised by SIGINT/SIGTERM; read by the poller and by its curl transfer. */
static atomic_int stop_flag;

/* A received update waiting in its chat's queue: owned by the queue, then by the
 * worker that took it. limited: over the chat's rate, answer with the notice. */
struct job {
    struct job *next;
    int64_t update_id, message_id;
    struct botmsg msg;
    int limited;
};

/* One chat, created by the poller on its first update and freed when it has been idle
 * for a while (sweep_chats) or at exit. The queue fields (head, tail, busy, ready,
 * rnext) are guarded by bot.mu. The rate fields and last_seen belong to the poller
 * thread. The previous question (q... params) belongs to the worker serving the chat:
 * busy makes that one worker at a time, and bot.mu hands the chat from one worker to
 * the next. */
struct chat {
    struct chat *hnext, *rnext;
    int64_t id;
    struct job *head, *tail;
    int busy, ready;
    double tokens, refilled, last_seen;
    int warned;
    char *q, *reply, *spec, *sql, *params;
    size_t qlen;
};

/* The thread that sends "typing" to the chats whose answer waits for the LLM, with a
 * Telegram client of its own. It reaches the workers through ws (the array the bot
 * owns); their typing_on, typing_sending and typing_due, and `stop`, are guarded by mu.
 * cv wakes the typist; sent wakes a worker waiting for its indicator to be sent. */
struct typist {
    tg_client *tg;
    pthread_t thread;
    int started, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv, sent;
    struct worker *ws;
    int nws;
};

/* The whole bot. `chats` is touched by the poller only (workers reach a chat through
 * the ready queue); ready_head/ready_tail, stopping and done_gen are guarded by mu. cv
 * wakes workers; progress wakes the poller when an update is done (done_gen counts). */
struct bot {
    const struct bot_opts *o;
    struct tg_me me;
    ledger *ledger;
    pthread_mutex_t mu;
    pthread_cond_t cv, progress;
    struct chat *chats[CHAT_BUCKETS];
    size_t nchats;
    double swept; /* when sweep_chats last ran (poller) */
    struct chat *ready_head, *ready_tail;
    int stopping;
    unsigned long done_gen;
    struct typist typist;
};

/* One answering thread with its own answerer and Telegram client (keep-alive per
 * thread). typing_chat is the chat being answered, written by the worker while its
 * indicator is off; the other typing_ fields belong to the typist (see there). */
struct worker {
    struct bot *b;
    pthread_t thread;
    int started;
    answerer *a;
    tg_client *tg;
    int64_t typing_chat;
    int typing_on, typing_sending;
    double typing_due;
};

/* ==== Logging and time ==== */

static void blog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void blog(const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    struct timespec ts;
    char when[UTC_FMT_MAX];
    clock_gettime(CLOCK_REALTIME, &ts);
    utc_format((int64_t)ts.tv_sec * UTC_US_PER_SEC, when, sizeof when);
    buf_addf(&b, "%s bot: ", when);
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    buf_addc(&b, '\n');
    /* One write per line, so that lines of several threads never interleave. */
    fwrite(b.p, 1, b.len, stderr);
    buf_release(&b);
}

/* A quoted, short, single-line prefix of a user's text for the log. */
static void log_prefix(struct buf *out, const char *s, size_t len)
{
    size_t n = tg_utf16_to_byte(s, len, LOG_PREFIX_UNITS);
    buf_addc(out, '"');
    for (size_t i = 0; i < n; i++)
        buf_addc(out, (unsigned char)s[i] < 0x20 || s[i] == '"' ? ' ' : s[i]);
    buf_adds(out, n < len ? "…\"" : "\"");
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps ms, in steps short enough to notice a stop; returns 1 when a stop ended it
 * early. */
static int nap(long ms)
{
    while (ms > 0) {
        if (atomic_load(&stop_flag))
            return 1;
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return 0;
}

static long next_backoff(long cur, const struct bot_opts *o)
{
    if (cur <= 0)
        return o->backoff_ms;
    return cur > o->backoff_max_ms / 2 ? o->backoff_max_ms : cur * 2;
}

static long retry_after_ms(const tg_client *tg)
{
    int s = tg_retry_after(tg);
    return 1000L * (s < 1 ? 1 : s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s);
}

/* ==== Options ==== */

static int parse_allowed(const char *list, struct bot_opts *o, char *err, size_t errlen)
{
    if (!list)
        return 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    o->allowed = xcalloc(cap, sizeof *o->allowed);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long long id = strtoll(p, &end, 10);
        size_t n = strcspn(p, ", ");
        if (errno || end != p + n || id == 0 || o->nallowed == cap) {
            snprintf(err, errlen, "bot: ALLOWED_CHAT_IDS: \"%.*s\" is not a chat id", (int)n, p);
            return -1;
        }
        o->allowed[o->nallowed++] = id;
        p = end;
    }
    if (!o->nallowed) { /* an empty list would silently turn every chat away */
        snprintf(err, errlen, "bot: ALLOWED_CHAT_IDS lists no chat id (unset it to answer every chat)");
        return -1;
    }
    return 0;
}

/* "123456789:AAF...": @BotFather gives the bot's id, a colon and 35 characters; the
 * bounds leave room for other shapes without letting through a word or a sentence. */
#define TOKEN_ID_MAX 20
#define TOKEN_SECRET_MIN 8
#define TOKEN_SECRET_MAX 128

static int token_shaped(const char *t)
{
    size_t id = strspn(t, "0123456789");
    if (id < 1 || id > TOKEN_ID_MAX || t[id] != ':')
        return 0;
    const char *secret = t + id + 1;
    size_t n = strspn(secret, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-");
    return secret[n] == '\0' && n >= TOKEN_SECRET_MIN && n <= TOKEN_SECRET_MAX;
}

int bot_opts_load(struct bot_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    const char *token = cfg_get("BOT_TOKEN");
    if (!token) {
        snprintf(err, errlen, "bot: BOT_TOKEN is not set (the token that @BotFather gave)");
        return -1;
    }
    /* It goes into a URL path and is scrubbed from logs by value: refuse anything that
     * is not shaped like a token (without echoing it). */
    if (!token_shaped(token)) {
        snprintf(err, errlen, "bot: BOT_TOKEN does not look like a bot token (the bot's id, "
                              "':', then %d to %d letters, digits, '_' or '-')",
                 TOKEN_SECRET_MIN, TOKEN_SECRET_MAX);
        return -1;
    }
    o->token = xstrdup(token);
    o->api_url = xstrdup(cfg_get_or("TELEGRAM_API_URL", "https://api.telegram.org"));
    o->workers = (int)cfg_get_long("VABOT_BOT_WORKERS", 4, 1, 64);
    o->poll_timeout_s = (int)cfg_get_long("VABOT_POLL_TIMEOUT", 25, 0, 50);
    o->chat_burst = (int)cfg_get_long("VABOT_CHAT_BURST", 10, 1, 10000);
    o->chat_per_min = (int)cfg_get_long("VABOT_CHAT_PER_MIN", 30, 0, 60000);
    o->backoff_ms = cfg_get_long("VABOT_BACKOFF_MS", 1000, 1, 60000);
    o->backoff_max_ms = cfg_get_long("VABOT_BACKOFF_MAX_MS", 30000, 1, 600000);
    o->reply_max_ms = cfg_get_long("VABOT_REPLY_MAX_MS", 60000, 1000, 3600000);
    o->chat_idle_s = (int)cfg_get_long("VABOT_CHAT_IDLE_S", 3600, 1, 30L * 86400);
    if (o->backoff_max_ms < o->backoff_ms)
        o->backoff_max_ms = o->backoff_ms;
    return parse_allowed(cfg_get("ALLOWED_CHAT_IDS"), o, err, errlen);
}

void bot_opts_release(struct bot_opts *o)
{
    if (o->token)
        memset(o->token, 0, strlen(o->token));
    free(o->token);
    free(o->api_url);
    free(o->allowed);
    memset(o, 0, sizeof *o);
}

/* ==== Delivery ==== */

/* One message, retried on 429, 5xx and network errors until the reply's deadline (a
 * CLOCK_MONOTONIC time, mono_now): a reply that cannot go out by then is dropped, so
 * that one slow chat holds the offset (and, once TG_UPDATES_MAX updates wait behind
 * it, everyone's intake) for a bounded time only. Each attempt is cut at the deadline
 * too. A stop ends the wait between attempts at once. */
static int send_one(struct worker *w, int64_t chat, const char *text, size_t len,
                    const char *mode, int64_t reply_to, double deadline)
{
    long backoff = 0;
    for (int attempt = 1;; attempt++) {
        long left = (long)((deadline - mono_now()) * 1000.0);
        tg_set_max_time(w->tg, left > 1 ? left : 1);
        tg_status st = tg_send_message(w->tg, chat, text, len, mode, reply_to);
        tg_set_max_time(w->tg, 0);
        if (st == TG_OK)
            return 0;
        int code = tg_error_code(w->tg);
        long wait;
        if (st == TG_EAPI && code == 429) {
            wait = retry_after_ms(w->tg);
        } else if (st == TG_ENET || st == TG_EJSON || code >= 500) {
            wait = backoff = next_backoff(backoff, w->b->o);
        } else {
            blog("%s: reply dropped%s", tg_errmsg(w->tg),
                 code == 403 ? " (the user blocked the bot)" : "");
            return SEND_REJECTED;
        }
        if (attempt == SEND_ATTEMPTS) {
            blog("%s: reply dropped after %d attempts", tg_errmsg(w->tg), attempt);
            return SEND_GAVE_UP;
        }
        if (mono_now() + (double)wait / 1000.0 >= deadline) {
            blog("%s: reply dropped: not delivered within VABOT_REPLY_MAX_MS (%ld ms)",
                 tg_errmsg(w->tg), w->b->o->reply_max_ms);
            return SEND_GAVE_UP;
        }
        blog("%s; retry %d in %ld ms", tg_errmsg(w->tg), attempt, wait);
        if (nap(wait)) {
            blog("%s; stopping: the reply is left for Telegram to deliver again after a restart",
                 tg_errmsg(w->tg));
            return SEND_STOPPED;
        }
    }
}

/* Sends text as one message, or plain text as as many as it takes. Only the first
 * piece quotes the question. */
static int deliver(struct worker *w, int64_t chat, int64_t reply_to, const char *text,
                   size_t len, const char *mode)
{
    double deadline = mono_now() + (double)w->b->o->reply_max_ms / 1000.0;
    for (size_t off = 0; off < len;) {
        size_t n = mode ? len - off : tg_split(text + off, len - off, TG_MAX_UNITS);
        int rc = send_one(w, chat, text + off, n, mode, off == 0 ? reply_to : 0, deadline);
        if (rc)
            return rc;
        off += n;
    }
    return 0;
}

/* ==== Typing ==== */

/* CLOCK_MONOTONIC time t (mono_now) as a deadline for the typist's condition. */
static struct timespec mono_deadline(double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    return ts;
}

/* The worker whose indicator is due first, or NULL when none is on. Caller holds mu. */
static struct worker *typing_next(struct typist *t)
{
    struct worker *next = NULL;
    for (int i = 0; i < t->nws; i++) {
        struct worker *w = &t->ws[i];
        if (w->typing_on && (!next || w->typing_due < next->typing_due))
            next = w;
    }
    return next;
}

/* Sends one indicator for w; mu is held on entry and exit, not while on the wire. */
static void send_typing(struct typist *t, struct worker *w, double now)
{
    int64_t chat = w->typing_chat;
    w->typing_sending = 1;
    w->typing_due = now + TYPING_RENEW_S;
    pthread_mutex_unlock(&t->mu);
    if (tg_send_chat_action(t->tg, chat, "typing") != TG_OK)
        blog("%s (typing indicator skipped)", tg_errmsg(t->tg));
    pthread_mutex_lock(&t->mu);
    w->typing_sending = 0;
    pthread_cond_broadcast(&t->sent);
}

static void *typist_main(void *arg)
{
    struct typist *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct worker *w = typing_next(t);
        double now = mono_now();
        if (w && w->typing_due <= now) {
            send_typing(t, w, now);
        } else if (w) {
            struct timespec until = mono_deadline(w->typing_due);
            pthread_cond_timedwait(&t->cv, &t->mu, &until);
        } else {
            pthread_cond_wait(&t->cv, &t->mu);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* The LLM hook, on the worker's thread. The LLM call's time budget is already running
 * and Telegram may be slow, so the worker only asks for the indicator: the typist
 * sends it, and renews it until typing_done(). */
static void on_llm_call(void *ctx)
{
    struct worker *w = ctx;
    struct typist *t = &w->b->typist;
    pthread_mutex_lock(&t->mu);
    w->typing_on = 1;
    w->typing_due = 0;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Called once the answer is known, before it is sent: an indicator still on the wire
 * goes first, or Telegram would show "typing" again for five seconds after the reply. */
static void typing_done(struct worker *w)
{
    struct typist *t = &w->b->typist;
    pthread_mutex_lock(&t->mu);
    w->typing_on = 0;
    while (w->typing_sending)
        pthread_cond_wait(&t->sent, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static int typist_start(struct bot *b, struct worker *ws)
{
    struct typist *t = &b->typist;
    t->ws = ws;
    t->nws = b->o->workers;
    t->tg = tg_new(b->o->api_url, b->o->token);
    if (!t->tg || pthread_create(&t->thread, NULL, typist_main, t)) {
        blog("cannot start the typing thread");
        return -1;
    }
    t->started = 1;
    return 0;
}

/* After the workers are gone: nobody asks for an indicator any more. */
static void typist_stop(struct typist *t)
{
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (t->started)
        pthread_join(t->thread, NULL);
    tg_free(t->tg);
    t->tg = NULL;
    t->started = 0;
}

/* ==== Handling one update ==== */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void forget(struct chat *c)
{
    free(c->q);
    free(c->reply);
    free(c->spec);
    free(c->sql);
    free(c->params);
}

/* What /sql will report for this chat: memory per chat stays small however long the
 * question was. */
static void remember(struct chat *c, const struct botmsg *m, const struct answer_result *r)
{
    forget(c);
    c->qlen = tg_utf16_to_byte(m->text, m->len, BOTMSG_QUESTION_SHOWN + 1);
    c->q = xmemdup(m->text, c->qlen);
    c->reply = dup_or_null(r->reply);
    c->spec = dup_or_null(r->spec_json);
    c->sql = dup_or_null(r->sql);
    c->params = dup_or_null(r->params_json);
}

static const char *status_name(int st)
{
    switch (st) {
    case ANSWER_OK:
        return "answered";
    case ANSWER_NOT_UNDERSTOOD:
        return "not understood";
    case ANSWER_UNSUPPORTED:
        return "unsupported";
    case ANSWER_BACKEND:
        return "backend failure";
    default:
        return "bad input";
    }
}

static const char *delivery_note(int rc)
{
    return rc == 0               ? ""
           : rc == SEND_REJECTED ? "; reply rejected"
           : rc == SEND_STOPPED  ? "; reply not delivered, left for after a restart"
                                 : "; reply not delivered";
}

/* answer, report_sql, say and handle return how the delivery ended (0 or SEND_*). */
static int answer(struct worker *w, struct chat *c, const struct job *j)
{
    struct answer_result r;
    struct buf pre = BUF_INIT;
    w->typing_chat = c->id;
    double t0 = mono_now();
    answer_question(w->a, c->id, j->msg.text, j->msg.len, &r);
    double ms = (mono_now() - t0) * 1000.0;
    typing_done(w);
    remember(c, &j->msg, &r);
    /* ANSWER_OK: the reply is the digits alone, sent as one message. */
    int rc = deliver(w, c->id, j->message_id, r.reply, strlen(r.reply), NULL);
    log_prefix(&pre, j->msg.text, j->msg.len);
    blog("update %" PRId64 " chat %" PRId64 ": %s%s%s in %.0f ms%s: %s", j->update_id, c->id,
         status_name(r.status), r.source ? " by " : "", r.source ? r.source : "", ms,
         delivery_note(rc), buf_str(&pre));
    buf_release(&pre);
    answer_result_release(&r);
    return rc;
}

static int report_sql(struct worker *w, struct chat *c, const struct job *j)
{
    struct botmsg_last last = {c->q, c->qlen, c->reply, c->spec, c->sql, c->params};
    struct buf html = BUF_INIT, plain = BUF_INIT;
    botmsg_sql_report(&last, &html, &plain);
    int rc = SEND_REJECTED;
    if (tg_utf16_units(plain.p, plain.len) <= TG_MAX_UNITS)
        rc = deliver(w, c->id, j->message_id, html.p, html.len, "HTML");
    if (rc == SEND_REJECTED) /* too long for one message, or HTML Telegram refused */
        rc = deliver(w, c->id, j->message_id, plain.p, plain.len, NULL);
    blog("update %" PRId64 " chat %" PRId64 ": /sql report%s", j->update_id, c->id,
         delivery_note(rc));
    buf_release(&html);
    buf_release(&plain);
    return rc;
}

static int say(struct worker *w, struct chat *c, const struct job *j, const char *text,
               const char *what)
{
    int rc = deliver(w, c->id, j->message_id, text, strlen(text), NULL);
    blog("update %" PRId64 " chat %" PRId64 ": %s%s", j->update_id, c->id, what,
         delivery_note(rc));
    return rc;
}

static int handle(struct worker *w, struct chat *c, const struct job *j)
{
    if (j->limited)
        return say(w, c, j, botmsg_rate_limited(), "over the rate limit, notice sent");
    if (j->msg.kind == BOTMSG_QUESTION)
        return answer(w, c, j);
    if (j->msg.kind == BOTMSG_HELP)
        return say(w, c, j, botmsg_help(), "help");
    if (j->msg.kind == BOTMSG_SQL)
        return report_sql(w, c, j);
    return say(w, c, j, botmsg_hint(j->msg.kind), "hint");
}

static void finish(struct bot *b, int64_t update_id)
{
    char err[600];
    if (ledger_done(b->ledger, update_id, err, sizeof err))
        blog("%s", err);
    pthread_mutex_lock(&b->mu);
    b->done_gen++;
    pthread_cond_signal(&b->progress);
    pthread_mutex_unlock(&b->mu);
}

static unsigned long done_generation(struct bot *b)
{
    pthread_mutex_lock(&b->mu);
    unsigned long gen = b->done_gen;
    pthread_mutex_unlock(&b->mu);
    return gen;
}

/* Waits up to IDLE_NAP_MS unless an update was done since generation gen. */
static void idle_wait(struct bot *b, unsigned long gen)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += IDLE_NAP_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&b->mu);
    while (b->done_gen == gen && !atomic_load(&stop_flag))
        if (pthread_cond_timedwait(&b->progress, &b->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&b->mu);
}

/* ==== Queues and workers ==== */

/* Caller holds b->mu. */
static void push_ready(struct bot *b, struct chat *c)
{
    c->ready = 1;
    c->rnext = NULL;
    if (b->ready_tail)
        b->ready_tail->rnext = c;
    else
        b->ready_head = c;
    b->ready_tail = c;
    pthread_cond_signal(&b->cv);
}

/* Takes the next job of the chat that waited longest, or NULL when stopping. */
static struct job *take(struct bot *b, struct chat **chat)
{
    pthread_mutex_lock(&b->mu);
    while (!b->ready_head && !b->stopping)
        pthread_cond_wait(&b->cv, &b->mu);
    struct job *j = NULL;
    if (!b->stopping) {
        struct chat *c = b->ready_head;
        b->ready_head = c->rnext;
        if (!b->ready_head)
            b->ready_tail = NULL;
        c->ready = 0;
        c->busy = 1;
        j = c->head;
        c->head = j->next;
        if (!c->head)
            c->tail = NULL;
        *chat = c;
    }
    pthread_mutex_unlock(&b->mu);
    return j;
}

static void release_chat(struct bot *b, struct chat *c)
{
    pthread_mutex_lock(&b->mu);
    c->busy = 0;
    if (c->head)
        push_ready(b, c); /* behind the other chats: one slow chat cannot starve them */
    pthread_mutex_unlock(&b->mu);
}

static void free_job(struct job *j)
{
    botmsg_release(&j->msg);
    free(j);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct chat *c;
    struct job *j;
    while ((j = take(w->b, &c)) != NULL) {
        /* A reply cut short by a stop is not done: the ledger keeps the offset at it. */
        if (handle(w, c, j) != SEND_STOPPED)
            finish(w->b, j->update_id);
        release_chat(w->b, c);
        free_job(j);
    }
    return NULL;
}

/* BOT_STOPPED when all started; BOT_EDATABASE when the database would not let a worker
 * in, BOT_ESETUP for anything else (data files, threads, curl). */
static enum bot_exit start_workers(struct bot *b, struct worker *ws, const struct answer_opts *ao)
{
    char err[512];
    for (int i = 0; i < b->o->workers; i++) {
        enum answer_setup why = ANSWER_SETUP_OK;
        ws[i].b = b;
        ws[i].a = answer_new(ao, &why, err, sizeof err);
        ws[i].tg = tg_new(b->o->api_url, b->o->token);
        if (!ws[i].a || !ws[i].tg) {
            blog("cannot start worker %d: %s", i, ws[i].a ? "no curl handle" : err);
            return why == ANSWER_SETUP_DATABASE ? BOT_EDATABASE : BOT_ESETUP;
        }
        answer_set_llm_hook(ws[i].a, on_llm_call, &ws[i]);
    }
    if (typist_start(b, ws))
        return BOT_ESETUP;
    for (int i = 0; i < b->o->workers; i++) {
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i])) {
            blog("cannot start worker thread %d", i);
            return BOT_ESETUP;
        }
        ws[i].started = 1;
    }
    return BOT_STOPPED;
}

/* Lets every worker finish the job in hand, then frees them. */
static void stop_workers(struct bot *b, struct worker *ws)
{
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->o->workers; i++)
        if (ws[i].started)
            pthread_join(ws[i].thread, NULL);
    typist_stop(&b->typist);
    for (int i = 0; i < b->o->workers; i++) {
        answer_free(ws[i].a);
        tg_free(ws[i].tg);
    }
    free(ws);
}

/* ==== Polling ==== */

static struct chat *chat_get(struct bot *b, int64_t id)
{
    size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 54) % CHAT_BUCKETS;
    struct chat *c;
    for (c = b->chats[h]; c; c = c->hnext)
        if (c->id == id)
            return c;
    c = xcalloc(1, sizeof *c);
    c->id = id;
    c->tokens = b->o->chat_burst;
    c->refilled = mono_now();
    c->hnext = b->chats[h];
    b->chats[h] = c;
    b->nchats++;
    return c;
}

static void free_chat(struct chat *c)
{
    while (c->head) { /* never handled: Telegram delivers them again */
        struct job *j = c->head;
        c->head = j->next;
        free_job(j);
    }
    forget(c);
    free(c);
}

/* A chat may be forgotten when nothing of it is in use (no worker on it, no update
 * queued) and its rate bucket has filled up again: forgetting it earlier would hand
 * its sender a fresh burst. Caller holds b->mu. */
static int chat_idle(const struct bot *b, const struct chat *c, double now, double idle_s)
{
    const struct bot_opts *o = b->o;
    if (c->busy || c->ready || c->head || now - c->last_seen < idle_s)
        return 0;
    return o->chat_per_min <= 0 ||
           c->tokens + (now - c->refilled) * o->chat_per_min / 60.0 >= o->chat_burst;
}

/* Forgets the chats idle for VABOT_CHAT_IDLE_S (their /sql memory goes with them), and
 * while more than CHATS_MAX are known, every idle chat whatever its age: memory stays
 * bounded however many chats write. On the poller thread, which alone walks the table,
 * at most once a minute unless over the cap; before an update is dispatched, so a chat
 * silent for longer than the limit starts afresh. */
static void sweep_chats(struct bot *b)
{
    double now = mono_now(), idle_s = b->o->chat_idle_s;
    double every = idle_s < SWEEP_EVERY_S ? idle_s : SWEEP_EVERY_S;
    if (now - b->swept < every && b->nchats <= CHATS_MAX)
        return;
    if (b->nchats > CHATS_MAX)
        idle_s = 0;
    b->swept = now;
    size_t before = b->nchats;
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < CHAT_BUCKETS; i++)
        for (struct chat **p = &b->chats[i]; *p;) {
            struct chat *c = *p;
            if (!chat_idle(b, c, now, idle_s)) {
                p = &c->hnext;
                continue;
            }
            *p = c->hnext;
            free_chat(c);
            b->nchats--;
        }
    pthread_mutex_unlock(&b->mu);
    if (b->nchats < before)
        blog("idle chats forgotten: %zu, chats known: %zu", before - b->nchats, b->nchats);
}

/* A token bucket per chat: chat_burst messages at once, then chat_per_min a minute. */
static int over_rate(const struct bot_opts *o, struct chat *c)
{
    if (o->chat_per_min <= 0)
        return 0;
    double now = mono_now();
    c->tokens += (now - c->refilled) * o->chat_per_min / 60.0;
    if (c->tokens > o->chat_burst)
        c->tokens = o->chat_burst;
    c->refilled = now;
    if (c->tokens < 1.0)
        return 1;
    c->tokens -= 1.0;
    return 0;
}

static int allowed(const struct bot_opts *o, int64_t chat)
{
    if (!o->allowed)
        return 1;
    for (size_t i = 0; i < o->nallowed; i++)
        if (o->allowed[i] == chat)
            return 1;
    return 0;
}

static void enqueue(struct bot *b, struct chat *c, struct job *j)
{
    pthread_mutex_lock(&b->mu);
    if (c->tail)
        c->tail->next = j;
    else
        c->head = j;
    c->tail = j;
    if (!c->busy && !c->ready)
        push_ready(b, c);
    pthread_mutex_unlock(&b->mu);
}

/* Returns 1 when the update is new. */
static int dispatch(struct bot *b, const struct tg_update *u)
{
    if (ledger_seen(b->ledger, u->update_id))
        return 0;
    struct job *j = xcalloc(1, sizeof *j);
    j->update_id = u->update_id;
    j->message_id = u->message_id;
    botmsg_classify(u, &b->me, &j->msg);
    const char *skip = NULL;
    struct chat *c = NULL;
    if (j->msg.kind == BOTMSG_IGNORE) {
        skip = j->msg.why;
    } else if (!allowed(b->o, u->chat_id)) {
        skip = "chat not in ALLOWED_CHAT_IDS";
    } else {
        c = chat_get(b, u->chat_id);
        c->last_seen = mono_now();
        int over = over_rate(b->o, c);
        if (over && c->warned)
            skip = "over the rate limit, silent";
        j->limited = over;
        c->warned = over;
    }
    if (skip) {
        blog("update %" PRId64 " chat %" PRId64 ": skipped: %s", u->update_id, u->chat_id, skip);
        finish(b, u->update_id);
        free_job(j);
    } else {
        enqueue(b, c, j);
    }
    return 1;
}

/* Telegram sends at most TG_UPDATES_MAX updates from the offset, and the offset waits
 * for the oldest update in progress: when all of them are known, nothing newer can come
 * in, in any chat, until that update is done. Said once per offset. */
static void check_window(int64_t offset, const struct tg_updates *ups, int fresh, int64_t *told)
{
    if (fresh || ups->n < TG_UPDATES_MAX || offset == *told)
        return;
    blog("the window of %d updates from offset %" PRId64 " is full: update %" PRId64
         " is still in progress, and newer updates wait for it",
         TG_UPDATES_MAX, offset, offset);
    *told = offset;
}

static void poll_loop(struct bot *b, tg_client *tg)
{
    long backoff = 0;
    int64_t told = -1;
    while (!atomic_load(&stop_flag)) {
        struct tg_updates ups;
        double t0 = mono_now();
        unsigned long gen = done_generation(b);
        int64_t offset = ledger_offset(b->ledger);
        tg_status st = tg_get_updates(tg, offset, b->o->poll_timeout_s, &ups);
        if (st == TG_ESTOP)
            break;
        if (st != TG_OK) {
            int code = tg_error_code(tg);
            long wait = st == TG_EAPI && code == 429 ? retry_after_ms(tg)
                                                     : (backoff = next_backoff(backoff, b->o));
            blog("%s%s; polling again in %ld ms", tg_errmsg(tg),
                 code == 409 ? " (another process polls with this token, or a webhook is set)" : "",
                 wait);
            nap(wait);
            continue;
        }
        backoff = 0;
        int fresh = 0;
        sweep_chats(b);
        for (size_t i = 0; i < ups.n; i++)
            fresh += dispatch(b, &ups.v[i]);
        check_window(offset, &ups, fresh, &told);
        tg_updates_free(&ups);
        if (!fresh && mono_now() - t0 < FAST_POLL_S)
            idle_wait(b, gen);
    }
}

/* ==== Start and stop ==== */

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

/* 0 with b->me filled, 1 when stopped first, -1 when the token is refused. */
static int fetch_me(struct bot *b, tg_client *tg)
{
    long backoff = 0;
    while (!atomic_load(&stop_flag)) {
        tg_status st = tg_get_me(tg, &b->me);
        if (st == TG_OK)
            return 0;
        int code = tg_error_code(tg);
        if ((st == TG_EAPI || st == TG_EHTTP) && code >= 400 && code < 500 && code != 429) {
            blog("%s (is BOT_TOKEN right?)", tg_errmsg(tg));
            return -1;
        }
        backoff = next_backoff(backoff, b->o);
        blog("%s; retrying in %ld ms", tg_errmsg(tg), backoff);
        nap(backoff);
    }
    return 1;
}

static void free_chats(struct bot *b)
{
    for (size_t i = 0; i < CHAT_BUCKETS; i++)
        while (b->chats[i]) {
            struct chat *c = b->chats[i];
            b->chats[i] = c->hnext;
            free_chat(c);
        }
    b->nchats = 0;
}

/* Opens the ledger, starts the workers and polls until a stop. */
static enum bot_exit serve(struct bot *b, tg_client *tg, const struct answer_opts *ao)
{
    char err[600];
    db *state = db_open(ao->conninfo, DB_OWNER_TIMEOUT_MS, err, sizeof err);
    if (!state || !(b->ledger = ledger_open(state, b->me.id, err, sizeof err))) {
        blog("%s", err);
        db_close(state);
        return BOT_EDATABASE;
    }
    struct worker *ws = xcalloc((size_t)b->o->workers, sizeof *ws);
    enum bot_exit rc = start_workers(b, ws, ao);
    if (rc == BOT_STOPPED) {
        blog("serving @%s with %d workers from offset %" PRId64, b->me.username, b->o->workers,
             ledger_offset(b->ledger));
        poll_loop(b, tg);
        blog("stopping: finishing the answers in progress");
    }
    stop_workers(b, ws);
    if (ledger_flush(b->ledger, err, sizeof err))
        blog("%s", err);
    if (rc == BOT_STOPPED)
        blog("stopped at offset %" PRId64, ledger_offset(b->ledger));
    ledger_free(b->ledger);
    db_close(state);
    return rc;
}

enum bot_exit bot_run(const struct bot_opts *o, const struct answer_opts *ao)
{
    struct sigaction sa, old_int, old_term, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    atomic_store(&stop_flag, 0);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN; /* a peer that hung up is an error code, not a signal */
    sigaction(SIGPIPE, &sa, &old_pipe);

    struct bot *b = xcalloc(1, sizeof *b);
    b->o = o;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* idle_wait's deadline */
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_cond_init(&b->progress, &ca);
    pthread_mutex_init(&b->typist.mu, NULL);
    pthread_cond_init(&b->typist.cv, &ca); /* the typist's renewal deadline */
    pthread_cond_init(&b->typist.sent, NULL);
    pthread_condattr_destroy(&ca);
    enum bot_exit rc = BOT_ETELEGRAM;
    tg_client *tg = tg_new(o->api_url, o->token);
    if (!tg) {
        blog("cannot create a curl handle");
    } else {
        tg_set_abort_flag(tg, &stop_flag);
        int me = fetch_me(b, tg);
        if (me == 0 && tg_delete_webhook(tg) != TG_OK)
            blog("%s (going on with polling)", tg_errmsg(tg));
        rc = me < 0 ? BOT_ETELEGRAM : me > 0 ? BOT_STOPPED : serve(b, tg, ao);
    }
    tg_free(tg);
    free_chats(b);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    pthread_cond_destroy(&b->progress);
    pthread_mutex_destroy(&b->typist.mu);
    pthread_cond_destroy(&b->typist.cv);
    pthread_cond_destroy(&b->typist.sent);
    free(b);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return rc;
}
