#include "llm.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cfg.h"
#include "text.h"
#include "utc.h"
#include "xalloc.h"

#define BODY_MAX (1024 * 1024)  /* a chat completion with one spec is a few kB */
#define PREV_MAX 2000           /* how much of a rejected answer goes back to the model */
#define MAX_COMPLETION_TOKENS 1000 /* a spec is ~300 tokens; stops a looping model early */

/* ==== Circuit breaker ==== */

/* State shared by every client that points at it; all fields are guarded by mu.
 * probe_at is when the half-open probe was let through: a probe whose caller never
 * reported back (it cannot happen, but a stuck breaker would silently disable the
 * LLM for good) is replaced after another cool-down. */
struct llm_breaker {
    pthread_mutex_t mu;
    int threshold, fails;
    int64_t cooldown_ms, opened_at, probe_at;
    enum llm_breaker_state state;
};

static llm_breaker shared_breaker = {PTHREAD_MUTEX_INITIALIZER, 3, 0, 60000, 0, 0,
                                     LLM_BREAKER_CLOSED};

llm_breaker *llm_breaker_new(int failures, int64_t cooldown_ms)
{
    llm_breaker *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    b->threshold = failures > 0 ? failures : 1;
    b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0;
    b->state = LLM_BREAKER_CLOSED;
    return b;
}

