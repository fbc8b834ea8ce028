/* daemon/http/http.h — the HTTP output server (SPEC §5.1) on the daemon's loop:
 * libmicrohttpd in external-loop mode, its sockets watched by uv_poll_t and
 * its timeout by a uv_timer_t. Rendered feeds are cached until the store
 * changes. */
#ifndef FINFEED_HTTP_H
#define FINFEED_HTTP_H

struct daemon;
struct http;

/* Listen on `listen` ("HOST:PORT", "[V6]:PORT"; port 0 picks one) and serve
 * the routes of SPEC §5.1 from d (borrowed; must outlive the server).
 * Returns 0, or a negative errno with the reason in err. */
int http_start(struct daemon *d, const char *listen, struct http **out, char *err,
               size_t errsize);
/* The port actually bound (for port 0). */
int http_port(const struct http *h);
/* Drop cached renderings (the configuration changed). */
void http_invalidate(struct http *h);
/* Stop listening, close the uv handles; `done` fires once they are closed
 * (the struct is freed then). */
void http_stop(struct http *h, void (*done)(void *arg), void *arg);

#endif
