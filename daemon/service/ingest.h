/* daemon/service/ingest.h — one fetched (or given) document of one feed into the
 * store: parse → article model → dedup store, in one transaction. The
 * service's pipeline runs it in the worker; the offline commands of
 * daemon/cli/ (`finfeed ingest`, `finfeed parse`) call it directly. */
#ifndef FINFEED_SERVICE_INGEST_H
#define FINFEED_SERVICE_INGEST_H

#include <stdio.h>

#include "daemon/config/config.h"
#include "daemon/service/service.h"
#include "parse/parse.h"
#include "store/store.h"

/* ---- instruments (SPEC §12), daemon/service/tickers.c ---- */

/* The listings of the issuer of `ticker` ("EXCHANGE:SYMBOL", borrowed) in
 * the symbol dictionary, `ticker` among them: a new array of *n new strings
 * into *out (the caller frees them), or *n 0 when the dictionary knows no
 * such listing. `arg` is the function's (borrowed). 0 or -ENOMEM. Any
 * thread. */
typedef int (*service_listings_fn)(const void *arg, const char *ticker, char ***out, size_t *n);

/* One configuration's instruments extractor, shared by every feed's ingest
 * and its watchlists: immutable once made, counted (a reference per
 * holder; taken and dropped on any one thread at a time, atomically). */
struct service_tickers;

/* The extractor of cfg's [tickers] (the symbol dictionary's text, already
 * checked by config_load; cfg NULL: none). Returns 0, or a negative errno
 * with the reason in err. */
int service_tickers_new(const struct config *cfg, struct service_tickers **out, char *err,
                        size_t errsize);
/* An extractor of given parts (tests; and what service_tickers_new makes):
 * find (NULL: articles get no ticker from their text) with find_arg,
 * listings (NULL: no issuer is expanded) with the same arg; arg_free(arg)
 * once the last reference goes (may be NULL). 0 or -ENOMEM (arg_free then
 * called). */
int service_tickers_new_with(parse_tickers_fn find, service_listings_fn listings, void *arg,
                             void (*arg_free)(void *arg), struct service_tickers **out);
struct service_tickers *service_tickers_ref(struct service_tickers *t);
/* Drop a reference; the last frees. NULL is fine. */
void service_tickers_unref(struct service_tickers *t);
/* Tickers in[0..n) with every listing of their issuers after each, each
 * once: a new array of *nout new strings (the caller frees them). t may be
 * NULL (none expanded). 0 or -ENOMEM. */
int service_tickers_expand(const struct service_tickers *t, char *const *in, size_t n, char ***out,
                           size_t *nout);
/* The watchlists of cfg with their tickers expanded by t: a new array of
 * *n (cfg->nwatchlists) into *out, freed with service_watchlists_free. 0 or
 * -ENOMEM. */
int service_watchlists_new(const struct config *cfg, const struct service_tickers *t,
                           struct service_watchlist **out, size_t *n);
void service_watchlists_free(struct service_watchlist *w, size_t n);

/* A feed ready to ingest: its configuration turned into parse options, article
 * defaults and a compiled cleaner. Owns a copy of every value it holds (the
 * pointers of opts and defaults point into it), so it outlives the
 * configuration it was made from, and a worker thread may read it while the
 * loop thread replaces that configuration. */
struct service_ingest {
    char *name;           /* owned copy, or NULL */
    int64_t feed_id;      /* in the store */
    int64_t token;        /* fencing token of the claim being ingested (SPEC §10), 0 none */
    int republish;
    struct parse_opts opts;
    struct parse_article_defaults defaults;
    struct parse_cleaner *cleaner; /* owned */
    struct {              /* owned copies behind opts and defaults */
        char *base_url, *timezone, *charset, *author, *headimg;
        char **categories; /* defaults.ncategories items */
        char **tickers_add; /* defaults.ntickers_add items */
    } own;
    struct service_tickers *tickers; /* the extractor behind defaults.find_tickers: a
                                      * reference, or NULL */
    /* service_ingest_parse makes each article's dedup keys with it (SPEC §7,
     * store_prekeys_make), so that the storing thread need not: borrowed,
     * or NULL (the store makes them as it stores) */
    const struct store_keymaker *keymaker;
    /* Set by service_ingest_document about the last document: */
    int64_t newest;       /* date of its newest article, 0 when it had none */
    long ttl;             /* its RSS <ttl> in minutes, 0 when absent */
    char *hub, *self;     /* its WebSub links (struct parse_feed), owned, or NULL;
                           * freed by the next document and service_ingest_close */
    /* issue 13 §1: when the caller gives room (lags_max > 0, lags borrowed),
     * the lag (now − date, at least 0) of each article the document added
     * to the store whose date is the publisher's and believed, at most
     * lags_max of them */
    int64_t *lags;
    size_t lags_max, nlags;
    /* issue 13 §4: when the caller gives room (touched_max > 0, touched
     * borrowed), the tickers of the articles the document added, updated or
     * merged a duplicate into, each once, at most touched_max of them: the
     * routes of our own output it changed */
    char (*touched)[PARSE_TICKER_LEN];
    size_t touched_max, ntouched;
};

