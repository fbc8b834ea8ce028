/* daemon/service/sched.c — the scheduler (SPEC §6): one non-repeating timer for the
 * earliest due feed; a feed is never fetched twice at once; what a fetch asks
 * of the next one goes to its claim's completion (claim.c, policy.c); a fetched body is parsed and stored in the libuv
 * threadpool and stored by one writer thread, one job at a time, so the loop
 * keeps answering while a 16 MB feed is read; the feed's new state is saved
 * through the same queue. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/emit/emit.h"
#include "daemon/log/log.h"
#include "daemon/service/policy.h"
#include "daemon/service/service_int.h"
#include "fetch/fetch.h"

/* After a job failed on a lock held elsewhere, the jobs of the next
 * BUSY_FAST_MS fail at once rather than wait out the busy timeout each: N
 * feeds under a held lock fail after one busy timeout in total, and retry
 * with their backoff. A job that succeeds ends it. */
#define BUSY_FAST_MS 30000

/* Lags of a document's new articles kept for the histogram (issue 13 §1). */
#define INGEST_LAGS 1000
#define INGEST_TOUCHED 64 /* tickers of a document whose routes are pinged, at most */

/* Group commit (store_group_begin): the writer leaves a document's
 * transaction open for the documents behind it in the queue, or on their way
 * to it (being parsed), up to GROUP_DOCS documents or GROUP_MS since the
 * group's first; the jobs' `after` runs once the group has committed, so
 * nothing is reported stored before it is. A lone document commits at once,
 * as before. */
#define GROUP_DOCS 128
#define GROUP_MS 250
#define GROUP_WAKE 8
#define COUNT_MS 1000

struct job {
    struct job *next;
    int (*fn)(struct service *svc, void *arg);
    void (*after)(struct service *svc, void *arg);
    /* a document's store (sched_job_grouped): may share a transaction;
     * fail, on the loop thread before after, when the group's commit failed */
    void (*fail)(void *arg, int rc, const char *err);
    void *arg;
    int joins;        /* not a document, but runs inside an open group (sched_job_joins) */
    int closed;       /* writer → loop: this job ended the group (or had none) */
    int group_rc;     /* … and the commit's result */
    char group_err[256];
};

struct sched {
    uv_timer_t timer;
    int closing;
    int timer_closed;
    int armed;       /* the timer fires at once (sched_rearm) */
    unsigned int seed;
    long busy;       /* feeds fetching or waiting for their ingest */
    long storing;    /* … of which fetched: being parsed or stored */
    long parsing;    /* documents being parsed in the threadpool (on_parse_work),
                      * or waiting for their turn (parse_start) */
    long parse_run;  /* … of which in the threadpool, parse_max at most */
    long parse_max;
    struct fetched *parse_wait, *parse_wait_tail; /* the others, in order */
    long pending;    /* jobs queued and not yet told (job_end) */
    /* the writer: a thread of its own with the writer store, so that it
     * never waits behind the threadpool's parsing for its turn, nor for the
     * loop between two jobs; finished jobs come back in order through the
     * async handle */
    uv_thread_t writer;
    int writer_started;
    uv_async_t async;
    int async_open;
    uv_mutex_t mu;   /* guards what follows, up to the writer's own */
    uv_cond_t cv;    /* a job queued, a document on its way, or quit */
    struct job *head, *tail;      /* queued, loop → writer */
    struct job *done, *done_tail; /* finished (and committed), writer → loop */
    long inbound;    /* documents being parsed: their store jobs will come */
    /* documents stored in the writer's open group and not yet handed back
     * (written by the writer, read by the loop: __atomic) */
    long in_group;
    int quit;        /* the loop is done with the writer */
    /* the writer's own (its thread only) */
    uint64_t fast_until; /* uv_hrtime() ms until which jobs do not wait for a lock */
    uint64_t counted_ms; /* when a job last counted all the articles (ingest_fn) */
    int fast;            /* the writer's busy timeout is 0 now */
    int w_group;         /* a group's transaction is open */
    struct job *group, *group_tail; /* its jobs, run and waiting for its commit */
    int gdocs;           /* documents in the open group */
    uint64_t gstart;     /* uv_hrtime() ms of its first */
};

/* A fetch result on its way through the ingest job. The worker reads only
 * what this holds: f and svc are for the loop thread. */
struct fetched {
    struct feed_run *f;
    struct service *svc;
    struct feed_opts *opts; /* a reference: immutable options */
    struct service_keymaker *keymaker; /* a reference for the parse, or NULL */
    int64_t feed_id;
    int64_t token;          /* fencing token of the claim */
    char *body;             /* freed once parsed (parsed_ready) */
    size_t len;
    /* a fetched document is parsed and cleaned in the threadpool, beside
     * the other fetches' (on_parse_work), then stored by the writer */
    uv_work_t parse_work;
    struct fetched *parse_next; /* waiting for a turn in the threadpool */
    struct service_parsed parsed;
    int parsed_ready;
    char *charset, *etag, *last_modified, *permanent_url;
    long http, retry_after, max_age;
    double seconds;
    int error;
    char errmsg[256];
    /* filled by the job */
    int rc;
    char ingest_err[512];
    struct store_counts counts;
    struct parse_report report;
    int64_t newest;
    long ttl;
    int64_t now;
    long articles;
    long total;           /* articles in the store, when total_ok */
    int total_ok;
    int64_t *lags;        /* the lags of the articles it added (issue 13 §1) */
    size_t nlags;
    char (*touched)[PARSE_TICKER_LEN]; /* the tickers of the articles it changed */
    size_t ntouched;
    char *markdown_dir;   /* [output] markdown_dir when set: posts of new articles */
    long posts;           /* posts written */
    char post_err[256];
    /* WebSub (SPEC §11) */
    char *link_hub, *link_self; /* the response's Link headers */
    char *hub, *self;     /* the document's links, filled by the job */
    char *push_sig;       /* a pushed document: its signature, recorded once stored */
    void (*push_done)(void *arg, int rc, const char *err); /* a pushed document's caller */
    void *push_arg;
    /* the claim's completion, made ahead for a document that stores
     * (cluster_complete_ahead), written by the job after it */
    struct complete_job *done;
    int done_written;     /* worker: written in the document's transaction */
};

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

