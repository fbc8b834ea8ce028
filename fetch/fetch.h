/* fetch/fetch.h — the fetch engine (SPEC §6, §9): libcurl's multi_socket API
 * on a libuv loop; conditional GET, compression, redirects, protocol limits,
 * the public→private redirect guard, `concurrency` and `per_host` queues,
 * size and time limits. Hands back a body and the headers the scheduler
 * needs. The one public header of fetch/. */
#ifndef FINFEED_FETCH_H
#define FINFEED_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define FETCH_DEFAULT_TIMEOUT 30L                 /* seconds, when timeout_s <= 0 */
#define FETCH_DEFAULT_MAX_SIZE (16 * 1024 * 1024) /* bytes, when max_size <= 0 */
#define FETCH_MAX_REDIRS 5                        /* redirects followed, SPEC §6 */

/* The engine: owns a CURLM, its uv_timer_t, a uv_idle_t and one uv_poll_t
 * a socket. Opaque. */
struct fetch;

/* One fetch. Every pointer is borrowed during fetch_start only (copied). */
struct fetch_request {
    const char *url;           /* http(s)://…, or file://… when allow_file */
    const char *etag;          /* validator from the last 200, sent back verbatim as
                                  If-None-Match (quotes, W/ included); NULL or "": none */
    const char *last_modified; /* sent back verbatim as If-Modified-Since; NULL or "": none */
    const char *user_agent;    /* NULL: "finfeed/VERSION" */
    long timeout_s;            /* whole transfer, s; <= 0: FETCH_DEFAULT_TIMEOUT; max a day */
    int64_t max_size;          /* bytes of body after decompression; over it the transfer
                                  stops with -EFBIG; <= 0: FETCH_DEFAULT_MAX_SIZE */
    int allow_file;            /* nonzero: file:// allowed as the URL (never on redirect) */
    /* A POST instead of a GET (WebSub: subscriptions, pings, deliveries). */
    const char *body;          /* NULL: GET; else POST these body_len bytes (copied) */
    size_t body_len;
    const char *content_type;  /* the body's Content-Type; NULL: form-urlencoded */
    const char *const *headers; /* more request headers, "Name: value" each (copied), ending
                                   with NULL; NULL: none. CR or LF in one: -EINVAL */
    int public_only;           /* nonzero: the guard refuses every private address, the
                                  first one too (-EACCES): hub and callback URLs come from
                                  strangers (SPEC §11) */
    /* Test hooks; NULL in production. */
    const char *resolve;          /* one CURLOPT_RESOLVE entry "host:port:addr" (it stays in the
                                     engine's DNS cache for later requests too) */
    const char *test_public_addr; /* a connected address ("127.0.0.2") the guard counts as
                                     public, so a loopback server can play a public one */
};

/* The outcome of one fetch. It and every pointer in it are valid during the
 * callback only; copy what you keep. */
struct fetch_result {
    /* 0: the transfer finished with HTTP 2xx or 304 (or file:// read). Else a
     * negative errno:
     *   -EREMOTEIO     the server answered with another status (see `http`)
     *   -ETIMEDOUT     timeout_s passed, or min(timeout_s, 30) s passed without a byte
     *   -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH, -ECONNRESET  transport
     *   -EHOSTUNREACH  also: the name did not resolve
     *   -EFBIG         the body is over max_size ("too large")
     *   -EACCES        the guard refused a public → private hop
     *   -ELOOP         more than FETCH_MAX_REDIRS redirects
     *   -EPROTONOSUPPORT  scheme not allowed (file:// without allow_file, any
     *                  redirect to file://, ftp://, …)
     *   -EPROTO        TLS or protocol failure, bad content encoding
     *   -ENOENT        file:// file missing
     *   -EINVAL        file:// names no regular file (a FIFO would block the loop)
     *   -ECANCELED     fetch_close was called first
     *   -ENOMEM, -EIO  anything else */
    int error;
    char errmsg[256];          /* "" when error is 0; else curl's error text or ours
                                  ("HTTP 500", "too large", "redirect to a private
                                  address (127.0.0.1)") */
    long http;                 /* final status, 0 for file:// and when none arrived */
    const char *body;          /* NUL-terminated for convenience; NULL when empty. On
                                  error: what had arrived, possibly cut (never parse it) */
    size_t len;                /* bytes in body, <= max_size */
    const char *content_type;  /* Content-Type as sent, or NULL */
    const char *charset;       /* its charset parameter, unquoted, or NULL */
    const char *etag;          /* ETag of the final response, verbatim, or NULL */
    const char *last_modified; /* Last-Modified of the final response, verbatim, or NULL */
    const char *permanent_url; /* set only when error is 0 and every redirect followed
                                  was 301/308: the URL to store instead (== effective_url) */
    const char *effective_url; /* last URL requested, or NULL if the transfer never began */
    long retry_after;          /* seconds from Retry-After (delta-seconds or HTTP-date,
                                  a date in the past gives 0), -1 when absent or bad */
    long max_age;              /* Cache-Control max-age seconds, -1 when absent */
    const char *link_hub;      /* the first Link: <…>; rel="hub" of the final response
                                  (W3C WebSub §4), resolved against effective_url, or NULL */
    const char *link_self;     /* … and its first rel="self", or NULL */
    double seconds;            /* from the start of the transfer (not the queue) to its end */
};

