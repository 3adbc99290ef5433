#include "qlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "utc.h"

/* ==== Writing ==== */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 (overlong forms, surrogates
 * and code points past U+10FFFF are invalid, as PostgreSQL says). */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    if (s[0] < 0x80)
        return s[0] ? 1 : 0;
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (!n || n > left || s[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* Text the database will take: a log row must not fail on what the user typed. */
static void clean_text(const char *s, size_t len, size_t max, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    buf_reset(out);
    buf_add(out, "", 0);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u + i, len - i);
        if (out->len + (n ? n : 1) > max)
            break;
        if (n)
            buf_add(out, s + i, n);
        else
            buf_addc(out, '?');
        i += n ? n : 1;
    }
}

static const char *opt_text(const char *s, struct buf *b)
{
    if (!s)
        return NULL;
    clean_text(s, strlen(s), (size_t)-1 / 2, b);
    return b->p;
}

int qlog_write(db *owner, const struct qlog_entry *e)
{
    static const char sql[] =
        "INSERT INTO query_log (chat_id, question, question_key, source, spec, sql, answer, "
        "error, ms_nlu, ms_llm, ms_db, ms_total) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    struct buf q = BUF_INIT, key = BUF_INIT, t[4] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
    char chat[24], ms[4][32];
    snprintf(chat, sizeof chat, "%lld", (long long)e->chat_id);
    const double v[4] = {e->ms_nlu, e->ms_llm, e->ms_db, e->ms_total};
    for (int i = 0; i < 4; i++)
        snprintf(ms[i], sizeof ms[i], "%.3f", v[i] >= 0 && v[i] < 1e12 ? v[i] : 0.0);
    clean_text(e->question ? e->question : "", e->question ? e->len : 0, QLOG_QUESTION_MAX, &q);
    cache_normalize(q.p, q.len, &key);
    const char *params[12] = {
        e->chat_id ? chat : NULL, q.p, buf_str(&key), e->source ? e->source : "none",
        opt_text(e->spec_json, &t[0]), opt_text(e->sql, &t[1]), opt_text(e->answer, &t[2]),
        opt_text(e->error, &t[3]), ms[0], ms[1], ms[2], ms[3]};
    int rc = -1;
    if (db_ensure(owner) == 0) {
        PGresult *r = PQexecParams(db_conn(owner), sql, 12, NULL, params, NULL, NULL, 0);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (rc) {
            const char *msg = PQresultErrorMessage(r);
            fprintf(stderr, "qlog: cannot record the question: %.*s\n",
                    (int)strcspn(msg, "\n"), msg);
        }
        PQclear(r);
    } else {
        fprintf(stderr, "qlog: cannot record the question: %s\n", db_errmsg(owner));
    }
    buf_release(&q);
    buf_release(&key);
    for (int i = 0; i < 4; i++)
        buf_release(&t[i]);
    return rc;
}

/* ==== Reading ==== */

static const char recent_sql[] =
    "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), source, "
    "coalesce(answer, 'error: ' || error, '-'), round(ms_total)::bigint, "
    "coalesce(chat_id::text, '-'), question "
    "FROM query_log WHERE at >= $1::timestamptz ORDER BY at DESC, id DESC LIMIT $2::bigint";

static const char fallbacks_sql[] =
    "SELECT count(*), to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "string_agg(DISTINCT source, ',' ORDER BY source), "
    "(array_agg(question ORDER BY at DESC, id DESC))[1] "
    "FROM query_log WHERE source <> 'grammar' AND at >= $1::timestamptz "
    "GROUP BY question_key ORDER BY count(*) DESC, max(at) DESC LIMIT $2::bigint";

/* A tab or newline inside a value would break the line format. */
static void put_field(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, out);
}

int qlog_print(db *owner, const struct qlog_query *q, FILE *out, char *err, size_t errlen)
{
    char since[UTC_FMT_MAX], limit[24];
    if (q->since_us)
        utc_format(q->since_us, since, sizeof since);
    else
        snprintf(since, sizeof since, "-infinity");
    snprintf(limit, sizeof limit, "%ld", q->limit > 0 ? q->limit : 20);
    const char *params[2] = {since, limit};
    if (db_ensure(owner)) {
        snprintf(err, errlen, "%s", db_errmsg(owner));
        return -1;
    }
    PGresult *r = PQexecParams(db_conn(owner), q->fallbacks ? fallbacks_sql : recent_sql, 2,
                               NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorMessage(r);
        snprintf(err, errlen, "qlog: cannot read query_log: %.*s", (int)strcspn(msg, "\n"), msg);
        PQclear(r);
        return -1;
    }
    fputs(q->fallbacks ? "count\tlast\tsources\tquestion\n"
                       : "time\tsource\tresult\tms\tchat\tquestion\n", out);
    for (int row = 0; row < PQntuples(r); row++) {
        for (int col = 0; col < PQnfields(r); col++) {
            if (col)
                fputc('\t', out);
            put_field(out, PQgetvalue(r, row, col));
        }
        fputc('\n', out);
    }
    PQclear(r);
    return 0;
}

int qlog_parse_since(const char *s, int64_t now_us, int64_t *out)
{
    static const struct { char unit; int64_t secs; } units[] = {
        {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    char *end;
    size_t len = strlen(s);
    if (len >= 2 && s[0] >= '0' && s[0] <= '9') {
        errno = 0;
        long long n = strtoll(s, &end, 10);
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (!errno && end == s + len - 1 && *end == units[i].unit &&
                n <= 100LL * 365 * 86400 / units[i].secs) {
                *out = now_us - n * units[i].secs * UTC_US_PER_SEC;
                return 0;
            }
    }
    return utc_parse(s, len, out);
}
