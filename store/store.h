/* store/store.h — articles stored once however many feeds carry them, in
 * SQLite (one file in WAL mode, schema versioned with PRAGMA user_version,
 * search through FTS5) or PostgreSQL (a postgresql:// URI, schema versioned
 * in its meta table, search through pg_trgm): the same contract on both. The
 * four dedup rules of SPEC §7; retention with tombstones; the feeds' fetch
 * state. All SQL of finfeed lives in store/. */
#ifndef FINFEED_STORE_H
#define FINFEED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"

struct store;
struct store_keymaker; /* dedup keys made ahead: store_keymaker_new */
struct store_prekeys;  /* … and one article's: store_prekeys_make */

/* Open (creating and migrating as needed) the database at `path` (":memory:"
 * for tests) into *out (the caller's, freed with store_close). A path that
 * starts with postgresql:// or postgres:// is a libpq URI: PostgreSQL (its
 * database ENCODING 'UTF8' with a UTF-8 LC_CTYPE, else -EINVAL). Returns 0,
 * or a negative errno with "PATH: reason" written to err (errsize bytes; a
 * URI's password shown as ***): -EIO for a database that is not finfeed's
 * (not SQLite, or tables without a schema version), -EPROTO for a newer
 * schema, -ENOENT, -EACCES, -EROFS, -ENOSPC, -EBUSY, -ECONNREFUSED. SQLite:
 * a lock held by another connection is waited for (up to 10 s) on open and
 * on every write. A handle is used by one thread at a time. */
int store_open(const char *path, struct store **out, char *err, size_t errsize);

#define STORE_BUSY_TIMEOUT_MS 10000

/* How long a statement waits for a lock held by another connection before
 * it fails with -EBUSY: ms >= 0 (0: at once). A reader in WAL mode never
 * waits for the writer, except in rare cases (a WAL being recovered or
 * reset): a connection that must never stall a thread sets 0 and treats
 * -EBUSY as "try later". Returns 0 or -EINVAL. */
int store_set_busy_timeout(struct store *s, int ms);
/* SQLite: from now on the WAL is checkpointed (PASSIVE) by a thread of the
 * handle's own, on a connection of its own, whenever s's commits have
 * taken it past 1000 pages, not inside the commit on s's thread; past 64
 * MiB a commit of s copies what that thread has not, so that the WAL
 * restarts and stays bounded. For a process's one writing handle (the
 * daemon's writer, `finfeed ingest`). Stopped by store_close. PostgreSQL:
 * nothing. 0, or a negative errno (s works as before). */
int store_checkpoint_async(struct store *s);
/* SQLite: the handle's page cache, in KiB (SQLite's default is 2,000).
 * For a process's one writing handle, STORE_WRITER_CACHE_KIB: a group of
 * documents dirties more pages than 2 MiB hold, which SQLite then spilled
 * to the WAL and read back (`finfeed ingest` of the bench 7% faster, the
 * daemon's writer 8% less CPU; bench/README.md, sixth round), for as much
 * more memory. PostgreSQL: nothing. 0, or a negative errno. */
int store_set_cache(struct store *s, long kib);
#define STORE_WRITER_CACHE_KIB 16384

/* Roll back an open transaction and close. Does not checkpoint: the -wal file
 * may stay beside the database (SQLite folds it in every 1000 pages and on
 * the next open; `sqlite3 DB .backup` copies both). NULL is fine. */
void store_close(struct store *s);

/* `where` (a database path or URI, borrowed) as it may be logged: a URI's
 * password (user:PASSWORD@, password=…) as ***. Written to out (size bytes);
 * returns out. */
const char *store_where_shown(const char *where, char *out, size_t size);

/* Text of the last error on this handle (valid until the next call). */
const char *store_errmsg(const struct store *s);

/* The SQLite schema version this build writes (PRAGMA user_version). */
int store_schema_version(void);

/* Query parameters dropped from links before comparing them (SPEC §7); a
 * trailing '*' matches any suffix ("utm_*"). Copied. NULL/0: the default list. */
int store_set_tracking_params(struct store *s, const char *const *params, size_t n);

/* 1 when the query parameter named by the n bytes at `name` (borrowed, as
 * written in the URL, not decoded) is one of s's tracking parameters (case
 * folded; "utm_*" matches a prefix), else 0. The one test of what a tracking
 * parameter is: dedup keys (SPEC §7) and emitted links (§5.2) both use it. */
int store_tracking_param(const struct store *s, const char *name, size_t n);

/* The feed named `name` (created when new). `url` is its configured URL
 * (NULL: unknown): the stored current URL follows it when it changes, and
 * otherwise keeps what a permanent redirect made it. Its id in *id. */
int store_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id);

/* What storing one article did. */
enum store_outcome {
    STORE_NEW = 0,
    STORE_UPDATED,   /* same feed and guid; title or body changed */
    STORE_DUPLICATE, /* another source of an article already stored */
    STORE_UNCHANGED, /* same feed and guid, nothing changed (or a tombstone) */
};

struct store_counts {
    long new_, updated, duplicates, unchanged;
};

/* One document: begin, add each article, commit (or rollback). All of a
 * document's articles land in one transaction or none do. */
