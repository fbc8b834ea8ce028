/* daemon/service/service.h — the running daemon's one face: its feeds and
 * their state (copied out), refresh, reload, prune, change notification,
 * counters, and the reader store for rendering. The control socket, the HTTP
 * server and `finfeed daemon` use nothing else of daemon/service/. Every
 * function runs on the loop thread of the loop given to service_new(). */
#ifndef FINFEED_SERVICE_H
#define FINFEED_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct config;
struct store;
struct service;

/* How a feed's last fetch ended. */
enum service_outcome {
    SERVICE_OK = 0,       /* 200, stored */
    SERVICE_NOT_MODIFIED, /* 304 */
    SERVICE_ERROR,        /* transport, HTTP, parse or store error */
    SERVICE_GONE,         /* 410: disabled until its URL changes */
    SERVICE_OUTCOMES
};

/* "ok", "not-modified", "error", "gone" (static strings). */
const char *service_outcome_name(enum service_outcome o);

/* finfeed_article_lag_seconds (issue 13 §1): first seen − published, of the
 * articles first seen on a feed's second or later successful fetch whose
 * date is believed (SPEC §3), 1 s to a day. */
#define SERVICE_LAG_BUCKETS 13
extern const double service_lag_bounds[SERVICE_LAG_BUCKETS]; /* seconds, le= */

struct service_counts {
    long new_, updated, duplicates, unchanged;
};

/* One feed's state, a copy: every pointer is owned by whoever holds the
 * struct (the snapshot, or the service during a callback). */
struct service_feed {
    char *name;
    char *url;                  /* current URL (a 301/308 moves it) */
    char **categories;          /* configured categories */
    size_t ncategories;
    int enabled;                /* configured and not gone */
    int fetched;                /* a fetch finished since start */
    enum service_outcome last;  /* of the last fetch (from the store at start) */
    long http;                  /* last HTTP status, 0 none */
    int64_t last_fetch;         /* Unix seconds, 0 never */
    int64_t next_fetch;         /* Unix seconds, 0 as soon as possible */
    int64_t newest;             /* date of the newest item seen, 0 unknown */
    int errors;                 /* consecutive failures */
    char error[256];            /* last error in words, "" none */
    struct service_counts counts; /* of the last fetch */
    long articles;              /* articles carried by this feed */
    uint64_t fetches[SERVICE_OUTCOMES]; /* finished fetches since start */
    /* the shared schedule (SPEC §10), as this node last read it */
    char owner[65];             /* node holding its lease, "" none */
    int64_t lease_until;        /* Unix seconds (database clock), 0 none */
    int64_t token;              /* fencing token of the latest claim */
    int unlisted;               /* disabled: no live node lists it */
    /* freshness (issue 13) */
    char next_why[128];         /* why next_fetch is when it is, "" unknown */
    int64_t lag_median;         /* median lag over the day before its last fetch,
                                 * seconds, when lag_n > 0 */
    long lag_n;                 /* articles that median is of */
    uint64_t lag_buckets[SERVICE_LAG_BUCKETS]; /* cumulative counts per bound of
                                 * service_lag_bounds, this node's fetches since start */
    uint64_t lag_count;
    double lag_sum;             /* seconds */
};

/* One reader of [output] tokens (config.h, struct config_token). */
struct service_reader {
    char *name;   /* owned; logged as reader=NAME */
    char *secret; /* owned; never logged */
};

/* One group of a watchlist (SPEC §12): an article matches it when it
 * matches any one item. Strings owned by whoever holds the struct. */
struct service_match {
    char **tickers; /* "EXCHANGE:SYMBOL", each listing of a named issuer */
    size_t ntickers;
    char **keywords; /* search texts, as ?q= */
    size_t nkeywords;
    char **categories;
    size_t ncategories;
    char **feeds;
    size_t nfeeds;
};

/* A [watchlist "NAME"], its tickers expanded to every listing of their
 * issuers (the symbol dictionary's grouping). An article matches `any`
 * (no item: every article), each all_of group and no none_of group. */
struct service_watchlist {
    char *name;
    struct service_match any;
    struct service_match *all_of; /* nall_of */
    size_t nall_of;
    struct service_match *none_of; /* nnone_of */
    size_t nnone_of;
};

