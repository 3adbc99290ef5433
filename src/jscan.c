#include "jscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Where the scanner stands in {"KEY": [ {...}, ... ]}. */
enum state {
    S_START,  /* before the outer '{' (a BOM may come first) */
    S_KEY,    /* after '{': the key's opening quote */
    S_KEYSTR, /* inside the key */
    S_COLON,
    S_ARRAY,  /* the '[' of the value */
    S_FIRST,  /* after '[': an element or ']' */
    S_ELEM,   /* after ',': an element */
    S_NEXT,   /* after an element: ',' or ']' */
    S_OBJ,    /* inside an element */
    S_CLOSE,  /* after ']': the outer '}' */
    S_TAIL,   /* after the outer '}': whitespace only */
    S_ERR
};

/* What each state waits for, for "expected X, got Y" and for truncation. */
static const char *const expected[] = {
    [S_START] = "'{' at the start",
    [S_KEY] = "the key",
    [S_KEYSTR] = "the key",
    [S_COLON] = "':' after the key",
    [S_ARRAY] = "'[' (the value must be an array)",
    [S_FIRST] = "an object or ']'",
    [S_ELEM] = "an object after ','",
    [S_NEXT] = "',' or ']' after an object",
    [S_CLOSE] = "'}' after the array (it must be the only key)",
    [S_TAIL] = "nothing after the end",
};

/* One scanner per input. `obj` holds the element in progress (or the one just
 * returned while `ready` is set); it never grows past max_object + 1 bytes. `arrays`
 * is the bracket stack: bit d is set when the bracket opened at depth d+1 is '['. */
struct jscan {
    char *key;
    size_t keylen, key_i;
    size_t max_object;
    int max_depth;
    enum state state;
    int bom;          /* bytes of the byte order mark matched so far */
    long long offset; /* bytes consumed */
    char *obj;
    size_t obj_len, obj_cap;
    long long obj_offset, count; /* count: elements started */
    int depth, in_str, esc, ready;
    uint64_t arrays;
    char err[160];
    long long err_offset, err_index;
};

jscan *jscan_new(const char *key, size_t max_object, int max_depth)
{
    jscan *s = xcalloc(1, sizeof *s);
    s->key = xstrdup(key);
    s->keylen = strlen(key);
    s->max_object = max_object;
    s->max_depth = max_depth < 1 ? 1 : max_depth > 64 ? 64 : max_depth;
    s->err_index = -1;
    return s;
}

void jscan_free(jscan *s)
{
    if (!s)
        return;
    free(s->key);
    free(s->obj);
    free(s);
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int fail(jscan *s, long long offset, long long index, const char *msg)
{
    snprintf(s->err, sizeof s->err, "%s", msg);
    s->err_offset = offset;
    s->err_index = index;
    s->state = S_ERR;
    return JSCAN_ERROR;
}

/* "expected X, got Y" for the byte c at the current offset. */
static int fail_got(jscan *s, unsigned char c, long long index)
{
    char msg[sizeof s->err];
    const char *what = expected[s->state];
    if (s->state == S_KEY || s->state == S_KEYSTR)
        snprintf(msg, sizeof msg, "expected the key \"%s\" (the only one)", s->key);
    else if (c > 0x20 && c < 0x7f)
        snprintf(msg, sizeof msg, "expected %s, got '%c'", what, c);
    else
        snprintf(msg, sizeof msg, "expected %s, got byte 0x%02x", what, c);
    return fail(s, s->offset, index, msg);
}

/* ==== Outside the elements: one byte at a time ==== */

static int outer(jscan *s, unsigned char c)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    if (s->state == S_START && s->bom < 3 && s->offset == s->bom && c == bom[s->bom]) {
        s->bom++;
        return 0;
    }
    if (s->state == S_START && s->bom > 0 && s->bom < 3)
        return fail(s, s->offset, -1, "incomplete UTF-8 byte order mark");
    if (s->state == S_KEYSTR) {
        if (c == '"' && s->key_i == s->keylen)
            s->state = S_COLON;
        else if (s->key_i < s->keylen && c == (unsigned char)s->key[s->key_i])
            s->key_i++;
        else
            return fail_got(s, c, -1);
        return 0;
    }
    if (is_ws(c))
        return 0;
    switch (s->state) {
    case S_START:
        if (c != '{')
            return fail_got(s, c, -1);
        s->state = S_KEY;
        return 0;
    case S_KEY:
        if (c != '"')
            return fail_got(s, c, -1);
        s->state = S_KEYSTR;
        s->key_i = 0;
        return 0;
    case S_COLON:
        if (c != ':')
            return fail_got(s, c, -1);
        s->state = S_ARRAY;
        return 0;
    case S_ARRAY:
        if (c != '[')
            return fail_got(s, c, -1);
        s->state = S_FIRST;
        return 0;
    case S_FIRST:
    case S_ELEM:
        if (c == ']' && s->state == S_FIRST) {
            s->state = S_CLOSE;
            return 0;
        }
        if (c != '{')
            return fail_got(s, c, s->count);
        /* The element's '{' is consumed by scan_object, which counts depth from 0. */
        s->state = S_OBJ;
        s->obj_offset = s->offset;
        s->count++;
        s->depth = 0;
        s->arrays = 0;
        s->in_str = s->esc = 0;
        return 1;
    case S_NEXT:
        if (c == ',')
            s->state = S_ELEM;
        else if (c == ']')
            s->state = S_CLOSE;
        else
            return fail_got(s, c, -1);
        return 0;
    case S_CLOSE:
        if (c != '}')
            return fail_got(s, c, -1);
        s->state = S_TAIL;
        return 0;
    default:
        return fail_got(s, c, -1);
    }
}