int store_begin(struct store *s);
/* Store article `a` (borrowed) of feed `feed_id`, seen at `now` (Unix
 * seconds); `republish` 0 keeps it out of every output. Applies the dedup
 * rules of SPEC §7 in order; *outcome says which applied (may be NULL).
 * The article's tickers (SPEC §12) are indexed; a duplicate's and an
 * update's are added to the stored article's (after those it has, each
 * once).
 * guid, title and body must be set (-EINVAL). Returns 0 or a negative errno
 * (the transaction is then to be rolled back). On PostgreSQL, rules 3 and 4
 * look their candidates up under transaction-scoped locks on the title key
 * and the LSH bands (SPEC §10), so that two nodes storing the same story at
 * once make one article; an exact key (guid, link) another node wrote first
 * makes this one its duplicate. Two documents locking in different orders
 * can deadlock: store_add or store_commit then fails with -EDEADLK (a
 * deadlock or serialization failure): roll back and store the whole
 * document again (nothing of it was kept); -EAGAIN (rare: the copy another
 * node stored kept vanishing under a conflict) likewise. -ECONNRESET: the
 * connection was lost, and the transaction with it: roll back. On
 * PostgreSQL a new article's writes (and a duplicate's keys and source,
 * an update) go with the next statement's round trip, not one of their
 * own: their failure is then returned by the next store_add or by
 * store_commit, and an exact key another node took at the same moment is
 * -EDEADLK there (store the document again: the second time finds that
 * node's copy). Either way the document is rolled back. */
int store_add(struct store *s, int64_t feed_id, const struct parse_article *a, int republish,
              int64_t now, enum store_outcome *outcome);
/* store_add of a[0..n) in turn, all of feed `feed_id`, their outcomes into
 * out[0..n): what n calls of store_add would do, in fewer round trips on
 * PostgreSQL (the articles' guids looked up at once, before the first is
 * stored). pre (may be NULL; so may each pre[i]): a[i]'s keys made ahead
 * (store_prekeys_make), which store_add_many takes out of pre[i] when it
 * needs them (the caller still frees pre[i]: an article that was unchanged
 * leaves its keys there; one stored again after a failure has them made
 * afresh). Stops at the first failure: 0 or a negative errno as
 * store_add's (roll the document back). */
int store_add_many(struct store *s, int64_t feed_id, const struct parse_article *const *a,
                   struct store_prekeys *const *pre, size_t n, int republish, int64_t now,
                   enum store_outcome *out);

/* An article's dedup keys made ahead, on a thread other than the writer's
 * (`finfeed ingest`'s parsing thread): what store_add makes of an article
 * before it reads the store (SPEC §7 rules 2–4: its body's plain text, its
 * canonical link, its title key, its body's 4-gram set and LSH bands),
 * about a tenth of the writer's work. The maker holds a copy of the store's
 * tracking parameters as they are when it is made (a later
 * store_set_tracking_params does not change it; store_add_many makes again
 * keys made with a list the store no longer has) and nothing else: made on
 * the store's thread, then read by any threads at once. 0 or -ENOMEM. */
int store_keymaker_new(const struct store *s, struct store_keymaker **out);
void store_keymaker_free(struct store_keymaker *m);
/* a's keys (a borrowed, read only) into a new *out (store_prekeys_free):
 * exactly what store_add would make of it. 0 or -ENOMEM. */
int store_prekeys_make(const struct store_keymaker *m, const struct parse_article *a,
                       struct store_prekeys **out);
void store_prekeys_free(struct store_prekeys *k);
/* 0 or a negative errno (-EDEADLK as store_add's: roll back, redo). */
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Group commit: the documents stored (store_begin … store_commit) between
 * store_group_begin and store_group_commit share one transaction, each in a
 * savepoint of its own. A document that fails is rolled back alone
 * (store_rollback), the group's others stay; none of them is stored until
 * store_group_commit returns 0, and a crash before it keeps none of them:
 * whole documents only, as one transaction a document. Nothing but
 * documents, store_feed_ensure and the schedule's writes (a claim, a
 * listing, a completion: each a savepoint, committed with the group; a
 * crash loses the claim, which is made again) may run inside an open
 * group. On a
 * backend that commits each document on its own (PostgreSQL: its
 * deadlock retries redo one document, not a group) the calls do nothing.
 * store_group_begin: 1 grouped, 0 the backend commits every document
 * itself, -EINVAL inside a transaction or a group. store_group_commit: 0,
 * or a negative errno with the reason in store_errmsg: then none of the
 * group's documents is stored (an error the database answers by rolling
 * the whole transaction back — a full disk — makes store_begin fail for
 * the rest of the group, and store_group_commit report it).
 * store_group_rollback drops the group's documents. store_group_open: a
 * group holds a transaction (documents stored and not committed). */
int store_group_begin(struct store *s);
int store_group_commit(struct store *s);
void store_group_rollback(struct store *s);
int store_group_open(const struct store *s);

/* An article as stored, for output. Strings owned by the store, valid during
 * the callback only. */
struct store_article {
    int64_t id;      /* row id */
    const char *uid; /* output id: stable forever ("urn:uuid:…") */
    const char *title, *link, *guid, *author, *headimg, *thumbnail, *summary, *body;
    const char *categories_json; /* JSON array of strings */
    const char *sources_json;    /* JSON array of feed names, first source first */
    const char *feed;            /* name of the first source */
    int comments;
    int64_t date;    /* published (article model date) */
    int64_t updated; /* last change (or first seen) */
    int64_t first_seen;
    int date_rejected;     /* 1: the publisher's date was not believed (SPEC §3:
                            * before 1995, or in the future; date is first seen) */
    int64_t rejected_date; /* … the publisher's date, as given */
    const char *tickers_json; /* JSON array of its instruments (SPEC §12),
                               * "EXCHANGE:SYMBOL", in their order ("[]": none) */
};

