/* jscan.h: an incremental scanner for the outer structure of a data file,
 * {"KEY": [ {...}, {...} ]}, that cuts out the bytes of one element object at a time.
 *
 * Input arrives in chunks of any size (a 1-byte chunk is fine); the scanner keeps
 * only the element object in progress, never the array. Whitespace may appear
 * anywhere JSON allows it (CRLF included) and a UTF-8 byte order mark may open the
 * input. Inside an element the scanner only tracks strings and brackets: it checks
 * that brackets match, refuses nesting deeper than max_depth (the element object
 * itself is depth 1) and refuses an element longer than max_object bytes before it
 * buffers more of it. Everything else about an element is left to a JSON parser.
 * Offsets are 0-based byte offsets into the whole input; element indexes are 0-based.
 *
 * Ownership: jscan_new() copies the key; jscan_free() frees (NULL is fine). The bytes
 * of jscan_object() belong to the scanner and live until the next jscan_feed().
 * Errors: jscan_feed() and jscan_finish() return JSCAN_ERROR, which is sticky;
 * jscan_errmsg() says what is wrong in one line (without offset or index, which
 * jscan_error_offset() and jscan_error_index() give). */
#ifndef VABOT_JSCAN_H
#define VABOT_JSCAN_H

#include <stddef.h>

typedef struct jscan jscan;

enum { JSCAN_ERROR = -1, JSCAN_MORE = 0, JSCAN_OBJECT = 1, JSCAN_END = 2 };

/* max_depth is at most 64. */
jscan *jscan_new(const char *key, size_t max_object, int max_depth);
void jscan_free(jscan *s);

/* Scans p[0..len). Returns JSCAN_OBJECT as soon as an element is complete, with
 * *used set to the bytes consumed (feed the rest next); JSCAN_MORE when all len bytes
 * were consumed and more input is needed; or JSCAN_ERROR. */
int jscan_feed(jscan *s, const char *p, size_t len, size_t *used);
/* At the end of the input: JSCAN_END when the structure was complete, else JSCAN_ERROR
 * (truncated input). */
int jscan_finish(jscan *s);

const char *jscan_object(const jscan *s, size_t *len); /* NUL-terminated, after JSCAN_OBJECT */
long long jscan_object_offset(const jscan *s);         /* offset of its '{' */
long long jscan_object_index(const jscan *s);

const char *jscan_errmsg(const jscan *s);
long long jscan_error_offset(const jscan *s);
long long jscan_error_index(const jscan *s); /* the element it happened in, or -1 */

/* For error messages about a valid JSON text (an element that parsed): the offset
 * inside json of the value reached by following path, where each step is an object
 * key (key != NULL) or an array index. Returns -1 when the path does not exist or
 * a key uses escapes. */
struct jscan_step {
    const char *key;
    long long index;
};
long long jscan_locate(const char *json, size_t len, const struct jscan_step *path, int n);

#endif