/* ==== Inside an element ==== */

static void obj_append(jscan *s, const char *p, size_t n)
{
    if (s->obj_len + n + 1 > s->obj_cap) {
        size_t cap = s->obj_cap ? s->obj_cap : 4096;
        while (cap < s->obj_len + n + 1)
            cap *= 2;
        if (cap > s->max_object + 1)
            cap = s->max_object + 1;
        s->obj = xrealloc(s->obj, cap);
        s->obj_cap = cap;
    }
    memcpy(s->obj + s->obj_len, p, n);
    s->obj_len += n;
    s->obj[s->obj_len] = '\0';
}

/* Scans at most what still fits under max_object, so an endless string is refused
 * after max_object bytes instead of being buffered. Returns the bytes consumed, or
 * (size_t)-1 after an error. */
static size_t scan_object(jscan *s, const char *p, size_t len)
{
    size_t room = s->max_object - s->obj_len, n = len < room ? len : room, i = 0;
    long long index = s->count - 1;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (s->in_str) {
            if (s->esc)
                s->esc = 0;
            else if (c == '\\')
                s->esc = 1;
            else if (c == '"')
                s->in_str = 0;
        } else if (c == '"') {
            s->in_str = 1;
        } else if (c == '{' || c == '[') {
            if (s->depth == s->max_depth) {
                char msg[64];
                snprintf(msg, sizeof msg, "nesting deeper than %d levels", s->max_depth);
                fail(s, s->offset + (long long)i, index, msg);
                return (size_t)-1;
            }
            if (c == '[')
                s->arrays |= (uint64_t)1 << s->depth;
            else
                s->arrays &= ~((uint64_t)1 << s->depth);
            s->depth++;
        } else if (c == '}' || c == ']') {
            int is_array = (s->arrays >> (s->depth - 1)) & 1;
            if (is_array != (c == ']')) {
                fail(s, s->offset + (long long)i, index,
                     c == ']' ? "unexpected ']' inside an object" : "unexpected '}' inside an array");
                return (size_t)-1;
            }
            if (--s->depth == 0) {
                s->ready = 1;
                i++;
                break;
            }
        }
        i++;
    }
    if (!s->ready && i == room && len > room) {
        char msg[96];
        snprintf(msg, sizeof msg, "object larger than the limit of %zu bytes", s->max_object);
        fail(s, s->obj_offset + (long long)s->max_object, index, msg);
        return (size_t)-1;
    }
    obj_append(s, p, i);
    s->offset += (long long)i;
    if (s->ready)
        s->state = S_NEXT;
    return i;
}

