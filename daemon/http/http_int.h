/* daemon/http/http_int.h — shared inside the HTTP server only (http.c: loop glue
 * and routing; http_cache.c: cached renderings, validators, gzip;
 * http_render.c: feeds, articles, OPML; http_work.c: renders off the loop;
 * http_pages.c: status page, metrics, health). Included by nobody outside
 * daemon/http*.c but tests/test_http.c. */
#ifndef FINFEED_HTTP_INT_H
#define FINFEED_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>
#include <uv.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"
#include "daemon/http/http.h"
#include "daemon/service/service.h"

#define HTTP_CACHE_MAX 64                   /* renderings kept */
#define HTTP_CACHE_BYTES (32 * 1024 * 1024) /* identity + gzip bytes kept, all entries */
#define HTTP_LIMIT_MAX 1000                 /* cap of ?limit= */
#define HTTP_PATH_MAX 1024                  /* longest request path (raw), bytes */
#define HTTP_URI_MAX 4096                   /* longest request target (raw), bytes */
#define HTTP_Q_WORDS_MAX 16                 /* words of ?q= (store_articles' bound) */
#define HTTP_TICKERS_MAX 64                 /* tickers of ?ticker= (SPEC §12) */
#define HTTP_EVICT_SLACK 64 /* connections shut down here that MHD has yet to close */
#define HTTP_URI_FAULTS 5   /* kinds of request target refused before routing */
#define HTTP_READER_MAX 64  /* bytes of a reader's name (CONFIG_READER_MAX) */
#define HTTP_RETRY_MS 1000u /* after a failed render, a stale rendering is served this long
                             * before the store is asked again */

/* One cached rendering of one (route, normalized query). The identity
 * response owns `doc` (freed by MHD when its last reference goes); the
 * entry holds one reference on each response it created. */
struct http_entry {
    char *key; /* owned */
    size_t keylen;
    uint64_t keyhash;
    int64_t gen;      /* service generation rendered against (HTTP_GEN_NEVER: stale at once) */
    uint64_t used;    /* LRU tick */
    uint64_t retry_at; /* uv_now() ms: a render failed; until then the stale content is
                        * served without asking the store again (0: none failed) */
    uint64_t hash;    /* of the content: the ETag */
    char etag[24];    /* "\"<16 hex>\"" */
    char etag_gz[28]; /* "\"<16 hex>-gz\"": the gzip representation's */
    time_t modified;  /* when this content was first rendered */
    char modified_http[32];
    const char *type; /* Content-Type (static string) */
    char *links;      /* Link header of a feed (rel="hub", rel="self"), owned, or NULL */
    const char *doc;  /* identity body, owned by resp[0] */
    size_t len, gzlen;
    int gz_tried;                 /* gzip attempted (resp[1] NULL: not smaller, or failed) */
    struct MHD_Response *resp[2]; /* 200: identity, gzip */
    struct MHD_Response *r304[2]; /* 304 for each representation, made on demand */
};

#define HTTP_GEN_NEVER INT64_MIN /* a generation no service has: never fresh */

struct http_job;

