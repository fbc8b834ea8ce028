/* fetch/fetch.c — the engine: libcurl's multi_socket API on the libuv loop
 * (one uv_poll_t a socket, one non-repeating uv_timer_t; the pitfalls of
 * curl's docs/examples/multi-uv.c avoided, STYLE §11), the FIFO queue under
 * `concurrency` and `per_host`, completion, cancellation and close. One
 * transfer's options and result are in xfer.c. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/fetch_int.h"

static void on_uv_idle(uv_idle_t *h);
static void on_uv_poll(uv_poll_t *h, int status, int events);
static void on_uv_timer(uv_timer_t *h);

/* ---- the end of the engine: freed when its last uv handle has closed ---- */

static void
engine_release(struct fetch *f)
{
    void (*done)(void *arg) = f->done;
    void *arg = f->done_arg;

    if (--f->open_handles > 0)
        return;
    free(f);
    if (done != NULL)
        done(arg);
}

static void
on_uv_close_engine(uv_handle_t *h)
{
    engine_release(h->data);
}

static void
on_uv_close_sock(uv_handle_t *h)
{
    struct fetch_sock *sk = FETCH_CONTAINER_OF(h, struct fetch_sock, poll);
    struct fetch *f = sk->f;

    free(sk);
    engine_release(f);
}

static void
sock_close(struct fetch_sock *sk)
{
    LIST_REMOVE(sk, link);
    uv_close((uv_handle_t *)&sk->poll, on_uv_close_sock); /* stops the poll too */
}

/* ---- hosts: per_host counts, shared by the transfers naming them ---- */

static struct fetch_host *
host_ref(struct fetch *f, const char *name)
{
    struct fetch_host *h;
    size_t n = strlen(name);

    LIST_FOREACH (h, &f->hosts, link) {
        if (strcmp(h->name, name) == 0) {
            h->refs++;
            return h;
        }
    }
    h = calloc(1, sizeof(*h) + n + 1);
    if (h == NULL)
        return NULL;
    memcpy(h->name, name, n + 1);
    h->refs = 1;
    LIST_INSERT_HEAD(&f->hosts, h, link);
    return h;
}

static void
host_unref(struct fetch_host *h)
{
    if (h == NULL || --h->refs > 0)
        return;
    LIST_REMOVE(h, link);
    free(h);
}

/* The host that per_host counts: lower-cased, "" when the URL has none
 * (file://). Sets *out (malloc'd). */
static int
url_host(const char *url, char **out)
{
    CURLU *u = curl_url();
    char *host = NULL;
    CURLUcode uc;
    int rc = 0;

    *out = NULL;
    if (u == NULL)
        return -ENOMEM;
    /* The same guess libcurl makes for a URL without a scheme; an unknown
     * scheme parses here and fails later with -EPROTONOSUPPORT. */
    uc = curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        rc = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto done;
    }
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK) {
        for (char *p = host; *p != '\0'; p++)
            *p = (char)tolower((unsigned char)*p);
        *out = strdup(host);
    } else if (uc == CURLUE_NO_HOST) {
        *out = strdup("");
    } else {
        rc = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto done;
    }
    if (*out == NULL)
        rc = -ENOMEM;
done:
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* ---- transfers: queued → active → reported and freed ---- */

enum { XFER_NONE, XFER_QUEUED, XFER_ACTIVE };

static void
xfer_detach(struct fetch *f, struct fetch_xfer *t, int where)
{
    if (where == XFER_QUEUED) {
        TAILQ_REMOVE(&f->queue, t, link);
        f->nqueued--;
    } else {
        TAILQ_REMOVE(&f->active, t, link);
        f->nactive--;
        t->host->active--;
    }
}

static void
xfer_end(struct fetch_xfer *t)
{
    if (t == NULL)
        return;
    host_unref(t->host);
    t->host = NULL;
    fetch_xfer_free(t);
}

