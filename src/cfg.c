#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "xalloc.h"

/* ==== .env ==== */

struct kv {
    char *key, *val;
};
static struct kv *dotenv;
static size_t dotenv_len;
static char *home; /* cfg_home(), found on first use */

static void dotenv_put(const char *k, size_t klen, const char *v, size_t vlen)
{
    for (size_t i = 0; i < dotenv_len; i++) {
        if (strlen(dotenv[i].key) == klen && !memcmp(dotenv[i].key, k, klen)) {
            free(dotenv[i].val);
            dotenv[i].val = xmemdup(v, vlen);
            return;
        }
    }
    dotenv = xrealloc(dotenv, (dotenv_len + 1) * sizeof *dotenv);
    dotenv[dotenv_len].key = xmemdup(k, klen);
    dotenv[dotenv_len].val = xmemdup(v, vlen);
    dotenv_len++;
}

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* One line of .env; returns 0, or -1 when it is neither blank, comment nor KEY=VALUE. */
static int dotenv_line(const char *s, const char *end)
{
    while (end > s && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    s = skip_space(s, end);
    if (s == end || *s == '#')
        return 0;
    if (end - s > 7 && !memcmp(s, "export ", 7))
        s = skip_space(s + 7, end);
    const char *k = s;
    while (s < end && (isalnum((unsigned char)*s) || *s == '_'))
        s++;
    const char *kend = s;
    s = skip_space(s, end);
    if (kend == k || s == end || *s != '=')
        return -1;
    s = skip_space(s + 1, end);
    const char *v = s, *vend = end;
    if (v < vend && (*v == '"' || *v == '\'')) {
        const char *q = memchr(v + 1, *v, (size_t)(vend - v - 1));
        if (!q)
            return -1;
        vend = q;
        v++;
    } else {
        const char *hash = v;
        while (hash < vend && !(*hash == '#' && (hash == v || hash[-1] == ' ' || hash[-1] == '\t')))
            hash++;
        vend = hash;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
    }
    dotenv_put(k, (size_t)(kend - k), v, (size_t)(vend - v));
    return 0;
}

int cfg_load(const char *path, char *err, size_t errlen)
{
    char line[8192];
    int lineno = 0;
    FILE *f = fopen(path ? path : ".env", "r");
    if (!f)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "cfg: cannot read %s: %s",
                                               path ? path : ".env", strerror(errno)), -1);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            n--;
        else if (!feof(f)) {
            snprintf(err, errlen, "cfg: %s:%d: line too long", path ? path : ".env", lineno);
            fclose(f);
            return -1;
        }
        if (dotenv_line(line, line + n)) {
            snprintf(err, errlen, "cfg: %s:%d: expected KEY=VALUE", path ? path : ".env", lineno);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

void cfg_free(void)
{
    for (size_t i = 0; i < dotenv_len; i++) {
        /* values may be secrets: wipe before freeing */
        memset(dotenv[i].val, 0, strlen(dotenv[i].val));
        free(dotenv[i].key);
        free(dotenv[i].val);
    }
    free(dotenv);
    dotenv = NULL;
    dotenv_len = 0;
    free(home);
    home = NULL;
}

const char *cfg_get(const char *name)
{
    const char *v = getenv(name);
    if (v)
        return *v ? v : NULL;
    for (size_t i = 0; i < dotenv_len; i++)
        if (!strcmp(dotenv[i].key, name))
            return *dotenv[i].val ? dotenv[i].val : NULL;
    return NULL;
}

const char *cfg_get_or(const char *name, const char *dflt)
{
    const char *v = cfg_get(name);
    return v ? v : dflt;
}

long cfg_get_long(const char *name, long dflt, long min, long max)
{
    const char *v = cfg_get(name);
    char *end;
    if (!v)
        return dflt;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        fprintf(stderr, "vabot: ignoring %s=%s: expected a whole number in [%ld, %ld]\n", name,
                v, min, max);
        return dflt;
    }
    return n;
}

/* ==== DATABASE_URL ==== */

/* Where "scheme+driver://" is given (SQLAlchemy), keep only the scheme. */
static int url_scheme(const char *url, size_t *scheme_len, size_t *rest)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return -1;
    const char *plus = memchr(url, '+', (size_t)(sep - url));
    *scheme_len = (size_t)((plus ? plus : sep) - url);
    *rest = (size_t)(sep - url);
    return 0;
}

/* libpq's parse errors quote the part of the string they choke on, and that part may
 * be the password ("invalid percent-encoded token: \"p%zzsecret\""). Only our own
 * wording of the reason is printed, picked by the start of libpq's message. */