/* A draw for the jitter of policy.c. */
static uint64_t
draw(struct sched *sc)
{
    uint64_t hi = (uint64_t)rand_r(&sc->seed), lo = (uint64_t)rand_r(&sc->seed);
    return hi << 31 ^ lo;
}

/* ---- the job queue (writer store, the writer thread) ---- */

static void maybe_stopped(struct service *svc);

static int
job_add(struct service *svc, int (*fn)(struct service *svc, void *arg),
        void (*after)(struct service *svc, void *arg),
        void (*fail)(void *arg, int rc, const char *err), void *arg, int inbound, int joins)
{
    struct sched *sc = svc->sched;
    struct job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return -ENOMEM;
    j->joins = joins;
    j->fn = fn;
    j->after = after;
    j->fail = fail;
    j->arg = arg;
    sc->pending++;
    uv_mutex_lock(&sc->mu);
    if (joins) {
        /* a claim goes before the documents queued: stored first, they
         * would hold the next fetches back until the writer reached it
         * (the writer then idled between groups while they were fetched
         * and parsed); behind the claims already queued, in order */
        struct job **at = &sc->head;
        while (*at != NULL && (*at)->joins)
            at = &(*at)->next;
        j->next = *at;
        *at = j;
        if (j->next == NULL)
            sc->tail = j;
    } else {
        if (sc->tail)
            sc->tail->next = j;
        else
            sc->head = j;
        sc->tail = j;
    }
    sc->inbound -= inbound;
    uv_cond_signal(&sc->cv);
    uv_mutex_unlock(&sc->mu);
    return 0;
}

/* Loop: a document is on its way to the writer (+1: its parse started) or
 * will not come (-1: it failed before its job was queued). */
static void
inbound_add(struct sched *sc, long n)
{
    uv_mutex_lock(&sc->mu);
    sc->inbound += n;
    uv_cond_signal(&sc->cv);
    uv_mutex_unlock(&sc->mu);
}

int
sched_job(struct service *svc, int (*fn)(struct service *svc, void *arg),
          void (*after)(struct service *svc, void *arg), void *arg)
{
    return job_add(svc, fn, after, NULL, arg, 0, 0);
}

int
sched_job_grouped(struct service *svc, int (*fn)(struct service *svc, void *arg),
                  void (*after)(struct service *svc, void *arg),
                  void (*fail)(void *arg, int rc, const char *err), void *arg)
{
    return job_add(svc, fn, after, fail, arg, 0, 0);
}

int
sched_job_joins(struct service *svc, int (*fn)(struct service *svc, void *arg),
                void (*after)(struct service *svc, void *arg), void *arg)
{
    return job_add(svc, fn, after, NULL, arg, 0, 1);
}

long
sched_group_docs(const struct service *svc)
{
    const struct sched *sc = svc->sched;
    return sc->w_group ? sc->gdocs : 0;
}

/* Writer: hand finished jobs (j..tail, in order) to the loop. */
static void
writer_hand(struct sched *sc, struct job *j, struct job *tail)
{
    uv_mutex_lock(&sc->mu);
    if (sc->done_tail)
        sc->done_tail->next = j;
    else
        sc->done = j;
    sc->done_tail = tail;
    tail->next = NULL;
    uv_mutex_unlock(&sc->mu);
    uv_async_send(&sc->async);
}

/* Writer: commit the open group; its jobs go to the loop with the result. */
static void
group_commit(struct service *svc)
{
    struct sched *sc = svc->sched;
    int rc = store_group_commit(svc->wstore);
    char err[sizeof(sc->group->group_err)] = "";
    if (rc < 0)
        snprintf(err, sizeof(err), "%s", store_errmsg(svc->wstore));
    for (struct job *j = sc->group; j != NULL; j = j->next) {
        j->closed = 1;
        j->group_rc = rc;
        snprintf(j->group_err, sizeof(j->group_err), "%s", err);
    }
    __atomic_store_n(&sc->in_group, 0, __ATOMIC_RELAXED);
    writer_hand(sc, sc->group, sc->group_tail);
    sc->group = sc->group_tail = NULL;
    sc->w_group = 0;
    sc->gdocs = 0;
}

static uint64_t
ms_now(void)
{
    return uv_hrtime() / 1000000;
}

/* Writer: run j (the queue's head, taken). */
static void
writer_run(struct service *svc, struct job *j)
{
    struct sched *sc = svc->sched;
    uint64_t now = ms_now();
    int fast = now < sc->fast_until;
    if (j->fail == NULL && !j->joins && sc->w_group)
        group_commit(svc); /* not a document: the group ends before it */
    if (fast != sc->fast &&
        store_set_busy_timeout(svc->wstore, fast ? 0 : STORE_BUSY_TIMEOUT_MS) == 0)
        sc->fast = fast;
    if (j->fail != NULL && !sc->w_group && (sc->w_group = store_group_begin(svc->wstore) == 1))
        sc->gstart = now;
    int rc = j->fn(svc, j->arg);
    if (rc == -EBUSY)
        sc->fast_until = ms_now() + BUSY_FAST_MS;
    else if (rc == 0)
        sc->fast_until = 0;
    if (j->fail == NULL || !sc->w_group) {
        /* no group: the backend committed the document itself; a claim
         * inside the group is told at once */
        j->closed = 1;
        writer_hand(sc, j, j);
        return;
    }
    if (sc->group_tail)
        sc->group_tail->next = j;
    else
        sc->group = j;
    sc->group_tail = j;
    j->next = NULL;
    /* the loop hears of it every GROUP_WAKE documents: stored, they free
     * fetch slots (sched_slots_used) for the next claim */
    if (__atomic_add_fetch(&sc->in_group, 1, __ATOMIC_RELAXED) % GROUP_WAKE == 0)
        uv_async_send(&sc->async);
    if (++sc->gdocs >= GROUP_DOCS || ms_now() - sc->gstart >= GROUP_MS)
        group_commit(svc);
}

