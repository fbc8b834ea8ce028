/* daemon/http/http_work.c — renders off the loop thread (SPEC §10: the event
 * loop never blocks on the store): a request whose document is missing or
 * stale suspends its connection and waits on a render in libuv's threadpool.
 * One render runs at a time (the reader connection is one thread's at a
 * time), the others queue; requests for one key share one render. Its end,
 * back on the loop, fills the cache and answers and resumes the waiters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http/http_int.h"
#include "daemon/log/log.h"

/* A connection suspended until its render ends. */
struct http_waiter {
    struct http_waiter *next;
    struct MHD_Connection *c;
    char *url;                        /* the request's path, for logs; owned */
    char reader[HTTP_READER_MAX + 1]; /* its reader's name, "" none */
};

/* The hub's wait for a render (service_hub_render_fn). */
struct http_hub_waiter {
    struct http_hub_waiter *next;
    service_hub_doc_fn done;
    void *ctx;
};

/* One render: queued, then in the threadpool. Between uv_queue_work() and
 * on_uv_work_done() the worker owns `in`, the results and `hook*`; the loop
 * thread touches only the rest (and frees nothing). */
struct http_job {
    uv_work_t work;        /* work.data: the job */
    struct http *h;        /* its server (kept alive until the job ends) */
    struct http_job *next; /* in h's queue */
    char *key;             /* owned */
    size_t keylen;
    int64_t gen;         /* service generation when the render started */
    unsigned long epoch; /* h->epoch when the job was made */
    struct http_waiter *waiters;
    struct http_hub_waiter *hub_waiters;
    /* the worker's: */
    struct http_render_in in;
    int (*hook)(void *arg);
    void *hook_arg;
    int rc;
    struct http_render_out out;
    char err[256];
};

static void
waiters_free(struct http_waiter *w)
{
    while (w != NULL) {
        struct http_waiter *next = w->next;
        free(w->url);
        free(w);
        w = next;
    }
}

static void
job_free(struct http_job *j)
{
    if (j == NULL)
        return;
    waiters_free(j->waiters);
    while (j->hub_waiters != NULL) { /* answered before: only the list */
        struct http_hub_waiter *w = j->hub_waiters;
        j->hub_waiters = w->next;
        free(w);
    }
    http_render_in_free(&j->in);
    http_render_out_free(&j->out);
    free(j->key);
    free(j);
}

/* The job for key that a new request may join: a queued one, or the one in
 * flight when it reads the present generation of the store. */
static struct http_job *
job_find(struct http *h, const char *key, size_t keylen)
{
    struct http_job *r = h->running;
    if (r != NULL && r->keylen == keylen && memcmp(r->key, key, keylen) == 0 &&
        r->epoch == h->epoch && r->gen == http_generation(h))
        return r;
    for (struct http_job *j = h->queue_head; j != NULL; j = j->next)
        if (j->keylen == keylen && memcmp(j->key, key, keylen) == 0 && j->epoch == h->epoch)
            return j;
    return NULL;
}

/* ---- the worker (a threadpool thread: reads the job only) ---- */

static void
on_uv_work(uv_work_t *w)
{
    struct http_job *j = w->data;
    j->rc = j->hook != NULL ? j->hook(j->hook_arg) : 0;
    if (j->rc < 0) {
        snprintf(j->err, sizeof(j->err), "the render hook failed");
        return;
    }
    j->rc = http_render(&j->in, &j->out, j->err, sizeof(j->err));
}

/* ---- back on the loop ---- */

/* Answer and resume every connection waiting on j, whose render ended with
 * rc (0: j->doc is taken; -EIO: j->err says why). The responses are queued
 * on suspended connections; MHD sends them on its next run. */
