/* fuzz_load_scan.c: libFuzzer target for the streaming loader's scanner (src/jscan.c),
 * fed arbitrary file bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_POSIX_C_SOURCE=200809L \
 *       -Isrc tests/fuzz/fuzz_load_scan.c src/jscan.c src/xalloc.c -o build/fuzz_load_scan
 *   build/fuzz_load_scan -max_total_time=60
 *
 * Besides the sanitizers' checks, it compares two scans of the same input: one fed
 * whole and one fed in chunks whose sizes come from the first input byte. Chunk
 * boundaries must change nothing: the same objects at the same offsets, and the same
 * error at the same offset. Every object must also start with '{', end with '}', lie
 * inside the input at its offset and fit under the limit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"

#define MAX_OBJECT 4096
#define MAX_OBJECTS 256

struct result {
    int n, rc;
    long long off[MAX_OBJECTS];
    size_t len[MAX_OBJECTS];
    long long err_offset, err_index;
    char err[160];
};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_load_scan: %s\n", what);
        abort();
    }
}

static void scan(const uint8_t *data, size_t size, size_t chunk, struct result *r)
{
    jscan *s = jscan_new("videos", MAX_OBJECT, 3);
    int rc = JSCAN_MORE;
    memset(r, 0, sizeof *r);
    for (size_t pos = 0; pos < size && rc != JSCAN_ERROR;) {
        size_t n = size - pos < chunk ? size - pos : chunk, used;
        rc = jscan_feed(s, (const char *)data + pos, n, &used);
        check(used <= n, "used more than it was given");
        check(rc == JSCAN_ERROR || rc == JSCAN_OBJECT || used == n, "stopped early without cause");
        pos += used;
        if (rc == JSCAN_OBJECT) {
            size_t len;
            const char *o = jscan_object(s, &len);
            long long off = jscan_object_offset(s);
            check(len >= 2 && len <= MAX_OBJECT && o[0] == '{' && o[len - 1] == '}' && !o[len],
                  "object shape");
            check(off >= 0 && (size_t)off + len <= pos && !memcmp(data + off, o, len),
                  "object bytes differ from the input at its offset");
            check(jscan_object_index(s) == r->n, "object index");
            if (r->n < MAX_OBJECTS) {
                r->off[r->n] = off;
                r->len[r->n] = len;
            }
            r->n++;
        }
    }
    if (rc != JSCAN_ERROR)
        rc = jscan_finish(s);
    r->rc = rc;
    if (rc == JSCAN_ERROR) {
        r->err_offset = jscan_error_offset(s);
        r->err_index = jscan_error_index(s);
        snprintf(r->err, sizeof r->err, "%s", jscan_errmsg(s));
        check(r->err_offset >= 0 && (size_t)r->err_offset <= size, "error offset outside the input");
        check(r->err[0] != '\0', "error without a message");
    }
    jscan_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct result whole, parts;
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 16) + 1;
    data++;
    size--;
    scan(data, size, size ? size : 1, &whole);
    scan(data, size, chunk, &parts);
    check(whole.rc == parts.rc && whole.n == parts.n, "chunking changed the outcome");
    for (int i = 0; i < whole.n && i < MAX_OBJECTS; i++)
        check(whole.off[i] == parts.off[i] && whole.len[i] == parts.len[i], "chunking changed an object");
    check(whole.err_offset == parts.err_offset && whole.err_index == parts.err_index &&
              !strcmp(whole.err, parts.err),
          "chunking changed the error");
    return 0;
}
