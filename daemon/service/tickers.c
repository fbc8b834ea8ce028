/* daemon/service/tickers.c — instruments at run time (SPEC §12): one
 * configuration's extractor, shared by every feed's ingest (the finder of
 * an article's tickers) and by its watchlists (an issuer's listings, from
 * the symbol dictionary's grouping); the watchlists built from the
 * configuration with their tickers expanded, and their copies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/service/ingest.h"
#include "store/store.h"

struct service_tickers {
    unsigned refs;                /* atomic */
    parse_tickers_fn find;        /* NULL: no ticker from the text */
    service_listings_fn listings; /* NULL: no issuer expanded */
    void *arg;                    /* both functions' */
    void (*arg_free)(void *arg);
};

int
service_tickers_new_with(parse_tickers_fn find, service_listings_fn listings, void *arg,
                         void (*arg_free)(void *arg), struct service_tickers **out)
{
    struct service_tickers *t = calloc(1, sizeof(*t));
    *out = NULL;
    if (t == NULL) {
        if (arg_free != NULL)
            arg_free(arg);
        return -ENOMEM;
    }
    t->refs = 1;
    t->find = find;
    t->listings = listings;
    t->arg = arg;
    t->arg_free = arg_free;
    *out = t;
    return 0;
}

/* parse_tickers_fn over the extractor (parse/tickers): its tickers as
 * strings, in their order. */
static int
find_tickers(const void *arg, const char *title, const char *body_text, char ***out, size_t *n)
{
    struct parse_ticker_list l = {0};
    *out = NULL;
    *n = 0;
    if (parse_tickers_find(arg, title, body_text, &l) < 0)
        return -ENOMEM;
    int rc = 0;
    if (l.n > 0 && (*out = calloc(l.n, sizeof(char *))) == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < l.n; i++, (*n)++)
        if (((*out)[i] = strdup(l.v[i].symbol)) == NULL)
            rc = -ENOMEM;
    parse_ticker_list_free(&l);
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            free((*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* service_listings_fn over the dictionary's grouping: every listing of the
 * issuer of `ticker`. */
static int
issuer_listings(const void *arg, const char *ticker, char ***out, size_t *n)
{
    int issuer = parse_tickers_issuer(arg, ticker);
    size_t k = 0;
    *out = NULL;
    *n = 0;
    while (issuer >= 0 && parse_tickers_listing(arg, issuer, k) != NULL)
        k++;
    if (k == 0)
        return 0;
    if ((*out = calloc(k, sizeof(char *))) == NULL)
        return -ENOMEM;
    for (; *n < k; (*n)++)
        if (((*out)[*n] = strdup(parse_tickers_listing(arg, issuer, *n))) == NULL)
            return -ENOMEM; /* the caller frees the *n made */
    return 0;
}

static void
extractor_free(void *arg)
{
    parse_tickers_free(arg);
}

int
service_tickers_new(const struct config *cfg, struct service_tickers **out, char *err,
                    size_t errsize)
{
    /* one extractor a configuration (parse/tickers, SPEC §12): the exchange
     * table and the [tickers] file's dictionary, checked by config_load
     * already (NULL and 0 without one: the exchange table alone) */
    struct parse_tickers *t = NULL;
    const char *dict = cfg != NULL ? cfg->tickers.dict : NULL;
    char why[256];
    int rc = parse_tickers_new(dict, dict != NULL ? cfg->tickers.len : 0, &t, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errsize, "[tickers] file: %s: %s",
                 dict != NULL ? cfg->tickers.file : "(none)",
                 rc == -ENOMEM ? "out of memory" : why);
        return rc;
    }
    rc = service_tickers_new_with(find_tickers, issuer_listings, t, extractor_free, out);
    if (rc < 0)
        snprintf(err, errsize, "tickers: out of memory");
    return rc;
}

struct service_tickers *
service_tickers_ref(struct service_tickers *t)
{
    if (t != NULL)
        __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    return t;
}

void
service_tickers_unref(struct service_tickers *t)
{
    if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (t->arg_free != NULL)
        t->arg_free(t->arg);
    free(t);
}

void
service_ingest_set_tickers(struct service_ingest *f, struct service_tickers *t)
{
    service_tickers_unref(f->tickers);
    f->tickers = service_tickers_ref(t);
    f->defaults.find_tickers = t != NULL ? t->find : NULL;
    f->defaults.find_tickers_arg = t != NULL ? t->arg : NULL;
}

/* ---- lists ---- */

static void
strings_free(char **l, size_t n)
{
    for (size_t i = 0; l != NULL && i < n; i++)
        free(l[i]);
    free(l);
}

/* Append a copy of s to (*l, *n) unless it is there: 0 or -ENOMEM. */
static int
add_once(char ***l, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*l)[i], s) == 0)
            return 0;
    char **grown = realloc(*l, (*n + 1) * sizeof(*grown));
    if (grown == NULL)
        return -ENOMEM;
    *l = grown;
    if ((grown[*n] = strdup(s)) == NULL)
        return -ENOMEM;
    (*n)++;
    return 0;
}

