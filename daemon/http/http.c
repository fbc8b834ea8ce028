/* daemon/http/http.c — the HTTP output server (SPEC §5.1): libmicrohttpd in
 * external-loop epoll mode, the route table, client mistakes answered with
 * their reason, conditional requests and content coding, and the copy of the
 * service's state the pages read. Connections and the loop glue live in
 * http_conn.c, renderings and their cache in http_cache.c and http_render.c,
 * renders off the loop in http_work.c, the pages in http_pages.c. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "daemon/http/http.h"
#include "daemon/http/http_int.h"
#include "daemon/log/log.h"
#include "daemon/service/service.h"
#include "daemon/websub/websub.h"

#define CONNECTION_TIMEOUT 30u /* seconds a connection may stay idle */
#define CONNECTION_LIMIT 256u  /* so that slow clients cannot take every fd */
#define HEADER_TIMEOUT_MS 10000u /* request line and headers within */

#define STR(x) #x
#define XSTR(x) STR(x)

static const char text_plain[] = "text/plain; charset=utf-8";

/* ---- the service's state ---- */

/* The service changed: copy its state again when next needed; a reload also
 * makes every rendering stale (titles, links, feeds of a category). */
static void
on_service_event(void *arg, enum service_event ev)
{
    struct http *h = arg;
    h->snap_fresh = 0;
    if (ev == SERVICE_RELOADED) {
        h->epoch++; /* renders asked for before are of the old configuration */
        http_cache_clear(h);
    }
}

const struct service_snapshot *
http_snapshot(struct http *h)
{
    struct service_snapshot snap;
    if (!h->snap_fresh) {
        if (service_snapshot(h->svc, NULL, &snap) < 0)
            return h->snap.title != NULL ? &h->snap : NULL; /* an older copy beats none */
        service_snapshot_free(&h->snap);
        h->snap = snap;
        h->snap_fresh = 1;
    }
    return &h->snap;
}

void
http_free(struct http *h)
{
    /* Connections are gone with the MHD daemon, and no render is in flight
     * (http_work.c waits for it); drop our references. */
    http_cache_clear(h);
    service_snapshot_free(&h->snap);
    struct MHD_Response *shared[] = {h->r400, h->r401, h->r404,    h->r405,
                                     h->r500, h->r503, h->r503busy};
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        if (shared[i] != NULL)
            MHD_destroy_response(shared[i]);
    void (*done)(void *) = h->done;
    void *arg = h->done_arg;
    free(h);
    if (done != NULL)
        done(arg);
}

/* Stop watching the service, then close the listening socket, MHD and the
 * handles; the struct goes in the last close callback. */
static void
teardown(struct http *h)
{
    if (h->watching) {
        service_unwatch(h->svc, on_service_event, h);
        service_hub_renderer(h->svc, NULL, NULL); /* its renders are answered at the stop */
    }
    h->watching = 0;
    http_conn_stop(h);
}

/* ---- responses ---- */

static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
    return r != NULL ? MHD_queue_response(c, status, r) : MHD_NO; /* NO: drop the connection */
}

