#include "grammar.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "xalloc.h"

/* A fact as written in the rule: literal values, or the number of a named group. */
struct emit_def {
    char *kind;
    int nkv;
    char *key[GRAM_MAX_KV];
    char *lit[GRAM_MAX_KV];
    int group[GRAM_MAX_KV]; /* > 0 for $name */
};

struct rule {
    char *name, *file;
    int line, prio;
    char *pattern;
    pcre2_code *re;
    int nemit;
    struct emit_def emit[GRAM_MAX_FACTS];
};

struct macro {
    char *name, *body;
};

struct test {
    int rule;
    char *text;
};

struct grammar {
    struct rule *rules;
    int nrules;
    struct macro *macros;
    int nmacros;
    struct test *tests;
    int ntests;
    pcre2_match_data *md;
};

/* ==== Loading ==== */

/* Where the parser is, for messages. */
struct src {
    const char *file;
    int line;
    struct buf *err;
};

static int src_fail(struct src *s, const char *what)
{
    buf_reset(s->err);
    buf_addf(s->err, "grammar: %s:%d: %s", s->file, s->line, what);
    return -1;
}

static char *skip_ws(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Splits off the next space-separated word of *p (NUL-terminated in place). */
static char *next_word(char **p)
{
    char *w = skip_ws(*p);
    if (!*w)
        return NULL;
    char *e = w;
    while (*e && *e != ' ' && *e != '\t')
        e++;
    if (*e)
        *e++ = '\0';
    *p = e;
    return w;
}

static const char *macro_body(const grammar *g, const char *name, size_t len)
{
    for (int i = 0; i < g->nmacros; i++)
        if (strlen(g->macros[i].name) == len && !memcmp(g->macros[i].name, name, len))
            return g->macros[i].body;
    return NULL;
}

/* Replaces {NAME} by the macro's body (recursively, a few levels deep). A '{' not
 * followed by a macro name and '}' is left alone: it may be a PCRE2 quantifier. */
static int expand(const grammar *g, const char *in, struct buf *out, int depth, struct src *s)
{
    if (depth > 8)
        return src_fail(s, "macros nest too deeply");
    for (const char *p = in; *p; p++) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close && close > p + 1 && (isupper((unsigned char)p[1]) || p[1] == '_')) {
            const char *body = macro_body(g, p + 1, (size_t)(close - p - 1));
            if (!body) {
                buf_reset(s->err);
                buf_addf(s->err, "grammar: %s:%d: unknown macro {%.*s}", s->file, s->line,
                         (int)(close - p - 1), p + 1);
                return -1;
            }
            if (expand(g, body, out, depth + 1, s))
                return -1;
            p = close;
        } else {
            buf_addc(out, *p);
        }
    }
    return 0;
}

static int compile_rule(grammar *g, struct rule *r, struct src *s)
{
    struct buf pat = BUF_INIT;
    int errcode;
    PCRE2_SIZE erroff;
    buf_adds(&pat, "(?:");
    if (expand(g, r->pattern, &pat, 0, s)) {
        buf_release(&pat);
        return -1;
    }
    /* A fragment ends where a tag word ends. */
    buf_adds(&pat, ")(?= |$)");
    r->re = pcre2_compile((PCRE2_SPTR)buf_str(&pat), pat.len,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_NO_AUTO_CAPTURE, &errcode,
                          &erroff, NULL);
    buf_release(&pat);
    if (!r->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        char what[256];
        snprintf(what, sizeof what, "rule %s: %s at offset %zu", r->name, (char *)msg, (size_t)erroff);
        return src_fail(s, what);
    }
    /* Without JIT it still works, slower. VABOT_NO_JIT is for valgrind, which cannot
     * follow JIT code: its wide reads past the end of a subject look like uses of
     * uninitialised bytes. */
    if (!getenv("VABOT_NO_JIT"))
        pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    return 0;
}

