/* test_llm.c: request building, reply parsing, key scrubbing and the circuit breaker
 * of src/llm.c. No network: the one llm_ask() here meets an open circuit. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "llm.h"
#include "testhelp.h"
#include "utc.h"
#include "xalloc.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    utc_parse(iso, strlen(iso), &t);
    return t;
}

static llm_client *client(const char *model, const char *prompt_path, llm_breaker *b)
{
    struct llm_opts o = {0};
    char err[256];
    o.model = model;
    o.api_key = "sk-unit-test-key";
    o.base_url = "http://127.0.0.1:1/v1";
    o.prompt_path = prompt_path;
    o.breaker = b;
    llm_client *c = llm_new(&o, err, sizeof err);
    if (!c)
        fprintf(stderr, "llm_new: %s\n", err);
    return c;
}

static cJSON *request(llm_client *c, const char *q, size_t len, const char *prev, const char *why)
{
    struct buf out = BUF_INIT;
    llm_build_request(c, q, len, at("2025-12-03T08:30:00Z"), prev, why, &out);
    cJSON *root = cJSON_Parse(buf_str(&out));
    buf_release(&out);
    return root;
}

static const char *msg(const cJSON *root, int i, const char *field)
{
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "messages"), i);
    const cJSON *v = cJSON_GetObjectItem(m, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ==== Request ==== */

TEST(request_has_model_temperature_and_strict_schema)
{
    llm_client *c = client("gpt-test", NULL, NULL);
    CHECK(c != NULL);
    if (!c)
        return;
    cJSON *r = request(c, "Сколько видео?", strlen("Сколько видео?"), NULL, NULL);
    CHECK(r != NULL);
    CHECK_STR(cJSON_GetObjectItem(r, "model")->valuestring, "gpt-test");
    const cJSON *temp = cJSON_GetObjectItem(r, "temperature");
    CHECK(cJSON_IsNumber(temp) && temp->valuedouble == 0.0);
    const cJSON *rf = cJSON_GetObjectItem(r, "response_format");
    CHECK_STR(cJSON_GetObjectItem(rf, "type")->valuestring, "json_schema");
    const cJSON *js = cJSON_GetObjectItem(rf, "json_schema");
    CHECK_STR(cJSON_GetObjectItem(js, "name")->valuestring, "query_spec");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(js, "strict")));
    const cJSON *schema = cJSON_GetObjectItem(js, "schema");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(schema, "required")), 6);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(schema, "additionalProperties")));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(schema, "properties"), "filters") != NULL);
    CHECK(cJSON_GetObjectItem(schema, "$comment") == NULL);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")), 2);
    CHECK_STR(msg(r, 0, "role"), "system");
    CHECK_STR(msg(r, 1, "role"), "user");
    CHECK_STR(msg(r, 1, "content"), "Сколько видео?");
    CHECK_CONTAINS(msg(r, 0, "content"), "Today is 2025-12-03 (Wednesday)");
    CHECK_CONTAINS(msg(r, 0, "content"), "2025-12-03T08:30:00Z");
    CHECK_CONTAINS(msg(r, 0, "content"), "video_snapshots");
    CHECK(!strstr(msg(r, 0, "content"), "{{"));
    cJSON_Delete(r);
    llm_free(c);
}

TEST(request_escapes_the_question)
{
    llm_client *c = client(NULL, NULL, NULL);
    const char q[] = "a \"quoted\" \\ back\nslash\ttab\0nul";
    cJSON *r = request(c, q, sizeof q - 1, NULL, NULL);
    CHECK(r != NULL); /* whatever the question, the body is JSON */
    CHECK_STR(msg(r, 1, "content"), "a \"quoted\" \\ back\nslash\ttab nul");
    CHECK_STR(cJSON_GetObjectItem(r, "model")->valuestring, "gpt-4o-mini");
    cJSON_Delete(r);
    llm_free(c);
}