/* The writer thread: runs the queue's jobs in order; an open group commits
 * when it is full or old, before a job that is not a document, or when no
 * document is queued or on its way (being parsed). Ends on quit, with the
 * queue empty. */
static void
writer_main(void *arg)
{
    struct service *svc = arg;
    struct sched *sc = svc->sched;
    uv_mutex_lock(&sc->mu);
    for (;;) {
        if (sc->head != NULL) {
            struct job *j = sc->head;
            sc->head = j->next;
            if (sc->head == NULL)
                sc->tail = NULL;
            uv_mutex_unlock(&sc->mu);
            writer_run(svc, j);
            uv_mutex_lock(&sc->mu);
            continue;
        }
        if (sc->w_group) {
            uint64_t age = ms_now() - sc->gstart;
            if (sc->inbound > 0 && age < GROUP_MS) {
                /* documents are being parsed: their jobs join this group */
                uv_cond_timedwait(&sc->cv, &sc->mu, (GROUP_MS - age) * 1000000);
                continue;
            }
            uv_mutex_unlock(&sc->mu);
            group_commit(svc);
            uv_mutex_lock(&sc->mu);
            continue;
        }
        if (sc->quit)
            break;
        uv_cond_wait(&sc->cv, &sc->mu);
    }
    uv_mutex_unlock(&sc->mu);
}

/* Loop: j's result told (its commit's failure first), j freed. */
static void
job_end(struct service *svc, struct job *j, int rc, const char *err)
{
    if (rc < 0 && j->fail != NULL)
        j->fail(j->arg, rc, err);
    if (j->after)
        j->after(svc, j->arg);
    free(j);
}

/* Loop: the writer's finished jobs, told in order. */
static void
on_uv_async(uv_async_t *a)
{
    struct service *svc = a->data;
    struct sched *sc = svc->sched;
    uv_mutex_lock(&sc->mu);
    struct job *j = sc->done;
    sc->done = sc->done_tail = NULL;
    uv_mutex_unlock(&sc->mu);
    while (j != NULL) {
        struct job *next = j->next;
        sc->pending--;
        job_end(svc, j, j->fail != NULL ? j->group_rc : 0, j->group_err);
        j = next;
    }
    sched_rearm(svc); /* documents stored in the open group free slots too */
    maybe_stopped(svc);
}

/* ---- feed state ---- */

/* snprintf may have cut a multi-byte character: drop its leading bytes so
 * the error text stays valid UTF-8 (it goes into JSON and HTML). */
static void
utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < want)
        s[i - 1] = '\0';
}

static void
set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

int64_t
sched_interval(const struct feed_run *f)
{
    int64_t i = f->cf ? f->cf->interval : 900; /* auto: its max_interval */
    /* a pushed feed is still polled, as a safety net: at max_interval
     * (SPEC §11) */
    int64_t poll = f->cf ? f->cf->max_interval : WEBSUB_POLL_S;
    return f->ws_hub != NULL && i < poll ? poll : i;
}

/* What a fetch that ended at `now` asks of the next check (policy.h). */
static struct fetch_ask
ask_of(struct sched *sc, enum service_next_kind kind, int64_t now)
{
    return (struct fetch_ask){.kind = kind, .now = now, .ttl_min = 0, .max_age = -1,
                              .retry_after = -1, .rnd = draw(sc), .lags = NULL, .nlags = 0};
}

/* ---- finishing a fetch ---- */

static void start_fetch(struct service *svc, struct feed_run *f);

/* done: the completion written with the document (committed), or NULL. */
static void
finish(struct service *svc, struct feed_run *f, const struct fetch_ask *ask,
       struct complete_job *done)
{
    f->in_flight = 0;
    f->fetched = 1;
    f->fetches[f->last]++;
    svc->sched->busy--;
    if (f->storing) {
        f->storing = 0;
        svc->sched->storing--;
    }
    if (done == NULL) {
        /* state, the next check (issue 13: made in the worker from the
         * store's items of the feed) and the lease's end, written with the
         * claim's token */
        cluster_complete(svc, f, ask);
        service_after_fetch(svc, f); /* tells the watchers; may free f (dropped by a reload) */
    } else {
        free(ask->lags);
        f->completing = 1; /* f stays until its completion is told */
        service_after_fetch(svc, f);
        cluster_complete_done(svc, done, 0, ""); /* may free f */
    }
    sched_rearm(svc);
}

/* SPEC §2 markdown_dir: every new (or updated) article also becomes a post. */
static int
write_post(void *arg, const struct store_article *a)
{
    struct fetched *x = arg;
    int written = 0, rc = emit_markdown_write(x->markdown_dir, a, &written);
    if (rc < 0 && x->post_err[0] == '\0')
        snprintf(x->post_err, sizeof(x->post_err), "%s: %s", x->markdown_dir, strerror(-rc));
    x->posts += written;
    return 0;
}

