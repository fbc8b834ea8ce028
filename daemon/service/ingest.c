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

struct run {
    struct store *s;
    struct service_ingest *f;
    int64_t now;
    struct store_counts *c;
    int error;
};

static int
on_entry(void *arg, const struct parse_feed *feed, struct parse_entry *e)
{
    struct run *r = arg;
    struct parse_article *a;
    enum store_outcome out;
    int rc = parse_article_make(feed, e, &r->f->defaults, &a);
    if (rc < 0) {
        r->error = rc;
        return 1;
    }
    rc = store_add(r->s, r->f->feed_id, a, r->f->republish, r->now, &out);
    int64_t a_date = a->date;
    if (feed != NULL && feed->ttl > 0)
        r->f->ttl = feed->ttl;
    parse_article_free(a);
    if (rc < 0) {
        r->error = rc;
        return 1;
    }
    if (a_date > r->f->newest)
        r->f->newest = a_date;
    switch (out) {
    case STORE_NEW:
        r->c->new_++;
        break;
    case STORE_UPDATED:
        r->c->updated++;
        break;
    case STORE_DUPLICATE:
        r->c->duplicates++;
        break;
    case STORE_UNCHANGED:
        r->c->unchanged++;
        break;
    }
    return 0;
}

int
service_ingest_document(struct store *s, struct service_ingest *f, FILE *fp, const char *buf, size_t len,
                const char *charset, int64_t now, struct store_counts *counts,
                struct parse_report *report, char *err, size_t errsize)
{
    struct run r = {.s = s, .f = f, .now = now, .c = counts};
    struct parse_opts opts = f->opts;
    memset(counts, 0, sizeof(*counts));
    f->defaults.now = now;
    f->newest = 0;
    f->ttl = 0;
    free(f->hub);
    free(f->self);
    f->hub = f->self = NULL;
    struct parse_feed *pf = NULL;
    if (opts.charset == NULL)
        opts.charset = charset;
    int rc = store_begin(s);
    if (rc == 0 && f->token > 0 && (rc = store_fence(s, f->feed_id, f->token)) < 0)
        store_rollback(s);
    if (rc < 0) {
        snprintf(err, errsize, "%s",
                 rc == -ESTALE ? "lease lost: another node holds this feed" : store_errmsg(s));
        return rc;
    }
    rc = fp != NULL ? parse_feed_file(fp, &opts, on_entry, &r, &pf, report)
                    : parse_feed_mem(buf, len, &opts, on_entry, &r, &pf, report);
    if (pf != NULL) { /* WebSub discovery (SPEC §11) */
        f->hub = pf->hub, pf->hub = NULL;
        f->self = pf->self, pf->self = NULL;
        parse_feed_free(pf);
    }
    if (r.error < 0) {
        store_rollback(s);
        snprintf(err, errsize, "%s", r.error == -ENOMEM ? "out of memory" : store_errmsg(s));
        memset(counts, 0, sizeof(*counts));
        return r.error;
    }
    if (rc < 0) {
        store_rollback(s);
        snprintf(err, errsize, "%s", report->message[0] ? report->message : strerror(-rc));
        memset(counts, 0, sizeof(*counts));
        return rc;
    }
    if ((rc = store_commit(s)) < 0) {
        snprintf(err, errsize, "%s", store_errmsg(s));
        store_rollback(s);
        memset(counts, 0, sizeof(*counts));
        return rc;
    }
    return 0;
}
