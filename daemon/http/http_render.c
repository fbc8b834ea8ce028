/* daemon/http/http_render.c — the HTTP server's cacheable documents: the
 * merged and filtered feeds (Atom, RSS, JSON Feed through the emit writers)
 * and one article as a Markdown post, rendered from the reader store off
 * the loop thread with copies of what they need (struct http_render_in);
 * and the OPML 2.0 subscription list, from the service's snapshot on the
 * loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"
#include "daemon/http/http_int.h"
#include "daemon/service/service.h"
#include "store/store.h"

static const char *const format_ext[] = {".atom", ".rss", ".json"};

/* The absolute URL of this rendering: [output] link, then the route and
 * its normalized query, everything percent-encoded. */
static void
self_url(struct emit_buf *b, const struct http_render_in *r)
{
    const char *base = r->link;
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

/* The writer, and the entries it was given. */
struct feed_sink {
    struct emit_writer *w;
    long n;
};

static int
on_feed_article(void *arg, const struct store_article *a)
{
    struct feed_sink *k = arg;
    k->n++;
    return emit_writer_add(k->w, a);
}

/* A copy of s (NULL stays NULL); -ENOMEM sets *rc. */
static char *
copy(const char *s, int *rc)
{
    char *d = s != NULL ? strdup(s) : NULL;
    if (s != NULL && d == NULL)
        *rc = -ENOMEM;
    return d;
}

int
http_render_in_feed(struct http_render_in *in, const struct http_feed_req *r,
                    const struct service_snapshot *snap, struct store *st)
{
    int rc = 0;
    *in = (struct http_render_in){.store = st,
                                  .kind = r->kind,
                                  .format = r->format,
                                  .limit = r->limit,
                                  .limit_given = r->limit_given};
    in->feed = copy(r->feed, &rc);
    in->category = copy(r->category, &rc);
    in->text = copy(r->text, &rc);
    in->title = copy(snap->title, &rc);
    in->link = copy(snap->link, &rc);
    in->hub = copy(snap->hub, &rc);
    if (rc == 0 && snap->ntracking > 0 &&
        (in->tracking = calloc(snap->ntracking, sizeof(*in->tracking))) == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < snap->ntracking; i++, in->ntracking++)
        in->tracking[i] = copy(snap->tracking[i], &rc);
    if (rc < 0)
        http_render_in_free(in);
    return rc;
}

void
http_render_in_article(struct http_render_in *in, int64_t id, struct store *st)
{
    *in = (struct http_render_in){.store = st, .kind = 'a', .id = id};
}

void
http_render_in_free(struct http_render_in *in)
{
    free(in->feed);
    free(in->category);
    free(in->text);
    free(in->title);
    free(in->link);
    free(in->hub);
    for (size_t i = 0; i < in->ntracking; i++)
        free(in->tracking[i]);
    free(in->tracking);
    memset(in, 0, sizeof(*in));
}

/* The store's message for a failed render. */
static void
store_err(const struct http_render_in *in, char *err, size_t errsize)
{
    snprintf(err, errsize, "%s", store_errmsg(in->store));
}

void
http_render_out_free(struct http_render_out *out)
{
    free(out->doc);
    free(out->self);
    free(out->links);
    memset(out, 0, sizeof(*out));
}

/* The Link header of a feed (W3C WebSub §4, RFC 8288): its hub, when one
 * is advertised, and itself. */
static char *
links_of(const char *hub, const char *self)
{
    struct emit_buf b = {0};
    if (hub != NULL)
        emit_buf_printf(&b, "<%s>; rel=\"hub\", ", hub);
    emit_buf_printf(&b, "<%s>; rel=\"self\"", self);
    if (b.err) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* Every feed route renders here: the one place its WebSub discovery
 * (rel="hub", rel="self", in the document and its Link header) is made. */
static int
render_feed(const struct http_render_in *r, struct http_render_out *out, char *err, size_t errsize)
{
    struct emit_buf self = {0}, title = {0};
    struct feed_sink sink = {0};
    struct store_query q = {
        .feed = r->feed, .category = r->category, .text = r->text, .limit = r->limit};
    int rc;

    self_url(&self, r);
    emit_buf_adds(&title, r->title);
    if (r->kind == 's' || r->kind == 'c') {
        emit_buf_adds(&title, " \xE2\x80\x94 ");
        emit_buf_adds(&title, r->kind == 's' ? r->feed : r->category);
    }
    if (r->text != NULL) {
        emit_buf_adds(&title, " \xE2\x80\x94 search: ");
        emit_buf_adds(&title, r->text);
    }
    if (self.err || title.err || (out->links = links_of(r->hub, self.data)) == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    struct emit_feed_info info = {.title = title.data,
                                  .link = r->link,
                                  .self = self.data,
                                  .id = self.data,
                                  .hub = r->hub,
                                  .tracking = r->store};
    if ((rc = emit_writer_new(r->format, &info, &sink.w)) < 0)
        goto done;
    if ((rc = store_articles(r->store, &q, on_feed_article, &sink)) < 0) {
        if (rc == -EIO)
            store_err(r, err, errsize);
        if (rc != -EIO && rc != -EINVAL) /* -EINVAL: the query refused, the client's */
            rc = -ENOMEM;
        goto done;
    }
    if ((rc = emit_writer_finish(sink.w, &out->doc, &out->len)) < 0)
        goto done;
    out->type = emit_content_type(r->format);
    out->entries = sink.n;
    out->self = self.data;
    self.data = NULL; /* taken */
done:
    emit_writer_free(sink.w);
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

static int
render_article(const struct http_render_in *in, char **doc, size_t *len, const char **type,
               char *err, size_t errsize)
{
    struct markdown m = {0};
    struct store_query q = {.id = in->id, .limit = 1};
    char *data = NULL;
    size_t size = 0;
    int rc;

    if ((m.fp = open_memstream(&data, &size)) == NULL)
        return -ENOMEM;
    rc = store_articles(in->store, &q, on_markdown_article, &m);
    if (fclose(m.fp) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc == -EIO)
        store_err(in, err, errsize);
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

int
http_render(const struct http_render_in *in, struct http_render_out *out, char *err, size_t errsize)
{
    int rc;
    memset(out, 0, sizeof(*out));
    if (errsize > 0)
        err[0] = '\0';
    if (in->store == NULL) {
        snprintf(err, errsize, "no reader store");
        return -EIO;
    }
    if (in->kind != 'a') {
        /* a reload's tracking_params, applied here: this thread holds the
         * reader now (the loop never touches it) */
        rc = store_set_tracking_params(in->store, (const char *const *)in->tracking, in->ntracking);
        if (rc == 0)
            rc = render_feed(in, out, err, errsize);
    } else {
        rc = render_article(in, &out->doc, &out->len, &out->type, err, errsize);
    }
    if (rc < 0)
        http_render_out_free(out);
    return rc;
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
