#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct slot {
    char *key; /* NULL: empty */
    size_t len;
    uint64_t hash;
    void *value;
};

struct strmap {
    struct slot *slots;
    size_t cap, count; /* cap is a power of two, kept at most half full */
};

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

strmap *strmap_new(void)
{
    strmap *m = xcalloc(1, sizeof *m);
    m->cap = 64;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void strmap_free(strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static struct slot *find(const strmap *m, const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        struct slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
            return s;
    }
}

static void grow(strmap *m)
{
    struct slot *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            *find(m, old[i].key, old[i].len, old[i].hash) = old[i];
    free(old);
}

void *strmap_put(strmap *m, const char *key, size_t len, void *value)
{
    uint64_t h = fnv1a(key, len);
    struct slot *s = find(m, key, len, h);
    if (s->key) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    s->key = xmemdup(key, len);
    s->len = len;
    s->hash = h;
    s->value = value;
    if (++m->count * 2 > m->cap)
        grow(m);
    return NULL;
}

void *strmap_get(const strmap *m, const char *key, size_t len)
{
    struct slot *s = find(m, key, len, fnv1a(key, len));
    return s->key ? s->value : NULL;
}

size_t strmap_count(const strmap *m)
{
    return m->count;
}
