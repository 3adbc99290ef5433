/* bench_rules: the whole rule path, text -> spec -> SQL, without a database.
 *   build/bench_rules [ROUNDS]
 * Loads the lexicon and grammar (timed), then answers every question of the golden
 * files (the .tsv files of tests/grammar) ROUNDS times (default 20), timing each one, and prints
 * questions per second, p50/p99/max microseconds, the share understood and peak RSS. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "nlu.h"
#include "sqlgen.h"
#include "xalloc.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long peak_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* The questions of every golden file (the part before the last tab). */
static char **questions(size_t *n)
{
    char **q = NULL, line[8192];
    *n = 0;
    DIR *d = opendir("tests/grammar");
    for (struct dirent *de; d && (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".tsv"))
            continue;
        struct buf p = BUF_INIT;
        buf_addf(&p, "tests/grammar/%s", de->d_name);
        FILE *f = fopen(buf_str(&p), "r");
        while (f && fgets(line, sizeof line, f)) {
            char *tab = strrchr(line, '\t');
            if (line[0] == '#' || !tab)
                continue;
            q = xrealloc(q, (*n + 1) * sizeof *q);
            q[(*n)++] = xmemdup(line, (size_t)(tab - line));
        }
        if (f)
            fclose(f);
        buf_release(&p);
    }
    if (d)
        closedir(d);
    return q;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20;
    struct buf err = BUF_INIT;
    double t0 = now_us();
    nlu *n = nlu_new(".", &err);
    double load_ms = (now_us() - t0) / 1e3;
    if (!n) {
        fprintf(stderr, "bench_rules: %s\n", buf_str(&err));
        return 1;
    }
    size_t nq;
    char **q = questions(&nq);
    if (!nq || rounds < 1) {
        fprintf(stderr, "bench_rules: no questions (run from the repository root)\n");
        return 1;
    }
    double *lat = xmalloc(nq * (size_t)rounds * sizeof *lat);
    size_t k = 0, understood = 0;
    struct nlu_result r;
    nlu_result_init(&r);
    int64_t ref = 1764590400LL * 1000000; /* 2025-12-01T12:00:00Z */
    double start = now_us();
    for (int round = 0; round < rounds; round++) {
        for (size_t i = 0; i < nq; i++) {
            struct sqlgen_query sq = SQLGEN_QUERY_INIT;
            double a = now_us();
            if (nlu_parse(n, q[i], strlen(q[i]), ref, &r) == NLU_OK && r.spec.supported) {
                sqlgen_build(&r.spec, &sq, &err);
                understood += round == 0;
            }
            lat[k++] = now_us() - a;
            sqlgen_release(&sq);
        }
    }
    double total_s = (now_us() - start) / 1e6;
    qsort(lat, k, sizeof *lat, cmp_double);
    printf("rule path: %zu questions x %d rounds, grammar load %.1f ms\n", nq, rounds, load_ms);
    printf("  %.0f questions/s, p50 %.1f us, p99 %.1f us, max %.1f us\n", (double)k / total_s,
           lat[k / 2], lat[k * 99 / 100], lat[k - 1]);
    printf("  understood (to SQL): %zu of %zu; peak RSS %ld KB\n", understood, nq, peak_rss_kb());
    for (size_t i = 0; i < nq; i++)
        free(q[i]);
    free(q);
    free(lat);
    nlu_result_release(&r);
    nlu_free(n);
    buf_release(&err);
    return 0;
}
