/* buf.h: a growable byte buffer, shaped like git's strbuf.
 *
 * Ownership: a struct buf owns `p`. Once anything was added, `p` is NUL-terminated
 * (the NUL is not counted in `len`), so `p` can be used as a C string when the
 * content has no NUL of its own. BUF_INIT is an empty buffer that owns nothing.
 * buf_detach() hands `p` to the caller and leaves the buffer empty; buf_release()
 * frees it. Allocation failure aborts (xalloc.h); no function here fails. */
#ifndef VABOT_BUF_H
#define VABOT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *p;
    size_t len, cap;
};
#define BUF_INIT { NULL, 0, 0 }

void buf_grow(struct buf *b, size_t extra); /* room for `extra` more bytes and a NUL */
void buf_add(struct buf *b, const void *s, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);      /* len = 0, keeps the memory */
void buf_truncate(struct buf *b, size_t len);
const char *buf_str(const struct buf *b); /* "" for an empty buffer, never NULL */
char *buf_detach(struct buf *b, size_t *len);
/* Appends the contents of a file ("-" is standard input), at most max bytes.
 * Returns 0, or -1 with errno set (EFBIG when the file is larger than max). */
int buf_read_file(struct buf *b, const char *path, size_t max);
void buf_release(struct buf *b);
/* buf_release() for a buffer that held a secret (a conninfo with a password, a URL
 * with a token): every byte of its memory is zeroed before it is freed. */
void buf_wipe(struct buf *b);

#endif
