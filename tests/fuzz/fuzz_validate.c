/* fuzz_validate.c: libFuzzer target for the one gate of every spec: arbitrary bytes as
 * JSON through validate_json() (src/spec.c, src/validate.c), then sqlgen_build()
 * (src/sqlgen.c). tests/fuzz/run.sh builds it against all of src/ as one archive:
 *   make FUZZ=1 build/fuzz/libvabot.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_POSIX_C_SOURCE=200809L \
 *       -Isrc tests/fuzz/fuzz_validate.c build/fuzz/libvabot.a \
 *       $(pkg-config --libs libcjson) -o build/fuzz/fuzz_validate
 *   build/fuzz/fuzz_validate -dict=tests/fuzz/validate.dict CORPUS_DIR
 *
 * A rejection says why on one line; every accepted spec satisfies speccheck.h (SQL
 * from the whitelist only, canonical form a fixed point). */
#include <stdint.h>

#include "speccheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spec s;
    struct buf err = BUF_INIT;
    if (validate_json((const char *)data, size, &s, &err) == 0)
        fz_check_spec(&s);
    else
        fz_check_line(&err, "a rejection must say why on one line");
    buf_release(&err);
    return 0;
}