void llm_breaker_free(llm_breaker *b)
{
    if (!b || b == &shared_breaker)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void breaker_configure(llm_breaker *b, int failures, int64_t cooldown_ms)
{
    pthread_mutex_lock(&b->mu);
    b->threshold = failures > 0 ? failures : 1;
    b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0;
    pthread_mutex_unlock(&b->mu);
}

int llm_breaker_allow(llm_breaker *b, int64_t now_ms)
{
    int ok = 0;
    pthread_mutex_lock(&b->mu);
    switch (b->state) {
    case LLM_BREAKER_CLOSED:
        ok = 1;
        break;
    case LLM_BREAKER_OPEN:
        if (now_ms - b->opened_at >= b->cooldown_ms) {
            b->state = LLM_BREAKER_HALF_OPEN;
            b->probe_at = now_ms;
            ok = 1;
        }
        break;
    case LLM_BREAKER_HALF_OPEN:
        if (now_ms - b->probe_at >= b->cooldown_ms) {
            b->probe_at = now_ms;
            ok = 1;
        }
        break;
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

enum llm_breaker_state llm_breaker_record(llm_breaker *b, int ok, int64_t now_ms)
{
    pthread_mutex_lock(&b->mu);
    if (ok) {
        b->fails = 0;
        b->state = LLM_BREAKER_CLOSED;
    } else if (b->state == LLM_BREAKER_HALF_OPEN || ++b->fails >= b->threshold) {
        b->state = LLM_BREAKER_OPEN;
        b->opened_at = now_ms;
    }
    enum llm_breaker_state st = b->state;
    pthread_mutex_unlock(&b->mu);
    return st;
}

enum llm_breaker_state llm_breaker_state(llm_breaker *b, int64_t now_ms)
{
    pthread_mutex_lock(&b->mu);
    enum llm_breaker_state st = b->state;
    if (st == LLM_BREAKER_OPEN && now_ms - b->opened_at >= b->cooldown_ms)
        st = LLM_BREAKER_HALF_OPEN; /* the next allow() lets a probe through */
    pthread_mutex_unlock(&b->mu);
    return st;
}

/* ==== Client ==== */

/* One client per thread. Owns everything it points to: the copies of the options,
 * the prompt template, the parsed schema (sent inside every request), the curl
 * handle and its header list, which holds the key and is wiped before it is freed. */
struct llm_client {
    char *url, *model, *key;
    char *prompt; /* prompts/system.md with {{today}}, {{weekday}}, {{now}}, {{zone}}, {{offset}} */
    cJSON *schema;
    char fingerprint[17];
    long timeout_ms, attempt_ms, connect_ms, retry_max_ms, cooldown_ms;
    llm_breaker *breaker;
    CURL *curl;
    struct curl_slist *headers;
    uint64_t rng;
    void (*hook)(void *);
    void *hook_ctx;
    char err[400];
};

static void wipe(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
    }
}

void llm_opts_from_cfg(struct llm_opts *o)
{
    memset(o, 0, sizeof *o);
    o->base_url = cfg_get("OPENAI_BASE_URL");
    o->model = cfg_get("OPENAI_MODEL");
    o->api_key = cfg_get("OPENAI_API_KEY");
    o->timeout_ms = cfg_get_long("VABOT_LLM_TIMEOUT_MS", 15000, 100, 600000);
    o->attempt_timeout_ms = cfg_get_long("VABOT_LLM_ATTEMPT_TIMEOUT_MS", 10000, 100, 600000);
    o->connect_timeout_ms = cfg_get_long("VABOT_LLM_CONNECT_TIMEOUT_MS", 3000, 100, 600000);
    o->retry_max_ms = cfg_get_long("VABOT_LLM_RETRY_MAX_MS", 5000, 1, 600000);
    o->breaker_failures = (int)cfg_get_long("VABOT_LLM_BREAKER_FAILURES", 3, 1, 1000);
    o->breaker_cooldown_ms = cfg_get_long("VABOT_LLM_BREAKER_COOLDOWN_MS", 60000, 1, 86400000);
}

static int read_file(const char *path, struct buf *out, char *err, size_t errlen)
{
    char chunk[8192];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "llm: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "llm: cannot read %s: read error", path);
        return -1;
    }
    buf_add(out, "", 0); /* a NUL-terminated empty file too */
    return 0;
}

/* "$comment" is an annotation with no effect on validation; OpenAI's strict mode
 * accepts only the keywords it lists, so it is left out of what is sent. */
static int load_schema(llm_client *c, const char *path, struct buf *text, char *err,
                       size_t errlen)
{
    if (read_file(path, text, err, errlen))
        return -1;
    c->schema = cJSON_ParseWithLength(text->p, text->len);
    if (!cJSON_IsObject(c->schema)) {
        snprintf(err, errlen, "llm: %s: not a JSON object", path);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(c->schema, "$comment");
    return 0;
}

static void fnv1a(uint64_t *h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h ^= (unsigned char)s[i];
        *h *= 1099511628211ULL;
    }
    *h ^= 0xff; /* separator: "ab"+"c" differs from "a"+"bc" */
    *h *= 1099511628211ULL;
}

static int load_files(llm_client *c, const struct llm_opts *o, char *err, size_t errlen)
{
    struct buf path = BUF_INIT, prompt = BUF_INIT, schema = BUF_INIT;
    int rc = -1;
    if (o->prompt_path)
        buf_adds(&path, o->prompt_path);
    else
        cfg_path("prompts/system.md", &path);
    if (read_file(buf_str(&path), &prompt, err, errlen))
        goto out;
    if (o->schema_path) {
        buf_reset(&path);
        buf_adds(&path, o->schema_path);
    } else {
        cfg_path("sql/spec.schema.json", &path);
    }
    if (load_schema(c, buf_str(&path), &schema, err, errlen))
        goto out;
    uint64_t h = 1469598103934665603ULL;
    fnv1a(&h, c->model, strlen(c->model));
    fnv1a(&h, prompt.p, prompt.len);
    fnv1a(&h, schema.p, schema.len);
    /* The prompt tells the model the users' zone, so a dated spec depends on it too. */
    fnv1a(&h, utc_zone(), strlen(utc_zone()));
    snprintf(c->fingerprint, sizeof c->fingerprint, "%016llx", (unsigned long long)h);
    c->prompt = buf_detach(&prompt, NULL);
    rc = 0;
out:
    buf_release(&path);
    buf_release(&prompt);
    buf_release(&schema);
    return rc;
}

/* The key reaches curl only inside the header list: never in a URL, never in argv. */
static void set_headers(llm_client *c)
{
    struct buf auth = BUF_INIT;
    buf_adds(&auth, "Authorization: Bearer ");
    buf_adds(&auth, c->key);
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, buf_str(&auth));
    wipe(auth.p);
    buf_release(&auth);
}

