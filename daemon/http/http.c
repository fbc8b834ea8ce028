/* daemon/http/http.c — the HTTP output server (SPEC §5.1): the listening socket,
 * libmicrohttpd in external-loop epoll mode driven by the daemon's libuv loop
 * (its epoll fd watched by one uv_poll_t, its timeout by one non-repeating
 * uv_timer_t), the route table, conditional requests and content coding,
 * and the copy of the service's state the pages read. Renderings and their
 * cache live in http_cache.c and http_render.c, the pages in http_pages.c. */
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

#define CONNECTION_TIMEOUT 30u /* seconds a connection may stay idle */
#define CONNECTION_LIMIT 256u  /* so that slow clients cannot take every fd */
#define HEADER_TIMEOUT_MS 10000u /* request line and headers within */

static const char text_plain[] = "text/plain; charset=utf-8";

/* ---- the loop glue ---- */

static void on_uv_timer(uv_timer_t *t);

/* Let MHD do what is ready, then arm the timer for what it waits on. MHD may
 * leave work for later (connections it has not finished): its timeout then
 * is 0 and the timer fires on the next loop iteration. */
static void
mhd_drive(struct http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;

    h->gen_fresh = 0; /* one generation query per batch of requests */
    if (MHD_run(h->mhd) != MHD_YES)
        log_debug("event=http-run-failed");
    if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
        if (uv_timer_start(&h->timer, on_uv_timer, (uint64_t)ms, 0) < 0)
            log_warnx("event=http-timer-failed");
    } else {
        uv_timer_stop(&h->timer);
    }
}

static void
on_uv_poll(uv_poll_t *p, int status, int events)
{
    (void)status; /* an error on the epoll fd: MHD_run() finds out */
    (void)events;
    mhd_drive(p->data);
}

static void
on_uv_timer(uv_timer_t *t)
{
    mhd_drive(t->data);
}

/* ---- the service's state ---- */

/* The service changed: copy its state again when next needed; a reload also
 * makes every rendering stale (titles, links, feeds of a category). */
static void
on_service_event(void *arg, enum service_event ev)
{
    struct http *h = arg;
    h->snap_fresh = 0;
    if (ev == SERVICE_RELOADED)
        http_cache_clear(h);
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

/* Free h once MHD is stopped and no handle is open, then call `done`. */
static void
server_free(struct http *h)
{
    /* Connections are gone with the MHD daemon; drop our references. */
    http_cache_clear(h);
    service_snapshot_free(&h->snap);
    struct MHD_Response *shared[] = {h->r400, h->r404, h->r405, h->r500, h->r503};
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        if (shared[i] != NULL)
            MHD_destroy_response(shared[i]);
    void (*done)(void *) = h->done;
    void *arg = h->done_arg;
    free(h);
    if (done != NULL)
        done(arg);
}

static void
on_uv_close(uv_handle_t *handle)
{
    struct http *h = handle->data;
    if (--h->handles == 0)
        server_free(h);
}

/* Stop MHD and close the handles; the struct goes in the last close
 * callback (at once when no handle was initialised). The poll handle is
 * closed first: libuv forgets the epoll fd before MHD closes it, so a reused
 * fd number can never be unregistered by mistake. */
static void
teardown(struct http *h)
{
    int handles = h->handles;
    if (h->watching)
        service_unwatch(h->svc, on_service_event, h);
    h->watching = 0;
    if (handles >= 1)
        uv_close((uv_handle_t *)&h->poll, on_uv_close);
    if (handles >= 2)
        uv_close((uv_handle_t *)&h->timer, on_uv_close);
    if (h->mhd != NULL) {
        MHD_stop_daemon(h->mhd);
        h->mhd = NULL;
    }
    if (handles == 0)
        server_free(h);
}

/* ---- the listening socket ---- */

/* Split "HOST:PORT" or "[V6]:PORT" into host ("" or "*": any address) and
 * port. */
static int
split_listen(const char *addr, char *host, size_t hostsize, char *port, size_t portsize)
{
    const char *colon, *h = addr, *hend;

    if (addr[0] == '[') {
        h = addr + 1;
        if ((hend = strchr(h, ']')) == NULL || hend[1] != ':')
            return -EINVAL;
        colon = hend + 1;
    } else {
        if ((colon = strrchr(addr, ':')) == NULL)
            return -EINVAL;
        hend = colon;
    }
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) >= portsize || strspn(p, "0123456789") != strlen(p) ||
        strtol(p, NULL, 10) > 65535)
        return -EINVAL;
    if ((size_t)(hend - h) >= hostsize)
        return -EINVAL;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    snprintf(port, portsize, "%s", p);
    if (strcmp(host, "*") == 0)
        host[0] = '\0';
    return 0;
}

