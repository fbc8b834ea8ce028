/* daemon/service/service_int.h — the running daemon's state, shared inside
 * daemon/service/ only: service.c (feeds, reload, prune, the face of
 * service.h) and sched.c (timer, job queue, fetch → ingest → saved state).
 * Everything here is touched on the loop thread only. A job of the queue
 * (sched_job) runs in the worker (the writer thread, sched.c) with what its
 * own struct holds: copies, and references to immutable feed_opts; of
 * struct service it reads wstore only.
 * The loop thread never runs SQL but the reader's (busy timeout 0, never
 * waiting for the writer's lock). */
#ifndef FINFEED_SERVICE_INT_H
#define FINFEED_SERVICE_INT_H

#include <stdint.h>

#include <uv.h>

#include "daemon/config/config.h"
#include "daemon/service/ingest.h"
#include "daemon/service/policy.h"
#include "daemon/service/service.h"
#include "store/store.h"

struct fetch;
struct sched;

/* A feed's ingest options, built from one configuration and never changed
 * after: the worker reads them while the loop thread may already have built
 * the next ones (a reload). Counted references, taken and dropped on the loop
 * thread only (a job holds one from its queueing to its `after`). */
struct feed_opts {
    unsigned refs;
    struct service_ingest ing; /* feed_id unset: the job sets it on its copy */
};

/* The dedup keys' maker of the writer's tracking list (store_keymaker_new),
 * read by the parsing threads so that the writer need not make the keys: made
 * on the writer's thread (at start, and by a reload's tracking job), then
 * immutable. Counted references, taken and dropped on the loop thread only
 * (a parse job holds one until its document is freed). */
struct service_keymaker {
    unsigned refs;
    struct store_keymaker *m;
};
struct service_keymaker *service_keymaker_ref(struct service_keymaker *k);
void service_keymaker_unref(struct service_keymaker *k);

/* One configured feed at run time. Survives reloads while its name stays. */
struct feed_run {
    char *name;                /* owned */
    const struct config_feed *cf; /* borrowed from service.cfg; replaced on reload;
                                   * NULL once removed (the old configuration is freed) */
    struct feed_opts *opts;    /* a reference (loop thread) */
    int64_t id;                /* feeds.id in the store, 0 until registered (worker) */
    int registering;           /* a registration job holds a pointer to it */
    int need_ensure;           /* registered, but its configured URL changed since */
    int64_t reg_at;            /* registration (or its retry) not before, Unix seconds */
    int reg_errors;            /* consecutive failed registrations (backoff) */
    int enabled;               /* configured enabled and not gone */
    int in_flight;             /* a fetch or its ingest is running */
    int storing;               /* … its fetch is over: its document is parsed
                                * or stored (it keeps its lease until then) */
    int completing;            /* its claim is being finished in the store */
    int foreign;               /* listed by another node only (SPEC §10's union):
                                * served, shown and refreshable here, fetched
                                * by a node that lists it; cf and opts NULL */
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
    /* the shared schedule (SPEC §10): claims, leases, fencing */
    int claimed;               /* claimed, its fetch not started yet (start_ms) */
    uint64_t start_ms;         /* uv_now() at which a claimed fetch may start (max_rate) */
    int64_t token;             /* fencing token of this node's claim (claimed or in
                                * flight), else of the latest claim read */
    int fenced;                /* this node's lease was lost: its result is refused */
    int refresh;               /* a refresh asked for it: marked due in the store next */
    char owner[65];            /* lease holder as last read, "" none */
    int64_t lease_until;       /* Unix seconds, database clock, 0 none */
    int unlisted;              /* disabled in the store: no live node lists it */
    /* WebSub (websub.c) */
    char *ws_hub, *ws_topic;   /* the subscription this node knows of, owned, or NULL */
    int ws_busy;               /* a subscription job or request holds a pointer to it */
    int pushing;               /* pushed documents queued or being ingested */
    /* freshness (issue 13): as struct service_feed */
    int64_t first_ok;          /* its first successful fetch as last read, 0 never */
    char next_why[128];
    int64_t lag_median;
    long lag_n;
    uint64_t lag_buckets[SERVICE_LAG_BUCKETS];
    uint64_t lag_count;
    double lag_sum;
};

/* What a finished fetch hands the completion of its claim: the inputs of its
 * next check (policy.h), the step of its plan computed on the loop thread
 * with the configuration (cadence.h), so the worker needs nothing of it. */
