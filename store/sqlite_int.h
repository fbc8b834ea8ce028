/* store/sqlite_int.h — inside store/: the SQLite backend's handle and its
 * prepared statements, shared by sqlite.c, sqlite_query.c and
 * sqlite_feed.c. Included by nobody outside store/. */
#ifndef FINFEED_STORE_SQLITE_INT_H
#define FINFEED_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

enum stmt_id {
    Q_KEY_FIND,      /* kind, key → article_id, alive (live first; alive NULL: none) */
    Q_KEY_FIND_NEAR, /* kind, key, lo, hi → the same within [lo, hi] */
    Q_KEY_LIVE,      /* kind, key, lo, hi → the live articles' ids */
    Q_KEY_HAS,       /* kind, key, article_id → a row when that key exists */
    Q_KEY_ADD,
    Q_BAND_LIVE,  /* band, lo, hi → the live articles' ids (?1 unused: key_live's binding) */
    Q_BAND_HAS,   /* band, article_id → a row when the article has that band */
    Q_BAND_ADD,   /* band, article_id, at; the article's list of bands grows (Q_BAND_NOTE) */
    Q_BAND_NOTE,  /* article_id, band → appended to articles.bands */
    Q_KEY_COLUMN, /* lo, hi → up to 3 distinct feed-title keys in [lo, hi) */
    Q_ART_GET,    /* id → content_hash, feed_id */
    Q_ART_TEXT,   /* id → plain body text (from the FTS table) */
    Q_ART_INSERT,
    Q_ART_UPDATE,
    Q_SRC_ADD,
    Q_FTS_INSERT,
    Q_FTS_DELETE,
    Q_ART_REPUBLISH,
    Q_GEN_BUMP,
    Q_TOMB_SEEN,  /* article_id, now, refresh → the tombstone made or its last seen moved */
    Q_TICKER_ADD, /* article_id, ticker → after the article's last, unless it has it */
    Q_COUNT
};

#define STORE_SQLITE_CACHE 64

/* A new store's page size: 16 KiB, not SQLite's 4. A first refresh of
 * 1,000 feeds (bench/daemon) took 7% less wall and 6% less CPU time with
 * its dedup-key probes filtered (sqlite_filter.c): fewer pages to find,
 * split and write to the WAL (bench/README, ninth round). A store made
 * before keeps its 4 KiB. */
#define STORE_SQLITE_PAGE "16384"
/* A checkpoint after this much WAL (SQLite's 1000 pages, of 4 KiB) */
#define STORE_CKPT_BYTES (1000 * 4096)

struct sqlite_store {
    struct store s; /* first: a struct store * is one of these */
    sqlite3 *db;
    sqlite3_stmt *stmt[Q_COUNT];
    sqlite3_stmt *raw[2]; /* store_copy's inserts into one table (and articles_fts) */
    /* Inside a group (store_group_begin) the full-text rows wait here and
     * go to articles_fts when the group commits: FTS5 writes its pending
     * terms out as a new segment at every savepoint's end, which made a
     * group's documents cost what their own transactions did. */
    struct fts_row {
        int64_t id;
        char *title, *text; /* owned; text NULL: the row deleted */
    } *fq;
    size_t nfq, capfq;
    size_t fq_mark;         /* fq[0..fq_mark): rows of the documents before this one */
    /* statements of the feeds and the schedule, prepared once
     * (store_sqlite_prepare), by the address of their SQL text */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STORE_SQLITE_CACHE];
    struct lite_ckpt *ckpt; /* the WAL's checkpoints off this writer, or NULL */
    struct lite_filter *filter; /* the keys it surely lacks (sqlite_filter.c), or NULL */
};