/* What a watchlist (SPEC §12) names; one group of store_watch. Every list
 * borrowed, each of n items (0: none). A group matches an article that
 * matches any one item of any of its lists. */
struct store_match {
    const char *const *tickers; /* it carries this "EXCHANGE:SYMBOL" */
    size_t ntickers;
    const char *const *keywords; /* a search text (as store_query.text: each of
                                  * its words occurs in the title or body text) */
    size_t nkeywords;
    const char *const *categories; /* one of its categories is this */
    size_t ncategories;
    const char *const *feeds; /* this feed carried it (any of its sources) */
    size_t nfeeds;
};

/* A watchlist's predicate: an article matches when it matches `any` (a
 * group without items: every article does), each group of all_of, and no
 * group of none_of. Borrowed. */
struct store_watch {
    struct store_match any;
    const struct store_match *all_of; /* nall_of groups */
    size_t nall_of;
    const struct store_match *none_of; /* nnone_of groups */
    size_t nnone_of;
};

struct store_query {
    const char *feed;     /* only articles carried by this feed, or NULL */
    const char *category; /* only articles with this category, or NULL */
    const char *text;     /* search words over title and body text, or NULL */
    long limit;           /* at most this many, newest first; <= 0: 100 */
    int64_t id;           /* only this article (> 0), or 0 */
    int64_t changed_since; /* only articles stored or updated at or after this time
                            * (Unix seconds; the `now` given to store_add), or 0 */
    const char *const *tickers; /* only articles carrying one of these "EXCHANGE:SYMBOL"
                                 * (borrowed, ntickers of them), or 0 */
    size_t ntickers;
    const struct store_watch *watch; /* only articles this watchlist matches, or NULL */
};

typedef int (*store_article_cb)(void *arg, const struct store_article *a);

/* Call cb for each matching republishable article (q NULL: the newest 100),
 * newest first. Text: every white-space separated word must occur in the
 * title or body text, case-insensitively for ASCII (words of 3 characters or
 * more through the trigram index, FTS5 or pg_trgm; shorter ones by a scan
 * of the candidates); at most 16 words (-EINVAL), in q->text and in each
 * keyword of a watchlist alike. Every filter given must hold. A watchlist
 * holds at most STORE_WATCH_MAX items in all (-EINVAL). A non-zero return
 * of cb stops and is returned. Returns 0, a negative errno (message in
 * store_errmsg), or cb's value. */
int store_articles(struct store *s, const struct store_query *q, store_article_cb cb, void *arg);

#define STORE_WATCH_MAX 4096 /* items of one store_watch, every group's */

/* One instrument and how many articles carry it. Valid during the call. */
typedef int (*store_ticker_cb)(void *arg, const char *ticker, long articles);

/* The most-mentioned instruments (SPEC §12): cb for each of the `limit`
 * tickers carried by the most republishable articles dated at or after
 * `since` (Unix seconds), most first (ties: by ticker). A non-zero return
 * of cb stops and is returned. Returns 0, a negative errno, or cb's. */
int store_top_tickers(struct store *s, int64_t since, long limit, store_ticker_cb cb, void *arg);

/* Delete articles dated before `cutoff` (Unix seconds, the article model's
 * believed date) but never one first seen within a day before `now`,
 * whatever its date (SPEC §3: a fresh story with a broken date is not
 * pruned the minute it arrives). Each leaves a tombstone, last seen `now`:
 * its exact keys (guid, link), feed-title and column keys stay, so an old
 * item still listed by a feed never comes back as new (store_add says
 * STORE_UNCHANGED); its title and body keys go (rules 3 and 4 compare live
 * articles only). A pruned article's id is never given to another article
 * (the keys name it). *deleted (may be NULL) gets the count. In batches of
 * STORE_PRUNE_BATCH, each a transaction of its own: not inside
 * store_begin. */
int store_prune(struct store *s, int64_t cutoff, int64_t now, long *deleted);

#define STORE_PRUNE_BATCH 500

/* One batch of store_prune: at most `max` (> 0) articles, the oldest first,
 * in one short transaction of its own (not inside store_begin). *deleted
 * (may be NULL) gets the count; fewer than max: nothing is left to prune
 * (on PostgreSQL, but rows another transaction holds). */
int store_prune_batch(struct store *s, int64_t cutoff, int64_t now, long max, long *deleted);

/* Tombstones expire. A tombstone's last seen is its prune, and every later
 * time store_add finds one of its keys again (an item a feed still lists:
 * rule 1's guid or rule 2's link), written at most once a
 * STORE_TOMB_REFRESH seconds. Delete up to `max` (> 0) tombstones last seen
 * before `before` (Unix seconds), the least recently seen first, with their
 * keys — column titles (rule 3), one row a title, stay — in one short
 * transaction of its own (not inside store_begin). An item whose tombstone
 * expired is new when a feed lists it again. *deleted (may be NULL) gets
 * the number of tombstones; fewer than max: none is left that expired (on
 * PostgreSQL, but rows another transaction holds). */
