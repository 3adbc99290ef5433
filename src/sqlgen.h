/* sqlgen.h: the only place where SQL is written from a question.
 *
 * sqlgen_build() turns a validated, supported spec into one SELECT that returns exactly
 * one number, with every value passed as a parameter ($1, $2, ...) in text form and
 * every identifier taken from a fixed whitelist. Time ranges are written as
 * `column >= $a AND column < $b` on the bare column, so PostgreSQL can use the indexes.
 * Where one of the loader's rollups (sql/schema.sql) provably gives the same number as
 * the raw snapshots, the query reads the rollup instead (sqlgen.c says when).
 * Empty sets: count and sum give 0 (COALESCE); avg, min and max also give 0 — the same
 * answer as for an unknown creator or video, which is what users expect of "nothing".
 * avg is rounded to the nearest integer (halves away from zero).
 *
 * Ownership: a struct sqlgen_query owns its SQL text and parameter strings until
 * sqlgen_release(). Errors: sqlgen_build() returns 0, or -1 with a reason in err when the
 * spec was not validated (a programming error, reported rather than trusted). */
#ifndef VABOT_SQLGEN_H
#define VABOT_SQLGEN_H

#include "buf.h"
#include "spec.h"

#define SQLGEN_MAX_PARAMS 24

struct sqlgen_query {
    struct buf sql;
    int nparams;
    char *params[SQLGEN_MAX_PARAMS];
};

#define SQLGEN_QUERY_INIT { BUF_INIT, 0, { NULL } }

int sqlgen_build(const struct spec *s, struct sqlgen_query *q, struct buf *err);
/* sqlgen_build() with flags. SQLGEN_NO_ROLLUPS: read only videos and video_snapshots,
 * never the loader's rollups (to compare the two, or for a database without them). */
#define SQLGEN_NO_ROLLUPS 1u
int sqlgen_build_opts(const struct spec *s, unsigned flags, struct sqlgen_query *q,
                      struct buf *err);
/* The query that counts the creators a creator_prefix matches (more than one means the
 * shortened id is ambiguous and must not be answered). */
void sqlgen_prefix_creators(const char *prefix, struct sqlgen_query *q);
/* The parameters as a JSON array of strings. */
void sqlgen_params_json(const struct sqlgen_query *q, struct buf *out);
void sqlgen_release(struct sqlgen_query *q);

#endif
