/* load.h: streams a videos.json file into PostgreSQL.
 *
 * The file is read in chunks; one video object at a time is held in memory, never
 * the outer array. Rows go to the server with COPY inside one transaction that
 * replaces the previous data, so a load either fully succeeds or leaves the tables
 * exactly as they were. Errors: load_file() returns 0, or -1 with one line in err
 * naming the file, the video (index and id when known), the byte offset and what
 * was wrong. */
#ifndef VABOT_LOAD_H
#define VABOT_LOAD_H

#include <stddef.h>

#include "db.h"

struct load_stats {
    long long videos, snapshots, bytes;
    double seconds;
};

/* progress: print a progress line to stderr while loading (for a terminal). */
int load_file(db *d, const char *path, int progress, struct load_stats *st, char *err,
              size_t errlen);

#endif