struct fetch_ask {
    enum service_next_kind kind;
    int64_t now;               /* when the fetch ended (this node's clock) */
    long ttl_min, max_age, retry_after;
    uint64_t rnd;
    int64_t *lags;             /* the lags of the articles this fetch added (issue 13
                                * §1), nlags of them; owned, taken by cluster_complete */
    size_t nlags;
};

struct metrics {
    uint64_t articles[4];                       /* by enum store_outcome */
    uint64_t duration_buckets[SERVICE_BUCKETS]; /* cumulative counts per bound */
    uint64_t duration_count;
    double duration_sum;
    int64_t started;                            /* Unix seconds */
};

#define SERVICE_WATCHERS 8

struct cluster;
struct complete_job;
struct websub;
struct hub;

struct service {
    uv_loop_t *loop;
    struct config *cfg;        /* current configuration (owned) */
    char *cfg_path;            /* file to re-read, NULL: built-in */
    struct store *rstore;      /* reads on the loop thread: busy timeout 0 */
    struct store *wstore;      /* writes, in the worker: one job at a time */
    struct service_keymaker *keymaker; /* wstore's tracking list's (a reference), or
                                        * NULL: the writer makes the keys */
    int store_ok;              /* the last store operation worked, or failed on a lock
                                * only (healthz, watchdog) */
    char store_error[256];
    int write_failed;          /* a write failed on a full disk, an I/O error,
                                * a read-only file: degraded until a fetch's
                                * articles or state are written again, whatever
                                * reads (and writes too small to tell) do */
    char write_error[256];
    int64_t generation;        /* service_generation(): bumped on every change seen */
    long articles;             /* articles in the store, as the last job counted them */
    int articles_known;        /* … once a job has counted them */
    int loaded;                /* the first registration job is done (service_loaded) */
    struct fetch *fetch;
    struct sched *sched;
    struct cluster *cluster;   /* claims, leases, notifications (claim.c) */
    struct websub *websub;     /* WebSub subscriber (websub.c), NULL until started */
    struct hub *hub;           /* the built-in hub and hub pings (hub.c), NULL until started */
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
    /* instruments (SPEC §12): the configuration's extractor and watchlists,
     * replaced together on reload; the most-mentioned tickers as the worker
     * last counted them */
    struct service_tickers *tickers;      /* a reference */
    struct service_watchlist *watchlists; /* nwatchlists, tickers expanded */
    size_t nwatchlists;
    struct service_ticker *top; /* ntop, most first */
    size_t ntop;
    int64_t top_at;  /* when counted, 0 never */
    int64_t top_gen; /* the generation then */
    int top_busy;    /* a count is queued */
};

/* ---- service.c ---- */

/* Options for cf of cfg (copied), its tickers found with t (a reference
 * taken; may be NULL), one reference. Returns 0, or a negative errno with
 * the reason in err. */
int feed_opts_new(const struct config *cfg, const struct config_feed *cf, struct service_tickers *t,
                  struct feed_opts **out, char *err, size_t errsize);
struct feed_opts *feed_opts_ref(struct feed_opts *o);
/* Drop a reference; the last frees. NULL is fine. */
void feed_opts_unref(struct feed_opts *o);

/* A feed another node lists (id in the store, name copied), appended to
 * s->feeds. Returns 0 or -ENOMEM. */
int service_feed_foreign(struct service *s, int64_t id, const char *name, struct feed_run **out);
/* The feed named `name` and not removed, or NULL. */
struct feed_run *service_feed(struct service *s, const char *name);
/* f's fetch has finished (its state is updated): frees a feed dropped by a
 * reload, tells the watchers. f may be freed on return. */
void service_after_fetch(struct service *s, struct feed_run *f);
/* Free f when a reload dropped it and no fetch or job holds it any more.
 * Returns 1 when freed. */
int service_feed_release(struct service *s, struct feed_run *f);
/* Record the outcome of a store operation of a job: rc 0 works, -EBUSY (a
 * lock held elsewhere: the feed says so, the store is not broken), other
 * errors make the store unhealthy with `err`. */
void service_store_result(struct service *s, int rc, const char *err);
/* A fetch's articles (an ingest) or its state (a completion) were written:
 * the store takes writes again (after service_store_result). */
void service_store_wrote(struct service *s);
/* Queue one registration job for the feeds due for it (not registered, or
 * their configured URL changed). Returns 0 or -ENOMEM. */