/* A response owning `doc` (malloc'd, taken whatever happens). */
static struct MHD_Response *
response_take(char *doc, size_t len, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, doc, free);
    if (r == NULL) {
        free(doc);
        return NULL;
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* A short text answer shared by every request that gets it. */
static struct MHD_Response *
response_static(const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return NULL;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, text_plain) != MHD_YES ||
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* A 500 is the server's fault: always logged, with the route and the
 * error (a negative errno). */
static enum MHD_Result
answer_500(struct http *h, struct MHD_Connection *c, int rc)
{
    char q[512];
    if (h->topic != NULL) { /* a hub topic, no connection */
        h->topic->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        snprintf(h->topic->why, sizeof(h->topic->why), "%s", strerror(-rc));
        return MHD_YES;
    }
    log_warnx("event=http-error status=500 route=%s%s%s error=\"%s\"",
              log_q(h->route_url != NULL ? h->route_url : "-", q, sizeof(q)),
              h->reader[0] != '\0' ? " reader=" : "", h->reader, strerror(-rc));
    return queue(c, MHD_HTTP_INTERNAL_SERVER_ERROR, h->r500);
}

/* A client's mistake: `status` (4xx) with "bad request: REASON" (or "not
 * found: …") as its text, so the client learns what to change. */
static enum MHD_Result
answer_reason(struct http *h, struct MHD_Connection *c, unsigned status, const char *reason)
{
    struct emit_buf b = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (h->topic != NULL) { /* a hub topic, no connection */
        h->topic->status = (int)status;
        snprintf(h->topic->why, sizeof(h->topic->why), "%s", reason);
        return MHD_YES;
    }
    emit_buf_printf(&b, "%s: %s\n", status == MHD_HTTP_NOT_FOUND ? "not found" : "bad request",
                    reason);
    if (b.err || (r = response_take(b.data, b.len, text_plain)) == NULL) {
        if (!b.err)
            b.data = NULL; /* taken */
        free(b.data);
        return queue(c, status, status == MHD_HTTP_NOT_FOUND ? h->r404 : h->r400);
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* 401 (RFC 9110 §15.5.2) with the challenge every feed reader answers
 * (RFC 7617) and the reason as text. */
static enum MHD_Result
answer_401(struct http *h, struct MHD_Connection *c, const char *why)
{
    struct emit_buf b = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;

    emit_buf_printf(&b, "unauthorized: %s\n", why);
    if (b.err || (r = response_take(b.data, b.len, text_plain)) == NULL) {
        if (!b.err)
            b.data = NULL; /* taken */
        free(b.data);
        return queue(c, MHD_HTTP_UNAUTHORIZED, h->r401);
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"finfeed\"") !=
        MHD_YES) {
        MHD_destroy_response(r);
        return queue(c, MHD_HTTP_UNAUTHORIZED, h->r401);
    }
    ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
    MHD_destroy_response(r);
    return ret;
}

/* Send a freshly built buffer (uncached pages); frees it. */
static enum MHD_Result
queue_buf(struct http *h, struct MHD_Connection *c, unsigned status, struct emit_buf *b,
          const char *type, int page)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (b->err) {
        free(b->data);
        return answer_500(h, c, b->err);
    }
    if ((r = response_take(b->data, b->len, type)) == NULL)
        return answer_500(h, c, -ENOMEM);
    /* The status page shows publisher-controlled text (errors): no script
     * may run, and links to the publishers carry no referrer. */
    if (page &&
        (MHD_add_response_header(r, "Referrer-Policy", "no-referrer") != MHD_YES ||
         MHD_add_response_header(r, "Content-Security-Policy",
                                 "default-src 'none'; style-src 'unsafe-inline'") != MHD_YES)) {
        MHD_destroy_response(r);
        return answer_500(h, c, -ENOMEM);
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- conditional requests and content coding ---- */

/* Whether Accept-Encoding (RFC 9110 §12.5.3) admits gzip: listed (or x-gzip,
 * or "*" when gzip is not named) with a q-value other than 0. */
static int
accepts_gzip(const char *ae)
{
    int star = 0;
    const char *p = ae;

    while (p != NULL && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",; \t");
        const char *tok = p;
        int zero = 0;
        p += n;
        /* parameters up to the next element: only q matters */
        while (*p && *p != ',') {
            if ((*p == 'q' || *p == 'Q') && p[1] == '=') {
                const char *v = p + 2;
                /* "0", "0.", "0.0", "0.00", "0.000" */
                zero =
                    v[0] == '0' && (v[1] == '\0' || strchr(",; \t", v[1]) != NULL ||
                                    (v[1] == '.' && strspn(v + 2, "0") == strcspn(v + 2, ",; \t")));
                p = v;
                continue;
            }
            p++;
        }
        if ((n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
            return !zero;
        if (n == 1 && *tok == '*')
            star = !zero;
    }
    return star;
}

/* Whether If-None-Match (RFC 9110 §13.1.2, weak comparison) matches e. */
static int
etag_matches(const char *inm, const struct http_entry *e)
{
    const char *p = inm;

    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"') {
            p += strcspn(p, ",");
            continue;
        }
        const char *end = strchr(p + 1, '"');
        if (end == NULL)
            return 0;
        size_t n = (size_t)(end - p) + 1;
        if ((n == strlen(e->etag) && memcmp(p, e->etag, n) == 0) ||
            (n == strlen(e->etag_gz) && memcmp(p, e->etag_gz, n) == 0))
            return 1;
        p = end + 1;
    }
    return 0;
}

/* 304 or 200 from a cached rendering. */
static enum MHD_Result
answer_entry(struct http *h, struct MHD_Connection *c, struct http_entry *e)
{
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since");
    int gz = 0, fresh = 0;

    if (ae != NULL && accepts_gzip(ae)) {
        http_entry_gzip(e);
        gz = e->resp[1] != NULL;
    }
    /* §13.2.2: If-Modified-Since only counts when If-None-Match is absent. */
    if (inm != NULL) {
        fresh = etag_matches(inm, e);
    } else if (ims != NULL) {
        time_t t = curl_getdate(ims, NULL);
        fresh = t != (time_t)-1 && e->modified <= t;
    }
    if (fresh) {
        struct MHD_Response *r = http_entry_304(e, gz);
        return r != NULL ? queue(c, MHD_HTTP_NOT_MODIFIED, r) : answer_500(h, c, -ENOMEM);
    }
    return queue(c, MHD_HTTP_OK, e->resp[gz]);
}

enum MHD_Result
http_answer(struct http *h, struct MHD_Connection *c, int rc, struct http_entry *e)
{
    if (rc == 0 && e != NULL)
        return answer_entry(h, c, e);
    if (rc == -ENOENT)
        return queue(c, MHD_HTTP_NOT_FOUND, h->r404);
    if (rc == -EIO)
        return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, h->r503);
    if (rc == -EAGAIN || rc == -ESHUTDOWN)
        return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, h->r503busy);
    if (rc == -EINVAL) /* the store refused the query (checked before: a backstop) */
        return answer_reason(h, c, MHD_HTTP_BAD_REQUEST, "the query was refused");
    return answer_500(h, c, rc < 0 ? rc : -EIO);
}

