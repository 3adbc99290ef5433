/* main.c: argument parsing and subcommand dispatch. Only wiring lives here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include <curl/curl.h>

#include "answer.h"
#include "bot.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "load.h"
#include "sqlgen.h"
#include "qlog.h"
#include "utc.h"
#include "validate.h"

#define VABOT_VERSION "0.1.0"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOT_UNDERSTOOD = 3, EXIT_BACKEND = 4 };

static const char usage[] =
    "usage: vabot COMMAND [ARGS]\n"
    "\n"
    "  ask [--no-llm] [--dry-run] [--json] [--explain] [--now ISO8601] QUESTION\n"
    "                       answer one question: the number alone on stdout\n"
    "  chat                 ask questions at a terminal prompt\n"
    "  serve                run the Telegram bot (BOT_TOKEN)\n"
    "  db init              create or update the schema and the reader role\n"
    "  db load FILE         replace the data with a videos.json file (atomic)\n"
    "  spec check FILE|-    validate a query spec (JSON) and print its SQL\n"
    "  spec run FILE|-      validate a query spec and print the number it gives\n"
    "  log [--fallbacks] [--since ISO8601|2h|1d] [--limit N]\n"
    "                       recent questions, or those the grammar missed by frequency\n"
    "  --help, --version\n"
    "\n"
    "exit status: 0 answered, 1 failed, 2 usage, 3 not understood, 4 database or LLM down\n"
    "configuration: environment or ./.env (see README.md)\n";

static int usage_error(const char *msg)
{
    fprintf(stderr, "vabot: %s\n%s", msg, usage);
    return EXIT_USAGE;
}

/* ==== Database commands ==== */

/* The owner connection, or NULL with the exit status in *rc: a DATABASE_URL that does
 * not parse is a configuration (usage) error, a server that does not answer a backend
 * failure. */
static db *open_owner(int *rc)
{
    struct buf ci = BUF_INIT;
    char err[512];
    db *d = NULL;
    *rc = EXIT_USAGE;
    if (cfg_conninfo(cfg_get("DATABASE_URL"), &ci, err, sizeof err) == 0) {
        *rc = EXIT_BACKEND;
        d = db_open(buf_str(&ci), 0, err, sizeof err); /* init and load take their time */
    }
    if (!d)
        fprintf(stderr, "vabot: %s\n", err);
    buf_wipe(&ci); /* it may hold the password */
    return d;
}

static int cmd_db_init(void)
{
    struct buf schema = BUF_INIT, roles = BUF_INIT;
    int fail;
    db *d = open_owner(&fail);
    if (!d)
        return fail;
    cfg_path("sql/schema.sql", &schema);
    cfg_path("sql/roles.sql", &roles);
    int rc = db_init_schema(d, buf_str(&schema), buf_str(&roles));
    if (rc)
        fprintf(stderr, "vabot: %s\n", db_errmsg(d));
    buf_release(&schema);
    buf_release(&roles);
    db_close(d);
    return rc ? EXIT_FAIL : 0;
}

static int cmd_db_load(const char *path)
{
    struct load_stats st = {0};
    char err[1024];
    int fail;
    db *d = open_owner(&fail);
    if (!d)
        return fail;
    int rc = load_file(d, path, isatty(STDERR_FILENO), &st, err, sizeof err);
    db_close(d);
    if (rc) {
        fprintf(stderr, "vabot: %s\n", err);
        return EXIT_FAIL;
    }
    double mb = (double)st.bytes / 1e6;
    fprintf(stderr, "vabot: loaded %lld videos, %lld snapshots from %s in %.2f s (%.1f MB/s)\n",
            st.videos, st.snapshots, path, st.seconds, st.seconds > 0 ? mb / st.seconds : 0.0);
    return 0;
}

/* Runs a generated query on the reader connection and prints the number. */
static int run_query(const struct sqlgen_query *q)
{
    struct buf ci = BUF_INIT;
    char err[512], value[DB_VALUE_MAX];
    int rc = EXIT_USAGE;
    db *d = NULL;
    if (cfg_conninfo(cfg_get("DATABASE_URL"), &ci, err, sizeof err) == 0) {
        rc = EXIT_BACKEND;
        d = db_open_reader(buf_str(&ci), (int)cfg_get_long("VABOT_STATEMENT_TIMEOUT_MS", 5000, 100, 600000),
                           err, sizeof err);
    }
    if (!d) {
        fprintf(stderr, "vabot: %s\n", err);
    } else if (db_query_value(d, buf_str(&q->sql), q->nparams, (const char *const *)q->params,
                              value, sizeof value)) {
        fprintf(stderr, "vabot: %s\n", db_errmsg(d));
    } else {
        printf("%s\n", value);
        rc = 0;
    }
    db_close(d);
    buf_wipe(&ci);
    return rc;
}