static int
ingest_fn(struct service *svc, void *arg)
{
    struct fetched *x = arg;
    struct store *w = svc->wstore;
    struct service_ingest ing = x->opts->ing; /* the shared options stay untouched */
    ing.feed_id = x->feed_id;
    ing.token = x->token;
    if ((x->lags = malloc(INGEST_LAGS * sizeof(*x->lags))) != NULL) {
        ing.lags = x->lags;
        ing.lags_max = INGEST_LAGS;
    }
    if ((x->touched = malloc(INGEST_TOUCHED * sizeof(*x->touched))) != NULL) {
        ing.touched = x->touched;
        ing.touched_max = INGEST_TOUCHED;
    }
    /* two nodes' documents may lock the same stories in another order: the
     * database aborts one, which is redone */
    for (int tries = 0; tries < 5; tries++) {
        if (x->parsed_ready) {
            x->rc = service_ingest_store(w, &ing, &x->parsed, &x->counts, x->ingest_err,
                                         sizeof(x->ingest_err));
            x->report = x->parsed.report;
        } else {
            x->rc = service_ingest_document(w, &ing, NULL, x->body, x->len, x->charset, x->now,
                                            &x->counts, &x->report, x->ingest_err,
                                            sizeof(x->ingest_err));
        }
        if (x->rc != -EDEADLK && x->rc != -EAGAIN)
            break;
    }
    if (x->rc == -ESTALE)
        return 0; /* fenced: the store works, this node lost the feed */
    x->newest = ing.newest;
    x->ttl = ing.ttl;
    x->nlags = ing.nlags;
    x->ntouched = ing.ntouched;
    x->hub = ing.hub, ing.hub = NULL; /* the copy's: taken */
    x->self = ing.self, ing.self = NULL;
    /* the claim's completion in the document's transaction: the commit
     * that stores the articles ends the lease (one commit, not two, before
     * per_host lets the next feed of the host be claimed) */
    if (x->rc == 0 && x->done != NULL) {
        cluster_complete_write(svc, x->done, ing.newest, ing.ttl, x->lags, x->nlags);
        x->lags = NULL; /* taken */
        x->done_written = 1;
    }
    /* a pushed document once stored: a replay of it is refused (SPEC §11) */
    if (x->rc == 0 && x->push_sig != NULL &&
        store_websub_seen(w, x->push_sig, x->now, 1) < 0 && x->post_err[0] == '\0')
        snprintf(x->post_err, sizeof(x->post_err), "websub: %s", store_errmsg(w));
    if (x->rc != -EINVAL && x->rc < 0)
        return x->rc;
    /* -EINVAL: the document, not the store, was bad */
    if (store_count(w, x->feed_id, &x->articles) < 0)
        x->articles = -1;
    /* all the articles: counted once a COUNT_MS at most (a count reads a
     * whole index: 2.6% of the writer in a first refresh); in between,
     * the loop adds each document's new ones (articles_told) */
    uint64_t now_ms = ms_now();
    x->total_ok = 0;
    if (now_ms - svc->sched->counted_ms >= COUNT_MS &&
        (x->total_ok = store_count(w, 0, &x->total) == 0))
        svc->sched->counted_ms = now_ms;
    if (x->rc == 0 && x->markdown_dir != NULL && x->counts.new_ + x->counts.updated > 0) {
        /* a duplicate source may touch its article too: no tighter limit */
        struct store_query q = {.feed = ing.name, .changed_since = x->now, .limit = 1000000};
        int rc = store_articles(w, &q, write_post, x);
        if (rc < 0 && x->post_err[0] == '\0')
            snprintf(x->post_err, sizeof(x->post_err), "reading the articles: %s",
                     store_errmsg(w));
    }
    return 0;
}

/* Loop: the store's article count after x's document: the count its job
 * made, else the last one and the document's new articles. */
static void
articles_told(struct service *svc, const struct fetched *x)
{
    if (x->total_ok) {
        svc->articles = x->total;
        svc->articles_known = 1;
    } else if (x->rc == 0 && svc->articles_known) {
        svc->articles += x->counts.new_;
    }
}

/* The group x's document was stored in did not commit: nothing of it is
 * stored (sched_job's group commit). */
static void
ingest_fail(void *arg, int rc, const char *err)
{
    struct fetched *x = arg;
    if (x->rc < 0)
        return; /* failed on its own already */
    x->rc = rc == -EINVAL || rc == -ESTALE ? -EIO : rc;
    snprintf(x->ingest_err, sizeof(x->ingest_err), "%s", err);
    memset(&x->counts, 0, sizeof(x->counts));
    x->nlags = 0;
    x->newest = 0;
}

/* A document's store job: in a group with its neighbours, unless its new
 * articles become posts at once (markdown_dir: a post is written in the
 * job, and must not outlive a group that fails). */
static int
ingest_job(struct service *svc, struct fetched *x,
           void (*after)(struct service *svc, void *arg), int inbound)
{
    return job_add(svc, ingest_fn, after, x->markdown_dir == NULL ? ingest_fail : NULL, x,
                   inbound, 0);
}

static void
record_duration(struct service *svc, double seconds)
{
    struct metrics *m = &svc->metrics;
    for (int i = 0; i < SERVICE_BUCKETS; i++)
        if (seconds <= service_bucket_bounds[i])
            m->duration_buckets[i]++;
    m->duration_count++;
    m->duration_sum += seconds;
}

static void
fetched_free(struct fetched *x)
{
    service_parsed_clear(&x->parsed);
    free(x->body);
    free(x->charset);
    free(x->etag);
    free(x->last_modified);
    free(x->permanent_url);
    free(x->markdown_dir);
    free(x->lags);
    free(x->touched);
    free(x->link_hub);
    free(x->link_self);
    free(x->hub);
    free(x->self);
    free(x->push_sig);
    cluster_complete_drop(x->done);
    feed_opts_unref(x->opts);
    service_keymaker_unref(x->keymaker);
    free(x);
}