llm_client *llm_new(const struct llm_opts *o, char *err, size_t errlen)
{
    llm_client *c = xcalloc(1, sizeof *c);
    const char *base = o->base_url ? o->base_url : "https://api.openai.com/v1";
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    struct buf url = BUF_INIT;
    buf_add(&url, base, blen);
    buf_adds(&url, "/chat/completions");
    c->url = buf_detach(&url, NULL);
    c->model = xstrdup(o->model ? o->model : "gpt-4o-mini");
    c->key = o->api_key && *o->api_key ? xstrdup(o->api_key) : NULL;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 15000;
    c->attempt_ms = o->attempt_timeout_ms > 0 ? o->attempt_timeout_ms : 10000;
    c->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 3000;
    c->retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 5000;
    c->cooldown_ms = o->breaker_cooldown_ms > 0 ? o->breaker_cooldown_ms : 60000;
    c->breaker = o->breaker ? o->breaker : &shared_breaker;
    if (!o->breaker)
        breaker_configure(c->breaker, o->breaker_failures > 0 ? o->breaker_failures : 3,
                          c->cooldown_ms);
    if (load_files(c, o, err, errlen)) {
        llm_free(c);
        return NULL;
    }
    if (c->key) {
        c->curl = curl_easy_init();
        if (!c->curl) {
            snprintf(err, errlen, "llm: cannot create a curl handle");
            llm_free(c);
            return NULL;
        }
        set_headers(c);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    c->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ULL;
    return c;
}

void llm_free(llm_client *c)
{
    if (!c)
        return;
    for (struct curl_slist *h = c->headers; h; h = h->next)
        wipe(h->data);
    curl_slist_free_all(c->headers);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    wipe(c->key);
    free(c->key);
    free(c->url);
    free(c->model);
    free(c->prompt);
    cJSON_Delete(c->schema);
    free(c);
}

int llm_enabled(const llm_client *c)
{
    return c && c->key != NULL;
}

const char *llm_errmsg(const llm_client *c)
{
    return c ? c->err : "llm: no client";
}

const char *llm_fingerprint(const llm_client *c)
{
    return c->fingerprint;
}

void llm_set_hook(llm_client *c, void (*hook)(void *ctx), void *ctx)
{
    c->hook = hook;
    c->hook_ctx = ctx;
}

/* ==== Prompt and request ==== */

/* The users' clock at now_us (utc.h's zone, VABOT_TZ): today's date, the local time
 * with its offset ("2025-12-03T11:30:00+03:00", or "...Z" in UTC) and the offset
 * alone ("+03:00"). Users name dates in that zone, so the model must know it. */
static void local_now(int64_t now_us, struct utc_civil *cv, char now[UTC_FMT_MAX],
                      char offset[8])
{
    int64_t sec = now_us - ((now_us % UTC_US_PER_SEC) + UTC_US_PER_SEC) % UTC_US_PER_SEC;
    int64_t as_utc = sec;
    utc_to_local(sec, cv);
    utc_from_civil(cv, &as_utc);
    long minutes = (long)((as_utc - sec) / (60 * UTC_US_PER_SEC));
    long m = minutes < 0 ? -minutes : minutes;
    snprintf(offset, 8, "%c%02ld:%02ld", minutes < 0 ? '-' : '+', m / 60 % 100, m % 60);
    snprintf(now, UTC_FMT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%s", cv->year % 10000, cv->month,
             cv->day, cv->hour, cv->min, cv->sec, strcmp(utc_zone(), "UTC") ? offset : "Z");
}

static void render_prompt(const char *tpl, int64_t now_us, struct buf *out)
{
    static const char *const weekdays[7] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                            "Friday", "Saturday", "Sunday"};
    char now[UTC_FMT_MAX], today[16], offset[8];
    struct utc_civil cv;
    local_now(now_us, &cv, now, offset);
    snprintf(today, sizeof today, "%04d-%02d-%02d", cv.year % 10000, cv.month, cv.day);
    int64_t days = utc_days_from_civil(cv.year, cv.month, cv.day);
    const struct { const char *name, *value; } vars[] = {
        {"{{today}}", today}, {"{{weekday}}", weekdays[utc_weekday(days)]}, {"{{now}}", now},
        {"{{zone}}", utc_zone()}, {"{{offset}}", offset}};
    for (const char *p = tpl; *p;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            buf_adds(out, p);
            break;
        }
        buf_add(out, p, (size_t)(open - p));
        p = open;
        size_t i;
        for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
            size_t n = strlen(vars[i].name);
            if (!strncmp(p, vars[i].name, n)) {
                buf_adds(out, vars[i].value);
                p += n;
                break;
            }
        }
        if (i == sizeof vars / sizeof vars[0]) /* not ours: keep it as it is */
            buf_add(out, p++, 1);
    }
}

