/* qlog.h: the query log, one row of table query_log (sql/schema.sql) per question:
 * when, which chat, the question, which path understood it (grammar, llm, cache or
 * none), the spec, the SQL, the answer or the error, and the time each stage took.
 * It measures the grammar's coverage, and `vabot log --fallbacks` turns it into the
 * grammar author's to-do list.
 *
 * Rows are written through the caller's owner connection (db_open), never the reader.
 * Ownership: nothing is kept; the functions only read what they are given.
 * Errors: logging must never stop answering: qlog_write() returns 0, or -1 after
 * printing one line "qlog: ..." to stderr, and the caller goes on. qlog_print()
 * returns 0, or -1 with one line in err. */
#ifndef VABOT_QLOG_H
#define VABOT_QLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"

/* Every pointer may be NULL (stored as NULL). Text is stored as valid UTF-8: invalid
 * bytes and NULs become '?', and a question is cut at QLOG_QUESTION_MAX bytes. */
struct qlog_entry {
    int64_t chat_id;      /* 0 outside Telegram */
    const char *question; /* len bytes */
    size_t len;
    const char *source;   /* "grammar", "llm", "cache"; NULL: nothing understood it */
    const char *spec_json, *sql, *answer, *error;
    double ms_nlu, ms_llm, ms_db, ms_total;
};

#define QLOG_QUESTION_MAX 4096

int qlog_write(db *owner, const struct qlog_entry *e);

struct qlog_query {
    int fallbacks;    /* questions the grammar missed, most frequent first, with counts */
    int64_t since_us; /* only rows at or after this instant; 0: all */
    long limit;       /* rows (or questions) printed; 0: 20 */
};

/* Tab-separated lines with a header. Recent entries: time, source, answer or error,
 * total ms, chat id, question, newest first. Fallbacks: count, last seen, sources,
 * question (the newest wording of those that normalize alike, cache.h). */
int qlog_print(db *owner, const struct qlog_query *q, FILE *out, char *err, size_t errlen);

/* "90s", "30m", "2h", "1d", "1w" back from now_us, or an ISO 8601 instant (utc.h).
 * Returns 0, or -1 for anything else. */
int qlog_parse_since(const char *s, int64_t now_us, int64_t *out);

#endif