/* Called exactly once a started request, on the loop thread, never from
 * inside fetch_start. It may call fetch_start and fetch_close. */
typedef void (*fetch_done_cb)(void *arg, const struct fetch_result *r);

/* During a fetch_done_cb only: take r's body. Returns it (malloc'd, r->len
 * bytes plus a NUL; the caller frees it) and sets r->body to NULL; NULL when
 * there is no body or it was taken. Saves copying up to max_size bytes when
 * the body is parsed on another thread. */
char *fetch_take_body(const struct fetch_result *r);

/* Create an engine on `loop` (borrowed; must outlive the engine) allowing
 * `concurrency` transfers in flight in all and `per_host` per host (of the
 * request URL). Needs curl_global_init done by the caller and a libcurl with
 * an asynchronous resolver. Returns 0 and sets *out, or -EINVAL (a limit < 1),
 * -ENOTSUP (libcurl resolves synchronously), -ENOMEM. */
int fetch_new(uv_loop_t *loop, long concurrency, long per_host, struct fetch **out);

/* Queue a request (copied); `cb(arg, …)` fires exactly once, later, on the
 * loop thread. Requests beyond the limits wait in FIFO order (a request
 * whose host is at per_host does not hold back other hosts). Returns 0, or
 * -EINVAL (req->url NULL or not a URL libcurl parses; CR or LF in a header
 * value), -ECANCELED (fetch_close was called), -ENOMEM; then cb never fires.
 * The guard checks the address each request of the transfer connected to
 * (the name does not count): when the first is public, a later one (a
 * redirect) that is private per fetch_addr_is_private fails with -EACCES;
 * when the first is private (a user's own server on 127.0.0.1), that
 * transfer may go anywhere. Behind a proxy the guard sees the proxy only. */
int fetch_start(struct fetch *f, const struct fetch_request *req, fetch_done_cb cb, void *arg);

/* Requests in flight and waiting in the queue (either pointer may be NULL). */
void fetch_counts(const struct fetch *f, size_t *active, size_t *queued);

/* Change the limits (configuration reload); waiting requests start when
 * they now fit. Returns 0 or -EINVAL. */
int fetch_set_limits(struct fetch *f, long concurrency, long per_host);

/* Cancel everything: every pending callback fires with -ECANCELED before
 * fetch_close returns. Then the uv handles close; `done(arg)` (may be NULL)
 * fires from the loop once they are all closed and the engine is freed, so
 * the loop must run on (uv_loop_close succeeds afterwards). May be called
 * from a fetch_done_cb; call it once. */
void fetch_close(struct fetch *f, void (*done)(void *arg), void *arg);

/* The guard's rule for one numeric address (IPv4 or IPv6, an "%zone" suffix
 * ignored): 1 when loopback, private (RFC 1918, CGNAT 100.64/10, ULA
 * fc00::/7), link-local, unspecified or "this network" (0/8), also inside
 * IPv4-mapped IPv6; 0 when public; -EINVAL when not an address. */
int fetch_addr_is_private(const char *ip);

#endif