static void add_message(cJSON *msgs, const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddItemToArray(msgs, m);
}

void llm_build_request(const llm_client *c, const char *question, size_t len, int64_t now_us,
                       const char *prev, const char *why, struct buf *out)
{
    struct buf sys = BUF_INIT, q = BUF_INIT, note = BUF_INIT;
    render_prompt(c->prompt, now_us, &sys);
    /* cJSON takes C strings: a NUL inside the question would cut it short */
    for (size_t i = 0; i < len; i++)
        buf_addc(&q, question[i] ? question[i] : ' ');
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", c->model);
    cJSON_AddNumberToObject(root, "temperature", 0);
    cJSON_AddNumberToObject(root, "max_completion_tokens", MAX_COMPLETION_TOKENS);
    cJSON *msgs = cJSON_AddArrayToObject(root, "messages");
    add_message(msgs, "system", buf_str(&sys));
    add_message(msgs, "user", buf_str(&q));
    if (why) {
        if (prev && *prev) {
            buf_add(&note, prev, strnlen(prev, PREV_MAX));
            add_message(msgs, "assistant", buf_str(&note));
            buf_reset(&note);
        }
        buf_addf(&note, "That answer was not accepted: %s. Reply again with one corrected "
                        "spec for the same question; if one number cannot answer it, set "
                        "\"supported\" to false with a reason.", why);
        add_message(msgs, "user", buf_str(&note));
    }
    cJSON *rf = cJSON_AddObjectToObject(root, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_schema");
    cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
    cJSON_AddStringToObject(js, "name", "query_spec");
    cJSON_AddBoolToObject(js, "strict", 1);
    cJSON_AddItemToObject(js, "schema", cJSON_Duplicate(c->schema, 1));
    char *text = cJSON_PrintUnformatted(root);
    buf_reset(out);
    buf_adds(out, text);
    free(text);
    cJSON_Delete(root);
    buf_release(&sys);
    buf_release(&q);
    buf_release(&note);
}

/* ==== Reply ==== */

static void reply_set(struct llm_reply *r, llm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_set(struct llm_reply *r, llm_status st, const char *fmt, ...)
{
    va_list ap;
    r->status = st;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

static const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* {"error":{"message","type","param","code"}}: OpenAI's error body on any status. */
static int parse_api_error(struct llm_reply *r, long http, const cJSON *root)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!cJSON_IsObject(e))
        return 0;
    const char *code = json_str(e, "code"), *type = json_str(e, "type");
    const char *msg = json_str(e, "message");
    /* Both end up in a one-line log entry: whatever the server sent, keep them so. */
    struct buf b = BUF_INIT;
    code = code && *code ? code : type && *type ? type : "unknown";
    text_add_clean(&b, code, strlen(code), sizeof r->code - 1);
    snprintf(r->code, sizeof r->code, "%s", buf_str(&b));
    buf_reset(&b);
    text_add_clean(&b, msg ? msg : "", msg ? strcspn(msg, "\r\n") : 0, 160);
    reply_set(r, LLM_EAPI, "http %ld %s: %s", http, r->code, buf_str(&b));
    buf_release(&b);
    return 1;
}

static void parse_choice(struct llm_reply *r, const cJSON *root)
{
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    const cJSON *ch = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    const cJSON *msg = ch ? cJSON_GetObjectItemCaseSensitive(ch, "message") : NULL;
    if (!cJSON_IsObject(msg)) {
        reply_set(r, LLM_EJSON, "reply has no choices[0].message");
        return;
    }
    const char *refusal = json_str(msg, "refusal"), *content = json_str(msg, "content");
    const char *finish = json_str(ch, "finish_reason");
    if (refusal) {
        buf_adds(&r->content, refusal);
        reply_set(r, LLM_NOT_UNDERSTOOD, "the model refused");
    } else if (finish && !strcmp(finish, "length")) {
        reply_set(r, LLM_NOT_UNDERSTOOD, "the reply was cut off (finish_reason length)");
    } else if (finish && !strcmp(finish, "content_filter")) {
        reply_set(r, LLM_NOT_UNDERSTOOD, "the reply was withheld (finish_reason content_filter)");
    } else if (!content) {
        reply_set(r, LLM_NOT_UNDERSTOOD, "the reply has no content");
    } else {
        buf_adds(&r->content, content);
        cJSON *spec = cJSON_ParseWithLength(r->content.p, r->content.len);
        if (!cJSON_IsObject(spec))
            reply_set(r, LLM_NOT_UNDERSTOOD, "the content is not a JSON object");
        else
            reply_set(r, LLM_OK, "ok");
        cJSON_Delete(spec);
    }
}

void llm_reply_parse(struct llm_reply *r, long http, const char *body, size_t len)
{
    memset(r, 0, sizeof *r);
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (root && parse_api_error(r, http, root)) {
        cJSON_Delete(root);
        return;
    }
    if (http < 200 || http > 299)
        reply_set(r, LLM_EHTTP, "http %ld", http);
    else if (!cJSON_IsObject(root))
        reply_set(r, LLM_EJSON, "http %ld: the body is not JSON", http);
    else
        parse_choice(r, root);
    cJSON_Delete(root);
}

void llm_reply_release(struct llm_reply *r)
{
    buf_release(&r->content);
}

static size_t scrub_at(char *s, size_t at, size_t n)
{
    memcpy(s + at, "***", 3);
    memmove(s + at + 3, s + at + n, strlen(s + at + n) + 1);
    return at + 3;
}

void llm_scrub(char *s, const char *key)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen >= 3)
        for (char *p = strstr(s, key); p; p = strstr(s + scrub_at(s, (size_t)(p - s), klen), key))
            ;
    for (size_t i = 0; s[i];) {
        if (!strncmp(s + i, "sk-", 3) && (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
            size_t n = 3;
            while (s[i + n] && (isalnum((unsigned char)s[i + n]) || strchr("-_*", s[i + n])))
                n++;
            i = scrub_at(s, i, n);
        } else {
            i++;
        }
    }
}

