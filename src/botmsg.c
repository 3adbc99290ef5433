/* botmsg.c: classifying messages and the bot's own texts. */
#include "botmsg.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"


static const char help_text[] =
    "Я отвечаю одним числом на вопросы о статистике видео: сколько видео, просмотров, "
    "лайков, комментариев и жалоб, у какого креатора, за какие даты, и как эти числа "
    "росли по часовым замерам.\n"
    "\n"
    "Например:\n"
    "• Сколько всего видео есть в системе?\n"
    "• Сколько видео набрало больше 100 000 просмотров за всё время?\n"
    "• Какое суммарное количество просмотров набрали все видео, опубликованные в июне 2025 года?\n"
    "• На сколько просмотров в сумме выросли все видео 28 ноября 2025?\n"
    "• Сколько видео опубликовал креатор с id aca1061a9d324ecf8c3fa2bb32d7be63 с 1 по 5 ноября 2025?\n"
    "\n"
    "/sql — как был понят предыдущий вопрос: спецификация и SQL.\n"
    "/help — эта справка.";

const char *botmsg_help(void)
{
    return help_text;
}

const char *botmsg_hint(enum botmsg_kind kind)
{
    switch (kind) {
    case BOTMSG_NON_TEXT:
        return "Я понимаю только текст. Напишите вопрос словами, например: "
               "«Сколько всего видео есть в системе?»";
    case BOTMSG_EMPTY:
        return "Сообщение пустое. Напишите вопрос, например: «Сколько всего видео есть в системе?»";
    default:
        return "Не знаю такой команды. /help — что я умею.";
    }
}

const char *botmsg_rate_limited(void)
{
    return "Слишком много сообщений подряд. Подождите минуту и спросите снова.";
}

/* ==== Classifying ==== */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int eq_ci(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

static int is_our_mention(const struct tg_update *u, size_t i, const struct tg_me *me)
{
    const struct tg_span *s = &u->mentions[i];
    return me->username[0] && s->len > 1 && u->text[s->off] == '@' &&
           eq_ci(u->text + s->off + 1, s->len - 1, me->username);
}

static void ignore(struct botmsg *out, const char *why)
{
    out->kind = BOTMSG_IGNORE;
    out->why = why;
}

/* "/name@bot args": which command, and for whom. */
static void classify_command(const struct tg_update *u, const struct tg_me *me, int group,
                             struct botmsg *out)
{
    const char *t = u->text + 1;
    size_t n = 0, end = u->text_len - 1;
    while (n < end && !is_blank(t[n]) && t[n] != '@')
        n++;
    int help = eq_ci(t, n, "start") || eq_ci(t, n, "help");
    int sql = eq_ci(t, n, "sql") || eq_ci(t, n, "explain");
    if (n < end && t[n] == '@') {
        size_t m = n + 1;
        while (m < end && !is_blank(t[m]))
            m++;
        if (!eq_ci(t + n + 1, m - n - 1, me->username)) {
            ignore(out, "command for another bot");
            return;
        }
    } else if (group && !help && !sql) {
        ignore(out, "unknown command in a group"); /* may be another bot's */
        return;
    }
    out->kind = help ? BOTMSG_HELP : sql ? BOTMSG_SQL : BOTMSG_UNKNOWN_COMMAND;
}

/* The text without our @name, and without the blanks and the ',' or ':' that an
 * address leaves at the start ("@bot, сколько видео?"). */
static void take_question(const struct tg_update *u, const struct tg_me *me, struct botmsg *out)
{
    struct buf q = BUF_INIT;
    size_t from = 0;
    for (size_t i = 0; i < u->nmentions; i++) {
        if (!is_our_mention(u, i, me) || u->mentions[i].off < from)
            continue;
        buf_add(&q, u->text + from, u->mentions[i].off - from);
        from = u->mentions[i].off + u->mentions[i].len;
    }
    buf_add(&q, u->text + from, u->text_len - from);
    size_t a = 0, b = q.len;
    while (a < b && (is_blank(q.p[a]) || q.p[a] == ',' || q.p[a] == ':'))
        a++;
    while (b > a && is_blank(q.p[b - 1]))
        b--;
    if (a == b) {
        out->kind = BOTMSG_EMPTY;
    } else {
        out->kind = BOTMSG_QUESTION;
        out->text = xmemdup(q.p + a, b - a);
        out->len = b - a;
    }
    buf_release(&q);
}

void botmsg_classify(const struct tg_update *u, const struct tg_me *me, struct botmsg *out)
{
    memset(out, 0, sizeof *out);
    if (u->kind != TG_UPDATE_MESSAGE) {
        ignore(out, u->kind == TG_UPDATE_EDITED ? "edited message" : "not a message");
        return;
    }
    int group = !strcmp(u->chat_type, "group") || !strcmp(u->chat_type, "supergroup");
    int for_us = !group || (me->id && u->reply_to_from_id == me->id);
    for (size_t i = 0; !for_us && u->text && i < u->nmentions; i++)
        for_us = is_our_mention(u, i, me);
    if (u->text && u->starts_with_command && u->text_len > 1 && u->text[0] == '/')
        classify_command(u, me, group, out);
    else if (!for_us)
        ignore(out, "group message not for the bot");
    else if (!u->text)
        out->kind = BOTMSG_NON_TEXT;
    else
        take_question(u, me, out);
}

void botmsg_release(struct botmsg *m)
{
    free(m->text);
    memset(m, 0, sizeof *m);
}

/* ==== The /sql report ==== */

static void html_escaped(struct buf *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '<')
            buf_adds(b, "&lt;");
        else if (s[i] == '>')
            buf_adds(b, "&gt;");
        else if (s[i] == '&')
            buf_adds(b, "&amp;");
        else
            buf_addc(b, s[i]);
    }
}