/* A bound, listening, non-blocking socket for `where` (resolved here, once,
 * before the loop serves anyone). Returns the fd or a negative errno. */
static int
open_listener(const char *where, int *port, char *err, size_t errsize)
{
    char host[256], serv[8];
    struct addrinfo hints = {0}, *res = NULL, *ai;
    int fd = -1, rc, e = EADDRNOTAVAIL;
    const char *what = "bind";

    if (split_listen(where, host, sizeof(host), serv, sizeof(serv)) < 0) {
        snprintf(err, errsize, "listen '%s': not HOST:PORT or [V6]:PORT", where);
        return -EINVAL;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (host[0] ? 0 : AI_PASSIVE);
    if ((rc = getaddrinfo(host[0] ? host : NULL, serv, &hints, &res)) != 0) {
        snprintf(err, errsize, "listen '%s': %s", where, gai_strerror(rc));
        return -EADDRNOTAVAIL;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            what = "socket";
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        e = errno;
        what = "bind";
        close(fd);
        fd = -1;
    }
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        *port = 0;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET)
                *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            else if (ss.ss_family == AF_INET6)
                *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    } else {
        snprintf(err, errsize, "listen '%s': %s: %s", where, what, strerror(e));
    }
    freeaddrinfo(res);
    return fd >= 0 ? fd : -e;
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

