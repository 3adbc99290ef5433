/* xalloc.h: allocation that never returns NULL.
 *
 * vabot is a long-running program, not a library: when memory runs out there is
 * nothing useful to recover, so these print "vabot: out of memory allocating N bytes"
 * and abort(). Sizes that come from outside (a message, an HTTP body, a data file)
 * are checked against a limit by the caller before they reach these functions.
 * Everything returned is freed with free(). */
#ifndef VABOT_XALLOC_H
#define VABOT_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xmemdup(const char *s, size_t len); /* copies len bytes and adds a NUL */

#endif