/* ==== One HTTP exchange ==== */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* 250..749 ms: two bots retrying the same outage do not hit the server together. */
static int64_t jitter_ms(llm_client *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return 250 + (int64_t)(c->rng % 500);
}

struct http_in {
    struct buf body;
    int64_t retry_after_ms; /* -1 when the reply did not say */
    int too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct http_in *in = ud;
    if (in->body.len + size * n > BODY_MAX) {
        in->too_big = 1;
        return 0;
    }
    buf_add(&in->body, p, size * n);
    return size * n;
}

static int header_is(const char *line, size_t n, const char *name, const char **value)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
        return 0;
    *value = line + k + 1;
    return 1;
}

/* retry-after-ms (OpenAI's, milliseconds) wins over retry-after (seconds). An
 * HTTP-date form of retry-after is ignored: the default wait applies. */
static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    struct http_in *in = ud;
    const char *v;
    char tmp[32];
    size_t len = size * n;
    int ms = header_is(line, len, "retry-after-ms", &v);
    if (ms || header_is(line, len, "retry-after", &v)) {
        size_t vlen = len - (size_t)(v - line);
        snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < sizeof tmp ? vlen : sizeof tmp - 1), v);
        char *end;
        errno = 0;
        double x = strtod(tmp, &end);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        if (!errno && end != tmp && !*end && x >= 0 && x < 1e7)
            if (ms || in->retry_after_ms < 0)
                in->retry_after_ms = (int64_t)(ms ? x : x * 1000);
    }
    return len;
}

