/* daemon/ctl/ctl.c — the control socket (SPEC §5.3): a unix stream socket,
 * mode 0660, served on the loop. One request a line (at most 4 KiB), one
 * JSON object a line in reply, in request order per client; many clients at
 * once; a slow, silent or hostile client never blocks the others and never
 * stops the daemon. The listening socket is ours, watched with a uv_poll_t,
 * as OpenBSD's control.c does: out of descriptors, accepting pauses (the
 * clients wait in the backlog) and resumes when a client goes or after a
 * second; a full client table makes room by closing the oldest idle client. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/ctl/ctl.h"
#include "daemon/ctl/ctl_int.h"
#include "daemon/log/log.h"
#include "daemon/service/service.h"

#define LINE_MAX_BYTES 4096
#define MAX_CLIENTS 256
#define MAX_PENDING_WRITE (1 << 20) /* a client that stops reading is dropped */
#define IDLE_MS (10 * 60 * 1000)    /* a silent client is closed after 10 min */
#define PAUSE_MS 1000               /* accepting resumes after a pause on EMFILE */
#define ACCEPT_BURST 32             /* connections accepted a poll event */

struct client;
struct req;

/* A refresh's wait for one feed: the service links w until it fires. */
struct feed_wait {
    struct service_wait w;
    struct req *r;
    size_t index;       /* in r->results */
};

struct req {
    struct req *next;
    struct client *c;
    char *line;
    int started;
    size_t n, remaining;
    struct feed_wait *w; /* n waits, one a feed */
    json_t *results;    /* array of per-feed results, in request order */
};

struct client {
    uv_pipe_t pipe;     /* first: the handle's address is the client's */
    uv_timer_t idle;
    struct ctl *ctl;
    struct client *next, *prev;
    char buf[LINE_MAX_BYTES + 1];
    size_t len;
    int discarding;     /* an oversize line is being skipped */
    int closing;
    int handles;        /* open uv handles (pipe, idle) */
    int pruning;        /* prune jobs that will still call back: the struct lives on */
    uint64_t active;    /* uv_now() of its last request or of its connection */
    struct req *head, *tail;
};

struct ctl {
    uv_poll_t listen;   /* the listening socket fd, readable when a client waits */
    uv_timer_t pause;   /* ends a pause in accepting */
    int fd;             /* the listening socket, -1 when none */
    int paused;         /* out of descriptors: not accepting for now */
    int handles;        /* open uv handles (listen, pause) */
    uv_loop_t *loop;
    struct service *svc; /* borrowed */
    struct client *clients;
    int nclients;
    char *path;
    int closing;
    void (*done)(void *arg);
    void *done_arg;
    atomic_int fail_allocs; /* tests: client allocations still to fail */
};

static void client_close(struct client *c);
static void process(struct client *c);
static void on_ctl_closed(uv_handle_t *h);

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static json_t *
iso(int64_t t)
{
    char b[32];
    return t > 0 ? json_string(service_time_iso(t, b, sizeof(b))) : json_null();
}

/* ---- writing replies ---- */

static void
on_uv_write(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void
reply(struct client *c, json_t *o)
{
    if (c->closing) {
        json_decref(o);
        return;
    }
    /* a reply that cannot be sent closes the client: it would wait for it */
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL) {
        client_close(c);
        return;
    }
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (line == NULL) {
        free(s);
        client_close(c);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > MAX_PENDING_WRITE) {
        log_warnx("event=control-client-dropped reason=\"not reading its replies\"");
        free(line);
        client_close(c);
        return;
    }
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t b = uv_buf_init(line, (unsigned)(n + 1));
    if (w == NULL) {
        free(line);
        client_close(c);
        return;
    }
    w->data = line;
    if (uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, on_uv_write) < 0) {
        free(line);
        free(w);
        client_close(c);
    }
}

