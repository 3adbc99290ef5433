/* cfg.h: configuration from the environment and an optional .env file.
 *
 * cfg_load() reads ".env" in the working directory once (KEY=VALUE lines, optional
 * "export ", single or double quotes, # comments); a variable set in the real
 * environment always wins. Values live until cfg_free(); callers never free them.
 * Secrets (BOT_TOKEN, OPENAI_API_KEY, the password in DATABASE_URL) are never
 * printed: use cfg_redact_url() for anything that may reach a log.
 *
 * Names read: DATABASE_URL BOT_TOKEN OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL
 * TELEGRAM_API_URL VABOT_NOW VABOT_TZ ALLOWED_CHAT_IDS and the VABOT_* tuning knobs
 * documented in the README. */
#ifndef VABOT_CFG_H
#define VABOT_CFG_H

#include <stddef.h>

#include "buf.h"

/* Returns 0, or -1 with a one-line reason in err when .env exists but is unreadable
 * or has a malformed line. */
int cfg_load(const char *dotenv_path, char *err, size_t errlen);
void cfg_free(void);
const char *cfg_get(const char *name);          /* NULL when unset or empty */
const char *cfg_get_or(const char *name, const char *dflt);
long cfg_get_long(const char *name, long dflt, long min, long max);

/* Turns any accepted DATABASE_URL form into a libpq conninfo string:
 * postgresql://..., postgres://..., postgresql+psycopg2://... (any "+driver"),
 * or a libpq "key=value ..." string. NULL or "" gives "" (libpq's PG* defaults).
 * Returns 0, or -1 with a reason in err that never contains the password. */
int cfg_conninfo(const char *url, struct buf *out, char *err, size_t errlen);

/* Copies url into out with any password replaced by "***". */
void cfg_redact_url(const char *url, struct buf *out);

/* The directory that holds sql/, grammar/, lexicon/ and prompts/: $VABOT_HOME, else the
 * nearest parent of the executable that has sql/schema.sql, else ".". */
const char *cfg_home(void);
/* out = cfg_home() + "/" + rel. */
void cfg_path(const char *rel, struct buf *out);

#endif
