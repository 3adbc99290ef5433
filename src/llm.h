/* llm.h: the LLM fallback. For a question the grammar did not understand, asks an
 * OpenAI-compatible POST {base}/chat/completions to fill the query spec of
 * sql/spec.schema.json (strict structured output, temperature 0, the system prompt of
 * prompts/system.md). The model only fills the spec: the caller's validator decides
 * whether it is acceptable, and the caller's generator writes the SQL.
 *
 * Ownership: llm_new() copies its options and reads the prompt and schema files once;
 * one client (one curl handle, reused for keep-alive) serves one thread at a time;
 * llm_free() wipes the API key before freeing (NULL is fine). The circuit breaker is
 * shared: by default every client of the process uses one breaker behind a mutex.
 * Errors: llm_ask() returns LLM_OK or a negative llm_status; llm_errmsg() describes
 * the last failure in one line. Each failed HTTP exchange is also logged to stderr as
 * one line starting with "llm: ". Nothing here ever prints the API key. */
#ifndef VABOT_LLM_H
#define VABOT_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct llm_client llm_client;
typedef struct llm_breaker llm_breaker;

typedef enum {
    LLM_OK = 0,
    LLM_NOT_UNDERSTOOD = -1, /* the service answered, but gave no acceptable spec even
                                after one repair attempt (refusal, cut off, not JSON,
                                rejected by the validator) */
    LLM_OPEN = -2,     /* the circuit is open: nothing was sent */
    LLM_DISABLED = -3, /* no API key configured: nothing was sent */
    LLM_ENET = -4,     /* transport: cannot connect, timed out, connection closed */
    LLM_EHTTP = -5,    /* an HTTP error status without an API error body */
    LLM_EAPI = -6,     /* the API refused: quota, key, rate limit, bad request */
    LLM_EJSON = -7,    /* a 2xx reply that is not a chat completion */
} llm_status;

/* Everything has a default: zero or NULL fields take it. */
struct llm_opts {
    const char *base_url;    /* https://api.openai.com/v1 */
    const char *model;       /* gpt-4o-mini */
    const char *api_key;     /* NULL: the client is disabled (LLM_DISABLED) */
    const char *prompt_path; /* cfg_home()/prompts/system.md */
    const char *schema_path; /* cfg_home()/sql/spec.schema.json */
    long timeout_ms;         /* whole llm_ask(), retries and repair included: 15000 */
    long attempt_timeout_ms; /* one HTTP request: 10000 */
    long connect_timeout_ms; /* 3000 */
    long retry_max_ms;       /* longest Retry-After worth waiting for: 5000 */
    int breaker_failures;    /* consecutive failed calls that open the circuit: 3 */
    long breaker_cooldown_ms; /* how long it stays open before one probe: 60000 */
    llm_breaker *breaker;    /* NULL: the process-wide breaker */
};

/* Fills o from OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY, VABOT_LLM_TIMEOUT_MS,
 * VABOT_LLM_ATTEMPT_TIMEOUT_MS, VABOT_LLM_CONNECT_TIMEOUT_MS, VABOT_LLM_RETRY_MAX_MS,
 * VABOT_LLM_BREAKER_FAILURES and VABOT_LLM_BREAKER_COOLDOWN_MS (cfg.h). The strings
 * belong to cfg and live until cfg_free(). */
void llm_opts_from_cfg(struct llm_opts *o);

/* Returns NULL with a reason in err when the prompt or schema file cannot be read or
 * the schema is not JSON. A client without a key is valid and never touches the
 * network. */
llm_client *llm_new(const struct llm_opts *o, char *err, size_t errlen);
void llm_free(llm_client *c);
int llm_enabled(const llm_client *c); /* 1 when an API key is configured */
const char *llm_errmsg(const llm_client *c);

/* Called just before the first HTTP request of an llm_ask() (never when the circuit
 * is open or the client disabled), so that a chat can show "typing". */
void llm_set_hook(llm_client *c, void (*hook)(void *ctx), void *ctx);

/* Accepts (returns 0) or rejects (non-zero, with a one-line reason appended to why,
 * which is sent back to the model) one candidate spec. spec is the JSON text the model
 * produced, already known to be a JSON object; it is NUL-terminated. */
typedef int (*llm_validate_fn)(void *ctx, const char *spec, size_t len, struct buf *why);

/* Asks for the spec of question (len bytes of UTF-8) with "today" and "now" taken from
 * now_us in the users' zone (utc_zone()), which the prompt names.
 * On LLM_OK, spec holds the accepted JSON text (replacing what it held). One repair
 * attempt follows a refusal or a rejected spec, carrying the reason back to the model.
 * Bounded by opts.timeout_ms in total. */
llm_status llm_ask(llm_client *c, const char *question, size_t len, int64_t now_us,
                   llm_validate_fn validate, void *ctx, struct buf *spec);

/* 16 hex digits that change whenever the model, the prompt file, the schema file or the
 * users' zone (utc_zone(): dates are resolved in it) change: a namespace for cached
 * specs (cache.h). */
const char *llm_fingerprint(const llm_client *c);

/* ==== Circuit breaker ====
 * Closed: calls go through; failures in a row are counted (a success resets them).
 * After `failures` failed calls it opens: calls are refused for `cooldown_ms`, then
 * one probe call is let through (half-open); its success closes the circuit, its
 * failure opens it again. A failed call is one that ended in LLM_ENET, LLM_EHTTP,
 * LLM_EAPI or LLM_EJSON after its retries; LLM_OK and LLM_NOT_UNDERSTOOD are
 * successes (the service works). Thread-safe; times are caller-given milliseconds of
 * a monotonic clock, so that tests can drive it. */
enum llm_breaker_state { LLM_BREAKER_CLOSED, LLM_BREAKER_OPEN, LLM_BREAKER_HALF_OPEN };

llm_breaker *llm_breaker_new(int failures, int64_t cooldown_ms);
void llm_breaker_free(llm_breaker *b); /* never the process-wide one */
/* 1: the call may go (as the probe when the cool-down just ended); 0: refused. */
int llm_breaker_allow(llm_breaker *b, int64_t now_ms);
/* Records the outcome of an allowed call; returns the state after it. */
enum llm_breaker_state llm_breaker_record(llm_breaker *b, int ok, int64_t now_ms);
enum llm_breaker_state llm_breaker_state(llm_breaker *b, int64_t now_ms);

/* ==== Request and reply, exposed for tests ==== */

/* The JSON body of one request. prev and why are NULL for the first request; for
 * the repair request, prev is what the model answered (or NULL) and why is the reason
 * it was not accepted. */
void llm_build_request(const llm_client *c, const char *question, size_t len, int64_t now_us,
                       const char *prev, const char *why, struct buf *out);

/* One HTTP reply, classified. status is LLM_OK (content holds the spec text, which is
 * valid JSON), LLM_NOT_UNDERSTOOD (why says: refusal, cut off, no content, not JSON;
 * content holds the refusal or the unusable text), LLM_EAPI (an OpenAI error body on
 * any status: code holds error.code or error.type), LLM_EHTTP or LLM_EJSON. */
struct llm_reply {
    llm_status status;
    struct buf content;
    char code[64];
    char why[300];
};
void llm_reply_parse(struct llm_reply *r, long http_status, const char *body, size_t len);
void llm_reply_release(struct llm_reply *r);

/* Replaces every occurrence of key, and anything shaped like an OpenAI key ("sk-..."),
 * in s with "***": OpenAI's own error messages quote part of a wrong key. */
void llm_scrub(char *s, const char *key);

#endif