int
service_tickers_expand(const struct service_tickers *t, char *const *in, size_t n, char ***out,
                       size_t *nout)
{
    char **l = NULL;
    size_t m = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char **listings = NULL;
        size_t k = 0;
        rc = add_once(&l, &m, in[i]);
        if (rc == 0 && t != NULL && t->listings != NULL)
            rc = t->listings(t->arg, in[i], &listings, &k);
        for (size_t j = 0; rc == 0 && j < k; j++)
            rc = add_once(&l, &m, listings[j]);
        strings_free(listings, k);
    }
    if (rc < 0) {
        strings_free(l, m);
        return rc;
    }
    *out = l;
    *nout = m;
    return 0;
}

/* ---- watchlists ---- */

static void
match_clear(struct service_match *m)
{
    strings_free(m->tickers, m->ntickers);
    strings_free(m->keywords, m->nkeywords);
    strings_free(m->categories, m->ncategories);
    strings_free(m->feeds, m->nfeeds);
    memset(m, 0, sizeof(*m));
}

void
service_watchlist_clear(struct service_watchlist *w)
{
    free(w->name);
    match_clear(&w->any);
    for (size_t i = 0; i < w->nall_of; i++)
        match_clear(&w->all_of[i]);
    free(w->all_of);
    for (size_t i = 0; i < w->nnone_of; i++)
        match_clear(&w->none_of[i]);
    free(w->none_of);
    memset(w, 0, sizeof(*w));
}

void
service_watchlists_free(struct service_watchlist *w, size_t n)
{
    for (size_t i = 0; w != NULL && i < n; i++)
        service_watchlist_clear(&w[i]);
    free(w);
}

/* Copies of in[0..n) into *out: 0 or -ENOMEM (what was copied stays in
 * *out, *nout items, for the caller to free). */
static int
strings_copy(char *const *in, size_t n, char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return 0;
    if ((*out = calloc(n, sizeof(char *))) == NULL)
        return -ENOMEM;
    for (; *nout < n; (*nout)++)
        if (((*out)[*nout] = strdup(in[*nout])) == NULL)
            return -ENOMEM;
    return 0;
}

/* A group of a configured watchlist (tickers expanded) or of a copy. */
static int
match_copy(const struct service_tickers *t, int expand, char *const *tickers, size_t ntickers,
           char *const *keywords, size_t nkeywords, char *const *categories, size_t ncategories,
           char *const *feeds, size_t nfeeds, struct service_match *m)
{
    int rc = expand ? service_tickers_expand(t, tickers, ntickers, &m->tickers, &m->ntickers)
                    : strings_copy(tickers, ntickers, &m->tickers, &m->ntickers);
    if (rc == 0)
        rc = strings_copy(keywords, nkeywords, &m->keywords, &m->nkeywords);
    if (rc == 0)
        rc = strings_copy(categories, ncategories, &m->categories, &m->ncategories);
    if (rc == 0)
        rc = strings_copy(feeds, nfeeds, &m->feeds, &m->nfeeds);
    return rc;
}

static int
from_config(const struct service_tickers *t, const struct config_match *c, struct service_match *m)
{
    return match_copy(t, 1, c->tickers, c->ntickers, c->keywords, c->nkeywords, c->categories,
                      c->ncategories, c->feeds, c->nfeeds, m);
}

static int
from_copy(const struct service_match *in, struct service_match *m)
{
    return match_copy(NULL, 0, in->tickers, in->ntickers, in->keywords, in->nkeywords,
                      in->categories, in->ncategories, in->feeds, in->nfeeds, m);
}