static void reply_error(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply_error(struct client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reply(c, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

/* ---- requests ---- */

static void
req_free(struct req *r)
{
    if (r == NULL)
        return;
    free(r->line);
    free(r->w);
    json_decref(r->results);
    free(r);
}

/* The head request is answered: drop it and go on with the next line. */
static void
req_done(struct client *c)
{
    struct req *r = c->head;
    if (r == NULL)
        return; /* the reply closed the client, and its requests with it */
    c->head = r->next;
    if (c->head == NULL)
        c->tail = NULL;
    req_free(r);
    if (c->head != NULL && !c->closing)
        process(c);
}

static json_t *
feed_result(const struct service_feed *f)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "feed", f->name, "status",
                     service_outcome_name(f->last), "http", (json_int_t)f->http, "new",
                     (json_int_t)f->counts.new_, "updated", (json_int_t)f->counts.updated,
                     "duplicates", (json_int_t)f->counts.duplicates, "unchanged",
                     (json_int_t)f->counts.unchanged, "error",
                     f->last == SERVICE_OK || f->last == SERVICE_NOT_MODIFIED || f->error[0] == '\0'
                         ? json_null()
                         : json_string(f->error));
}

/* The result of a feed that cannot be fetched (disabled or gone). */
static json_t *
refused_result(const struct service_feed *f)
{
    int gone = f->last == SERVICE_GONE;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "feed", f->name, "status",
                     gone ? "gone" : "error", "http", (json_int_t)f->http, "new", (json_int_t)0,
                     "updated", (json_int_t)0, "duplicates", (json_int_t)0, "unchanged",
                     (json_int_t)0, "error", gone ? "feed is gone (410)" : "feed is disabled");
}

/* One fetch of a refresh is accounted for; the last one answers. */
static void
refresh_release(struct req *r)
{
    if (--r->remaining > 0)
        return;
    struct client *c = r->c;
    reply(c, json_pack("{s:b, s:O}", "ok", 1, "feeds", r->results));
    req_done(c);
}

static void
on_refresh_done(void *arg, const struct service_feed *f)
{
    struct feed_wait *fw = arg;
    json_array_set_new(fw->r->results, fw->index, feed_result(f));
    refresh_release(fw->r);
}

/* The feeds a refresh names (indexes into snap, each once), or every
 * enabled feed when it names none. Returns how many, or -ENOENT with the
 * unknown name in *unknown. */
static int
refresh_select(const struct service_snapshot *snap, char **args, int nargs, size_t *sel,
               const char **unknown)
{
    size_t n = 0;
    for (int i = 0; i < nargs; i++) {
        size_t k = 0;
        if (strcmp(args[i], "--no-wait") == 0)
            continue;
        while (k < snap->nfeeds && strcmp(snap->feeds[k].name, args[i]) != 0)
            k++;
        if (k == snap->nfeeds) {
            *unknown = args[i];
            return -ENOENT;
        }
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= sel[j] == k;
        if (!dup)
            sel[n++] = k;
    }
    if (n == 0)
        for (size_t k = 0; k < snap->nfeeds; k++)
            if (snap->feeds[k].enabled)
                sel[n++] = k;
    return (int)n;
}