static void
job_answer(struct http *h, struct http_job *j, int rc)
{
    struct http_entry *e = NULL;

    if (rc == 0) {
        /* A render of an older configuration (a reload since) answers its
         * waiters but is not fresh for anyone else. */
        int64_t gen = j->epoch == h->epoch ? j->gen : HTTP_GEN_NEVER;
        rc = http_cache_put(h, j->key, j->keylen, j->out.doc, j->out.len, j->out.type, j->out.links,
                            gen, &e);
        j->out.doc = NULL; /* taken */
    } else if (rc == -ENOENT) {
        http_cache_drop(h, j->key, j->keylen);
    } else if (rc == -EIO) {
        /* The store fails: the last rendering, stale, is served meanwhile
         * (SPEC §10), and for HTTP_RETRY_MS without asking the store. */
        char q[512];
        log_warnx("event=http-render-failed route=%s error=%s",
                  log_q(j->waiters != NULL ? j->waiters->url : "-", q, sizeof(q)),
                  LOG_QUOTE(j->err));
        if ((e = http_cache_find(h, j->key, j->keylen)) != NULL) {
            e->retry_at = uv_now(h->loop) + HTTP_RETRY_MS;
            http_entry_touch(h, e);
            rc = 0;
        }
    }
    for (struct http_waiter *w = j->waiters; w != NULL; w = w->next) {
        h->route_url = w->url;
        snprintf(h->reader, sizeof(h->reader), "%s", w->reader);
        if (http_answer(h, w->c, rc, e) != MHD_YES)
            log_debug("event=http-queue-failed");
        /* Without a response queued, MHD calls on_mhd_request again: its
         * con_cls (uri_wait) then says to close the connection. */
        MHD_resume_connection(w->c);
        h->nsuspended--;
    }
    h->route_url = NULL;
    h->reader[0] = '\0';
    waiters_free(j->waiters);
    j->waiters = NULL;
    /* the hub's: the document as rendered now, never the stale one kept */
    struct service_hub_doc d = {0};
    if (rc == 0 && e != NULL && e->retry_at == 0)
        d = (struct service_hub_doc){.doc = e->doc,
                                     .len = e->len,
                                     .type = e->type,
                                     .self = j->out.self,
                                     .entries = j->out.entries};
    else if (rc == 0)
        rc = -EIO;
    while (j->hub_waiters != NULL) {
        struct http_hub_waiter *w = j->hub_waiters;
        j->hub_waiters = w->next;
        w->done(w->ctx, rc, rc == 0 ? &d : NULL);
        free(w);
    }
}

static void on_uv_work_done(uv_work_t *w, int status);

/* Start the next queued render when none is in flight. */
static void
pump(struct http *h)
{
    while (h->running == NULL && h->queue_head != NULL && !h->stopping) {
        struct http_job *j = h->queue_head;
        if ((h->queue_head = j->next) == NULL)
            h->queue_tail = NULL;
        j->next = NULL;
        /* Read before the query: the rendering is at least this fresh. */
        j->gen = http_generation(h);
        j->hook = h->render_hook;
        j->hook_arg = h->render_hook_arg;
        j->work.data = j;
        int rc = uv_queue_work(h->loop, &j->work, on_uv_work, on_uv_work_done);
        if (rc == 0) {
            h->running = j;
            h->renders++;
            continue;
        }
        log_warnx("event=http-render-failed error=\"uv_queue_work: %s\"", uv_strerror(rc));
        job_answer(h, j, -ENOMEM);
        job_free(j);
    }
}

static void
on_uv_work_done(uv_work_t *w, int status)
{
    struct http_job *j = w->data;
    struct http *h = j->h;

    (void)status; /* never cancelled: the job always ran */
    h->running = NULL;
    if (h->stopping) {
        /* Its waiters were answered at http_work_stop; h waited for it. */
        job_free(j);
        if (h->handles == 0)
            http_free(h);
        return;
    }
    job_answer(h, j, j->rc);
    job_free(j);
    pump(h);
    http_drive(h); /* send what was queued, then watch again */
}