TEST(repair_request_sends_the_answer_and_the_reason_back)
{
    llm_client *c = client(NULL, NULL, NULL);
    cJSON *r = request(c, "q", 1, "{\"table\":\"users\"}", "unknown table \"users\"");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")), 4);
    CHECK_STR(msg(r, 2, "role"), "assistant");
    CHECK_STR(msg(r, 2, "content"), "{\"table\":\"users\"}");
    CHECK_STR(msg(r, 3, "role"), "user");
    CHECK_CONTAINS(msg(r, 3, "content"), "unknown table \"users\"");
    cJSON_Delete(r);
    r = request(c, "q", 1, NULL, "the reply was cut off");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")), 3);
    CHECK_STR(msg(r, 2, "role"), "user");
    cJSON_Delete(r);
    llm_free(c);
}

TEST(prompt_placeholders_are_filled)
{
    char path[] = "/tmp/vabot-test-prompt.XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "{{today}}|{{weekday}}|{{now}}|{{other}}|{";
    CHECK(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    llm_client *c = client(NULL, path, NULL);
    cJSON *r = request(c, "q", 1, NULL, NULL);
    CHECK_STR(msg(r, 0, "content"), "2025-12-03|Wednesday|2025-12-03T08:30:00Z|{{other}}|{");
    cJSON_Delete(r);
    llm_free(c);
    unlink(path);
}

/* A client whose prompt is text, rendered for now_iso; the prompt file is removed. */
static char *rendered(const char *text, const char *now_iso)
{
    char path[] = "/tmp/vabot-test-prompt.XXXXXX";
    int fd = mkstemp(path);
    size_t n = strlen(text);
    CHECK(fd >= 0 && write(fd, text, n) == (ssize_t)n);
    close(fd);
    llm_client *c = client(NULL, path, NULL);
    unlink(path);
    struct buf out = BUF_INIT;
    llm_build_request(c, "q", 1, at(now_iso), NULL, NULL, &out);
    cJSON *r = cJSON_Parse(buf_str(&out));
    char *got = xstrdup(msg(r, 0, "content") ? msg(r, 0, "content") : "(none)");
    cJSON_Delete(r);
    buf_release(&out);
    llm_free(c);
    return got;
}

#define CHECK_RENDERED(text, now_iso, want)   \
    do {                                      \
        char *g_ = rendered(text, now_iso);   \
        CHECK_STR(g_, want);                  \
        free(g_);                             \
    } while (0)

/* Users name dates in VABOT_TZ: the prompt gives the model that zone's today and now. */
TEST(prompt_speaks_the_users_zone)
{
    const char tpl[] = "{{zone}}|{{offset}}|{{today}}|{{weekday}}|{{now}}";
    CHECK_RENDERED(tpl, "2025-12-03T22:30:00Z", "UTC|+00:00|2025-12-03|Wednesday|2025-12-03T22:30:00Z");
    CHECK(utc_set_zone("Europe/Moscow") == 0);
    CHECK_RENDERED(tpl, "2025-12-03T22:30:00Z",
                   "Europe/Moscow|+03:00|2025-12-04|Thursday|2025-12-04T01:30:00+03:00");
    CHECK(utc_set_zone("America/New_York") == 0);
    CHECK_RENDERED(tpl, "2025-12-03T03:00:00.5Z",
                   "America/New_York|-05:00|2025-12-02|Tuesday|2025-12-02T22:00:00-05:00");
    CHECK_RENDERED("{{offset}}", "2025-07-01T12:00:00Z", "-04:00"); /* summer time */
    CHECK(utc_set_zone("Asia/Kolkata") == 0);
    CHECK_RENDERED("{{offset}} {{now}}", "2025-12-03T20:00:00Z", "+05:30 2025-12-04T01:30:00+05:30");
    /* the real prompt says it in its last section */
    CHECK(utc_set_zone("Europe/Moscow") == 0);
    llm_client *c = client(NULL, NULL, NULL);
    cJSON *r = request(c, "q", 1, NULL, NULL); /* 2025-12-03T08:30:00Z */
    CHECK_CONTAINS(msg(r, 0, "content"), "time zone is Europe/Moscow (UTC+03:00 now");
    CHECK_CONTAINS(msg(r, 0, "content"), "Today is 2025-12-03 (Wednesday) there, and the local "
                                         "time now is 2025-12-03T11:30:00+03:00.");
    cJSON_Delete(r);
    llm_free(c);
    utc_set_zone(NULL);
}

TEST(fingerprint_follows_the_model)
{
    llm_client *a = client("m1", NULL, NULL), *b = client("m1", NULL, NULL);
    llm_client *d = client("m2", NULL, NULL);
    CHECK_INT(strlen(llm_fingerprint(a)), 16);
    CHECK_STR(llm_fingerprint(a), llm_fingerprint(b));
    CHECK(strcmp(llm_fingerprint(a), llm_fingerprint(d)) != 0);
    /* dated specs depend on the users' zone: another zone, another namespace */
    CHECK(utc_set_zone("Europe/Moscow") == 0);
    llm_client *m = client("m1", NULL, NULL);
    CHECK(strcmp(llm_fingerprint(a), llm_fingerprint(m)) != 0);
    llm_free(m);
    utc_set_zone(NULL);
    llm_free(a);
    llm_free(b);
    llm_free(d);
}

TEST(missing_files_fail_cleanly)
{
    struct llm_opts o = {0};
    char err[256] = "";
    o.prompt_path = "/nonexistent/system.md";
    CHECK(llm_new(&o, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "llm: cannot read /nonexistent/system.md");
    o.prompt_path = NULL;
    o.schema_path = "/nonexistent/spec.schema.json";
    CHECK(llm_new(&o, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "spec.schema.json");
    llm_free(NULL);
}

/* ==== Reply ==== */

static llm_status parse(long http, const char *body, struct llm_reply *r)
{
    llm_reply_parse(r, http, body, strlen(body));
    return r->status;
}

TEST(reply_success)
{
    struct llm_reply r;
    CHECK_INT(parse(200, "{\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":"
                         "{\"role\":\"assistant\",\"content\":\"{\\\"supported\\\":false}\","
                         "\"refusal\":null}}]}", &r), LLM_OK);
    CHECK_STR(buf_str(&r.content), "{\"supported\":false}");
    llm_reply_release(&r);
}

TEST(reply_without_a_spec)
{
    struct llm_reply r;
    CHECK_INT(parse(200, "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":null,"
                         "\"refusal\":\"I can't help with that.\"}}]}", &r), LLM_NOT_UNDERSTOOD);
    CHECK_CONTAINS(r.why, "refused");
    CHECK_STR(buf_str(&r.content), "I can't help with that.");
    llm_reply_release(&r);
    CHECK_INT(parse(200, "{\"choices\":[{\"finish_reason\":\"length\",\"message\":"
                         "{\"content\":\"{\\\"supp\"}}]}", &r), LLM_NOT_UNDERSTOOD);
    CHECK_CONTAINS(r.why, "length");
    llm_reply_release(&r);
    CHECK_INT(parse(200, "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":null}}]}",
                    &r), LLM_NOT_UNDERSTOOD);
    CHECK_CONTAINS(r.why, "no content");
    llm_reply_release(&r);
    CHECK_INT(parse(200, "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":"
                         "{\"content\":\"SELECT 1\"}}]}", &r), LLM_NOT_UNDERSTOOD);
    CHECK_CONTAINS(r.why, "not a JSON object");
    CHECK_STR(buf_str(&r.content), "SELECT 1");
    llm_reply_release(&r);
    CHECK_INT(parse(200, "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":"
                         "{\"content\":\"[1,2]\"}}]}", &r), LLM_NOT_UNDERSTOOD);
    llm_reply_release(&r);
}