/* A document rendered on the loop from the snapshot (no store query). */
static enum MHD_Result
answer_cached(struct http *h, struct MHD_Connection *c, const char *key, size_t keylen,
              http_render_fn render, void *arg)
{
    struct http_entry *e;
    int rc = http_cache_get(h, key, keylen, render, arg, &e);
    return http_answer(h, c, rc, e);
}

/* A document read from the store: from the cache while fresh, or while
 * renders of it fail (for HTTP_RETRY_MS after each); else rendered off the
 * loop, the connection suspended meanwhile (in taken whatever happens). */
static enum MHD_Result
answer_offloop(struct http *h, struct MHD_Connection *c, const char *key, size_t keylen,
               struct http_render_in *in)
{
    struct http_entry *e = http_cache_find(h, key, keylen);
    int rc;

    if (e != NULL && (http_entry_fresh(h, e) || uv_now(h->loop) < e->retry_at)) {
        http_render_in_free(in);
        http_entry_touch(h, e);
        return answer_entry(h, c, e);
    }
    if ((rc = http_work_add(h, c, h->route_cls, h->route_url, key, keylen, in)) == 0)
        return MHD_YES; /* answered when the render ends */
    if (e != NULL) { /* no render now: stale beats nothing */
        http_entry_touch(h, e);
        return answer_entry(h, c, e);
    }
    return http_answer(h, c, rc, NULL);
}

/* ---- routes ---- */

/* ?limit=: digits only, at least 1; larger than the cap means the cap. */
static int
parse_limit(const char *s, long dflt, long *out)
{
    if (s == NULL || *s == '\0') {
        *out = dflt < HTTP_LIMIT_MAX ? dflt : HTTP_LIMIT_MAX;
        return 0;
    }
    if (strspn(s, "0123456789") != strlen(s))
        return -EINVAL;
    while (*s == '0' && s[1] != '\0')
        s++;
    long v = strlen(s) > 9 ? HTTP_LIMIT_MAX : strtol(s, NULL, 10);
    if (v < 1)
        return -EINVAL;
    *out = v < HTTP_LIMIT_MAX ? v : HTTP_LIMIT_MAX;
    return 0;
}

/* The words of a search text as store_articles() splits them: at white
 * space, ASCII or U+3000 IDEOGRAPHIC SPACE. */
static size_t
count_words(const char *s)
{
    size_t n = 0;
    int in = 0;
    while (*s) {
        size_t sp = strspn(s, " \t\r\n");
        if (sp == 0 && strncmp(s, "\xe3\x80\x80", 3) == 0)
            sp = 3;
        if (sp > 0) {
            in = 0;
            s += sp;
            continue;
        }
        if (!in)
            n++;
        in = 1;
        s++;
    }
    return n;
}

/* A query parameter of the request (or of the hub topic being resolved:
 * decoded as libmicrohttpd decodes a request's, and kept until the topic is
 * cleared), NULL when absent or empty. */
static const char *
arg_value(struct http *h, struct MHD_Connection *c, const char *name)
{
    const char *v;
    if (h->topic != NULL) {
        struct http_topic *t = h->topic;
        char *d = NULL;
        if (t->query == NULL || websub_form_get(t->query, strlen(t->query), name, &d) != 1)
            return NULL;
        for (size_t i = 0; i < sizeof(t->args) / sizeof(t->args[0]); i++)
            if (t->args[i] == NULL) {
                t->args[i] = d; /* freed with the topic */
                return *d != '\0' ? d : NULL;
            }
        free(d);
        return NULL;
    }
    v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* The normalized query as a cache key: kind, format, then each filter. */
static void
feed_key(struct emit_buf *b, const struct http_feed_req *r)
{
    emit_buf_printf(b, "%c%d", r->kind, (int)r->format);
    const char *parts[] = {r->feed, r->category, r->text, r->ticker,
                           r->watch != NULL ? r->watch->name : NULL};
    /* each filter with its length: a filter holding 0x1f itself (a client
     * may send %1F) cannot make two requests share a key */
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (parts[i] == NULL) {
            emit_buf_adds(b, "\x1f-");
            continue;
        }
        emit_buf_printf(b, "\x1f%zu:", strlen(parts[i]));
        emit_buf_adds(b, parts[i]);
    }
    /* ?ticker=: canonical and sorted, so that A,B and B&A share a rendering */
    for (size_t i = 0; i < r->ntickers; i++)
        emit_buf_printf(b, "\x1ft%s", r->tickers[i]);
    emit_buf_printf(b, "\x1f%ld\x1f%d", r->limit, r->limit_given);
}

/* ---- instruments (SPEC §12) ---- */

/* What ?ticker= gathers: every value (a repeated argument, a comma list),
 * canonical, sorted, each once; the first mistake in `why`. */