/* Performs one POST; returns the curl code; http gets the status (0 without one). */
static CURLcode perform(llm_client *c, const struct buf *req, long timeout_ms,
                        struct http_in *in, long *http, char *cerr)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     c->connect_ms < timeout_ms ? c->connect_ms : timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vabot");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, in);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, in);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    cerr[0] = '\0';
    CURLcode rc = curl_easy_perform(h);
    *http = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
    return rc;
}

enum { NO_RETRY = -1 };

/* How long to wait before the one retry a failed attempt deserves, or NO_RETRY (with
 * why_not saying so for the log). Only 2xx replies have been classified as final. */
static int64_t retry_wait(llm_client *c, long http, const struct llm_reply *r,
                          const struct http_in *in, const char **why_not)
{
    int asked = in->retry_after_ms >= 0;
    *why_not = "no retry";
    if (r->status == LLM_OK || r->status == LLM_NOT_UNDERSTOOD || r->status == LLM_EJSON)
        return NO_RETRY;
    if (http == 429 && !strcmp(r->code, "insufficient_quota"))
        return NO_RETRY;
    if (http == 429) {
        if (asked && in->retry_after_ms > c->retry_max_ms) {
            *why_not = "retry-after too long, no retry";
            return NO_RETRY;
        }
        return asked ? in->retry_after_ms : 1000;
    }
    if (http == 0 || http == 408 || http == 409 || http >= 500)
        return asked && in->retry_after_ms <= c->retry_max_ms ? in->retry_after_ms : jitter_ms(c);
    return NO_RETRY;
}

static void log_line(llm_client *c, const char *what, const char *tail)
{
    snprintf(c->err, sizeof c->err, "llm: %s", what);
    llm_scrub(c->err, c->key);
    fprintf(stderr, "%s%s\n", c->err, tail);
}

/* One HTTP attempt of at most timeout_ms, classified into r; returns the HTTP status,
 * 0 when there was none (transport failure, LLM_ENET). */
static long attempt_once(llm_client *c, const struct buf *req, long timeout_ms,
                         struct http_in *in, struct llm_reply *r)
{
    char cerr[CURL_ERROR_SIZE];
    long http = 0;
    CURLcode rc = perform(c, req, timeout_ms, in, &http, cerr);
    llm_reply_release(r);
    if (rc == CURLE_OK) {
        llm_reply_parse(r, http, buf_str(&in->body), in->body.len);
        return http;
    }
    memset(r, 0, sizeof *r);
    if (in->too_big)
        reply_set(r, LLM_ENET, "reply larger than %d bytes", BODY_MAX);
    else
        reply_set(r, LLM_ENET, "%s%s%s", curl_easy_strerror(rc), cerr[0] ? ": " : "", cerr);
    return 0;
}

/* One request with at most one retry, all before deadline (monotonic ms). On return
 * r holds the classified reply. */
