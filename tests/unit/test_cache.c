/* test_cache.c: normalization, scope and the in-memory LRU of src/cache.c (no
 * database: the table level is covered by tests/e2e/qlog.sh). */
#include <pthread.h>

#include "cache.h"
#include "testhelp.h"
#include "utc.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    utc_parse(iso, strlen(iso), &t);
    return t;
}

#define CHECK_NORM(in, want)                       \
    do {                                           \
        struct buf n_ = BUF_INIT;                  \
        cache_normalize((in), strlen(in), &n_);    \
        CHECK_STR(buf_str(&n_), (want));           \
        buf_release(&n_);                          \
    } while (0)

#define SPEC_TIMES(from, to)                                                             \
    "{\"supported\":true,\"reason\":null,\"table\":\"videos\",\"aggregation\":\"count\"," \
    "\"field\":null,\"filters\":{\"creator_ids\":[],\"creator_prefix\":null,"            \
    "\"video_ids\":[],\"published_from\":" from ",\"published_to\":" to ","              \
    "\"measured_from\":null,\"measured_to\":null,\"hours_after_publication\":null,"      \
    "\"conditions\":[]}}"

static const char spec_forever[] = SPEC_TIMES("null", "null");
static const char spec_days[] = SPEC_TIMES("\"2025-12-02T00:00:00Z\"", "\"2025-12-03T00:00:00Z\"");
static const char spec_hours[] = SPEC_TIMES("\"2025-12-03T05:30:00Z\"", "\"2025-12-03T08:30:00Z\"");

TEST(normalize_folds_case_yo_spaces_and_final_punctuation)
{
    CHECK_NORM("  Сколько   ВИДЕО\tу Ёжика?? ", "сколько видео у ежика");
    CHECK_NORM("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", "абвгдежзийклмнопрстуфхцчшщъыьэюя");
    CHECK_NORM("ёЁ ABC xyz", "ее abc xyz");
    CHECK_NORM("больше\xC2\xA0" "100\xE2\x80\xAF" "000!", "больше 100 000");
    CHECK_NORM("id aca1061a? и т.д.", "id aca1061a? и т.д");
    CHECK_NORM("?!.", "");
    CHECK_NORM("", "");
    CHECK_NORM("\xFF\xFE", "\xFF\xFE"); /* bytes it does not know are kept */
}

TEST(scope_by_time_bounds)
{
    char day[11];
    int64_t now = at("2025-12-03T08:30:00Z");
    CHECK_INT(cache_scope(spec_forever, sizeof spec_forever - 1, now, day), 0);
    CHECK_INT(cache_scope(spec_days, sizeof spec_days - 1, now, day), 1);
    CHECK_STR(day, "2025-12-03");
    CHECK_INT(cache_scope(spec_hours, sizeof spec_hours - 1, now, day), -1);
    const char bad_time[] = SPEC_TIMES("\"yesterday\"", "null");
    CHECK_INT(cache_scope(bad_time, sizeof bad_time - 1, now, day), -1);
    CHECK_INT(cache_scope("{\"supported\":", 13, now, day), -1);
    CHECK_INT(cache_scope("[]", 2, now, day), -1);
}

/* In Europe/Moscow a day starts at 21:00 UTC the day before: "вчера" asked at 01:30 on
 * 4 December there is 3 December there, and holds until 21:00 UTC on the 4th. */