struct ticker_args {
    struct http_feed_req *r;
    char why[160];
};

static int
cmp_ticker(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* One ticker of ?ticker= into the request: 0, or -EINVAL with the reason. */
static int
ticker_arg(struct ticker_args *t, const char *one)
{
    struct http_feed_req *r = t->r;
    char canon[PARSE_TICKER_LEN];
    const char *reason = NULL;
    if (parse_ticker_syntax(one, canon, sizeof(canon), &reason) < 0) {
        snprintf(t->why, sizeof(t->why), "ticker: '%.40s': %s", one, reason);
        return -EINVAL;
    }
    for (size_t i = 0; i < r->ntickers; i++)
        if (strcmp(r->tickers[i], canon) == 0)
            return 0;
    if (r->ntickers == HTTP_TICKERS_MAX) {
        snprintf(t->why, sizeof(t->why), "ticker: at most %d", HTTP_TICKERS_MAX);
        return -EINVAL;
    }
    memcpy(r->tickers[r->ntickers++], canon, sizeof(canon));
    return 0;
}

static enum MHD_Result
on_mhd_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct ticker_args *t = cls;
    (void)kind;
    if (strcmp(key, "ticker") != 0 || value == NULL || t->why[0] != '\0')
        return MHD_YES;
    for (const char *p = value; *p != '\0';) { /* "A,B": each */
        size_t n = strcspn(p, ",");
        char one[64];
        if (n > 0) {
            snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) - 1 ? n : sizeof(one) - 1), p);
            if (n >= sizeof(one) || ticker_arg(t, one) < 0) {
                if (t->why[0] == '\0')
                    snprintf(t->why, sizeof(t->why), "ticker: '%.40s…': too long", p);
                return MHD_NO;
            }
        }
        p += n + (p[n] == ',');
    }
    return MHD_YES;
}

/* ?ticker= into r: 0, or -EINVAL with the reason in why (static-sized). */
static int
ticker_args(struct MHD_Connection *c, struct http_feed_req *r, char *why, size_t whysize)
{
    struct ticker_args t = {.r = r};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_mhd_arg, &t);
    if (t.why[0] != '\0') {
        snprintf(why, whysize, "%s", t.why);
        return -EINVAL;
    }
    qsort(r->tickers, r->ntickers, sizeof(r->tickers[0]), cmp_ticker);
    return 0;
}

/* The snapshot's watchlist called name, or NULL. */
static const struct service_watchlist *
watchlist_known(const struct service_snapshot *snap, const char *name)
{
    for (size_t i = 0; i < snap->nwatchlists; i++)
        if (strcmp(snap->watchlists[i].name, name) == 0)
            return &snap->watchlists[i];
    return NULL;
}

/* Whether the service has a feed called name. */
static int
feed_known(const struct service_snapshot *snap, const char *name)
{
    for (size_t i = 0; i < snap->nfeeds; i++)
        if (strcmp(snap->feeds[i].name, name) == 0)
            return 1;
    return 0;
}

/* /feed.EXT, /feeds/NAME.EXT, /categories/CAT.EXT; `name` is the part
 * before the extension (NULL for the merged feed). */
static enum MHD_Result
route_feed(struct http *h, struct MHD_Connection *c, char kind, const char *name, int format)
{
    struct http_feed_req r = {.format = (enum emit_format)format, .kind = kind};
    const struct service_snapshot *snap = http_snapshot(h);
    struct emit_buf key = {0};
    enum MHD_Result ret;
    char why[200], route_ticker[PARSE_TICKER_LEN];
    const char *reason = NULL;

    if (snap == NULL)
        return answer_500(h, c, -ENOMEM);
    if (ticker_args(c, &r, why, sizeof(why)) < 0)
        return answer_reason(h, c, MHD_HTTP_BAD_REQUEST, why);
    if (kind == 't') {
        if (parse_ticker_syntax(name, route_ticker, sizeof(route_ticker), &reason) < 0) {
            snprintf(why, sizeof(why), "'%.40s' is no ticker: %s", name, reason);
            return answer_reason(h, c, MHD_HTTP_BAD_REQUEST, why);
        }
        r.ticker = route_ticker;
    } else if (kind == 'w' && (r.watch = watchlist_known(snap, name)) == NULL) {
        return answer_reason(h, c, MHD_HTTP_NOT_FOUND, "no watchlist of that name");
    }

    r.feed = arg_value(h, c, "feed");
    r.category = arg_value(h, c, "category");
    r.text = arg_value(h, c, "q");
    const char *limit = arg_value(h, c, "limit");
    r.limit_given = limit != NULL;
    if (parse_limit(limit, snap->max_entries, &r.limit) < 0)
        return answer_reason(h, c, MHD_HTTP_BAD_REQUEST,
                             "limit: a whole number from 1 (at most " XSTR(HTTP_LIMIT_MAX)
                             " entries are sent)");
    if (r.text != NULL && count_words(r.text) > HTTP_Q_WORDS_MAX)
        return answer_reason(h, c, MHD_HTTP_BAD_REQUEST,
                             "q: at most " XSTR(HTTP_Q_WORDS_MAX) " words");
    if (kind == 's') {
        if (!feed_known(snap, name))
            return answer_reason(h, c, MHD_HTTP_NOT_FOUND, "no feed of that name");
        r.feed = name;
    } else if (kind == 'c') {
        r.category = name;
    }
    feed_key(&key, &r);
    if (key.err)
        return answer_500(h, c, key.err);
    struct http_render_in in;
    if (http_render_in_feed(&in, &r, snap, service_store(h->svc)) < 0) {
        ret = answer_500(h, c, -ENOMEM);
    } else if (h->topic != NULL) { /* a hub topic: what to render, not an answer */
        if ((h->topic->in = malloc(sizeof(in))) == NULL) {
            http_render_in_free(&in);
            ret = answer_500(h, c, -ENOMEM);
        } else {
            *h->topic->in = in;
            h->topic->key = key.data;
            h->topic->keylen = key.len;
            key.data = NULL; /* taken */
            ret = MHD_YES;
        }
    } else {
        ret = answer_offloop(h, c, key.data, key.len, &in);
    }
    free(key.data);
    return ret;
}

