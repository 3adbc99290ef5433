/* tg.c: Telegram Bot API over libcurl, the getUpdates parser and the reply splitter. */
#include "tg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "xalloc.h"

#define CONNECT_TIMEOUT_S 10L
#define SEND_TIMEOUT_S 15L
/* A chat action shows for five seconds: one that takes longer to send is worth
 * nothing, and the bot's reply waits for it. */
#define ACTION_TIMEOUT_S 5L
/* A getUpdates answer holds at most 100 updates of at most 4096 characters each;
 * anything far beyond that is not Telegram talking. */
#define BODY_MAX (16u << 20)

/* The client owns the easy handle (one, for keep-alive), its header list, copies of
 * the base URL and the token (wiped before freeing), and two scratch buffers reused by
 * every call. abort_flag is borrowed from the caller. */
struct tg_client {
    CURL *h;
    struct curl_slist *headers;
    char *base, *token;
    struct buf url, body;
    const atomic_int *abort_flag;
    long max_ms; /* tg_set_max_time(): 0, or the cap on every call */
    int error_code, retry_after;
    char curlerr[CURL_ERROR_SIZE];
    char err[512];
};

/* ==== UTF-8 and UTF-16 ==== */

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Length of the code point at s (1 for a byte that does not start a valid sequence)
 * and, in *units, how many UTF-16 code units Telegram counts for it. */
static size_t cp_len(const unsigned char *s, size_t left, int *units)
{
    unsigned char c = s[0];
    *units = 1;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF && left >= 2 && is_cont(s[1]))
        return 2;
    if (c >= 0xE0 && c <= 0xEF && left >= 3 && is_cont(s[1]) && is_cont(s[2])) {
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
            return 1; /* overlong form or a UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4 && left >= 4 && is_cont(s[1]) && is_cont(s[2]) && is_cont(s[3])) {
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 1;
        *units = 2; /* outside the BMP: a surrogate pair in UTF-16 */
        return 4;
    }
    return 1;
}

size_t tg_utf16_units(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t units = 0;
    for (size_t i = 0; i < len;) {
        int u;
        i += cp_len(p + i, len - i, &u);
        units += (size_t)u;
    }
    return units;
}

size_t tg_utf16_to_byte(const char *s, size_t len, size_t units)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, seen = 0;
    while (i < len && seen < units) {
        int u;
        i += cp_len(p + i, len - i, &u);
        seen += (size_t)u;
    }
    return i;
}

size_t tg_split(const char *s, size_t len, size_t max_units)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, used = 0, after_nl = 0;
    while (i < len) {
        int u;
        size_t n = cp_len(p + i, len - i, &u);
        if (used + (size_t)u > max_units)
            break;
        used += (size_t)u;
        i += n;
        if (p[i - 1] == '\n')
            after_nl = i;
    }
    if (i == len)
        return len;
    if (after_nl)
        return after_nl;
    if (i == 0 && len > 0) { /* max_units below one code point: never return 0 */
        int u;
        return cp_len(p, len, &u);
    }
    return i;
}

/* ==== Parsing updates ==== */

/* Telegram ids fit in 52 bits, so a double holds them exactly; anything else (a
 * fraction, beyond 2^53, not a number) counts as absent. */