TEST(scope_and_day_in_the_users_zone)
{
    char day[11];
    const char msk_day[] = SPEC_TIMES("\"2025-12-02T21:00:00Z\"", "\"2025-12-03T21:00:00Z\"");
    CHECK(utc_set_zone("Europe/Moscow") == 0);
    int64_t now = at("2025-12-03T22:30:00Z");
    CHECK_INT(cache_scope(msk_day, sizeof msk_day - 1, now, day), 1);
    CHECK_STR(day, "2025-12-04");
    CHECK_INT(cache_scope(spec_days, sizeof spec_days - 1, now, day), -1); /* UTC midnights */
    cache *c = cache_new(8);
    struct buf spec = BUF_INIT;
    const char q[] = "Сколько видео вышло вчера?";
    CHECK_INT(cache_put(c, NULL, "ns", q, sizeof q - 1, now, msk_day, sizeof msk_day - 1), 1);
    CHECK_INT(cache_get(c, NULL, "ns", q, sizeof q - 1, at("2025-12-04T20:59:59Z"), &spec), 1);
    CHECK_INT(cache_get(c, NULL, "ns", q, sizeof q - 1, at("2025-12-04T21:00:00Z"), &spec), 0);
    buf_release(&spec);
    cache_free(c);
    utc_set_zone(NULL);
}

TEST(memory_hit_for_another_wording)
{
    cache *c = cache_new(8);
    struct buf spec = BUF_INIT;
    int64_t now = at("2025-12-03T08:30:00Z");
    CHECK_INT(cache_get(c, NULL, "ns", "Сколько видео?", strlen("Сколько видео?"), now, &spec), 0);
    CHECK_INT(cache_put(c, NULL, "ns", "Сколько видео?", strlen("Сколько видео?"), now, spec_forever,
                        sizeof spec_forever - 1), 1);
    CHECK_INT(cache_get(c, NULL, "ns", "сколько  ВИДЕО", strlen("сколько  ВИДЕО"), now, &spec), 1);
    CHECK_STR(buf_str(&spec), spec_forever);
    /* a spec without time bounds holds on any day */
    CHECK_INT(cache_get(c, NULL, "ns", "сколько видео", strlen("сколько видео"), at("2026-05-01T00:00:00Z"), &spec), 1);
    buf_release(&spec);
    cache_free(c);
}

TEST(dated_specs_hold_for_their_day_only)
{
    cache *c = cache_new(8);
    struct buf spec = BUF_INIT;
    const char q[] = "Сколько видео вышло вчера?";
    CHECK_INT(cache_put(c, NULL, "ns", q, sizeof q - 1, at("2025-12-03T08:30:00Z"), spec_days,
                        sizeof spec_days - 1), 1);
    CHECK_INT(cache_get(c, NULL, "ns", q, sizeof q - 1, at("2025-12-03T23:59:59Z"), &spec), 1);
    CHECK_INT(cache_get(c, NULL, "ns", q, sizeof q - 1, at("2025-12-04T00:00:00Z"), &spec), 0);
    CHECK_INT(cache_put(c, NULL, "ns", q, sizeof q - 1, at("2025-12-03T08:30:00Z"), spec_hours,
                        sizeof spec_hours - 1), 0);
    CHECK_INT(cache_count(c), 1);
    buf_release(&spec);
    cache_free(c);
}

TEST(least_recently_used_is_evicted)
{
    cache *c = cache_new(2);
    struct buf spec = BUF_INIT;
    cache_put(c, NULL, "ns", "a", 1, 0, spec_forever, sizeof spec_forever - 1);
    cache_put(c, NULL, "ns", "b", 1, 0, spec_forever, sizeof spec_forever - 1);
    CHECK_INT(cache_get(c, NULL, "ns", "a", 1, 0, &spec), 1); /* a is now the newest */
    cache_put(c, NULL, "ns", "c", 1, 0, spec_forever, sizeof spec_forever - 1);
    CHECK_INT(cache_count(c), 2);
    CHECK_INT(cache_get(c, NULL, "ns", "b", 1, 0, &spec), 0);
    CHECK_INT(cache_get(c, NULL, "ns", "a", 1, 0, &spec), 1);
    CHECK_INT(cache_get(c, NULL, "ns", "c", 1, 0, &spec), 1);
    cache_put(c, NULL, "ns", "c", 1, 0, spec_days, sizeof spec_days - 1); /* replaces, no growth */
    CHECK_INT(cache_count(c), 2);
    buf_release(&spec);
    cache_free(c);
    cache_free(NULL);
}

