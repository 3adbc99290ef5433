#include "lexicon.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "strmap.h"
#include "xalloc.h"

/* One class entry. A multi-word form keeps its words ("не", "менее") in `words`. */
struct entry {
    char tag[LEX_TAG_MAX];
    int filler;
    int before_date; /* "TAG@date": the tag only right before a date, a filler elsewhere */
    size_t nwords;
    char **words;
    struct entry *next; /* other multi-word forms with the same first word */
};

struct lexicon {
    strmap *closed;  /* surface form -> struct entry (single words) */
    strmap *multi;   /* first word -> struct entry list (multi-word forms) */
    strmap *open;    /* stem -> struct entry */
    struct entry **all;
    size_t nall;
    struct sb_stemmer *stemmer;
};

/* ==== Loading ==== */

static struct entry *new_entry(lexicon *lx, const char *tag, size_t taglen)
{
    struct entry *e = xcalloc(1, sizeof *e);
    if (taglen > 5 && !memcmp(tag + taglen - 5, "@date", 5)) {
        e->before_date = 1;
        taglen -= 5;
    }
    memcpy(e->tag, tag, taglen);
    e->filler = taglen == 1 && tag[0] == '_';
    lx->all = xrealloc(lx->all, (lx->nall + 1) * sizeof *lx->all);
    lx->all[lx->nall++] = e;
    return e;
}

/* A tag is "_" or "class" or "class:value" in [a-z0-9_]. */
static int valid_tag(const char *s, size_t n)
{
    int colons = 0;
    if (n == 0 || n >= LEX_TAG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':')
            colons++;
        else if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    }
    return colons <= 1 && s[0] != ':' && s[n - 1] != ':';
}

/* Words must already be in the form the tokenizer produces: lowercase, ё folded. */
static int valid_word(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (isupper(c) || c == ' ' || c == '\t')
            return 0;
        if (c == 0xd0 && i + 1 < n && ((unsigned char)w[i + 1] == 0x81 || /* Ё */
                                       ((unsigned char)w[i + 1] >= 0x90 && (unsigned char)w[i + 1] <= 0xaf)))
            return 0; /* capital Cyrillic */
        if (c == 0xd1 && i + 1 < n && (unsigned char)w[i + 1] == 0x91)
            return 0; /* ё */
    }
    return n > 0;
}

static int add_closed(lexicon *lx, struct entry *tmpl, const char *w, size_t n, struct buf *err)
{
    if (!memchr(w, '_', n)) {
        struct entry *old = strmap_put(lx->closed, w, n, tmpl);
        if (old && strcmp(old->tag, tmpl->tag)) {
            buf_addf(err, "\"%.*s\" is both %s and %s", (int)n, w, old->tag, tmpl->tag);
            return -1;
        }
        return 0;
    }
    struct entry *e = new_entry(lx, tmpl->tag, strlen(tmpl->tag));
    for (size_t i = 0; i < n;) {
        size_t k = i;
        while (k < n && w[k] != '_')
            k++;
        if (k == i) {
            buf_addf(err, "empty word in \"%.*s\"", (int)n, w);
            return -1;
        }
        e->words = xrealloc(e->words, (e->nwords + 1) * sizeof *e->words);
        e->words[e->nwords++] = xmemdup(w + i, k - i);
        i = k + 1;
    }
    e->before_date = tmpl->before_date;
    e->next = strmap_get(lx->multi, e->words[0], strlen(e->words[0]));
    strmap_put(lx->multi, e->words[0], strlen(e->words[0]), e);
    return 0;
}

static int add_open(lexicon *lx, struct entry *tmpl, const char *w, size_t n, struct buf *err)
{
    char stem[LEX_TAG_MAX];
    lexicon_stem(lx, w, n, stem, sizeof stem);
    struct entry *old = strmap_put(lx->open, stem, strlen(stem), tmpl);
    if (old && strcmp(old->tag, tmpl->tag)) {
        buf_addf(err, "\"%.*s\" has the stem \"%s\" of %s, not %s", (int)n, w, stem, old->tag, tmpl->tag);
        return -1;
    }
    return 0;
}