/* Prepare feed `name`: `cf` is its configuration, or NULL for defaults (a
 * feed not in any configuration file); cfg, cf and name are copied from, none
 * kept. Registers the feed in the store `s` (NULL: not at all — `finfeed
 * parse` applies a feed's options offline, the daemon registers its feeds in
 * its worker). Returns 0, or a negative errno with the reason in err (f is
 * then empty). */
int service_ingest_init(struct service_ingest *f, struct store *s, const struct config *cfg,
                     const struct config_feed *cf, const char *name, char *err, size_t errsize);
/* Free what f owns and empty it; an empty (zeroed) f is fine. */
void service_ingest_close(struct service_ingest *f);
/* Find f's articles' tickers with t (a reference taken; NULL: none from the
 * text), unless the feed says `tickers = no`. */
void service_ingest_set_tickers(struct service_ingest *f, struct service_tickers *t);

/* Store one document, from `fp` when not NULL, else from buf/len. `charset`
 * is the HTTP charset (or NULL; a configured charset overrides it). counts
 * and report are filled. With f->token set, the claim is checked first
 * (store_fence): -ESTALE when another node holds the feed now. Returns 0
 * (the transaction committed), or a negative errno with the reason in err
 * (nothing of the document stored; -EDEADLK: redo it). */
int service_ingest_document(struct store *s, struct service_ingest *f, FILE *fp, const char *buf, size_t len,
                    const char *charset, int64_t now, struct store_counts *counts,
                    struct parse_report *report, char *err, size_t errsize);

/* A document parsed and not stored yet (service_ingest_parse), so that one
 * thread may parse the next document while another stores this one
 * (`finfeed ingest`). */
struct service_parsed {
    struct parse_article **a;   /* a[0..n): its articles in order, owned */
    struct store_prekeys **keys; /* keys[i]: a[i]'s dedup keys made ahead (f->keymaker),
                                  * owned; NULL: none made */
    unsigned char *believed;    /* believed[i]: a[i]'s date is the publisher's (lags) */
    size_t n;
    int64_t now;                /* the time it was read at: its articles' first seen */
    long ttl;                   /* its RSS <ttl> in minutes, 0 when absent */
    char *hub, *self;           /* its WebSub links, owned, or NULL */
    struct parse_report report;
    int rc;                     /* 0, or the parse's negative errno (err says why; no
                                 * articles) */
    char err[512];
};

/* Parse one document for feed f as service_ingest_document would (fp,
 * buf/len, charset and now the same), into *out, storing nothing. f is read
 * and never changed: another thread may parse with an f of its own while
 * this f's owner stores. Returns out->rc. */
int service_ingest_parse(const struct service_ingest *f, FILE *fp, const char *buf, size_t len,
                         const char *charset, int64_t now, struct service_parsed *out);
/* Store a document service_ingest_parse made (p), as service_ingest_document
 * would have stored it: one transaction, the claim checked first, counts
 * filled, f->newest, f->ttl, f->lags, f->hub and f->self set. p->rc < 0 is returned as it is, with
 * p->err in err. p's articles are freed, but on -EDEADLK and -EAGAIN
 * (store_add's "store the whole document again"), when p stays whole for
 * another call (service_parsed_clear frees it). Returns 0 or a negative
 * errno with the reason in err (nothing of the document stored). */
int service_ingest_store(struct store *s, struct service_ingest *f, struct service_parsed *p,
                         struct store_counts *counts, char *err, size_t errsize);
/* Free p's articles and links (an emptied or zeroed p is fine). */
void service_parsed_clear(struct service_parsed *p);

#endif