static int
xfer_begin(struct fetch *f, struct fetch_xfer *t)
{
    CURLMcode mc;
    int rc = fetch_xfer_setup(t);

    if (rc < 0)
        return rc;
    t->t0 = uv_hrtime();
    /* add_handle calls on_curl_timer (timeout 0); the transfer begins on
     * the next loop iteration, from on_uv_timer. */
    mc = curl_multi_add_handle(f->multi, t->easy);
    if (mc != CURLM_OK) {
        snprintf(t->errbuf, sizeof(t->errbuf), "curl_multi_add_handle: %s",
                 curl_multi_strerror(mc));
        return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    }
    TAILQ_INSERT_TAIL(&f->active, t, link);
    f->nactive++;
    t->host->active++;
    return 0;
}

/* Start queued transfers, in order, while they fit the limits. Runs only
 * from on_uv_idle, so a callback never fires inside fetch_start. */
static void
pump(struct fetch *f)
{
    struct fetch_xfer *t, *next;
    int rc;

again:
    for (t = TAILQ_FIRST(&f->queue); t != NULL && f->nactive < (size_t)f->concurrency; t = next) {
        next = TAILQ_NEXT(t, link);
        if (t->host->active >= f->per_host)
            continue;
        xfer_detach(f, t, XFER_QUEUED);
        rc = xfer_begin(f, t);
        if (rc == 0)
            continue;
        fetch_xfer_report(t, CURLE_OK, rc, t->errbuf[0] != '\0' ? t->errbuf : NULL);
        xfer_end(t);
        if (f->closing)
            return;
        goto again; /* the callback may have queued or started anything */
    }
}

static void
kick(struct fetch *f)
{
    int rc;

    if (f->closing || f->nqueued == 0 || f->nactive >= (size_t)f->concurrency)
        return;
    rc = uv_idle_start(&f->kick, on_uv_idle); /* fails only without a callback */
    assert(rc == 0);
    (void)rc;
}

static void
on_uv_idle(uv_idle_t *h)
{
    struct fetch *f = h->data;

    if (uv_idle_stop(h) == 0)
        pump(f);
}

/* Report every finished transfer. Callbacks may call fetch_start (queued,
 * started later by kick) or fetch_close (f->multi becomes NULL: stop). */
static void
check_info(struct fetch *f)
{
    CURLMsg *msg;
    int left;

    while (f->multi != NULL && (msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result; /* msg dies with remove_handle */
        char *priv = NULL;
        struct fetch_xfer *t;

        if (msg->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || priv == NULL)
            continue;
        t = (struct fetch_xfer *)(void *)priv;
        (void)curl_multi_remove_handle(f->multi, easy);
        xfer_detach(f, t, XFER_ACTIVE);
        fetch_xfer_report(t, res, 0, NULL);
        xfer_end(t);
    }
    kick(f);
}

/* ---- libcurl ⇄ libuv ---- */

/* A socket could not be watched: its transfer can only time out; say why. */
static void
sock_failed(CURL *easy, int error)
{
    char *priv = NULL;

    if (easy != NULL && curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) == CURLE_OK &&
        priv != NULL)
        ((struct fetch_xfer *)(void *)priv)->sock_error = error;
}

/* CURLMOPT_SOCKETFUNCTION. Inside libcurl: only uv calls and curl_multi_assign
 * here. Returning -1 would kill the whole multi handle, so a failure is
 * recorded on its transfer instead. */