static int get_i64(const cJSON *obj, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

static const char *get_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *get_obj(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsObject(v) ? v : NULL;
}

static void parse_entities(const cJSON *arr, struct tg_update *u)
{
    const cJSON *e;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    u->mentions = n ? xcalloc(n, sizeof *u->mentions) : NULL;
    cJSON_ArrayForEach(e, arr)
    {
        const char *type = get_str(e, "type");
        int64_t off, len;
        if (!type || get_i64(e, "offset", &off) || get_i64(e, "length", &len) || off < 0 || len < 0)
            continue;
        if (!strcmp(type, "bot_command") && off == 0)
            u->starts_with_command = 1;
        if (strcmp(type, "mention") != 0)
            continue;
        size_t b0 = tg_utf16_to_byte(u->text, u->text_len, (size_t)off);
        size_t b1 = tg_utf16_to_byte(u->text, u->text_len, (size_t)off + (size_t)len);
        if (b1 > b0)
            u->mentions[u->nmentions++] = (struct tg_span){b0, b1 - b0};
    }
}

static void parse_message(const cJSON *m, struct tg_update *u)
{
    const cJSON *chat = get_obj(m, "chat"), *from = get_obj(m, "from");
    const cJSON *reply = get_obj(m, "reply_to_message");
    const char *type = chat ? get_str(chat, "type") : NULL;
    const char *uname = from ? get_str(from, "username") : NULL;
    const char *text = get_str(m, "text");
    get_i64(m, "message_id", &u->message_id);
    if (from)
        get_i64(from, "id", &u->from_id);
    if (reply && get_obj(reply, "from"))
        get_i64(get_obj(reply, "from"), "id", &u->reply_to_from_id);
    u->chat_type = xstrdup(type ? type : "");
    u->from_username = xstrdup(uname ? uname : "");
    if (text) {
        u->text = xstrdup(text);
        u->text_len = strlen(text);
        const cJSON *ents = cJSON_GetObjectItemCaseSensitive(m, "entities");
        if (cJSON_IsArray(ents))
            parse_entities(ents, u);
    }
    if (!chat || get_i64(chat, "id", &u->chat_id) || u->chat_id == 0)
        u->kind = TG_UPDATE_OTHER; /* nowhere to reply */
}

static void parse_update(const cJSON *item, struct tg_update *u)
{
    const cJSON *m = get_obj(item, "message");
    u->kind = TG_UPDATE_MESSAGE;
    if (!m) {
        m = get_obj(item, "edited_message");
        u->kind = TG_UPDATE_EDITED;
    }
    if (m)
        parse_message(m, u);
    else
        u->kind = TG_UPDATE_OTHER;
    if (!u->chat_type)
        u->chat_type = xstrdup("");
    if (!u->from_username)
        u->from_username = xstrdup("");
}

int tg_parse_updates(const char *body, size_t len, struct tg_updates *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
    if (!cJSON_IsObject(root) || !cJSON_IsTrue(ok) || !cJSON_IsArray(res)) {
        snprintf(err, errlen, "tg: getUpdates: %s",
                 root ? "answer is not {\"ok\":true,\"result\":[...]}" : "answer is not JSON");
        cJSON_Delete(root);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(res);
    out->v = n ? xcalloc(n, sizeof *out->v) : NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, res)
    {
        struct tg_update *u = &out->v[out->n];
        if (!cJSON_IsObject(item) || get_i64(item, "update_id", &u->update_id))
            continue; /* without an id it can be neither answered nor confirmed */
        parse_update(item, u);
        out->n++;
    }
    cJSON_Delete(root);
    return 0;
}

void tg_updates_free(struct tg_updates *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].chat_type);
        free(u->v[i].from_username);
        free(u->v[i].text);
        free(u->v[i].mentions);
    }
    free(u->v);
    memset(u, 0, sizeof *u);
}

/* ==== The client ==== */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct buf *b = ctx;
    size_t n = size * nmemb;
    if (b->len + n > BODY_MAX)
        return 0; /* curl reports a write error */
    buf_add(b, data, n);
    return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const tg_client *c = ctx;
    return c->abort_flag && atomic_load(c->abort_flag) ? 1 : 0;
}

tg_client *tg_new(const char *base_url, const char *token)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    tg_client *c = xcalloc(1, sizeof *c);
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    c->h = h;
    c->base = xmemdup(base_url, blen);
    c->token = xstrdup(token);
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->body);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curlerr);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    return c;
}