static const char *parse_reason(const char *perr)
{
    static const struct {
        const char *libpq, *ours;
    } reasons[] = {
        {"invalid percent-encoded token", "a '%' not followed by two hex digits"},
        {"forbidden value %00", "a percent-encoded NUL (%00)"},
        {"invalid URI query parameter", "an unknown query parameter"},
        {"extra key/value separator", "a query parameter with two '='"},
        {"missing key/value separator", "a query parameter without '='"},
        {"end of string reached when looking for matching \"]\"", "an IPv6 address without ']'"},
        {"IPv6 host address may not be empty", "an empty IPv6 address"},
        {"unexpected character", "an unexpected character after the host"},
        {"invalid connection option", "an unknown keyword"},
        {"missing \"=\" after", "a word without '=' (key=value expected)"},
        {"unterminated quoted string", "an unterminated quoted value"},
        {"out of memory", "out of memory"},
    };
    for (size_t i = 0; perr && i < sizeof reasons / sizeof reasons[0]; i++)
        if (!strncmp(perr, reasons[i].libpq, strlen(reasons[i].libpq)))
            return reasons[i].ours;
    return perr ? "malformed" : "out of memory";
}

/* The parsed options hold the password in clear: wipe them before libpq frees them. */
static void free_options(PQconninfoOption *opts)
{
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val)
            memset(o->val, 0, strlen(o->val));
    PQconninfoFree(opts);
}

int cfg_conninfo(const char *url, struct buf *out, char *err, size_t errlen)
{
    size_t scheme_len, rest;
    char *perr = NULL;
    buf_reset(out);
    if (!url || !*url) {
        buf_adds(out, "");
        return 0;
    }
    if (url_scheme(url, &scheme_len, &rest) == 0) {
        if (!((scheme_len == 10 && !memcmp(url, "postgresql", 10)) ||
              (scheme_len == 8 && !memcmp(url, "postgres", 8)))) {
            snprintf(err, errlen, "cfg: DATABASE_URL: unsupported scheme \"%.*s\" (want postgresql://)",
                     (int)(scheme_len > 20 ? 20 : scheme_len), url);
            return -1;
        }
        buf_add(out, url, scheme_len);
        buf_adds(out, url + rest);
    } else {
        buf_adds(out, url);
    }
    PQconninfoOption *opts = PQconninfoParse(buf_str(out), &perr);
    if (!opts) {
        snprintf(err, errlen, "cfg: DATABASE_URL is not a valid connection string: %s",
                 parse_reason(perr));
        if (perr)
            memset(perr, 0, strlen(perr));
        PQfreemem(perr);
        return -1;
    }
    free_options(opts);
    return 0;
}

void cfg_redact_url(const char *url, struct buf *out)
{
    const char *sep, *at, *colon, *pw;
    buf_reset(out);
    if (!url)
        return;
    sep = strstr(url, "://");
    if (sep) {
        const char *auth = sep + 3;
        const char *slash = auth + strcspn(auth, "/?");
        at = NULL; /* the last '@' ends the user info: a password may hold '@' */
        for (const char *c = auth; c < slash; c++)
            if (*c == '@')
                at = c;
        colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            buf_add(out, url, (size_t)(colon + 1 - url));
            buf_adds(out, "***");
            buf_adds(out, at);
            return;
        }
        buf_adds(out, url);
        return;
    }
    /* key=value form: mask the value of password= */
    pw = strstr(url, "password");
    if (!pw) {
        buf_adds(out, url);
        return;
    }
    const char *eq = pw + 8;
    while (*eq == ' ')
        eq++;
    if (*eq != '=') {
        buf_adds(out, url);
        return;
    }
    eq++;
    while (*eq == ' ')
        eq++;
    const char *end = eq;
    if (*end == '\'') {
        for (end++; *end && *end != '\''; end++)
            if (*end == '\\' && end[1])
                end++;
        if (*end)
            end++;
    } else {
        while (*end && *end != ' ')
            end++;
    }
    buf_add(out, url, (size_t)(eq - url));
    buf_adds(out, "***");
    buf_adds(out, end);
}

/* ==== Data files ==== */

static int has_schema(const char *dir)
{
    struct buf p = BUF_INIT;
    buf_addf(&p, "%s/sql/schema.sql", dir);
    int ok = access(buf_str(&p), R_OK) == 0;
    buf_release(&p);
    return ok;
}

static char *find_home(void)
{
    const char *env = cfg_get("VABOT_HOME");
    char exe[4096];
    if (env)
        return xstrdup(env);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (char *slash = strrchr(exe, '/'); slash && slash > exe; slash = strrchr(exe, '/')) {
            *slash = '\0';
            if (has_schema(exe))
                return xstrdup(exe);
        }
    }
    return xstrdup(".");
}

const char *cfg_home(void)
{
    if (!home)
        home = find_home();
    return home;
}

void cfg_path(const char *rel, struct buf *out)
{
    buf_reset(out);
    buf_addf(out, "%s/%s", cfg_home(), rel);
}