TEST(reply_api_errors)
{
    struct llm_reply r;
    CHECK_INT(parse(429, "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
                         "\"param\":null,\"code\":\"rate_limit_exceeded\"}}", &r), LLM_EAPI);
    CHECK_STR(r.code, "rate_limit_exceeded");
    CHECK_CONTAINS(r.why, "http 429 rate_limit_exceeded: Rate limit reached");
    llm_reply_release(&r);
    CHECK_INT(parse(429, "{\"error\":{\"message\":\"You exceeded your current quota\","
                         "\"type\":\"insufficient_quota\",\"param\":null,"
                         "\"code\":\"insufficient_quota\"}}", &r), LLM_EAPI);
    CHECK_STR(r.code, "insufficient_quota");
    llm_reply_release(&r);
    CHECK_INT(parse(401, "{\"error\":{\"message\":\"Incorrect API key provided\","
                         "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}", &r),
              LLM_EAPI);
    CHECK_STR(r.code, "invalid_api_key");
    llm_reply_release(&r);
    CHECK_INT(parse(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"code\":null}}",
                    &r), LLM_EAPI);
    CHECK_STR(r.code, "server_error"); /* the type when there is no code */
    llm_reply_release(&r);
}

/* Found by tests/fuzz/fuzz_llm_reply.c (corpus files regress-code-with-control and
 * regress-empty-code): the server's error code went into the one-line log as is. */