static void
answer_refresh(struct client *c, struct req *r, char **args, int nargs)
{
    struct service *svc = c->ctl->svc;
    struct service_snapshot snap;
    const char *unknown = NULL;
    size_t *sel = NULL;
    int wait = 1, n;
    for (int i = 0; i < nargs; i++)
        wait &= strcmp(args[i], "--no-wait") != 0;
    if (service_snapshot(svc, NULL, &snap) < 0 ||
        (sel = calloc(snap.nfeeds + (size_t)nargs + 1, sizeof(*sel))) == NULL ||
        (r->results = json_array()) == NULL) {
        reply_error(c, "out of memory");
        goto done;
    }
    if ((n = refresh_select(&snap, args, nargs, sel, &unknown)) < 0) {
        reply_error(c, "unknown feed \"%s\"", unknown);
        goto done;
    }
    if (!wait || n == 0) {
        json_t *queued = json_array();
        for (int i = 0; i < n; i++)
            if (service_refresh(svc, snap.feeds[sel[i]].name, NULL, NULL, NULL) == 0)
                json_array_append_new(queued, json_string(snap.feeds[sel[i]].name));
        if (wait)
            reply(c, json_pack("{s:b, s:O}", "ok", 1, "feeds", r->results));
        else
            reply(c, json_pack("{s:b, s:o}", "ok", 1, "queued", queued));
        if (wait)
            json_decref(queued);
        goto done;
    }
    if ((r->w = calloc((size_t)n, sizeof(*r->w))) == NULL) {
        reply_error(c, "out of memory");
        goto done;
    }
    r->n = (size_t)n;
    r->remaining = (size_t)n + 1; /* +1 until every fetch is started */
    for (int i = 0; i < n; i++)
        json_array_append_new(r->results, json_null());
    for (int i = 0; i < n; i++) {
        const struct service_feed *f = &snap.feeds[sel[i]];
        r->w[i].r = r;
        r->w[i].index = (size_t)i;
        if (service_refresh(svc, f->name, &r->w[i].w, on_refresh_done, &r->w[i]) < 0) {
            json_array_set_new(r->results, (size_t)i, refused_result(f));
            r->remaining--;
        }
    }
    service_snapshot_free(&snap);
    free(sel);
    refresh_release(r); /* every fetch is started: drop the +1 */
    return;
done:
    service_snapshot_free(&snap);
    free(sel);
    req_done(c);
}

static json_t *feed_status_base(const struct service_feed *f, int64_t now, int64_t stale_after);
static int feed_status_freshness(json_t *o, const struct service_feed *f);

