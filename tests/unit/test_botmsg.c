/* test_botmsg.c: which messages the bot answers, what it makes of them (src/botmsg.c). */
#include "testhelp.h"

#include "botmsg.h"

static const struct tg_me me = {666, "TestNameBot"};

/* Classifies the one message in a getUpdates body made of `message`. */
static enum botmsg_kind classify(const char *message, struct botmsg *m)
{
    char body[2048], err[256];
    struct tg_updates u;
    snprintf(body, sizeof body, "{\"ok\":true,\"result\":[{\"update_id\":1,%s}]}", message);
    memset(m, 0, sizeof *m);
    if (tg_parse_updates(body, strlen(body), &u, err, sizeof err) || u.n != 1) {
        fprintf(stderr, "bad test body: %s\n", body);
        return BOTMSG_IGNORE;
    }
    botmsg_classify(&u.v[0], &me, m);
    tg_updates_free(&u);
    return m->kind;
}

#define PRIVATE "\"chat\":{\"id\":42,\"type\":\"private\"}"
#define GROUP "\"chat\":{\"id\":-1001234567890,\"type\":\"supergroup\"}"
#define CMD(n) ",\"entities\":[{\"type\":\"bot_command\",\"offset\":0,\"length\":" #n "}]"

TEST(private_chat)
{
    struct botmsg m;
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"  Сколько видео?\\n\"}", &m), BOTMSG_QUESTION);
    CHECK_STR(m.text, "Сколько видео?");
    CHECK_INT(m.len, strlen("Сколько видео?"));
    botmsg_release(&m);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"\"}", &m), BOTMSG_EMPTY);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\" \\t \"}", &m), BOTMSG_EMPTY);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"sticker\":{\"file_id\":\"x\"}}", &m), BOTMSG_NON_TEXT);
    CHECK_INT(classify("\"edited_message\":{" PRIVATE ",\"text\":\"x\"}", &m), BOTMSG_IGNORE);
    CHECK_STR(m.why, "edited message");
    CHECK_INT(classify("\"callback_query\":{}", &m), BOTMSG_IGNORE);
}

TEST(commands)
{
    struct botmsg m;
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/start\"" CMD(6) "}", &m), BOTMSG_HELP);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/help\"" CMD(5) "}", &m), BOTMSG_HELP);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/sql\"" CMD(4) "}", &m), BOTMSG_SQL);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/explain now\"" CMD(8) "}", &m), BOTMSG_SQL);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/SQL@testnamebot\"" CMD(16) "}", &m), BOTMSG_SQL);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/frob\"" CMD(5) "}", &m), BOTMSG_UNKNOWN_COMMAND);
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/help@OtherBot\"" CMD(14) "}", &m), BOTMSG_IGNORE);
    /* a slash without the entity is text, as Telegram means it */
    CHECK_INT(classify("\"message\":{" PRIVATE ",\"text\":\"/ 5\"}", &m), BOTMSG_QUESTION);
    botmsg_release(&m);
}

TEST(groups)
{
    struct botmsg m;
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"Сколько видео?\"}", &m), BOTMSG_IGNORE);
    CHECK_INT(classify("\"message\":{" GROUP ",\"sticker\":{}}", &m), BOTMSG_IGNORE);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"/sql\"" CMD(4) "}", &m), BOTMSG_SQL);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"/frob\"" CMD(5) "}", &m), BOTMSG_IGNORE);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"/frob@TestNameBot\"" CMD(17) "}", &m),
              BOTMSG_UNKNOWN_COMMAND);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"@TestNameBot, Сколько видео?\","
                       "\"entities\":[{\"type\":\"mention\",\"offset\":0,\"length\":12}]}",
                       &m),
              BOTMSG_QUESTION);
    CHECK_STR(m.text, "Сколько видео?");
    botmsg_release(&m);
    /* the mention starts at UTF-16 offset 3, byte 5; names ignore case */
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"Ёж @testnamebot сколько?\","
                       "\"entities\":[{\"type\":\"mention\",\"offset\":3,\"length\":12}]}",
                       &m),
              BOTMSG_QUESTION);
    CHECK_STR(m.text, "Ёж  сколько?");
    botmsg_release(&m);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"@someone сколько?\","
                       "\"entities\":[{\"type\":\"mention\",\"offset\":0,\"length\":8}]}",
                       &m),
              BOTMSG_IGNORE);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"@TestNameBot\","
                       "\"entities\":[{\"type\":\"mention\",\"offset\":0,\"length\":12}]}",
                       &m),
              BOTMSG_EMPTY);
    CHECK_INT(classify("\"message\":{" GROUP ",\"text\":\"а в ноябре?\","
                       "\"reply_to_message\":{\"from\":{\"id\":666}}}",
                       &m),
              BOTMSG_QUESTION);
    botmsg_release(&m);
    CHECK_INT(classify("\"message\":{" GROUP ",\"photo\":[],\"reply_to_message\":{\"from\":{\"id\":666}}}", &m),
              BOTMSG_NON_TEXT);
}

TEST(sql_report)
{
    struct buf html = BUF_INIT, plain = BUF_INIT;
    struct botmsg_last none = {0};
    botmsg_sql_report(&none, &html, &plain);
    CHECK_CONTAINS(plain.p, "ещё не было вопроса");
    CHECK_STR(html.p, plain.p);
    buf_reset(&html);
    buf_reset(&plain);
    struct botmsg_last l = {"Сколько <видео>?", strlen("Сколько <видео>?"), "7",
                            "{\"kind\":\"count\"}", "SELECT count(*) FROM videos WHERE views_count > $1",
                            "[\"5\"]"};
    botmsg_sql_report(&l, &html, &plain);
    CHECK_CONTAINS(html.p, "Вопрос: Сколько &lt;видео&gt;?");
    CHECK_CONTAINS(html.p, "<pre><code class=\"language-sql\">SELECT count(*) FROM videos WHERE views_count &gt; $1</code></pre>");
    CHECK_CONTAINS(html.p, "<code>[\"5\"]</code>");
    CHECK_CONTAINS(plain.p, "Вопрос: Сколько <видео>?");
    CHECK_CONTAINS(plain.p, "views_count > $1");
    CHECK(strstr(plain.p, "<pre>") == NULL);
    buf_reset(&html);
    buf_reset(&plain);
    struct botmsg_last nothing = {"Какая погода?", strlen("Какая погода?"), "Не понял вопрос.", NULL, NULL, NULL};
    botmsg_sql_report(&nothing, &html, &plain);
    CHECK_CONTAINS(plain.p, "Запрос не построен. Ответ был: Не понял вопрос.");
    buf_release(&html);
    buf_release(&plain);
}

TEST(texts)
{
    CHECK_CONTAINS(botmsg_help(), "Например");
    CHECK_CONTAINS(botmsg_help(), "/sql");
    CHECK(tg_utf16_units(botmsg_help(), strlen(botmsg_help())) <= TG_MAX_UNITS);
    CHECK_CONTAINS(botmsg_hint(BOTMSG_NON_TEXT), "только текст");
    CHECK_CONTAINS(botmsg_hint(BOTMSG_EMPTY), "пустое");
    CHECK_CONTAINS(botmsg_hint(BOTMSG_UNKNOWN_COMMAND), "/help");
    CHECK_CONTAINS(botmsg_rate_limited(), "Подождите");
}

int main(void)
{
    RUN(private_chat);
    RUN(commands);
    RUN(groups);
    RUN(sql_report);
    RUN(texts);
    return th_finish();
}
