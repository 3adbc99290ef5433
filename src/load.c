#include "load.h"

#include <stdio.h>

int load_file(db *d, const char *path, int progress, struct load_stats *st, char *err,
              size_t errlen)
{
    (void)d;
    (void)progress;
    (void)st;
    snprintf(err, errlen, "load: %s: the loader is not written yet", path);
    return -1;
}
