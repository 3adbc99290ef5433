/* fuzz_vrow.c: libFuzzer target for src/vrow.c, one video object of arbitrary bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_POSIX_C_SOURCE=200809L \
 *       -Isrc $(pkg-config --cflags libcjson) tests/fuzz/fuzz_vrow.c src/vrow.c src/jscan.c \
 *       src/utc.c src/buf.c src/xalloc.c $(pkg-config --libs libcjson) -o build/fuzz_vrow
 *   build/fuzz_vrow -max_total_time=60
 *
 * Beyond the sanitizers' checks: a failure leaves both buffers as they were and points
 * inside the object; a success appends whole rows of the right width and nothing a
 * COPY text field would have to escape. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vrow.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_vrow: %s\n", what);
        abort();
    }
}

/* Every line has `tabs` tabs, and no byte a COPY field would escape. */
static void check_rows(const struct buf *b, size_t from, int tabs)
{
    int seen = 0;
    for (size_t i = from; i < b->len; i++) {
        char c = b->p[i];
        check(c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f && c != '\\'),
              "a byte COPY would have to escape");
        if (c == '\t')
            seen++;
        if (c == '\n') {
            check(seen == tabs, "a row of the wrong width");
            seen = 0;
        }
    }
    check(b->len == from || b->p[b->len - 1] == '\n', "an unfinished row");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf video = BUF_INIT, snapshots = BUF_INIT;
    struct vrow_info info;
    buf_adds(&video, "v\n");
    buf_adds(&snapshots, "s\n");
    if (vrow_convert((const char *)data, size, &video, &snapshots, &info)) {
        check(!strcmp(buf_str(&video), "v\n") && !strcmp(buf_str(&snapshots), "s\n"),
              "a failure changed the buffers");
        check(info.at >= 0 && (size_t)info.at <= size, "an error outside the object");
        check(info.error[0] != '\0' && !strchr(info.error, '\n'), "not a one-line message");
    } else {
        check_rows(&video, 2, 8);
        check_rows(&snapshots, 2, 11);
    }
    buf_release(&video);
    buf_release(&snapshots);
    return 0;
}
