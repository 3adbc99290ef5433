#include <cJSON.h>
#include <ctype.h>

#include "sqlcheck.h"
#include "sqlgen.h"
#include "testhelp.h"
#include "text.h"
#include "validate.h"

/* Validates json; returns the error text ("" when accepted). */
static const char *verdict(const char *json)
{
    static struct buf err = BUF_INIT;
    struct spec s;
    buf_reset(&err);
    if (validate_json(json, strlen(json), &s, &err) == 0)
        return "";
    return buf_str(&err);
}

#define REJECTS(json, prefix)                                                                \
    do {                                                                                     \
        const char *v_ = verdict(json);                                                      \
        if (strncmp(v_, prefix, strlen(prefix)) != 0 || !*v_) {                              \
            fprintf(stderr, "%s:%d: %s\n  want an error starting \"%s\"\n  got \"%s\"\n",    \
                    __FILE__, __LINE__, json, prefix, v_);                                   \
            th_current_failed = 1;                                                           \
        }                                                                                    \
    } while (0)

#define ACCEPTS(json) CHECK_STR(verdict(json), "")

TEST(structure)
{
    REJECTS("", "spec: not valid JSON");
    REJECTS("[1]", "spec: expected an object");
    REJECTS("{\"table\":\"videos\"} trailing", "spec: unexpected text");
    REJECTS("{\"tabel\":\"videos\"}", "tabel: unknown key");
    REJECTS("{\"table\":\"videos\",\"table\":\"videos\"}", "table: duplicate key");
    REJECTS("{\"table\":\"users\",\"aggregation\":\"count\"}", "table: unknown value");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"median\"}", "aggregation: unknown value");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"supported\":\"yes\"}", "supported: expected true or false");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"views_count\",\"op\":\"LIKE\",\"value\":1}]}}",
            "filters.conditions[0].op: unknown value");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"views_count\",\"op\":\">\",\"value\":1},{\"field\":\"views_count\",\"op\":\">\",\"value\":\"10\"}]}}",
            "filters.conditions[1].value: expected an integer");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"views_count\",\"op\":\">\",\"value\":1.5}]}}",
            "filters.conditions[0].value: expected an integer");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"views_count\",\"op\":\">\",\"value\":1e300}]}}",
            "filters.conditions[0].value: expected an integer");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"views_count\",\"op\":\">\"}]}}",
            "filters.conditions[0]: a condition needs");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"id\",\"op\":\">\",\"value\":1}]}}",
            "filters.conditions[0].field: unknown value");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"creator_id\",\"op\":\"=\",\"value\":1}]}}",
            "filters.conditions[0].field: not a numeric column");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"published_from\":\"yesterday\"}}",
            "filters.published_from: not an ISO 8601 time");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"published_from\":20251128}}",
            "filters.published_from: expected an ISO 8601 time");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":\"aca1061a9d324ecf8c3fa2bb32d7be63\"}}",
            "filters.creator_ids: expected an array");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[42]}}",
            "filters.creator_ids[0]: expected a string");
    REJECTS("{\"table\":\"video_snapshots\",\"aggregation\":\"count\",\"filters\":{\"hours_after_publication\":\"3\"}}",
            "filters.hours_after_publication: expected a number");
    REJECTS("{\"table\":\"video_snapshots\",\"aggregation\":\"count\",\"filters\":{\"hours_after_publication\":-3}}",
            "filters.hours_after_publication: hours out of range");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"sql\":\"DROP TABLE videos\"}}",
            "filters.sql: unknown key");
}

/* Found by tests/fuzz/fuzz_validate.c (corpus file regress-key-with-newline): a key or a
 * value with a newline, a control byte or bytes that are not UTF-8 went into the error
 * as is, and the error goes to the log and back to the LLM. */
