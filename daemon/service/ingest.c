/* daemon/service/ingest.c — parse → article → store for one document of one feed,
 * one transaction: all of its articles or none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/service/ingest.h"

/* *dst = a copy of src (NULL stays NULL). Returns 0 or -ENOMEM. */
static int
dup_opt(const char *src, char **dst)
{
    *dst = src != NULL ? strdup(src) : NULL;
    return src != NULL && *dst == NULL ? -ENOMEM : 0;
}

int
service_ingest_init(struct service_ingest *f, struct store *s, const struct config *cfg,
                 const struct config_feed *cf, const char *name, char *err, size_t errsize)
{
    memset(f, 0, sizeof(*f));
    const char *base = cf && strncmp(cf->url, "file:", 5) != 0 ? cf->url : NULL;
    int rc = 0;
    if (dup_opt(cf ? cf->name : name, &f->name) < 0 || dup_opt(base, &f->own.base_url) < 0 ||
        (cf != NULL && (dup_opt(cf->timezone, &f->own.timezone) < 0 ||
                        dup_opt(cf->charset, &f->own.charset) < 0 ||
                        dup_opt(cf->author, &f->own.author) < 0 ||
                        dup_opt(cf->headimg, &f->own.headimg) < 0)))
        goto nomem;
    if (cf != NULL && cf->ncategories > 0) {
        if ((f->own.categories = calloc(cf->ncategories + 1, sizeof(char *))) == NULL)
            goto nomem;
        for (; f->defaults.ncategories < cf->ncategories; f->defaults.ncategories++)
            if (dup_opt(cf->categories[f->defaults.ncategories],
                        &f->own.categories[f->defaults.ncategories]) < 0)
                goto nomem;
    }
    if (cf != NULL && cf->ntickers_add > 0) { /* SPEC §12 */
        if ((f->own.tickers_add = calloc(cf->ntickers_add + 1, sizeof(char *))) == NULL)
            goto nomem;
        for (; f->defaults.ntickers_add < cf->ntickers_add; f->defaults.ntickers_add++)
            if (dup_opt(cf->tickers_add[f->defaults.ntickers_add],
                        &f->own.tickers_add[f->defaults.ntickers_add]) < 0)
                goto nomem;
    }
    f->defaults.tickers_add = (const char *const *)f->own.tickers_add;
    f->defaults.no_tickers = cf != NULL && !cf->tickers;
    f->republish = cf ? cf->republish : 1;
    f->opts.base_url = f->own.base_url;
    f->opts.timezone = f->own.timezone;
    /* a configured charset overrides what the server says (SPEC §2) */
    f->opts.charset = f->own.charset;
    f->defaults.categories = (const char *const *)f->own.categories;
    f->defaults.author = f->own.author;
    f->defaults.headimg = f->own.headimg;
    f->defaults.comments = cf ? cf->comments : 0;
    f->defaults.source = f->name;
    struct parse_clean_opts co = {
        .remove = cf ? cf->remove : NULL,
        .remove_text = cf ? cf->remove_text : NULL,
        .iframe_hosts = cfg ? (const char *const *)cfg->output.iframe_hosts : NULL,
        .niframe_hosts = cfg ? cfg->output.niframe_hosts : 0,
    };
    char why[256];
    if ((rc = parse_cleaner_new(&co, &f->cleaner, why, sizeof(why))) < 0) {
        snprintf(err, errsize, "feed \"%s\": %s", f->name ? f->name : "", why);
        service_ingest_close(f);
        return rc;
    }
    f->defaults.cleaner = f->cleaner;
    if (s != NULL && (rc = store_feed_ensure(s, f->name, cf ? cf->url : NULL, &f->feed_id)) < 0) {
        snprintf(err, errsize, "feed \"%s\": %s", f->name ? f->name : "", store_errmsg(s));
        service_ingest_close(f);
        return rc;
    }
    return 0;
nomem:
    snprintf(err, errsize, "out of memory");
    service_ingest_close(f);
    return -ENOMEM;
}