/* A document of f was stored (fetched or pushed): its counts and the
 * service's, the change told to the output and the other nodes. */
static void
stored(struct service *svc, struct feed_run *f, struct fetched *x)
{
    char q[300];
    f->counts = x->counts;
    if (x->articles >= 0)
        f->articles = x->articles;
    if (x->newest > f->newest)
        f->newest = x->newest;
    if (x->counts.new_ + x->counts.updated + x->counts.duplicates > 0) {
        svc->generation++;
        cluster_changed(svc);
        /* WebSub: our own feeds changed (SPEC §11) */
        hub_changed(svc, f, (const char(*)[PARSE_TICKER_LEN])x->touched, x->ntouched);
    }
    svc->metrics.articles[STORE_NEW] += (uint64_t)x->counts.new_;
    svc->metrics.articles[STORE_UPDATED] += (uint64_t)x->counts.updated;
    svc->metrics.articles[STORE_DUPLICATE] += (uint64_t)x->counts.duplicates;
    svc->metrics.articles[STORE_UNCHANGED] += (uint64_t)x->counts.unchanged;
    if (x->post_err[0])
        log_warnx("event=markdown feed=%s error=%s", f->name, log_q(x->post_err, q, sizeof(q)));
    else if (x->posts > 0)
        log_info("event=markdown feed=%s posts=%ld dir=%s", f->name, x->posts, x->markdown_dir);
}

static void
ingest_after(struct service *svc, void *arg)
{
    struct fetched *x = arg;
    struct feed_run *f = x->f;
    struct fetch_ask ask = ask_of(svc->sched, SERVICE_NEXT_OK, x->now);
    char q[300];
    f->last_fetch = x->now;
    f->http = x->http;
    /* -EINVAL: the feed's fault, the store worked; -ESTALE: this node lost
     * the feed to another, the store worked */
    int failed = x->rc < 0 && x->rc != -EINVAL && x->rc != -ESTALE;
    service_store_result(svc, failed ? x->rc : 0, x->ingest_err);
    if (x->rc == 0)
        service_store_wrote(svc);
    articles_told(svc, x);
    if (x->rc == -ESTALE) {
        log_warnx("event=fenced feed=%s token=%lld outcome=\"lease lost: another node claimed "
                  "it; this fetch's articles were not written\"",
                  f->name, (long long)x->token);
        f->fenced = 1;
    } else if (x->rc < 0) {
        f->last = SERVICE_ERROR;
        f->errors++;
        snprintf(f->error, sizeof(f->error), "%.255s", x->ingest_err);
        utf8_trim(f->error);
        memset(&f->counts, 0, sizeof(f->counts));
        ask.kind = SERVICE_NEXT_ERROR;
        log_warnx("event=fetch feed=%s outcome=error http=%ld error=%s", f->name, x->http,
                  log_q(f->error, q, sizeof(q)));
    } else {
        f->last = SERVICE_OK;
        f->errors = 0;
        stored(svc, f, x);
        f->error[0] = '\0';
        if (x->report.problems) {
            snprintf(f->error, sizeof(f->error), "recovered: %.240s", x->report.message);
            utf8_trim(f->error);
        }
        set_str(&f->etag, x->etag);
        set_str(&f->last_modified, x->last_modified);
        if (x->permanent_url != NULL) {
            log_info("event=moved feed=%s url=%s", f->name, x->permanent_url);
            set_str(&f->url, x->permanent_url);
        }
        ask.ttl_min = x->ttl;
        ask.max_age = x->max_age;
        ask.lags = x->lags; /* taken by the completion */
        ask.nlags = x->nlags;
        x->lags = NULL;
        /* WebSub discovery: the Link headers first, then the document's links */
        websub_discovered(svc, f, x->link_hub ? x->link_hub : x->hub,
                          x->link_hub ? x->link_self : x->self);
        log_info("event=fetch feed=%s outcome=ok http=%ld new=%ld updated=%ld duplicates=%ld "
                 "unchanged=%ld seconds=%.3f",
                 f->name, x->http, x->counts.new_, x->counts.updated, x->counts.duplicates,
                 x->counts.unchanged, x->seconds);
    }
    if (x->rc == -ESTALE)
        ask.kind = SERVICE_NEXT_NOW; /* nothing is written with a lost lease */
    /* stored, its completion with it (and committed: else rc says why) */
    struct complete_job *done = x->rc == 0 && x->done_written ? x->done : NULL;
    if (done != NULL)
        x->done = NULL;
    fetched_free(x);
    finish(svc, f, &ask, done);
}

/* A pushed document stored (or not): the feed's counts, not its fetch
 * state (validators, next fetch, errors stay the poll's). */
static void
push_after(struct service *svc, void *arg)
{
    struct fetched *x = arg;
    struct feed_run *f = x->f;
    char q[300];
    service_store_result(svc, x->rc == -EINVAL ? 0 : x->rc, x->ingest_err);
    articles_told(svc, x);
    f->pushing--;
    if (x->rc == 0) {
        stored(svc, f, x);
        /* a push is ingested as a fetch (SPEC §11): its articles are lag
         * once the feed had a successful fetch (issue 13 §1) */
        if (f->first_ok > 0)
            service_observe_lags(f, x->lags, x->nlags);
        log_info("event=push feed=%s outcome=ok new=%ld updated=%ld duplicates=%ld "
                 "unchanged=%ld",
                 f->name, x->counts.new_, x->counts.updated, x->counts.duplicates,
                 x->counts.unchanged);
    } else {
        log_warnx("event=push feed=%s outcome=error error=%s", f->name,
                  log_q(x->ingest_err, q, sizeof(q)));
    }
    if (x->push_done != NULL)
        x->push_done(x->push_arg, x->rc, x->ingest_err);
    fetched_free(x);
    service_after_fetch(svc, f); /* tells the watchers; may free f (dropped by a reload) */
}