TEST(errors_are_one_clean_line)
{
    const char *bad[] = {
        "{\"tab\nle\":\"videos\"}",
        "{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"x\\u0001\\ud800\":1}}",
        "{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"a\nb\"]}}",
        "{\"table\":\"v\xff\xfe\",\"aggregation\":\"count\"}",
        "{\"table\":\"\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbe"
        "\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbe\xd0\xb2\xd0\xb8"
        "\xd0\xb4\xd0\xb5\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5"
        "\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb5\xd0\xbe\",\"aggregation\":\"count\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *v = verdict(bad[i]);
        size_t at;
        const char *why;
        CHECK(*v != '\0');
        CHECK(text_utf8_check(v, strlen(v), &at, &why) == 0);
        for (const char *p = v; *p; p++)
            CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    REJECTS("{\"tab\nle\":\"videos\"}", "tab?le: unknown key");
}

TEST(oversized_arrays)
{
    struct buf j = BUF_INIT;
    buf_adds(&j, "{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[");
    for (int i = 0; i < 51; i++)
        buf_addf(&j, "%s\"%032x\"", i ? "," : "", i);
    buf_adds(&j, "]}}");
    REJECTS(buf_str(&j), "filters.creator_ids: too many ids");
    buf_reset(&j);
    buf_adds(&j, "{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[");
    for (int i = 0; i < 9; i++)
        buf_addf(&j, "%s{\"field\":\"views_count\",\"op\":\">\",\"value\":%d}", i ? "," : "", i);
    buf_adds(&j, "]}}");
    REJECTS(buf_str(&j), "filters.conditions: too many conditions");
    buf_release(&j);
}

TEST(semantics)
{
    REJECTS("{\"supported\":true}", "table: required");
    REJECTS("{\"table\":\"videos\"}", "aggregation: required");
    REJECTS("{\"supported\":false}", "reason: required when supported is false");
    REJECTS("{\"reason\":\"list\",\"table\":\"videos\",\"aggregation\":\"count\"}", "reason: must be null");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"sum\",\"field\":\"creator_id\"}", "field: not a numeric column of videos");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"sum\"}", "field: not a numeric column of videos");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"avg\",\"field\":\"delta_views_count\"}", "field: not a numeric column of videos");
    REJECTS("{\"table\":\"video_snapshots\",\"aggregation\":\"max\",\"field\":\"publication_day\"}", "field: not a numeric column of video_snapshots");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"field\":\"views_count\"}", "field: count counts rows");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count_distinct\",\"field\":\"views_count\"}", "field: count_distinct needs");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"delta_views_count\",\"op\":\">\",\"value\":0}]}}",
            "filters.conditions[0].field: not a numeric column of the table");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"measured_from\":\"2025-11-28T00:00:00Z\"}}",
            "filters.measured_from: measurement times need table video_snapshots");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"hours_after_publication\":3}}",
            "filters.hours_after_publication: a window after publication needs");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"published_from\":\"2025-11-06T00:00:00Z\",\"published_to\":\"2025-11-01T00:00:00Z\"}}",
            "filters.published_to: the range is empty or inverted");
    REJECTS("{\"table\":\"video_snapshots\",\"aggregation\":\"count\",\"filters\":{\"measured_from\":\"2025-11-06T00:00:00Z\",\"measured_to\":\"2025-11-06T00:00:00Z\"}}",
            "filters.measured_to: the range is empty or inverted");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"published_from\":\"1999-12-31T00:00:00Z\"}}",
            "filters.published_from: time out of range");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"published_to\":\"9999-01-01T00:00:00Z\"}}",
            "filters.published_to: time out of range");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"conditions\":[{\"field\":\"views_count\",\"op\":\">\",\"value\":1000000000000001}]}}",
            "filters.conditions[0].value: value out of range");
}

TEST(ids)
{
    ACCEPTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"ACA1061A9D324ECF8C3FA2BB32D7BE63\"]}}");
    ACCEPTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"cd87be38-b50b-4fdd-8342-bb3c383f3c7d\"]}}");
    ACCEPTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"123\"]}}");
    ACCEPTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_prefix\":\"aca1061a\"}}");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"aca1061a\"]}}",
            "filters.creator_ids[0]: a shortened id");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"x' OR '1'='1\"]}}",
            "filters.creator_ids[0]: not an id");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"aca1061a9d324ecf8c3fa2bb32d7be63aa\"]}}",
            "filters.creator_ids[0]: not an id");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"\"]}}",
            "filters.creator_ids[0]: id of a wrong length");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"video_ids\":[\"ecd8a4e4-1f24-4b97-a944\"]}}",
            "filters.video_ids[0]: not an id");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_prefix\":\"aca\"}}",
            "filters.creator_prefix: want 8 to 31 hex digits");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_prefix\":\"zzzzzzzzzz\"}}",
            "filters.creator_prefix: want 8 to 31 hex digits");
    REJECTS("{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{\"creator_prefix\":\"aca1061a\",\"creator_ids\":[\"aca1061a9d324ecf8c3fa2bb32d7be63\"]}}",
            "filters.creator_prefix: give either");
}

