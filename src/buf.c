#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void buf_grow(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < ((size_t)-1) / 2 ? cap * 2 : need;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void buf_add(struct buf *b, const void *s, size_t n)
{
    buf_grow(b, n);
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

/* Format into the spare room first and grow only when it did not fit, as git's
 * strbuf_vaddf does; measuring with vsnprintf(NULL, 0, ...) trips gcc's
 * -Wformat-truncation under the sanitizer build. */
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    buf_grow(b, 64);
    va_copy(cp, ap);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, cp);
    va_end(cp);
    if (n < 0) {
        b->p[b->len] = '\0';
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        buf_grow(b, (size_t)n);
        va_copy(cp, ap);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, cp);
        va_end(cp);
        if (n < 0) {
            b->p[b->len] = '\0';
            return;
        }
    }
    b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void buf_reset(struct buf *b)
{
    buf_truncate(b, 0);
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->p[len] = '\0';
    }
}

const char *buf_str(const struct buf *b)
{
    return b->p ? b->p : "";
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->p ? b->p : xstrdup("");
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_release(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void buf_wipe(struct buf *b)
{
    /* volatile: a store into memory about to be freed is otherwise dead to the compiler */
    for (volatile char *p = b->p; p && p < b->p + b->cap; p++)
        *p = 0;
    buf_release(b);
}

int buf_read_file(struct buf *b, const char *path, size_t max)
{
    int use_stdin = !strcmp(path, "-");
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    size_t start = b->len, n;
    if (!f)
        return -1;
    do {
        buf_grow(b, 8192);
        n = fread(b->p + b->len, 1, b->cap - b->len - 1, f);
        b->len += n;
        b->p[b->len] = '\0';
    } while (n > 0 && b->len - start <= max);
    int failed = ferror(f), too_big = b->len - start > max;
    if (!use_stdin)
        fclose(f);
    if (failed || too_big) {
        buf_truncate(b, start);
        errno = too_big ? EFBIG : EIO;
        return -1;
    }
    return 0;
}