/* A deep copy of in into *out: 0 or -ENOMEM (out then empty). */
int service_watchlist_copy(const struct service_watchlist *in, struct service_watchlist *out);
struct store_watch;
/* w as the store's predicate (store.h) into *out, pointing into w (which
 * must outlive it); its groups in an array of its own, freed with
 * service_watchlist_query_free. 0 or -ENOMEM. */
int service_watchlist_query(const struct service_watchlist *w, struct store_watch *out);
void service_watchlist_query_free(struct store_watch *q);
/* Free what w owns and empty it. */
void service_watchlist_clear(struct service_watchlist *w);

/* One of the most-mentioned instruments. */
struct service_ticker {
    char *ticker;  /* "EXCHANGE:SYMBOL", owned */
    long articles; /* republished articles dated in the last 24 h carrying it */
};

/* The feeds (configuration order) and the output settings at one moment. */
struct service_snapshot {
    struct service_feed *feeds; /* owned */
    size_t nfeeds;
    char *title, *link;         /* [output] title and link, owned */
    long max_entries;           /* [output] max_entries */
    int64_t stale_after;        /* [daemon] stale_after, seconds (0: never) */
    char *node;                 /* [daemon] node, owned */
    struct service_reader *readers; /* [output] tokens, owned, nreaders items */
    size_t nreaders;            /* 0: the output is open */
    char **tracking;            /* [daemon] tracking_params, owned, ntracking items
                                 * (0: the store's built-in list) */
    size_t ntracking;
    int64_t max_feed_size;      /* [daemon] max_feed_size: the largest push taken */
    char *hub;                  /* the WebSub hub our feeds advertise (SPEC §11): LINK/hub
                                 * with [output] hub = builtin, else the configured hub's
                                 * URL; owned, NULL: none */
    int hub_builtin;            /* [output] hub = builtin: POST LINK/hub is served */
    struct service_watchlist *watchlists; /* [watchlist "NAME"]s, owned, in file order */
    size_t nwatchlists;
    struct service_ticker *top; /* the most-mentioned tickers of the 24 h before
                                 * top_at, most first, owned; ntop of them */
    size_t ntop;
    int64_t top_at; /* when they were counted (Unix seconds), 0 not yet */
};

/* Copy the state of every feed (feed NULL) or of the feed named `feed`.
 * Returns 0, -ENOENT (no such feed), -ENOMEM; *out is empty on failure. */
int service_snapshot(struct service *s, const char *feed, struct service_snapshot *out);
void service_snapshot_free(struct service_snapshot *snap);
/* t (Unix seconds) as "2024-05-01T08:00:00Z" into buf (>= 21 bytes), the
 * project's one ISO 8601 formatter (parse/date.c). Returns buf. */
char *service_time_iso(int64_t t, char *buf, size_t size);
/* A feed's state in words: "ok", "stale", "error", "gone", "disabled",
 * "new" (never fetched). */
const char *service_feed_state(const struct service_feed *f, int64_t now, int64_t stale_after);

#define SERVICE_BUCKETS 10
extern const double service_bucket_bounds[SERVICE_BUCKETS]; /* seconds, le= of the histogram */

/* Counters since start. */
struct service_stats {
    int64_t started;            /* Unix seconds */
    size_t feeds, feeds_ok, feeds_failing;
    int busy;                   /* a fetch or an ingest is running */
    uint64_t stored[4];         /* articles stored: new, updated, duplicate, unchanged */
    uint64_t fetches[SERVICE_OUTCOMES];
    uint64_t duration_buckets[SERVICE_BUCKETS]; /* cumulative */
    uint64_t duration_count;
    double duration_sum;        /* seconds */
    int store_ok;               /* the last store operation worked */
    char store_error[256];
};