static json_t *
feed_status(const struct service_feed *f, int64_t now, int64_t stale_after)
{
    json_t *o = feed_status_base(f, now, stale_after);
    /* the shared schedule (SPEC §10): who holds the feed, until when, and
     * the fencing token of its latest claim */
    if (o != NULL &&
        (json_object_set_new(o, "owner", f->owner[0] ? json_string(f->owner) : json_null()) < 0 ||
         json_object_set_new(o, "lease_until",
                             f->lease_until > 0 ? iso(f->lease_until) : json_null()) < 0 ||
         json_object_set_new(o, "token", json_integer((json_int_t)f->token)) < 0 ||
         json_object_set_new(o, "unlisted", json_boolean(f->unlisted)) < 0 ||
         feed_status_freshness(o, f) < 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Issue 13: why the next fetch is when it is, and the median lag of the
 * day before the last fetch (seconds; null without an article that counts). */
static int
feed_status_freshness(json_t *o, const struct service_feed *f)
{
    json_t *why = f->enabled && f->next_why[0] ? json_string(f->next_why) : json_null();
    json_t *lag = f->lag_n > 0 ? json_integer((json_int_t)f->lag_median) : json_null();
    if (json_object_set_new(o, "next_reason", why) < 0 ||
        json_object_set_new(o, "lag_median", lag) < 0 ||
        json_object_set_new(o, "lag_articles", json_integer((json_int_t)f->lag_n)) < 0)
        return -1;
    return 0;
}

static json_t *
feed_status_base(const struct service_feed *f, int64_t now, int64_t stale_after)
{
    return json_pack("{s:s, s:s, s:b, s:o, s:s, s:s, s:I, s:o, s:I, s:I, s:o, s:{s:I, s:I, s:I, "
                     "s:I}}",
                     "feed", f->name, "url", f->url ? f->url : "", "enabled", f->enabled,
                     "last_fetch", iso(f->last_fetch), "last_status",
                     f->fetched ? service_outcome_name(f->last) : "never", "state",
                     service_feed_state(f, now, stale_after), "http", (json_int_t)f->http,
                     "next_fetch", f->enabled ? iso(f->next_fetch > 0 ? f->next_fetch : now)
                                              : json_null(),
                     "errors", (json_int_t)f->errors, "articles", (json_int_t)f->articles,
                     "error", f->error[0] ? json_string(f->error) : json_null(), "last_counts",
                     "new", (json_int_t)f->counts.new_, "updated", (json_int_t)f->counts.updated,
                     "duplicates", (json_int_t)f->counts.duplicates, "unchanged",
                     (json_int_t)f->counts.unchanged);
}

static void
answer_status(struct client *c, char **args, int nargs)
{
    struct service_snapshot snap;
    int64_t now = now_s();
    json_t *feeds;
    int rc;
    if (nargs > 1) {
        reply_error(c, "usage: status [FEED]");
        return;
    }
    if ((rc = service_snapshot(c->ctl->svc, nargs == 1 ? args[0] : NULL, &snap)) < 0) {
        if (rc == -ENOENT)
            reply_error(c, "unknown feed \"%s\"", args[0]);
        else
            reply_error(c, "out of memory");
        return;
    }
    feeds = json_array();
    for (size_t i = 0; i < snap.nfeeds; i++)
        json_array_append_new(feeds, feed_status(&snap.feeds[i], now, snap.stale_after));
    json_t *o = json_pack("{s:b, s:s, s:o}", "ok", 1, "node", snap.node, "feeds", feeds);
    service_snapshot_free(&snap);
    reply(c, o);
}

static void
answer_stats(struct client *c)
{
    struct service_stats st;
    json_t *fetches = json_object();
    long articles = 0;
    service_stats(c->ctl->svc, &st);
    for (int o = 0; o < SERVICE_OUTCOMES; o++)
        json_object_set_new(fetches, service_outcome_name((enum service_outcome)o),
                            json_integer((json_int_t)st.fetches[o]));
    (void)service_articles(c->ctl->svc, &articles); /* 0 when the store does not answer */
    reply(c, json_pack("{s:b, s:s, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I}, s:b}", "ok", 1,
                       "version", FINFEED_VERSION, "uptime", (json_int_t)(now_s() - st.started),
                       "feeds", (json_int_t)st.feeds, "articles", (json_int_t)articles,
                       "fetches", fetches, "stored", "new", (json_int_t)st.stored[0], "updated",
                       (json_int_t)st.stored[1], "duplicates", (json_int_t)st.stored[2],
                       "unchanged", (json_int_t)st.stored[3], "store_ok", st.store_ok));
}

/* The prune finished: answer, unless the client went away meanwhile. */
static void
on_pruned(void *arg, int rc, const struct service_pruned *p, const char *err)
{
    struct client *c = arg;
    c->pruning--;
    if (c->closing) {
        if (c->handles == 0 && c->pruning == 0)
            free(c);
        return;
    }
    if (rc < 0)
        reply_error(c, "prune failed: %s", err);
    else
        reply(c, json_pack("{s:b, s:I, s:I}", "ok", 1, "pruned", (json_int_t)p->articles,
                           "tombstones", (json_int_t)p->tombstones));
    req_done(c);
}

static void
answer_prune(struct client *c)
{
    c->pruning++;
    if (service_prune(c->ctl->svc, on_pruned, c) < 0) {
        c->pruning--;
        reply_error(c, "out of memory");
        req_done(c);
    }
}

int
ctl_split(char *line, char **argv, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return -E2BIG; /* never a silent cut: "refresh" would skip feeds */
        argv[n++] = t;
    }
    return n;
}

static void
process(struct client *c)
{
    struct req *r = c->head;
    if (r == NULL || r->started)
        return;
    r->started = 1;
    char *argv[64];
    int argc = ctl_split(r->line, argv, 64);
    if (argc < 0) {
        reply_error(c, "too many words (at most 64)");
        req_done(c);
        return;
    }
    if (argc == 0) {
        reply_error(c, "empty request");
        req_done(c);
        return;
    }
    if (strcmp(argv[0], "refresh") == 0) {
        answer_refresh(c, r, argv + 1, argc - 1);
        return; /* answers (now or later) and calls req_done */
    }
    if (strcmp(argv[0], "prune") == 0) {
        answer_prune(c);
        return;
    }
    if (strcmp(argv[0], "ping") == 0) {
        reply(c, json_pack("{s:b, s:s}", "ok", 1, "version", FINFEED_VERSION));
    } else if (strcmp(argv[0], "status") == 0) {
        answer_status(c, argv + 1, argc - 1);
    } else if (strcmp(argv[0], "stats") == 0) {
        answer_stats(c);
    } else if (strcmp(argv[0], "reload") == 0) {
        char err[512];
        struct service_stats st;
        if (service_reload(c->ctl->svc, err, sizeof(err)) < 0) {
            reply_error(c, "%s", err);
        } else {
            service_stats(c->ctl->svc, &st);
            reply(c, json_pack("{s:b, s:I}", "ok", 1, "feeds", (json_int_t)st.feeds));
        }
    } else {
        reply_error(c, "unknown command '%s' (ping, refresh, status, reload, stats, prune)",
                    argv[0]);
    }
    req_done(c);
}

/* ---- reading ---- */

static void
on_uv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct client *c = h->data;
    size_t room = LINE_MAX_BYTES - c->len;
    if (room == 0) { /* full without a newline: the rest of the line is skipped */
        c->discarding = 1;
        c->len = 0;
        room = LINE_MAX_BYTES;
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)room);
}