int service_register_due(struct service *s, int64_t now);
/* The earliest time a feed is due for registration, INT64_MAX when none. */
int64_t service_register_next(const struct service *s);
/* Tell every watcher about ev. */
void service_notify(struct service *s, enum service_event ev);
/* n lags (seconds) of articles f stored into its histogram (issue 13 §1;
 * cumulative per bound, as /metrics writes it). */
void service_observe_lags(struct feed_run *f, const int64_t *lags, size_t n);
/* One step of service_stop is done; the last calls the caller's `done`. */
void service_part_done(struct service *s);

/* Fire f's waiters whose refresh a fetch with token `done` answers (after <
 * done; INT64_MAX answers all), with a copy of f's state; others wait on. */
void service_answer_waiters(struct service *s, struct feed_run *f, int64_t done);

/* ---- sched.c ---- */

/* A feed was claimed: it holds a fetch slot until its fetch finishes. */
void sched_claimed(struct service *s);
/* Slots held ([daemon] concurrency): claimed feeds and running fetches; a
 * fetched document being parsed or stored holds none while no more than
 * concurrency do (the next fetches run while the writer stores; at most
 * twice concurrency documents in memory), a slot each beyond. */
long sched_slots_used(const struct service *s);
/* Fetched documents being parsed or stored. */
long sched_storing(const struct service *s);

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
 * ingest jobs, then `after` on the loop thread. fn reads only what arg holds
 * and s->wstore, and returns how the store did: 0, -EBUSY (locked elsewhere)
 * or another negative errno; 1 when it ran no query (it then ends no
 * fail-fast period). After a job failed on a lock, the next ones
 * fail at once instead of waiting out the busy timeout each (SCHED_BUSY_FAST_MS,
 * until one succeeds). Returns 0 or -ENOMEM. */
int sched_job(struct service *s, int (*fn)(struct service *s, void *arg),
              void (*after)(struct service *s, void *arg), void *arg);
/* sched_job for a job whose writes may share the transaction of the
 * documents around it (a group, store_group_begin): its `after` runs once
 * that group has committed, after `fail` (loop thread) when it did not. */
int sched_job_grouped(struct service *s, int (*fn)(struct service *s, void *arg),
                      void (*after)(struct service *s, void *arg),
                      void (*fail)(void *arg, int rc, const char *err), void *arg);
/* sched_job for a claim: its writes join the writer's open group (a
 * savepoint of its transaction; SQLite, one node: a claim lost with the
 * group is made again) rather than end it, and its `after` runs at once,
 * before the group commits (the fetches start). Where documents are not
 * grouped (PostgreSQL) it is sched_job: the claim commits at once. */
int sched_job_joins(struct service *s, int (*fn)(struct service *s, void *arg),
                    void (*after)(struct service *s, void *arg), void *arg);
/* Writer thread (a job's fn): documents in the writer's open group so far
 * (0: none open). */
long sched_group_docs(const struct service *s);

/* Ingest a pushed document (WebSub, taken: body) of f as a fetched one,
 * in order with the other jobs; sig (copied) is recorded as seen once it
 * is stored; then done(arg, rc, err) on the loop (rc 0, -EINVAL a bad
 * document, another negative errno the store's). Returns 0 or -ENOMEM
 * (body freed, done not called). */
int sched_push(struct service *s, struct feed_run *f, char *body, size_t len, const char *charset,
               const char *sig, void (*done)(void *arg, int rc, const char *err), void *arg);
/* The interval f is polled at: its own, or WEBSUB_POLL_S when a hub pushes it. */
int64_t sched_interval(const struct feed_run *f);

/* ---- websub.c: the WebSub subscriber (SPEC §11) ---- */

/* A pushed feed is still polled, as a safety net, this often at least
 * (the max_interval; 6 h, SPEC §11's default). */
#define WEBSUB_POLL_S (6 * 3600)

/* Start the renewal timer when [daemon] public_url is set. 0 or a negative
 * errno. */
int websub_init(struct service *s);
/* Close it, then service_part_done(). */
void websub_stop(struct service *s);
void websub_free(struct service *s);
/* f was fetched (or pushed) and names hub and self (either may be NULL;
 * fetched_url is the URL it came from): subscribe when the hub or topic is
 * new to it. */
void websub_discovered(struct service *s, struct feed_run *f, const char *hub, const char *self);
/* A reload dropped feed `id`: unsubscribe its subscriptions. */
void websub_feed_removed(struct service *s, int64_t id);
/* The clock of every WebSub decision, subscriber and hub: the database's
 * (nodes agree), plus the offset in test_clock's file (FINFEED_TEST_CLOCK,
 * NULL: none). In the worker. */
