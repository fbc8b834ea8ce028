/* daemon/http/http_conn.c — the HTTP server's front door and its loop glue:
 * our own listening socket, watched by a uv_poll_t, whose connections are
 * handed to libmicrohttpd (MHD_add_connection); a deadline for each request
 * to arrive; room made in a full table by closing the oldest connection
 * still sending its request (or idle between two); and MHD driven from the
 * loop (its epoll fd watched by a uv_poll_t, its timeout and our deadlines
 * by one uv_timer_t). */
#define _GNU_SOURCE /* accept4(): non-blocking and close-on-exec in one call */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/http/http_int.h"
#include "daemon/log/log.h"

#define ACCEPT_BATCH 64      /* connections accepted per wake-up, so requests are served too */
#define ACCEPT_PAUSE_MS 100u /* out of descriptors or memory: accept again after this */
#define EVICT_GRACE_MS 1000u /* a head awaited this long may make room for a newcomer */

/* One connection MHD holds, from MHD_CONNECTION_NOTIFY_STARTED to _CLOSED
 * (its socket_context). */
struct http_conn {
    struct http_conn *prev, *next; /* in h->wait_head… while its request is awaited */
    int fd;                        /* MHD's: shut down here, never closed */
    uint64_t since;                /* uv_now() ms: accepted, or its previous answer sent */
    int waiting;                   /* in the waiting list */
    int evicted;                   /* shut down here; MHD has not closed it yet */
};

/* ---- the waiting list: connections whose request is awaited (not yet
 * complete), oldest first (each joins at the tail, at the loop's present
 * time) ---- */

static void
wait_add(struct http *h, struct http_conn *k)
{
    k->since = uv_now(h->loop);
    k->prev = h->wait_tail;
    k->next = NULL;
    if (h->wait_tail != NULL)
        h->wait_tail->next = k;
    else
        h->wait_head = k;
    h->wait_tail = k;
    k->waiting = 1;
}

static void
wait_remove(struct http *h, struct http_conn *k)
{
    if (!k->waiting)
        return;
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        h->wait_head = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    else
        h->wait_tail = k->prev;
    k->prev = k->next = NULL;
    k->waiting = 0;
}

/* Close k for MHD to notice on its next run: shutdown() makes the socket
 * report a hang-up, and MHD then closes it (and tells on_mhd_connection)
 * like any connection the client dropped. The descriptor stays MHD's, so no
 * reused number can be hit. */
static void
evict(struct http *h, struct http_conn *k, const char *why)
{
    wait_remove(h, k);
    k->evicted = 1;
    h->nevicted++;
    h->evictions++;
    if (shutdown(k->fd, SHUT_RDWR) < 0)
        log_debug("event=http-evict-failed fd=%d error=\"%s\"", k->fd, strerror(errno));
    log_debug("event=http-evict reason=%s waited_ms=%llu", why,
              (unsigned long long)(uv_now(h->loop) - k->since));
}

/* How long a head must have been awaited before its connection can make
 * room: newcomers accepted together must not evict one another before MHD
 * has read the requests they sent at once. */
static uint64_t
grace(const struct http *h)
{
    return h->limits.header_timeout_ms < EVICT_GRACE_MS ? h->limits.header_timeout_ms
                                                        : EVICT_GRACE_MS;
}

/* The connection to evict for a newcomer, or NULL: the oldest awaiting its
 * head, once past the grace. */
static struct http_conn *
evictable(const struct http *h, uint64_t now)
{
    struct http_conn *k = h->wait_head;
    return k != NULL && now - k->since >= grace(h) ? k : NULL;
}

static int
full(const struct http *h)
{
    return h->nconn - h->nevicted >= h->limits.connections;
}

/* Whether a new connection can be admitted now, at worst by evicting.
 * Connections evicted but not yet closed by MHD still hold a descriptor: a
 * bounded number of them is allowed. */
static int
room(const struct http *h, uint64_t now)
{
    if (h->nconn >= h->limits.connections + HTTP_EVICT_SLACK)
        return 0;
    return !full(h) || evictable(h, now) != NULL;
}

/* ---- MHD's notifications ---- */

