/* fetch/fetch_int.h — inside fetch/ only: the engine, its sockets, hosts and
 * transfers, shared by fetch.c (libuv glue, queue) and xfer.c (one easy
 * handle: options, callbacks, the result). */
#ifndef FINFEED_FETCH_INT_H
#define FINFEED_FETCH_INT_H

#include <sys/queue.h>

#include <curl/curl.h>

#include "fetch/fetch.h"

#define FETCH_CONTAINER_OF(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* A host of request URLs with transfers queued or in flight. */
struct fetch_host {
    LIST_ENTRY(fetch_host) link; /* in fetch.hosts */
    long refs;                   /* transfers (queued or active) naming it */
    long active;                 /* of them, in flight */
    char name[];                 /* lower-cased host, "" for file:// */
};

/* A socket libcurl asked us to watch. Freed in its poll's close callback. */
struct fetch_sock {
    uv_poll_t poll;              /* poll.data unused; container_of finds us */
    LIST_ENTRY(fetch_sock) link; /* in fetch.socks until closing */
    struct fetch *f;
    curl_socket_t fd;
};

/* One request, from fetch_start to its callback. */
struct fetch_xfer {
    TAILQ_ENTRY(fetch_xfer) link; /* in fetch.queue or fetch.active */
    struct fetch *f;
    struct fetch_host *host; /* counted reference */
    fetch_done_cb cb;
    void *arg;
    /* the request, copied */
    char *url, *etag, *last_modified, *user_agent, *resolve, *public_addr;
    long timeout_s;
    int64_t max_size;
    int allow_file;
    char *post;          /* POST body (post_len bytes), or NULL: GET */
    size_t post_len;
    char *post_type;     /* its Content-Type, or NULL */
    char **extra;        /* more request headers, NULL-terminated, or NULL */
    int public_only;     /* the guard refuses private addresses on every hop */
    /* the transfer, once started */
    CURL *easy;
    struct curl_slist *headers, *resolve_list;
    uint64_t t0; /* uv_hrtime() at start */
    char *body;  /* cap + 1 bytes, NUL kept at len */
    size_t len, cap;
    int too_large;     /* the write callback stopped at max_size */
    int sock_error;    /* a negative errno watching one of our sockets */
    int requests;      /* requests sent (guard callback calls) */
    int first_private; /* the first request connected to a private address */
    char refused[64];  /* the private address the guard refused, "" */
    int responses;     /* final (non-1xx) responses seen */
    int last_status;
    int permanent; /* every response before the last was 301/308 */
    char errbuf[CURL_ERROR_SIZE];
    struct fetch_result result; /* handed to cb; fetch_take_body finds t from it */
};

struct fetch {
    uv_loop_t *loop;
    CURLM *multi;     /* NULL once fetch_close cleaned it up */
    uv_timer_t timer; /* libcurl's one timeout, never repeating */
    uv_idle_t kick;   /* starts queued transfers outside the caller's stack */
    long concurrency, per_host;
    size_t nactive, nqueued;
    TAILQ_HEAD(, fetch_xfer) queue, active;
    LIST_HEAD(, fetch_host) hosts;
    LIST_HEAD(, fetch_sock) socks; /* polls not yet closing */
    int open_handles;              /* uv handles not yet closed */
    int closing;
    void (*done)(void *arg);
    void *done_arg;
};

/* xfer.c */
/* Create and configure t->easy for t; 0 or a negative errno with a reason in
 * t->errbuf. The caller adds it to the multi handle. */
int fetch_xfer_setup(struct fetch_xfer *t);
/* Report t's end to its callback: `res` from libcurl when it ran, or
 * `error` < 0 with `why` when it never ran (or was cancelled). Does not free. */
void fetch_xfer_report(struct fetch_xfer *t, CURLcode res, int error, const char *why);
/* Free t and everything it owns (easy handle included); accepts NULL. */
void fetch_xfer_free(struct fetch_xfer *t);

#endif