static llm_status exchange(llm_client *c, const struct buf *req, int64_t deadline,
                           struct llm_reply *r)
{
    char tail[80];
    for (int attempt = 0;; attempt++) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            llm_reply_release(r);
            memset(r, 0, sizeof *r);
            reply_set(r, LLM_ENET, "out of time (%ld ms in all)", c->timeout_ms);
            log_line(c, r->why, "");
            return r->status;
        }
        struct http_in in = {BUF_INIT, -1, 0};
        long http = attempt_once(c, req, (long)(left < c->attempt_ms ? left : c->attempt_ms),
                                 &in, r);
        buf_release(&in.body);
        const char *why_not;
        int64_t wait = retry_wait(c, http, r, &in, &why_not);
        if (wait == NO_RETRY) {
            if (r->status != LLM_OK && r->status != LLM_NOT_UNDERSTOOD) {
                snprintf(tail, sizeof tail, " (%s)", why_not);
                log_line(c, r->why, tail);
            }
            return r->status;
        }
        if (attempt > 0 || mono_ms() + wait >= deadline) {
            log_line(c, r->why,
                     attempt ? " (retried once, giving up)" : " (no time left to retry)");
            return r->status;
        }
        snprintf(tail, sizeof tail, " (retrying in %lld ms)", (long long)wait);
        log_line(c, r->why, tail);
        sleep_ms(wait);
    }
}

/* ==== Asking ==== */

/* Checks one candidate: the reply parser already made sure it is a JSON object. */
static int accept_spec(struct llm_reply *r, llm_validate_fn validate, void *ctx, struct buf *why)
{
    buf_reset(why);
    if (r->status != LLM_OK) {
        buf_adds(why, r->why);
        return 0;
    }
    if (validate && validate(ctx, r->content.p, r->content.len, why)) {
        if (!why->len)
            buf_adds(why, "rejected by the validator");
        return 0;
    }
    return 1;
}

/* Records the call's outcome in the breaker and logs when the circuit opens or closes. */
static llm_status finish(llm_client *c, llm_status st, int64_t started)
{
    int ok = st == LLM_OK || st == LLM_NOT_UNDERSTOOD;
    enum llm_breaker_state before = llm_breaker_state(c->breaker, started);
    enum llm_breaker_state after = llm_breaker_record(c->breaker, ok, mono_ms());
    if (after == LLM_BREAKER_OPEN && before != LLM_BREAKER_OPEN)
        fprintf(stderr, "llm: circuit open after repeated failures: no calls for %ld ms\n",
                c->cooldown_ms);
    else if (after == LLM_BREAKER_CLOSED && before == LLM_BREAKER_HALF_OPEN)
        fprintf(stderr, "llm: circuit closed: the service answers again\n");
    return st;
}

llm_status llm_ask(llm_client *c, const char *question, size_t len, int64_t now_us,
                   llm_validate_fn validate, void *ctx, struct buf *spec)
{
    if (!c->key) {
        snprintf(c->err, sizeof c->err, "llm: disabled: OPENAI_API_KEY is not set");
        return LLM_DISABLED;
    }
    int64_t started = mono_ms();
    if (!llm_breaker_allow(c->breaker, started)) {
        snprintf(c->err, sizeof c->err, "llm: circuit open: not calling for now");
        return LLM_OPEN;
    }
    if (c->hook)
        c->hook(c->hook_ctx);
    int64_t deadline = started + c->timeout_ms;
    struct buf req = BUF_INIT, why = BUF_INIT, prev = BUF_INIT;
    struct llm_reply r = {0};
    llm_status st = LLM_NOT_UNDERSTOOD;
    for (int round = 0; round < 2; round++) {
        llm_build_request(c, question, len, now_us, round ? buf_str(&prev) : NULL,
                          round ? buf_str(&why) : NULL, &req);
        llm_status got = exchange(c, &req, deadline, &r);
        if (got != LLM_OK && got != LLM_NOT_UNDERSTOOD) {
            st = got;
            break;
        }
        if (accept_spec(&r, validate, ctx, &why)) {
            buf_reset(spec);
            buf_add(spec, r.content.p, r.content.len);
            st = LLM_OK;
            break;
        }
        snprintf(c->err, sizeof c->err, "llm: not understood: %s", buf_str(&why));
        llm_scrub(c->err, c->key);
        fprintf(stderr, "%s%s\n", c->err, round ? "" : " (asking once more)");
        buf_reset(&prev);
        buf_add(&prev, r.content.p, r.content.len);
    }
    llm_reply_release(&r);
    buf_release(&req);
    buf_release(&why);
    buf_release(&prev);
    return finish(c, st, started);
}