int
sched_push(struct service *svc, struct feed_run *f, char *body, size_t len, const char *charset,
           const char *sig, void (*done)(void *arg, int rc, const char *err), void *arg)
{
    struct fetched *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        free(body);
        return -ENOMEM;
    }
    x->f = f;
    x->svc = svc;
    x->opts = feed_opts_ref(f->opts);
    x->feed_id = f->id;
    x->token = 0; /* no claim: a push is no fetch; the dedup rules make it safe */
    x->body = body;
    x->len = len;
    x->now = now_s();
    x->push_done = done;
    x->push_arg = arg;
    if ((charset != NULL && (x->charset = strdup(charset)) == NULL) ||
        (sig != NULL && (x->push_sig = strdup(sig)) == NULL) ||
        (svc->cfg->output.markdown_dir != NULL &&
         (x->markdown_dir = strdup(svc->cfg->output.markdown_dir)) == NULL) ||
        ingest_job(svc, x, push_after, 0) < 0) {
        fetched_free(x);
        return -ENOMEM;
    }
    f->pushing++;
    return 0;
}

/* The completion of x's claim as ingest_after and finish would make it once
 * the document is stored, made now so that the writer stores both in one
 * job (x->done; none when it cannot store, or names a WebSub hub: its
 * subscription, decided after the store, changes the next check). */
static void
complete_ahead(struct service *svc, struct fetched *x)
{
    const struct feed_run *f = x->f;
    if (x->parsed.rc < 0 || x->link_hub != NULL || x->parsed.hub != NULL)
        return;
    struct feed_run as = *f; /* the success branch of ingest_after, on a copy */
    as.last = SERVICE_OK;
    as.errors = 0;
    as.last_fetch = x->now;
    as.http = x->http;
    as.etag = x->etag;
    as.last_modified = x->last_modified;
    if (x->permanent_url != NULL)
        as.url = x->permanent_url;
    as.error[0] = '\0';
    if (x->parsed.report.problems) {
        snprintf(as.error, sizeof(as.error), "recovered: %.240s", x->parsed.report.message);
        utf8_trim(as.error);
    }
    struct fetch_ask ask = ask_of(svc->sched, SERVICE_NEXT_OK, x->now);
    ask.max_age = x->max_age;
    x->done = cluster_complete_ahead(svc, x->f, &as, &ask);
}

/* Threadpool: parse and clean x's document (the store is the writer's). */
static void
on_parse_work(uv_work_t *req)
{
    struct fetched *x = req->data;
    struct service_ingest ing = x->opts->ing; /* the shared options stay untouched */
    ing.keymaker = x->keymaker != NULL ? x->keymaker->m : NULL;
    service_ingest_parse(&ing, NULL, x->body, x->len, x->charset, x->now, &x->parsed);
    x->parsed_ready = 1;
    free(x->body);
    x->body = NULL;
}

static void parse_start(struct service *svc, struct fetched *x);

static void
on_parse_done(uv_work_t *req, int status)
{
    (void)status; /* never cancelled */
    struct fetched *x = req->data;
    struct service *svc = x->svc;
    struct sched *sc = svc->sched;
    struct feed_run *f = x->f;
    sc->parsing--;
    sc->parse_run--;
    struct fetched *next = sc->parse_wait;
    if (next != NULL) { /* the next document's turn */
        if ((sc->parse_wait = next->parse_next) == NULL)
            sc->parse_wait_tail = NULL;
        parse_start(svc, next);
    }
    complete_ahead(svc, x);
    if (ingest_job(svc, x, ingest_after, 1) < 0) {
        inbound_add(svc->sched, -1);
        struct fetch_ask ask = ask_of(svc->sched, SERVICE_NEXT_ERROR, x->now);
        snprintf(f->error, sizeof(f->error), "out of memory");
        f->last = SERVICE_ERROR;
        f->errors++;
        fetched_free(x);
        finish(svc, f, &ask, NULL);
    }
    maybe_stopped(svc);
}

/* Loop: x into the threadpool, or behind the parse_max documents there: a
 * core's worth of parsing keeps the writer fed on two cores, and more of
 * it only takes the writer's core from it (bench/README, seventh round);
 * the pool's other threads stay free for the HTTP renders. */
static void
parse_start(struct service *svc, struct fetched *x)
{
    struct sched *sc = svc->sched;
    if (sc->parse_run >= sc->parse_max) {
        x->parse_next = NULL;
        if (sc->parse_wait_tail != NULL)
            sc->parse_wait_tail->parse_next = x;
        else
            sc->parse_wait = x;
        sc->parse_wait_tail = x;
        return;
    }
    sc->parse_run++;
    if (uv_queue_work(svc->loop, &x->parse_work, on_parse_work, on_parse_done) != 0) {
        /* (it fails only without a callback) parsed on the loop then */
        on_parse_work(&x->parse_work);
        on_parse_done(&x->parse_work, 0);
    }
}

