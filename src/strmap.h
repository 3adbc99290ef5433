/* strmap.h: a string-keyed hash map (open addressing), for lexicons and caches.
 *
 * Ownership: strmap_put() copies the key; values are the caller's (void *), never freed
 * by the map. strmap_free() accepts NULL. Allocation failure aborts. Lookups take a
 * (pointer, length) key, so tokens need not be NUL-terminated. */
#ifndef VABOT_STRMAP_H
#define VABOT_STRMAP_H

#include <stddef.h>

typedef struct strmap strmap;

strmap *strmap_new(void);
void strmap_free(strmap *m);
/* Returns the previous value of the key, or NULL. */
void *strmap_put(strmap *m, const char *key, size_t len, void *value);
void *strmap_get(const strmap *m, const char *key, size_t len);
size_t strmap_count(const strmap *m);

#endif