static void
add_line(struct client *c, const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == '\r'))
        n--;
    struct req *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->line = strndup(line, n)) == NULL) {
        free(r);
        return;
    }
    r->c = c;
    if (memchr(line, '\0', n) != NULL) {
        r->line[0] = '\0'; /* a NUL byte: malformed */
    }
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    process(c);
}

static void
on_uv_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct client *c = s->data;
    if (nread < 0) {
        client_close(c);
        return;
    }
    if (nread == 0)
        return; /* EAGAIN */
    if (uv_timer_again(&c->idle) < 0) {
        client_close(c);
        return;
    }
    c->active = uv_now(c->ctl->loop);
    size_t start = c->len;
    c->len += (size_t)nread;
    char *p = c->buf, *end = c->buf + c->len, *nl;
    char *scan = c->buf + start;
    while ((nl = memchr(scan, '\n', (size_t)(end - scan))) != NULL) {
        if (c->discarding) {
            c->discarding = 0;
            reply_error(c, "request line longer than 4096 bytes");
        } else {
            add_line(c, p, (size_t)(nl - p));
        }
        if (c->closing)
            return;
        p = scan = nl + 1;
    }
    size_t rest = (size_t)(end - p);
    memmove(c->buf, p, rest);
    c->len = rest;
}

static void
on_client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    if (--c->handles > 0 || c->pruning > 0)
        return; /* a prune job still holds it: on_pruned frees it */
    free(c);
}

static void accept_resume(struct ctl *ctl);

static void
client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    struct ctl *ctl = c->ctl;
    /* pending refreshes: their waiters must not call back into a dead client */
    while (c->head != NULL) {
        struct req *r = c->head;
        c->head = r->next;
        for (size_t i = 0; i < r->n; i++)
            service_refresh_cancel(ctl->svc, &r->w[i].w);
        req_free(r);
    }
    c->tail = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ctl->nclients--;
    uv_close((uv_handle_t *)&c->idle, on_client_closed);
    uv_close((uv_handle_t *)&c->pipe, on_client_closed); /* closes its descriptor now */
    accept_resume(ctl); /* a descriptor is free again (OpenBSD control_close) */
}

static void
on_idle(uv_timer_t *t)
{
    client_close(t->data);
}

/* ---- accepting ---- */

/* The table is full: close the idle client (no request pending) silent for
 * longest, so that a new client always gets in. Returns 0, or -EBUSY when
 * every client waits for an answer. */
static int
drop_oldest_idle(struct ctl *ctl)
{
    struct client *victim = NULL;
    for (struct client *c = ctl->clients; c != NULL; c = c->next)
        if (c->head == NULL && c->pruning == 0 && (victim == NULL || c->active <= victim->active))
            victim = c;
    if (victim == NULL)
        return -EBUSY;
    log_info("event=control-client-dropped reason=\"table full, oldest idle\" clients=%d",
             ctl->nclients);
    client_close(victim);
    return 0;
}

static struct client *
client_alloc(struct ctl *ctl)
{
    if (atomic_load(&ctl->fail_allocs) > 0 && atomic_fetch_sub(&ctl->fail_allocs, 1) > 0)
        return NULL;
    return calloc(1, sizeof(struct client));
}

