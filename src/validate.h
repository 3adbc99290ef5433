/* validate.h: the one gate every spec passes, whoever produced it.
 *
 * validate_spec() checks a parsed spec against the rules the SQL generator relies on:
 * the table, aggregation and field fit together, conditions name numeric columns of the
 * table, time ranges are real and not inverted, ids have the shape of ids. It normalizes
 * ids in place (lowercase; creator ids without dashes, video ids in the dashed UUID
 * form). validate_json() is spec_parse() followed by validate_spec(): the path of the
 * LLM and of `vabot spec check`.
 * Both return 0, or -1 with "PATH: what (got VALUE)" in err. */
#ifndef VABOT_VALIDATE_H
#define VABOT_VALIDATE_H

#include <stddef.h>

#include "buf.h"
#include "spec.h"

/* Bounds of time ranges a spec may name: [2000-01-01, 2100-01-01). */
#define VALIDATE_MIN_YEAR 2000
#define VALIDATE_MAX_YEAR 2100
/* Bound of |value| in conditions: far beyond any count, far below int64 overflow. */
#define VALIDATE_MAX_VALUE 1000000000000000LL

int validate_spec(struct spec *s, struct buf *err);
int validate_json(const char *json, size_t len, struct spec *out, struct buf *err);

#endif