static int
on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct fetch *f = userp;
    struct fetch_sock *sk = socketp;
    int events = 0, rc;

    if (what == CURL_POLL_REMOVE) {
        /* libcurl forgets socketp itself after this call */
        if (sk != NULL)
            sock_close(sk);
        return 0;
    }
    if (sk == NULL) {
        sk = calloc(1, sizeof(*sk));
        if (sk == NULL) {
            sock_failed(easy, -ENOMEM);
            return 0;
        }
        rc = uv_poll_init_socket(f->loop, &sk->poll, s);
        if (rc < 0) {
            free(sk); /* never a handle of the loop */
            sock_failed(easy, rc);
            return 0;
        }
        sk->f = f;
        sk->fd = s;
        f->open_handles++;
        LIST_INSERT_HEAD(&f->socks, sk, link);
        if (curl_multi_assign(f->multi, s, sk) != CURLM_OK) {
            sock_close(sk);
            sock_failed(easy, -ENOMEM);
            return 0;
        }
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    rc = uv_poll_start(&sk->poll, events, on_uv_poll);
    if (rc < 0)
        sock_failed(easy, rc);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one non-repeating timer; -1 deletes it; 0 means
 * "soon", which the timer does from the next loop iteration — never call
 * curl_multi_socket_action from here. */
static int
on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct fetch *f = userp;
    int rc;

    (void)multi;
    if (timeout_ms < 0)
        rc = uv_timer_stop(&f->timer);
    else
        rc = uv_timer_start(&f->timer, on_uv_timer, (uint64_t)timeout_ms, 0);
    assert(rc == 0); /* fails only on a closing handle, closed after the multi */
    (void)rc;
    return 0;
}

static void
on_uv_timer(uv_timer_t *h)
{
    struct fetch *f = h->data;
    int running;

    (void)curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_info(f);
}

static void
on_uv_poll(uv_poll_t *h, int status, int events)
{
    struct fetch_sock *sk = FETCH_CONTAINER_OF(h, struct fetch_sock, poll);
    struct fetch *f = sk->f; /* sk may be closed by the call below */
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    (void)curl_multi_socket_action(f->multi, sk->fd, flags, &running);
    check_info(f);
}

/* ---- the API ---- */

int
fetch_new(uv_loop_t *loop, long concurrency, long per_host, struct fetch **out)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    struct fetch *f = NULL;
    int rc;

    *out = NULL;
    if (loop == NULL || concurrency < 1 || per_host < 1)
        return -EINVAL;
    /* Without a threaded (or c-ares) resolver, name lookups block the loop. */
    if (!(v->features & CURL_VERSION_ASYNCHDNS))
        return -ENOTSUP;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -ENOMEM;
    f->loop = loop;
    f->concurrency = concurrency;
    f->per_host = per_host;
    TAILQ_INIT(&f->queue);
    TAILQ_INIT(&f->active);
    LIST_INIT(&f->hosts);
    LIST_INIT(&f->socks);
    f->multi = curl_multi_init();
    if (f->multi == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    if (curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, concurrency) != CURLM_OK) {
        rc = -EIO;
        goto fail;
    }
    rc = uv_timer_init(loop, &f->timer);
    if (rc < 0)
        goto fail;
    f->timer.data = f;
    f->open_handles++;
    rc = uv_idle_init(loop, &f->kick);
    if (rc < 0)
        goto fail;
    f->kick.data = f;
    f->open_handles++;
    *out = f;
    return 0;

fail:
    if (f->multi != NULL)
        curl_multi_cleanup(f->multi);
    f->multi = NULL;
    f->closing = 1;
    if (f->open_handles == 0)
        free(f);
    else /* the timer is a handle of the loop now: f goes in its close callback */
        uv_close((uv_handle_t *)&f->timer, on_uv_close_engine);
    return rc;
}

static int
has_crlf(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* strdup of an optional string: NULL and "" stay NULL. */
static int
dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL || *s == '\0')
        return 0;
    *out = strdup(s);
    return *out == NULL ? -ENOMEM : 0;
}