static inline struct sqlite_store *
sqlite_of(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* An SQLite result code as a negative errno (0 for OK, DONE and ROW):
 * -ENOMEM, -EBUSY (busy, locked), -ENOSPC, -EROFS, -ENOENT, -EACCES, else
 * -EIO. */
int store_sqlite_errno(int rc);
/* Record SQLite's message on the handle; the negative errno of rc. */
int store_sqlite_fail(struct store *s, int rc);
/* SQLite's process-wide settings, once, before the store's first
 * sqlite3_open_v2 (every open in store/ calls it first). */
void store_sqlite_init(void);
/* sqlite3_prepare_v3 of `text`, a string that lives as long as the process
 * (a literal: it is the cache's key), prepared once a handle and reused;
 * give *st back with store_sqlite_unprepare, not sqlite3_finalize. 0, or
 * the failure (store_sqlite_fail). */
int store_sqlite_prepare(struct store *s, const char *text, sqlite3_stmt **st);
void store_sqlite_unprepare(struct store *s, sqlite3_stmt *st);
/* Step a statement that returns no rows, then reset it and clear its bindings. */
int store_sqlite_exec(struct store *s, sqlite3_stmt *st);
/* Helpers of the backend's files that prepare their own statements: */
/* column i's text as a new string, or NULL (a NULL column, or no memory) */
char *store_sqlite_col(sqlite3_stmt *st, int i);
/* st run for its effect and given back (store_sqlite_unprepare); the rows
 * changed in *changed (may be NULL) */
int store_sqlite_run(struct store *s, sqlite3_stmt *st, int *changed);
/* st stepped to its end and given back, each row read by row() into the
 * next of out[] (items of size bytes, room for max), the count in *n */
int store_sqlite_rows(struct store *s, sqlite3_stmt *st, void *out, size_t size, size_t max,
                      size_t *n, int (*row)(sqlite3_stmt *st, void *item));

/* sqlite_ckpt.c: the WAL checkpointed by a thread of its own
 * (store_checkpoint_async); stopped before the handle closes */
int store_sqlite_ckpt_start(struct store *s);
void store_sqlite_ckpt_stop(struct sqlite_store *l);

/* sqlite_filter.c: 1 when the store surely holds no key k (no row of
 * that kind and text, or band), 0 when it may; only ever 1 inside a write
 * transaction. _range: no feed-title key in key_range's [lo, hi). Every key
 * written goes to _add; _txn_end at each transaction's end (the commit and
 * rollback hooks); _drop when keys are written past _add (store_copy). */
int store_sqlite_filter_lacks(struct sqlite_store *l, const struct store_key *k);
int store_sqlite_filter_lacks_range(struct sqlite_store *l, int kind, const char *lo);
void store_sqlite_filter_add(struct sqlite_store *l, const struct store_key *k);
void store_sqlite_filter_txn_end(struct sqlite_store *l);
void store_sqlite_filter_drop(struct sqlite_store *l);
void store_sqlite_filter_free(struct sqlite_store *l);

/* sqlite_query.c */
int store_sqlite_articles(struct store *s, const struct store_query *q, char *const *terms,
                          int nterms, store_article_cb cb, void *arg);
int store_sqlite_prune(struct store *s, int64_t cutoff, int64_t fresh, int64_t now, long max,
                       long *deleted);
int store_sqlite_tomb_prune(struct store *s, int64_t before, long max, long *deleted);
int store_sqlite_count(struct store *s, int64_t feed_id, long *n);
int store_sqlite_top_tickers(struct store *s, int64_t since, long limit, store_ticker_cb cb,
                             void *arg);
int store_sqlite_generation(struct store *s, int64_t *gen);
/* SQL function finfeed_has(title, body, word): the word in either, case
 * folded (the search's last word on a row the index found) */
void store_sqlite_has(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* sqlite_feed.c */
int store_sqlite_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id);
int store_sqlite_feed_state_get(struct store *s, int64_t feed_id, struct store_feed_state *st);
int store_sqlite_feed_state_set(struct store *s, int64_t feed_id,
                                const struct store_feed_state *st);
int store_sqlite_feed_items(struct store *s, int64_t feed_id, struct store_feed_item *out,
                            size_t max, size_t *n, int64_t *first_ok);

/* sqlite_sched.c: the schedule of SPEC §10 (store.h), one node */
int store_sqlite_now(struct store *s, int64_t *now);
int store_sqlite_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
                       size_t *n);
int store_sqlite_lease_extend(struct store *s, int64_t feed_id, int64_t token, int64_t lease);
int store_sqlite_fence(struct store *s, int64_t feed_id, int64_t token);
int store_sqlite_feed_complete(struct store *s, int64_t feed_id, int64_t token,
                               const struct store_feed_state *st, int64_t next_in);
int store_sqlite_due_now(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens);
int store_sqlite_names(struct store *s, int (*cb)(void *arg, int64_t id, const char *name),
                       void *arg);
int store_sqlite_leases(struct store *s, const int64_t *feed_ids, size_t n,
                        struct store_feed_lease *out);
int store_sqlite_listed(struct store *s, const char *node, const int64_t *feed_ids,
                        const int64_t *intervals, size_t n);

/* sqlite_websub.c: WebSub subscriptions (store.h) */
int store_sqlite_ws_put(struct store *s, const struct store_websub *w);
int store_sqlite_ws_get(struct store *s, const char *callback, struct store_websub *out);
int store_sqlite_ws_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                            size_t *n);
int store_sqlite_ws_set(struct store *s, const char *callback, int state, int64_t now,
                        int64_t lease_s, int64_t asked);
int store_sqlite_ws_delete(struct store *s, const char *callback);
int store_sqlite_ws_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                             size_t max, size_t *n);
int store_sqlite_ws_seen(struct store *s, const char *sig, int64_t now, int add);

/* sqlite_hub.c: the built-in hub's subscriptions (store.h) */
int store_sqlite_hub_put(struct store *s, const struct store_hub_sub *h, int64_t now);
int store_sqlite_hub_remove(struct store *s, const char *topic, const char *callback);
int store_sqlite_hub_get(struct store *s, const char *topic, const char *callback,
                         struct store_hub_sub *out);
int store_sqlite_hub_count(struct store *s, int64_t now, const char *host, const char *topic,
                           const char *callback, long *total, long *of_host);
int store_sqlite_hub_mark(struct store *s, int64_t now);
int store_sqlite_hub_claim(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out,
                           size_t max, size_t *n, struct store_hub_pass *p);
int store_sqlite_hub_done(struct store *s, const struct store_hub_sub *d, int drop);

/* sqlite_copy.c: raw rows for store_copy (the ops of backend_int.h) */
int store_sqlite_snapshot(struct store *s);
int store_sqlite_raw_count(struct store *s, int t, long *n);
int store_sqlite_raw_each(struct store *s, int t, store_raw_cb cb, void *arg);
int store_sqlite_raw_start(struct store *s, int t);
int store_sqlite_raw_put(struct store *s, int t, const char *const *col);
int store_sqlite_raw_end(struct store *s, int t);
int store_sqlite_raw_finish(struct store *s);

#endif
