/* store/pg_int.h — inside store/: the PostgreSQL backend's handle, its
 * prepared statements and the helpers that run them, shared by pg.c,
 * pg_ops.c and pg_query.c. Included by nobody outside store/. */
#ifndef FINFEED_STORE_PG_INT_H
#define FINFEED_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store/store_int.h"

/* Prepared statements, named "ffN" on the connection (N the enum value). */
enum pg_stmt {
    P_KEY_FIND,      /* kind, key → article_id, alive (live articles first) */
    P_KEY_FIND_NEAR, /* kind, key, lo, hi → article_id, alive (live first) */
    P_KEY_LIVE,      /* kind, key, lo, hi, max → distinct live article ids */
    P_KEY_LOOKUP,    /* kinds[], keys[], lo[], hi[], live[], max[] → ord, article_id, alive */
    P_KEY_LIVE_MANY, /* kinds[], keys[], lo, hi, max → P_KEY_LIVE's ids, key after key */
    P_KEYS_ADD,      /* kinds[], keys[], only_new[], article_id, at (exact keys: once) */
    P_KEYS_ADD_FEW,  /* 5 × (kind, key, only_new), article_id, at: P_KEYS_ADD's, scalars */
    P_GUID_FIND,     /* kind, keys[] → ord, article_id, alive, content_hash, feed_id */
    P_KEY_RANGE,     /* kind, lo, hi, max → distinct keys in [lo, hi) */
    P_ART_GET,       /* id → content_hash, feed_id */
    P_ART_TEXT,      /* id → body_text */
    P_ART_ADD,       /* article …, kinds[], keys[], at → id, exact keys written; with its
                      * source and keys */
    P_ART_UPDATE,
    P_SRC_ADD,       /* article, feed, seen, republish → rows changed */
    P_GEN_BUMP,
    P_GENERATION,
    P_FEED_ENSURE,
    P_FEED_GET,
    P_FEED_SET,
    P_LOCK_KEYS,     /* locks[] → transaction-scoped advisory locks, in the array's order */
    P_ART_UNDO,      /* id → the article, its sources and keys deleted (art_add's conflict) */
    P_COMMIT,        /* COMMIT, in a pipeline (store_commit's one round trip) */
    P_BEGIN,         /* BEGIN, sent ahead: with the transaction's first round trip */
    P_TOMB_SEEN,     /* article_id, now, refresh → the tombstone made or its last seen moved */
    P_TOMB_TOUCH,    /* the same, locking the row only when it is written */
    P_COUNT
};

/* Statements sent ahead at most before their results are read. */
#define PG_AHEAD_MAX 16

struct pg_store {
    struct store s; /* first: a struct store * is one of these */
    PGconn *conn;
    int bump; /* the open transaction changed articles: bump the generation after COMMIT */
    int copying; /* inside COPY … FROM STDIN (store_copy's raw_start … raw_end) */
    int connected; /* the last call found the database (store_connected) */
    int lost_tx;   /* the connection broke inside a transaction: -ECONNRESET until rollback */
    int listening; /* LISTEN finfeed on this session (renewed on reconnect) */
    long sessions;       /* reconnects so far */
    long listen_session; /* … when store_listen gave its socket */
    /* statements sent ahead inside a transaction (store_pg_ahead): queued
     * in pipeline mode, no sync sent, their results not read yet; they go
     * with the next round trip, and are read (and checked) first */
    int ahead;
    int replay; /* the transaction's first round trip, run again on a new session */
    struct {
        enum pg_stmt id;
        long exact; /* P_ART_ADD: the exact keys it must have written; else -1 */
    } ahead_q[PG_AHEAD_MAX];
};

static inline struct pg_store *
pg_of(struct store *s)
{
    return (struct pg_store *)s;
}

/* Up to this many parameters a statement. */
#define PG_MAX_PARAMS 24

/* A statement's parameters in text format (NULL: SQL NULL). */
struct pg_params {
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24]; /* room for the integers' text */
    int n;
};

