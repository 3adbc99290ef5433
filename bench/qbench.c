/* bench/qbench.c: times one question of every query class (bench/classes.tsv).
 *
 *   qbench [--runs N] [--budget-ms MS] [--explain FILE] [--plain] CLASSES.tsv
 *
 * For each class, on the database of DATABASE_URL:
 *   rule  the rule path, text -> spec -> SQL without a database (answer_question in
 *         dry-run mode), N runs;
 *   ours     the SQL our generator makes for the class's reference spec, executed the way
 *            the answerer executes it (db_query_value on the reader connection: a
 *            statement prepared once, then bound and executed);
 *   unnamed  the same SQL as an unnamed statement (PQexecParams), parsed every time;
 *   peer     the SQL peers commonly write for the same question, values inline, sent
 *            unnamed as their drivers do (compare with "unnamed" for the shape alone).
 * ours, unnamed and peer take turns in one loop, so all three see the same load on a shared
 * machine, for N rounds; the peer's SQL drops out once it has taken MS milliseconds, and
 * ours (with unnamed) likewise ends the loop early (each side gets at least MIN_ROUNDS
 * samples). The first round only warms up and fetches the values, which must agree.
 * Prints one tab-separated line per class (the header says which column is which).
 * --explain writes EXPLAIN ANALYZE of our SQL for each class to FILE as Markdown.
 * --plain makes our SQL without the rollups (SQLGEN_NO_ROLLUPS): with the indexes of
 * before, and the "unnamed" column, that is how vabot answered before bench/results.md.
 * Not part of `make test`: it measures, it does not judge. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "answer.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "sqlgen.h"
#include "utc.h"
#include "validate.h"
#include "xalloc.h"

#define MIN_ROUNDS 5
#define DEFAULT_NOW "2025-12-01T12:00:00Z"

struct opts {
    long runs, budget_ms;
    const char *explain, *classes;
    unsigned sqlgen_flags;
};

/* One line of classes.tsv; the pointers are into the line, which the caller owns. */
struct qclass {
    char *name, *question, *spec, *peer;
};

/* Samples in milliseconds; grows as needed. */
struct samples {
    double *v;
    size_t n, cap;
};

static void add_sample(struct samples *s, double ms)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile: the smallest sample with at least p of them at or below. */
static double percentile(struct samples *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t rank = (size_t)(p * (double)s->n + 0.999999);
    return s->v[(rank ? rank : 1) - 1];
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ==== Input ==== */

static int split_class(char *line, struct qclass *c)
{
    char *f[4];
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
        return 1;
    for (char *p = line; n < 4; n++) {
        f[n] = p;
        p = strchr(p, '\t');
        if (!p) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n != 4)
        return -1;
    *c = (struct qclass){f[0], f[1], f[2], f[3]};
    return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    char *end;
    *o = (struct opts){200, 4000, NULL, NULL, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            o->runs = strtol(argv[++i], &end, 10);
            if (*end || o->runs < 1)
                return -1;
        } else if (!strcmp(argv[i], "--budget-ms") && i + 1 < argc) {
            o->budget_ms = strtol(argv[++i], &end, 10);
            if (*end || o->budget_ms < 1)
                return -1;
        } else if (!strcmp(argv[i], "--explain") && i + 1 < argc) {
            o->explain = argv[++i];
        } else if (!strcmp(argv[i], "--plain")) {
            o->sqlgen_flags = SQLGEN_NO_ROLLUPS;
        } else if (argv[i][0] != '-' && !o->classes) {
            o->classes = argv[i];
        } else {
            return -1;
        }
    }
    return o->classes ? 0 : -1;
}

/* ==== Measuring ==== */

/* The rule path on the question: how long, and whether it made the reference SQL. */
static const char *time_rule(answerer *a, const struct qclass *c, const struct sqlgen_query *q,
                             long runs, struct samples *s)
{
    struct answer_result r;
    struct buf params = BUF_INIT;
    const char *verdict = "declined";
    sqlgen_params_json(q, &params);
    answer_question(a, 0, c->question, strlen(c->question), &r);
    if (r.status == ANSWER_OK && r.sql)
        verdict = !strcmp(r.sql, buf_str(&q->sql)) && !strcmp(r.params_json, buf_str(&params))
                      ? "same"
                      : "DIFFERENT";
    answer_result_release(&r);
    for (long i = 0; i < runs; i++) {
        answer_question(a, 0, c->question, strlen(c->question), &r);
        add_sample(s, r.ms_total);
        answer_result_release(&r);
    }
    buf_release(&params);
    return verdict;
}