void
service_ingest_close(struct service_ingest *f)
{
    free(f->hub);
    free(f->self);
    parse_cleaner_free(f->cleaner);
    free(f->name);
    free(f->own.base_url);
    free(f->own.timezone);
    free(f->own.charset);
    free(f->own.author);
    free(f->own.headimg);
    for (size_t i = 0; f->own.categories != NULL && i < f->defaults.ncategories; i++)
        free(f->own.categories[i]);
    free(f->own.categories);
    for (size_t i = 0; f->own.tickers_add != NULL && i < f->defaults.ntickers_add; i++)
        free(f->own.tickers_add[i]);
    free(f->own.tickers_add);
    service_tickers_unref(f->tickers);
    memset(f, 0, sizeof(*f));
}

/* Articles stored a batch at a time (store_add_many: their guids looked up
 * at once): at most this many held before they are stored. */
#define BATCH 32

/* Ticker t among the ones f's document touched, unless there already or
 * there is no room. */
static void
touch_ticker(struct service_ingest *f, const char *t)
{
    for (size_t i = 0; i < f->ntouched; i++)
        if (strcmp(f->touched[i], t) == 0)
            return;
    if (f->ntouched < f->touched_max && strlen(t) < PARSE_TICKER_LEN)
        strcpy(f->touched[f->ntouched++], t);
}

/* Store a[0..n) for f (keys[i]: a[i]'s keys made ahead, or keys NULL) and
 * count their outcomes into c (f->newest follows;
 * so do f->lags, of the new ones whose date believed[i] says is the
 * publisher's): 0 or store_add_many's failure. The articles stay the
 * caller's. */
static int
store_batch(struct store *s, struct service_ingest *f, struct parse_article *const *a,
            struct store_prekeys *const *keys, const unsigned char *believed, size_t n,
            int64_t now, struct store_counts *c)
{
    enum store_outcome out[BATCH];
    for (size_t at = 0; at < n; at += BATCH) {
        size_t m = n - at < BATCH ? n - at : BATCH;
        int rc = store_add_many(s, f->feed_id, (const struct parse_article *const *)a + at,
                                keys ? keys + at : NULL, m, f->republish, now, out);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < m; i++) {
            if (a[at + i]->date > f->newest)
                f->newest = a[at + i]->date;
            int64_t a_date = a[at + i]->date;
            if (out[i] != STORE_UNCHANGED)
                for (size_t t = 0; t < a[at + i]->ntickers; t++)
                    touch_ticker(f, a[at + i]->tickers[t]);
            switch (out[i]) {
            case STORE_NEW:
                c->new_++;
                if (believed[at + i] && f->nlags < f->lags_max)
                    f->lags[f->nlags++] = now > a_date ? now - a_date : 0;
                break;
            case STORE_UPDATED:
                c->updated++;
                break;
            case STORE_DUPLICATE:
                c->duplicates++;
                break;
            case STORE_UNCHANGED:
                c->unchanged++;
                break;
            }
        }
    }
    return 0;
}

/* The document's transaction, and the claim checked first (f->token): 0 or
 * a negative errno with the reason in err (then no transaction). */
static int
document_begin(struct store *s, const struct service_ingest *f, char *err, size_t errsize)
{
    int rc = store_begin(s);
    if (rc == 0 && f->token > 0 && (rc = store_fence(s, f->feed_id, f->token)) < 0)
        store_rollback(s);
    if (rc < 0)
        snprintf(err, errsize, "%s",
                 rc == -ESTALE ? "lease lost: another node holds this feed" : store_errmsg(s));
    return rc;
}

/* The document's end: committed when rc is 0, else rolled back with the
 * counts (and f's lags) cleared. rc, or the commit's failure (the reason in err). */
static int
document_end(struct store *s, struct service_ingest *f, int rc, struct store_counts *counts,
             char *err, size_t errsize)
{
    if (rc == 0 && (rc = store_commit(s)) < 0)
        snprintf(err, errsize, "%s", store_errmsg(s));
    if (rc < 0) {
        store_rollback(s);
        memset(counts, 0, sizeof(*counts));
        f->nlags = 0;
        f->ntouched = 0;
    }
    return rc;
}

