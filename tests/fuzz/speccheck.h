/* speccheck.h: what every accepted spec must satisfy, shared by the fuzz targets that
 * end in a spec (fuzz_validate.c, fuzz_nlu.c). Header-only: each target is one
 * program, and these are static.
 *
 * fz_check_spec() aborts (so that libFuzzer keeps the input) unless:
 *  - a supported spec gives SQL, and that SQL is one statement made of whitelisted
 *    words, parameters $1..$n and the literal 'UTC' only: no value reaches the text;
 *  - validation is a fixed point: the canonical JSON of the spec is accepted again and
 *    prints the same, so the cache (which stores that JSON) never changes what a
 *    question means. */
#ifndef VABOT_FUZZ_SPECCHECK_H
#define VABOT_FUZZ_SPECCHECK_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/sqlcheck.h"
#include "sqlgen.h"
#include "text.h"
#include "validate.h"

static void fz_check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz: %s: %s\n", what, detail ? detail : "");
        abort();
    }
}

static void fz_check_sql(const char *sql, int nparams)
{
    const char *why = NULL;
    fz_check(sqlcheck(sql, nparams, &why), why, sql);
}

static void fz_check_spec(const struct spec *s)
{
    struct buf canon = BUF_INIT, again = BUF_INIT, err = BUF_INIT;
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    struct spec s2;
    spec_print(s, SPEC_JSON_CANON, &canon);
    if (s->supported) {
        fz_check(sqlgen_build(s, &q, &err) == 0, "an accepted spec gave no SQL", buf_str(&err));
        fz_check(q.nparams >= 0 && q.nparams <= SQLGEN_MAX_PARAMS, "too many parameters",
                 buf_str(&q.sql));
        for (int i = 0; i < q.nparams; i++)
            fz_check(q.params[i] != NULL, "a missing parameter", buf_str(&q.sql));
        fz_check_sql(buf_str(&q.sql), q.nparams);
    }
    fz_check(validate_json(canon.p, canon.len, &s2, &err) == 0, "the canonical form is refused",
             buf_str(&err));
    spec_print(&s2, SPEC_JSON_CANON, &again);
    fz_check(canon.len == again.len && !memcmp(canon.p, again.p, canon.len),
             "the canonical form is not a fixed point", buf_str(&again));
    sqlgen_release(&q);
    buf_release(&canon);
    buf_release(&again);
    buf_release(&err);
}

/* A reason for a log, a reply or the LLM: one line of printable, valid UTF-8. */
static void fz_check_line(const struct buf *b, const char *what)
{
    size_t at;
    const char *why;
    fz_check(b->len > 0 && text_utf8_check(b->p, b->len, &at, &why) == 0, what, buf_str(b));
    for (size_t i = 0; i < b->len; i++)
        fz_check((unsigned char)b->p[i] >= 0x20 && b->p[i] != 0x7f, what, buf_str(b));
}

#endif