struct http {
    struct service *svc; /* borrowed */
    struct service_snapshot snap; /* feeds and output settings, copied */
    int snap_fresh;   /* no change since snap was taken */
    int watching;     /* registered with service_watch */
    struct http_limits limits; /* defaults filled in */
    struct MHD_Daemon *mhd;
    uv_loop_t *loop;
    int listen_fd;         /* ours, or -1 */
    uv_poll_t listen_poll; /* listen_fd, readable, while there is room */
    uv_poll_t poll;        /* MHD's epoll fd, readable */
    uv_timer_t timer;      /* earliest of MHD_get_timeout(), a head's deadline, an accept
                            * pause's end; non-repeating */
    int handles;           /* uv handles initialised and not yet closed */
    int accepting;         /* listen_poll started */
    int stopping;          /* http_stop() called */
    uint64_t accept_pause_until; /* uv_now() ms; out of descriptors */
    struct http_conn *wait_head, *wait_tail; /* request head awaited, oldest first */
    unsigned nconn;        /* connections MHD holds */
    unsigned nevicted;     /* of them, shut down here and not yet closed by MHD */
    unsigned long evictions; /* since start (tests, /metrics) */
    char untracked;        /* its address: a connection we had no memory to track */
    int port;
    void (*done)(void *arg); /* http_stop() */
    void *done_arg;
    struct http_job *running;              /* the render in the threadpool, or NULL */
    struct http_job *queue_head, *queue_tail; /* renders waiting their turn, in order */
    unsigned nsuspended;   /* connections suspended until a render ends */
    unsigned long epoch;   /* configuration changes seen (a render of an older one is not
                            * kept fresh) */
    unsigned long coalesced; /* requests that joined a render already asked for (tests) */
    int (*render_hook)(void *arg); /* tests: called by the worker before each render; a
                                    * negative result is the render's (copied per job) */
    void *render_hook_arg;
    struct http_entry *cache[HTTP_CACHE_MAX];
    size_t ncache;
    size_t cache_bytes;
    uint64_t tick;
    unsigned long renders; /* renderings made (tests, /metrics) */
    unsigned long requests;
    struct MHD_Response *r400, *r404, *r405, *r500, *r503; /* shared, never change */
    struct MHD_Response *r503busy; /* shared: too many requests wait for renders */
    char uri_ok, uri_go, uri_wait, uri_bad[HTTP_URI_FAULTS]; /* their addresses mark a
                                   * request (con_cls): fresh, complete and to answer,
                                   * suspended for a render, refused (for which reason) */
    const char *route_url; /* the request being routed (logs) */
    void **route_cls;      /* its con_cls */
    char reader[HTTP_READER_MAX + 1]; /* its reader's name ([output] tokens), "" none */
    unsigned long unauthorized; /* requests answered 401 (tests, /metrics) */
    struct MHD_Response *r401; /* shared: 401 with WWW-Authenticate, the text is per request */
    struct http_ws_req *ws_reqs; /* WebSub requests in progress: callbacks, the hub
                                  * (http_websub.c) */
    struct http_topic *topic;    /* while a hub topic is resolved (http_topic_resolve): the
                                  * feed routes fill it instead of answering */
};

/* A hub topic being resolved: a feed route's path and query, run through
 * the route table as a GET would be, without a connection. */
struct http_topic {
    const char *path;  /* http_topic_resolve: the topic from its route's '/' */
    const char *query; /* the query string (undecoded), or NULL */
    char *args[8];     /* its parameters decoded so far (owned) */
    int status;        /* 0 resolved; else the HTTP status a GET would get */
    char why[256];     /* … and its reason */
    char *key;         /* resolved: the cache key (owned) */
    size_t keylen;
    struct http_render_in *in; /* resolved: what to render (owned) */
};

/* ---- http_cache.c ---- */

/* Renders a document on the loop thread, from the service's snapshot only
 * (no store query): *doc (malloc'd, taken by the cache), *len, *type
 * (static). Returns 0 or -ENOMEM. */
typedef int (*http_render_fn)(struct http *h, void *arg, char **doc, size_t *len,
                              const char **type);

/* The rendering cached under key (keylen bytes), or NULL; borrowed until
 * the cache next changes. */
struct http_entry *http_cache_find(struct http *h, const char *key, size_t keylen);
/* Whether e was rendered against the service's present generation. */
int http_entry_fresh(struct http *h, const struct http_entry *e);
/* Mark e recently used. */
void http_entry_touch(struct http *h, struct http_entry *e);
/* Keep doc (taken whatever happens: len bytes of `type`, a static string;
 * links, copied, the Link header of every answer from it, or NULL) under
 * key, rendered against generation gen. A rendering with the same bytes as
 * the one it replaces keeps its ETag, Last-Modified and gzip. *out is
 * borrowed until the cache next changes. Returns 0 or -ENOMEM. */
int http_cache_put(struct http *h, const char *key, size_t keylen, char *doc, size_t len,
                   const char *type, const char *links, int64_t gen, struct http_entry **out);
/* Forget the rendering under key (the resource is gone), if any. */
void http_cache_drop(struct http *h, const char *key, size_t keylen);
/* The rendering under key, made with render(arg) on the loop thread when
 * missing or stale. *out is borrowed until the cache next changes. Returns
 * 0 or render's error. */
int http_cache_get(struct http *h, const char *key, size_t keylen, http_render_fn render, void *arg,
                   struct http_entry **out);
/* Make the gzip representation of e once (kept when smaller). */
void http_entry_gzip(struct http_entry *e);
/* The 304 response of representation gz (0/1) of e, or NULL (no memory). */
struct MHD_Response *http_entry_304(struct http_entry *e, int gz);
/* Drop every cached rendering. */
void http_cache_clear(struct http *h);
/* The service's generation (service_generation: no query). */
int64_t http_generation(struct http *h);

/* ---- http_render.c ---- */

/* What a feed route asks for; strings borrowed from the request (or the
 * snapshot). */