/* "emit KIND key=value key=$group ..." */
static int parse_emit(struct rule *r, char *p, struct src *s)
{
    if (r->nemit == GRAM_MAX_FACTS)
        return src_fail(s, "too many emit lines in one rule");
    struct emit_def *e = &r->emit[r->nemit];
    char *w = next_word(&p);
    if (!w)
        return src_fail(s, "emit needs a kind");
    e->kind = xstrdup(w);
    while ((w = next_word(&p))) {
        char *eq = strchr(w, '=');
        if (!eq || eq == w || !eq[1] || e->nkv == GRAM_MAX_KV)
            return src_fail(s, "emit takes key=value pairs (at most 6)");
        *eq = '\0';
        e->key[e->nkv] = xstrdup(w);
        if (eq[1] == '$') {
            e->lit[e->nkv] = xstrdup(eq + 2); /* the group name until the pattern is compiled */
            e->group[e->nkv] = -1;
        } else {
            e->lit[e->nkv] = xstrdup(eq + 1);
        }
        e->nkv++;
    }
    r->nemit++;
    return 0;
}

/* Turns $name references into group numbers once the pattern is compiled. */
static int resolve_groups(struct rule *r, struct src *s)
{
    char what[200];
    for (int i = 0; i < r->nemit; i++) {
        struct emit_def *e = &r->emit[i];
        for (int k = 0; k < e->nkv; k++) {
            if (e->group[k] != -1)
                continue;
            int n = pcre2_substring_number_from_name(r->re, (PCRE2_SPTR)e->lit[k]);
            if (n <= 0) {
                snprintf(what, sizeof what, "rule %s: emit names $%s, which the pattern lacks",
                         r->name, e->lit[k]);
                return src_fail(s, what);
            }
            free(e->lit[k]);
            e->lit[k] = NULL;
            e->group[k] = n;
        }
    }
    return 0;
}

static int finish_rule(grammar *g, struct src *s)
{
    if (!g->nrules)
        return 0;
    struct rule *r = &g->rules[g->nrules - 1];
    if (r->re)
        return 0;
    struct src at = {r->file, r->line, s->err};
    if (!r->pattern)
        return src_fail(&at, "rule without a match line");
    if (compile_rule(g, r, &at) || resolve_groups(r, &at))
        return -1;
    return 0;
}

static int start_rule(grammar *g, char *p, struct src *s)
{
    if (finish_rule(g, s))
        return -1;
    char *name = next_word(&p);
    if (!name)
        return src_fail(s, "rule needs a name");
    for (int i = 0; i < g->nrules; i++)
        if (!strcmp(g->rules[i].name, name))
            return src_fail(s, "duplicate rule name");
    g->rules = xrealloc(g->rules, (size_t)(g->nrules + 1) * sizeof *g->rules);
    struct rule *r = &g->rules[g->nrules++];
    memset(r, 0, sizeof *r);
    r->name = xstrdup(name);
    r->file = xstrdup(s->file);
    r->line = s->line;
    return 0;
}

static int rule_field(grammar *g, char *p, struct src *s)
{
    if (!g->nrules || g->rules[g->nrules - 1].re)
        return src_fail(s, "an indented line outside a rule");
    struct rule *r = &g->rules[g->nrules - 1];
    char *key = next_word(&p);
    p = skip_ws(p);
    if (!key || !*p)
        return src_fail(s, "want: match|emit|test|prio followed by text");
    if (!strcmp(key, "match")) {
        if (r->pattern)
            return src_fail(s, "two match lines in one rule");
        r->pattern = xstrdup(p);
    } else if (!strcmp(key, "emit")) {
        return parse_emit(r, p, s);
    } else if (!strcmp(key, "test")) {
        g->tests = xrealloc(g->tests, (size_t)(g->ntests + 1) * sizeof *g->tests);
        g->tests[g->ntests].rule = g->nrules - 1;
        g->tests[g->ntests++].text = xstrdup(p);
    } else if (!strcmp(key, "prio")) {
        char *end;
        long v = strtol(p, &end, 10);
        if (*end || v < -100 || v > 100)
            return src_fail(s, "prio takes a whole number in [-100, 100]");
        r->prio = (int)v;
    } else {
        return src_fail(s, "want: match|emit|test|prio");
    }
    return 0;
}

