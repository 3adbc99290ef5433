/* fuzz_llm_reply.c: libFuzzer target for the OpenAI reply parser llm_reply_parse()
 * (src/llm.c) and the secret scrubber llm_scrub(). The input is an HTTP reply body,
 * optionally preceded by a status line of three digits and '\n' (else 200):
 *   make FUZZ=1 build/fuzz/libvabot.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_POSIX_C_SOURCE=200809L \
 *       -Isrc tests/fuzz/fuzz_llm_reply.c build/fuzz/libvabot.a $(pkg-config --libs \
 *       libcurl libcjson) -lpthread -o build/fuzz/fuzz_llm_reply
 *   build/fuzz/fuzz_llm_reply -dict=tests/fuzz/llm_reply.dict CORPUS_DIR
 *
 * What must hold: a known status; LLM_OK only with content that is a JSON object; the
 * reason and the error code are one printable line each (they go to the log as
 * "llm: ..."); after scrubbing, neither the key nor anything shaped like "sk-..." is
 * left in the reason. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "sk-fuzz-0123456789SECRET"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_llm_reply: %s: %s\n", what, detail);
        abort();
    }
}

static int one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int has_key_shape(const char *s)
{
    for (const char *p = strstr(s, "sk-"); p; p = strstr(p + 1, "sk-"))
        if ((p == s || !isalnum((unsigned char)p[-1])) && isalnum((unsigned char)p[3]))
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct llm_reply r;
    long http = 200;
    const char *body = (const char *)data;
    if (size >= 4 && data[3] == '\n' && isdigit(data[0]) && isdigit(data[1]) && isdigit(data[2])) {
        http = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
        body += 4;
        size -= 4;
    }
    llm_reply_parse(&r, http, body, size);
    check(r.status == LLM_OK || r.status == LLM_NOT_UNDERSTOOD || r.status == LLM_EAPI ||
              r.status == LLM_EHTTP || r.status == LLM_EJSON,
          "an unknown status", r.why);
    check(one_line(r.why, sizeof r.why) && r.why[0], "the reason is not one printable line", r.why);
    check(one_line(r.code, sizeof r.code), "the error code is not one printable line", r.code);
    check(r.status != LLM_EAPI || r.code[0], "an API error without a code", r.why);
    if (r.status == LLM_OK) {
        cJSON *spec = cJSON_ParseWithLength(r.content.p, r.content.len);
        check(cJSON_IsObject(spec), "LLM_OK with content that is not a JSON object",
              buf_str(&r.content));
        cJSON_Delete(spec);
    }
    char why[sizeof r.why];
    memcpy(why, r.why, sizeof why);
    llm_scrub(why, KEY);
    check(!strstr(why, KEY) && !has_key_shape(why), "a key survived scrubbing", why);
    llm_reply_release(&r);
    return 0;
}