TEST(namespaces_never_share_an_entry)
{
    cache *c = cache_new(8);
    struct buf spec = BUF_INIT;
    CHECK_INT(cache_put(c, NULL, "model-a", "q", 1, 0, spec_forever, sizeof spec_forever - 1), 1);
    CHECK_INT(cache_get(c, NULL, "model-b", "q", 1, 0, &spec), 0);
    CHECK_INT(cache_get(c, NULL, "model-a", "q", 1, 0, &spec), 1);
    buf_release(&spec);
    cache_free(c);
}

/* Each thread asks its own questions and the shared ones (what the bot's workers do);
 * every spec names its question, so an entry served for the wrong key shows. */
#define HAMMER_ROUNDS 2000
#define HAMMER_KEYS 50

struct worker {
    cache *c;
    int id, hits, misses, wrong;
};

static void spec_for(const char *q, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "{\"filters\":{},\"question\":\"%s\"}", q);
}

static void *hammer(void *p)
{
    struct worker *w = p;
    struct buf spec = BUF_INIT, want = BUF_INIT;
    char q[32];
    for (int i = 0; i < HAMMER_ROUNDS; i++) {
        int n = snprintf(q, sizeof q, "q%d", (i * 7 + w->id) % HAMMER_KEYS);
        spec_for(q, &want);
        if (cache_get(w->c, NULL, "ns", q, (size_t)n, 0, &spec)) {
            w->hits++;
            w->wrong += strcmp(buf_str(&spec), buf_str(&want)) != 0;
        } else {
            w->misses++;
            cache_put(w->c, NULL, "ns", q, (size_t)n, 0, want.p, want.len);
        }
    }
    buf_release(&spec);
    buf_release(&want);
    return NULL;
}

/* Runs 4 hammering threads on c; returns the sums in *total. */
static void hammer_threads(cache *c, struct worker *total)
{
    struct worker w[4];
    pthread_t t[4];
    memset(total, 0, sizeof *total);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i, 0, 0, 0};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total->hits += w[i].hits;
        total->misses += w[i].misses;
        total->wrong += w[i].wrong;
    }
}

/* Smaller than the set of questions: evictions race with hits. Whatever the
 * interleaving, an entry is never served for another question and the size holds. */
TEST(shared_between_threads_under_eviction)
{
    cache *c = cache_new(16);
    struct worker total;
    hammer_threads(c, &total);
    CHECK_INT(cache_count(c), 16);
    CHECK_INT(total.wrong, 0);
    CHECK_INT(total.hits + total.misses, 4 * HAMMER_ROUNDS);
    cache_free(c);
}

/* Room for every question: once a thread has met a question it stays, so each thread
 * misses at most once per question, however the threads interleave. */
TEST(shared_between_threads_without_eviction)
{
    cache *c = cache_new(2 * HAMMER_KEYS);
    struct worker total;
    hammer_threads(c, &total);
    CHECK_INT(cache_count(c), HAMMER_KEYS);
    CHECK_INT(total.wrong, 0);
    CHECK(total.misses <= 4 * HAMMER_KEYS);
    CHECK(total.hits >= 4 * (HAMMER_ROUNDS - HAMMER_KEYS));
    cache_free(c);
}

int main(void)
{
    RUN(normalize_folds_case_yo_spaces_and_final_punctuation);
    RUN(scope_by_time_bounds);
    RUN(scope_and_day_in_the_users_zone);
    RUN(memory_hit_for_another_wording);
    RUN(dated_specs_hold_for_their_day_only);
    RUN(least_recently_used_is_evicted);
    RUN(namespaces_never_share_an_entry);
    RUN(shared_between_threads_under_eviction);
    RUN(shared_between_threads_without_eviction);
    return th_finish();
}