int store_prune_tombstones(struct store *s, int64_t before, long max, long *deleted);

#define STORE_TOMB_REFRESH 3600

/* A number that changes whenever stored articles change (for output caches),
 * >= 0; or a negative errno (-EBUSY: the database is locked). */
int64_t store_generation(struct store *s);

/* Count of stored articles (all, or of one feed when feed_id > 0). */
int store_count(struct store *s, int64_t feed_id, long *n);

/* How far store_copy is: `stage` (a static string: "feeds", "articles",
 * "sources", "keys", "tombstones", "tickers"; "check source" and "check
 * destination" when `to` is not empty; "verify" for the copy read back) has done
 * `done` rows of `total`. Called every 1000 rows and once at the end of each
 * stage (done == total). */
typedef void (*store_progress_cb)(void *arg, const char *stage, long done, long total);

/* Copy everything `from` holds (feeds with their fetch state, articles with
 * their ids, uids and dates, sources, dedup keys with tombstones, their last
 * seen times, and column titles) into `to`, which must be empty (no feed, article, source or key),
 * of either backend. One transaction on `to`, checked before it commits
 * (every row of `to` read back and compared with the source's by checksum):
 * an interrupted copy leaves `to` empty, and a rerun starts over. `from` is
 * read in one snapshot, so a daemon may keep writing it. A `to` that already
 * holds exactly what `from` holds is left alone: returns 1. Neither handle
 * may be inside store_begin. cb (may be NULL) gets the progress, before
 * store_copy returns, never after; arg is handed to it. Returns 0 copied, 1
 * already a copy, or a negative errno with the message on `to`
 * (store_errmsg): -ENOTEMPTY for a `to` that holds something else, -EIO
 * for a copy that reads back different (rolled back), or the backends'. */
int store_copy(struct store *from, struct store *to, store_progress_cb cb, void *arg);

/* ---- dedup keys, exposed for tests ---- */

/* Canonical form of a link (SPEC §7 rule 2): scheme and host case folded,
 * default port, fragment, user info and tracking parameters removed,
 * remaining query sorted, http and https equal (both become https). New
 * string, or NULL when `url` is NULL or not an absolute http(s) URL. A plain
 * link (no port, user, escapes or dot segments) is read here, any other
 * through libcurl's URL API (no network): the same answers. Rule 2 ignores
 * links to a site's front page ("https://host/"): feeds that give every
 * item that link are common. */
char *store_canonical_link(struct store *s, const char *url);

/* Normalized title (rule 3): full-width folded to half-width, ASCII case
 * folded, punctuation and spaces (ASCII and CJK) removed. New string (NULL
 * when out of memory). Rule 3 compares only keys of at least 10 letters and
 * digits, a non-ASCII character counting two. */
char *store_title_key(const char *title);

/* Jaccard similarity of the character 4-gram sets of two plain texts, white
 * space skipped (rule 4: ≥ 0.85 between bodies of ≥ 200 characters). */
double store_similarity(const char *a, const char *b);

/* ---- feed fetch state (the daemon's scheduler), store/store_feed.c ---- */

/* What the daemon remembers about a feed across restarts. Strings owned by
 * the struct (store_feed_state_clear frees them); NULL when unknown. */
struct store_feed_state {
    char *url;  /* current URL (a permanent redirect moves it) */
    char *etag; /* validators exactly as the server gave them */
    char *last_modified;
    char *status;       /* outcome of the last fetch: "ok", "not-modified", "error", "gone" */
    char *error;        /* last error in words */
    int64_t last_fetch; /* Unix seconds, 0 never */
    int64_t next_fetch; /* Unix seconds, 0 as soon as possible */
    int64_t newest;     /* date of the newest item, 0 unknown */
    long http;          /* last HTTP status, 0 none */
    long errors;        /* consecutive failures */
    int enabled;        /* 0 once the feed answered 410 Gone */
    /* freshness (issue 13) */
    int64_t first_ok;   /* Unix seconds of its first successful fetch, 0 never: the
                         * articles first seen then are its backlog, not lag.
                         * Written only while the stored one is unset */
    char *next_why;     /* why next_fetch is when it is, in words, or NULL */
    int64_t lag_median; /* median lag of its articles first seen in the day before
                         * its last fetch, seconds (lag_n 0: none) */
    long lag_n;         /* how many articles that median is of */
};

/* Read feed `feed_id`'s state into *st (zeroed first; enabled defaults to 1). */
int store_feed_state_get(struct store *s, int64_t feed_id, struct store_feed_state *st);
/* Write it (strings borrowed; feeds.host follows st->url). Its own small
 * transaction unless one is open. Leaves the claim alone: a node that
 * claimed writes with store_feed_complete. */
int store_feed_state_set(struct store *s, int64_t feed_id, const struct store_feed_state *st);
void store_feed_state_clear(struct store_feed_state *st);

/* ---- the schedule every node shares (SPEC §10) ----
 * The feeds table is the schedule: a due feed is claimed by one node (its
 * owner) under a lease, its next check moved to the lease's end and its
 * fencing token incremented; the fetch's result is written only with that
 * token. A node that dies lets the lease run out and the feed comes due
 * again: no sweeper. Every time is the database's clock (PostgreSQL's now(),
 * SQLite's: the machine's), in Unix seconds. Both backends implement it;
 * on SQLite there is one node, and the same calls schedule it. */