static enum MHD_Result
route_article(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    char key[32];
    int64_t id = 0;

    (void)format;
    /* a row id: 1 to 18 digits, no sign, no leading zero */
    if (*name < '1' || *name > '9' || strlen(name) > 18 ||
        strspn(name, "0123456789") != strlen(name))
        return queue(c, MHD_HTTP_NOT_FOUND, h->r404);
    id = strtoll(name, NULL, 10);
    int n = snprintf(key, sizeof(key), "a%lld", (long long)id);
    struct http_render_in in;
    http_render_in_article(&in, id, service_store(h->svc));
    return answer_offloop(h, c, key, (size_t)n, &in);
}

/* Whether the decoded path has a ".." segment. */
static int
dot_dot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

static enum MHD_Result
route_merged(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    return route_feed(h, c, 'm', name, format);
}

static enum MHD_Result
route_one_feed(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    return route_feed(h, c, 's', name, format);
}

static enum MHD_Result
route_category(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    return route_feed(h, c, 'c', name, format);
}

static enum MHD_Result
route_ticker(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    return route_feed(h, c, 't', name, format);
}

static enum MHD_Result
route_watchlist(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    return route_feed(h, c, 'w', name, format);
}

static enum MHD_Result
route_opml(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    (void)name, (void)format;
    return answer_cached(h, c, "o", 1, http_render_opml, NULL);
}

static enum MHD_Result
route_status(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    struct emit_buf b = {0};
    (void)name, (void)format;
    if (http_page_status(h, &b) < 0)
        b.err = -ENOMEM;
    return queue_buf(h, c, MHD_HTTP_OK, &b, "text/html; charset=utf-8", 1);
}

static enum MHD_Result
route_healthz(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    struct emit_buf b = {0};
    (void)name, (void)format;
    int status = http_page_healthz(h, &b);
    return queue_buf(h, c, (unsigned)status, &b, text_plain, 0);
}

