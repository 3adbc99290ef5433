/* fuzz_tg_update.c: libFuzzer target for the Telegram update parser and the splitter
 * (src/tg.c). Any bytes as a getUpdates answer: no crash, no leak, every mention span
 * inside its text, and splitting any text makes progress within the limit. */
#include <stdint.h>
#include <stdlib.h>

#include "tg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_split(const char *s, size_t len, size_t max)
{
    for (size_t off = 0; off < len;) {
        size_t n = tg_split(s + off, len - off, max);
        if (n == 0 || n > len - off || (tg_utf16_units(s + off, n) > max && n > 4))
            abort();
        off += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_updates u;
    char err[256];
    if (tg_parse_updates((const char *)data, size, &u, err, sizeof err) == 0) {
        for (size_t i = 0; i < u.n; i++) {
            const struct tg_update *x = &u.v[i];
            for (size_t k = 0; k < x->nmentions; k++)
                if (!x->text || x->mentions[k].off + x->mentions[k].len > x->text_len)
                    abort();
            if (x->text)
                check_split(x->text, x->text_len, 16);
        }
        tg_updates_free(&u);
    }
    check_split((const char *)data, size, 3);
    return 0;
}
