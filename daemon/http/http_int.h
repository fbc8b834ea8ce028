/* daemon/http/http_int.h — shared inside the HTTP server only (http.c: loop glue
 * and routing; http_cache.c: cached renderings, validators, gzip;
 * http_render.c: feeds, articles, OPML; http_pages.c: status page, metrics,
 * health). Included by nobody outside daemon/http*.c
 * but tests/test_http.c. */
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
#define HTTP_EVICT_SLACK 64 /* connections shut down here that MHD has yet to close */
#define HTTP_URI_FAULTS 5   /* kinds of request target refused before routing */
#define HTTP_READER_MAX 64  /* bytes of a reader's name (CONFIG_READER_MAX) */

/* One cached rendering of one (route, normalized query). The identity
 * response owns `doc` (freed by MHD when its last reference goes); the
 * entry holds one reference on each response it created. */
struct http_entry {
    char *key; /* owned */
    size_t keylen;
    uint64_t keyhash;
    int64_t gen;      /* store generation rendered against */
    uint64_t used;    /* LRU tick */
    uint64_t hash;    /* of the content: the ETag */
    char etag[24];    /* "\"<16 hex>\"" */
    char etag_gz[28]; /* "\"<16 hex>-gz\"": the gzip representation's */
    time_t modified;  /* when this content was first rendered */
    char modified_http[32];
    const char *type; /* Content-Type (static string) */
    const char *doc;  /* identity body, owned by resp[0] */
    size_t len, gzlen;
    int gz_tried;                 /* gzip attempted (resp[1] NULL: not smaller, or failed) */
    struct MHD_Response *resp[2]; /* 200: identity, gzip */
    struct MHD_Response *r304[2]; /* 304 for each representation, made on demand */
};

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
    int64_t gen;   /* store generation for this MHD_run() batch */
    int gen_fresh; /* gen was read in this batch */
    struct http_entry *cache[HTTP_CACHE_MAX];
    size_t ncache;
    size_t cache_bytes;
    uint64_t tick;
    unsigned long renders; /* renderings that queried the store (tests, /metrics) */
    unsigned long requests;
    struct MHD_Response *r400, *r404, *r405, *r500, *r503; /* shared, never change */
    char uri_ok, uri_go, uri_bad[HTTP_URI_FAULTS]; /* their addresses mark a request
                                   * (con_cls): fresh, complete and to answer, refused
                                   * (for which reason) */
    const char *route_url; /* the request being routed (logs) */
    char reader[HTTP_READER_MAX + 1]; /* its reader's name ([output] tokens), "" none */
    unsigned long unauthorized; /* requests answered 401 (tests, /metrics) */
    struct MHD_Response *r401; /* shared: 401 with WWW-Authenticate, the text is per request */
};

/* ---- http_cache.c ---- */

/* Renders a document for a cache entry: *doc (malloc'd, taken by the
 * cache), *len, *type (static). Returns 0, -ENOENT (no such resource:
 * 404), -EIO (the store failed: 503), -EINVAL (the store refused the
 * query: 400), -ENOMEM. */
typedef int (*http_render_fn)(struct http *h, void *arg, char **doc, size_t *len,
                              const char **type);

/* The rendering cached under key (keylen bytes), rendered with render(arg)
 * when missing, or when the store generation changed since (the
 * configuration changing clears the cache). A re-rendering with identical content keeps its ETag
 * and Last-Modified. When the store fails and a stale rendering exists, that is returned. *out is
 * borrowed until the next call. Returns 0 or render's error. */
int http_cache_get(struct http *h, const char *key, size_t keylen, http_render_fn render, void *arg,
                   struct http_entry **out);
/* Make the gzip representation of e once (kept when smaller). */
void http_entry_gzip(struct http_entry *e);
/* The 304 response of representation gz (0/1) of e, or NULL (no memory). */
struct MHD_Response *http_entry_304(struct http_entry *e, int gz);
/* Drop every cached rendering. */
void http_cache_clear(struct http *h);
/* The store generation, read at most once per MHD_run() batch; -1 when the
 * store does not answer. */
int64_t http_generation(struct http *h);

/* ---- http_render.c ---- */

/* What a feed route asks for; strings borrowed from the request. */
struct http_feed_req {
    enum emit_format format;
    char kind;            /* 'm' merged /feed.*, 's' /feeds/NAME.*, 'c' /categories/CAT.* */
    const char *feed;     /* ?feed= or NAME, or NULL */
    const char *category; /* ?category= or CAT, or NULL */
    const char *text;     /* ?q=, or NULL */
    long limit;           /* effective */
    int limit_given;      /* ?limit= was in the request */
};

/* Renderers for http_cache_get(): arg is a struct http_feed_req, an int64_t
 * article id, and nothing, respectively. */
int http_render_feed(struct http *h, void *arg, char **doc, size_t *len, const char **type);
int http_render_article(struct http *h, void *arg, char **doc, size_t *len, const char **type);
int http_render_opml(struct http *h, void *arg, char **doc, size_t *len, const char **type);

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

/* The service's feeds and output settings, copied again after each change
 * the service reports; NULL when there is no memory for a first copy.
 * Borrowed until the next call. */
const struct service_snapshot *http_snapshot(struct http *h);
/* Free h (MHD stopped, every uv handle closed), then call its `done`. */
void http_free(struct http *h);

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
/* Close the listening socket, stop MHD, close the handles; h is freed with
 * the last one (at once when none was opened). */
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

/* Renderings that queried the store since start. */
unsigned long http_renders(const struct http *h);

#endif
