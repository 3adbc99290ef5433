/* tg.h: Telegram Bot API client (long polling, sendMessage) and the pure pieces the bot
 * needs around it: the getUpdates parser and the reply splitter.
 *
 * Ownership: tg_new() copies its arguments; tg_free() frees the client (NULL is fine).
 * A client owns one curl easy handle, reused for keep-alive, and is used by one thread
 * at a time. tg_parse_updates() fills a struct tg_updates that owns every string in it
 * until tg_updates_free().
 * Errors: calls return TG_OK (0) or a negative tg_status; tg_errmsg(c) describes the last
 * failure in one line naming the method, never the URL or the token. After TG_EAPI or
 * TG_EHTTP, tg_error_code(c) is Telegram's error_code (else the HTTP status) and
 * tg_retry_after(c) the seconds a 429 asked to wait (0 otherwise). */
#ifndef VABOT_TG_H
#define VABOT_TG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg_client tg_client;

typedef enum {
    TG_OK = 0,
    TG_ENET = -1,  /* no HTTP answer: connect, timeout, closed connection */
    TG_EHTTP = -2, /* an HTTP error whose body is not a Bot API answer */
    TG_EAPI = -3,  /* {"ok":false,...}: see tg_error_code() and tg_retry_after() */
    TG_EJSON = -4, /* HTTP 200 but the body is not the JSON we expect */
    TG_ESTOP = -5, /* the abort flag was raised during the call */
} tg_status;

#define TG_MAX_UNITS 4096 /* Telegram's limit on a message, in UTF-16 code units */
#define TG_UPDATES_MAX 100 /* the most updates one getUpdates returns */

/* Byte span of a part of a message's text. */
struct tg_span {
    size_t off, len;
};

/* One update as the bot needs it. kind tells which field held the message; for
 * TG_UPDATE_OTHER only update_id is meaningful. text is NUL-terminated, text_len bytes
 * long, and NULL when the message has no text (sticker, photo...). mentions are the
 * "@name" entities, converted from UTF-16 offsets to byte spans of text. */
struct tg_update {
    int64_t update_id;
    enum { TG_UPDATE_OTHER, TG_UPDATE_MESSAGE, TG_UPDATE_EDITED } kind;
    int64_t message_id, chat_id, from_id, reply_to_from_id; /* 0 when absent */
    char *chat_type;                                        /* "private", "group"... or "" */
    char *from_username;                                    /* "" when absent */
    char *text;
    size_t text_len;
    int starts_with_command; /* a bot_command entity at offset 0 */
    struct tg_span *mentions;
    size_t nmentions;
};

struct tg_updates {
    struct tg_update *v;
    size_t n;
};

struct tg_me {
    int64_t id;
    char username[64];
};

tg_client *tg_new(const char *base_url, const char *token);
void tg_free(tg_client *c);
const char *tg_errmsg(const tg_client *c);
int tg_error_code(const tg_client *c);
int tg_retry_after(const tg_client *c);

/* While *flag is non-zero, a transfer in progress is abandoned (TG_ESTOP): a long poll
 * must not hold up shutdown. NULL disables. The flag may be raised by a signal handler. */
void tg_set_abort_flag(tg_client *c, const atomic_int *flag);

/* Caps how long each later call may take, in ms, below the method's own timeout (a
 * reply that must go out by a deadline); 0 lifts the cap. A call cut short by it fails
 * with TG_ENET. */
void tg_set_max_time(tg_client *c, long ms);

tg_status tg_get_me(tg_client *c, struct tg_me *me);
tg_status tg_delete_webhook(tg_client *c);
/* Long poll for "message" and "edited_message" updates with update_id >= offset.
 * On TG_OK *out holds them (release with tg_updates_free). */
tg_status tg_get_updates(tg_client *c, int64_t offset, int timeout_s, struct tg_updates *out);
/* parse_mode: NULL for plain text, or "HTML". reply_to: a message id to quote, or 0.
 * len must fit one message (see tg_split). */
tg_status tg_send_message(tg_client *c, int64_t chat_id, const char *text, size_t len,
                          const char *parse_mode, int64_t reply_to);
tg_status tg_send_chat_action(tg_client *c, int64_t chat_id, const char *action);

/* The pure parser behind tg_get_updates: body is a whole getUpdates answer. Returns 0,
 * or -1 with a reason in err when the body is not {"ok":true,"result":[...]}.
 * Malformed entries become TG_UPDATE_OTHER (or are skipped when they lack an id). */
int tg_parse_updates(const char *body, size_t len, struct tg_updates *out, char *err,
                     size_t errlen);
void tg_updates_free(struct tg_updates *u);

/* Counting and splitting text as Telegram does (UTF-16 code units; an invalid byte
 * counts as one unit and is never split from nothing). */
size_t tg_utf16_units(const char *s, size_t len);
/* Byte offset of the UTF-16 offset `units` in s (len when beyond the end). */
size_t tg_utf16_to_byte(const char *s, size_t len, size_t units);
/* Length in bytes of the first piece of s that fits max_units: all of s when it fits,
 * else the longest prefix ending in '\n', else the longest prefix ending on a code
 * point boundary. Never 0 for a non-empty s. */
size_t tg_split(const char *s, size_t len, size_t max_units);

/* Replaces every occurrence of token in s with "***" (a token shorter than that with as
 * many '*'), in place: s never grows. Exposed for tests. */
void tg_scrub(char *s, const char *token);

#endif