/* WebSub subscriber events since start (/metrics, SPEC §11). */
enum service_ws_event {
    SERVICE_WS_PUSHED,       /* a signed push ingested */
    SERVICE_WS_BAD_SIG,      /* a push with a bad or missing signature: dropped */
    SERVICE_WS_UNKNOWN,      /* a push or check for no subscription of ours (or a removed one) */
    SERVICE_WS_REPLAY,       /* a delivery seen before: refused */
    SERVICE_WS_RATE,         /* a push over its subscription's rate: refused */
    SERVICE_WS_TOO_LARGE,    /* a push over max_feed_size: refused */
    SERVICE_WS_VERIFIED,     /* an intent check answered (subscribe or unsubscribe) */
    SERVICE_WS_ASKED,        /* a subscribe, renewal or unsubscribe a hub accepted */
    SERVICE_WS_ASK_FAILED,   /* … that a hub refused or that failed */
    SERVICE_WS_EVENTS
};
/* "pushed", "bad_signature", … (static strings), the /metrics label. */
const char *service_ws_event_name(enum service_ws_event e);

void service_stats(const struct service *s, struct service_stats *out);
/* Whether a fetch or an ingest is running (service_stats' busy, without
 * its walk over every feed). */
int service_busy(const struct service *s);
/* The WebSub counters (enum service_ws_event) into out[SERVICE_WS_EVENTS]. */
void service_ws_stats(const struct service *s, uint64_t *out);
/* Articles in the store, as the worker counted them after its last write
 * (no query on the loop thread). Returns 0, or -EAGAIN before the first
 * count (*n is 0). */
int service_articles(struct service *s, long *n);
/* 0 while the store works (a lock held elsewhere is no failure: it is
 * waited out, and the feeds it fails say so); 1 while it does not (the
 * database unreachable or failing: degraded, the output still served from
 * what is cached) with the reason in why (may be NULL). No query. */
int service_health(struct service *s, char *why, size_t size);
/* Whether the feeds given to service_new have been through their first
 * registration in the store, which the worker does once started: their
 * saved state (URL moved by a 301, validators, gone) is loaded, or the
 * attempt failed (on a locked database) and is retried with backoff. Until
 * then each feed reads as never fetched. A SERVICE_FETCHED event follows
 * the change. */
int service_loaded(const struct service *s);
/* The reader connection, for rendering; borrowed, NULL when there is none.
 * It belongs to one caller (the HTTP server), who uses it from one thread
 * at a time and never on the loop thread (a PostgreSQL query may take any
 * time); the service itself never touches it after service_new. Its busy
 * timeout is 0: a statement that would wait for a lock fails at once with
 * -EBUSY (a WAL reader hardly ever does). */
struct store *service_store(struct service *s);
/* Count the most-mentioned tickers again (SPEC §12, the status page), in
 * the worker, when the count is a minute old and articles changed since,
 * or five minutes old; the snapshot has them once counted (a
 * SERVICE_FETCHED event follows). No query on the loop thread. */
void service_top_tickers_refresh(struct service *s);

/* A number that changes whenever the stored articles may have changed:
 * this node's ingests and prunes, another node's (notified through the
 * store), another writer of the same file (a slow poll). No query: the
 * loop thread reads it freely. */
int64_t service_generation(const struct service *s);

/* ---- changes ---- */

enum service_event {
    SERVICE_FETCHED,  /* a feed's fetch finished: its state changed */
    SERVICE_RELOADED, /* the configuration was replaced */
};

typedef void (*service_watch_fn)(void *arg, enum service_event ev);

/* Call fn(arg, event) after every change, until service_unwatch. Returns 0
 * or -ENOSPC (8 watchers at most). */
int service_watch(struct service *s, service_watch_fn fn, void *arg);
void service_unwatch(struct service *s, service_watch_fn fn, void *arg);

/* ---- requests ---- */

/* A caller's wait for one fetch: storage the caller owns, linked into the
 * service until its callback fires or service_refresh_cancel(). `f` is valid
 * during the call only. */
struct service_wait;
typedef void (*service_wait_fn)(void *arg, const struct service_feed *f);
struct service_wait {
    struct service_wait *next; /* the service's */
    service_wait_fn done;
    void *arg;
    int64_t after;             /* the service's: done once a fetch whose fencing
                                * token is above this has finished (-1: not known yet) */
};

/* Fetch feed `feed` as soon as the limits allow, ahead of the scheduled
 * ones; joins a fetch already running. When w is not NULL, done(arg, state)
 * fires once when the fetch has finished, never before this returns.
 * Returns 0, -ENOENT (no such feed), -EPERM (disabled or gone); done is not
 * called on failure. */
int service_refresh(struct service *s, const char *feed, struct service_wait *w,
                    service_wait_fn done, void *arg);
