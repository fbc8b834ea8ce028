/* daemon/service/service_int.h — the running daemon's state, shared by the parts of
 * daemon/ that serve it: daemon.c (loop, signals, reload, sd_notify),
 * sched.c (scheduler, fetch → ingest), ctl.c (control socket), http.c (HTTP
 * output). Everything here is touched on the loop thread only, except the
 * fields marked "worker". */
#ifndef FINFEED_DAEMON_INT_H
#define FINFEED_DAEMON_INT_H

#include <stdint.h>

#include <uv.h>

#include "daemon/config/config.h"
#include "daemon/service/ingest.h"
#include "store/store.h"

struct fetch;
struct sched;
struct ctl;
struct http;
struct waiter;

/* Fetch outcomes, for status, the control protocol and /metrics. */
enum feed_outcome {
    OUT_OK = 0,       /* 200, stored */
    OUT_NOT_MODIFIED, /* 304 */
    OUT_ERROR,        /* transport, HTTP or parse error */
    OUT_GONE,         /* 410: the feed is disabled */
    OUT_N
};

const char *feed_outcome_name(enum feed_outcome o); /* "ok", "not-modified", … */

/* One configured feed at run time. Survives reloads while its name stays. */
struct feed_run {
    char *name;                /* owned */
    const struct config_feed *cf; /* borrowed from daemon.cfg; replaced on reload */
    struct ingest_feed ing;    /* parse options, article defaults, cleaner (owned) */
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
    enum feed_outcome last;    /* outcome of the last fetch */
    int fetched;               /* at least one fetch finished */
    char error[256];           /* last error in words, "" when none */
    struct store_counts counts; /* counts of the last fetch */
    long articles;             /* articles carried by this feed (store count) */
    uint64_t fetches[OUT_N];   /* fetches by outcome since start (/metrics) */
    struct waiter *waiters;    /* control clients waiting for this fetch */
};

/* A feed's state in words for people and the protocol: "ok", "stale",
 * "error", "gone", "disabled", "new" (never fetched), "not-modified". */
const char *feed_state(const struct feed_run *f, int64_t now, int64_t stale_after);

#define FETCH_BUCKETS 10
extern const double fetch_bucket_bounds[FETCH_BUCKETS]; /* seconds, le= of the histogram */

struct metrics {
    uint64_t articles[4];                     /* by enum store_outcome */
    uint64_t duration_buckets[FETCH_BUCKETS]; /* cumulative counts per bound */
    uint64_t duration_count;
    double duration_sum;
    int64_t started;                          /* Unix seconds */
};

struct daemon {
    uv_loop_t *loop;
    struct config *cfg;        /* current configuration (owned) */
    char *cfg_path;            /* file given with -c (or default), NULL: built-in */
    struct store *rstore;      /* reads, on the loop thread */
    struct store *wstore;      /* writes, in the worker: one ingest job at a time */
    int store_ok;              /* the last store operation worked (healthz, watchdog) */
    char store_error[256];
    struct fetch *fetch;
    struct sched *sched;
    struct feed_run **feeds;   /* in configuration order */
    size_t nfeeds;
    struct ctl *ctl;
    struct http *http;
    struct metrics metrics;
    int stopping;
};

/* The feed named `name`, or NULL. */
struct feed_run *daemon_feed(struct daemon *d, const char *name);

/* The scheduler's word that f's fetch has finished (its state is updated):
 * frees a feed dropped by a reload, applies options reloaded meanwhile,
 * refreshes the sd_notify STATUS line. f may be freed on return. */
void daemon_after_fetch(struct daemon *d, struct feed_run *f);

#endif