/* "tag<TAB>word word ..." */
static int load_line(lexicon *lx, char *line, int open, struct buf *err)
{
    char *tab = strchr(line, '\t');
    if (!tab) {
        buf_adds(err, "want a tag, a tab, then words");
        return -1;
    }
    size_t taglen = (size_t)(tab - line);
    if (taglen > 5 && !memcmp(tab - 5, "@date", 5))
        taglen -= 5;
    if (!valid_tag(line, taglen)) {
        buf_addf(err, "bad tag \"%.*s\"", (int)(tab - line), line);
        return -1;
    }
    struct entry *tmpl = new_entry(lx, line, (size_t)(tab - line));
    for (char *p = tab + 1; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - w);
        if (n == 0)
            break;
        if (!valid_word(w, n)) {
            buf_addf(err, "\"%.*s\" is not lowercase with ё folded to е", (int)n, w);
            return -1;
        }
        if ((open ? add_open : add_closed)(lx, tmpl, w, n, err))
            return -1;
    }
    return 0;
}

static int load_file(lexicon *lx, const char *dir, const char *name, int open, struct buf *err)
{
    struct buf path = BUF_INIT, msg = BUF_INIT;
    char line[4096];
    int lineno = 0, rc = 0;
    buf_addf(&path, "%s/%s", dir, name);
    FILE *f = fopen(buf_str(&path), "r");
    if (!f) {
        buf_addf(err, "lexicon: cannot read %s: %s", buf_str(&path), strerror(errno));
        buf_release(&path);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        buf_reset(&msg);
        if (load_line(lx, line, open, &msg)) {
            buf_addf(err, "%s:%d: %s", buf_str(&path), lineno, buf_str(&msg));
            rc = -1;
        }
    }
    fclose(f);
    buf_release(&path);
    buf_release(&msg);
    return rc;
}

lexicon *lexicon_load(const char *dir, struct buf *err)
{
    lexicon *lx = xcalloc(1, sizeof *lx);
    lx->closed = strmap_new();
    lx->multi = strmap_new();
    lx->open = strmap_new();
    lx->stemmer = sb_stemmer_new("russian", "UTF_8");
    if (!lx->stemmer) {
        buf_adds(err, "lexicon: the Snowball stemmer for Russian is missing");
        lexicon_free(lx);
        return NULL;
    }
    if (load_file(lx, dir, "closed.tsv", 0, err) || load_file(lx, dir, "open.tsv", 1, err)) {
        lexicon_free(lx);
        return NULL;
    }
    return lx;
}

void lexicon_free(lexicon *lx)
{
    if (!lx)
        return;
    for (size_t i = 0; i < lx->nall; i++) {
        for (size_t k = 0; k < lx->all[i]->nwords; k++)
            free(lx->all[i]->words[k]);
        free(lx->all[i]->words);
        free(lx->all[i]);
    }
    free(lx->all);
    strmap_free(lx->closed);
    strmap_free(lx->multi);
    strmap_free(lx->open);
    if (lx->stemmer)
        sb_stemmer_delete(lx->stemmer);
    free(lx);
}

/* ==== Tagging ==== */

