#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "utc.h"
#include "xalloc.h"

/* ==== Normalization and scope ==== */

/* Bytes of the UTF-8 spaces folded into ' ', longest first. */
static size_t space_at(const unsigned char *s, size_t left)
{
    if (left && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f'))
        return 1;
    if (left >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (left >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x89 || s[2] == 0xAF))
        return 3;
    return 0;
}

/* Appends the lowercased, ё-folded form of the character at s; returns its length. */
static size_t fold_char(const unsigned char *s, size_t left, struct buf *out)
{
    if (*s >= 'A' && *s <= 'Z') {
        buf_addc(out, (char)(*s + 32));
        return 1;
    }
    if (left >= 2 && ((s[0] == 0xD0 && s[1] == 0x81) || (s[0] == 0xD1 && s[1] == 0x91))) {
        buf_add(out, "\xD0\xB5", 2); /* Ё, ё -> е */
        return 2;
    }
    if (left >= 2 && s[0] == 0xD0 && s[1] >= 0x90 && s[1] <= 0xAF) {
        char lo[2] = {(char)0xD0, (char)(s[1] + 0x20)}; /* А..П -> а..п */
        if (s[1] >= 0xA0) {                              /* Р..Я -> р..я */
            lo[0] = (char)0xD1;
            lo[1] = (char)(s[1] - 0x20);
        }
        buf_add(out, lo, 2);
        return 2;
    }
    buf_addc(out, (char)*s);
    return 1;
}

void cache_normalize(const char *q, size_t len, struct buf *out)
{
    const unsigned char *s = (const unsigned char *)q;
    int pending_space = 0;
    buf_reset(out);
    buf_add(out, "", 0);
    for (size_t i = 0; i < len;) {
        size_t n = space_at(s + i, len - i);
        if (n) {
            pending_space = out->len > 0;
            i += n;
            continue;
        }
        if (pending_space)
            buf_addc(out, ' ');
        pending_space = 0;
        i += fold_char(s + i, len - i, out);
    }
    while (out->len && strchr("?!. ", out->p[out->len - 1]))
        buf_truncate(out, out->len - 1);
}

/* Days are the users' (VABOT_TZ, utc.h): "вчера" in Moscow is over at 21:00 UTC. */
static void local_day(int64_t now_us, char day[11])
{
    struct utc_civil c;
    char iso[UTC_FMT_MAX];
    int64_t wall = now_us;
    utc_to_local(now_us, &c);
    utc_from_civil(&c, &wall); /* the local wall clock, formatted as if it were UTC */
    utc_format(wall, iso, sizeof iso); /* "YYYY-MM-DDThh:mm:ssZ" */
    memcpy(day, iso, 10);
    day[10] = '\0';
}

static int local_midnight(int64_t t)
{
    struct utc_civil c;
    utc_to_local(t, &c);
    return !c.hour && !c.min && !c.sec && !c.usec;
}

static const char *const time_fields[] = {"published_from", "published_to", "measured_from",
                                          "measured_to"};

int cache_scope(const char *spec, size_t len, int64_t now_us, char day[11])
{
    cJSON *root = cJSON_ParseWithLength(spec, len);
    const cJSON *filters = cJSON_GetObjectItemCaseSensitive(root, "filters");
    int scope = cJSON_IsObject(filters) ? 0 : -1;
    for (size_t i = 0; scope >= 0 && i < sizeof time_fields / sizeof time_fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(filters, time_fields[i]);
        int64_t t;
        if (!v || cJSON_IsNull(v))
            continue;
        if (cJSON_IsString(v) && !utc_parse(v->valuestring, strlen(v->valuestring), &t) &&
            local_midnight(t))
            scope = 1;
        else
            scope = -1;
    }
    cJSON_Delete(root);
    local_day(now_us, day);
    return scope;
}

/* ==== Memory: LRU ==== */

/* One cached spec. Lives in a hash chain (chain) and in the recency list (prev/newer,
 * older), which owns it; key and spec are owned by the entry. */
struct entry {
    char *key, *spec;
    size_t speclen;
    struct entry *chain, *newer, *older;
};

/* Every field is guarded by mu. newest/oldest are the ends of the recency list; the
 * table has 2 * capacity buckets, so chains stay short. Keys carry the namespace, so
 * one cache serves clients of any model and prompt. */
struct cache {
    pthread_mutex_t mu;
    size_t capacity, count, nbuckets;
    struct entry **buckets, *newest, *oldest;
};

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

cache *cache_new(size_t capacity)
{
    cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->capacity = capacity ? capacity : CACHE_DEFAULT_CAPACITY;
    c->nbuckets = 2 * c->capacity;
    c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
    return c;
}

void cache_free(cache *c)
{
    if (!c)
        return;
    for (struct entry *e = c->newest, *next; e; e = next) {
        next = e->older;
        free(e->key);
        free(e->spec);
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

size_t cache_count(cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static void unlink_recency(cache *c, struct entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(cache *c, struct entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* Caller holds mu. */
static struct entry *find(cache *c, const char *key, struct entry ***slot)
{
    struct entry **p = &c->buckets[hash(key) % c->nbuckets];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->chain;
    if (slot)
        *slot = p;
    return *p;
}

static void evict_oldest(cache *c)
{
    struct entry *e = c->oldest, **slot;
    find(c, e->key, &slot);
    *slot = e->chain;
    unlink_recency(c, e);
    free(e->key);
    free(e->spec);
    free(e);
    c->count--;
}

static int mem_get(cache *c, const char *key, struct buf *spec)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key, NULL);
    if (e) {
        unlink_recency(c, e);
        push_newest(c, e);
        buf_reset(spec);
        buf_add(spec, e->spec, e->speclen);
    }
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

static void mem_put(cache *c, const char *key, const char *spec, size_t len)
{
    struct entry **slot;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key, &slot);
    if (e) {
        free(e->spec);
        unlink_recency(c, e);
    } else {
        if (c->count == c->capacity) {
            evict_oldest(c);
            find(c, key, &slot); /* eviction may have moved the chain end */
        }
        e = xcalloc(1, sizeof *e);
        e->key = xstrdup(key);
        *slot = e;
        c->count++;
    }
    e->spec = xmemdup(spec, len);
    e->speclen = len;
    push_newest(c, e);
    pthread_mutex_unlock(&c->mu);
}

/* ==== PostgreSQL ==== */

static void log_db(db *owner, const char *what, PGresult *r)
{
    const char *msg = r ? PQresultErrorMessage(r) : db_errmsg(owner);
    size_t n = strcspn(msg, "\n");
    fprintf(stderr, "cache: cannot %s llm_cache: %.*s\n", what, (int)n, msg);
}

/* A row for ever (day '') wins over one for today; *dated tells which was found. */
static int db_get(db *owner, const char *ns, const char *norm, const char *day,
                  struct buf *spec, int *dated)
{
    const char *params[] = {ns, norm, day};
    if (db_ensure(owner)) {
        log_db(owner, "read", NULL);
        return 0;
    }
    PGresult *r = PQexecParams(db_conn(owner),
                               "SELECT spec, day <> '' FROM llm_cache "
                               "WHERE ns = $1 AND question = $2 AND day IN ('', $3) "
                               "ORDER BY day LIMIT 1",
                               3, NULL, params, NULL, NULL, 0);
    int hit = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_db(owner, "read", r);
    } else if (PQntuples(r) == 1) {
        buf_reset(spec);
        buf_add(spec, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        *dated = PQgetvalue(r, 0, 1)[0] == 't';
        hit = 1;
    }
    PQclear(r);
    return hit;
}

static int run(db *owner, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(db_conn(owner), sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        log_db(owner, "write", r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* Rows of days before today can never be hit again. */
static int db_put(db *owner, const char *ns, const char *norm, const char *day,
                  const char *spec)
{
    const char *params[] = {ns, norm, day, spec};
    if (db_ensure(owner)) {
        log_db(owner, "write", NULL);
        return -1;
    }
    if (run(owner,
            "INSERT INTO llm_cache (ns, question, day, spec) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (ns, question, day) DO UPDATE SET spec = EXCLUDED.spec, "
            "created_at = now()",
            4, params))
        return -1;
    return run(owner, "DELETE FROM llm_cache WHERE day <> '' AND day < $1", 1, &params[2]);
}

/* ==== Get and put ==== */

static void make_key(const char *ns, const char *day, const char *norm, struct buf *key)
{
    buf_reset(key);
    buf_addf(key, "%s\x1f%s\x1f%s", ns, day, norm);
}

int cache_get(cache *c, db *owner, const char *ns, const char *question, size_t len,
              int64_t now_us, struct buf *spec)
{
    struct buf norm = BUF_INIT, key = BUF_INIT;
    char day[11];
    int dated = 0;
    local_day(now_us, day);
    cache_normalize(question, len, &norm);
    make_key(ns, "", buf_str(&norm), &key);
    int hit = mem_get(c, buf_str(&key), spec);
    if (!hit) {
        make_key(ns, day, buf_str(&norm), &key);
        hit = mem_get(c, buf_str(&key), spec);
    }
    if (!hit && owner && db_get(owner, ns, buf_str(&norm), day, spec, &dated)) {
        make_key(ns, dated ? day : "", buf_str(&norm), &key);
        mem_put(c, buf_str(&key), spec->p, spec->len);
        hit = 1;
    }
    buf_release(&norm);
    buf_release(&key);
    return hit;
}

int cache_put(cache *c, db *owner, const char *ns, const char *question, size_t len,
              int64_t now_us, const char *spec, size_t speclen)
{
    char day[11];
    int scope = cache_scope(spec, speclen, now_us, day);
    if (scope < 0)
        return 0;
    struct buf norm = BUF_INIT, key = BUF_INIT, text = BUF_INIT;
    cache_normalize(question, len, &norm);
    make_key(ns, scope ? day : "", buf_str(&norm), &key);
    mem_put(c, buf_str(&key), spec, speclen);
    buf_add(&text, spec, speclen); /* NUL-terminated for libpq */
    int rc = owner ? db_put(owner, ns, buf_str(&norm), scope ? day : "", buf_str(&text)) : 0;
    buf_release(&norm);
    buf_release(&key);
    buf_release(&text);
    return rc ? -1 : 1;
}