/* Send a freshly built buffer (uncached pages); frees it. */
static enum MHD_Result
queue_buf(struct MHD_Connection *c, unsigned status, struct http_buf *b, const char *type, int page)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (b->err) {
        free(b->data);
        return MHD_NO;
    }
    if ((r = response_take(b->data, b->len, type)) == NULL)
        return MHD_NO;
    /* The status page shows publisher-controlled text (errors): no script
     * may run, and links to the publishers carry no referrer. */
    if (page &&
        (MHD_add_response_header(r, "Referrer-Policy", "no-referrer") != MHD_YES ||
         MHD_add_response_header(r, "Content-Security-Policy",
                                 "default-src 'none'; style-src 'unsafe-inline'") != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
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
answer_entry(struct MHD_Connection *c, struct http_entry *e)
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
    if (fresh)
        return queue(c, MHD_HTTP_NOT_MODIFIED, http_entry_304(e, gz));
    return queue(c, MHD_HTTP_OK, e->resp[gz]);
}

static enum MHD_Result
answer_cached(struct http *h, struct MHD_Connection *c, const char *key, size_t keylen,
              http_render_fn render, void *arg)
{
    struct http_entry *e;
    int rc = http_cache_get(h, key, keylen, render, arg, &e);

    if (rc == -ENOENT)
        return queue(c, MHD_HTTP_NOT_FOUND, h->r404);
    if (rc == -EIO)
        return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, h->r503);
    if (rc < 0)
        return queue(c, MHD_HTTP_INTERNAL_SERVER_ERROR, h->r500);
    return answer_entry(c, e);
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

static const char *
arg_value(struct MHD_Connection *c, const char *name)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* The normalized query as a cache key: kind, format, then each filter. */
static void
feed_key(struct http_buf *b, const struct http_feed_req *r)
{
    http_buf_printf(b, "%c%d", r->kind, (int)r->format);
    const char *parts[] = {r->feed, r->category, r->text};
    for (size_t i = 0; i < 3; i++) {
        http_buf_add(b, "\x1f", 1);
        if (parts[i] != NULL)
            http_buf_adds(b, parts[i]);
    }
    http_buf_printf(b, "\x1f%ld\x1f%d", r->limit, r->limit_given);
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
    struct http_buf key = {0};
    enum MHD_Result ret;

    if (snap == NULL)
        return queue(c, MHD_HTTP_INTERNAL_SERVER_ERROR, h->r500);

    r.feed = arg_value(c, "feed");
    r.category = arg_value(c, "category");
    r.text = arg_value(c, "q");
    r.limit_given = arg_value(c, "limit") != NULL;
    if (parse_limit(arg_value(c, "limit"), snap->max_entries, &r.limit) < 0)
        return queue(c, MHD_HTTP_BAD_REQUEST, h->r400);
    if (kind == 's') {
        if (!feed_known(snap, name))
            return queue(c, MHD_HTTP_NOT_FOUND, h->r404);
        r.feed = name;
    } else if (kind == 'c') {
        r.category = name;
    }
    feed_key(&key, &r);
    if (key.err)
        return MHD_NO;
    ret = answer_cached(h, c, key.data, key.len, http_render_feed, &r);
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
    return answer_cached(h, c, key, (size_t)n, http_render_article, &id);
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
route_opml(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    (void)name, (void)format;
    return answer_cached(h, c, "o", 1, http_render_opml, NULL);
}

static enum MHD_Result
route_status(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    struct http_buf b = {0};
    (void)name, (void)format;
    if (http_page_status(h, &b) < 0)
        b.err = -ENOMEM;
    return queue_buf(c, MHD_HTTP_OK, &b, "text/html; charset=utf-8", 1);
}

static enum MHD_Result
route_healthz(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    struct http_buf b = {0};
    (void)name, (void)format;
    int status = http_page_healthz(h, &b);
    return queue_buf(c, (unsigned)status, &b, text_plain, 0);
}

static enum MHD_Result
route_metrics(struct http *h, struct MHD_Connection *c, const char *name, int format)
{
    struct http_buf b = {0};
    (void)name, (void)format;
    if (http_page_metrics(h, &b) < 0)
        b.err = -ENOMEM;
    return queue_buf(c, MHD_HTTP_OK, &b, "text/plain; version=0.0.4; charset=utf-8", 0);
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
 * first row that fits answers; the rest of the path is NAME and format. */
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
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        size_t n = strlen(rt->prefix);
        char *name;
        int format, m;
        if (strncmp(url, rt->prefix, n) != 0 || (m = route_match(rt, url + n, &name, &format)) == 0)
            continue;
        if (m < 0)
            return MHD_NO;
        enum MHD_Result ret = rt->fn(h, c, name, format);
        free(name);
        return ret;
    }
    return queue(c, MHD_HTTP_NOT_FOUND, h->r404);
}

/* Sees the raw request target before MHD decodes it: too long, or a NUL
 * hidden as %00 (the decoded path would be cut there), marks it bad. */
static void *
on_mhd_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http *h = cls;
    (void)c;
    size_t path = strcspn(uri, "?");
    size_t all = path + strlen(uri + path);
    int bad = path > HTTP_PATH_MAX || all > HTTP_URI_MAX || strstr(uri, "%00") != NULL;
    return bad ? &h->uri_bad : &h->uri_ok;
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
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        h->requests++;
        return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, h->r405);
    }
    if (*con_cls == &h->uri_bad || url[0] != '/' || dot_dot(url)) {
        h->requests++;
        return queue(c, MHD_HTTP_BAD_REQUEST, h->r400);
    }
    if (*con_cls != &h->uri_go) {
        *con_cls = &h->uri_go;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* a body on a GET: ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    h->requests++;
    return route(h, c, url);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    log_debug("event=http-error error=\"%s\"", msg);
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
    const union MHD_DaemonInfo *info;
    struct stat st;
    int fd = -1, rc;

    *out = NULL;
    if ((h = calloc(1, sizeof(*h))) == NULL) {
        snprintf(err, errsize, "http: out of memory");
        return -ENOMEM;
    }
    h->svc = svc;
    h->gen = -1;
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
        MHD_add_response_header(h->r405, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
        snprintf(err, errsize, "http: out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    if ((fd = open_listener(listen, &h->port, err, errsize)) < 0) {
        rc = fd;
        goto fail;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        snprintf(err, errsize, "listen '%s': %s", listen, strerror(errno));
        close(fd);
        goto fail;
    }
    /* No internal thread: MHD runs only from MHD_run() on the loop. It closes
     * the listening socket it is given when it stops. */
    h->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_mhd_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_TIMEOUT, h->limits.idle_timeout, MHD_OPTION_CONNECTION_LIMIT,
        h->limits.connections, MHD_OPTION_URI_LOG_CALLBACK, on_mhd_uri, h, MHD_OPTION_END);
    if (h->mhd == NULL) {
        struct stat now;
        snprintf(err, errsize, "listen '%s': cannot start the HTTP server", listen);
        /* Whether MHD closed the socket on failure depends on where it
         * failed: close it only while the fd still is that socket. */
        if (fstat(fd, &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev)
            close(fd);
        rc = -EIO;
        goto fail;
    }
    info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL || info->epoll_fd < 0) {
        snprintf(err, errsize, "http: no epoll fd");
        rc = -EIO;
        goto fail;
    }
    if ((rc = uv_poll_init(loop, &h->poll, info->epoll_fd)) < 0) {
        snprintf(err, errsize, "http: uv_poll_init: %s", uv_strerror(rc));
        goto fail;
    }
    h->poll.data = h;
    h->handles = 1;
    if ((rc = uv_timer_init(loop, &h->timer)) < 0) {
        snprintf(err, errsize, "http: uv_timer_init: %s", uv_strerror(rc));
        goto fail;
    }
    h->timer.data = h;
    h->handles = 2;
    if ((rc = uv_poll_start(&h->poll, UV_READABLE, on_uv_poll)) < 0) {
        snprintf(err, errsize, "http: uv_poll_start: %s", uv_strerror(rc));
        goto fail;
    }
    if ((rc = service_watch(svc, on_service_event, h)) < 0) {
        snprintf(err, errsize, "http: %s", strerror(-rc));
        goto fail;
    }
    h->watching = 1;
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
