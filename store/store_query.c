/* store/store_query.c — the output query's face: the search text cut into
 * words (SPEC §5.1: every word a case-insensitive substring of the title or
 * the body text, whatever its length), then the backend's query. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

size_t
store_term_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *
store_like_pattern(const char *term)
{
    char *out = malloc(strlen(term) * 2 + 3), *w = out;
    if (out == NULL)
        return NULL;
    *w++ = '%';
    for (const char *p = term; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            *w++ = '\\';
        *w++ = *p;
    }
    *w++ = '%';
    *w = '\0';
    return out;
}

int32_t
store_utf8_char(const unsigned char *s, size_t n, size_t *len)
{
    static const int32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t k = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    int32_t c = s[0] & (0x7F >> k);
    *len = 1;
    if (k == 0 || s[0] > 0xF4 || k > n)
        return -1;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < least[k] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *len = k;
    return c;
}

/* Whether s is well-formed UTF-8 (no overlong form, no surrogate, nothing
 * past U+10FFFF): what PostgreSQL accepts as text. */
static int
utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0, n = strlen(s), len; i < n; i += len) {
        len = 1;
        if (p[i] >= 0x80 && store_utf8_char(p + i, n - i, &len) < 0)
            return 0;
    }
    return 1;
}

int
store_split_terms(char *buf, char *terms[STORE_MAX_TERMS])
{
    int n = 0;
    char *p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
               (p[0] == '\xe3' && p[1] == '\x80' && p[2] == '\x80'))
            p += *p == '\xe3' ? 3 : 1;
        if (*p == '\0')
            return n;
        if (n == STORE_MAX_TERMS)
            return -1;
        terms[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
               !(p[0] == '\xe3' && p[1] == '\x80' && p[2] == '\x80'))
            p++;
        if (*p != '\0') {
            int skip = *p == '\xe3' ? 3 : 1;
            *p = '\0';
            p += skip;
        }
    }
}

void
store_sql_add(struct store_sql *b, const char *fmt, ...)
{
    va_list ap;
    if (b->err)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = b->s != NULL ? vsnprintf(b->s + b->len, room, fmt, ap) : -2;
        va_end(ap);
        if (n == -1) {
            b->err = -ENOMEM;
            return;
        }
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (n >= 0 && cap - b->len <= (size_t)n)
            cap *= 2;
        char *grown = realloc(b->s, cap);
        if (grown == NULL) {
            b->err = -ENOMEM;
            return;
        }
        if (b->s == NULL)
            grown[0] = '\0';
        b->s = grown;
        b->cap = cap;
    }
}

void
store_sql_free(struct store_sql *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

int
store_texts_add(struct store_texts *p, const char *t, int own)
{
    if (p->err == 0 && p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        const char **v = realloc(p->v, (size_t)cap * sizeof(*v));
        if (v != NULL)
            p->v = v;
        char **o = v != NULL ? realloc(p->own, (size_t)cap * sizeof(*o)) : NULL;
        if (o != NULL)
            p->own = o;
        if (v == NULL || o == NULL)
            p->err = -ENOMEM;
        else
            p->cap = cap;
    }
    if (p->err || (own && t == NULL)) {
        p->err = -ENOMEM;
        if (own)
            free((char *)t);
        return 0;
    }
    p->v[p->n] = t;
    p->own[p->n] = own ? (char *)t : NULL;
    return ++p->n;
}

void
store_texts_free(struct store_texts *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->own[i]);
    free(p->v);
    free(p->own);
}