/* The database clock, Unix seconds, into *now. */
int store_now(struct store *s, int64_t *now);

/* What a node asks for when it claims. All borrowed. */
struct store_claim_opts {
    const char *node;        /* owner to record (SPEC §10 `node`) */
    const int64_t *feed_ids; /* claim only among these feeds (the ones this
                              * node's configuration lists), n_ids of them;
                              * NULL: among the feeds store_node_listed last
                              * recorded for o->node (nothing passed each
                              * claim: the cheap way with many feeds) */
    size_t n_ids;
    int64_t lease;           /* seconds a claim lasts (> 0) */
    size_t limit;            /* at most this many claims (> 0) */
    long per_host;           /* leases alive at once per host across every node
                              * (feeds.host; 0: no limit) */
    double max_rate;         /* requests a second per host across every node
                              * (0: no limit): claims of one host get start
                              * times 1/max_rate apart */
};

/* One claim. */
struct store_claim {
    int64_t feed_id;
    int64_t token;       /* fencing token of this claim */
    int64_t lease_until; /* database clock */
    int64_t start_at;    /* fetch not before this (database clock, seconds,
                          * rounded up; max_rate) */
    int64_t start_at_ms; /* the same in milliseconds (max_rate above 1/s) */
    int64_t now_ms;      /* the database clock when claimed, ms: the fetch waits
                          * start_at_ms - now_ms */
    int urgent;          /* a refresh asked for it (store_feed_due_now) */
};

/* Claim up to o->limit due feeds (next_fetch <= now, enabled, listed, lease
 * free or run out), urgent ones first then the earliest due, in one
 * statement that skips rows other nodes are claiming (FOR UPDATE SKIP
 * LOCKED), holding per_host and max_rate across the cluster. Each claim
 * records o->node as owner, sets lease_until and next_fetch to now + lease,
 * increments the token and clears urgent. out has room for o->limit; *n gets
 * the count. Returns 0 or a negative errno (-ECONNRESET and the like while
 * the database is unreachable; *n is then 0). Never inside store_begin
 * (-EINVAL): a claim is a transaction of its own, serialized between nodes
 * (PostgreSQL: a transaction-scoped advisory lock; SQLite: BEGIN
 * IMMEDIATE, or a savepoint of an open group, whose transaction holds the
 * write lock until it commits) so that per_host is exact. per_host counts leases alive on
 * the host, this batch's included; max_rate keeps, per host, the next free
 * start (table hosts): a claim's start is max(now, that slot), the slot
 * then moves 1/max_rate on. A feed without a host (no URL) is limited by
 * neither. */
int store_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
                size_t *n);

/* Extend a claim to now + lease (next_fetch too, if earlier). Returns 0,
 * or -ESTALE when `token` is no longer the feed's (another node claimed it
 * since: stop writing). A claim whose lease ran out but that nobody took
 * since is still current: it is extended. */
int store_lease_extend(struct store *s, int64_t feed_id, int64_t token, int64_t lease);

/* Inside store_begin … store_commit: lock the feed's row and check that
 * `token` is still its claim. Returns 0, or -ESTALE (roll back: a node that
 * woke after its lease writes nothing); -EINVAL outside a transaction. The
 * ingest calls it first: the row stays locked to the commit, so no claim
 * can take the feed meanwhile (claims skip locked rows). */
int store_fence(struct store *s, int64_t feed_id, int64_t token);

/* Finish a claim: write the fetch's state st (strings borrowed; st->next_fetch
 * ignored; first_ok only when none is stored), set next_fetch to now +
 * next_in seconds, release the lease (owner and lease_until cleared) and
 * record `token` as the feed's done_token. One
 * small transaction of its own (or within an open one). st->enabled 0
 * disables the feed (410 Gone); 1 does not enable one disabled meanwhile.
 * The host follows st->url. A refresh that came while the fetch ran
 * (urgent) makes next_fetch now instead. Returns 0, or -ESTALE (token not
 * current: nothing written). */
int store_feed_complete(struct store *s, int64_t feed_id, int64_t token,
                        const struct store_feed_state *st, int64_t next_in);

/* Mark feeds due now and urgent (`refresh`): the next claim by any node takes
 * them first (a feed being fetched is claimed again once that fetch
 * completes). tokens (room for n; may be NULL) gets each feed's token at
 * this moment (0: no such feed): the refresh is done once its done_token
 * is greater. */
int store_feed_due_now(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens);

/* The cluster's view of one feed (status, refresh's wait). owner is a copy
 * (free it), NULL when no lease is alive. */
struct store_feed_lease {
    int64_t feed_id;
    char *owner;         /* node holding a live lease, or NULL */
    int64_t lease_until; /* database clock, 0 none */
    int64_t token;       /* current fencing token */
    int64_t done_token;  /* token of the last completed fetch */
    int64_t next_fetch;  /* database clock */
    int64_t last_fetch;
    int64_t listed_at;   /* last time a live node listed it */
    int enabled;         /* 0: gone, or listed by no node for its interval */
    char *next_why;      /* why next_fetch is when it is (a copy: free it), or NULL */
    int64_t lag_median;  /* as in struct store_feed_state */
    long lag_n;
};
/* Read the lease state of n feeds into out[i] for feed_ids[i] (out has
 * room for n, zeroed first; a feed_id not found reads as feed_id 0). owner
 * and lease_until only while the lease is alive. Free the owners (and
 * next_why) with store_feed_lease_clear (n entries; NULL is fine). */
