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

TEST(memory_hit_for_another_wording)
{
    cache *c = cache_new(8, "ns");
    struct buf spec = BUF_INIT;
    int64_t now = at("2025-12-03T08:30:00Z");
    CHECK_INT(cache_get(c, NULL, "Сколько видео?", strlen("Сколько видео?"), now, &spec), 0);
    CHECK_INT(cache_put(c, NULL, "Сколько видео?", strlen("Сколько видео?"), now, spec_forever,
                        sizeof spec_forever - 1), 1);
    CHECK_INT(cache_get(c, NULL, "сколько  ВИДЕО", strlen("сколько  ВИДЕО"), now, &spec), 1);
    CHECK_STR(buf_str(&spec), spec_forever);
    /* a spec without time bounds holds on any day */
    CHECK_INT(cache_get(c, NULL, "сколько видео", strlen("сколько видео"), at("2026-05-01T00:00:00Z"), &spec), 1);
    buf_release(&spec);
    cache_free(c);
}

TEST(dated_specs_hold_for_their_day_only)
{
    cache *c = cache_new(8, "ns");
    struct buf spec = BUF_INIT;
    const char q[] = "Сколько видео вышло вчера?";
    CHECK_INT(cache_put(c, NULL, q, sizeof q - 1, at("2025-12-03T08:30:00Z"), spec_days,
                        sizeof spec_days - 1), 1);
    CHECK_INT(cache_get(c, NULL, q, sizeof q - 1, at("2025-12-03T23:59:59Z"), &spec), 1);
    CHECK_INT(cache_get(c, NULL, q, sizeof q - 1, at("2025-12-04T00:00:00Z"), &spec), 0);
    CHECK_INT(cache_put(c, NULL, q, sizeof q - 1, at("2025-12-03T08:30:00Z"), spec_hours,
                        sizeof spec_hours - 1), 0);
    CHECK_INT(cache_count(c), 1);
    buf_release(&spec);
    cache_free(c);
}

TEST(least_recently_used_is_evicted)
{
    cache *c = cache_new(2, "ns");
    struct buf spec = BUF_INIT;
    cache_put(c, NULL, "a", 1, 0, spec_forever, sizeof spec_forever - 1);
    cache_put(c, NULL, "b", 1, 0, spec_forever, sizeof spec_forever - 1);
    CHECK_INT(cache_get(c, NULL, "a", 1, 0, &spec), 1); /* a is now the newest */
    cache_put(c, NULL, "c", 1, 0, spec_forever, sizeof spec_forever - 1);
    CHECK_INT(cache_count(c), 2);
    CHECK_INT(cache_get(c, NULL, "b", 1, 0, &spec), 0);
    CHECK_INT(cache_get(c, NULL, "a", 1, 0, &spec), 1);
    CHECK_INT(cache_get(c, NULL, "c", 1, 0, &spec), 1);
    cache_put(c, NULL, "c", 1, 0, spec_days, sizeof spec_days - 1); /* replaces, no growth */
    CHECK_INT(cache_count(c), 2);
    buf_release(&spec);
    cache_free(c);
    cache_free(NULL);
}

struct worker {
    cache *c;
    int id, hits;
};

static void *hammer(void *p)
{
    struct worker *w = p;
    struct buf spec = BUF_INIT;
    char q[32];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(q, sizeof q, "q%d", (i * 7 + w->id) % 50);
        if (cache_get(w->c, NULL, q, (size_t)n, 0, &spec))
            w->hits += !strcmp(buf_str(&spec), spec_forever);
        else
            cache_put(w->c, NULL, q, (size_t)n, 0, spec_forever, sizeof spec_forever - 1);
    }
    buf_release(&spec);
    return NULL;
}

TEST(shared_between_threads)
{
    cache *c = cache_new(16, "ns");
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i, 0};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    int hits = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        hits += w[i].hits;
    }
    CHECK_INT(cache_count(c), 16);
    CHECK(hits > 0);
    cache_free(c);
}

int main(void)
{
    RUN(normalize_folds_case_yo_spaces_and_final_punctuation);
    RUN(scope_by_time_bounds);
    RUN(memory_hit_for_another_wording);
    RUN(dated_specs_hold_for_their_day_only);
    RUN(least_recently_used_is_evicted);
    RUN(shared_between_threads);
    return th_finish();
}