/* Forget w (its callback will not fire). Harmless when it already fired. */
void service_refresh_cancel(struct service *s, struct service_wait *w);

/* Re-read the configuration file: 0, or a negative errno with the reason in
 * err and the old configuration still whole. */
int service_reload(struct service *s, char *err, size_t errsize);

/* What a prune did. */
struct service_pruned {
    long articles;   /* articles pruned ([daemon] retention) */
    long tombstones; /* tombstones expired ([daemon] tombstone_retention) */
    long batches;    /* worker jobs it took */
    uint64_t max_ms; /* the longest of them, milliseconds */
};
/* p valid during the call; err "" unless rc < 0 (then p says what was
 * done before the failure). */
typedef void (*service_prune_fn)(void *arg, int rc, const struct service_pruned *p,
                                 const char *err);
/* Apply [daemon] retention and tombstone_retention now: articles, then
 * tombstones, a batch at a time, each batch a worker job queued behind the
 * ingest and claim jobs that came meanwhile (none of them waits for more
 * than one batch). done (may be NULL) fires on the loop thread once all is
 * done, at once when both are forever; when the service stops first, with
 * what was done. Returns 0 or -ENOMEM (done not called). */
int service_prune(struct service *s, service_prune_fn done, void *arg);

/* ---- WebSub subscriber (SPEC §11) ---- */

/* A hub's request at our callback PUBLIC_URL/websub/ID. Borrowed during
 * service_websub_callback only (copied). */
struct service_websub_req {
    const char *callback;   /* ID */
    int post;               /* 0: GET, intent verification; 1: POST, content */
    const char *mode, *topic, *challenge, *lease; /* GET: hub.mode, hub.topic,
                                                    * hub.challenge, hub.lease_seconds */
    const char *signature;  /* POST: X-Hub-Signature, or NULL */
    const char *body;       /* POST: the content, len bytes */
    size_t len;
    const char *charset;    /* POST: the Content-Type's charset, or NULL */
};

/* The answer: an HTTP status and its text (the challenge for a verified
 * GET, else the reason), valid during the call. */
typedef void (*service_websub_fn)(void *arg, int status, const char *text);

/* Answer a hub's request r: refuses at once (returns the status, > 0, with
 * its reason in *why, static; done not called) when no subscriber is
 * configured or the subscription's pushes come too fast; else returns 0
 * and done(arg, …) fires once, later, after the subscription was looked up
 * in the store (and a push ingested), unless service_websub_cancel(arg)
 * came first. Returns -ENOMEM (done not called). */
int service_websub_callback(struct service *s, const struct service_websub_req *r,
                            service_websub_fn done, void *arg, const char **why);
/* Forget every pending answer to arg: its done will not fire. */
void service_websub_cancel(struct service *s, void *arg);

/* ---- WebSub for our own feeds (SPEC §11) ----
 * With [output] hub = URL a change of the articles stored here pings that
 * hub (hub.mode=publish) for the topics it touched: the merged feed, the
 * feed's own and its configured categories', each format, at most once a
 * second a topic. With hub = builtin the daemon is the hub: readers
 * subscribe at POST LINK/hub (service_hub_request), their intent is
 * verified, and each change of a topic's document is pushed to them, once
 * across every node sharing the store, signed with their hub.secret. */

/* The built-in hub's events since start (/metrics). */
enum service_hub_event {
    SERVICE_HUB_ACCEPTED,        /* a subscribe or unsubscribe taken (202) */
    SERVICE_HUB_REFUSED,         /* … refused (4xx: limits, rate, a bad callback) */
    SERVICE_HUB_SUBSCRIBED,      /* a subscription verified and stored (or renewed) */
    SERVICE_HUB_UNSUBSCRIBED,    /* an unsubscribe verified: removed */
    SERVICE_HUB_VERIFY_FAILED,   /* the callback did not echo the challenge */
    SERVICE_HUB_DELIVERED,       /* a push the callback took (2xx) */
    SERVICE_HUB_DELIVERY_FAILED, /* … it refused or that failed: retried with backoff */
    SERVICE_HUB_GAVE_UP,         /* a content given up after its last retry */
    SERVICE_HUB_DROPPED,         /* a subscription removed: failing, gone (410), or its topic */
    SERVICE_HUB_EXPIRED,         /* a subscription whose lease ran out: removed */
    SERVICE_HUB_PINGED,          /* a publish ping an external hub took */
    SERVICE_HUB_PING_FAILED,     /* … it refused or that failed */
    SERVICE_HUB_EVENTS
};
/* "accepted", "refused", … (static strings), the /metrics label. */
const char *service_hub_event_name(enum service_hub_event e);
/* The counters (enum service_hub_event) into out[SERVICE_HUB_EVENTS]; the
 * built-in hub's subscriptions, as this node last counted them, in *subs
 * (-1 unknown). */