static enum MHD_Result
route_metrics(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    struct emit_buf b = {0};
    (void)name, (void)format;
    if (http_page_metrics(h, &b) < 0)
        b.err = -ENOMEM;
    return queue_buf(h, c, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8", 0);
}

/* How the rest of a path after a route's prefix must look. */
enum route_shape {
    ROUTE_EXACT,       /* nothing: the path is the prefix */
    ROUTE_FORMAT,      /* a feed format's extension: "atom" */
    ROUTE_NAME_FORMAT, /* NAME "." and a feed format's extension: "sina.atom" */
    ROUTE_NAME_SUFFIX, /* NAME and the route's suffix: "42.md" */
};

/* A route's handler: NAME (NULL when the shape has none) and the feed
 * format (-1 when the shape has none). */
typedef enum MHD_Result (*route_fn)(struct http *h, struct MHD_Connection *c, const char *name,
                                    int format);

/* SPEC §5.1, for GET and HEAD (anything else is 405 before routing). The
 * first row that fits answers; the rest of the path is NAME and format. A
 * row of a feed's shape (ROUTE_FORMAT, ROUTE_NAME_FORMAT) is a feed route:
 * its handler goes through route_feed, which is also how a hub topic
 * resolves (without a connection: http_topic_resolve), and where every
 * feed gets its WebSub discovery (http_render.c). */
static const struct route {
    const char *prefix;
    enum route_shape shape;
    const char *suffix; /* ROUTE_NAME_SUFFIX only */
    route_fn fn;
} routes[] = {
    {"/", ROUTE_EXACT, NULL, route_status},
    {"/healthz", ROUTE_EXACT, NULL, route_healthz},
    {"/metrics", ROUTE_EXACT, NULL, route_metrics},
    {"/opml", ROUTE_EXACT, NULL, route_opml},
    {"/feed.", ROUTE_FORMAT, NULL, route_merged},
    {"/feeds/", ROUTE_NAME_FORMAT, NULL, route_one_feed},
    {"/categories/", ROUTE_NAME_FORMAT, NULL, route_category},
    {"/tickers/", ROUTE_NAME_FORMAT, NULL, route_ticker},
    {"/watchlists/", ROUTE_NAME_FORMAT, NULL, route_watchlist},
    {"/articles/", ROUTE_NAME_SUFFIX, ".md", route_article},
};

/* Whether `rest` fits rt's shape: *name (a copy the caller frees, or NULL
 * for shapes without one) and *format set. Returns 1 fits, 0 does not,
 * -ENOMEM. */
static int
route_match(const struct route *rt, const char *rest, char **name, int *format)
{
    const char *end = rest + strlen(rest), *dot;
    *name = NULL;
    *format = -1;
    switch (rt->shape) {
    case ROUTE_EXACT:
        return *rest == '\0';
    case ROUTE_FORMAT:
        return (*format = emit_format_of(rest)) >= 0;
    case ROUTE_NAME_FORMAT:
        if ((dot = strrchr(rest, '.')) == NULL || dot == rest ||
            (*format = emit_format_of(dot + 1)) < 0)
            return 0;
        end = dot;
        break;
    case ROUTE_NAME_SUFFIX: {
        size_t n = strlen(rt->suffix);
        if ((size_t)(end - rest) <= n || strcmp(end - n, rt->suffix) != 0)
            return 0;
        end -= n;
        break;
    }
    }
    return (*name = strndup(rest, (size_t)(end - rest))) != NULL ? 1 : -ENOMEM;
}

static enum MHD_Result
route(struct http *h, struct MHD_Connection *c, const char *url)
{
    int format_missed = 0;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        size_t n = strlen(rt->prefix);
        char *name;
        int format, m;
        if (strncmp(url, rt->prefix, n) != 0)
            continue;
        if ((m = route_match(rt, url + n, &name, &format)) == 0) {
            format_missed |= rt->shape == ROUTE_FORMAT || rt->shape == ROUTE_NAME_FORMAT;
            continue;
        }
        if (m < 0)
            return answer_500(h, c, m);
        enum MHD_Result ret = rt->fn(h, c, name, format);
        free(name);
        return ret;
    }
    if (format_missed)
        return answer_reason(h, c, MHD_HTTP_NOT_FOUND,
                             "a feed is served as .atom, .rss or .json (atom, rss or json)");
    return queue(c, MHD_HTTP_NOT_FOUND, h->r404);
}

/* ---- hub topics (SPEC §11): a feed route, without a connection ---- */

static int pct_ok(const char *s);

void
http_topic_clear(struct http_topic *t)
{
    free(t->key);
    if (t->in != NULL)
        http_render_in_free(t->in);
    free(t->in);
    for (size_t i = 0; i < sizeof(t->args) / sizeof(t->args[0]); i++)
        free(t->args[i]);
    memset(t, 0, sizeof(*t));
}

static void
topic_refuse(struct http_topic *t, int status, const char *why)
{
    t->status = status;
    snprintf(t->why, sizeof(t->why), "%s", why);
}

/* A topic's path (from its first '/', query and all) through the feed
 * routes, as on_mhd_request would route a GET of it. */
static int
topic_route(struct http *h, const char *path, struct http_topic *t)
{
    size_t plen = strcspn(path, "?#");
    char *p;
    int matched = 0, rc = 0;

    memset(t, 0, sizeof(*t));
    if (strchr(path, '#') != NULL) {
        topic_refuse(t, MHD_HTTP_BAD_REQUEST, "a feed's URL has no fragment");
        return 0;
    }
    if (plen > HTTP_PATH_MAX || strlen(path) > HTTP_URI_MAX) {
        topic_refuse(t, MHD_HTTP_BAD_REQUEST, "longer than a request target may be");
        return 0;
    }
    if (strstr(path, "%00") != NULL || !pct_ok(path)) {
        topic_refuse(t, MHD_HTTP_BAD_REQUEST, "bad percent-encoding ('%' and two hex digits)");
        return 0;
    }
    if ((p = strndup(path, plen)) == NULL)
        return -ENOMEM;
    MHD_http_unescape(p); /* the path as MHD decodes a request's */
    t->query = path[plen] == '?' ? path + plen + 1 : NULL;
    if (p[0] != '/' || dot_dot(p)) {
        topic_refuse(t, MHD_HTTP_BAD_REQUEST, "a '..' segment");
        free(p);
        return 0;
    }
    h->topic = t;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !matched && rc == 0; i++) {
        const struct route *rt = &routes[i];
        size_t n = strlen(rt->prefix);
        char *name;
        int format;
        if ((rt->shape != ROUTE_FORMAT && rt->shape != ROUTE_NAME_FORMAT) ||
            strncmp(p, rt->prefix, n) != 0)
            continue;
        if ((rc = route_match(rt, p + n, &name, &format)) <= 0)
            continue;
        rc = 0;
        matched = 1;
        (void)rt->fn(h, NULL, name, format);
        free(name);
    }
    h->topic = NULL;
    free(p);
    if (rc < 0) {
        http_topic_clear(t);
        return rc;
    }
    if (!matched)
        topic_refuse(t, MHD_HTTP_NOT_FOUND,
                     "not one of this hub's feeds (/feed.atom, /feeds/NAME.rss, … under "
                     "[output] link)");
    else if (t->status == 0 && t->in == NULL)
        topic_refuse(t, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return 0;
}