struct run {
    struct store *s;          /* NULL: parse only (service_ingest_parse) */
    struct service_ingest *f;
    const struct parse_article_defaults *d;
    int64_t now;
    struct store_counts *c;
    int error;
    long ttl;
    struct parse_article **batch; /* owned, made and not stored yet */
    unsigned char *believed;      /* believed[i]: batch[i]'s date is the publisher's */
    const struct store_keymaker *keymaker; /* parsing only: keys made ahead with it … */
    struct store_prekeys **keys;           /* … keys[i] batch[i]'s (owned), or NULL */
    size_t n, cap;
};

/* Store the articles made so far and free them: 0 or store_add_many's
 * failure (in r->error too). */
static int
flush(struct run *r)
{
    int rc = store_batch(r->s, r->f, r->batch, NULL, r->believed, r->n, r->now, r->c);
    for (size_t i = 0; i < r->n; i++)
        parse_article_free(r->batch[i]);
    r->n = 0;
    if (rc < 0)
        r->error = rc;
    return rc;
}

static int
on_entry(void *arg, const struct parse_feed *feed, struct parse_entry *e)
{
    struct run *r = arg;
    struct parse_article *a;
    if (r->n == r->cap) {
        /* storing: a batch at a time; parsing only: every article */
        size_t cap = r->cap ? r->cap * 2 : BATCH;
        struct parse_article **b = realloc(r->batch, cap * sizeof(*b));
        if (b != NULL)
            r->batch = b;
        unsigned char *t = b ? realloc(r->believed, cap) : NULL;
        if (t != NULL)
            r->believed = t;
        struct store_prekeys **k = t && r->keymaker ? realloc(r->keys, cap * sizeof(*k)) : NULL;
        if (t == NULL || (r->keymaker != NULL && k == NULL)) {
            r->error = -ENOMEM;
            return 1;
        }
        if (k != NULL)
            r->keys = k;
        r->cap = cap;
    }
    int rc = parse_article_make(feed, e, r->d, &a);
    if (rc < 0) {
        r->error = rc;
        return 1;
    }
    /* its dedup keys, here rather than in the writer */
    if (r->keymaker != NULL && store_prekeys_make(r->keymaker, a, &r->keys[r->n]) < 0) {
        parse_article_free(a);
        r->error = -ENOMEM;
        return 1;
    }
    if (feed != NULL && feed->ttl > 0)
        r->ttl = feed->ttl;
    /* a publisher's date, believed (SPEC §3): an entry without one is
     * dated when first seen, no lag */
    r->believed[r->n] = !a->date_rejected &&
                        (e->published != PARSE_NO_DATE || e->updated != PARSE_NO_DATE);
    r->batch[r->n++] = a;
    return r->s != NULL && r->n == BATCH && flush(r) < 0;
}

/* Parse a document through r (on_entry): the parse's return. Its WebSub
 * links (SPEC §11) into *hub and *self (new strings, or NULL). */
static int
parse_run(struct run *r, const struct service_ingest *f, FILE *fp, const char *buf, size_t len,
          const char *charset, struct parse_report *report, char **hub, char **self)
{
    struct parse_opts opts = f->opts;
    struct parse_feed *pf = NULL;
    if (opts.charset == NULL)
        opts.charset = charset;
    int rc = fp != NULL ? parse_feed_file(fp, &opts, on_entry, r, &pf, report)
                        : parse_feed_mem(buf, len, &opts, on_entry, r, &pf, report);
    if (pf != NULL) { /* WebSub discovery (SPEC §11) */
        *hub = pf->hub, pf->hub = NULL;
        *self = pf->self, pf->self = NULL;
        parse_feed_free(pf);
    }
    return rc;
}

