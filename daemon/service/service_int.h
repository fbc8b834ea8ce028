/* daemon/service/service_int.h — the running daemon's state, shared inside
 * daemon/service/ only: service.c (feeds, reload, prune, the face of
 * service.h) and sched.c (timer, job queue, fetch → ingest → saved state).
 * Everything here is touched on the loop thread only, except what the jobs
 * of the queue read in the worker (marked "worker"). */
#ifndef FINFEED_SERVICE_INT_H
#define FINFEED_SERVICE_INT_H

#include <stdint.h>

#include <uv.h>

#include "daemon/config/config.h"
#include "daemon/service/ingest.h"
#include "daemon/service/service.h"
#include "store/store.h"

struct fetch;
struct sched;

/* One configured feed at run time. Survives reloads while its name stays. */
struct feed_run {
    char *name;                /* owned */
    const struct config_feed *cf; /* borrowed from service.cfg; replaced on reload */
    struct service_ingest ing; /* parse options, article defaults, cleaner (owned; worker) */
    int64_t id;                /* feeds.id in the store */
    int enabled;               /* configured enabled and not gone */
    int in_flight;             /* a fetch or its ingest is running */
    int urgent;                /* a refresh asked for it: fetched before scheduled feeds */
    int removed;               /* dropped by a reload; freed when not in flight */
    char *url;                 /* current URL (a 301/308 updates it), owned */
    char *etag, *last_modified; /* validators as the server gave them, owned */
    int64_t next_fetch;        /* Unix seconds */
    int64_t last_fetch;        /* Unix seconds of the last finished fetch, 0 never */
    int64_t newest;            /* date of the newest item seen, 0 unknown */
    long http;                 /* last HTTP status, 0 none */
    int errors;                /* consecutive failures (backoff) */
    enum service_outcome last; /* outcome of the last fetch */
    int fetched;               /* at least one fetch finished */
    char error[256];           /* last error in words, "" when none */
    struct store_counts counts; /* counts of the last fetch */
    long articles;             /* articles carried by this feed (store count) */
    uint64_t fetches[SERVICE_OUTCOMES]; /* fetches by outcome since start (/metrics) */
    struct service_wait *waiters; /* callers waiting for this fetch */
};

struct metrics {
    uint64_t articles[4];                       /* by enum store_outcome */
    uint64_t duration_buckets[SERVICE_BUCKETS]; /* cumulative counts per bound */
    uint64_t duration_count;
    double duration_sum;
    int64_t started;                            /* Unix seconds */
};

#define SERVICE_WATCHERS 8

struct service {
    uv_loop_t *loop;
    struct config *cfg;        /* current configuration (owned) */
    char *cfg_path;            /* file to re-read, NULL: built-in */
    struct config **retired;   /* replaced configurations still borrowed by feeds */
    size_t nretired;
    struct store *rstore;      /* reads, on the loop thread */
    struct store *wstore;      /* writes, in the worker: one job at a time */
    int store_ok;              /* the last store operation worked (healthz, watchdog) */
    char store_error[256];
    struct fetch *fetch;
    struct sched *sched;
    struct feed_run **feeds;   /* in configuration order */
    size_t nfeeds;
    struct metrics metrics;
    uv_timer_t prune;          /* retention, every SERVICE_PRUNE_EVERY_MS */
    int prune_open;            /* the timer is initialised and not closed */
    int stopping;
    int parts;                 /* handles and engines still closing in service_stop */
    void (*stopped)(void *arg);
    void *stopped_arg;
    struct {
        service_watch_fn fn;
        void *arg;
    } watchers[SERVICE_WATCHERS];
};

/* ---- service.c ---- */

/* The feed named `name` and not removed, or NULL. */
struct feed_run *service_feed(struct service *s, const char *name);
/* f's fetch has finished (its state is updated): frees a feed dropped by a
 * reload, applies options reloaded meanwhile, tells the watchers. f may be
 * freed on return. */
void service_after_fetch(struct service *s, struct feed_run *f);
/* Tell every watcher about ev. */
void service_notify(struct service *s, enum service_event ev);
/* One step of service_stop is done; the last calls the caller's `done`. */
void service_part_done(struct service *s);

/* ---- sched.c ---- */

/* Set up the timer and the job queue. Returns 0 or a negative errno. */
int sched_init(struct service *s);
/* Arm the timer for the earliest due feed. */
void sched_rearm(struct service *s);
/* Fetch f as soon as the limits allow (see service_refresh). */
int sched_refresh(struct service *s, struct feed_run *f, struct service_wait *w);
/* Whether any feed is fetching or waiting for its ingest. */
int sched_busy(const struct service *s);
/* Close the timer once the running job (if any) has finished, then call
 * service_part_done(). */
void sched_stop(struct service *s);
/* Queue fn to run with the writer store in the worker, in order with the
 * ingest jobs, then `after` on the loop thread. Returns 0 or -ENOMEM. */
int sched_job(struct service *s, void (*fn)(struct service *s, void *arg),
              void (*after)(struct service *s, void *arg), void *arg);

#endif