TEST(normalization_in_place)
{
    struct spec s;
    struct buf err = BUF_INIT, out = BUF_INIT;
    const char *j = "{\"table\":\"videos\",\"aggregation\":\"count\",\"filters\":{"
                    "\"creator_ids\":[\"CD87BE38-B50B-4FDD-8342-BB3C383F3C7D\"],"
                    "\"video_ids\":[\"ECD8A4E41F244B97A94435D17078CE7C\"]}}";
    CHECK(validate_json(j, strlen(j), &s, &err) == 0);
    CHECK_STR(s.creator_ids[0], "cd87be38b50b4fdd8342bb3c383f3c7d");
    CHECK_STR(s.video_ids[0], "ecd8a4e4-1f24-4b97-a944-35d17078ce7c");
    spec_print(&s, SPEC_JSON_CANON, &out);
    CHECK_STR(buf_str(&out), "{\"aggregation\":\"count\",\"filters\":{\"creator_ids\":[\"cd87be38b50b4fdd8342bb3c383f3c7d\"],"
                             "\"video_ids\":[\"ecd8a4e4-1f24-4b97-a944-35d17078ce7c\"]},\"table\":\"videos\"}");
    buf_release(&err);
    buf_release(&out);
}

TEST(unsupported_drops_the_rest)
{
    struct spec s;
    struct buf err = BUF_INIT, out = BUF_INIT;
    const char *j = "{\"supported\":false,\"reason\":\"list\",\"table\":\"videos\",\"aggregation\":\"count\"}";
    CHECK(validate_json(j, strlen(j), &s, &err) == 0);
    spec_print(&s, SPEC_JSON_CANON, &out);
    CHECK_STR(buf_str(&out), "{\"reason\":\"list\",\"supported\":false}");
    buf_release(&err);
    buf_release(&out);
}

TEST(full_json_round_trip)
{
    struct spec s, t;
    struct buf err = BUF_INIT, full = BUF_INIT, canon1 = BUF_INIT, canon2 = BUF_INIT;
    const char *j = "{\"table\":\"video_snapshots\",\"aggregation\":\"sum\",\"field\":\"delta_views_count\","
                    "\"filters\":{\"creator_prefix\":\"cd87be38\",\"measured_from\":\"2025-11-28T10:00:00Z\","
                    "\"measured_to\":\"2025-11-28T15:00:00Z\",\"hours_after_publication\":1.5,"
                    "\"conditions\":[{\"field\":\"delta_views_count\",\"op\":\">\",\"value\":0}]}}";
    CHECK(validate_json(j, strlen(j), &s, &err) == 0);
    spec_print(&s, SPEC_JSON_FULL, &full);
    CHECK_CONTAINS(buf_str(&full), "\"supported\":true,\"reason\":null,\"table\":\"video_snapshots\"");
    CHECK_CONTAINS(buf_str(&full), "\"hours_after_publication\":1.5,");
    CHECK(validate_json(full.p, full.len, &t, &err) == 0);
    spec_print(&s, SPEC_JSON_CANON, &canon1);
    spec_print(&t, SPEC_JSON_CANON, &canon2);
    CHECK_STR(buf_str(&canon2), buf_str(&canon1));
    buf_reset(&full);
    spec_print(&s, SPEC_JSON_PRETTY, &full);
    CHECK_CONTAINS(buf_str(&full), "\n  \"filters\": {\n    \"creator_ids\": [],\n");
    CHECK(validate_json(full.p, full.len, &t, &err) == 0);
    buf_release(&err);
    buf_release(&full);
    buf_release(&canon1);
    buf_release(&canon2);
}

/* ==== Mutation test ==== */

static int sql_is_whitelisted(const char *sql, int nparams)
{
    const char *why;
    return sqlcheck(sql, nparams, &why);
}

static int mutants, accepted, bad;