int
service_watchlists_new(const struct config *cfg, const struct service_tickers *t,
                       struct service_watchlist **out, size_t *n)
{
    struct service_watchlist *l = calloc(cfg->nwatchlists + 1, sizeof(*l));
    int rc = l == NULL ? -ENOMEM : 0;
    size_t done = 0;
    for (; rc == 0 && done < cfg->nwatchlists; done++) {
        const struct config_watchlist *c = &cfg->watchlists[done];
        struct service_watchlist *w = &l[done];
        if ((w->name = strdup(c->name)) == NULL || (rc = from_config(t, &c->any, &w->any)) < 0 ||
            (c->nall_of > 0 && (w->all_of = calloc(c->nall_of, sizeof(*w->all_of))) == NULL) ||
            (c->nnone_of > 0 && (w->none_of = calloc(c->nnone_of, sizeof(*w->none_of))) == NULL)) {
            rc = -ENOMEM;
            break;
        }
        for (; rc == 0 && w->nall_of < c->nall_of; w->nall_of++)
            rc = from_config(t, &c->all_of[w->nall_of], &w->all_of[w->nall_of]);
        for (; rc == 0 && w->nnone_of < c->nnone_of; w->nnone_of++)
            rc = from_config(t, &c->none_of[w->nnone_of], &w->none_of[w->nnone_of]);
    }
    if (rc < 0) {
        service_watchlists_free(l, done + 1);
        return -ENOMEM;
    }
    *out = l;
    *n = done;
    return 0;
}

int
service_watchlist_copy(const struct service_watchlist *in, struct service_watchlist *out)
{
    memset(out, 0, sizeof(*out));
    int rc = (out->name = strdup(in->name)) == NULL ? -ENOMEM : from_copy(&in->any, &out->any);
    if (rc == 0 && in->nall_of > 0 &&
        (out->all_of = calloc(in->nall_of, sizeof(*out->all_of))) == NULL)
        rc = -ENOMEM;
    if (rc == 0 && in->nnone_of > 0 &&
        (out->none_of = calloc(in->nnone_of, sizeof(*out->none_of))) == NULL)
        rc = -ENOMEM;
    for (; rc == 0 && out->nall_of < in->nall_of; out->nall_of++)
        rc = from_copy(&in->all_of[out->nall_of], &out->all_of[out->nall_of]);
    for (; rc == 0 && out->nnone_of < in->nnone_of; out->nnone_of++)
        rc = from_copy(&in->none_of[out->nnone_of], &out->none_of[out->nnone_of]);
    if (rc < 0) /* a group that failed half-way is counted: the clear frees it */
        service_watchlist_clear(out);
    return rc;
}

/* A group as the store reads it (pointers into m). */
static struct store_match
store_match_of(const struct service_match *m)
{
    return (struct store_match){
        .tickers = (const char *const *)m->tickers,
        .ntickers = m->ntickers,
        .keywords = (const char *const *)m->keywords,
        .nkeywords = m->nkeywords,
        .categories = (const char *const *)m->categories,
        .ncategories = m->ncategories,
        .feeds = (const char *const *)m->feeds,
        .nfeeds = m->nfeeds,
    };
}

int
service_watchlist_query(const struct service_watchlist *w, struct store_watch *out)
{
    size_t n = w->nall_of + w->nnone_of;
    struct store_match *groups = n > 0 ? calloc(n, sizeof(*groups)) : NULL;
    memset(out, 0, sizeof(*out));
    if (n > 0 && groups == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < w->nall_of; i++)
        groups[i] = store_match_of(&w->all_of[i]);
    for (size_t i = 0; i < w->nnone_of; i++)
        groups[w->nall_of + i] = store_match_of(&w->none_of[i]);
    *out = (struct store_watch){.any = store_match_of(&w->any),
                                .all_of = groups,
                                .nall_of = w->nall_of,
                                .none_of = groups != NULL ? groups + w->nall_of : NULL,
                                .nnone_of = w->nnone_of};
    return 0;
}

void
service_watchlist_query_free(struct store_watch *q)
{
    /* all_of and none_of share one array: it starts at all_of, or at
     * none_of when there is no all_of group */
    free((void *)(q->nall_of > 0 ? q->all_of : q->none_of));
    memset(q, 0, sizeof(*q));
}
