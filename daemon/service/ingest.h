/* daemon/service/ingest.h — one fetched (or given) document of one feed into the
 * store: parse → article model → dedup store, in one transaction. The
 * service's pipeline runs it in the worker; the offline commands of
 * daemon/cli/ (`finfeed ingest`, `finfeed parse`) call it directly. */
#ifndef FINFEED_SERVICE_INGEST_H
#define FINFEED_SERVICE_INGEST_H

#include <stdio.h>

#include "daemon/config/config.h"
#include "parse/parse.h"
#include "store/store.h"

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
    } own;
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
 * p->err in err. p's articles are freed either way. Returns 0 or a
 * negative errno with the reason in err (nothing of the document stored). */
int service_ingest_store(struct store *s, struct service_ingest *f, struct service_parsed *p,
                         struct store_counts *counts, char *err, size_t errsize);
/* Free p's articles and links (an emptied or zeroed p is fine). */
void service_parsed_clear(struct service_parsed *p);

#endif