static int cmd_db(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "init") && argc == 1)
        return cmd_db_init();
    if (argc >= 1 && !strcmp(argv[0], "load"))
        return argc == 2 ? cmd_db_load(argv[1]) : usage_error("db load takes one FILE");
    return usage_error("unknown db command");
}

/* ==== Specs ==== */

/* Reads, validates and compiles a spec file; prints the errors itself. */
static int load_spec(const char *path, struct spec *s, struct sqlgen_query *q)
{
    struct buf json = BUF_INIT, err = BUF_INIT;
    int rc = 0;
    if (buf_read_file(&json, path, 1 << 20)) {
        fprintf(stderr, "vabot: cannot read %s: %s\n", path, strerror(errno));
        rc = EXIT_FAIL;
    } else if (validate_json(json.p, json.len, s, &err)) {
        fprintf(stderr, "vabot: invalid spec: %s\n", buf_str(&err));
        rc = EXIT_NOT_UNDERSTOOD;
    } else if (s->supported && sqlgen_build(s, q, &err)) {
        fprintf(stderr, "vabot: %s\n", buf_str(&err));
        rc = EXIT_FAIL;
    }
    buf_release(&json);
    buf_release(&err);
    return rc;
}

static int cmd_spec(int argc, char **argv)
{
    struct spec s;
    struct sqlgen_query q = SQLGEN_QUERY_INIT;
    struct buf out = BUF_INIT;
    int run;
    if (argc != 2 || (strcmp(argv[0], "check") && strcmp(argv[0], "run")))
        return usage_error("spec takes check|run and one FILE");
    run = !strcmp(argv[0], "run");
    int rc = load_spec(argv[1], &s, &q);
    if (rc == 0 && !s.supported) {
        fprintf(stderr, "vabot: the spec says the question is unsupported (%s)\n",
                spec_reason_name(s.reason));
        rc = EXIT_NOT_UNDERSTOOD;
    } else if (rc == 0 && !run) {
        spec_print(&s, SPEC_JSON_PRETTY, &out);
        buf_adds(&out, "\n");
        buf_addf(&out, "%s\n", buf_str(&q.sql));
        sqlgen_params_json(&q, &out);
        buf_adds(&out, "\n");
        fputs(buf_str(&out), stdout);
    } else if (rc == 0) {
        rc = run_query(&q);
    }
    sqlgen_release(&q);
    buf_release(&out);
    return rc;
}

/* ==== Questions ==== */

struct ask_opts {
    int no_llm, dry_run, json, explain;
    const char *now, *question;
};

static int parse_ask(int argc, char **argv, struct ask_opts *o)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--no-llm"))
            o->no_llm = 1;
        else if (!strcmp(argv[i], "--dry-run"))
            o->dry_run = 1;
        else if (!strcmp(argv[i], "--json"))
            o->json = 1;
        else if (!strcmp(argv[i], "--explain"))
            o->explain = 1;
        else if (!strcmp(argv[i], "--now") && i + 1 < argc)
            o->now = argv[++i];
        else if (!strcmp(argv[i], "--"))
            return i + 2 == argc && !o->question ? (o->question = argv[i + 1], 0) : -1;
        else if (argv[i][0] == '-' && argv[i][1])
            return -1;
        else if (o->question)
            return -1;
        else
            o->question = argv[i];
    }
    return o->question ? 0 : -1;
}

/* The answerer of a CLI command, or NULL with the exit status in *rc (it prints why):
 * a bad --now or DATABASE_URL is a usage error, missing data files a failure, and the
 * database a backend failure. */