void store_pg_text(struct pg_params *p, const char *t);
void store_pg_int(struct pg_params *p, int64_t x);

/* Record a failed result's (or the connection's) message on the handle and
 * clear res; the negative errno of its SQLSTATE. */
int store_pg_fail(struct store *s, PGresult *res);
/* Reconnect (PQreset) and set the new session up as the old one was:
 * 0 or -ECONNRESET (message on s). */
int store_pg_reconnect(struct store *s);
/* Inside a transaction, statement `id` with p queued without waiting for
 * its result: it goes to the server with the next round trip's statements
 * (ahead of them, in the same pipeline), and is answered there. For
 * statements whose result only says whether they worked, and P_ART_ADD, whose second column must
 * be `exact` (else -EDEADLK, the document to be stored again; -1: not
 * checked). 0, or a negative errno of sending; its failure is the next
 * call's (store_pg_settle, store_pg_pipeline, anything through
 * store_pg_ready). p's strings may be freed once it returns. */
int store_pg_ahead(struct store *s, enum pg_stmt id, const struct pg_params *p, long exact);
/* Read the results of the statements sent ahead: 0, -EDEADLK when a new
 * article's exact key was another writer's, or the first one's error; the
 * transaction is to be rolled back on error. With discard, the results are
 * read and dropped (rollback). */
int store_pg_settle(struct store *s, int discard);
/* Whether the statements sent ahead are the transaction's BEGIN alone
 * (store_begin's, not yet read back): a connection lost under its first
 * round trip lost nothing done, and the transaction may begin again on a
 * new session. */
int store_pg_begin_alone(const struct store *s);
/* store_pg_settle's reading, once the sync is sent: the results of the
 * statements sent ahead, in order, each up to its NULL (the sync's is the
 * caller's); none ahead after. 0 or the first failure (none with discard). */
int store_pg_read_ahead(struct store *s, int discard);
/* Before a statement sent by other means than store_pg_run and
 * store_pg_exec: -ECONNRESET for a transaction lost with its connection, a
 * broken connection made anew (or -ECONNRESET), else 0. */
int store_pg_ready(struct store *s);
/* Run prepared statement `id` with p (NULL: none): its result (the caller
 * PQclears it), or NULL with the error in *rc and the message on s. */
PGresult *store_pg_run(struct store *s, enum pg_stmt id, const struct pg_params *p, int *rc);
/* One statement of a pipeline: prepared statement id with p; its result
 * kept (res) when keep. */
struct piped {
    enum pg_stmt id;
    const struct pg_params *p;
    int keep;
    PGresult *res;
};
/* Statements q[0..n) in one round trip (pg_ops.c), behind the statements
 * sent ahead, whose results it reads first: 0 or a negative errno (then no
 * result kept). */
int store_pg_pipeline(struct store *s, struct piped *q, int n);
/* Run `sql` (with p's parameters; NULL: none, and then `sql` may be several
 * statements), not prepared: its result, or NULL as store_pg_run. */
PGresult *store_pg_exec(struct store *s, const char *sql, const struct pg_params *p, int *rc);
/* Run prepared statement `id` for its effect: 0 or a negative errno; the
 * number of rows it changed in *rows (may be NULL). */
int store_pg_cmd(struct store *s, enum pg_stmt id, const struct pg_params *p, long *rows);
/* A column as an integer (0 when NULL). */
int64_t store_pg_int64(const PGresult *res, int row, int col);

/* The SQL of each statement (pg_ops.c, pg_query.c). */
extern const char *const store_pg_sql[P_COUNT];

/* pg_query.c */
int store_pg_articles(struct store *s, const struct store_query *q, char *const *terms, int nterms,
                      store_article_cb cb, void *arg);
int store_pg_prune(struct store *s, int64_t cutoff, int64_t fresh, int64_t now, long max,
                   long *deleted);