int
service_ingest_document(struct store *s, struct service_ingest *f, FILE *fp, const char *buf, size_t len,
                const char *charset, int64_t now, struct store_counts *counts,
                struct parse_report *report, char *err, size_t errsize)
{
    struct parse_article_defaults d = f->defaults;
    struct run r = {.s = s, .f = f, .d = &d, .now = now, .c = counts};
    memset(counts, 0, sizeof(*counts));
    d.now = now;
    f->newest = 0;
    f->ttl = 0;
    f->nlags = 0;
    f->ntouched = 0;
    free(f->hub);
    free(f->self);
    f->hub = f->self = NULL;
    int rc = document_begin(s, f, err, errsize);
    if (rc < 0)
        return rc;
    rc = parse_run(&r, f, fp, buf, len, charset, report, &f->hub, &f->self);
    if (r.error == 0 && rc >= 0)
        flush(&r);
    for (size_t i = 0; i < r.n; i++)
        parse_article_free(r.batch[i]);
    free(r.batch);
    free(r.believed);
    f->ttl = r.ttl;
    if (r.error < 0) {
        snprintf(err, errsize, "%s", r.error == -ENOMEM ? "out of memory" : store_errmsg(s));
        rc = r.error;
    } else if (rc < 0) {
        snprintf(err, errsize, "%s", report->message[0] ? report->message : strerror(-rc));
    } else {
        rc = 0;
    }
    return document_end(s, f, rc, counts, err, errsize);
}

int
service_ingest_parse(const struct service_ingest *f, FILE *fp, const char *buf, size_t len,
                     const char *charset, int64_t now, struct service_parsed *out)
{
    struct parse_article_defaults d = f->defaults;
    struct run r = {.d = &d, .now = now, .keymaker = f->keymaker};
    memset(out, 0, sizeof(*out));
    d.now = now;
    int rc = parse_run(&r, f, fp, buf, len, charset, &out->report, &out->hub, &out->self);
    out->a = r.batch;
    out->keys = r.keys;
    out->believed = r.believed;
    out->n = r.n;
    out->now = now;
    out->ttl = r.ttl;
    if (r.error < 0) {
        snprintf(out->err, sizeof(out->err), "%s",
                 r.error == -ENOMEM ? "out of memory" : strerror(-r.error));
        rc = r.error;
    } else if (rc < 0) {
        snprintf(out->err, sizeof(out->err), "%s",
                 out->report.message[0] ? out->report.message : strerror(-rc));
    }
    if (rc < 0)
        service_parsed_clear(out);
    return out->rc = rc < 0 ? rc : 0;
}

int
service_ingest_store(struct store *s, struct service_ingest *f, struct service_parsed *p,
                     struct store_counts *counts, char *err, size_t errsize)
{
    int rc;
    memset(counts, 0, sizeof(*counts));
    f->newest = 0;
    f->ttl = p->ttl;
    f->nlags = 0;
    f->ntouched = 0;
    if (p->rc < 0) {
        snprintf(err, errsize, "%s", p->err);
        rc = p->rc;
    } else if ((rc = document_begin(s, f, err, errsize)) == 0) {
        if ((rc = store_batch(s, f, p->a, p->keys, p->believed, p->n, p->now, counts)) < 0)
            snprintf(err, errsize, "%s", rc == -ENOMEM ? "out of memory" : store_errmsg(s));
        rc = document_end(s, f, rc, counts, err, errsize);
    }
    if (rc == -EDEADLK || rc == -EAGAIN)
        return rc; /* p kept whole: the caller may store it again */
    free(f->hub);
    free(f->self);
    f->hub = p->hub, p->hub = NULL;
    f->self = p->self, p->self = NULL;
    service_parsed_clear(p);
    return rc;
}

void
service_parsed_clear(struct service_parsed *p)
{
    for (size_t i = 0; i < p->n; i++) {
        parse_article_free(p->a[i]);
        if (p->keys != NULL)
            store_prekeys_free(p->keys[i]);
    }
    free(p->a);
    free(p->keys);
    free(p->believed);
    free(p->hub);
    free(p->self);
    p->a = NULL;
    p->keys = NULL;
    p->believed = NULL;
    p->hub = p->self = NULL;
    p->n = 0;
}
