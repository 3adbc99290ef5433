/* answer.c: placeholder until the engine lands: every question is "not understood",
 * but the database plumbing is real. */
#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "xalloc.h"

struct answerer {
    db *reader;
    int dry_run;
    void (*hook)(void *);
    void *hook_ctx;
};

answerer *answer_new(const struct answer_opts *o, char *err, size_t errlen)
{
    answerer *a = xcalloc(1, sizeof *a);
    a->dry_run = o->dry_run;
    if (!o->dry_run) {
        a->reader = db_open_reader(o->conninfo, 5000, err, errlen);
        if (!a->reader) {
            free(a);
            return NULL;
        }
    }
    return a;
}

void answer_free(answerer *a)
{
    if (!a)
        return;
    db_close(a->reader);
    free(a);
}

int answer_question(answerer *a, int64_t chat_id, const char *text, size_t len,
                    struct answer_result *r)
{
    (void)a;
    (void)chat_id;
    (void)text;
    (void)len;
    memset(r, 0, sizeof *r);
    r->status = ANSWER_NOT_UNDERSTOOD;
    r->reply = xstrdup("Не понял вопрос.");
    return r->status;
}

void answer_result_release(struct answer_result *r)
{
    free(r->reply);
    free(r->spec_json);
    free(r->sql);
    free(r->params_json);
    free(r->explain);
    memset(r, 0, sizeof *r);
}

void answer_set_llm_hook(answerer *a, void (*hook)(void *ctx), void *ctx)
{
    a->hook = hook;
    a->hook_ctx = ctx;
}