/* Serve the accepted descriptor fd (taken: closed on every failure). */
static void
client_add(struct ctl *ctl, int fd)
{
    struct client *c = client_alloc(ctl);
    int rc;
    if (c == NULL) {
        log_warnx("event=control-client-refused error=\"out of memory\"");
        close(fd);
        return;
    }
    if (ctl->nclients >= MAX_CLIENTS && drop_oldest_idle(ctl) < 0) {
        log_warnx("event=control-client-refused reason=\"every client is waiting\" clients=%d",
                  ctl->nclients);
        free(c);
        close(fd);
        return;
    }
    c->ctl = ctl;
    if ((rc = uv_pipe_init(ctl->loop, &c->pipe, 0)) < 0) {
        log_warnx("event=control-client-refused error=%s", LOG_QUOTE(uv_strerror(rc)));
        free(c);
        close(fd);
        return;
    }
    c->pipe.data = c;
    c->handles = 1;
    c->closing = 1; /* until it is in the table */
    if ((rc = uv_pipe_open(&c->pipe, fd)) < 0) {
        close(fd); /* not the pipe's: uv_pipe_open failed */
        log_warnx("event=control-client-refused error=%s", LOG_QUOTE(uv_strerror(rc)));
        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        return;
    }
    if ((rc = uv_timer_init(ctl->loop, &c->idle)) < 0) {
        log_warnx("event=control-client-refused error=%s", LOG_QUOTE(uv_strerror(rc)));
        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        return;
    }
    c->handles = 2;
    c->idle.data = c;
    c->closing = 0;
    c->active = uv_now(ctl->loop);
    c->next = ctl->clients;
    if (c->next)
        c->next->prev = c;
    ctl->clients = c;
    ctl->nclients++;
    if ((rc = uv_timer_start(&c->idle, on_idle, IDLE_MS, IDLE_MS)) < 0 ||
        (rc = uv_read_start((uv_stream_t *)&c->pipe, on_uv_alloc, on_uv_read)) < 0) {
        log_warnx("event=control-client-refused error=%s", LOG_QUOTE(uv_strerror(rc)));
        client_close(c);
    }
}

static void on_uv_poll(uv_poll_t *p, int status, int events);

static void
on_pause_end(uv_timer_t *t)
{
    accept_resume(t->data);
}

/* Stop watching the listening socket for a while: clients wait in its
 * backlog (a level-triggered watch would spin on EMFILE). */
static void
accept_pause(struct ctl *ctl, int err)
{
    int rc;
    if (ctl->paused || ctl->closing)
        return;
    ctl->paused = 1;
    log_warnx("event=control-accept-paused error=%s", LOG_QUOTE(uv_strerror(err)));
    if ((rc = uv_poll_stop(&ctl->listen)) < 0 ||
        (rc = uv_timer_start(&ctl->pause, on_pause_end, PAUSE_MS, 0)) < 0)
        log_warnx("event=control-accept-pause error=%s", LOG_QUOTE(uv_strerror(rc)));
}

static void
accept_resume(struct ctl *ctl)
{
    int rc;
    if (!ctl->paused || ctl->closing)
        return;
    ctl->paused = 0;
    if ((rc = uv_timer_stop(&ctl->pause)) < 0 ||
        (rc = uv_poll_start(&ctl->listen, UV_READABLE, on_uv_poll)) < 0) {
        log_warnx("event=control-accept-resume error=%s", LOG_QUOTE(uv_strerror(rc)));
        ctl->paused = 1; /* try again in a while */
        if ((rc = uv_timer_start(&ctl->pause, on_pause_end, PAUSE_MS, 0)) < 0)
            log_warnx("event=control-accept-resume error=%s", LOG_QUOTE(uv_strerror(rc)));
    }
}

static void
on_uv_poll(uv_poll_t *p, int status, int events)
{
    struct ctl *ctl = p->data;
    (void)events;
    if (status < 0) {
        accept_pause(ctl, status);
        return;
    }
    for (int i = 0; i < ACCEPT_BURST && !ctl->paused && !ctl->closing; i++) {
        int fd = accept(ctl->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            if (errno == ECONNABORTED || errno == EPROTO)
                continue; /* that client gave up: the next one */
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: nothing to accept it with now */
            accept_pause(ctl, -errno);
            return;
        }
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            close(fd);
            continue;
        }
        client_add(ctl, fd);
    }
}

