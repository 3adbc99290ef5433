/* vrow.h: one video object of videos.json turned into rows for COPY.
 *
 * vrow_convert() parses the JSON text of one video object (as jscan.h cuts it out)
 * with cJSON, checks it against the format and appends, in PostgreSQL's COPY text
 * format, one row for table videos to `video` and one per snapshot to `snapshots`,
 * with the columns of vrow_columns(). Checked: the JSON itself; every key present
 * once and no other; types; integers that a double holds exactly; final counts >= 0
 * (deltas may be negative); timestamps (any offset, stored in UTC); ids (32 hex
 * digits with or without UUID dashes, either case); each snapshot's video_id equal
 * to its video's id. Stored forms: video ids as dashed lowercase UUIDs, creator and
 * snapshot ids as 32 lowercase hex digits, times as "YYYY-MM-DD HH:MM:SS.ffffff+00".
 * Every stored form is made of hex digits, digits and time punctuation, so no field
 * ever needs COPY escaping.
 * Ownership: the caller owns the buffers and info. Errors: vrow_convert() returns 0,
 * or -1 with both buffers as they were and info->error set to one line such as
 * "snapshots[4].likes_count: -1 is negative", info->at to the 0-based offset inside
 * the object of the value (or object) it is about. */
#ifndef VABOT_VROW_H
#define VABOT_VROW_H

#include <stddef.h>

#include "buf.h"

/* The deepest a video may nest: the video object, its snapshots array, a snapshot. */
#define VROW_DEPTH 3

enum vrow_table { VROW_VIDEOS, VROW_SNAPSHOTS };

struct vrow_info {
    char id[40];         /* the video's stored id; "" when it is missing or invalid */
    long long snapshots; /* rows appended to snapshots */
    long long at;        /* after an error: where, inside the object */
    char error[240];
};

/* Appends "col, col, ..." in row order: what COPY table (...) needs. */
void vrow_columns(enum vrow_table table, struct buf *out);

int vrow_convert(const char *obj, size_t len, struct buf *video, struct buf *snapshots,
                 struct vrow_info *info);

#endif
