/* parse/tickers/tickers.c — the instruments of an article (SPEC §12): the
 * title, then the body text, read by scan.c; then cashtags and names resolved
 * against the article's explicit mentions and the dictionary, and each ticker
 * kept once, in order of first mention. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse/tickers/tickers_int.h"

/* ---- resolution ---- */

/* A set of strings (borrowed) with an index each: open addressing. */
struct strmap {
    const char **keys;
    size_t *vals;
    size_t cap; /* a power of two, at least twice the keys it will hold */
};

static int
strmap_init(struct strmap *m, size_t n)
{
    m->cap = 16;
    while (m->cap < 2 * n)
        m->cap *= 2;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = malloc(m->cap * sizeof *m->vals);
    return m->keys && m->vals ? 0 : -ENOMEM;
}

static void
strmap_free(struct strmap *m)
{
    free(m->keys);
    free(m->vals);
}

/* The slot of key: where it is, or the free slot it would take. */
static size_t
strmap_slot(const struct strmap *m, const char *key)
{
    size_t i = (size_t)tk_hash(key) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static long
strmap_get(const struct strmap *m, const char *key)
{
    size_t i = strmap_slot(m, key);
    return m->keys[i] ? (long)m->vals[i] : -1;
}

/* Adds key → val unless key is there already. */
static void
strmap_put(struct strmap *m, const char *key, size_t val)
{
    size_t i = strmap_slot(m, key);
    if (m->keys[i] == NULL) {
        m->keys[i] = key;
        m->vals[i] = val;
    }
}

static const char *
code_of(const char *symbol)
{
    const char *c = strchr(symbol, ':');
    return c ? c + 1 : symbol;
}

/* The dictionary's listing for a cashtag: a US listing with that code. */
static const char *
dict_us(const struct parse_tickers *t, const char *code)
{
    size_t lo = 0, hi = t ? t->nlistings : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->listings[t->by_code[mid]].code, code) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; t && lo < t->nlistings; lo++) {
        const struct tk_listing *l = &t->listings[t->by_code[lo]];
        if (strcmp(l->code, code) != 0)
            break;
        if (tk_is_us(l->exch))
            return l->symbol;
    }
    return NULL;
}

/* Cashtags take the article's own exchange for their code, else the
 * dictionary's US listing; names their issuer's listing the article names,
 * else the primary one. Then each ticker once, its form the first explicit
 * mention's (a name's only when nothing else named it). */
static int
resolve(struct scan *sc, struct parse_ticker_list *out)
{
    const struct parse_tickers *t = sc->t;
    struct strmap codes = {0}, issuers = {0}, seen = {0};
    int rc = -ENOMEM;
    if (strmap_init(&codes, sc->n) < 0 || strmap_init(&issuers, sc->n) < 0 ||
        strmap_init(&seen, sc->n) < 0)
        goto out;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->m[i].pending == P_NONE)
            strmap_put(&codes, code_of(sc->m[i].symbol), i);
    for (size_t i = 0; i < sc->n; i++) {
        struct mention *m = &sc->m[i];
        if (m->pending != P_US)
            continue;
        long e = strmap_get(&codes, code_of(m->symbol));
        const char *d = e >= 0 ? sc->m[e].symbol : dict_us(t, code_of(m->symbol));
        if (d != NULL)
            memmove(m->symbol, d, strlen(d) + 1);
        m->pending = P_NONE;
    }
    for (size_t i = 0; i < sc->n; i++) {
        struct mention *m = &sc->m[i];
        if (m->pending != P_NONE)
            continue;
        m->issuer = parse_tickers_issuer(t, m->symbol);
        if (m->issuer >= 0)
            strmap_put(&issuers, parse_tickers_listing(t, m->issuer, 0), i);
    }
    for (size_t i = 0; i < sc->n; i++) {
        struct mention *m = &sc->m[i];
        if (m->pending != P_NAME)
            continue;
        const char *primary = parse_tickers_listing(t, m->issuer, 0);
        long e = strmap_get(&issuers, primary);
        strcpy(m->symbol, e >= 0 ? sc->m[e].symbol : primary);
    }
    out->v = malloc((sc->n ? sc->n : 1) * sizeof *out->v);
    if (out->v == NULL)
        goto out;
    for (size_t i = 0; i < sc->n; i++) {
        struct mention *m = &sc->m[i];
        long e = strmap_get(&seen, m->symbol);
        if (e >= 0) {
            if (out->v[e].form == PARSE_TICKER_NAME)
                out->v[e].form = m->form;
            continue;
        }
        struct parse_ticker *r = &out->v[out->n];
        strcpy(r->symbol, m->symbol);
        r->form = m->form;
        r->issuer = m->issuer;
        strmap_put(&seen, m->symbol, out->n++);
    }
    rc = 0;
out:
    strmap_free(&codes);
    strmap_free(&issuers);
    strmap_free(&seen);
    return rc;
}

int
parse_tickers_find(const struct parse_tickers *t, const char *title, const char *body_text,
                   struct parse_ticker_list *out)
{
    struct scan sc = {.t = t};
    out->v = NULL;
    out->n = 0;
    tk_scan_text(&sc, title);
    tk_scan_text(&sc, body_text);
    int rc = sc.oom ? -ENOMEM : resolve(&sc, out);
    if (rc < 0)
        parse_ticker_list_free(out);
    free(sc.m);
    return rc;
}

void
parse_ticker_list_free(struct parse_ticker_list *l)
{
    if (l == NULL)
        return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