int jscan_feed(jscan *s, const char *p, size_t len, size_t *used)
{
    size_t i = 0;
    *used = 0;
    if (s->state == S_ERR)
        return JSCAN_ERROR;
    if (s->ready) {
        s->ready = 0;
        s->obj_len = 0;
    }
    while (i < len) {
        if (s->state == S_OBJ) {
            size_t n = scan_object(s, p + i, len - i);
            if (n == (size_t)-1)
                return JSCAN_ERROR;
            i += n;
            if (s->ready) {
                *used = i;
                return JSCAN_OBJECT;
            }
            continue;
        }
        int rc = outer(s, (unsigned char)p[i]);
        if (rc < 0)
            return JSCAN_ERROR;
        if (rc == 0) {
            i++;
            s->offset++;
        }
    }
    *used = i;
    return JSCAN_MORE;
}

int jscan_finish(jscan *s)
{
    char msg[sizeof s->err];
    if (s->state == S_ERR)
        return JSCAN_ERROR;
    if (s->state == S_TAIL)
        return JSCAN_END;
    if (s->state == S_START && s->bom > 0 && s->bom < 3)
        return fail(s, s->offset, -1, "incomplete UTF-8 byte order mark");
    if (s->state == S_START)
        return fail(s, s->offset, -1, s->offset == s->bom ? "empty input" : "no JSON value (only whitespace)");
    if (s->state == S_OBJ)
        return fail(s, s->offset, s->count - 1, "truncated: the input ends inside the object");
    snprintf(msg, sizeof msg, "truncated: the input ends where %s was expected", expected[s->state]);
    return fail(s, s->offset, -1, msg);
}

const char *jscan_object(const jscan *s, size_t *len)
{
    *len = s->ready ? s->obj_len : 0;
    return s->ready ? s->obj : NULL;
}

long long jscan_object_offset(const jscan *s)
{
    return s->obj_offset;
}

long long jscan_object_index(const jscan *s)
{
    return s->count - 1;
}

const char *jscan_errmsg(const jscan *s)
{
    return s->err;
}

long long jscan_error_offset(const jscan *s)
{
    return s->err_offset;
}

long long jscan_error_index(const jscan *s)
{
    return s->err_index;
}

/* ==== Locating a value in a valid JSON text ==== */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && is_ws((unsigned char)s[i]))
        i++;
    return i;
}

/* s[i] is '"'; returns the index after the closing quote (n when there is none). */
static size_t skip_string(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static size_t skip_value(const char *s, size_t i, size_t n)
{
    int depth = 0;
    if (i < n && s[i] == '"')
        return skip_string(s, i, n);
    if (i < n && s[i] != '{' && s[i] != '[') {
        while (i < n && !is_ws((unsigned char)s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
            i++;
        return i;
    }
    while (i < n) {
        if (s[i] == '"') {
            i = skip_string(s, i, n);
            continue;
        }
        if (s[i] == '{' || s[i] == '[')
            depth++;
        else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return n;
}

/* Moves past the ',' that must follow the value at i. */
static int next_member(const char *s, size_t *i, size_t n)
{
    *i = skip_ws(s, skip_value(s, *i, n), n);
    if (*i >= n || s[*i] != ',')
        return -1;
    *i = skip_ws(s, *i + 1, n);
    return 0;
}

static int find_key(const char *s, size_t *i, size_t n, const char *key)
{
    size_t klen = strlen(key);
    if (*i >= n || s[*i] != '{')
        return -1;
    *i = skip_ws(s, *i + 1, n);
    for (;;) {
        if (*i >= n || s[*i] != '"')
            return -1;
        size_t end = skip_string(s, *i, n);
        int match = end >= *i + 2 && end - *i - 2 == klen && !memcmp(s + *i + 1, key, klen);
        *i = skip_ws(s, end, n);
        if (*i >= n || s[*i] != ':')
            return -1;
        *i = skip_ws(s, *i + 1, n);
        if (match)
            return 0;
        if (next_member(s, i, n))
            return -1;
    }
}

long long jscan_locate(const char *json, size_t len, const struct jscan_step *path, int n)
{
    size_t i = skip_ws(json, 0, len);
    for (int k = 0; k < n; k++) {
        if (path[k].key) {
            if (find_key(json, &i, len, path[k].key))
                return -1;
            continue;
        }
        if (i >= len || json[i] != '[')
            return -1;
        i = skip_ws(json, i + 1, len);
        for (long long e = 0; e < path[k].index; e++)
            if (next_member(json, &i, len))
                return -1;
        if (i >= len || json[i] == ']')
            return -1;
    }
    return (long long)i;
}
