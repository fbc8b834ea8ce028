/* store/backend_int.h — inside store/: the primitives one storage backend
 * (SQLite: store/sqlite*.c, PostgreSQL: store/pg*.c) gives the shared code
 * above it (the dedup rules of store_add.c, transactions, retention, the
 * query words of store_query.c). All SQL is in the backends; no rule is.
 * Included by nobody outside store/. */
#ifndef FINFEED_STORE_BACKEND_INT_H
#define FINFEED_STORE_BACKEND_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Search words per query at most (SPEC §5.1's ?q=). */
#define STORE_MAX_TERMS 16

/* A search word's length in characters: trigram indexes serve words of 3 or
 * more, shorter ones are scanned for (store_query.c). */
size_t store_term_chars(const char *term);
/* The UTF-8 character at s (n > 0 bytes): its code point, *len its bytes;
 * -1 and one byte for a byte that starts no valid character (an overlong
 * form, a surrogate, past U+10FFFF, cut short). */
int32_t store_utf8_char(const unsigned char *s, size_t n, size_t *len);
/* '%term%' for LIKE or ILIKE … ESCAPE '\', with '%', '_' and the backslash
 * escaped. A new string, or NULL when out of memory. */
char *store_like_pattern(const char *term);
/* The words of a search text: split at white space (ASCII and U+3000),
 * pointers into `buf` (modified: the caller's copy). Returns the count, or
 * -1 for more than STORE_MAX_TERMS words. */
int store_split_terms(char *buf, char *terms[STORE_MAX_TERMS]);

/* A growing text, for SQL built from a query's filters (store_query.c).
 * `err` is set (-ENOMEM) once an addition failed; s stays a valid string
 * while it is not. Zero-initialized; freed with store_sql_free. */