static void
on_fetch_done(void *arg, const struct fetch_result *r)
{
    struct fetched *x = arg;
    struct service *svc = x->svc;
    struct feed_run *f = x->f;
    int64_t now = now_s();
    struct fetch_ask ask = ask_of(svc->sched, SERVICE_NEXT_OK, now);
    char q[300];
    record_duration(svc, r->seconds);
    x->now = now;
    x->http = r->http;
    x->seconds = r->seconds;
    x->max_age = r->max_age;
    if (r->error == 0 && r->http != 304 && r->body != NULL) {
        /* a document: parse and store it in the worker */
        x->body = fetch_take_body(r); /* no copy of up to max_feed_size bytes */
        x->charset = r->charset ? strdup(r->charset) : NULL;
        x->etag = r->etag ? strdup(r->etag) : NULL;
        x->last_modified = r->last_modified ? strdup(r->last_modified) : NULL;
        x->permanent_url = r->permanent_url ? strdup(r->permanent_url) : NULL;
        x->link_hub = r->link_hub ? strdup(r->link_hub) : NULL;
        x->link_self = r->link_self ? strdup(r->link_self) : NULL;
        if (svc->cfg->output.markdown_dir != NULL)
            x->markdown_dir = strdup(svc->cfg->output.markdown_dir);
        if (x->body != NULL) {
            x->len = r->len;
            x->parse_work.data = x;
            x->keymaker = service_keymaker_ref(svc->keymaker);
            svc->sched->parsing++;
            inbound_add(svc->sched, 1); /* before the parse can end */
            f->storing = 1;
            svc->sched->storing++;
            parse_start(svc, x);
            sched_rearm(svc); /* its slot is free: the next claim */
            return;
        }
        snprintf(f->error, sizeof(f->error), "out of memory");
        f->last = SERVICE_ERROR;
        f->errors++;
        ask.kind = SERVICE_NEXT_ERROR;
        fetched_free(x);
        finish(svc, f, &ask, NULL);
        return;
    }
    if (r->error == -ECANCELED) { /* shutting down: not the feed's fault */
        fetched_free(x);
        ask.kind = SERVICE_NEXT_NOW; /* due again at once, for any node */
        f->fetches[f->last]--; /* no fetch happened */
        finish(svc, f, &ask, NULL);
        return;
    }
    f->last_fetch = now;
    f->http = r->http;
    if (r->error == 0 && r->http == 304) {
        f->last = SERVICE_NOT_MODIFIED;
        f->errors = 0;
        f->error[0] = '\0';
        memset(&f->counts, 0, sizeof(f->counts));
        if (r->permanent_url != NULL)
            set_str(&f->url, r->permanent_url);
        ask.max_age = r->max_age;
        log_info("event=fetch feed=%s outcome=not-modified http=304 seconds=%.3f", f->name,
                 r->seconds);
    } else if ((r->error == 0 || r->error == -EREMOTEIO) && r->http == 410) {
        f->last = SERVICE_GONE;
        f->enabled = 0;
        snprintf(f->error, sizeof(f->error), "410 Gone: the publisher removed this feed; "
                                             "it is disabled until the configuration changes");
        log_warnx("event=fetch feed=%s outcome=gone http=410", f->name);
    } else {
        f->last = SERVICE_ERROR;
        f->errors++;
        if (r->error != 0 && r->errmsg[0]) {
            snprintf(f->error, sizeof(f->error), "%s", r->errmsg);
            utf8_trim(f->error);
        }
        else if (r->http != 0)
            snprintf(f->error, sizeof(f->error), "HTTP %ld", r->http);
        else
            snprintf(f->error, sizeof(f->error), "empty response");
        memset(&f->counts, 0, sizeof(f->counts));
        ask.kind = SERVICE_NEXT_ERROR;
        ask.retry_after = (r->http == 429 || r->http == 503) ? r->retry_after : -1;
        log_warnx("event=fetch feed=%s outcome=error http=%ld errors=%d error=%s", f->name,
                  r->http, f->errors, log_q(f->error, q, sizeof(q)));
    }
    fetched_free(x);
    finish(svc, f, &ask, NULL);
}

static void
start_fetch(struct service *svc, struct feed_run *f)
{
    struct fetched *x = calloc(1, sizeof(*x));
    const struct config *c = svc->cfg;
    if (x == NULL)
        return;
    x->f = f;
    x->svc = svc;
    x->opts = feed_opts_ref(f->opts);
    x->feed_id = f->id;
    x->token = f->token;
    struct fetch_request req = {
        .url = f->url,
        .etag = f->etag,
        .last_modified = f->last_modified,
        .user_agent = f->cf && f->cf->user_agent ? f->cf->user_agent : c->daemon.user_agent,
        .timeout_s = (long)c->daemon.timeout,
        .max_size = c->daemon.max_feed_size,
        .allow_file = c->daemon.allow_file_urls,
    };
    f->in_flight = 1;
    f->claimed = 0;
    log_debug("event=fetch-start feed=%s url=%s", f->name, f->url);
    int rc = fetch_start(svc->fetch, &req, on_fetch_done, x);
    if (rc < 0) {
        struct fetch_result r = {.error = rc, .retry_after = -1, .max_age = -1};
        snprintf(r.errmsg, sizeof(r.errmsg), "cannot start the fetch: %s", strerror(-rc));
        on_fetch_done(x, &r);
    }
}

/* ---- the timer ---- */

/* Start the claimed feeds whose start time (max_rate) has come, register
 * feeds new to the store, claim due ones (claim.c), and sleep until the
 * earliest of these is due again: no polling while nothing is. */
static void
on_uv_timer(uv_timer_t *t)
{
    struct service *svc = t->data;
    struct sched *sc = svc->sched;
    int64_t now = now_s();
    uint64_t ms = uv_now(svc->loop), wake = UINT64_MAX;
    sc->armed = 0;
    if (svc->stopping)
        return;
    /* feeds new to the store (at start, added by a reload) are registered
     * by the worker first; they are claimed once that is done */
    if (service_register_due(svc, now) < 0)
        log_warnx("event=register error=\"out of memory\"");
    for (size_t i = 0; i < svc->nfeeds; i++) {
        struct feed_run *f = svc->feeds[i];
        if (!f->claimed)
            continue;
        if (f->start_ms <= ms)
            start_fetch(svc, f); /* may finish at once (a failed start) */
        else if (f->start_ms < wake)
            wake = f->start_ms;
    }
    uint64_t claim_wake;
    cluster_claim(svc, ms, &claim_wake);
    if (claim_wake < wake)
        wake = claim_wake;
    int64_t reg = service_register_next(svc);
    if (reg != INT64_MAX) {
        uint64_t at = ms + service_timer_ms(now, reg);
        if (at < wake)
            wake = at;
    }
    if (wake == UINT64_MAX || sc->closing)
        return; /* a finished fetch, a job or a notification re-arms */
    uv_timer_stop(&sc->timer);
    if (uv_timer_start(&sc->timer, on_uv_timer, wake > ms ? wake - ms : 0, 0) < 0)
        log_warnx("event=sched-timer-failed");
}