int
http_topic_resolve(struct http *h, const char *topic, struct http_topic *t)
{
    const struct service_snapshot *snap = http_snapshot(h);
    memset(t, 0, sizeof(*t));
    if (snap == NULL)
        return -ENOMEM;
    size_t n = strlen(snap->link);
    while (n > 0 && snap->link[n - 1] == '/')
        n--;
    /* our feeds' rel="self": [output] link, then the route */
    if (strncmp(topic, snap->link, n) != 0 || topic[n] != '/') {
        topic_refuse(t, MHD_HTTP_BAD_REQUEST,
                     "not a feed of this hub (they are under [output] link)");
        return 0;
    }
    int rc = topic_route(h, topic + n, t);
    t->path = topic + n;
    return rc;
}

int
http_hub_render(void *arg, const char *path, service_hub_doc_fn done, void *ctx)
{
    struct http *h = arg;
    struct http_topic t;
    int rc = topic_route(h, path, &t);
    if (rc < 0)
        return rc;
    if (t.status != 0) {
        rc = t.status == MHD_HTTP_NOT_FOUND     ? -ENOENT
             : t.status == MHD_HTTP_BAD_REQUEST ? -EINVAL
                                                : -ENOMEM;
        http_topic_clear(&t);
        return rc;
    }
    rc = http_work_hub(h, t.key, t.keylen, t.in, done, ctx); /* *t.in taken */
    http_topic_clear(&t);
    return rc;
}

/* Why a request target is refused before routing, by the index of its
 * marker in h->uri_bad. */
static const char *const uri_fault[HTTP_URI_FAULTS] = {
    "path: longer than " XSTR(HTTP_PATH_MAX) " bytes",
    "request target: longer than " XSTR(HTTP_URI_MAX) " bytes",
    "request target: NUL (%00) is not allowed",
    "request target: bad percent-encoding ('%' and two hex digits)",
    "path: a '..' segment",
};

/* Whether every '%' in s starts a %XX escape (RFC 3986 §2.1). */
static int
pct_ok(const char *s)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    for (; (s = strchr(s, '%')) != NULL; s += 3)
        if (s[1] == '\0' || strchr(hex, s[1]) == NULL || s[2] == '\0' || strchr(hex, s[2]) == NULL)
            return 0;
    return 1;
}

/* Sees the raw request target before MHD decodes it (once the request line
 * is read): too long, a NUL hidden as %00 (the decoded path would be cut
 * there), or a broken escape marks it refused, with its reason. */
static void *
on_mhd_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http *h = cls;
    (void)c;
    size_t path = strcspn(uri, "?");
    size_t all = path + strlen(uri + path);
    if (path > HTTP_PATH_MAX)
        return &h->uri_bad[0];
    if (all > HTTP_URI_MAX)
        return &h->uri_bad[1];
    if (strstr(uri, "%00") != NULL)
        return &h->uri_bad[2];
    if (!pct_ok(uri))
        return &h->uri_bad[3];
    return &h->uri_ok;
}

static enum MHD_Result
on_mhd_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **con_cls)
{
    struct http *h = cls;
    (void)version;
    (void)upload_data;

    /* 405 and 400 are queued on the first call, before any body is read:
     * MHD then closes the connection. A good request is answered on the
     * second call, once the request is complete, so the connection can be
     * kept alive. */
    /* the WebSub callback and the built-in hub take POST (SPEC §5.1, §11) */
    int websub = strncmp(url, "/websub/", 8) == 0, hub = strcmp(url, "/hub") == 0;
    if (!websub && !hub && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        h->requests++;
        return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, h->r405);
    }
    for (int i = 0; i < HTTP_URI_FAULTS; i++)
        if (*con_cls == &h->uri_bad[i]) {
            h->requests++;
            return answer_reason(h, c, MHD_HTTP_BAD_REQUEST, uri_fault[i]);
        }
    if (url[0] != '/' || dot_dot(url)) {
        h->requests++;
        return answer_reason(h, c, MHD_HTTP_BAD_REQUEST, uri_fault[4]);
    }
    if (websub) /* hubs carry no reader's token: the signature guards pushes */
        return http_websub_request(h, c, url, method, upload_data, upload_data_size, con_cls);
    if (hub) /* a reader's token, when [output] tokens is set: checked there */
        return http_hub_request(h, c, method, upload_data, upload_data_size, con_cls);
    if (*con_cls == &h->uri_wait) /* resumed with no answer queued: give up */
        return MHD_NO;
    if (*con_cls != &h->uri_go) {
        *con_cls = &h->uri_go;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body on a GET: ignored (and under the deadline) */
        *upload_data_size = 0;
        return MHD_YES;
    }
    http_conn_request_in(h, c); /* the whole request is in: no deadline while answering */
    h->requests++;
    h->route_url = url;
    /* Every route but /healthz wants a reader's token when [output] tokens
     * is set (a load balancer probes health without one). The token is
     * looked up by name only, so ?token= never reaches a cache key, a
     * rendered link or a log line. */
    h->reader[0] = '\0';
    if (strcmp(url, "/healthz") != 0) {
        const struct service_snapshot *snap = http_snapshot(h);
        const char *why = NULL;
        if (snap == NULL) {
            enum MHD_Result r = answer_500(h, c, -ENOMEM); /* closed, not open */
            h->route_url = NULL;
            return r;
        }
        if (http_auth(h, c, snap, &why) < 0) {
            h->route_url = NULL;
            return answer_401(h, c, why);
        }
    }
    h->route_cls = con_cls;
    enum MHD_Result ret = route(h, c, url);
    h->route_url = NULL;
    h->route_cls = NULL;
    h->reader[0] = '\0';
    return ret;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    log_debug("event=http-error error=%s", LOG_QUOTE(msg));
}