struct http_feed_req {
    enum emit_format format;
    char kind;            /* 'm' merged /feed.*, 's' /feeds/NAME.*, 'c' /categories/CAT.*,
                           * 't' /tickers/EXCHANGE:SYMBOL.*, 'w' /watchlists/NAME.* */
    const char *feed;     /* ?feed= or NAME, or NULL */
    const char *category; /* ?category= or CAT, or NULL */
    const char *text;     /* ?q=, or NULL */
    long limit;           /* effective */
    int limit_given;      /* ?limit= was in the request */
    const char *ticker;   /* 't': EXCHANGE:SYMBOL, canonical */
    const struct service_watchlist *watch; /* 'w': the snapshot's */
    /* ?ticker= (repeated, comma lists too): canonical, sorted, each once */
    char tickers[HTTP_TICKERS_MAX][PARSE_TICKER_LEN];
    size_t ntickers;
};

/* Everything one render off the loop reads, copied on the loop thread: the
 * worker reads nothing else (neither struct http nor the service). */
struct http_render_in {
    struct store *store;    /* the reader connection (borrowed): the render's alone while it
                             * runs, renders being one at a time */
    char kind;              /* 'm', 's', 'c', 't', 'w': a feed (as struct http_feed_req);
                             * 'a': an article */
    enum emit_format format;
    char *feed, *category, *text; /* owned, or NULL */
    char *ticker;                 /* 't': owned */
    struct service_watchlist watch; /* 'w': a copy, owned */
    char **tickers;                 /* ?ticker=, owned, ntickers items */
    size_t ntickers;
    long limit;
    int limit_given;
    int64_t id;             /* 'a': the article's row id */
    char *title, *link;     /* [output] title and link, owned */
    char *hub;              /* the WebSub hub advertised (SPEC §11), owned, or NULL */
    char **tracking;        /* [daemon] tracking_params (links' tracking parameters
                             * dropped, SPEC §5.2), owned, ntracking items; set on
                             * the store by the render itself, whose store it is */
    size_t ntracking;
};

/* Fill in for feed request r under snap's settings, reading from st
 * (borrowed). Returns 0 or -ENOMEM (in is then empty). */
int http_render_in_feed(struct http_render_in *in, const struct http_feed_req *r,
                        const struct service_snapshot *snap, struct store *st);
/* Fill in for article id, reading from st (borrowed). */
void http_render_in_article(struct http_render_in *in, int64_t id, struct store *st);
/* Free what in owns; harmless on an empty one. */
void http_render_in_free(struct http_render_in *in);
/* A rendering. */
struct http_render_out {
    char *doc; /* malloc'd */
    size_t len;
    const char *type; /* static */
    char *self;       /* a feed's absolute URL (rel="self"), malloc'd; NULL: an article */
    char *links;      /* a feed's Link header: rel="hub" (when one is advertised) and
                       * rel="self" (W3C WebSub §4), malloc'd, or NULL */
    long entries;     /* a feed's entries */
};
/* Render in into *out (zeroed first; the caller's, http_render_out_free).
 * Runs on any thread, reading only in and its store. Returns 0, -ENOENT (no
 * such resource), -EIO (the store failed, its message in err), -EINVAL (the
 * store refused the query), -ENOMEM. */
int http_render(const struct http_render_in *in, struct http_render_out *out, char *err,
                size_t errsize);
void http_render_out_free(struct http_render_out *out);
/* The OPML subscription list from the snapshot, the watchlists in a
 * folder of their own (http_render_fn; arg unused). */
int http_render_opml(struct http *h, void *arg, char **doc, size_t *len, const char **type);

/* ---- http_work.c ---- */

/* Answer c (whose request is being handled: con_cls at *con_cls) with the
 * rendering under key, rendered off the loop from *in (taken whatever
 * happens): c is suspended and joins the render asked for under that key,
 * or a new one queued behind the render in flight. Returns 0 (c is
 * answered and resumed when the render ends, or at http_work_stop), or
 * -EAGAIN (too many connections wait already), -ENOMEM: c is not
 * suspended. */
int http_work_add(struct http *h, struct MHD_Connection *c, void **con_cls, const char *url,
                  const char *key, size_t keylen, struct http_render_in *in);
/* Render *in (taken whatever happens) for the hub: under key, joining a
 * render of it queued and not started (one started may have read the store
 * before the change being pushed), else a new one; then done(ctx, …) with
 * the rendering, which is cached too. Returns 0 (done fires once, later) or
 * -ENOMEM, -ESHUTDOWN (done not called). */
int http_work_hub(struct http *h, const char *key, size_t keylen, struct http_render_in *in,
                  service_hub_doc_fn done, void *ctx);