void
sched_rearm(struct service *svc)
{
    struct sched *sc = svc->sched;
    if (sc == NULL || sc->closing || sc->armed)
        return;
    /* look at once, in the next loop turn: whatever changed is seen there */
    uv_timer_stop(&sc->timer);
    if (uv_timer_start(&sc->timer, on_uv_timer, 0, 0) < 0)
        log_warnx("event=sched-timer-failed");
    else
        sc->armed = 1;
}

void
sched_claimed(struct service *svc)
{
    svc->sched->busy++;
}

long
sched_slots_used(const struct service *svc)
{
    const struct sched *sc = svc->sched;
    if (sc == NULL)
        return 0;
    /* fetched documents waiting to be parsed or stored hold slots past
     * `concurrency` of them (their bodies are in memory); those stored in
     * the writer's open group do not: counted, 64 documents held the
     * fetches back until the group committed, and the writer idled
     * between groups while the next ones were fetched and parsed */
    long ahead = svc->cfg->daemon.concurrency;
    long waiting = sc->storing - __atomic_load_n(&sc->in_group, __ATOMIC_RELAXED);
    long over = waiting > ahead ? waiting - ahead : 0;
    return sc->busy - sc->storing + over;
}

long
sched_storing(const struct service *svc)
{
    return svc->sched != NULL ? svc->sched->storing : 0;
}

int
sched_init(struct service *svc)
{
    struct sched *sc = calloc(1, sizeof(*sc));
    if (sc == NULL)
        return -ENOMEM;
    int rc;
    if ((rc = uv_mutex_init(&sc->mu)) < 0) {
        free(sc);
        return rc;
    }
    if ((rc = uv_cond_init(&sc->cv)) < 0) {
        uv_mutex_destroy(&sc->mu);
        free(sc);
        return rc;
    }
    if ((rc = uv_async_init(svc->loop, &sc->async, on_uv_async)) < 0) {
        uv_cond_destroy(&sc->cv);
        uv_mutex_destroy(&sc->mu);
        free(sc);
        return rc;
    }
    sc->async.data = svc;
    sc->async_open = 1;
    uv_timer_init(svc->loop, &sc->timer); /* cannot fail */
    sc->timer.data = svc;
    sc->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)sc;
    unsigned cores = uv_available_parallelism(); /* the writer has one */
    sc->parse_max = cores > 2 ? (long)cores - 1 : 1;
    svc->sched = sc;
    /* on failure sched_stop closes the handles (service_stop) */
    if ((rc = uv_thread_create(&sc->writer, writer_main, svc)) < 0)
        return rc;
    sc->writer_started = 1;
    return 0;
}

int
sched_refresh(struct service *svc, struct feed_run *f, struct service_wait *w)
{
    if (!f->enabled || f->removed)
        return -EPERM;
    if (f->id == 0) { /* not registered yet: fetched once it is */
        if (w != NULL) {
            w->after = -1;
            w->next = f->waiters;
            f->waiters = w;
        }
        f->refresh = 1;
        return 0;
    }
    return cluster_refresh(svc, f, w);
}

int
sched_busy(const struct service *svc)
{
    return svc->sched != NULL && svc->sched->busy > 0;
}

static void
on_timer_closed(uv_handle_t *h)
{
    struct service *svc = h->data;
    svc->sched->timer_closed = 1;
    maybe_stopped(svc);
}

static void
on_async_closed(uv_handle_t *h)
{
    struct service *svc = h->data;
    struct sched *sc = svc->sched;
    uv_cond_destroy(&sc->cv);
    uv_mutex_destroy(&sc->mu);
    svc->sched = NULL;
    free(sc);
    service_part_done(svc);
}

/* Every job told, no document on its way, the timer closed: the writer
 * ends (its queue is empty), then the async handle closes. */
static void
maybe_stopped(struct service *svc)
{
    struct sched *sc = svc->sched;
    if (!sc->closing || !sc->timer_closed || sc->pending > 0 || sc->parsing > 0 ||
        !sc->async_open)
        return;
    if (sc->writer_started) {
        uv_mutex_lock(&sc->mu);
        sc->quit = 1;
        uv_cond_signal(&sc->cv);
        uv_mutex_unlock(&sc->mu);
        uv_thread_join(&sc->writer);
        sc->writer_started = 0;
    }
    sc->async_open = 0;
    uv_close((uv_handle_t *)&sc->async, on_async_closed);
}

void
sched_stop(struct service *svc)
{
    struct sched *sc = svc->sched;
    /* claims not started yet go back to the cluster at once */
    for (size_t i = 0; i < svc->nfeeds; i++) {
        struct feed_run *f = svc->feeds[i];
        if (f->claimed) {
            struct fetch_ask ask = ask_of(sc, SERVICE_NEXT_NOW, now_s());
            f->claimed = 0;
            sc->busy--;
            cluster_complete(svc, f, &ask);
        }
    }
    sc->closing = 1;
    uv_timer_stop(&sc->timer);
    uv_close((uv_handle_t *)&sc->timer, on_timer_closed);
}