int store_pg_tomb_prune(struct store *s, int64_t before, long max, long *deleted);
int store_pg_count(struct store *s, int64_t feed_id, long *n);
int store_pg_generation(struct store *s, int64_t *gen);
int store_pg_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id);
int store_pg_feed_state_get(struct store *s, int64_t feed_id, struct store_feed_state *st);
int store_pg_feed_state_set(struct store *s, int64_t feed_id, const struct store_feed_state *st);
int store_pg_feed_items(struct store *s, int64_t feed_id, struct store_feed_item *out, size_t max,
                        size_t *n, int64_t *first_ok);

/* pg_sched.c: the schedule of SPEC §10 (store.h) */
int store_pg_now(struct store *s, int64_t *now);
int store_pg_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
                   size_t *n);
int store_pg_lease_extend(struct store *s, int64_t feed_id, int64_t token, int64_t lease);
int store_pg_fence(struct store *s, int64_t feed_id, int64_t token);
int store_pg_feed_complete(struct store *s, int64_t feed_id, int64_t token,
                           const struct store_feed_state *st, int64_t next_in);
int store_pg_due_now(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens);
int store_pg_names(struct store *s, int (*cb)(void *arg, int64_t id, const char *name),
                   void *arg);
int store_pg_leases(struct store *s, const int64_t *feed_ids, size_t n,
                    struct store_feed_lease *out);
int store_pg_listed(struct store *s, const char *node, const int64_t *feed_ids,
                    const int64_t *intervals, size_t n);
int store_pg_listen(struct store *s);
int store_pg_notify(struct store *s, const char *what);
int store_pg_notifications(struct store *s, void (*cb)(void *arg, const char *what), void *arg);
int store_pg_connected(const struct store *s);
/* feed ids as an array literal "{1,2,…}": a new string, NULL when out of
 * memory */
char *store_pg_ids(const int64_t *ids, size_t n);

/* pg_websub.c: WebSub subscriptions (store.h) */
int store_pg_ws_put(struct store *s, const struct store_websub *w);
int store_pg_ws_get(struct store *s, const char *callback, struct store_websub *out);
int store_pg_ws_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                        size_t *n);
int store_pg_ws_set(struct store *s, const char *callback, int state, int64_t now,
                    int64_t lease_s, int64_t asked);
int store_pg_ws_delete(struct store *s, const char *callback);
int store_pg_ws_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                         size_t max, size_t *n);
int store_pg_ws_seen(struct store *s, const char *sig, int64_t now, int add);

/* pg_hub.c: the built-in hub's subscriptions (store.h) */
int store_pg_hub_put(struct store *s, const struct store_hub_sub *h, int64_t now);
int store_pg_hub_remove(struct store *s, const char *topic, const char *callback);
int store_pg_hub_get(struct store *s, const char *topic, const char *callback,
                     struct store_hub_sub *out);
int store_pg_hub_count(struct store *s, int64_t now, const char *host, const char *topic,
                       const char *callback, long *total, long *of_host);
int store_pg_hub_mark(struct store *s, int64_t now);
int store_pg_hub_claim(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out,
                       size_t max, size_t *n, struct store_hub_pass *p);
int store_pg_hub_done(struct store *s, const struct store_hub_sub *d, int drop);

/* pg_copy.c: raw rows for store_copy (the ops of backend_int.h) */
int store_pg_snapshot(struct store *s);
int store_pg_raw_count(struct store *s, int t, long *n);
int store_pg_raw_each(struct store *s, int t, store_raw_cb cb, void *arg);
int store_pg_raw_start(struct store *s, int t);
int store_pg_raw_put(struct store *s, int t, const char *const *col);
int store_pg_raw_end(struct store *s, int t);
int store_pg_raw_finish(struct store *s);
/* End a COPY FROM STDIN left open by a failure (its rows discarded). */
void store_pg_copy_abort(struct store *s);

/* pg_ops.c: the key and article primitives of the ops table */
extern const struct store_ops store_pg_ops;

#endif