TEST(reply_api_error_code_stays_one_line)
{
    struct llm_reply r;
    CHECK_INT(parse(429, "{\"error\":{\"message\":\"a\\nb\",\"type\":\"requests\","
                         "\"code\":\"rate\\nlimit\\u001f\"}}", &r), LLM_EAPI);
    CHECK_STR(r.code, "rate?limit?");
    CHECK_STR(r.why, "http 429 rate?limit?: a");
    llm_reply_release(&r);
    CHECK_INT(parse(401, "{\"error\":{\"message\":\"no\",\"type\":\"auth\",\"code\":\"\"}}", &r),
              LLM_EAPI);
    CHECK_STR(r.code, "auth");
    llm_reply_release(&r);
}

TEST(reply_garbage)
{
    struct llm_reply r;
    CHECK_INT(parse(502, "<html>Bad Gateway</html>", &r), LLM_EHTTP);
    CHECK_CONTAINS(r.why, "http 502");
    llm_reply_release(&r);
    CHECK_INT(parse(200, "<html>", &r), LLM_EJSON);
    llm_reply_release(&r);
    CHECK_INT(parse(200, "{\"choices\":[{\"index\":0,", &r), LLM_EJSON);
    llm_reply_release(&r);
    CHECK_INT(parse(200, "{\"choices\":[]}", &r), LLM_EJSON);
    llm_reply_release(&r);
    CHECK_INT(parse(200, "[]", &r), LLM_EJSON);
    llm_reply_release(&r);
    CHECK_INT(parse(200, "", &r), LLM_EJSON);
    llm_reply_release(&r);
}

TEST(scrub_hides_keys)
{
    char a[] = "Incorrect API key provided: sk-proj-abc*****wxyz. See sk-";
    llm_scrub(a, NULL);
    CHECK_STR(a, "Incorrect API key provided: ***. See ***");
    char b[] = "key MYKEY42 and MYKEY42 again; task-1 stays";
    llm_scrub(b, "MYKEY42");
    CHECK_STR(b, "key *** and *** again; task-1 stays");
}

/* ==== Circuit breaker ==== */

TEST(breaker_opens_after_n_failures_and_probes_after_cooldown)
{
    llm_breaker *b = llm_breaker_new(3, 1000);
    CHECK_INT(llm_breaker_state(b, 0), LLM_BREAKER_CLOSED);
    for (int i = 0; i < 2; i++) {
        CHECK(llm_breaker_allow(b, 10 * i));
        CHECK_INT(llm_breaker_record(b, 0, 10 * i), LLM_BREAKER_CLOSED);
    }
    CHECK(llm_breaker_allow(b, 100));
    CHECK_INT(llm_breaker_record(b, 0, 100), LLM_BREAKER_OPEN);
    CHECK(!llm_breaker_allow(b, 101));
    CHECK(!llm_breaker_allow(b, 1099));
    CHECK_INT(llm_breaker_state(b, 1099), LLM_BREAKER_OPEN);
    CHECK_INT(llm_breaker_state(b, 1100), LLM_BREAKER_HALF_OPEN);
    CHECK(llm_breaker_allow(b, 1100));  /* the probe */
    CHECK(!llm_breaker_allow(b, 1101)); /* one probe at a time */
    CHECK_INT(llm_breaker_record(b, 0, 1200), LLM_BREAKER_OPEN); /* failed probe */
    CHECK(!llm_breaker_allow(b, 2199));
    CHECK(llm_breaker_allow(b, 2200));
    CHECK_INT(llm_breaker_record(b, 1, 2300), LLM_BREAKER_CLOSED);
    CHECK(llm_breaker_allow(b, 2301));
    llm_breaker_free(b);
}

