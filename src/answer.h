/* answer.h: the one way from a question to a reply.
 *
 * Every front end (vabot ask, vabot chat, the Telegram bot) calls answer_question();
 * only this module knows the order of the pipeline: text checks, the rule-based
 * engine, then (for what the rules did not understand) the cache and the LLM, then
 * the shared validator, SQL generator and the database.
 *
 * Ownership: an answerer owns its database connection, its grammar and its LLM
 * client, and is used by one thread at a time (the bot gives each worker its own);
 * the LLM cache is one per process, shared by all answerers (thread-safe).
 * answer_question() fills a struct answer_result whose strings it owns until
 * answer_result_release(). Errors: see enum answer_status; the reply text is always
 * set and is what a user should read. */
#ifndef VABOT_ANSWER_H
#define VABOT_ANSWER_H

#include <stddef.h>
#include <stdint.h>

typedef struct answerer answerer;

enum answer_status {
    ANSWER_OK = 0,              /* reply is the number: digits, optional leading '-' */
    ANSWER_NOT_UNDERSTOOD = -1, /* reply says so in Russian, with a hint */
    ANSWER_UNSUPPORTED = -2,    /* understood, but one number cannot answer it */
    ANSWER_BACKEND = -3,        /* database or LLM failure; reply is an apology */
    ANSWER_BAD_INPUT = -4,      /* invalid UTF-8, empty or oversized text */
};

struct answer_opts {
    const char *conninfo; /* libpq conninfo of the database (cfg_conninfo) */
    int no_llm;           /* never call the LLM */
    int dry_run;          /* build spec and SQL, do not touch the database */
    int has_now;          /* now_us overrides the clock for relative dates */
    int64_t now_us;
};

struct answer_result {
    enum answer_status status;
    char *reply;       /* what to send the user; never NULL after answer_question() */
    char *spec_json;   /* the canonical spec (pretty JSON), or NULL */
    char *sql;         /* the generated SQL, or NULL */
    char *params_json; /* its parameters as a JSON array of strings, or NULL */
    char *explain;     /* which rule matched, which tokens filled which slot, or NULL */
    const char *source; /* "grammar", "llm", "cache", or NULL when nothing understood it */
    double ms_nlu, ms_llm, ms_db, ms_total;
};

/* Why answer_new() failed, for the exit status of a front end. */
enum answer_setup {
    ANSWER_SETUP_OK = 0,
    ANSWER_SETUP_FILES = -1,    /* grammar, lexicon, prompt or schema missing or invalid */
    ANSWER_SETUP_DATABASE = -2, /* the database is unreachable or refused the login */
};

/* NULL on failure, with the kind in *why (when why is not NULL) and one line in err. */
answerer *answer_new(const struct answer_opts *o, enum answer_setup *why, char *err,
                     size_t errlen);
void answer_free(answerer *a);

/* chat_id is 0 outside Telegram. Returns r->status. */
int answer_question(answerer *a, int64_t chat_id, const char *text, size_t len,
                    struct answer_result *r);
void answer_result_release(struct answer_result *r);

/* The LLM cache the answerer uses: one for the whole process, shared by every answerer
 * with an LLM and freed with the last of them; NULL without an LLM. Exposed for tests. */
struct cache *answer_cache(const answerer *a);

/* Called (from the answering thread) just before a slow LLM request starts, so that
 * the bot can show "typing". */
void answer_set_llm_hook(answerer *a, void (*hook)(void *ctx), void *ctx);

#endif
