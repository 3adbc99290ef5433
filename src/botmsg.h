/* botmsg.h: what the bot makes of one Telegram message, and the texts it sends that do
 * not come from the answering engine (help, hints, the /sql report).
 *
 * Pure functions, no I/O. Ownership: botmsg_classify() fills a struct botmsg whose
 * `text` it owns until botmsg_release(); the botmsg_* text functions return static
 * strings or append to a caller's buf. Nothing here fails. */
#ifndef VABOT_BOTMSG_H
#define VABOT_BOTMSG_H

#include <stddef.h>

#include "buf.h"
#include "tg.h"

enum botmsg_kind {
    BOTMSG_IGNORE,   /* not for us: edited, a group talk without us, another bot's command */
    BOTMSG_QUESTION, /* text (mention removed) goes to the engine */
    BOTMSG_HELP,     /* /start, /help */
    BOTMSG_SQL,      /* /sql, /explain */
    BOTMSG_UNKNOWN_COMMAND,
    BOTMSG_NON_TEXT, /* sticker, photo...: a hint */
    BOTMSG_EMPTY,    /* nothing but blanks (or only our @name): a hint */
};

struct botmsg {
    enum botmsg_kind kind;
    const char *why; /* for BOTMSG_IGNORE: a few words for the log */
    char *text;      /* BOTMSG_QUESTION: the question, NUL-terminated */
    size_t len;
};

/* me: the bot itself (getMe). In private chats every message is for the bot; in
 * groups only commands, messages that mention @me, and replies to the bot's messages. */
void botmsg_classify(const struct tg_update *u, const struct tg_me *me, struct botmsg *out);
void botmsg_release(struct botmsg *m);

const char *botmsg_help(void);
const char *botmsg_hint(enum botmsg_kind kind); /* NON_TEXT, EMPTY, UNKNOWN_COMMAND */
const char *botmsg_rate_limited(void);

/* How much of a question /sql repeats, in UTF-16 units: a chat need keep no more than
 * one unit beyond it (to know that it was cut). */
#define BOTMSG_QUESTION_SHOWN 300

/* The previous question of a chat, as /sql reports it. question is NULL when the chat
 * has asked nothing yet; spec_json and sql are NULL when nothing was built. */
struct botmsg_last {
    const char *question;
    size_t question_len;
    const char *reply, *spec_json, *sql, *params_json;
};

/* Appends the /sql report twice: as Telegram HTML (code blocks) and as plain text with
 * the same visible characters, for when the HTML version is too long for one message. */
void botmsg_sql_report(const struct botmsg_last *last, struct buf *html, struct buf *plain);

#endif