int64_t websub_now(struct service *s, const char *test_clock);
/* The offset alone (no store: any thread), 0 without a test clock. */
int64_t websub_skew(const char *test_clock);

/* ---- hub.c: WebSub for our own feeds (SPEC §11) ---- */

/* Set up the hub's timer and its fetch engine (deliveries, verifications,
 * pings). 0 or a negative errno. */
int hub_init(struct service *s);
/* The configuration changed: the timer follows [output] hub. */
void hub_reload(struct service *s);
/* Close the timer and the engine (pending requests fire cancelled), then
 * service_part_done() once for each. Returns the number of parts. */
int hub_stop(struct service *s);
void hub_free(struct service *s);
/* Articles of f were stored here (new, updated or a new source), naming
 * tickers[0..ntickers): the built-in hub's subscriptions are due, or the
 * external hub pinged for each route that may have changed. */
void hub_changed(struct service *s, const struct feed_run *f,
                 const char (*tickers)[PARSE_TICKER_LEN], size_t ntickers);
/* The hub our feeds advertise under cfg, a new string (NULL: none, or no
 * memory). */
char *hub_advertised(const struct config *cfg);

/* ---- claim.c: the shared schedule (SPEC §10) ---- */

/* Set up the cluster's handles (lease, notification, poll timers) and start
 * listening for other nodes' notifications. Returns 0 or a negative errno. */
int cluster_init(struct service *s);
/* Close them (and the listening connection), then service_part_done(). */
void cluster_stop(struct service *s);
/* Free what is left (after stop, or when never started). */
void cluster_free(struct service *s);
/* Queue a claim of due feeds when slots are free and one is due; the
 * earliest uv_now() ms at which the timer should look again in *wake
 * (UINT64_MAX: a finished fetch or a notification will). */
void cluster_claim(struct service *s, uint64_t now_ms, uint64_t *wake);
/* f's fetch ended: finish its claim in the store with its token (state,
 * lease released, and the next check, which the worker computes from the
 * feed's items in the store and `ask`: issue 13 §2; the feed's median lag
 * with it, and ask's lags into its histogram when the feed had a successful
 * fetch before); waiters fire once it is written. ask->lags is taken. */
void cluster_complete(struct service *s, struct feed_run *f, const struct fetch_ask *ask);
/* The completion of f's claim made ahead, on the loop thread, with the
 * state `as` says f will have once its fetched document is stored (a copy
 * of f with the fetch's outcome): written in the worker by the document's
 * own job, in its transaction (cluster_complete_write), so that one commit
 * stores the articles and ends the lease. NULL when f holds no claim or
 * without memory (cluster_complete then, as for any other outcome). */
struct complete_job *cluster_complete_ahead(struct service *s, struct feed_run *f,
                                            const struct feed_run *as,
                                            const struct fetch_ask *ask);
/* Worker: write j with what storing the document found (the newest item's
 * date, the feed's ttl, its new articles' lags: taken). Returns what the
 * store said: 0 or a negative errno (-ESTALE reads as 0: fenced). */
int cluster_complete_write(struct service *s, struct complete_job *j, int64_t newest, long ttl,
                           int64_t *lags, size_t nlags);
/* Loop thread, once the group j was written in has committed (rc 0) or
 * failed (rc, err): what cluster_complete's job does then. Frees j; may free
 * j's feed (dropped by a reload). */
void cluster_complete_done(struct service *s, struct complete_job *j, int rc, const char *err);
/* A completion made ahead and not written (NULL is fine). */
void cluster_complete_drop(struct complete_job *j);
/* The database clock minus this node's, seconds, as the last claim read it. */
int64_t cluster_offset(const struct service *s);
/* Articles changed here: tell the other nodes (coalesced). */
void cluster_changed(struct service *s);
/* A refresh of f (w may be NULL): mark it due in the store (with the other
 * refreshes of this loop turn), wake the cluster, and fire w once a fetch
 * with a newer token has finished, on whichever node. */
int cluster_refresh(struct service *s, struct feed_run *f, struct service_wait *w);
/* The configuration changed: list its feeds in the store again soon. */
void cluster_reload(struct service *s);
/* A reload dropped the feed named `name` (copied): it is not another
 * node's until one lists it after now. */
void cluster_dropped(struct service *s, const char *name);
/* The claim's lease in seconds: [daemon] lease, or 2 × timeout + 60. */
int64_t cluster_lease(const struct config *cfg);

#endif
