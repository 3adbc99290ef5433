/* load.h: streams a videos.json file into PostgreSQL.
 *
 * The file (or standard input, for the path "-") is read in chunks and cut into video
 * objects by jscan.h; one video at a time is parsed and checked, never the outer
 * array, so memory is bounded by the largest video object (VABOT_LOAD_MAX_OBJECT
 * bytes, default LOAD_MAX_OBJECT; a bigger one is refused before it is buffered).
 * Rows go to the tables of sql/schema.sql with COPY on the owner connection, in one
 * transaction that REPLACES the previous contents of videos and video_snapshots:
 * a load either fully succeeds or leaves both tables exactly as they were. Times are
 * stored in UTC whatever offset the file uses; ids are lowercased, video ids in the
 * dashed UUID form, creator and snapshot ids as 32 hex digits (either input form is
 * accepted).
 * Errors: load_file() returns 0, or -1 with one line in err, "load: FILE: byte N: video
 * I (0-based, id X): what", naming the 0-based byte offset, and the 0-based video
 * index and its id where they apply. */
#ifndef VABOT_LOAD_H
#define VABOT_LOAD_H

#include <stddef.h>

#include "db.h"

#define LOAD_MAX_OBJECT (64L << 20)
/* The most VABOT_LOAD_MAX_OBJECT may say: the object and its rows are held in memory. */
#define LOAD_MAX_OBJECT_LIMIT (1L << 30)

struct load_stats {
    long long videos, snapshots, bytes;
    double seconds;
};

/* progress: print a progress line to stderr while loading (for a terminal). */
int load_file(db *d, const char *path, int progress, struct load_stats *st, char *err,
              size_t errlen);

#endif