void service_hub_stats(const struct service *s, uint64_t *out, long *subs);

/* What the hub pushes: one rendering of a topic. Borrowed during the call. */
struct service_hub_doc {
    const char *doc; /* the document as GET of the topic's route serves it */
    size_t len;
    const char *type; /* its Content-Type */
    const char *self; /* the route's absolute URL (rel="self") */
    long entries;     /* entries in it */
};
typedef void (*service_hub_doc_fn)(void *ctx, int rc, const struct service_hub_doc *d);
/* Render `path` (a route, from its first '/', with its query; copied)
 * from the store as it is now (never a rendering made before the call),
 * then done(ctx, 0, doc) on the loop; or done(ctx, rc, NULL): -ENOENT the
 * path is no feed (any more), -EINVAL a bad query, -EIO the store failed,
 * -ESHUTDOWN stopping. Returns 0 (done fires once, later) or a negative
 * errno of the same meanings (done not called). */
typedef int (*service_hub_render_fn)(void *arg, const char *path, service_hub_doc_fn done,
                                     void *ctx);
/* Who renders the hub's topics (the HTTP server, which knows the routes):
 * fn(arg, …); NULL: nobody (this node then marks changes but delivers
 * none). The renderer answers every render it took before it unregisters,
 * and unregisters before service_stop. */
void service_hub_renderer(struct service *s, service_hub_render_fn fn, void *arg);

/* A reader's request at the built-in hub (POST LINK/hub, W3C WebSub §5.1),
 * borrowed during service_hub_request only (copied). */
struct service_hub_req {
    const char *mode;     /* hub.mode: "subscribe" or "unsubscribe" */
    const char *topic;    /* hub.topic, as given */
    const char *path;     /* the feed route it names (checked by the caller) */
    const char *callback; /* hub.callback */
    const char *lease;    /* hub.lease_seconds, or NULL */
    const char *secret;   /* hub.secret, or NULL */
    const char *client;   /* the client's address, for the rate limit */
};

/* Answer r: refuses at once when it is wrong or over a limit (returns the
 * HTTP status, > 0, with the reason in *why, static; done not called);
 * else returns 0 and done(arg, status, text) fires once, later — 202 once
 * the request is taken (the intent is then verified at the callback, and
 * only then the subscription stored or removed), or 403 over the
 * subscriptions' limits — unless service_hub_cancel(arg) came first.
 * -ENOMEM (done not called). */
int service_hub_request(struct service *s, const struct service_hub_req *r, service_websub_fn done,
                        void *arg, const char **why);
/* Forget every pending answer to arg: its done will not fire. */
void service_hub_cancel(struct service *s, void *arg);

/* ---- lifecycle ---- */

/* A service for `cfg` (taken, whatever happens) read from cfg_path (copied;
 * NULL: built-in defaults): opens the store, loads each feed's state.
 * Starts nothing. Returns 0, or a negative errno with the reason in err. */
int service_new(uv_loop_t *loop, struct config *cfg, const char *cfg_path, struct service **out,
                char *err, size_t errsize);
/* Start the fetch engine, the scheduler and the retention timer. On failure
 * (a negative errno, reason in err) service_stop() still has to run. */
int service_start(struct service *s, char *err, size_t errsize);
/* Cancel fetches (waiters fire), let the running job finish, close the
 * handles; done(arg) fires then, on the loop (at once when nothing was
 * started). No other callback fires after done. */
void service_stop(struct service *s, void (*done)(void *arg), void *arg);
/* Free everything (after stop's done, or when never started); NULL is fine. */
void service_free(struct service *s);

#endif
