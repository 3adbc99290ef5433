#include <unistd.h>

#include "cfg.h"
#include "testhelp.h"

static const char *conninfo(const char *url)
{
    static struct buf b = BUF_INIT;
    char err[256];
    if (cfg_conninfo(url, &b, err, sizeof err))
        return NULL;
    return buf_str(&b);
}

TEST(database_url_forms)
{
    CHECK_STR(conninfo("postgresql://u:p@db.example:5433/stats"), "postgresql://u:p@db.example:5433/stats");
    CHECK_STR(conninfo("postgres://u@localhost/stats"), "postgres://u@localhost/stats");
    CHECK_STR(conninfo("postgresql+psycopg2://user:pass@host:5432/db"), "postgresql://user:pass@host:5432/db");
    CHECK_STR(conninfo("postgresql+asyncpg://user@host/db?sslmode=disable"), "postgresql://user@host/db?sslmode=disable");
    CHECK_STR(conninfo("host=/tmp dbname=vabot user=postgres"), "host=/tmp dbname=vabot user=postgres");
    CHECK_STR(conninfo("postgresql:///vabot?host=/tmp/x&user=postgres"), "postgresql:///vabot?host=/tmp/x&user=postgres");
    CHECK_STR(conninfo(""), "");
    CHECK_STR(conninfo(NULL), "");
}

TEST(database_url_errors_hide_the_password)
{
    struct buf b = BUF_INIT;
    char err[256];
    CHECK(cfg_conninfo("mysql://root:SECRET@h/db", &b, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unsupported scheme");
    CHECK(!strstr(err, "SECRET"));
    CHECK(cfg_conninfo("host=x password=SECRET bogus_key=1", &b, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown keyword");
    CHECK(!strstr(err, "SECRET"));
    CHECK(cfg_conninfo("postgresql://u:SECRET@h/db?bogus=1", &b, err, sizeof err) == -1);
    CHECK(!strstr(err, "SECRET"));
    buf_release(&b);
}

/* libpq quotes the part it cannot parse; each of these puts "S3CR3T" in that part. */
TEST(database_url_parse_errors_never_quote_the_input)
{
    static const struct {
        const char *url, *reason;
    } cases[] = {
        {"postgresql://u:p%zzS3CR3T@h/db", "'%' not followed by two hex digits"},
        {"postgresql://u:p%00S3CR3T@h/db", "percent-encoded NUL"},
        {"postgresql://h/db?S3CR3T=1", "unknown query parameter"},
        {"postgresql://h/db?S3CR3T=b=c", "two '='"},
        {"postgresql://h/db?S3CR3T", "without '='"},
        {"postgresql://[::1S3CR3T/db", "without ']'"},
        {"host=x S3CR3T", "key=value expected"},
        {"host=x S3CR3T=1", "unknown keyword"},
        {"host=x password='S3CR3T", "unterminated quoted value"},
    };
    struct buf b = BUF_INIT;
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(cfg_conninfo(cases[i].url, &b, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "cfg: DATABASE_URL is not a valid connection string: ");
        CHECK_CONTAINS(err, cases[i].reason);
        if (strstr(err, "S3CR3T"))
            fprintf(stderr, "case %zu: the error quotes the input: %s\n", i, err);
        CHECK(!strstr(err, "S3CR3T"));
    }
    buf_release(&b);
}

TEST(redaction)
{
    struct buf b = BUF_INIT;
    cfg_redact_url("postgresql+psycopg2://user:pa@ss@host:5432/db", &b);
    CHECK_STR(buf_str(&b), "postgresql+psycopg2://user:***@host:5432/db");
    cfg_redact_url("postgresql://user:secret@host/db", &b);
    CHECK_STR(buf_str(&b), "postgresql://user:***@host/db");
    cfg_redact_url("postgresql://user@host/db", &b);
    CHECK_STR(buf_str(&b), "postgresql://user@host/db");
    cfg_redact_url("host=h password=secret user=u", &b);
    CHECK_STR(buf_str(&b), "host=h password=*** user=u");
    cfg_redact_url("host=h password = 'se cr\\'et' user=u", &b);
    CHECK_STR(buf_str(&b), "host=h password = *** user=u");
    buf_release(&b);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

TEST(dotenv_and_environment)
{
    char path[] = "/tmp/vabot-test-env-XXXXXX";
    char err[256];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    write_file(path, "# comment\n\nexport BOT_TOKEN=123:abc\nOPENAI_MODEL = \"gpt-x # not a comment\"\n"
                     "VABOT_TZ='Europe/Moscow'\nTELEGRAM_API_URL=http://127.0.0.1:1 # trailing\n"
                     "VABOT_TEST_REAL=from-file\nEMPTY=\n");
    setenv("VABOT_TEST_REAL", "from-env", 1);
    CHECK(cfg_load(path, err, sizeof err) == 0);
    CHECK_STR(cfg_get("BOT_TOKEN"), "123:abc");
    CHECK_STR(cfg_get("OPENAI_MODEL"), "gpt-x # not a comment");
    CHECK_STR(cfg_get("VABOT_TZ"), "Europe/Moscow");
    CHECK_STR(cfg_get("TELEGRAM_API_URL"), "http://127.0.0.1:1");
    CHECK_STR(cfg_get("VABOT_TEST_REAL"), "from-env");
    CHECK(cfg_get("EMPTY") == NULL);
    CHECK(cfg_get("NOT_THERE_AT_ALL") == NULL);
    CHECK_STR(cfg_get_or("NOT_THERE_AT_ALL", "d"), "d");
    cfg_free();
    write_file(path, "GOOD=1\nthis line is wrong\n");
    CHECK(cfg_load(path, err, sizeof err) == -1);
    CHECK_CONTAINS(err, ":2:");
    cfg_free();
    CHECK(cfg_load("/nonexistent/.env", err, sizeof err) == 0);
    unlink(path);
}

TEST(numbers_from_config)
{
    setenv("VABOT_TEST_N", "42", 1);
    CHECK_INT(cfg_get_long("VABOT_TEST_N", 7, 0, 100), 42);
    setenv("VABOT_TEST_N", "420", 1);
    CHECK_INT(cfg_get_long("VABOT_TEST_N", 7, 0, 100), 7);
    setenv("VABOT_TEST_N", "4x", 1);
    CHECK_INT(cfg_get_long("VABOT_TEST_N", 7, 0, 100), 7);
    unsetenv("VABOT_TEST_N");
    CHECK_INT(cfg_get_long("VABOT_TEST_N", 7, 0, 100), 7);
}

int main(void)
{
    RUN(database_url_forms);
    RUN(database_url_errors_hide_the_password);
    RUN(database_url_parse_errors_never_quote_the_input);
    RUN(redaction);
    RUN(dotenv_and_environment);
    RUN(numbers_from_config);
    return th_finish();
}
