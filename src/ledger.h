/* ledger.h: which Telegram updates the bot has handled, so that a restart neither
 * answers an update twice nor skips one.
 *
 * Updates are handled out of order (several chats at once), so one offset is not
 * enough. The ledger keeps the watermark W: every update below W is handled. W is the
 * getUpdates offset, so Telegram keeps redelivering everything from W on until it is
 * handled; updates at or above W that are already handled are remembered one by one
 * and skipped when they come again. Both live in PostgreSQL (bot_state, bot_done) and
 * are written after every handled update; a failed write is retried with the next.
 *
 * Ownership: ledger_open() borrows the db handle (the owner connection, or NULL to
 * keep everything in memory); the ledger uses it alone until ledger_free().
 * Thread safety: every function may be called from any thread.
 * Errors: ledger_open() returns NULL with a reason in err; ledger_done() and
 * ledger_flush() return 0, or -1 with one line in err when the database write failed
 * (the state in memory is still right and is written again next time). */
#ifndef VABOT_LEDGER_H
#define VABOT_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

typedef struct ledger ledger;

/* bot_id keys the rows: update ids are per bot, and a token may change. */
ledger *ledger_open(db *state, int64_t bot_id, char *err, size_t errlen);
void ledger_free(ledger *l);

int64_t ledger_offset(ledger *l); /* W: the offset for getUpdates */

/* Records an update just received. Returns 1 when it was seen before (below W, in
 * progress or handled): the caller must not handle it again. Updates arrive in
 * ascending order of update_id. */
int ledger_seen(ledger *l, int64_t update_id);

/* Marks a seen update handled, moves W and writes the state. */
int ledger_done(ledger *l, int64_t update_id, char *err, size_t errlen);

/* Writes the state again if an earlier write failed. */
int ledger_flush(ledger *l, char *err, size_t errlen);

#endif