struct store_sql {
    char *s;
    size_t len, cap;
    int err;
};
void store_sql_add(struct store_sql *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void store_sql_free(struct store_sql *b);
/* The texts a query binds, parameter 1 … n in order; the ones it made
 * itself owned. Zero-initialized; freed with store_texts_free. */
struct store_texts {
    const char **v;
    char **own;
    int n, cap;
    int err;
};
/* Bind t (taken when own) as the next parameter: its number, 0 when out of
 * memory (then p->err). */
int store_texts_add(struct store_texts *p, const char *t, int own);
void store_texts_free(struct store_texts *p);

/* What a backend's SQL says its own way, for store_articles_sql. */
struct store_dialect {
    const char *select;   /* the columns, FROM articles a WHERE …, no ORDER */
    char param;           /* '$' (PostgreSQL) or '?' (SQLite): "%c%d" numbers a text */
    /* " AND " + category[0] + the parameter + category[1]: the article has it */
    const char *category[2];
    /* each appends a condition (parenthesized where it must be) */
    void (*text)(struct store_sql *q, struct store_texts *p, char *const *terms, int n);
    void (*tickers)(struct store_sql *q, struct store_texts *p, const char *const *t, size_t n);
    void (*match)(struct store_sql *q, struct store_texts *p, const struct store_match *m);
    const char *close; /* after ORDER BY … LIMIT: what `select` left open, or NULL */
};
/* store_articles' query (its search words terms[0..nterms)) as SQL into q,
 * its texts into p, in dialect d. */
void store_articles_sql(struct store_sql *q, struct store_texts *p, const struct store_query *qu,
                        char *const *terms, int nterms, const struct store_dialect *d);
/* Whether a watchlist group has any item. */
int store_match_empty(const struct store_match *m);

/* One dedup key: (kind, text), or (kind, num) when text is NULL (LSH bands).
 * Borrowed. */
struct store_key {
    int kind;         /* enum store_key_kind */
    const char *text; /* NUL-terminated, or NULL */
    int64_t num;      /* when text is NULL */
    int only_new;     /* keys_add: not when the article has this key already */
};

/* One lookup of key_lookup: key_find (live 0; only keys dated in [lo, hi]
 * with near) or key_live (live 1; dated in [lo, hi]) of key k, its answer in
 * n and out[] (and alive). */
struct store_lookup {
    struct store_key k;
    int live, near;
    int64_t lo, hi;
    int64_t *out; /* key_find: room for 1 (the article); key_live: for max */
    size_t max;   /* key_live's max (key_find: 1) */
    int n;        /* out: key_find's 1 found or 0, key_live's count */
    int alive;    /* out: key_find's liveness of out[0] */
};

/* What rules 3 and 4 may go on to read, asked for with key_lookup's
 * lookups, so that a backend with round trips reads it in the same one,
 * under the same locks: key_range's first keys (range_kind 0: not asked),
 * and key_live_many's candidates (nk 0: not asked). The inputs borrowed;
 * the answers: range_keys[0..nrange) (copies: store_more_clear frees them)
 * and cand[0..ncand) (the caller's room for max). */
#define STORE_MORE_RANGE 4
struct store_more {
    int range_kind;
    const char *range_lo, *range_hi; /* [lo, hi) */
    int range_max;                   /* <= STORE_MORE_RANGE */
    char *range_keys[STORE_MORE_RANGE];
    int nrange;
    const struct store_key *k; /* key_live_many's keys */
    size_t nk;
    int64_t lo, hi;
    int64_t *cand;
    size_t max;
    int ncand;
};
void store_more_clear(struct store_more *m);

/* What guid_find says of one guid key: the article holding it (key_find's
 * answer), and art_get's of that article when it is live. */
struct store_guid {
    int found;       /* 1: article holds the key */
    int alive;       /* … and is live (not a tombstone): hash and feed_id set */
    int64_t article;
    uint64_t hash;   /* its content hash */
    int64_t feed_id; /* its first source */
};

/* One request of key_lookup: one article's locks, lookups and more. */
struct store_lookups {
    const int64_t *locks; /* sorted, distinct */
    size_t nlocks;
    struct store_lookup *q;
    size_t n;
    struct store_more *more; /* may be NULL */
};

/* One article as written by an insert or an update. Borrowed. */
struct store_row {
    const struct parse_article *a; /* the article (guid, title, body, …) */
    const char *uid;               /* output id (insert only) */
    const char *cats;              /* categories as a compact JSON array */
    const char *text;              /* plain body text, what full-text search reads */
    uint64_t hash;                 /* content hash of title and body */
    int64_t feed_id;               /* first source (insert only) */
    int republish;                 /* 0: kept out of every output (insert only) */
    int64_t now;                   /* first seen (insert), updated (both): Unix seconds */
};

/* Called with each distinct key of a range (valid during the call); non-zero
 * stops and is returned. */
typedef int (*store_key_cb)(void *arg, const char *key);
/* Called with an article's plain body text (valid during the call, never
 * NULL); its return is returned. */
typedef int (*store_text_cb)(void *arg, const char *text);

/* The tables store_copy moves, in the order it moves them (feeds before the
 * articles and sources that name them). Each backend reads and writes their
 * rows raw, as arrays of column texts in this order, the same text on every
 * backend: integers in decimal, booleans 0 or 1, NULL as a NULL pointer.
 *   feeds:    id, name, url, config_url, etag, last_modified, last_fetch,
 *             last_status, http, errors, error, next_fetch, newest, enabled,
 *             last_counts, host, token, done_token, listed_at, interval_s,
 *             unlisted (the schedule of SPEC §10; a lease, owner, lease_until
 *             and urgent, is not copied: the copy starts with none),
 *             first_ok, next_why, lag_median, lag_n (freshness, issue 13)
 *   articles: id, uid, feed_id, guid, title, link, author, categories, date,
 *             updated, first_seen, headimg, thumbnail, comments, summary, body,
 *             body_text (the plain text search reads), content_hash,
 *             republish, rejected_date
 *   sources:  article_id, feed_id, seen
 *   keys:     kind, key (a band's number in decimal), article_id, at
 *   tombstones: article_id, seen (a pruned article whose keys are kept,
 *             and when an item holding them was last seen)
 *   tickers:  article_id, ticker, pos (article_tickers, SPEC §12)
 *   websub:   callback, feed_id, topic, hub, secret, state, lease_until,
 *             lease_s, asked_at, renew_at (the subscriber's, SPEC §11)
 *   hub_subs: id, topic, path, callback, host, secret, lease_until, lease_s,
 *             created, changed, seen, sent, fails, tries, next_try, claim,
 *             claim_until (the built-in hub's readers, SPEC §11) */
enum store_table {
    STORE_T_FEEDS,
    STORE_T_ARTICLES,
    STORE_T_SOURCES,
    STORE_T_KEYS,
    STORE_T_TOMBSTONES,
    STORE_T_TICKERS,
    STORE_T_WEBSUB,
    STORE_T_HUB_SUBS,
    STORE_T_COUNT
};
#define STORE_FEEDS_NCOLS 25
#define STORE_ARTICLES_NCOLS 20
#define STORE_WEBSUB_NCOLS 10
#define STORE_HUB_SUBS_NCOLS 17
/* each table's columns, in the order above */
#define STORE_NCOLS                                                                                \
    {STORE_FEEDS_NCOLS, STORE_ARTICLES_NCOLS, 3, 4, 2, 3, STORE_WEBSUB_NCOLS, STORE_HUB_SUBS_NCOLS}
#define STORE_MAX_COLS 25

/* Called with one raw row (columns valid during the call); non-zero stops
 * and is returned. */
typedef int (*store_raw_cb)(void *arg, const char *const *col);

/* A backend's primitives. Each returns 0 (or the count or flag it names) on
 * success, a negative errno on failure with the backend's message in
 * s->err. None of them applies a dedup rule, and none begins or ends a
 * transaction except begin, commit and rollback. */
struct store_ops {
    /* Free the handle (s included); an open transaction is rolled back. */
    void (*close)(struct store *s);
    /* How long a write waits for another connection's lock, in ms (0: fail
     * at once). A backend without such locks ignores it. */
    int (*busy_timeout)(struct store *s, int ms);
    /* store_checkpoint_async; NULL: nothing to do */
    int (*checkpoint_async)(struct store *s);
    /* store_set_cache; NULL: nothing to do */
    int (*cache)(struct store *s, long kib);

    /* transactions: one per document (store_begin … store_commit) */
    int (*begin)(struct store *s);
    int (*commit)(struct store *s);
    void (*rollback)(struct store *s);
    /* a document inside a group's transaction (store_group_begin): a
     * savepoint opened, released, rolled back to (and released); NULL when
     * the backend commits every document on its own. sp_undo returns 0, or
     * -EIO when the whole transaction is gone (an error the database rolls
     * back entirely: a full disk, an I/O error) */
    int (*sp_begin)(struct store *s);
    int (*sp_release)(struct store *s);
    int (*sp_undo)(struct store *s);
    /* Count one change of the stored articles (meta 'generation'). */
    int (*gen_bump)(struct store *s);
    int (*generation)(struct store *s, int64_t *gen);

    /* The article holding key k, a live article preferred over a tombstone;
     * with near, only keys dated in [lo, hi]. 1 found (*article, *alive),
     * 0 none. */
    int (*key_find)(struct store *s, const struct store_key *k, int near, int64_t lo, int64_t hi,
                    int64_t *article, int *alive);
    /* Up to max distinct live articles holding key k dated in [lo, hi], in
     * the store's order, into cand[]; their number. */
    int (*key_live)(struct store *s, const struct store_key *k, int64_t lo, int64_t hi,
                    int64_t *cand, size_t max);
    /* The requests r[0..nr) in turn (several articles' questions), in one
     * round trip where the backend can. Each: the lookups q[0..n), each as
     * key_find (with near, [lo, hi] the window) or key_live would answer
     * it. First, where other writers may store the same story at once
     * (PostgreSQL: other nodes), transaction-scoped locks on locks[0..
     * nlocks) (sorted, distinct), taken before its lookups read anything
     * and held to the end of the transaction; a backend whose writers are
     * serialized anyway (SQLite) ignores them. With more (may be NULL):
     * its key_range and key_live_many too, after the locks. 0 or a
     * negative errno. */
    int (*key_lookup)(struct store *s, struct store_lookups *r, size_t nr);
    /* key_live of keys k[0..n) in turn, in one round trip where the backend
     * has them: each key's articles in key_live's order after the earlier
     * keys', an article already given for an earlier key not again, up to
     * max in all, into cand[]; their number. */
    int (*key_live_many)(struct store *s, const struct store_key *k, size_t n, int64_t lo,
                         int64_t hi, int64_t *cand, size_t max);
    /* key_find (no window) of each of keys k[0..n), and art_get of each
     * live article found, into out[0..n), in one round trip: what
     * store_add_many reads of a document's guids at once. NULL: the backend
     * has no round trips to save (store_add_many then stores one article
     * after another). */
    int (*guid_find)(struct store *s, const struct store_key *k, size_t n,
                     struct store_guid *out);
    /* Add keys k[0..n) of `article` dated `at` (one round trip where the
     * backend has them); one whose only_new is set not when the article
     * already has it. The exact keys (guid, link) are unique where the
     * backend can say so: a second one is then silently not added. */
    int (*keys_add)(struct store *s, const struct store_key *k, size_t n, int64_t article,
                    int64_t at);
    /* Up to max distinct text keys of `kind` in [lo, hi) (byte order) to cb. */
    int (*key_range)(struct store *s, int kind, const char *lo, const char *hi, int max,
                     store_key_cb cb, void *arg);

    /* Article `id`: 1 and its content hash and first source, or 0. */
    int (*art_get)(struct store *s, int64_t id, uint64_t *hash, int64_t *feed_id);
    /* Article `id`'s plain body text to cb (not called when the article is
     * gone): 0 or cb's return. Read in place, not copied: rule 4 reads up to
     * 64 bodies an article. */
    int (*art_text)(struct store *s, int64_t id, store_text_cb cb, void *arg);
    /* A new article (and its text for search, and its tickers r->a->tickers
     * in their order), its id in *id, with feed
     * r->feed_id its first source seen at r->now (as src_add) and its keys
     * k[0..n) dated `at` (as keys_add; only_new means nothing for a new
     * article), in one round trip where the backend can. 1 instead of 0
     * when an exact key (guid, link) was already another writer's (a
     * concurrent transaction that committed first): then nothing of the
     * article is left, and the caller looks again. Inside a transaction a
     * backend may send it without waiting (PostgreSQL): 0 and *id 0 at
     * once, its failure (an exact key another's: -EDEADLK) the next call's,
     * which the caller answers by rolling the document back. */
    int (*art_add)(struct store *s, const struct store_row *r, const struct store_key *k,
                   size_t n, int64_t at, int64_t *id);
    /* The tickers t[0..n) (SPEC §12) added to article `article`'s, after
     * the ones it has, each once (one round trip); the number added. */
    int (*tickers_add)(struct store *s, int64_t article, const char *const *t, size_t n);
    /* Article `id` rewritten with r's title, body and the rest. */
    int (*art_update)(struct store *s, int64_t id, const struct store_row *r);
    /* Feed `feed_id` a source of `article` seen at `now` and, with
     * republish, the article shown from now on (one round trip where the
     * backend has them): 1 when either changed anything (a new source, an
     * article hidden until now), else 0. Inside a transaction a backend
     * may send it without waiting (PostgreSQL): 0 at once, and the
     * backend itself counts the change for the commit (as gen_bump). */
    int (*src_add)(struct store *s, int64_t article, int64_t feed_id, int64_t now, int republish);

    /* Call cb for each republishable article matching q, newest first. The
     * search words (SPEC §5.1: each a case-insensitive substring of the title
     * or the body text) are terms[0..nterms). Returns 0, an error or cb's. */
    int (*articles)(struct store *s, const struct store_query *q, char *const *terms, int nterms,
                    store_article_cb cb, void *arg);
    /* Inside an open transaction: delete up to max (> 0) of the articles
     * dated before `cutoff` and first seen before `fresh`, the oldest
     * first (other writers' locked rows skipped where the backend has row
     * locks), with their sources, search text, title and band keys (rules
     * 3 and 4 compare live articles only), and leave a tombstone of each,
     * last seen `now` (its guid, link, feed-title and column keys stay);
     * ids are never handed out again. The number of articles in *deleted. */
    int (*prune)(struct store *s, int64_t cutoff, int64_t fresh, int64_t now, long max,
                 long *deleted);
    /* Inside an open transaction: the tombstone of pruned article `article`
     * was seen at `now` (one of its keys found by store_add): its last seen
     * becomes now when it is STORE_TOMB_REFRESH older or more; a tombstone
     * missing is made. With `keys` (keys are added to it next), also one
     * another node is expiring at this moment, once that node commits (the
     * keys added are then tracked); without, a row lock is taken only when
     * the last seen is written, so that writers listing the same old items
     * do not queue behind each other. */
    int (*tomb_seen)(struct store *s, int64_t article, int64_t now, int keys);
    /* Inside an open transaction: delete up to max (> 0) tombstones last
     * seen before `before`, the least recently seen first (locked rows
     * skipped where the backend has row locks), with every key of theirs
     * but column titles; never one naming a live article. Their number in
     * *deleted. */
    int (*tomb_prune)(struct store *s, int64_t before, long max, long *deleted);
    /* store_top_tickers (store.h), arguments checked. */
    int (*top_tickers)(struct store *s, int64_t since, long limit, store_ticker_cb cb, void *arg);
    int (*count)(struct store *s, int64_t feed_id, long *n);

    int (*feed_ensure)(struct store *s, const char *name, const char *url, int64_t *id);
    int (*feed_state_get)(struct store *s, int64_t feed_id, struct store_feed_state *st);
    int (*feed_state_set)(struct store *s, int64_t feed_id, const struct store_feed_state *st);
    /* store_feed_items (max > 0) */
    int (*feed_items)(struct store *s, int64_t feed_id, struct store_feed_item *out, size_t max,
                      size_t *n, int64_t *first_ok);

    /* ---- the schedule (SPEC §10), store.h's contract; a NULL entry is
     * -ENOTSUP ---- */
    int (*now)(struct store *s, int64_t *now);
    int (*claim)(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
                 size_t *n);
    int (*lease_extend)(struct store *s, int64_t feed_id, int64_t token, int64_t lease);
    int (*fence)(struct store *s, int64_t feed_id, int64_t token);
    int (*feed_complete)(struct store *s, int64_t feed_id, int64_t token,
                         const struct store_feed_state *st, int64_t next_in);
    int (*due_now)(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens);
    /* out[i] for feed_ids[i], zeroed by the caller */
    int (*leases)(struct store *s, const int64_t *feed_ids, size_t n,
                  struct store_feed_lease *out);
    int (*listed)(struct store *s, const char *node, const int64_t *feed_ids,
                  const int64_t *intervals, size_t n);
    int (*names)(struct store *s, int (*cb)(void *arg, int64_t id, const char *name), void *arg);
    int (*listen)(struct store *s);
    int (*notify)(struct store *s, const char *what);
    int (*notifications)(struct store *s, void (*cb)(void *arg, const char *what), void *arg);
    int (*connected)(const struct store *s);

    /* ---- WebSub subscriptions (store.h's contract; arguments checked by
     * store_websub.c) ---- */
    int (*ws_put)(struct store *s, const struct store_websub *w);
    int (*ws_get)(struct store *s, const char *callback, struct store_websub *out);
    int (*ws_of_feed)(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                      size_t *n);
    int (*ws_set)(struct store *s, const char *callback, int state, int64_t now, int64_t lease_s,
                  int64_t asked);
    int (*ws_delete)(struct store *s, const char *callback);
    int (*ws_renewals)(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                       size_t max, size_t *n);
    int (*ws_seen)(struct store *s, const char *sig, int64_t now, int add);

    /* ---- the built-in hub's subscriptions (store.h's contract; arguments
     * checked by store_hub.c) ---- */
    int (*hub_put)(struct store *s, const struct store_hub_sub *h, int64_t now);
    int (*hub_remove)(struct store *s, const char *topic, const char *callback);
    int (*hub_get)(struct store *s, const char *topic, const char *callback,
                   struct store_hub_sub *out);
    int (*hub_count)(struct store *s, int64_t now, const char *host, const char *topic,
                     const char *callback, long *total, long *of_host);
    int (*hub_mark)(struct store *s, int64_t now);
    int (*hub_claim)(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out,
                     size_t max, size_t *n, struct store_hub_pass *p);
    int (*hub_done)(struct store *s, const struct store_hub_sub *d, int drop);

    /* ---- raw rows, for store_copy (tables and columns above) ---- */
    /* Begin a read-only transaction that sees one snapshot until rollback. */
    int (*snapshot)(struct store *s);
    /* The number of rows of table t. */
    int (*raw_count)(struct store *s, int t, long *n);
    /* Each row of table t to cb: feeds and articles in id order, sources by
     * article and feed, keys in the order they were written (SQLite) or by
     * article (PostgreSQL). 0, an error, or cb's non-zero return. */
    int (*raw_each)(struct store *s, int t, store_raw_cb cb, void *arg);
    /* Inside begin … commit: raw_start, raw_put each row of table t as it
     * is (ids and uids kept), raw_end. After a failure only rollback. */
    int (*raw_start)(struct store *s, int t);
    int (*raw_put)(struct store *s, int t, const char *const *col);
    int (*raw_end)(struct store *s, int t);
    /* After the raw rows, before commit: new ids past the largest copied
     * (PostgreSQL's identity sequences), the generation counted. */
    int (*raw_finish)(struct store *s);

    /* ---- store_check (store_backup.c); a NULL entry is not run ---- */
    /* The backend's own physical checks (SQLite: integrity_check, the FTS5
     * index): each line to cb, problems added to *problems. 0 when they
     * ran (whatever they found), or a negative errno. */
    int (*integrity)(struct store *s, store_report_cb cb, void *arg, long *problems);
    /* Invariant `which` (enum store_invariant): the rows that break it in
     * *n, the smallest id (article, feed, key rowid) among them in *sample.
     * -ENOTSUP when it means nothing on this backend. */
    int (*invariant)(struct store *s, int which, long *n, int64_t *sample);
};

/* The backends' constructors, same contract as store_open (without the
 * tracking parameters): the handle is a backend's struct whose first member
 * is struct store, its ops set. */
int store_sqlite_open(const char *path, struct store **out, char *err, size_t errsize);
int store_pg_open(const char *uri, struct store **out, char *err, size_t errsize);

/* The lower-cased host of an absolute URL ("scheme://[user@]host[:port]…",
 * an IPv6 literal with its brackets): a new string, or NULL when `url` is
 * NULL or has none (or out of memory). feeds.host, per_host and max_rate's
 * unit. */
char *store_url_host(const char *url);

/* Whether `where` names a PostgreSQL database (a postgresql:// or
 * postgres:// URI) rather than a SQLite file. */
int store_is_pg_uri(const char *where);

/* ---- store_check's invariants (store_backup.c words them; each backend
 * counts them in SQL of its own: sqlite_backup.c, pg_backup.c) ---- */
enum store_invariant {
    STORE_INV_ART_NO_SOURCE,    /* articles without a source */
    STORE_INV_ART_FIRST_SOURCE, /* articles whose first feed is not among their sources */
    STORE_INV_ART_FEED,         /* articles whose first feed does not exist */
    STORE_INV_ART_GUID_KEY,     /* articles without their guid key (FEED\x1fGUID → it) */
    STORE_INV_SRC_FEED,         /* sources naming no feed */
    STORE_INV_SRC_ARTICLE,      /* sources naming no article */
    STORE_INV_KEY_KIND,         /* keys of an unknown kind */
    STORE_INV_KEY_FEED,         /* guid and feed-title keys naming no feed */
    STORE_INV_SEARCH_MISSING,   /* articles without their search row (SQLite) */
    STORE_INV_SEARCH_ORPHAN,    /* search rows without an article (SQLite) */
    STORE_INV_TOMBSTONES,       /* keys naming no article: tombstones (not a problem) */
    STORE_INV_TOMB_ABOVE,       /* … naming ids the next article could take (SQLite:
                                 * above both the newest article and the ids pruned;
                                 * a warning) */
    STORE_INV_TOMB_LIVE,        /* tombstones naming a live article (SQLite schema 7) */
    STORE_INV_TOMB_UNTRACKED,   /* keys of pruned articles, column titles aside, without
                                 * a tombstone: they would never expire (schema 7) */
    STORE_INV_TICKER_ARTICLE,   /* tickers naming no article (SPEC §12; SQLite schema 11) */
    STORE_INV_BAND_LIVE,        /* LSH bands naming no live article (prune deletes a pruned
                                 * article's; SQLite schema 13: the bands table) */
    STORE_INV_COUNT
};

/* SQLite, sqlite_backup.c: a handle on the file at `path` for store_check
 * only (read-write when the file allows, never created, never migrated):
 * its close, integrity and invariant ops. Its schema version in *version
 * (-EPROTO newer than this build's; -EIO not a finfeed database, the
 * reason on the handle). */
int store_sqlite_open_check(const char *path, struct store **out, int *version, char *err,
                            size_t errsize);
/* The online backup API: the database at `src` copied page by page into
 * the new file `dst` inside one read transaction of src, retried while
 * busy or locked, dst left in rollback-journal mode. cb gets stage "pages".
 * 0 or a negative errno with "FILE: reason" in err. */
int store_sqlite_backup_file(const char *src, const char *dst, store_progress_cb cb, void *arg,
                             char *err, size_t errsize);
/* A SQLite file written through the store (WAL mode) made one file again:
 * its WAL folded in, journal_mode DELETE. 0 or a negative errno. */
int store_sqlite_unwal(const char *path, char *err, size_t errsize);

/* PostgreSQL, pg_backup.c: the invariant op. */
int store_pg_invariant(struct store *s, int which, long *n, int64_t *sample);

#endif