/* Answer every suspended connection 503 and resume it, and every hub render
 * -ESHUTDOWN, forget the queued renders; the one in flight finishes in the
 * threadpool and its end frees it (and h, when h is stopped and its
 * handles closed). */
void http_work_stop(struct http *h);

/* ---- http_websub.c ---- */

/* A request for /hub (POST: subscribe or unsubscribe at the built-in hub,
 * others 405), from on_mhd_request's every call. */
enum MHD_Result http_hub_request(struct http *h, struct MHD_Connection *c, const char *method,
                                 const char *upload, size_t *upload_size, void **con_cls);
/* A request for /websub/ID (any method: GET and HEAD verify intent, POST
 * delivers content, others 405), from on_mhd_request's every call. */
enum MHD_Result http_websub_request(struct http *h, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *upload, size_t *upload_size,
                                    void **con_cls);
/* MHD completed the request whose con_cls is cls: free its state, if ours. */
void http_websub_completed(struct http *h, void *cls);
/* Answer every request waiting on the service (503) and forget them all;
 * the number of connections resumed. */
int http_websub_stop(struct http *h);

/* ---- http_auth.c ---- */

/* Whether the request on c may be answered under snap's [output] tokens:
 * 0 (h->reader names the reader, "" when the output is open), or -EACCES
 * with a short reason for the client in *why (static). Counts refusals. */
int http_auth(struct http *h, struct MHD_Connection *c, const struct service_snapshot *snap,
              const char **why);

/* ---- http_pages.c ---- */

/* Uncached pages into b: the HTML status page and /metrics (0 or -ENOMEM),
 * /healthz (returns the HTTP status, 200 or 503). */
int http_page_status(struct http *h, struct emit_buf *b);
int http_page_metrics(struct http *h, struct emit_buf *b);
int http_page_healthz(struct http *h, struct emit_buf *b);

/* ---- http.c ---- */

/* Resolve the hub topic `topic` (an absolute URL): one of our feed routes
 * under [output] link, as a GET of it would be answered. Fills t (zeroed
 * first; free with http_topic_clear): t->status 0 with its cache key and
 * render input, or the status and reason a GET would get (404, 400), or a
 * topic outside [output] link (400). Returns 0, or -ENOMEM. */
int http_topic_resolve(struct http *h, const char *topic, struct http_topic *t);
void http_topic_clear(struct http_topic *t);
/* service_hub_render_fn (arg: h): render the route `path` for the hub. */
int http_hub_render(void *arg, const char *path, service_hub_doc_fn done, void *ctx);

/* The service's feeds and output settings, copied again after each change
 * the service reports; NULL when there is no memory for a first copy.
 * Borrowed until the next call. */
const struct service_snapshot *http_snapshot(struct http *h);
/* Free h (MHD stopped, every uv handle closed, no render in flight), then
 * call its `done`. */
void http_free(struct http *h);
/* Answer c with e (200 or 304, gzip when asked) or, e NULL, with render
 * error rc (404, 503, 400, 500). For a suspended connection too. */
enum MHD_Result http_answer(struct http *h, struct MHD_Connection *c, int rc,
                            struct http_entry *e);

/* ---- http_conn.c ---- */

struct http_conn;

/* A bound, listening, non-blocking socket for `where` ("HOST:PORT",
 * "[V6]:PORT"), resolved here, once. Returns the fd or a negative errno
 * with the reason in err. */
int http_listen_open(const char *where, int *port, char *err, size_t errsize);
/* Watch h->listen_fd and MHD's epoll fd on loop and start accepting.
 * Returns 0 or a negative errno with the reason in err (then
 * http_conn_stop() closes what was opened). */
int http_conn_start(struct http *h, uv_loop_t *loop, char *err, size_t errsize);
/* Close the listening socket, answer the requests waiting on renders, stop
 * MHD, close the handles; h is freed with the last one, or when the render
 * in flight ends, whichever comes later (at once when there is neither). */
void http_conn_stop(struct http *h);
/* Run MHD on what is ready, then watch for what comes next. */
void http_drive(struct http *h);
/* For MHD_start_daemon() (cls: h): MHD_OPTION_NOTIFY_CONNECTION and
 * MHD_OPTION_NOTIFY_COMPLETED. */
void http_conn_on_mhd_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                             enum MHD_ConnectionNotificationCode code);
void http_conn_on_mhd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                                enum MHD_RequestTerminationCode toe);
/* The request on c is complete (head, and any body): its deadline no
 * longer applies. */
void http_conn_request_in(struct http *h, struct MHD_Connection *c);

/* ---- for tests ---- */

/* Renderings made since start (off the loop or not). */
unsigned long http_renders(const struct http *h);

#endif