int store_feed_leases(struct store *s, const int64_t *feed_ids, size_t n,
                      struct store_feed_lease *out);
void store_feed_lease_clear(struct store_feed_lease *l, size_t n);

/* One item a feed carries, for its publishing rate and its lag (issue 13). */
struct store_feed_item {
    int64_t date;       /* the article's date: the publisher's when believed,
                         * else first seen (SPEC §3) */
    int64_t first_seen; /* when the store first saw the article, from any feed */
    int believed;       /* 1: date is the publisher's, believed (an item without
                         * one, dated when first seen, is not) */
    int first_source;   /* 1: this feed brought it first (first_seen is its own) */
};

/* The newest items feed_id carries (the last stored first), at most max of
 * them, into out (room for max); the count in *n; the feed's first
 * successful fetch (0 never) in *first_ok. One indexed read of at most max
 * rows (never the feed's whole history). Returns 0 or a negative errno. */
int store_feed_items(struct store *s, int64_t feed_id, struct store_feed_item *out, size_t max,
                     size_t *n, int64_t *first_ok);

/* Every feed the store holds, whichever node's configuration named it:
 * cb(arg, id, name) in id order (name valid during the call); a non-zero
 * return of cb stops and is returned. Returns 0 or a negative errno. */
int store_feed_names(struct store *s, int (*cb)(void *arg, int64_t id, const char *name),
                     void *arg);

/* This node lists these feeds (its configuration, at start, reload and every
 * few minutes): listed_at = now and interval (seconds) recorded for each;
 * a listed feed that was disabled only for being unlisted is enabled again
 * (one disabled by a 410 stays so). Then every other feed whose listed_at +
 * interval is past is disabled (articles kept); a feed never listed is left
 * alone. intervals may be NULL (0 each). One transaction of its own (a
 * savepoint of an open group on SQLite): not inside store_begin (-EINVAL). Returns 0 or a negative errno. */
int store_feeds_listed(struct store *s, const int64_t *feed_ids, const int64_t *intervals,
                       size_t n);
/* store_feeds_listed, and these feeds recorded as node `node`'s listing
 * (borrowed; NULL: store_feeds_listed alone), replacing the one it
 * recorded before: store_claim with feed_ids NULL then claims among them.
 * The listings of a node that has not listed for a day (or for its
 * longest interval, if longer) are dropped. Returns 0 or a negative errno. */
int store_node_listed(struct store *s, const char *node, const int64_t *feed_ids,
                      const int64_t *intervals, size_t n);

/* Change notification between nodes (PostgreSQL LISTEN/NOTIFY on channel
 * "finfeed"; SQLite has one node: -ENOTSUP). store_listen: LISTEN on this
 * connection and return its socket's fd (>= 0) for the caller to poll for
 * reading; store_notify: NOTIFY with payload `what` ("articles", "due"; at
 * most 64 bytes), never inside store_begin (-EINVAL); store_notifications:
 * read what arrived without blocking, cb once per notification (payload
 * valid during the call), returns the count or a negative errno; it
 * never blocks, and never reconnects: -ECONNRESET when the connection is
 * lost or was made anew since store_listen (call store_listen again: it
 * reconnects, and gives the new socket). A handle that listens is best
 * kept for that alone (the notifications wait in it until read). */
int store_listen(struct store *s);
int store_notify(struct store *s, const char *what);
int store_notifications(struct store *s, void (*cb)(void *arg, const char *what), void *arg);

/* Connection lost (PostgreSQL): a call that finds the connection broken
 * tries one reconnect (PQreset, waiting at most connect_timeout: 10 s unless
 * the URI says otherwise); outside a transaction the statement is then run
 * again, so the call works. It fails with -ECONNRESET when the reconnect
 * fails (the caller backs off), and inside a transaction (store_begin, or
 * a claim's own): the transaction is lost, every call fails with
 * -ECONNRESET until store_rollback. store_connected says whether the last
 * call found the database (1) or not (0). SQLite: always 1. */
int store_connected(const struct store *s);

/* ---- WebSub subscriptions (SPEC §11, W3C WebSub), store_websub.c ----
 * The subscriber's side: one row a subscription this store's daemons asked
 * a hub for, found by its callback id (the unguessable last segment of the
 * callback URL), so that any node sharing the store can answer the hub's
 * intent check and verify and ingest a push. Times are the caller's clock
 * (the database's, store_now, for every node to agree). */
enum store_websub_state {
    STORE_WS_PENDING = 0,       /* subscribe asked, the hub has not verified it yet */
    STORE_WS_ACTIVE = 1,        /* verified: lease_until holds */
    STORE_WS_UNSUBSCRIBING = 2, /* unsubscribe asked (its feed went): pushes refused */
};

/* One subscription. Strings owned by the struct (store_websub_clear), or
 * borrowed when passed in. */
struct store_websub {
    char *callback;      /* 1 to 64 of [A-Za-z0-9_-]: the callback URL's last segment */
    int64_t feed_id;     /* the feed it delivers to */
    char *topic, *hub;   /* hub.topic and the hub's URL */
    char *secret;        /* hub.secret: the HMAC key of X-Hub-Signature; never logged */
    int state;           /* enum store_websub_state */
    int64_t lease_until; /* Unix seconds, 0 unknown (not verified yet) */
    int64_t lease_s;     /* the lease the hub granted, seconds, 0 unknown */
    int64_t asked_at;    /* when subscribe (or unsubscribe) was last sent */
};
void store_websub_clear(struct store_websub *w);

