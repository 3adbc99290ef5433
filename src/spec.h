/* spec.h: the query spec, the contract between the language side and the database.
 *
 * Both the grammar and the LLM produce a struct spec; validate.h checks it; sqlgen.h
 * turns it into SQL. The JSON form is described by sql/spec.schema.json (sent to the
 * LLM as-is). A struct spec is plain data: no pointers, copy it with `=`.
 *
 * spec_parse() reads JSON into a spec. It rejects structural faults (not an object,
 * unknown or duplicate keys, wrong JSON types, unknown enum values, oversized arrays,
 * malformed times) and returns 0, or -1 with "PATH: what (got VALUE)" in err, PATH as in
 * "filters.conditions[1].op". Semantic checks are validate_spec()'s job.
 * spec_print() appends JSON to a buf: SPEC_JSON_FULL has every key in schema order
 * (what the LLM sends back), SPEC_JSON_CANON sorts keys and leaves out nulls and empty
 * arrays (one line, used by golden tests and the cache), SPEC_JSON_PRETTY indents. */
#ifndef VABOT_SPEC_H
#define VABOT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SPEC_MAX_IDS 50
#define SPEC_MAX_CONDS 8
#define SPEC_ID_MAX 64 /* bytes kept of an id before validation, NUL included */

enum spec_table { SPEC_TABLE_NONE = 0, SPEC_TABLE_VIDEOS, SPEC_TABLE_SNAPSHOTS };

enum spec_agg {
    SPEC_AGG_NONE = 0,
    SPEC_AGG_COUNT,
    SPEC_AGG_COUNT_DISTINCT,
    SPEC_AGG_SUM,
    SPEC_AGG_AVG,
    SPEC_AGG_MIN,
    SPEC_AGG_MAX,
};

enum spec_field {
    SPEC_FIELD_NONE = 0,
    SPEC_FIELD_VIEWS,
    SPEC_FIELD_LIKES,
    SPEC_FIELD_COMMENTS,
    SPEC_FIELD_REPORTS,
    SPEC_FIELD_DELTA_VIEWS,
    SPEC_FIELD_DELTA_LIKES,
    SPEC_FIELD_DELTA_COMMENTS,
    SPEC_FIELD_DELTA_REPORTS,
    SPEC_FIELD_VIDEO_ID,
    SPEC_FIELD_CREATOR_ID,
    SPEC_FIELD_PUBLICATION_DAY,
};

enum spec_op { SPEC_OP_GT = 0, SPEC_OP_GE, SPEC_OP_LT, SPEC_OP_LE, SPEC_OP_EQ, SPEC_OP_NE };

enum spec_reason {
    SPEC_REASON_NONE = 0,
    SPEC_REASON_LIST,
    SPEC_REASON_RANKING,
    SPEC_REASON_NON_NUMERIC,
    SPEC_REASON_WRITE,
    SPEC_REASON_OFF_TOPIC,
    SPEC_REASON_UNKNOWN_METRIC,
    SPEC_REASON_AMBIGUOUS,
};

/* A half-open range [from, to) of UTC instants in microseconds; either end may be
 * missing (has_from / has_to). */
struct spec_range {
    int has_from, has_to;
    int64_t from, to;
};

struct spec_cond {
    enum spec_field field;
    enum spec_op op;
    int64_t value;
};

struct spec {
    int supported;
    enum spec_reason reason;
    enum spec_table table;
    enum spec_agg agg;
    enum spec_field field;
    int n_creators;
    char creator_ids[SPEC_MAX_IDS][SPEC_ID_MAX];
    char creator_prefix[SPEC_ID_MAX]; /* "" when not given */
    int n_videos;
    char video_ids[SPEC_MAX_IDS][SPEC_ID_MAX];
    struct spec_range published; /* videos.video_created_at */
    struct spec_range measured;  /* video_snapshots.created_at */
    int64_t after_pub_us;        /* 0, or snapshots in [publication, publication + this) */
    int n_conds;
    struct spec_cond conds[SPEC_MAX_CONDS];
};

enum spec_json_style { SPEC_JSON_CANON = 0, SPEC_JSON_FULL, SPEC_JSON_PRETTY };

void spec_init(struct spec *s); /* supported, everything else empty */
void spec_unsupported(struct spec *s, enum spec_reason why);
int spec_parse(const char *json, size_t len, struct spec *out, struct buf *err);
void spec_print(const struct spec *s, enum spec_json_style style, struct buf *out);

/* Names as they appear in JSON and SQL; NULL for NONE or an out-of-range value. */
const char *spec_table_name(enum spec_table t);
const char *spec_agg_name(enum spec_agg a);
const char *spec_field_name(enum spec_field f);
const char *spec_op_name(enum spec_op op);
const char *spec_reason_name(enum spec_reason r);
int spec_field_is_count(enum spec_field f); /* the eight numeric columns */
int spec_field_is_delta(enum spec_field f);

/* Lookups by name (len bytes); return -1 when unknown. */
int spec_field_by_name(const char *s, size_t len);
int spec_op_by_name(const char *s, size_t len);

#endif
