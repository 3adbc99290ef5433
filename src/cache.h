/* cache.h: question -> validated spec, so that a question the LLM already answered
 * costs no network call the next time. Only the spec is cached; the data is always
 * queried fresh.
 *
 * Two levels: an in-memory LRU of bounded size, one per process and shared by its
 * threads (a mutex inside; answer.c makes it), and the table llm_cache
 * (sql/schema.sql), which survives restarts.
 * The table is read and written through the caller's owner connection (db_open), never
 * the reader, which has no rights on it; pass NULL for memory only.
 *
 * A key is the namespace (llm_fingerprint(): it changes with the model, the prompt and
 * the schema and the users' zone), the normalized question and the spec's scope: a spec
 * without time bounds holds for ever; one whose bounds are all midnights of the users'
 * zone (VABOT_TZ, utc.h) holds for the day of `now` in that zone only ("вчера" is
 * another day tomorrow); one with bounds inside a day (relative hours: «за последние 3
 * часа») is never stored. Callers should still run their validator on
 * a hit, since the validator may have changed since the spec was stored.
 *
 * Ownership: cache_free() frees (NULL is fine). cache_get/put copy what they are given. Errors: a database failure is logged to stderr as one line
 * starting with "cache: " and the memory level goes on working: the cache never stops
 * an answer. */
#ifndef VABOT_CACHE_H
#define VABOT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"

typedef struct cache cache;

#define CACHE_DEFAULT_CAPACITY 1024

cache *cache_new(size_t capacity);
void cache_free(cache *c);

/* 1 on a hit (spec replaced by the cached JSON), 0 on a miss. A hit in the table is
 * also kept in memory. ns is the namespace (llm_fingerprint()). */
int cache_get(cache *c, db *owner, const char *ns, const char *question, size_t len,
              int64_t now_us, struct buf *spec);

/* 1 stored, 0 not cacheable (bounds inside a day, or not a spec), -1 the database
 * failed (memory has it all the same). Also drops table rows of past days. */
int cache_put(cache *c, db *owner, const char *ns, const char *question, size_t len,
              int64_t now_us, const char *spec, size_t speclen);

size_t cache_count(cache *c); /* entries in memory */

/* Lowercase (ASCII and Cyrillic), ё -> е, every run of spaces (also U+00A0, U+2009,
 * U+202F) -> one space, no leading or trailing spaces nor trailing "?!.": the questions
 * "Сколько видео?" and "сколько  видео" share one entry. */
void cache_normalize(const char *q, size_t len, struct buf *out);

/* The scope of a spec: 0 for ever, 1 for the day in `day` ("YYYY-MM-DD", the day of
 * now_us in the users' zone), -1 not cacheable. Exposed for tests. */
int cache_scope(const char *spec, size_t len, int64_t now_us, char day[11]);

#endif
