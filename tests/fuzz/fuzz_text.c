/* fuzz_text.c: libFuzzer target for the whole front part (text, ids, dates, numbers).
 *
 * Any input must either be refused with a one-line error or give tokens that lie in
 * order inside the normalized text; anything else aborts so that libFuzzer keeps the
 * input. The first 4 bytes also pick `now` (1970..2106), so that date arithmetic is
 * exercised at month, year and leap-day edges.
 *   clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Isrc tests/fuzz/fuzz_text.c src/text.c src/numbers.c src/dates.c src/utc.c \
 *     src/buf.c src/xalloc.c -lpthread -o build/fuzz_text
 *   build/fuzz_text -dict=tests/fuzz/text.dict -max_total_time=60 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "utc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_doc(const struct text_doc *d)
{
    size_t at;
    const char *why;
    if (text_utf8_check(d->norm, d->norm_len, &at, &why) || strlen(d->norm) != d->norm_len)
        abort();
    for (size_t i = 0; i < d->ntoks; i++) {
        const struct tok *t = &d->toks[i];
        if (t->start >= t->end || t->end > d->norm_len || t->s != d->norm + t->start ||
            (i && t->start < d->toks[i - 1].end))
            abort();
        if (t->kind == TOK_TIMEWIN && !(t->flags & TOK_F_BAD_DATE) &&
            (t->from < 0 || t->to > 86400 || t->from >= t->to))
            abort();
        if (t->kind == TOK_DATE && !(t->flags & TOK_F_BAD_DATE) && t->from >= t->to)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct text_doc d;
    static int ready;
    int64_t now = 0;
    if (!ready) {
        text_doc_init(&d, 0);
        ready = 1;
    }
    if (size >= 4) {
        now = (int64_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                        (uint32_t)data[2] << 8 | data[3]) * UTC_US_PER_SEC;
        data += 4;
        size -= 4;
    }
    int rc = text_analyze(&d, (const char *)data, size, now);
    if (rc == TEXT_OK)
        check_doc(&d);
    else if (rc != TEXT_EUTF8 && rc != TEXT_ETOOLONG)
        abort();
    return 0;
}