/* An unnamed statement, parsed and planned every time: how peers' drivers send their
 * SQL, and how the answerer sent ours before db.c prepared its statements. */
static int run_unnamed(PGconn *conn, const char *sql, int nparams, char *const *params,
                       char *out, size_t outlen)
{
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, (const char *const *)params, NULL,
                               NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    else
        fprintf(stderr, "qbench: %.60s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* ours_ms and peer_ms: time spent in each so far. Each side stops at its budget (after
 * MIN_ROUNDS samples), so a peer's seq scan of millions of rows never starves our
 * samples, and ours stops early only when ours is slow too. */
struct db_times {
    struct samples ours, unnamed, peer;
    char ours_value[DB_VALUE_MAX], peer_value[DB_VALUE_MAX];
    double ours_ms, peer_ms;
};

static int spent(const struct samples *s, double ms, double budget_ms)
{
    return s->n >= MIN_ROUNDS && ms > budget_ms;
}

/* One round: ours and unnamed, then the peer's SQL while it is within budget, each
 * timed. Round 0 keeps the values instead. */
static int db_round(db *d, const struct qclass *c, const struct sqlgen_query *q, long round,
                    double budget_ms, struct db_times *t)
{
    char v[DB_VALUE_MAX];
    double t0 = now_ms();
    if (db_query_value(d, buf_str(&q->sql), q->nparams, (const char *const *)q->params, v,
                       sizeof v)) {
        fprintf(stderr, "qbench: %s: ours: %s\n", c->name, db_errmsg(d));
        return -1;
    }
    double t1 = now_ms();
    if (round == 0)
        memcpy(t->ours_value, v, sizeof v);
    if (run_unnamed(db_conn(d), buf_str(&q->sql), q->nparams, q->params, v, sizeof v))
        return -1;
    double t2 = now_ms();
    t->ours_ms += t2 - t0;
    if (round > 0) {
        add_sample(&t->ours, t1 - t0);
        add_sample(&t->unnamed, t2 - t1);
    }
    if (spent(&t->peer, t->peer_ms, budget_ms))
        return 0;
    if (run_unnamed(db_conn(d), c->peer, 0, NULL, v, sizeof v))
        return -1;
    double t3 = now_ms();
    if (round == 0)
        memcpy(t->peer_value, v, sizeof v);
    else
        add_sample(&t->peer, t3 - t2);
    t->peer_ms += t3 - t2;
    return 0;
}

static int time_db(db *d, const struct qclass *c, const struct sqlgen_query *q,
                   const struct opts *o, struct db_times *t)
{
    for (long round = 0; round <= o->runs && !spent(&t->ours, t->ours_ms, (double)o->budget_ms);
         round++)
        if (db_round(d, c, q, round, (double)o->budget_ms, t))
            return -1;
    return 0;
}

/* EXPLAIN ANALYZE of our SQL with its parameters, as a Markdown section. */
static void explain(db *d, const struct qclass *c, const struct sqlgen_query *q, FILE *out)
{
    struct buf sql = BUF_INIT, params = BUF_INIT;
    buf_addf(&sql, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) %s", buf_str(&q->sql));
    sqlgen_params_json(q, &params);
    PGresult *r = PQexecParams(db_conn(d), buf_str(&sql), q->nparams, NULL,
                               (const char *const *)q->params, NULL, NULL, 0);
    fprintf(out, "#### %s\n\n```sql\n%s\n-- %s\n```\n```\n", c->name, buf_str(&q->sql),
            buf_str(&params));
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        for (int i = 0; i < PQntuples(r); i++)
            fprintf(out, "%s\n", PQgetvalue(r, i, 0));
    else
        fprintf(out, "EXPLAIN failed: %s", PQresultErrorMessage(r));
    fputs("```\n\n", out);
    PQclear(r);
    buf_release(&sql);
    buf_release(&params);
}

/* ==== Driver ==== */

static void print_row(const struct qclass *c, const char *verdict, struct samples *rule,
                      struct db_times *t)
{
    double o50 = percentile(&t->ours, .5), o99 = percentile(&t->ours, .99);
    double p50 = percentile(&t->peer, .5), p99 = percentile(&t->peer, .99);
    printf("%s\t%s\t%s\t%s\t%.3f\t%.3f\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%zu\t%.3f\t%.3f\t%.1f\t%.1f\n",
           c->name, verdict, t->ours_value,
           strcmp(t->ours_value, t->peer_value) ? t->peer_value : "same",
           percentile(rule, .5), percentile(rule, .99), t->ours.n, o50, o99,
           percentile(&t->unnamed, .5), percentile(&t->unnamed, .99), t->peer.n, p50, p99,
           o50 > 0 ? p50 / o50 : 0, o99 > 0 ? p99 / o99 : 0);
    fflush(stdout);
}

/* One class: compile the reference spec, time the rule path, then the database. */
static int bench_class(answerer *a, db *d, const struct qclass *c, const struct opts *o,
                       FILE *ex)
{
    struct spec s;
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    struct buf err = BUF_INIT;
    struct samples rule = {0};
    struct db_times t = {0};
    int rc = -1;
    if (validate_json(c->spec, strlen(c->spec), &s, &err) ||
        sqlgen_build_opts(&s, o->sqlgen_flags, &q, &err)) {
        fprintf(stderr, "qbench: %s: reference spec: %s\n", c->name, buf_str(&err));
    } else {
        const char *verdict = time_rule(a, c, &q, o->runs, &rule);
        rc = time_db(d, c, &q, o, &t);
        if (rc == 0)
            print_row(c, verdict, &rule, &t);
        if (rc == 0 && ex)
            explain(d, c, &q, ex);
    }
    free(rule.v);
    free(t.ours.v);
    free(t.unnamed.v);
    free(t.peer.v);
    sqlgen_release(&q);
    buf_release(&err);
    return rc;
}

static int bench_all(answerer *a, db *d, const struct opts *o, FILE *in, FILE *ex)
{
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    puts("class\tgrammar\tanswer\tpeer_answer\trule_p50\trule_p99\truns\tours_p50\tours_p99"
         "\tunnamed_p50\tunnamed_p99\tpeer_runs\tpeer_p50\tpeer_p99\tratio_p50\tratio_p99");
    while (rc == 0 && getline(&line, &cap, in) > 0) {
        struct qclass c;
        lineno++;
        int st = split_class(line, &c);
        if (st < 0) {
            fprintf(stderr, "qbench: %s:%d: expected 4 tab-separated fields\n", o->classes, lineno);
            rc = -1;
        } else if (st == 0) {
            rc = bench_class(a, d, &c, o, ex);
        }
    }
    free(line);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct answer_opts ao = {.no_llm = 1, .dry_run = 1, .has_now = 1};
    struct buf ci = BUF_INIT;
    char err[512];
    const char *now = cfg_get_or("VABOT_NOW", DEFAULT_NOW);
    if (parse_opts(argc, argv, &o)) {
        fputs("usage: qbench [--runs N] [--budget-ms MS] [--explain FILE] [--plain] CLASSES.tsv\n",
              stderr);
        return 2;
    }
    if (utc_parse(now, strlen(now), &ao.now_us) ||
        cfg_conninfo(cfg_get("DATABASE_URL"), &ci, err, sizeof err)) {
        fprintf(stderr, "qbench: bad VABOT_NOW or DATABASE_URL\n");
        return 2;
    }
    FILE *in = fopen(o.classes, "r");
    FILE *ex = o.explain ? fopen(o.explain, "w") : NULL;
    answerer *a = answer_new(&ao, NULL, err, sizeof err);
    db *d = a ? db_open_reader(buf_str(&ci), 600000, err, sizeof err) : NULL;
    int rc = 2;
    if (!in || (o.explain && !ex))
        fprintf(stderr, "qbench: %s: %s\n", !in ? o.classes : o.explain, strerror(errno));
    else if (!a || !d)
        fprintf(stderr, "qbench: %s\n", err);
    else
        rc = bench_all(a, d, &o, in, ex) ? 1 : 0;
    if (in)
        fclose(in);
    if (ex)
        fclose(ex);
    db_close(d);
    answer_free(a);
    buf_release(&ci);
    return rc;
}