void
http_conn_on_mhd_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    struct http *h = cls;
    struct http_conn *k;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        h->nconn++;
        if (fd == NULL || (k = calloc(1, sizeof(*k))) == NULL) {
            /* Untracked, it could hold its slot forever: send it away. */
            *socket_context = &h->untracked;
            h->nevicted++;
            if (fd != NULL)
                (void)shutdown(fd->connect_fd, SHUT_RDWR);
            return;
        }
        k->fd = fd->connect_fd;
        *socket_context = k;
        wait_add(h, k);
        return;
    }
    /* MHD_CONNECTION_NOTIFY_CLOSED: MHD closes the socket after this. */
    void *ctx = *socket_context;
    *socket_context = NULL;
    if (ctx == NULL)
        return;
    h->nconn--;
    if (ctx == &h->untracked) {
        h->nevicted--;
        return;
    }
    k = ctx;
    if (k->evicted)
        h->nevicted--;
    wait_remove(h, k);
    free(k);
}

static struct http_conn *
conn_of(struct http *h, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    void *ctx = i != NULL ? *(void *const *)i : NULL; /* MHD gives &socket_context */
    return ctx == &h->untracked ? NULL : ctx;
}

void
http_conn_request_in(struct http *h, struct MHD_Connection *c)
{
    struct http_conn *k = conn_of(h, c);
    if (k != NULL)
        wait_remove(h, k);
}

/* A request ended: when it was answered and the connection stays open, its
 * next request head is awaited from now on (idle keep-alive connections are
 * the first to make room). */
void
http_conn_on_mhd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    struct http *h = cls;
    struct http_conn *k = conn_of(h, c);
    if (con_cls != NULL)
        http_websub_completed(h, *con_cls);
    if (k != NULL && !k->evicted && !k->waiting && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
        !h->stopping)
        wait_add(h, k);
}

/* ---- the loop glue ---- */

static void on_uv_timer(uv_timer_t *t);
static void on_uv_listen(uv_poll_t *p, int status, int events);

/* Match what is watched to the state after any change: accept while there
 * is room (nothing else would ever take the listening socket back: issue
 * 10 §3 bug 1), and wake for the earliest of MHD's timeout, the oldest
 * awaited head's deadline and the end of an accept pause. */
static void
resync(struct http *h)
{
    uint64_t now = uv_now(h->loop), due = UINT64_MAX;
    MHD_UNSIGNED_LONG_LONG ms;
    int rc, want = room(h, now) && now >= h->accept_pause_until;

    if (h->stopping)
        return;
    if (want != h->accepting) {
        rc = want ? uv_poll_start(&h->listen_poll, UV_READABLE, on_uv_listen)
                  : uv_poll_stop(&h->listen_poll);
        if (rc < 0)
            log_warnx("event=http-listen-watch-failed error=\"%s\"", uv_strerror(rc));
        else
            h->accepting = want;
    }
    if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
        due = (uint64_t)ms;
    if (h->wait_head != NULL) {
        /* its deadline; when full, the end of its grace, when it can make room */
        uint64_t end = h->wait_head->since + h->limits.header_timeout_ms;
        uint64_t room_at = h->wait_head->since + grace(h);
        if (full(h) && room_at > now && room_at < end)
            end = room_at;
        uint64_t left = end > now ? end - now : 0;
        due = left < due ? left : due;
    }
    if (!want && h->accept_pause_until > now && h->accept_pause_until - now < due)
        due = h->accept_pause_until - now;
    if (due == UINT64_MAX) {
        uv_timer_stop(&h->timer);
    } else if ((rc = uv_timer_start(&h->timer, on_uv_timer, due, 0)) < 0) {
        log_warnx("event=http-timer-failed error=\"%s\"", uv_strerror(rc));
    }
}

/* Let MHD do what is ready, then watch for what comes next. MHD may leave
 * work for later (connections it has not finished): its timeout then is 0
 * and the timer fires on the next loop iteration. */
void
http_drive(struct http *h)
{
    if (MHD_run(h->mhd) != MHD_YES)
        log_debug("event=http-run-failed");
    resync(h);
}

static void
on_uv_mhd(uv_poll_t *p, int status, int events)
{
    (void)status; /* an error on the epoll fd: MHD_run() finds out */
    (void)events;
    http_drive(p->data);
}

/* Heads past their deadline are closed; then MHD runs (its timeout, and
 * the hang-ups just made). */
static void
on_uv_timer(uv_timer_t *t)
{
    struct http *h = t->data;
    uint64_t now = uv_now(h->loop);

    while (h->wait_head != NULL && h->wait_head->since + h->limits.header_timeout_ms <= now)
        evict(h, h->wait_head, "header-timeout");
    http_drive(h);
}