void
store_articles_sql(struct store_sql *q, struct store_texts *p, const struct store_query *qu,
                   char *const *terms, int nterms, const struct store_dialect *d)
{
    store_sql_add(q, "%s", d->select);
    if (qu->feed != NULL)
        store_sql_add(q,
                      " AND a.id IN (SELECT x.article_id FROM sources x JOIN feeds f"
                      " ON f.id = x.feed_id WHERE f.name = %c%d)",
                      d->param, store_texts_add(p, qu->feed, 0));
    if (qu->category != NULL)
        store_sql_add(q, " AND %s%c%d%s", d->category[0], d->param,
                      store_texts_add(p, qu->category, 0), d->category[1]);
    if (nterms > 0) {
        store_sql_add(q, " AND ");
        d->text(q, p, terms, nterms);
    }
    if (qu->id > 0)
        store_sql_add(q, " AND a.id = %lld", (long long)qu->id);
    if (qu->changed_since > 0)
        store_sql_add(q, " AND a.updated >= %lld", (long long)qu->changed_since);
    if (qu->ntickers > 0) {
        store_sql_add(q, " AND ");
        d->tickers(q, p, qu->tickers, qu->ntickers);
    }
    if (qu->watch != NULL) {
        const struct store_watch *w = qu->watch;
        if (!store_match_empty(&w->any)) {
            store_sql_add(q, " AND ");
            d->match(q, p, &w->any);
        }
        for (size_t i = 0; i < w->nall_of; i++) {
            store_sql_add(q, " AND ");
            d->match(q, p, &w->all_of[i]);
        }
        for (size_t i = 0; i < w->nnone_of; i++) {
            if (store_match_empty(&w->none_of[i]))
                continue;
            store_sql_add(q, " AND NOT ");
            d->match(q, p, &w->none_of[i]);
        }
    }
    store_sql_add(q, " ORDER BY a.date DESC, a.id DESC LIMIT %ld", qu->limit > 0 ? qu->limit : 100);
    if (d->close != NULL)
        store_sql_add(q, "%s", d->close);
}

int
store_match_empty(const struct store_match *m)
{
    return m->ntickers + m->nkeywords + m->ncategories + m->nfeeds == 0;
}

/* A watchlist's size and its keywords' words checked, as the search text's
 * (-EINVAL with the reason on s). */
static int
watch_check(struct store *s, const struct store_watch *w)
{
    size_t items = 0;
    for (size_t g = 0; g < 1 + w->nall_of + w->nnone_of; g++) {
        const struct store_match *m = g == 0            ? &w->any
                                      : g <= w->nall_of ? &w->all_of[g - 1]
                                                        : &w->none_of[g - 1 - w->nall_of];
        items += m->ntickers + m->nkeywords + m->ncategories + m->nfeeds;
        for (size_t i = 0; i < m->nkeywords; i++) {
            char *terms[STORE_MAX_TERMS], *copy = strdup(m->keywords[i]);
            int n = copy != NULL ? store_split_terms(copy, terms) : -2;
            free(copy);
            if (n == -2)
                return -ENOMEM;
            if (n <= 0 || !utf8_valid(m->keywords[i])) {
                snprintf(s->err, sizeof(s->err), "keyword \"%.100s\": %s", m->keywords[i],
                         n < 0    ? "more than 16 words"
                         : n == 0 ? "no word"
                                  : "not UTF-8");
                return -EINVAL;
            }
        }
    }
    if (items > STORE_WATCH_MAX) {
        snprintf(s->err, sizeof(s->err), "a watchlist of more than %d items", STORE_WATCH_MAX);
        return -EINVAL;
    }
    return 0;
}

int
store_top_tickers(struct store *s, int64_t since, long limit, store_ticker_cb cb, void *arg)
{
    if (limit <= 0)
        return 0;
    return s->ops->top_tickers(s, since, limit, cb, arg);
}

int
store_articles(struct store *s, const struct store_query *q, store_article_cb cb, void *arg)
{
    static const struct store_query all = {0};
    char *terms[STORE_MAX_TERMS], *text = NULL;
    int nterms = 0, ret;
    if (q == NULL)
        q = &all;
    if (q->ntickers > STORE_WATCH_MAX) {
        snprintf(s->err, sizeof(s->err), "more than %d tickers", STORE_WATCH_MAX);
        return -EINVAL;
    }
    if (q->watch != NULL && (ret = watch_check(s, q->watch)) < 0)
        return ret;
    if (q->text != NULL) {
        if ((text = strdup(q->text)) == NULL)
            return -ENOMEM;
        if ((nterms = store_split_terms(text, terms)) < 0) {
            snprintf(s->err, sizeof(s->err), "more than %d search words", STORE_MAX_TERMS);
            free(text);
            return -EINVAL;
        }
    }
    /* A word that is no UTF-8 is in no title or body (both are text):
     * nothing matches. Not asked: PostgreSQL would refuse it as text, and
     * FTS5 reads such bytes its own way. */
    ret = q->text != NULL && !utf8_valid(q->text) ? 0
                                                  : s->ops->articles(s, q, terms, nterms, cb, arg);
    free(text);
    return ret;
}