TEST(breaker_success_resets_the_count)
{
    llm_breaker *b = llm_breaker_new(2, 1000);
    llm_breaker_record(b, 0, 0);
    llm_breaker_record(b, 1, 1);
    CHECK_INT(llm_breaker_record(b, 0, 2), LLM_BREAKER_CLOSED);
    CHECK_INT(llm_breaker_record(b, 0, 3), LLM_BREAKER_OPEN);
    llm_breaker_free(b);
}

TEST(breaker_replaces_a_lost_probe)
{
    llm_breaker *b = llm_breaker_new(1, 500);
    llm_breaker_record(b, 0, 0);
    CHECK(llm_breaker_allow(b, 500));
    CHECK(!llm_breaker_allow(b, 999));
    CHECK(llm_breaker_allow(b, 1000)); /* the first probe never reported */
    llm_breaker_free(b);
}

static int hook_calls;
static void hook(void *ctx)
{
    (void)ctx;
    hook_calls++;
}

TEST(ask_with_an_open_circuit_sends_nothing)
{
    llm_breaker *b = llm_breaker_new(1, 3600000);
    llm_client *c = client(NULL, NULL, b);
    struct buf spec = BUF_INIT;
    struct timespec ts;
    llm_set_hook(c, hook, NULL);
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock llm_ask() reads */
    llm_breaker_record(b, 0, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    CHECK_INT(llm_ask(c, "q", 1, 0, NULL, NULL, &spec), LLM_OPEN);
    CHECK_INT(hook_calls, 0);
    CHECK_CONTAINS(llm_errmsg(c), "circuit open");
    CHECK_INT(spec.len, 0);
    llm_free(c);
    llm_breaker_free(b);
}

TEST(ask_without_a_key_is_disabled)
{
    struct llm_opts o = {0};
    char err[256];
    struct buf spec = BUF_INIT;
    llm_client *c = llm_new(&o, err, sizeof err);
    CHECK(c != NULL);
    CHECK(!llm_enabled(c));
    llm_set_hook(c, hook, NULL);
    hook_calls = 0;
    CHECK_INT(llm_ask(c, "q", 1, 0, NULL, NULL, &spec), LLM_DISABLED);
    CHECK_INT(hook_calls, 0);
    CHECK_CONTAINS(llm_errmsg(c), "OPENAI_API_KEY");
    llm_free(c);
}

int main(void)
{
    RUN(request_has_model_temperature_and_strict_schema);
    RUN(request_escapes_the_question);
    RUN(repair_request_sends_the_answer_and_the_reason_back);
    RUN(prompt_placeholders_are_filled);
    RUN(prompt_speaks_the_users_zone);
    RUN(fingerprint_follows_the_model);
    RUN(missing_files_fail_cleanly);
    RUN(reply_success);
    RUN(reply_without_a_spec);
    RUN(reply_api_errors);
    RUN(reply_api_error_code_stays_one_line);
    RUN(reply_garbage);
    RUN(scrub_hides_keys);
    RUN(breaker_opens_after_n_failures_and_probes_after_cooldown);
    RUN(breaker_success_resets_the_count);
    RUN(breaker_replaces_a_lost_probe);
    RUN(ask_with_an_open_circuit_sends_nothing);
    RUN(ask_without_a_key_is_disabled);
    return th_finish();
}