static answerer *open_answerer(int no_llm, int dry_run, const char *now, int *rc)
{
    struct answer_opts ao = {0};
    struct buf ci = BUF_INIT;
    char err[512];
    enum answer_setup why;
    answerer *a = NULL;
    now = now ? now : cfg_get("VABOT_NOW");
    *rc = EXIT_USAGE;
    if (now && utc_parse(now, strlen(now), &ao.now_us)) {
        fprintf(stderr, "vabot: --now / VABOT_NOW: not an ISO 8601 time: %s\n", now);
        return NULL;
    }
    ao.has_now = now != NULL;
    ao.no_llm = no_llm;
    ao.dry_run = dry_run;
    if (cfg_conninfo(cfg_get("DATABASE_URL"), &ci, err, sizeof err) == 0) {
        ao.conninfo = buf_str(&ci);
        a = answer_new(&ao, &why, err, sizeof err);
        *rc = why == ANSWER_SETUP_DATABASE ? EXIT_BACKEND : EXIT_FAIL;
    }
    if (!a)
        fprintf(stderr, "vabot: %s\n", err);
    buf_wipe(&ci);
    return a;
}

static int exit_status(enum answer_status st)
{
    switch (st) {
    case ANSWER_OK:
        return 0;
    case ANSWER_BACKEND:
        return EXIT_BACKEND;
    default:
        return EXIT_NOT_UNDERSTOOD;
    }
}

static void json_str(struct buf *b, const char *key, const char *v)
{
    buf_addf(b, ",\"%s\":", key);
    if (!v) {
        buf_adds(b, "null");
        return;
    }
    buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_addf(b, "\\%c", *p);
        else if (*p < 0x20)
            buf_addf(b, "\\u%04x", *p);
        else
            buf_addc(b, (char)*p);
    }
    buf_addc(b, '"');
}

/* One JSON object: what --json prints. */
static void print_json(const char *question, const struct answer_result *r)
{
    static const char *const names[] = {"ok", "not_understood", "unsupported", "backend", "bad_input"};
    struct buf b = BUF_INIT;
    buf_addf(&b, "{\"status\":\"%s\"", names[-r->status]);
    json_str(&b, "question", question);
    json_str(&b, "source", r->source);
    buf_addf(&b, ",\"spec\":%s", r->spec_json ? r->spec_json : "null");
    json_str(&b, "sql", r->sql);
    buf_addf(&b, ",\"params\":%s", r->params_json ? r->params_json : "null");
    json_str(&b, "answer", r->status == ANSWER_OK && r->reply[0] ? r->reply : NULL);
    json_str(&b, "reply", r->reply);
    buf_addf(&b, ",\"timings_ms\":{\"nlu\":%.3f,\"llm\":%.3f,\"db\":%.3f,\"total\":%.3f}}\n",
             r->ms_nlu, r->ms_llm, r->ms_db, r->ms_total);
    fputs(buf_str(&b), stdout);
    buf_release(&b);
}

static int cmd_ask(int argc, char **argv)
{
    struct ask_opts o = {0};
    struct answer_result r;
    int fail;
    if (parse_ask(argc, argv, &o))
        return usage_error("ask takes options and one QUESTION");
    answerer *a = open_answerer(o.no_llm, o.dry_run, o.now, &fail);
    if (!a)
        return fail;
    answer_question(a, 0, o.question, strlen(o.question), &r);
    if (o.explain && r.explain)
        fputs(r.explain, stderr);
    if (o.json) {
        print_json(o.question, &r);
    } else if (o.dry_run && r.status == ANSWER_OK) {
        printf("%s\n%s\n%s\n", r.spec_json, r.sql, r.params_json);
    } else if (r.status == ANSWER_OK) {
        printf("%s\n", r.reply);
    } else {
        fprintf(stderr, "%s\n", r.reply);
    }
    int rc = exit_status(r.status);
    answer_result_release(&r);
    answer_free(a);
    return rc;
}

/* A terminal conversation: one question a line, until end of input. */
static int cmd_chat(int argc, char **argv)
{
    struct buf line = BUF_INIT;
    struct answer_result r;
    int tty = isatty(STDIN_FILENO), fail;
    (void)argv;
    if (argc)
        return usage_error("chat takes no arguments");
    answerer *a = open_answerer(0, 0, NULL, &fail);
    if (!a)
        return fail;
    if (tty)
        printf("Задайте вопрос о статистике видео (пустая строка или Ctrl-D — выход).\n");
    for (;;) {
        int c;
        if (tty) {
            printf("> ");
            fflush(stdout);
        }
        buf_reset(&line);
        while ((c = getchar()) != EOF && c != '\n')
            buf_addc(&line, (char)c);
        if (c == EOF && !line.len)
            break;
        if (!line.len && tty)
            break;
        if (!line.len)
            continue;
        answer_question(a, 0, line.p, line.len, &r);
        printf("%s\n", r.reply);
        fflush(stdout);
        answer_result_release(&r);
    }
    buf_release(&line);
    answer_free(a);
    return 0;
}