void tg_free(tg_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    curl_slist_free_all(c->headers);
    memset(c->token, 0, strlen(c->token));
    free(c->token);
    free(c->base);
    buf_wipe(&c->url);
    buf_release(&c->body);
    free(c);
}

const char *tg_errmsg(const tg_client *c)
{
    return c ? c->err : "tg: no client";
}

int tg_error_code(const tg_client *c)
{
    return c->error_code;
}

int tg_retry_after(const tg_client *c)
{
    return c->retry_after;
}

void tg_set_abort_flag(tg_client *c, const atomic_int *flag)
{
    c->abort_flag = flag;
}

void tg_set_max_time(tg_client *c, long ms)
{
    c->max_ms = ms;
}

void tg_scrub(char *s, const char *token)
{
    size_t tl = strlen(token), mask = tl < 3 ? tl : 3;
    if (!tl)
        return;
    /* The search goes on after the mask, so a token made of '*' cannot match forever. */
    for (char *p = strstr(s, token); p; p = strstr(p + mask, token)) {
        memset(p, '*', mask);
        memmove(p + mask, p + tl, strlen(p + tl) + 1);
    }
}

/* A last guard: whatever curl or the server wrote into the message, the token must
 * not reach a log line. */
static void scrub_token(tg_client *c)
{
    tg_scrub(c->err, c->token);
}

static tg_status api_error(tg_client *c, const char *method, long http, const cJSON *root)
{
    const cJSON *params = get_obj(root, "parameters");
    const char *desc = get_str(root, "description");
    int64_t code = http, after = 0;
    get_i64(root, "error_code", &code);
    if (params && get_i64(params, "retry_after", &after) == 0 && after > 0)
        c->retry_after = after > 3600 ? 3600 : (int)after;
    c->error_code = (int)code;
    snprintf(c->err, sizeof c->err, "tg: %s failed: %d %.200s", method, c->error_code,
             desc ? desc : "(no description)");
    return TG_EAPI;
}

/* POSTs payload to METHOD and returns the parsed answer in *root when it is ok. */
static tg_status call(tg_client *c, const char *method, const char *payload, long timeout_s,
                      cJSON **root_out)
{
    buf_reset(&c->url);
    buf_reset(&c->body);
    buf_addf(&c->url, "%s/bot%s/%s", c->base, c->token, method);
    c->error_code = c->retry_after = 0;
    c->curlerr[0] = '\0';
    curl_easy_setopt(c->h, CURLOPT_URL, c->url.p);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, payload);
    long ms = timeout_s * 1000L;
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, c->max_ms > 0 && c->max_ms < ms ? c->max_ms : ms);
    CURLcode cc = curl_easy_perform(c->h);
    memset(c->url.p, 0, c->url.len);
    if (cc != CURLE_OK) {
        int stopped = cc == CURLE_ABORTED_BY_CALLBACK;
        const char *why = c->curlerr[0] ? c->curlerr : curl_easy_strerror(cc);
        if (stopped)
            why = "stopped";
        else if (cc == CURLE_WRITE_ERROR)
            why = "answer too large";
        snprintf(c->err, sizeof c->err, "tg: %s failed: %s", method, why);
        scrub_token(c);
        return stopped ? TG_ESTOP : TG_ENET;
    }
    long http = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &http);
    cJSON *root = cJSON_ParseWithLength(buf_str(&c->body), c->body.len);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    tg_status st = TG_OK;
    if (!cJSON_IsObject(root) || !cJSON_IsBool(ok)) {
        c->error_code = (int)http;
        snprintf(c->err, sizeof c->err, "tg: %s failed: http %ld%s", method, http,
                 http == 200 ? ", answer is not a Bot API object" : "");
        st = http == 200 ? TG_EJSON : TG_EHTTP;
    } else if (!cJSON_IsTrue(ok)) {
        st = api_error(c, method, http, root);
    }
    scrub_token(c);
    if (st == TG_OK && root_out)
        *root_out = root;
    else
        cJSON_Delete(root);
    return st;
}