static int define_macro(grammar *g, char *p, struct src *s)
{
    char *name = next_word(&p);
    p = skip_ws(p);
    if (!name || !*p || !isupper((unsigned char)name[0]))
        return src_fail(s, "define NAME PATTERN, NAME in capitals");
    if (macro_body(g, name, strlen(name)))
        return src_fail(s, "duplicate macro");
    g->macros = xrealloc(g->macros, (size_t)(g->nmacros + 1) * sizeof *g->macros);
    g->macros[g->nmacros].name = xstrdup(name);
    g->macros[g->nmacros++].body = xstrdup(p);
    return 0;
}

static int load_line(grammar *g, char *line, struct src *s)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *p = skip_ws(line);
    if (!*p || *p == '#')
        return 0;
    if (p != line)
        return rule_field(g, p, s);
    char *kw = next_word(&p);
    if (!strcmp(kw, "rule"))
        return start_rule(g, p, s);
    if (!strcmp(kw, "define"))
        return define_macro(g, p, s);
    return src_fail(s, "want rule or define at the start of a line");
}

static int load_file(grammar *g, const char *path, struct buf *err)
{
    char line[4096];
    struct src s = {path, 0, err};
    FILE *f = fopen(path, "r");
    if (!f) {
        buf_reset(err);
        buf_addf(err, "grammar: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        s.line++;
        rc = load_line(g, line, &s);
    }
    fclose(f);
    return rc ? rc : finish_rule(g, &s);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.rules files of dir, sorted, so that rule order (the last tie-break) is stable. */
static char **rule_files(const char *dir, size_t *n)
{
    char **names = NULL;
    *n = 0;
    DIR *dh = opendir(dir);
    if (!dh)
        return NULL;
    for (struct dirent *de; (de = readdir(dh));) {
        size_t len = strlen(de->d_name);
        if (len > 6 && !strcmp(de->d_name + len - 6, ".rules")) {
            names = xrealloc(names, (*n + 1) * sizeof *names);
            struct buf p = BUF_INIT;
            buf_addf(&p, "%s/%s", dir, de->d_name);
            names[(*n)++] = buf_detach(&p, NULL);
        }
    }
    closedir(dh);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

grammar *grammar_load(const char *dir, struct buf *err)
{
    size_t nfiles;
    char **files = rule_files(dir, &nfiles);
    grammar *g = xcalloc(1, sizeof *g);
    int rc = 0;
    if (!nfiles) {
        buf_reset(err);
        buf_addf(err, "grammar: no *.rules files in %s", dir);
        rc = -1;
    }
    for (size_t i = 0; i < nfiles; i++) {
        if (rc == 0)
            rc = load_file(g, files[i], err);
        free(files[i]);
    }
    free(files);
    if (rc == 0) {
        g->md = pcre2_match_data_create(32, NULL);
        return g;
    }
    grammar_free(g);
    return NULL;
}

void grammar_free(grammar *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->nrules; i++) {
        struct rule *r = &g->rules[i];
        for (int k = 0; k < r->nemit; k++) {
            free(r->emit[k].kind);
            for (int j = 0; j < r->emit[k].nkv; j++) {
                free(r->emit[k].key[j]);
                free(r->emit[k].lit[j]);
            }
        }
        free(r->name);
        free(r->file);
        free(r->pattern);
        pcre2_code_free(r->re);
    }
    for (int i = 0; i < g->nmacros; i++) {
        free(g->macros[i].name);
        free(g->macros[i].body);
    }
    for (int i = 0; i < g->ntests; i++)
        free(g->tests[i].text);
    free(g->rules);
    free(g->macros);
    free(g->tests);
    pcre2_match_data_free(g->md);
    free(g);
}

/* ==== Matching ==== */

/* The tag word that starts at byte offset off (starts[] is increasing). */
static int tag_at(const size_t *starts, size_t ntags, size_t off)
{
    size_t lo = 0, hi = ntags;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (starts[mid] <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int)lo - 1;
}

/* Matches rule r at tag word i; returns the number of tag words covered, or 0. */
static size_t match_at(grammar *g, int r, const char *tags, size_t len, const size_t *starts,
                       size_t ntags, size_t i)
{
    int rc = pcre2_match(g->rules[r].re, (PCRE2_SPTR)tags, len, starts[i], PCRE2_NO_UTF_CHECK,
                         g->md, NULL);
    if (rc < 0)
        return 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
    if (ov[1] == ov[0])
        return 0; /* an empty fragment explains nothing */
    size_t end = ov[1] == len ? ntags : (size_t)tag_at(starts, ntags, ov[1] + 1);
    return end - i;
}

/* Records the facts of the current match of rule r (the match data holds it). */
static void fill_frag(grammar *g, int r, const size_t *starts, size_t ntags, size_t i, size_t n,
                      struct gram_frag *f)
{
    const struct rule *ru = &g->rules[r];
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
    uint32_t novec = pcre2_get_ovector_count(g->md);
    f->rule = r;
    f->first = i;
    f->count = n;
    f->nfacts = ru->nemit;
    for (int k = 0; k < ru->nemit; k++) {
        const struct emit_def *e = &ru->emit[k];
        struct gram_fact *fa = &f->facts[k];
        fa->kind = e->kind;
        fa->nkv = e->nkv;
        for (int j = 0; j < e->nkv; j++) {
            fa->kv[j].key = e->key[j];
            fa->kv[j].lit = e->lit[j];
            fa->kv[j].tag = -1;
            uint32_t gno = (uint32_t)e->group[j];
            if (e->group[j] > 0 && gno < novec && ov[2 * gno] != PCRE2_UNSET)
                fa->kv[j].tag = tag_at(starts, ntags, ov[2 * gno]);
        }
    }
}

/* Cost of covering tags [i, n): fewer fragments first, then more priority. */
struct cost {
    int frags, prio;
    int rule;     /* the rule chosen at i, -1 when none */
    size_t count; /* tag words it covers */
};

static int better(int frags, int prio, const struct cost *c)
{
    return c->rule < 0 || frags < c->frags || (frags == c->frags && prio > c->prio);
}

int grammar_cover(grammar *g, const char *tags, const size_t *starts, size_t ntags,
                  struct gram_frag *out, size_t *stuck)
{
    size_t len = strlen(tags);
    struct cost best[GRAM_MAX_TAGS + 1];
    if (ntags > GRAM_MAX_TAGS) {
        *stuck = GRAM_MAX_TAGS;
        return -1;
    }
    *stuck = ntags;
    best[ntags] = (struct cost){0, 0, INT32_MAX, 0};
    for (size_t i = ntags; i-- > 0;) {
        int any = 0;
        best[i].rule = -1;
        for (int r = 0; r < g->nrules; r++) {
            size_t n = match_at(g, r, tags, len, starts, ntags, i);
            if (!n)
                continue;
            any = 1;
            const struct cost *rest = &best[i + n];
            if (rest->rule < 0)
                continue;
            int frags = rest->frags + 1, prio = rest->prio + g->rules[r].prio;
            if (better(frags, prio, &best[i]))
                best[i] = (struct cost){frags, prio, r, n};
        }
        if (!any)
            *stuck = i;
    }
    if (best[0].rule < 0)
        return -1;
    int nf = 0;
    for (size_t i = 0; i < ntags; i += best[i].count) {
        /* Match again to fill the facts: the DP kept only the rule and its length. */
        match_at(g, best[i].rule, tags, len, starts, ntags, i);
        fill_frag(g, best[i].rule, starts, ntags, i, best[i].count, &out[nf++]);
    }
    return nf;
}

const char *grammar_rule_name(const grammar *g, int rule)
{
    return rule >= 0 && rule < g->nrules ? g->rules[rule].name : "?";
}

int grammar_nrules(const grammar *g)
{
    return g->nrules;
}

const char *grammar_test_text(const grammar *g, int i, int *rule)
{
    if (i < 0 || i >= g->ntests)
        return NULL;
    *rule = g->tests[i].rule;
    return g->tests[i].text;
}

int grammar_matches_whole(grammar *g, int rule, const char *tags, size_t len)
{
    int rc = pcre2_match(g->rules[rule].re, (PCRE2_SPTR)tags, len, 0, PCRE2_NO_UTF_CHECK, g->md, NULL);
    return rc >= 0 && pcre2_get_ovector_pointer(g->md)[1] == len;
}