/* ---- interface ---- */

int
http_start(uv_loop_t *loop, struct service *svc, const char *listen, struct http **out, char *err,
           size_t errsize)
{
    return http_start_limits(loop, svc, listen, NULL, out, err, errsize);
}

int
http_start_limits(uv_loop_t *loop, struct service *svc, const char *listen,
                  const struct http_limits *limits, struct http **out, char *err, size_t errsize)
{
    struct http *h = NULL;
    int rc;

    *out = NULL;
    if ((h = calloc(1, sizeof(*h))) == NULL) {
        snprintf(err, errsize, "http: out of memory");
        return -ENOMEM;
    }
    h->listen_fd = -1;
    h->svc = svc;
    if (limits != NULL)
        h->limits = *limits;
    if (h->limits.connections == 0)
        h->limits.connections = CONNECTION_LIMIT;
    if (h->limits.idle_timeout == 0)
        h->limits.idle_timeout = CONNECTION_TIMEOUT;
    if (h->limits.header_timeout_ms == 0)
        h->limits.header_timeout_ms = HEADER_TIMEOUT_MS;
    if ((h->r400 = response_static("bad request\n")) == NULL ||
        (h->r404 = response_static("not found\n")) == NULL ||
        (h->r405 = response_static("method not allowed\n")) == NULL ||
        (h->r500 = response_static("internal error\n")) == NULL ||
        (h->r503 = response_static("store unavailable\n")) == NULL ||
        (h->r503busy = response_static("busy: try again shortly\n")) == NULL ||
        MHD_add_response_header(h->r503busy, MHD_HTTP_HEADER_RETRY_AFTER, "1") != MHD_YES ||
        (h->r401 = response_static("unauthorized\n")) == NULL ||
        MHD_add_response_header(h->r401, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"finfeed\"") != MHD_YES ||
        MHD_add_response_header(h->r405, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
        snprintf(err, errsize, "http: out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    if ((h->listen_fd = http_listen_open(listen, &h->port, err, errsize)) < 0) {
        rc = h->listen_fd;
        goto fail;
    }
    /* No internal thread and no listening socket: http_conn.c accepts and
     * hands each connection over; MHD runs only from MHD_run() on the loop.
     * Its table has room for the connections being evicted too. A
     * connection waiting for a render is suspended (http_work.c); resuming
     * it wakes MHD's epoll fd through MHD's own eventfd. */
    h->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
        NULL, NULL, on_mhd_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, h->limits.idle_timeout, MHD_OPTION_CONNECTION_LIMIT,
        h->limits.connections + HTTP_EVICT_SLACK, MHD_OPTION_NOTIFY_CONNECTION,
        http_conn_on_mhd_notify, h, MHD_OPTION_NOTIFY_COMPLETED, http_conn_on_mhd_completed, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_mhd_uri, h, MHD_OPTION_END);
    if (h->mhd == NULL) {
        snprintf(err, errsize, "listen '%s': cannot start the HTTP server", listen);
        rc = -EIO;
        goto fail;
    }
    if ((rc = http_conn_start(h, loop, err, errsize)) < 0)
        goto fail;
    if ((rc = service_watch(svc, on_service_event, h)) < 0) {
        snprintf(err, errsize, "http: %s", strerror(-rc));
        goto fail;
    }
    h->watching = 1;
    service_hub_renderer(svc, http_hub_render, h); /* the built-in hub's topics */
    *out = h;
    return 0;
fail:
    /* Handles already initialised close on the loop; nothing is called back. */
    teardown(h);
    return rc;
}

int
http_port(const struct http *h)
{
    return h->port;
}

void
http_stop(struct http *h, void (*done)(void *arg), void *arg)
{
    h->done = done;
    h->done_arg = arg;
    teardown(h);
}

unsigned long
http_renders(const struct http *h)
{
    return h->renders;
}