/* Appends s as a JSON string literal. Text is valid UTF-8 by the time it gets here, so
 * only quotes, backslashes and control characters need escaping. */
static void json_str(struct buf *b, const char *s, size_t len)
{
    buf_addc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)ch);
        } else if (ch == '\n') {
            buf_adds(b, "\\n");
        } else if (ch < 0x20) {
            buf_addf(b, "\\u%04x", ch);
        } else {
            buf_addc(b, (char)ch);
        }
    }
    buf_addc(b, '"');
}

tg_status tg_get_me(tg_client *c, struct tg_me *me)
{
    cJSON *root = NULL;
    memset(me, 0, sizeof *me);
    tg_status st = call(c, "getMe", "{}", CONNECT_TIMEOUT_S + SEND_TIMEOUT_S, &root);
    if (st != TG_OK)
        return st;
    const cJSON *res = get_obj(root, "result");
    const char *uname = res ? get_str(res, "username") : NULL;
    if (!res || get_i64(res, "id", &me->id)) {
        snprintf(c->err, sizeof c->err, "tg: getMe: answer has no result.id");
        st = TG_EJSON;
    } else {
        snprintf(me->username, sizeof me->username, "%s", uname ? uname : "");
    }
    cJSON_Delete(root);
    return st;
}

tg_status tg_delete_webhook(tg_client *c)
{
    return call(c, "deleteWebhook", "{\"drop_pending_updates\":false}", SEND_TIMEOUT_S, NULL);
}

tg_status tg_get_updates(tg_client *c, int64_t offset, int timeout_s, struct tg_updates *out)
{
    char payload[160];
    memset(out, 0, sizeof *out);
    snprintf(payload, sizeof payload,
             "{\"offset\":%" PRId64 ",\"limit\":%d,\"timeout\":%d,"
             "\"allowed_updates\":[\"message\",\"edited_message\"]}",
             offset, TG_UPDATES_MAX, timeout_s);
    tg_status st = call(c, "getUpdates", payload, (long)timeout_s + 10L, NULL);
    if (st != TG_OK)
        return st;
    if (tg_parse_updates(buf_str(&c->body), c->body.len, out, c->err, sizeof c->err))
        return TG_EJSON;
    return TG_OK;
}

tg_status tg_send_message(tg_client *c, int64_t chat_id, const char *text, size_t len,
                          const char *parse_mode, int64_t reply_to)
{
    struct buf p = BUF_INIT;
    buf_addf(&p, "{\"chat_id\":%" PRId64 ",\"text\":", chat_id);
    json_str(&p, text, len);
    if (parse_mode)
        buf_addf(&p, ",\"parse_mode\":\"%s\"", parse_mode);
    if (reply_to)
        buf_addf(&p,
                 ",\"reply_parameters\":{\"message_id\":%" PRId64
                 ",\"allow_sending_without_reply\":true}",
                 reply_to);
    buf_addc(&p, '}');
    tg_status st = call(c, "sendMessage", p.p, SEND_TIMEOUT_S, NULL);
    if (st != TG_OK) {
        size_t n = strlen(c->err);
        snprintf(c->err + n, sizeof c->err - n, " (chat %" PRId64 ")", chat_id);
    }
    buf_release(&p);
    return st;
}

tg_status tg_send_chat_action(tg_client *c, int64_t chat_id, const char *action)
{
    char payload[128];
    snprintf(payload, sizeof payload, "{\"chat_id\":%" PRId64 ",\"action\":\"%s\"}", chat_id,
             action);
    tg_status st = call(c, "sendChatAction", payload, ACTION_TIMEOUT_S, NULL);
    if (st != TG_OK) {
        size_t n = strlen(c->err);
        snprintf(c->err + n, sizeof c->err - n, " (chat %" PRId64 ")", chat_id);
    }
    return st;
}
