/* ledger.c: the handled-updates watermark and its rows in PostgreSQL. */
#include "ledger.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* One update at or above the watermark: in progress (done = 0) or handled. saved says
 * whether its bot_done row is written (SAVED), being written, or not yet. */
enum { UNSAVED, WRITING, SAVED };
struct entry {
    int64_t id;
    unsigned char done, saved;
};

/* `mu` guards the fields below it; `write_mu` serialises database writes so that an
 * older state can never overwrite a newer one, and is always taken before `mu`. The
 * db handle is borrowed and used only under write_mu (or before threads exist). */
struct ledger {
    pthread_mutex_t write_mu;
    db *state;
    int64_t bot_id;
    pthread_mutex_t mu;
    int64_t w;       /* the watermark */
    int64_t seen_hi; /* highest update_id received in this run, at least w - 1 */
    int64_t saved_w; /* the watermark as last written, -1 before the first write */
    struct entry *v; /* ascending ids >= w */
    size_t n, cap;
};

static const char sql_offset[] =
    "SELECT coalesce((SELECT value FROM bot_state WHERE key = 'offset:' || $1::bigint), 0)";
static const char sql_done[] =
    "SELECT update_id FROM bot_done WHERE bot_id = $1 AND update_id >= $2 ORDER BY 1";
/* One statement, so one implicit transaction: the offset and the rows move together. */
static const char sql_save[] =
    "WITH s AS (INSERT INTO bot_state (key, value) VALUES ('offset:' || $1::bigint, $2::bigint)"
    "           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value),"
    "     d AS (DELETE FROM bot_done WHERE bot_id = $1::bigint AND update_id < $2::bigint),"
    "     i AS (INSERT INTO bot_done (bot_id, update_id)"
    "           SELECT $1::bigint, unnest($3::bigint[]) ON CONFLICT DO NOTHING)"
    "SELECT 1";

static size_t find(const ledger *l, int64_t id, int *found)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < l->n && l->v[lo].id == id;
    return lo;
}

static void insert(ledger *l, size_t at, int64_t id, int done)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof *l->v);
    l->v[at] = (struct entry){id, (unsigned char)done, (unsigned char)(done ? SAVED : UNSAVED)};
    l->n++;
}

/* W = the first update in progress, or one past the highest received; entries below
 * it are handled and need no row of their own any more. */
static void advance(ledger *l)
{
    int64_t w = l->seen_hi + 1;
    size_t i;
    for (i = 0; i < l->n; i++)
        if (!l->v[i].done) {
            if (l->v[i].id < w)
                w = l->v[i].id;
            break;
        }
    if (w < l->w)
        w = l->w;
    for (i = 0; i < l->n && l->v[i].id < w; i++)
        ;
    memmove(l->v, l->v + i, (l->n - i) * sizeof *l->v);
    l->n -= i;
    l->w = w;
}

static int load(ledger *l, char *err, size_t errlen)
{
    char bot[24], value[DB_VALUE_MAX];
    snprintf(bot, sizeof bot, "%" PRId64, l->bot_id);
    const char *p1[] = {bot};
    if (db_query_value(l->state, sql_offset, 1, p1, value, sizeof value)) {
        snprintf(err, errlen, "ledger: cannot read the offset: %s", db_errmsg(l->state));
        return -1;
    }
    l->w = strtoll(value, NULL, 10);
    const char *p2[] = {bot, value};
    PGresult *r = PQexecParams(db_conn(l->state), sql_done, 2, NULL, p2, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "ledger: cannot read bot_done: %.*s",
                 (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
        insert(l, l->n, strtoll(PQgetvalue(r, i, 0), NULL, 10), 1);
    PQclear(r);
    return rc;
}

ledger *ledger_open(db *state, int64_t bot_id, char *err, size_t errlen)
{
    ledger *l = xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->write_mu, NULL);
    l->state = state;
    l->bot_id = bot_id;
    if (state && load(l, err, errlen)) {
        ledger_free(l);
        return NULL;
    }
    l->seen_hi = l->w - 1;
    l->saved_w = state ? l->w : -1;
    return l;
}

void ledger_free(ledger *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->write_mu);
    free(l->v);
    free(l);
}

int64_t ledger_offset(ledger *l)
{
    pthread_mutex_lock(&l->mu);
    int64_t w = l->w;
    pthread_mutex_unlock(&l->mu);
    return w;
}

int ledger_seen(ledger *l, int64_t update_id)
{
    int found = 0;
    pthread_mutex_lock(&l->mu);
    int known = update_id < l->w;
    if (!known) {
        size_t at = find(l, update_id, &found);
        known = found;
        if (!found)
            insert(l, at, update_id, 0);
        if (update_id > l->seen_hi)
            l->seen_hi = update_id;
        advance(l);
    }
    pthread_mutex_unlock(&l->mu);
    return known;
}

/* Writes W and the rows of handled updates above it that are not written yet. */
static int save(ledger *l, char *err, size_t errlen)
{
    if (!l->state)
        return 0;
    struct buf ids = BUF_INIT;
    pthread_mutex_lock(&l->write_mu);
    pthread_mutex_lock(&l->mu);
    int64_t w = l->w;
    int fresh = w != l->saved_w;
    buf_addc(&ids, '{');
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].done && l->v[i].saved == UNSAVED) {
            l->v[i].saved = WRITING;
            buf_addf(&ids, "%s%" PRId64, ids.len > 1 ? "," : "", l->v[i].id);
            fresh = 1;
        }
    buf_addc(&ids, '}');
    pthread_mutex_unlock(&l->mu);
    int rc = 0;
    if (fresh) {
        char bot[24], off[24], one[DB_VALUE_MAX];
        snprintf(bot, sizeof bot, "%" PRId64, l->bot_id);
        snprintf(off, sizeof off, "%" PRId64, w);
        const char *params[] = {bot, off, ids.p};
        rc = db_query_value(l->state, sql_save, 3, params, one, sizeof one) ? -1 : 0;
        if (rc)
            snprintf(err, errlen, "ledger: cannot save offset %" PRId64 ": %s", w,
                     db_errmsg(l->state));
    }
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].saved == WRITING)
            l->v[i].saved = rc ? UNSAVED : SAVED;
    if (rc == 0)
        l->saved_w = w;
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_unlock(&l->write_mu);
    buf_release(&ids);
    return rc;
}

int ledger_done(ledger *l, int64_t update_id, char *err, size_t errlen)
{
    int found;
    pthread_mutex_lock(&l->mu);
    size_t at = find(l, update_id, &found);
    if (found) {
        l->v[at].done = 1;
        advance(l);
    }
    pthread_mutex_unlock(&l->mu);
    return save(l, err, errlen);
}

int ledger_flush(ledger *l, char *err, size_t errlen)
{
    return save(l, err, errlen);
}