/* Insert w, or replace the row of w->callback. 0 or a negative errno
 * (-EINVAL: a field missing or a callback id not of the form above). */
int store_websub_put(struct store *s, const struct store_websub *w);
/* The subscription of `callback` into *out: 1 found, 0 none (out zeroed),
 * or a negative errno. */
int store_websub_get(struct store *s, const char *callback, struct store_websub *out);
/* Up to max subscriptions of feed feed_id (0: of every feed) into out[],
 * their number in *n, oldest first. 0 or a negative errno. */
int store_websub_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                         size_t *n);
/* Set the state of `callback` (and, when lease_s > 0, its lease: now +
 * lease_s; asked_at when `asked` is not 0). 1 when the row exists, 0 when
 * not, or a negative errno. */
int store_websub_set(struct store *s, const char *callback, int state, int64_t now,
                     int64_t lease_s, int64_t asked);
/* Forget `callback`: 1 deleted, 0 none, or a negative errno. */
int store_websub_delete(struct store *s, const char *callback);
/* Claim up to max active subscriptions whose lease is four-fifths over at
 * `now` and which no node claimed for renewal in the last `hold` seconds:
 * each is marked claimed (now) in the same statement, so that of several
 * nodes sharing the store only one renews it (PostgreSQL: SKIP LOCKED).
 * Into out[], their number in *n. Also forgets subscriptions whose lease
 * ran out `hold` seconds ago or more (the hub stopped: the next fetch
 * subscribes again), unsubscribes and unverified ones asked a day ago,
 * and deliveries seen (store_websub_seen) a week ago. 0 or a negative errno. */
int store_websub_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                          size_t max, size_t *n);
/* Replay guard: whether delivery `sig` (its signature, hex) was seen:
 * with add 0, 1 seen or 0 not; with add 1, record it (seen at `now`;
 * again is harmless): 0. Or a negative errno. */
int store_websub_seen(struct store *s, const char *sig, int64_t now, int add);

/* ---- the built-in WebSub hub's subscriptions (SPEC §11), store_hub.c ----
 * The hub's side: one row a verified subscription of a reader to one of our
 * feeds (topic, callback), shared by every node on one store, with its
 * delivery state. `changed` counts the changes of the articles marked since
 * it began (store_hub_mark), `seen` the last of them delivered (or found to
 * change nothing): a subscription with changed > seen, its lease running
 * and its next try come is due. A due one is claimed by one node at a time
 * (store_hub_claim: PostgreSQL's FOR UPDATE SKIP LOCKED, a hold, a claim
 * token), and finished with that token (store_hub_done), so that a change is
 * pushed once whichever node stored it. Times are the caller's clock (the
 * database's, store_now, for every node to agree). */

/* One subscription. Strings owned by the struct (store_hub_clear), or
 * borrowed when passed in. */
struct store_hub_sub {
    int64_t id;          /* row id */
    char *topic;         /* hub.topic as the subscriber gave it */
    char *path;          /* the route it names, from the first '/': "/feed.atom?limit=5" */
    char *callback;      /* hub.callback */
    char *host;          /* the callback's host (max subscriptions per host) */
    char *secret;        /* hub.secret, or NULL: deliveries unsigned; never logged */
    int64_t lease_until; /* the subscription ends then */
    int64_t lease_s;     /* the lease granted, seconds */
    int64_t changed;     /* changes marked since it began */
    int64_t seen;        /* … of them delivered, or that changed nothing in its topic */
    char *sent;          /* hash of the content last delivered (or given up on), or NULL */
    int fails;           /* consecutive failed deliveries, whatever the content */
    int tries;           /* failed attempts to deliver the present content */
    int64_t next_try;    /* no delivery before this (a failure's backoff) */
    int64_t claim;       /* the token of the latest claim */
};
void store_hub_clear(struct store_hub_sub *h);

/* A verified subscription h (topic, path, callback, host, secret, lease_s;
 * sent: the hash of the topic's content when it was verified, or NULL):
 * inserted due once (changed 1, seen 0: a change made while it was being
 * verified is not lost, and the content it began with is not pushed), or
 * the row of (topic, callback) renewed (path, host, secret, lease_until =
 * now + lease_s, fails 0; its delivery state kept, so a renewal never
 * pushes what was pushed nor loses what is due). 0 or a negative errno
 * (-EINVAL: a field missing, a lease <= 0). */
int store_hub_put(struct store *s, const struct store_hub_sub *h, int64_t now);
/* Forget the subscription (topic, callback): 1 deleted, 0 none, or a
 * negative errno. */
int store_hub_remove(struct store *s, const char *topic, const char *callback);
/* The subscription (topic, callback) into *out: 1 found, 0 none (out
 * zeroed), or a negative errno. */
int store_hub_get(struct store *s, const char *topic, const char *callback,
                  struct store_hub_sub *out);
/* Subscriptions whose lease runs at `now`, but that of (topic, callback)
 * (a renewal is no new one): all in *total, those of callback host `host`
 * in *of_host. 0 or a negative errno. */