int
http_work_hub(struct http *h, const char *key, size_t keylen, struct http_render_in *in,
              service_hub_doc_fn done, void *ctx)
{
    struct http_hub_waiter *w = NULL;
    struct http_job *j = NULL;

    if (h->stopping) {
        http_render_in_free(in);
        return -ESHUTDOWN;
    }
    if ((w = calloc(1, sizeof(*w))) == NULL) {
        http_render_in_free(in);
        return -ENOMEM;
    }
    w->done = done;
    w->ctx = ctx;
    /* a queued render has not read the store yet: it sees the change */
    for (j = h->queue_head; j != NULL; j = j->next)
        if (j->keylen == keylen && memcmp(j->key, key, keylen) == 0 && j->epoch == h->epoch)
            break;
    if (j != NULL) {
        http_render_in_free(in);
    } else {
        if ((j = calloc(1, sizeof(*j))) == NULL || (j->key = malloc(keylen + 1)) == NULL) {
            free(j);
            free(w);
            http_render_in_free(in);
            return -ENOMEM;
        }
        memcpy(j->key, key, keylen);
        j->key[keylen] = '\0';
        j->keylen = keylen;
        j->h = h;
        j->epoch = h->epoch;
        j->in = *in; /* taken */
        memset(in, 0, sizeof(*in));
        if (h->queue_tail != NULL)
            h->queue_tail->next = j;
        else
            h->queue_head = j;
        h->queue_tail = j;
    }
    w->next = j->hub_waiters;
    j->hub_waiters = w;
    pump(h);
    return 0;
}

int
http_work_add(struct http *h, struct MHD_Connection *c, void **con_cls, const char *url,
              const char *key, size_t keylen, struct http_render_in *in)
{
    /* Suspended connections leave the table's room to the rest (/healthz,
     * cached documents): at most half of it waits on renders. */
    unsigned cap = h->limits.connections / 2 > 0 ? h->limits.connections / 2 : 1;
    struct http_waiter *w = NULL;
    struct http_job *j = NULL;
    int rc = 0;

    if (h->stopping || h->nsuspended >= cap) {
        rc = -EAGAIN;
        goto fail;
    }
    if ((w = calloc(1, sizeof(*w))) == NULL || (w->url = strdup(url)) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    w->c = c;
    snprintf(w->reader, sizeof(w->reader), "%s", h->reader);
    if ((j = job_find(h, key, keylen)) != NULL) {
        h->coalesced++;
        http_render_in_free(in);
    } else {
        if ((j = calloc(1, sizeof(*j))) == NULL || (j->key = malloc(keylen + 1)) == NULL) {
            free(j);
            rc = -ENOMEM;
            goto fail;
        }
        memcpy(j->key, key, keylen);
        j->key[keylen] = '\0';
        j->keylen = keylen;
        j->h = h;
        j->epoch = h->epoch;
        j->in = *in; /* taken */
        memset(in, 0, sizeof(*in));
        if (h->queue_tail != NULL)
            h->queue_tail->next = j;
        else
            h->queue_head = j;
        h->queue_tail = j;
    }
    w->next = j->waiters;
    j->waiters = w;
    MHD_suspend_connection(c);
    *con_cls = &h->uri_wait;
    h->nsuspended++;
    pump(h);
    return 0;
fail:
    if (w != NULL)
        free(w->url);
    free(w);
    http_render_in_free(in);
    return rc;
}

void
http_work_stop(struct http *h)
{
    struct http_job *j;

    while ((j = h->queue_head) != NULL) {
        h->queue_head = j->next;
        job_answer(h, j, -ESHUTDOWN);
        job_free(j);
    }
    h->queue_tail = NULL;
    /* The worker touches the job's input and results only, never its
     * waiters; the job itself is freed when it comes back. */
    if (h->running != NULL)
        job_answer(h, h->running, -ESHUTDOWN);
}