static void
on_uv_listen(uv_poll_t *p, int status, int events)
{
    struct http *h = p->data;
    (void)events;

    if (status < 0)
        log_warnx("event=http-listen-error error=\"%s\"", uv_strerror(status));
    uint64_t now = uv_now(h->loop);
    for (int i = 0; i < ACCEPT_BATCH && room(h, now); i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the socket stays readable;
             * pause rather than spin, and free a descriptor if one waits. */
            log_warnx("event=http-accept-failed error=\"%s\" pause_ms=%u", strerror(errno),
                      ACCEPT_PAUSE_MS);
            h->accept_pause_until = now + ACCEPT_PAUSE_MS;
            if (evictable(h, now) != NULL)
                evict(h, h->wait_head, "out-of-descriptors");
            break;
        }
        if (full(h))
            evict(h, evictable(h, now), "table-full"); /* room() found one */
        /* MHD takes the socket whatever happens (closed on failure) and
         * calls http_conn_on_mhd_notify() before returning. */
        if (MHD_add_connection(h->mhd, fd, (struct sockaddr *)&ss, sl) != MHD_YES)
            log_debug("event=http-add-connection-failed error=\"%s\"", strerror(errno));
    }
    http_drive(h);
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

int
http_listen_open(const char *where, int *port, char *err, size_t errsize)
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

/* ---- start and stop ---- */

/* The last handle closed frees h, unless a render is still in flight: its
 * end does then (http_work.c). */
static void
on_uv_close(uv_handle_t *handle)
{
    struct http *h = handle->data;
    if (--h->handles == 0 && h->running == NULL)
        http_free(h);
}

int
http_conn_start(struct http *h, uv_loop_t *loop, char *err, size_t errsize)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    int rc;

    h->loop = loop;
    if (info == NULL || info->epoll_fd < 0) {
        snprintf(err, errsize, "http: no epoll fd");
        return -EIO;
    }
    uv_handle_t *handles[] = {(uv_handle_t *)&h->timer, (uv_handle_t *)&h->poll,
                              (uv_handle_t *)&h->listen_poll};
    for (int i = 0; i < 3; i++) {
        const char *what = i == 0 ? "uv_timer_init" : "uv_poll_init";
        rc = i == 0   ? uv_timer_init(loop, &h->timer)
             : i == 1 ? uv_poll_init(loop, &h->poll, info->epoll_fd)
                      : uv_poll_init(loop, &h->listen_poll, h->listen_fd);
        if (rc < 0) {
            snprintf(err, errsize, "http: %s: %s", what, uv_strerror(rc));
            return rc;
        }
        handles[i]->data = h;
        h->handles++;
    }
    if ((rc = uv_poll_start(&h->poll, UV_READABLE, on_uv_mhd)) < 0) {
        snprintf(err, errsize, "http: uv_poll_start: %s", uv_strerror(rc));
        return rc;
    }
    resync(h); /* starts accepting */
    if (!h->accepting) {
        snprintf(err, errsize, "http: cannot watch the listening socket");
        return -EIO;
    }
    return 0;
}

void
http_conn_stop(struct http *h)
{
    int handles = h->handles;

    h->stopping = 1;
    /* libuv forgets each descriptor before it is closed, so a reused number
     * can never be unregistered by mistake: the listening socket is ours,
     * the epoll fd and the connections are MHD's. */
    if (handles >= 3)
        uv_close((uv_handle_t *)&h->listen_poll, on_uv_close);
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    h->listen_fd = -1;
    if (handles >= 2)
        uv_close((uv_handle_t *)&h->poll, on_uv_close);
    if (handles >= 1)
        uv_close((uv_handle_t *)&h->timer, on_uv_close);
    if (h->mhd != NULL) {
        /* MHD must hold no suspended connection when stopped (it panics):
         * those waiting on renders are answered 503 and resumed, and get
         * one run to send it. */
        int resumed = http_websub_stop(h); /* no answer of the service comes after this */
        int waiting = h->nsuspended > 0 || resumed > 0;
        http_work_stop(h); /* the hub's renders too: answered -ESHUTDOWN */
        if (waiting)
            (void)MHD_run(h->mhd);
        MHD_stop_daemon(h->mhd); /* closes every connection: http_conn_on_mhd_notify() frees ours */
        h->mhd = NULL;
    }
    if (handles == 0 && h->running == NULL)
        http_free(h);
}