int store_hub_count(struct store *s, int64_t now, const char *host, const char *topic,
                    const char *callback, long *total, long *of_host);
/* The articles changed: every subscription whose lease runs at `now` is
 * due (changed + 1). 0 or a negative errno. */
int store_hub_mark(struct store *s, int64_t now);

/* What store_hub_claim found besides its claims. */
struct store_hub_pass {
    long expired; /* subscriptions whose lease had run out: deleted */
    long live;    /* subscriptions left */
    int64_t next; /* the earliest time another one falls due (a backoff, or a claim
                   * of another node running out), 0 none */
};
/* Delete the subscriptions whose lease ran out at `now`, then claim up to
 * max due ones (changed > seen, next_try <= now, no claim of the last
 * `hold` seconds): each gets a new claim token and is held for `hold`
 * seconds, in one statement (PostgreSQL: the rows another node is
 * claiming skipped, not waited for). Into out[] (room for max), their
 * number in *n; the rest into *p (may be NULL). 0 or a negative errno. */
int store_hub_claim(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out,
                    size_t max, size_t *n, struct store_hub_pass *p);
/* Finish the claim d->claim of subscription d->id: its delivery state set
 * to d's seen, sent (NULL: kept), fails, tries and next_try, the hold
 * released; with drop, the subscription deleted instead. 1 done, 0 when the
 * claim is no longer held (another claim since, or the row is gone), or a
 * negative errno. */
int store_hub_done(struct store *s, const struct store_hub_sub *d, int drop);

/* ---- backup, restore and check (issue 12 §3), store/store_backup.c ----
 * One backup format for both backends: a SQLite file of this schema, in
 * rollback-journal mode (one file, no -wal beside it). */

/* One line of what store_check found (valid during the call): problem 1
 * for a problem (counted), 0 for a finding that is not one ("integrity_check:
 * ok", the number of tombstones, a warning). */
typedef void (*store_report_cb)(void *arg, int problem, const char *line);

/* Check the store at `where` (a SQLite file, which must exist, or a
 * postgresql:// URI): SQLite's PRAGMA integrity_check and the FTS5
 * 'integrity-check' command, then the store's own invariants on both
 * backends: a schema version this build knows; every article has a source,
 * among them its first feed, and its own guid key (rule 1 finds it); every
 * source names an existing feed and article; every key is of a known kind,
 * and its feed (guid and feed-title keys) exists; a key naming no article is
 * a tombstone (a pruned article's key, kept by design) and is counted, not a
 * problem. SQLite: the search rows match the articles. Lines go to cb (may
 * be NULL); the count of problems in *problems. A file that is not a
 * database, or is damaged, is a problem found, not an error. Changes
 * nothing; the FTS5 check holds the SQLite write lock while it reads the
 * index (a daemon's writes wait for it). Returns 0 when the check ran, or
 * a negative errno with "WHERE: reason" in err (-ENOENT: no such file). */
int store_check(const char *where, store_report_cb cb, void *arg, long *problems, char *err,
                size_t errsize);

#define STORE_BACKUP_FORCE 1 /* store_backup: replace an existing `out`;
                              * store_restore: replace WHERE.before-restore */

/* A consistent copy of the store at `where` into the SQLite file `out`
 * while a daemon keeps writing to it. SQLite: the online backup API on a
 * connection of its own, page steps inside one read transaction (so the
 * copy is the snapshot it began with: every article committed before the
 * call is in it), retried while the database is busy or locked;
 * PostgreSQL: store_copy (one snapshot) into a new SQLite file. Written to
 * a temporary file beside `out`, checked (store_check: no problem), synced
 * (fsync) and only then renamed to `out`; any failure removes it. An
 * existing `out` is refused (-EEXIST) without STORE_BACKUP_FORCE; `out` may
 * never be the store itself (-EINVAL). cb (may be NULL) gets the progress:
 * stage "pages" (SQLite), store_copy's stages (PostgreSQL), then "check".
 * Check findings go to report (may be NULL). Returns 0 or a negative errno
 * with "FILE: reason" in err. */
int store_backup(const char *where, const char *out, int flags, store_progress_cb cb,
                 store_report_cb report, void *arg, char *err, size_t errsize);

/* Install the backup file `backup` as the store at `where`, which no daemon
 * may be using. The backup is checked first (store_check; one with a
 * problem is refused: -EINVAL). SQLite: refused while another process has
 * the database open (-EBUSY, store_in_use); the backup copied to a
 * temporary file beside `where`, synced, then the old database (with its
 * -wal and -journal) renamed to WHERE.before-restore (-EEXIST when that
 * exists, unless STORE_BACKUP_FORCE) and the copy renamed into place.
 * PostgreSQL: store_copy into the database, which must hold nothing
 * (-ENOTEMPTY); 1 when it already holds exactly the backup. cb and report
 * as store_backup's. Returns 0, 1, or a negative errno with the reason in
 * err. */
int store_restore(const char *backup, const char *where, int flags, store_progress_cb cb,
                  store_report_cb report, void *arg, char *err, size_t errsize);

/* Whether another process has the SQLite database `path` open: 1 (its pid,
 * when known, in *pid) when a connection holds the lock SQLite keeps on
 * the -shm file for as long as a WAL database is open; 0 when not (or for a
 * database without -shm, or a PostgreSQL URI); a negative errno. */
int store_in_use(const char *path, long *pid);

#endif