/* The listening socket at path, mode 0660: its descriptor, or -errno. */
static int
listen_on(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc = 0;
    if (fd < 0)
        return -errno;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    mode_t old = umask(0117); /* the socket is created 0660 */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
        bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        rc = -errno;
    umask(old);
    if (rc == 0 && (chmod(path, 0660) < 0 || listen(fd, 64) < 0)) {
        rc = -errno;
        unlink(path);
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int
ctl_start(uv_loop_t *loop, struct service *svc, const char *path, struct ctl **out, char *err,
          size_t errsize)
{
    struct ctl *ctl = calloc(1, sizeof(*ctl));
    struct sockaddr_un sun;
    int rc;
    *out = NULL;
    if (ctl == NULL) {
        snprintf(err, errsize, "control socket: out of memory");
        return -ENOMEM;
    }
    ctl->fd = -1;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errsize, "control socket path too long: %s", path);
        free(ctl);
        return -ENAMETOOLONG;
    }
    ctl->loop = loop;
    ctl->svc = svc;
    if ((ctl->path = strdup(path)) == NULL) {
        snprintf(err, errsize, "control socket: out of memory");
        free(ctl);
        return -ENOMEM;
    }
    /* A stale socket left by a crash is removed; a live daemon's is not. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, path, strlen(path) + 1);
        int live = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
        if (fd >= 0)
            close(fd);
        if (live) {
            snprintf(err, errsize, "%s: another finfeed daemon is already listening", path);
            free(ctl->path);
            free(ctl);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    if ((rc = listen_on(path)) < 0) {
        snprintf(err, errsize, "control socket %s: %s", path, strerror(-rc));
        free(ctl->path);
        free(ctl);
        return rc;
    }
    ctl->fd = rc;
    if ((rc = uv_timer_init(loop, &ctl->pause)) < 0)
        goto fail;
    ctl->pause.data = ctl;
    ctl->handles++;
    if ((rc = uv_poll_init(loop, &ctl->listen, ctl->fd)) < 0)
        goto fail;
    ctl->listen.data = ctl;
    ctl->handles++;
    if ((rc = uv_poll_start(&ctl->listen, UV_READABLE, on_uv_poll)) < 0)
        goto fail;
    *out = ctl;
    return 0;
fail:
    snprintf(err, errsize, "control socket %s: %s", path, uv_strerror(rc));
    ctl->closing = 1;
    unlink(path);
    if (ctl->handles == 0) {
        close(ctl->fd);
        free(ctl->path);
        free(ctl);
        return rc;
    }
    /* freed by the close callbacks, once the caller runs the loop */
    uv_close((uv_handle_t *)&ctl->pause, on_ctl_closed);
    if (ctl->handles == 2)
        uv_close((uv_handle_t *)&ctl->listen, on_ctl_closed);
    return rc;
}

static void
on_ctl_closed(uv_handle_t *h)
{
    struct ctl *ctl = h->data;
    if (--ctl->handles > 0)
        return;
    void (*done)(void *) = ctl->done;
    void *arg = ctl->done_arg;
    if (ctl->fd >= 0)
        close(ctl->fd); /* after the poll handle is closed, as uv_poll_t wants */
    free(ctl->path);
    free(ctl);
    if (done)
        done(arg);
}

void
ctl_stop(struct ctl *ctl, void (*done)(void *arg), void *arg)
{
    ctl->closing = 1;
    ctl->done = done;
    ctl->done_arg = arg;
    while (ctl->clients != NULL)
        client_close(ctl->clients);
    if (ctl->path != NULL)
        unlink(ctl->path);
    uv_close((uv_handle_t *)&ctl->pause, on_ctl_closed);
    uv_close((uv_handle_t *)&ctl->listen, on_ctl_closed);
}

void
ctl_test_fail_allocs(struct ctl *ctl, int n)
{
    atomic_store(&ctl->fail_allocs, n);
}