/* ==== Telegram ==== */

static int cmd_serve(int argc)
{
    struct bot_opts bo;
    struct answer_opts ao = {0};
    struct buf ci = BUF_INIT;
    char err[512];
    const char *now = cfg_get("VABOT_NOW");
    if (argc)
        return usage_error("serve takes no arguments");
    if (bot_opts_load(&bo, err, sizeof err)) {
        fprintf(stderr, "vabot: %s\n", err);
        bot_opts_release(&bo);
        return EXIT_USAGE;
    }
    if (now && utc_parse(now, strlen(now), &ao.now_us)) {
        bot_opts_release(&bo);
        return usage_error("VABOT_NOW is not an ISO 8601 time");
    }
    int rc = EXIT_USAGE;
    if (cfg_conninfo(cfg_get("DATABASE_URL"), &ci, err, sizeof err) == 0) {
        ao.conninfo = buf_str(&ci);
        ao.no_llm = cfg_get("OPENAI_API_KEY") == NULL;
        ao.has_now = now != NULL;
        enum bot_exit bx = bot_run(&bo, &ao);
        /* Telegram refusing the token, or data files that will not load: failures */
        rc = bx == BOT_STOPPED ? 0 : bx == BOT_EDATABASE ? EXIT_BACKEND : EXIT_FAIL;
    } else {
        fprintf(stderr, "vabot: %s\n", err);
    }
    buf_wipe(&ci);
    bot_opts_release(&bo);
    return rc;
}

/* ==== Query log ==== */

static int cmd_log(int argc, char **argv)
{
    struct qlog_query q = {0};
    struct timespec ts;
    char err[512], *end;
    clock_gettime(CLOCK_REALTIME, &ts); /* rows carry the server's real time, never VABOT_NOW */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--fallbacks")) {
            q.fallbacks = 1;
        } else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
            if (qlog_parse_since(argv[++i], (int64_t)ts.tv_sec * UTC_US_PER_SEC, &q.since_us))
                return usage_error("--since takes ISO 8601 or a span such as 2h or 1d");
        } else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
            q.limit = strtol(argv[++i], &end, 10);
            if (*end || q.limit < 1 || q.limit > 100000)
                return usage_error("--limit takes a whole number from 1 to 100000");
        } else {
            return usage_error("log takes [--fallbacks] [--since WHEN] [--limit N]");
        }
    }
    int fail;
    db *d = open_owner(&fail);
    if (!d)
        return fail;
    int rc = qlog_print(d, &q, stdout, err, sizeof err);
    if (rc)
        fprintf(stderr, "vabot: %s\n", err);
    db_close(d);
    return rc ? EXIT_BACKEND : 0;
}

/* ==== Entry ==== */

int main(int argc, char **argv)
{
    char err[512];
    if (argc < 2)
        return usage_error("no command");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vabot %s\n", VABOT_VERSION);
        return 0;
    }
    if (cfg_load(".env", err, sizeof err)) {
        fprintf(stderr, "vabot: %s\n", err);
        return EXIT_USAGE;
    }
    if (utc_set_zone(cfg_get("VABOT_TZ")))
        fprintf(stderr, "vabot: unknown VABOT_TZ \"%s\", using UTC\n", cfg_get("VABOT_TZ"));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (!strcmp(argv[1], "db"))
        rc = cmd_db(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "ask"))
        rc = cmd_ask(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "spec"))
        rc = cmd_spec(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "serve"))
        rc = cmd_serve(argc - 2);
    else if (!strcmp(argv[1], "log"))
        rc = cmd_log(argc - 2, argv + 2);
    else if (!strcmp(argv[1], "chat"))
        rc = cmd_chat(argc - 2, argv + 2);
    else
        rc = usage_error("unknown command");
    curl_global_cleanup();
    cfg_free();
    return rc;
}