/* Visible text goes to both versions; markup only to the HTML one. */
static void both(struct buf *html, struct buf *plain, const char *s, size_t len)
{
    html_escaped(html, s, len);
    buf_add(plain, s, len);
}

static void code_block(struct buf *html, struct buf *plain, const char *lang, const char *s)
{
    buf_addf(html, "<pre><code class=\"language-%s\">", lang);
    both(html, plain, s, strlen(s));
    buf_adds(html, "</code></pre>");
}

void botmsg_sql_report(const struct botmsg_last *last, struct buf *html, struct buf *plain)
{
    if (!last->question) {
        const char *none = "В этом чате ещё не было вопроса. Задайте вопрос, потом отправьте /sql.";
        both(html, plain, none, strlen(none));
        return;
    }
    size_t shown = tg_utf16_to_byte(last->question, last->question_len, BOTMSG_QUESTION_SHOWN);
    both(html, plain, "Вопрос: ", strlen("Вопрос: "));
    both(html, plain, last->question, shown);
    if (shown < last->question_len)
        both(html, plain, "…", strlen("…"));
    if (!last->spec_json || !last->sql) {
        const char *why = "\n\nЗапрос не построен. Ответ был: ";
        both(html, plain, why, strlen(why));
        both(html, plain, last->reply ? last->reply : "", last->reply ? strlen(last->reply) : 0);
        return;
    }
    both(html, plain, "\n\nСпецификация:\n", strlen("\n\nСпецификация:\n"));
    code_block(html, plain, "json", last->spec_json);
    both(html, plain, "\nSQL:\n", strlen("\nSQL:\n"));
    code_block(html, plain, "sql", last->sql);
    both(html, plain, "\nПараметры: ", strlen("\nПараметры: "));
    buf_adds(html, "<code>");
    both(html, plain, last->params_json ? last->params_json : "[]",
         strlen(last->params_json ? last->params_json : "[]"));
    buf_adds(html, "</code>");
}
