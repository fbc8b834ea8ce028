/* daemon/http/http_render.c — the HTTP server's cacheable documents, rendered
 * from the reader store and the configuration: the merged and filtered
 * feeds (Atom, RSS, JSON Feed through the emit writers), one article as a
 * Markdown post, and the OPML 2.0 subscription list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"
#include "daemon/http/http_int.h"
#include "daemon/log/log.h"
#include "daemon/service/service.h"
#include "store/store.h"

static const char *const format_ext[] = {".atom", ".rss", ".json"};

/* The absolute URL of this rendering: [output] link, then the route and
 * its normalized query, everything percent-encoded. */
static void
self_url(struct emit_buf *b, const struct service_snapshot *snap, const struct http_feed_req *r)
{
    const char *base = snap->link;
    size_t n = strlen(base);
    char sep = '?';

    while (n > 0 && base[n - 1] == '/')
        n--;
    emit_buf_add(b, base, n);
    if (r->kind == 's') {
        emit_buf_adds(b, "/feeds/");
        emit_buf_pct(b, r->feed);
    } else if (r->kind == 'c') {
        emit_buf_adds(b, "/categories/");
        emit_buf_pct(b, r->category);
    } else {
        emit_buf_adds(b, "/feed");
    }
    emit_buf_adds(b, format_ext[r->format]);
    const char *names[] = {"feed", "category", "q"};
    const char *values[] = {r->kind == 's' ? NULL : r->feed, r->kind == 'c' ? NULL : r->category,
                            r->text};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] == NULL)
            continue;
        emit_buf_printf(b, "%c%s=", sep, names[i]);
        emit_buf_pct(b, values[i]);
        sep = '&';
    }
    if (r->limit_given)
        emit_buf_printf(b, "%climit=%ld", sep, r->limit);
}

static int
on_feed_article(void *arg, const struct store_article *a)
{
    return emit_writer_add(arg, a);
}

int
http_render_feed(struct http *h, void *arg, char **doc, size_t *len, const char **type)
{
    const struct http_feed_req *r = arg;
    const struct service_snapshot *snap = http_snapshot(h);
    struct store *rstore = service_store(h->svc);
    struct emit_buf self = {0}, title = {0};
    struct emit_writer *w = NULL;
    struct store_query q = {
        .feed = r->feed, .category = r->category, .text = r->text, .limit = r->limit};
    int rc;

    if (snap == NULL)
        return -ENOMEM;
    if (rstore == NULL)
        return -EIO;
    self_url(&self, snap, r);
    emit_buf_adds(&title, snap->title);
    if (r->kind == 's' || r->kind == 'c') {
        emit_buf_adds(&title, " \xE2\x80\x94 ");
        emit_buf_adds(&title, r->kind == 's' ? r->feed : r->category);
    }
    if (r->text != NULL) {
        emit_buf_adds(&title, " \xE2\x80\x94 search: ");
        emit_buf_adds(&title, r->text);
    }
    if (self.err || title.err) {
        rc = -ENOMEM;
        goto done;
    }
    struct emit_feed_info info = {
        .title = title.data, .link = snap->link, .self = self.data, .id = self.data,
        .tracking = rstore};
    if ((rc = emit_writer_new(r->format, &info, &w)) < 0)
        goto done;
    if ((rc = store_articles(rstore, &q, on_feed_article, w)) < 0) {
        if (rc == -EIO)
            log_warnx("event=http-render-failed error=%s", LOG_QUOTE(store_errmsg(rstore)));
        if (rc != -EIO && rc != -EINVAL) /* -EINVAL: the query refused, the client's */
            rc = -ENOMEM;
        goto done;
    }
    if ((rc = emit_writer_finish(w, doc, len)) < 0)
        goto done;
    *type = emit_content_type(r->format);
done:
    emit_writer_free(w);
    free(title.data);
    free(self.data);
    return rc;
}

struct markdown {
    FILE *fp;
    int found;
    int rc;
};

static int
on_markdown_article(void *arg, const struct store_article *a)
{
    struct markdown *m = arg;
    m->found = 1;
    if (emit_markdown_stored(m->fp, a) < 0) {
        m->rc = -ENOMEM; /* a memory stream fails only for want of memory */
        return 1;
    }
    return 0;
}

int
http_render_article(struct http *h, void *arg, char **doc, size_t *len, const char **type)
{
    struct markdown m = {0};
    struct store_query q = {.id = *(const int64_t *)arg, .limit = 1};
    struct store *rstore = service_store(h->svc);
    char *data = NULL;
    size_t size = 0;
    int rc;

    if (rstore == NULL)
        return -EIO;
    if ((m.fp = open_memstream(&data, &size)) == NULL)
        return -ENOMEM;
    rc = store_articles(rstore, &q, on_markdown_article, &m);
    if (fclose(m.fp) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc == -EIO)
        log_warnx("event=http-render-failed error=%s", LOG_QUOTE(store_errmsg(rstore)));
    if (rc == 1)
        rc = m.rc;
    else if (rc < 0 && rc != -EIO)
        rc = -ENOMEM;
    else if (rc == 0 && !m.found)
        rc = -ENOENT;
    if (rc < 0) {
        free(data);
        return rc;
    }
    *doc = data;
    *len = size;
    *type = "text/markdown; charset=utf-8";
    return 0;
}

/* OPML 2.0 (http://opml.org/spec2.opml): one outline per configured feed.
 * No dateCreated: the document must stay byte-identical while nothing in it
 * changes, or its ETag would. */
int
http_render_opml(struct http *h, void *arg, char **doc, size_t *len, const char **type)
{
    const struct service_snapshot *snap = http_snapshot(h);
    struct emit_opml_feed *l;
    size_t n = 0;
    (void)arg;
    if (snap == NULL || (l = calloc(snap->nfeeds + 1, sizeof(*l))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < snap->nfeeds; i++) {
        const struct service_feed *f = &snap->feeds[i];
        l[n].name = f->name;
        l[n].url = f->url; /* after a 301: the new one */
        l[n].categories = (const char *const *)f->categories;
        l[n].ncategories = f->ncategories;
        n++;
    }
    int rc = emit_opml(snap->title, l, n, doc, len);
    free(l);
    *type = "text/x-opml; charset=utf-8";
    return rc;
}
