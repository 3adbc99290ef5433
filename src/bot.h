/* bot.h: `vabot serve`, the Telegram bot: long polling, worker threads, replies.
 *
 * One thread polls Telegram and sorts updates into per-chat queues; `workers` threads
 * answer them, each with its own answerer and its own Telegram client, one chat at a
 * time per thread, so a slow answer in one chat never holds up another chat and the
 * messages of one chat are answered in order. While an answer waits for the LLM, a
 * thread of its own keeps "typing" up in that chat. Handled updates are recorded in the
 * ledger (PostgreSQL), so a restart neither answers twice nor skips. SIGINT and SIGTERM
 * stop polling; the answers in progress are finished and recorded, the rest is left
 * for Telegram to deliver again.
 *
 * Ownership: bot_opts_load() fills a struct bot_opts whose strings and array it owns
 * until bot_opts_release(). bot_run() borrows its arguments.
 * Errors: bot_opts_load() returns 0, or -1 with one line in err; bot_run() returns
 * one of enum bot_exit and logs why on stderr. Logs are one line per event and never
 * contain the token or more than a short prefix of a message. */
#ifndef VABOT_BOT_H
#define VABOT_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "answer.h"

struct bot_opts {
    char *api_url, *token;  /* TELEGRAM_API_URL, BOT_TOKEN (wiped on release) */
    int workers;            /* VABOT_BOT_WORKERS: answering threads */
    int poll_timeout_s;     /* VABOT_POLL_TIMEOUT: getUpdates long-poll seconds */
    int chat_burst;         /* VABOT_CHAT_BURST: messages a chat may send at once */
    int chat_per_min;       /* VABOT_CHAT_PER_MIN: refill rate; 0 = no limit */
    long backoff_ms;        /* VABOT_BACKOFF_MS: first wait after a failure */
    long backoff_max_ms;    /* VABOT_BACKOFF_MAX_MS: the cap, doubling up to it */
    long reply_max_ms;      /* VABOT_REPLY_MAX_MS: the most time one reply may take to
                               deliver, retries included; then it is dropped */
    int chat_idle_s;        /* VABOT_CHAT_IDLE_S: a chat silent this long is forgotten
                               (its /sql memory and rate bucket) */
    int64_t *allowed;       /* ALLOWED_CHAT_IDS; NULL = every chat */
    size_t nallowed;
};

enum bot_exit {
    BOT_STOPPED = 0,
    BOT_ETELEGRAM = -1, /* Telegram refused the token */
    BOT_EDATABASE = -2, /* the database is unreachable or refused the login */
    BOT_ESETUP = -3,    /* data files (grammar, lexicon, prompt) missing or invalid, or
                           no thread or curl handle */
};

/* Reads the configuration (cfg.h). A missing BOT_TOKEN, one not shaped like a token
 * ("digits:rest"), and an ALLOWED_CHAT_IDS that is malformed or lists no id are errors. */
int bot_opts_load(struct bot_opts *o, char *err, size_t errlen);
void bot_opts_release(struct bot_opts *o);

/* Serves until SIGINT or SIGTERM. ao->conninfo also names the database of the ledger. */
enum bot_exit bot_run(const struct bot_opts *o, const struct answer_opts *ao);

#endif