int
fetch_start(struct fetch *f, const struct fetch_request *req, fetch_done_cb cb, void *arg)
{
    struct fetch_xfer *t = NULL;
    char *host = NULL;
    int rc;

    if (f == NULL || req == NULL || req->url == NULL || cb == NULL)
        return -EINVAL;
    if (f->closing)
        return -ECANCELED;
    /* values go into request headers: a CR or LF would add headers */
    if (has_crlf(req->url) || has_crlf(req->etag) || has_crlf(req->last_modified) ||
        has_crlf(req->user_agent) || has_crlf(req->content_type))
        return -EINVAL;
    size_t nextra = 0;
    for (; req->headers != NULL && req->headers[nextra] != NULL; nextra++)
        if (has_crlf(req->headers[nextra]))
            return -EINVAL;
    rc = url_host(req->url, &host);
    if (rc < 0)
        goto fail;
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    t->f = f;
    t->cb = cb;
    t->arg = arg;
    t->url = strdup(req->url);
    if (t->url == NULL || dup_opt(req->etag, &t->etag) < 0 ||
        dup_opt(req->last_modified, &t->last_modified) < 0 ||
        dup_opt(req->user_agent, &t->user_agent) < 0 || dup_opt(req->resolve, &t->resolve) < 0 ||
        dup_opt(req->test_public_addr, &t->public_addr) < 0) {
        rc = -ENOMEM;
        goto fail;
    }
    t->timeout_s = req->timeout_s > 0 ? req->timeout_s : FETCH_DEFAULT_TIMEOUT;
    if (t->timeout_s > 86400) /* a day; keeps timeout_s * 1000 (ms) in range */
        t->timeout_s = 86400;
    t->max_size = req->max_size > 0 ? req->max_size : FETCH_DEFAULT_MAX_SIZE;
    t->allow_file = req->allow_file != 0;
    t->public_only = req->public_only != 0;
    if (req->body != NULL) {
        if ((t->post = malloc(req->body_len + 1)) == NULL ||
            dup_opt(req->content_type, &t->post_type) < 0) {
            rc = -ENOMEM;
            goto fail;
        }
        memcpy(t->post, req->body, req->body_len);
        t->post[req->body_len] = '\0';
        t->post_len = req->body_len;
    }
    if (nextra > 0) {
        if ((t->extra = calloc(nextra + 1, sizeof(char *))) == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < nextra; i++)
            if ((t->extra[i] = strdup(req->headers[i])) == NULL) {
                rc = -ENOMEM;
                goto fail;
            }
    }
    t->host = host_ref(f, host);
    if (t->host == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    TAILQ_INSERT_TAIL(&f->queue, t, link);
    f->nqueued++;
    kick(f);
    free(host);
    return 0;

fail:
    xfer_end(t);
    free(host);
    return rc;
}

void
fetch_counts(const struct fetch *f, size_t *active, size_t *queued)
{
    if (active != NULL)
        *active = f->nactive;
    if (queued != NULL)
        *queued = f->nqueued;
}

int
fetch_set_limits(struct fetch *f, long concurrency, long per_host)
{
    if (concurrency < 1 || per_host < 1)
        return -EINVAL;
    f->concurrency = concurrency;
    f->per_host = per_host;
    (void)curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, concurrency);
    kick(f);
    return 0;
}

void
fetch_close(struct fetch *f, void (*done)(void *arg), void *arg)
{
    struct fetch_xfer *t;
    struct fetch_sock *sk;

    assert(f != NULL && !f->closing);
    f->closing = 1; /* from here fetch_start refuses and kick does nothing */
    f->done = done;
    f->done_arg = arg;
    while ((t = TAILQ_FIRST(&f->active)) != NULL) {
        /* CURLOPT_QUICK_EXIT: a pending threaded resolve is left to finish
         * on its own instead of being joined on the loop thread */
        (void)curl_multi_remove_handle(f->multi, t->easy);
        xfer_detach(f, t, XFER_ACTIVE);
        fetch_xfer_report(t, CURLE_OK, -ECANCELED, "cancelled");
        xfer_end(t);
    }
    while ((t = TAILQ_FIRST(&f->queue)) != NULL) {
        xfer_detach(f, t, XFER_QUEUED);
        fetch_xfer_report(t, CURLE_OK, -ECANCELED, "cancelled");
        xfer_end(t);
    }
    (void)curl_multi_cleanup(f->multi);
    f->multi = NULL;
    /* Sockets of cached connections libcurl closed without a REMOVE. */
    while ((sk = LIST_FIRST(&f->socks)) != NULL)
        sock_close(sk);
    uv_close((uv_handle_t *)&f->timer, on_uv_close_engine);
    uv_close((uv_handle_t *)&f->kick, on_uv_close_engine);
}
