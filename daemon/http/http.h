/* daemon/http/http.h — the HTTP output server (SPEC §5.1) on the daemon's
 * loop: libmicrohttpd in external-loop mode, its sockets watched by
 * uv_poll_t and its timeout by a uv_timer_t, requests dispatched by a route
 * table and answered from service.h. Documents read from the store are
 * rendered in libuv's threadpool, one at a time on the service's reader
 * connection, never on the loop thread (SPEC §10); they are cached until the
 * service's generation changes or it reports a reload, and served stale
 * while the store fails. */
#ifndef FINFEED_HTTP_H
#define FINFEED_HTTP_H

#include <stddef.h>

#include <uv.h>

struct http;
struct service;

/* What the server grants its clients; a field left 0 takes its default. */
struct http_limits {
    unsigned connections;       /* open at once (256); when all are taken, the
                                 * oldest one still sending its request head is
                                 * closed to admit a newcomer */
    unsigned idle_timeout;      /* seconds a connection may stay silent (30) */
    unsigned header_timeout_ms; /* a request (line, headers, and the body a GET
                                 * should not have) must arrive within this of
                                 * the connection opening or of the previous
                                 * answer being sent (10000) */
};

/* Listen on `listen` ("HOST:PORT", "[V6]:PORT"; port 0 picks one) on
 * `loop` and serve the routes of SPEC §5.1 from svc (borrowed; it must
 * outlive the server), within `limits` (copied; NULL: the defaults).
 * Returns 0, or a negative errno with the reason in err (the loop must then
 * run once more to close what was opened). */
int http_start_limits(uv_loop_t *loop, struct service *svc, const char *listen,
                      const struct http_limits *limits, struct http **out, char *err,
                      size_t errsize);
/* http_start_limits() with the defaults. */
int http_start(uv_loop_t *loop, struct service *svc, const char *listen, struct http **out,
               char *err, size_t errsize);
/* The port actually bound (for port 0). */
int http_port(const struct http *h);
/* Stop listening, answer the requests waiting on renders (503), close the
 * uv handles; `done` fires once they are closed and the render in flight,
 * if any, has ended (the struct is freed then): svc and its reader store
 * must live until then. */
void http_stop(struct http *h, void (*done)(void *arg), void *arg);

#endif