/* Copies at most cap - 1 bytes of s, never cutting a UTF-8 sequence. */
static void copy_utf8(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

void lexicon_stem(lexicon *lx, const char *w, size_t len, char *out, size_t cap)
{
    const sb_symbol *st = sb_stemmer_stem(lx->stemmer, (const sb_symbol *)w, (int)len);
    if (!st) {
        copy_utf8(out, cap, w, len);
        return;
    }
    copy_utf8(out, cap, (const char *)st, (size_t)sb_stemmer_length(lx->stemmer));
}

static int is_textual(const struct tok *t)
{
    return t->kind == TOK_WORD || t->kind == TOK_PUNCT;
}

/* The longest multi-word form starting at token i, or NULL. */
static const struct entry *match_multi(const lexicon *lx, const struct text_doc *d, size_t i)
{
    const struct tok *t = &d->toks[i];
    const struct entry *best = NULL;
    for (const struct entry *e = strmap_get(lx->multi, t->s, t->len); e; e = e->next) {
        if (i + e->nwords > d->ntoks || (best && e->nwords <= best->nwords))
            continue;
        size_t k = 0;
        for (; k < e->nwords; k++) {
            const struct tok *u = &d->toks[i + k];
            if (!is_textual(u) || u->len != strlen(e->words[k]) || memcmp(u->s, e->words[k], u->len))
                break;
        }
        if (k == e->nwords)
            best = e;
    }
    return best;
}

static void tag_special(const struct tok *t, struct lex_item *it)
{
    switch (t->kind) {
    case TOK_NUM:
        if (t->flags & (TOK_F_FRACTION | TOK_F_OVERFLOW))
            snprintf(it->tag, sizeof it->tag, "n:bad");
        else
            snprintf(it->tag, sizeof it->tag, "n:%lld", (long long)t->num);
        break;
    case TOK_ID:
        snprintf(it->tag, sizeof it->tag, "%s", (t->flags & TOK_F_PREFIX_ID) ? "id:prefix" : "id:full");
        break;
    case TOK_DATE:
        snprintf(it->tag, sizeof it->tag, "d:%s",
                 (t->flags & TOK_F_BAD_DATE) ? "bad" : text_grain_name(t->grain));
        break;
    default: /* TOK_TIMEWIN */
        snprintf(it->tag, sizeof it->tag, "%s", (t->flags & TOK_F_BAD_DATE) ? "tw:bad" : "tw");
        break;
    }
}

/* Sets the item from a lexicon entry; a date-only entry is a filler unless a date
 * follows («с 1 ноября» is a start; «видео с лайками» is just "with"). */
static void from_entry(const struct entry *e, int date_next, struct lex_item *it)
{
    it->filler = e->filler || (e->before_date && !date_next);
    if (e->before_date && !date_next)
        snprintf(it->tag, sizeof it->tag, "_");
    else
        memcpy(it->tag, e->tag, sizeof it->tag);
}

static void tag_word(lexicon *lx, const struct tok *t, int date_next, struct lex_item *it)
{
    const struct entry *e = strmap_get(lx->closed, t->s, t->len);
    char stem[LEX_TAG_MAX];
    if (!e && t->kind == TOK_WORD) {
        lexicon_stem(lx, t->s, t->len, stem, sizeof stem - 2);
        e = strmap_get(lx->open, stem, strlen(stem));
        if (!e) {
            snprintf(it->tag, sizeof it->tag, "w:%.*s", (int)sizeof it->tag - 3, stem);
            return;
        }
    }
    if (!e) { /* punctuation nobody listed: "?", ",", "(" */
        it->filler = 1;
        snprintf(it->tag, sizeof it->tag, "_");
        return;
    }
    from_entry(e, date_next, it);
}

int lexicon_tag(lexicon *lx, const struct text_doc *d, struct lex_item *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < d->ntoks; n++) {
        if (n == max)
            return -1;
        struct lex_item *it = &out[n];
        const struct tok *t = &d->toks[i];
        const struct entry *m = is_textual(t) ? match_multi(lx, d, i) : NULL;
        it->first = i;
        it->filler = 0;
        if (m) {
            it->count = m->nwords;
            from_entry(m, i + m->nwords < d->ntoks && d->toks[i + m->nwords].kind == TOK_DATE, it);
        } else {
            it->count = 1;
            if (is_textual(t))
                tag_word(lx, t, i + 1 < d->ntoks && d->toks[i + 1].kind == TOK_DATE, it);
            else
                tag_special(t, it);
        }
        i += it->count;
    }
    return (int)n;
}
