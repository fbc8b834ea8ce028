/* daemon/service/prune.c — retention in the worker (SPEC §7): articles older
 * than `retention` pruned (their keys kept as tombstones), then tombstones
 * no feed has listed for `tombstone_retention` expired. A batch a job, each
 * its own short transaction sized to take about SERVICE_PRUNE_AIM_MS, and
 * the next batch queued behind whatever came meanwhile: an ingest or a claim
 * waits for one batch at most, never for the whole prune. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <uv.h>

#include "daemon/log/log.h"
#include "daemon/service/prune.h"
#include "daemon/service/service_int.h"

long
service_prune_batch(long batch, uint64_t ms)
{
    double next = (double)batch;
    if (ms > SERVICE_PRUNE_AIM_MS)
        next = next * SERVICE_PRUNE_AIM_MS / (double)ms;
    else if (ms < SERVICE_PRUNE_AIM_MS / 2)
        next *= 2;
    if (next < SERVICE_PRUNE_MIN)
        return SERVICE_PRUNE_MIN;
    if (next > SERVICE_PRUNE_MAX)
        return SERVICE_PRUNE_MAX;
    return (long)next;
}

enum stage { START, ARTICLES, TOMBSTONES, DONE };

/* One prune, from its request to its answer. The worker reads and writes
 * the job's part; the rest is the loop thread's. */
struct prune_job {
    /* set on the loop thread before each job */
    enum stage stage;
    int articles, tombstones; /* which stages run (retention, tombstone_retention > 0) */
    int64_t cutoff;           /* articles dated before go (retention > 0) */
    int64_t before;           /* tombstones last seen before go (tombstone_retention > 0) */
    int64_t now;              /* the prune's time: a pruned article's tombstone's last seen */
    long batch;               /* rows this batch may delete */
    int last;                 /* this batch's stage is the last: count the articles after it */
    /* filled by the job */
    long got;    /* rows it deleted */
    uint64_t ms; /* how long it took */
    int rc;
    char err[256];
    long total; /* articles left, when total_ok */
    int total_ok;
    /* the loop thread's */
    struct service_pruned sum;
    service_prune_fn done;
    void *arg;
};

/* The stage after j's that has something to do. */
static enum stage
next_stage(const struct prune_job *j)
{
    if (j->stage < ARTICLES && j->articles)
        return ARTICLES;
    if (j->stage < TOMBSTONES && j->tombstones)
        return TOMBSTONES;
    return DONE;
}

static int
prune_fn(struct service *s, void *arg)
{
    struct prune_job *j = arg;
    uint64_t t0 = uv_hrtime();
    j->rc = j->stage == ARTICLES
                ? store_prune_batch(s->wstore, j->cutoff, j->now, j->batch, &j->got)
                : store_prune_tombstones(s->wstore, j->before, j->batch, &j->got);
    j->ms = (uv_hrtime() - t0) / 1000000;
    if (j->rc < 0)
        snprintf(j->err, sizeof(j->err), "%s", store_errmsg(s->wstore));
    else if (j->got < j->batch && j->last)
        j->total_ok = store_count(s->wstore, 0, &j->total) == 0;
    return j->rc;
}

static void prune_after(struct service *s, void *arg);

/* Queue the job's next batch; 0 or -ENOMEM. */
static int
queue(struct service *s, struct prune_job *j)
{
    j->last = next_stage(j) == DONE;
    j->got = 0;
    j->total_ok = 0;
    return sched_job(s, prune_fn, prune_after, j);
}

static void
finish(struct service *s, struct prune_job *j)
{
    if (j->total_ok) {
        s->articles = j->total;
        s->articles_known = 1;
    }
    if (j->rc < 0)
        log_warnx("event=prune error=%s deleted=%ld tombstones=%ld", LOG_QUOTE(j->err),
                  j->sum.articles, j->sum.tombstones);
    else if (j->sum.articles > 0 || j->sum.tombstones > 0)
        log_info("event=prune deleted=%ld tombstones=%ld batches=%ld max_batch_ms=%llu",
                 j->sum.articles, j->sum.tombstones, j->sum.batches,
                 (unsigned long long)j->sum.max_ms);
    if (j->done)
        j->done(j->arg, j->rc, &j->sum, j->err);
    free(j);
}

static void
prune_after(struct service *s, void *arg)
{
    struct prune_job *j = arg;
    service_store_result(s, j->rc, j->err);
    log_debug("event=prune-batch stage=%s rows=%ld of=%ld ms=%llu",
              j->stage == ARTICLES ? "articles" : "tombstones", j->got, j->batch,
              (unsigned long long)j->ms);
    j->sum.batches++;
    if (j->ms > j->sum.max_ms)
        j->sum.max_ms = j->ms;
    if (j->rc < 0) {
        finish(s, j);
        return;
    }
    if (j->stage == ARTICLES) {
        j->sum.articles += j->got;
        if (j->got > 0)
            s->generation++; /* the output changed */
    } else {
        j->sum.tombstones += j->got;
    }
    if (j->got < j->batch) {
        j->stage = next_stage(j);
        j->batch = SERVICE_PRUNE_FIRST;
    } else {
        j->batch = service_prune_batch(j->batch, j->ms);
    }
    /* stopping: what is done is done, the rest waits for the next start */
    if (j->stage == DONE || s->stopping) {
        finish(s, j);
        return;
    }
    if (queue(s, j) < 0) {
        j->rc = -ENOMEM;
        snprintf(j->err, sizeof(j->err), "out of memory");
        finish(s, j);
    }
}

int
service_prune(struct service *s, service_prune_fn done, void *arg)
{
    const struct config *c = s->cfg;
    int64_t now = (int64_t)time(NULL);
    struct prune_job *j;
    if (c->daemon.retention <= 0 && c->daemon.tombstone_retention <= 0) {
        static const struct service_pruned none;
        if (done)
            done(arg, 0, &none, "");
        return 0;
    }
    if ((j = calloc(1, sizeof(*j))) == NULL)
        return -ENOMEM;
    /* the configuration of now, for the whole prune: a reload meanwhile
     * applies to the next one */
    j->articles = c->daemon.retention > 0;
    j->tombstones = c->daemon.tombstone_retention > 0;
    j->cutoff = now - c->daemon.retention;
    j->before = now - c->daemon.tombstone_retention;
    j->now = now;
    j->stage = next_stage(j);
    j->batch = SERVICE_PRUNE_FIRST;
    j->done = done;
    j->arg = arg;
    if (queue(s, j) < 0) {
        free(j);
        return -ENOMEM;
    }
    return 0;
}