static void try_mutant(cJSON *root)
{
    char *j = cJSON_PrintUnformatted(root);
    struct spec s;
    struct buf err = BUF_INIT;
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    mutants++;
    if (validate_json(j, strlen(j), &s, &err) == 0 && s.supported) {
        accepted++;
        if (sqlgen_build(&s, &q, &err) || !sql_is_whitelisted(buf_str(&q.sql), q.nparams)) {
            fprintf(stderr, "mutant %s gave SQL %s\n", j, buf_str(&q.sql));
            bad++;
        }
        for (int i = 0; i < q.nparams; i++)
            if (strchr(q.params[i], '\'') || strstr(q.params[i], "DROP"))
                bad++; /* only validated values reach the parameters */
    } else if (!err.len && s.supported) {
        bad++; /* a rejection must say why */
    }
    sqlgen_release(&q);
    buf_release(&err);
    cJSON_free(j);
}

static cJSON *replacement(int k)
{
    switch (k) {
    case 0: return cJSON_CreateString("x'; DROP TABLE videos; --");
    case 1: return cJSON_CreateString("views_count\" OR 1=1");
    case 2: return cJSON_CreateNumber(1e300);
    case 3: return cJSON_CreateNumber(-1);
    case 4: return cJSON_CreateTrue();
    case 5: return cJSON_CreateNull();
    case 6: return cJSON_CreateArray();
    case 7: return cJSON_CreateObject();
    case 8: return cJSON_CreateString("video_snapshots");
    case 9: return cJSON_CreateString("2025-13-45T99:00:00Z");
    default: return cJSON_CreateString("");
    }
}
#define N_REPLACEMENTS 11

/* The n-th node of the tree in pre-order (the root is not counted); NULL past the end. */
static cJSON *nth_node(cJSON *node, int *n)
{
    for (cJSON *c = node->child; c; c = c->next) {
        if ((*n)-- == 0)
            return c;
        cJSON *found = nth_node(c, n);
        if (found)
            return found;
    }
    return NULL;
}

static cJSON *parent_of(cJSON *root, cJSON *target)
{
    for (cJSON *c = root->child; c; c = c->next) {
        if (c == target)
            return root;
        cJSON *p = parent_of(c, target);
        if (p)
            return p;
    }
    return NULL;
}

/* Mutation m of node i on a copy of the tree: replace with a hostile value (m below
 * N_REPLACEMENTS), rename the member, or drop it. Returns 0 when node i does not exist. */
static int mutate(const cJSON *orig, int i, int m)
{
    cJSON *root = cJSON_Duplicate(orig, 1);
    int n = i;
    cJSON *node = nth_node(root, &n);
    if (!node) {
        cJSON_Delete(root);
        return 0;
    }
    cJSON *parent = parent_of(root, node);
    if (m < N_REPLACEMENTS) {
        cJSON_ReplaceItemViaPointer(parent, node, replacement(m));
    } else if (m == N_REPLACEMENTS && node->string) {
        cJSON_free(node->string);
        node->string = strdup("sql; DELETE FROM videos");
    } else {
        cJSON_Delete(cJSON_DetachItemViaPointer(parent, node));
    }
    try_mutant(root);
    cJSON_Delete(root);
    return 1;
}

/* One line of tests/sql/cases.tsv: its spec and every mutant of it. */
static void mutate_line(char *line, size_t lineno, void *ctx)
{
    (void)lineno;
    (void)ctx;
    if (line[0] == '#' || line[0] == '\0')
        return;
    line[strcspn(line, "\t")] = '\0';
    cJSON *root = cJSON_Parse(line);
    CHECK(root != NULL);
    if (!root)
        return;
    try_mutant(root);
    for (int i = 0; mutate(root, i, 0); i++)
        for (int m = 1; m <= N_REPLACEMENTS + 1; m++)
            mutate(root, i, m);
    cJSON_Delete(root);
}

TEST(mutants_are_rejected_or_whitelisted)
{
    if (th_each_line("tests/sql/cases.tsv", mutate_line, NULL))
        return;
    fprintf(stderr, "mutation test: %d mutants, %d accepted, %d bad\n", mutants, accepted, bad);
    CHECK(mutants > 2000);
    CHECK(accepted > 0 && accepted < mutants);
    CHECK_INT(bad, 0);
}

int main(void)
{
    RUN(structure);
    RUN(errors_are_one_clean_line);
    RUN(oversized_arrays);
    RUN(semantics);
    RUN(ids);
    RUN(normalization_in_place);
    RUN(unsupported_drops_the_rest);
    RUN(full_json_round_trip);
    RUN(mutants_are_rejected_or_whitelisted);
    return th_finish();
}
