/* store/sqlite_sched.c — the SQLite backend's share of the schedule (SPEC
 * §10, store.h): claims, leases, fencing tokens, refresh's urgent flag and
 * the listing of feeds, on one node. The clock is the machine's; every
 * claim runs under BEGIN IMMEDIATE (its own, or a savepoint of an open
 * group's, which holds the write lock until the group commits), so two
 * handles on one file never take the same feed and per_host and max_rate
 * hold between them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_int.h"

/* The machine's clock in milliseconds. */
static int64_t
now_ms(void)
{
    struct timespec ts = {0};
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
store_sqlite_now(struct store *s, int64_t *now)
{
    (void)s;
    *now = now_ms() / 1000;
    return 0;
}

static int
exec_sql(struct store *s, const char *sql)
{
    int rc = sqlite3_exec(sqlite_of(s)->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

/* Our own small transaction unless the caller has one open; inside a
 * group's (store_group_begin) a savepoint of it, committed with the group. */
static int
tx_begin(struct store *s)
{
    return s->in_tx ? 0 : exec_sql(s, store_group_open(s) ? "SAVEPOINT state" : "BEGIN IMMEDIATE");
}

static int
tx_end(struct store *s, int rc)
{
    if (s->in_tx)
        return rc;
    if (store_group_open(s)) {
        if (rc == 0 && (rc = exec_sql(s, "RELEASE state")) == 0)
            return 0;
        sqlite3_exec(sqlite_of(s)->db, "ROLLBACK TO state; RELEASE state", NULL, NULL, NULL);
        if (sqlite3_get_autocommit(sqlite_of(s)->db) && s->group_lost == 0)
            s->group_lost = -EIO; /* the whole transaction went */
        return rc;
    }
    if (rc == 0 && (rc = exec_sql(s, "COMMIT")) == 0)
        return 0;
    sqlite3_exec(sqlite_of(s)->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* feed_ids as a JSON array for json_each: a new string (NULL: no memory). */
static char *
ids_json(const int64_t *ids, size_t n)
{
    char *j = malloc(n * 22 + 3), *w = j;
    if (j == NULL)
        return NULL;
    *w++ = '[';
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s%" PRId64, i ? "," : "", ids[i]);
    *w++ = ']';
    *w = '\0';
    return j;
}

/* Step st to its end, counting rows into *rows (may be NULL); finalizes. */
static int
step_all(struct store *s, sqlite3_stmt *st, long *rows)
{
    int rc;
    long n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        n++;
    int e = rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    if (e == 0 && rows != NULL)
        *rows = n ? n : sqlite3_changes(sqlite_of(s)->db);
    store_sqlite_unprepare(s, st);
    return e;
}

/* The candidates of a claim, in claim order, with the host's live leases.
 * Read along feeds_due (schema 15) in that order, so no sort: a claim
 * reads as many candidates as it takes, not every due feed (1.9 ms a claim
 * with 1,000 feeds due, 0.2 ms now: bench/README, eighth round). Each
 * candidate's rank within its host (per_host) is counted in C as the rows
 * stream (host_rank). The live leases are counted once a host (lv: as many
 * rows as hosts being fetched), not once a candidate. */
#define CANDIDATES                                                                                 \
    "WITH lv AS MATERIALIZED (SELECT host, count(*) AS n FROM feeds WHERE lease_until > ?2"        \
    "  GROUP BY host) "                                                                            \
    "SELECT id, host, urgent, coalesce((SELECT n FROM lv WHERE lv.host = f.host), 0) AS live"     \
    " FROM feeds f WHERE (CASE WHEN ?1 IS NULL"                                                    \
    "  THEN EXISTS (SELECT 1 FROM listing WHERE node = ?3 AND feed_id = f.id)"                     \
    "  ELSE +id IN (SELECT value FROM json_each(?1)) END) AND enabled"                             \
    " AND coalesce(next_fetch, 0) <= ?2 AND (lease_until IS NULL OR lease_until <= ?2)"            \
    " ORDER BY urgent DESC, coalesce(next_fetch, 0), id"

/* The candidates a claim has read of each host so far: an open-addressing
 * table of host names (owned) and counts, grown as it fills. */
struct host_counts {
    struct host_count {
        char *host;
        uint64_t hash;
        int64_t n;
    } *slot;
    size_t cap, used;
};

static void
host_counts_free(struct host_counts *h)
{
    for (size_t i = 0; i < h->cap; i++)
        free(h->slot[i].host);
    free(h->slot);
}

/* The slot of `host` (hash `hash`) in h: its own, or the empty one it
 * would take. */
static struct host_count *
host_slot_of(struct host_counts *h, const char *host, uint64_t hash)
{
    size_t i = (size_t)hash & (h->cap - 1);
    while (h->slot[i].host != NULL && (h->slot[i].hash != hash || strcmp(h->slot[i].host, host) != 0))
        i = (i + 1) & (h->cap - 1);
    return &h->slot[i];
}

/* The rank of this candidate within its host: 1 for the host's first
 * candidate of the claim, then 2, 3… (what row_number() OVER (PARTITION BY
 * host) gave in claim order). Negative errno when out of memory. */
static int64_t
host_rank(struct host_counts *h, const char *host)
{
    uint64_t hash = store_hash64(0xcbf29ce484222325ULL, host);
    if (2 * (h->used + 1) > h->cap) {
        struct host_counts g = {calloc(h->cap ? 2 * h->cap : 64, sizeof(*g.slot)),
                                h->cap ? 2 * h->cap : 64, h->used};
        if (g.slot == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < h->cap; i++)
            if (h->slot[i].host != NULL)
                *host_slot_of(&g, h->slot[i].host, h->slot[i].hash) = h->slot[i];
        free(h->slot);
        *h = g;
    }
    struct host_count *c = host_slot_of(h, host, hash);
    if (c->host == NULL) {
        if ((c->host = strdup(host)) == NULL)
            return -ENOMEM;
        c->hash = hash;
        h->used++;
    }
    return ++c->n;
}

/* max_rate: the next start of `host` at or after ms, the slot after it
 * reserved. */
static int
host_slot(struct store *s, const char *host, int64_t ms, int64_t spacing, int64_t *start)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = store_sqlite_prepare(s,
                      "INSERT INTO hosts(host, next_slot) VALUES(?1, ?2 + ?3)"
                      " ON CONFLICT(host) DO UPDATE SET next_slot = max(next_slot, ?2) + ?3"
                      " RETURNING next_slot - ?3",
                      &st)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, ms);
    sqlite3_bind_int64(st, 3, spacing);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *start = sqlite3_column_int64(st, 0);
    rc = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    store_sqlite_unprepare(s, st);
    return rc;
}

int
store_sqlite_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
                   size_t *n)
{
    sqlite3_stmt *cand = NULL, *upd = NULL;
    struct host_counts ranks = {0};
    char *ids = o->feed_ids ? ids_json(o->feed_ids, o->n_ids) : NULL;
    int64_t ms = now_ms(), now = ms / 1000;
    int64_t spacing = o->max_rate > 0 ? (int64_t)(1000.0 / o->max_rate + 0.999) : 0;
    int rc, r = SQLITE_DONE;
    if (ids == NULL && o->feed_ids != NULL)
        return -ENOMEM;
    if ((rc = tx_begin(s)) < 0) {
        free(ids);
        return rc;
    }
    if ((rc = store_sqlite_prepare(s, CANDIDATES, &cand)) < 0 ||
        (rc = store_sqlite_prepare(s,
                      "UPDATE feeds SET owner = ?2, token = token + 1, lease_until = ?3,"
                      " next_fetch = ?3, urgent = 0 WHERE id = ?1 RETURNING token",
                      &upd)) < 0)
        goto out;
    sqlite3_bind_text(cand, 1, ids, -1, SQLITE_STATIC); /* NULL: the node's listing */
    sqlite3_bind_int64(cand, 2, now);
    sqlite3_bind_text(cand, 3, o->node, -1, SQLITE_STATIC);
    while (*n < o->limit && (r = sqlite3_step(cand)) == SQLITE_ROW) {
        const char *host = (const char *)sqlite3_column_text(cand, 1);
        int64_t live = sqlite3_column_int64(cand, 3), rank;
        if (o->per_host > 0 && host != NULL) {
            if ((rank = host_rank(&ranks, host)) < 0) {
                rc = (int)rank;
                goto out;
            }
            if (live + rank > o->per_host)
                continue;
        }
        struct store_claim *c = &out[*n];
        c->feed_id = sqlite3_column_int64(cand, 0);
        c->urgent = sqlite3_column_int(cand, 2) != 0;
        c->lease_until = now + o->lease;
        c->start_at_ms = ms;
        c->now_ms = ms;
        if (spacing > 0 && host != NULL && (rc = host_slot(s, host, ms, spacing, &c->start_at_ms)) < 0)
            goto out;
        c->start_at = (c->start_at_ms + 999) / 1000;
        sqlite3_bind_int64(upd, 1, c->feed_id);
        sqlite3_bind_text(upd, 2, o->node, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 3, c->lease_until);
        if ((r = sqlite3_step(upd)) == SQLITE_ROW)
            c->token = sqlite3_column_int64(upd, 0);
        sqlite3_reset(upd);
        if (r != SQLITE_ROW) {
            rc = store_sqlite_fail(s, r);
            goto out;
        }
        (*n)++;
    }
    if (*n < o->limit && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = store_sqlite_fail(s, r);
out:
    store_sqlite_unprepare(s, cand);
    store_sqlite_unprepare(s, upd);
    host_counts_free(&ranks);
    free(ids);
    if ((rc = tx_end(s, rc)) < 0)
        *n = 0;
    return rc;
}

int
store_sqlite_lease_extend(struct store *s, int64_t feed_id, int64_t token, int64_t lease)
{
    sqlite3_stmt *st;
    long rows = 0;
    int64_t until = now_ms() / 1000 + lease;
    int rc = store_sqlite_prepare(s,
                     "UPDATE feeds SET lease_until = ?3, next_fetch = max(coalesce(next_fetch, 0), ?3)"
                     " WHERE id = ?1 AND token = ?2",
                     &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, feed_id);
    sqlite3_bind_int64(st, 2, token);
    sqlite3_bind_int64(st, 3, until);
    if ((rc = step_all(s, st, &rows)) < 0)
        return rc;
    if (rows == 0) {
        snprintf(s->err, sizeof(s->err), "feed %" PRId64 ": token %" PRId64 " is stale", feed_id,
                 token);
        return -ESTALE;
    }
    return 0;
}

int
store_sqlite_fence(struct store *s, int64_t feed_id, int64_t token)
{
    sqlite3_stmt *st;
    /* inside BEGIN IMMEDIATE: the write lock is ours, no claim can move it */
    int rc = store_sqlite_prepare(s, "SELECT token FROM feeds WHERE id = ?1", &st), r;
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, feed_id);
    r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_int64(st, 0) == token)
        rc = 0;
    else if (r == SQLITE_ROW || r == SQLITE_DONE) {
        snprintf(s->err, sizeof(s->err), "feed %" PRId64 ": token %" PRId64 " is stale", feed_id,
                 token);
        rc = -ESTALE;
    } else
        rc = store_sqlite_fail(s, r);
    store_sqlite_unprepare(s, st);
    return rc;
}

int
store_sqlite_feed_complete(struct store *s, int64_t feed_id, int64_t token,
                           const struct store_feed_state *in, int64_t next_in)
{
    sqlite3_stmt *st;
    long rows = 0;
    int64_t now = now_ms() / 1000;
    int rc;
    if ((rc = tx_begin(s)) < 0)
        return rc;
    /* a refresh that came while the fetch ran makes the feed due at once */
    if ((rc = store_sqlite_prepare(s,
                      "UPDATE feeds SET url = coalesce(?2, url),"
                      " host = coalesce(finfeed_host(?2), host), etag = ?3,"
                      " last_modified = ?4, last_status = ?5, error = ?6,"
                      " last_fetch = ?7, newest = ?8, http = ?9, errors = ?10,"
                      " enabled = enabled AND ?11,"
                      " next_fetch = CASE WHEN urgent THEN ?12 ELSE ?12 + ?13 END,"
                      " owner = NULL, lease_until = NULL, done_token = token,"
                      " first_ok = coalesce(first_ok, nullif(?15, 0)), next_why = ?16,"
                      " lag_median = ?17, lag_n = ?18"
                      " WHERE id = ?1 AND token = ?14",
                      &st)) < 0)
        return tx_end(s, rc);
    sqlite3_bind_int64(st, 1, feed_id);
    sqlite3_bind_text(st, 2, in->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->last_modified, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, in->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, in->last_fetch);
    sqlite3_bind_int64(st, 8, in->newest);
    sqlite3_bind_int64(st, 9, in->http);
    sqlite3_bind_int64(st, 10, in->errors);
    sqlite3_bind_int(st, 11, in->enabled != 0);
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_int64(st, 13, next_in);
    sqlite3_bind_int64(st, 14, token);
    sqlite3_bind_int64(st, 15, in->first_ok);
    sqlite3_bind_text(st, 16, in->next_why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 17, in->lag_median);
    sqlite3_bind_int64(st, 18, in->lag_n);
    if ((rc = step_all(s, st, &rows)) == 0 && rows == 0) {
        snprintf(s->err, sizeof(s->err), "feed %" PRId64 ": token %" PRId64 " is stale", feed_id,
                 token);
        rc = -ESTALE;
    }
    return tx_end(s, rc);
}

int
store_sqlite_due_now(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens)
{
    sqlite3_stmt *st;
    int64_t now = now_ms() / 1000;
    int rc, r;
    if ((rc = tx_begin(s)) < 0)
        return rc;
    if ((rc = store_sqlite_prepare(s,
                      "UPDATE feeds SET urgent = 1, next_fetch = min(coalesce(next_fetch, 0), ?2)"
                      " WHERE id = ?1 RETURNING token",
                      &st)) < 0)
        return tx_end(s, rc);
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_bind_int64(st, 1, feed_ids[i]);
        sqlite3_bind_int64(st, 2, now);
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            if (tokens != NULL)
                tokens[i] = sqlite3_column_int64(st, 0);
        if (r != SQLITE_DONE)
            rc = store_sqlite_fail(s, r);
        sqlite3_reset(st);
    }
    store_sqlite_unprepare(s, st);
    return tx_end(s, rc);
}

/* The columns of a lease after the id, ?1 the clock (lease_row). */
#define LEASE_COLS                                                                                 \
    "CASE WHEN lease_until > ?1 THEN owner END,"                                                   \
    " CASE WHEN lease_until > ?1 THEN lease_until ELSE 0 END, token, done_token,"                  \
    " next_fetch, last_fetch, listed_at, enabled, next_why, lag_median, lag_n"

/* LEASE_COLS of feed `id` from st's columns 1… into *l. 0 or -ENOMEM. */
static int
lease_row(sqlite3_stmt *st, int64_t id, struct store_feed_lease *l)
{
    const char *owner = (const char *)sqlite3_column_text(st, 1);
    const char *why = (const char *)sqlite3_column_text(st, 9);
    l->feed_id = id;
    l->lease_until = sqlite3_column_int64(st, 2);
    l->token = sqlite3_column_int64(st, 3);
    l->done_token = sqlite3_column_int64(st, 4);
    l->next_fetch = sqlite3_column_int64(st, 5);
    l->last_fetch = sqlite3_column_int64(st, 6);
    l->listed_at = sqlite3_column_int64(st, 7);
    l->enabled = sqlite3_column_int(st, 8);
    l->lag_median = sqlite3_column_int64(st, 10);
    l->lag_n = (long)sqlite3_column_int64(st, 11);
    if (owner != NULL && (l->owner = strdup(owner)) == NULL)
        return -ENOMEM;
    if (why != NULL && (l->next_why = strdup(why)) == NULL)
        return -ENOMEM;
    return 0;
}

/* Asked for this many feeds or more, the leases are read in one pass over
 * the table, not a point read each: a node's whole listing (a claim that
 * drained, a scan), 1,000 feeds at a daemon's start, read three times
 * before its first fetch. */
#define LEASES_PASS 128

struct id_at {
    int64_t id;
    size_t at; /* its index in the caller's feed_ids */
};

static int
cmp_id_at(const void *a, const void *b)
{
    const struct id_at *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int
store_sqlite_leases(struct store *s, const int64_t *feed_ids, size_t n,
                    struct store_feed_lease *out)
{
    sqlite3_stmt *st;
    int64_t now = now_ms() / 1000;
    int rc, r = SQLITE_DONE;
    if (n >= LEASES_PASS) {
        struct id_at *ord = malloc(n * sizeof(*ord));
        size_t k = 0;
        if (ord == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++)
            ord[i] = (struct id_at){feed_ids[i], i};
        qsort(ord, n, sizeof(*ord), cmp_id_at);
        if ((rc = store_sqlite_prepare(s, "SELECT id, " LEASE_COLS " FROM feeds ORDER BY id",
                                       &st)) < 0) {
            free(ord);
            return rc;
        }
        sqlite3_bind_int64(st, 1, now);
        while (rc == 0 && k < n && (r = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            while (k < n && ord[k].id < id)
                k++;
            for (; rc == 0 && k < n && ord[k].id == id; k++)
                rc = lease_row(st, id, &out[ord[k].at]);
        }
        free(ord);
    } else {
        if ((rc = store_sqlite_prepare(s, "SELECT id, " LEASE_COLS " FROM feeds WHERE id = ?2",
                                       &st)) < 0)
            return rc;
        sqlite3_bind_int64(st, 1, now);
        for (size_t i = 0; i < n && rc == 0; i++) {
            sqlite3_bind_int64(st, 2, feed_ids[i]);
            if ((r = sqlite3_step(st)) == SQLITE_ROW)
                rc = lease_row(st, feed_ids[i], &out[i]);
            else if (r != SQLITE_DONE)
                rc = store_sqlite_fail(s, r);
            sqlite3_reset(st);
        }
        r = SQLITE_DONE;
    }
    if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = store_sqlite_fail(s, r);
    store_sqlite_unprepare(s, st);
    if (rc < 0)
        store_feed_lease_clear(out, n);
    return rc;
}

/* A node's listing is kept at least this long after its last
 * store_node_listed (longer when an interval is longer). */
#define LISTING_TTL 86400

/* The node's listing replaced by feed_ids[0..n); expired nodes' dropped. */
static int
node_listing(struct store *s, const char *node, const int64_t *feed_ids, const int64_t *intervals,
             size_t n, int64_t now)
{
    sqlite3_stmt *st = NULL;
    int64_t ttl = LISTING_TTL;
    int rc, r;
    for (size_t i = 0; intervals != NULL && i < n; i++)
        ttl = intervals[i] > ttl ? intervals[i] : ttl;
    if ((rc = store_sqlite_prepare(s,
                      "DELETE FROM listing WHERE node = ?1 OR node IN"
                      " (SELECT node FROM nodes WHERE expires < ?2)",
                      &st)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if ((rc = step_all(s, st, NULL)) < 0 ||
        (rc = store_sqlite_prepare(s, "DELETE FROM nodes WHERE expires < ?1", &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    /* max_rate slots already past: a claim starts such a host from now, as
     * if its row were not there (hosts of feeds long gone do not pile up) */
    if ((rc = step_all(s, st, NULL)) < 0 ||
        (rc = store_sqlite_prepare(s, "DELETE FROM hosts WHERE next_slot < ?1 * 1000", &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    if ((rc = step_all(s, st, NULL)) < 0 ||
        (rc = store_sqlite_prepare(s,
                      "INSERT INTO nodes(node, listed_at, expires) VALUES(?1, ?2, ?2 + ?3)"
                      " ON CONFLICT(node) DO UPDATE SET listed_at = excluded.listed_at,"
                      " expires = excluded.expires",
                      &st)) < 0)
        return rc;
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, ttl);
    if ((rc = step_all(s, st, NULL)) < 0 ||
        (rc = store_sqlite_prepare(s, "INSERT OR IGNORE INTO listing(node, feed_id) VALUES(?1, ?2)", &st)) < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, feed_ids[i]);
        if ((r = sqlite3_step(st)) != SQLITE_DONE)
            rc = store_sqlite_fail(s, r);
        sqlite3_reset(st);
    }
    store_sqlite_unprepare(s, st);
    return rc;
}

int
store_sqlite_listed(struct store *s, const char *node, const int64_t *feed_ids,
                    const int64_t *intervals, size_t n)
{
    sqlite3_stmt *st = NULL;
    int64_t now = now_ms() / 1000;
    char *ids = ids_json(feed_ids, n);
    int rc;
    if (ids == NULL)
        return -ENOMEM;
    if ((rc = tx_begin(s)) < 0) {
        free(ids);
        return rc;
    }
    if ((rc = store_sqlite_prepare(s,
                      "UPDATE feeds SET listed_at = ?2, interval_s = ?3,"
                      " enabled = enabled OR unlisted, unlisted = 0 WHERE id = ?1",
                      &st)) < 0)
        goto out;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_bind_int64(st, 1, feed_ids[i]);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, intervals ? intervals[i] : 0);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE)
            rc = store_sqlite_fail(s, r);
        sqlite3_reset(st);
    }
    store_sqlite_unprepare(s, st);
    st = NULL;
    /* listed by nobody for longer than its interval: disabled, articles kept */
    if (rc == 0 && (rc = store_sqlite_prepare(s,
                                 "UPDATE feeds SET enabled = 0, unlisted = 1 WHERE enabled"
                                 " AND listed_at + interval_s < ?1"
                                 " AND id NOT IN (SELECT value FROM json_each(?2))",
                                 &st)) == 0) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_text(st, 2, ids, -1, SQLITE_STATIC);
        rc = step_all(s, st, NULL);
    }
    if (rc == 0 && node != NULL)
        rc = node_listing(s, node, feed_ids, intervals, n, now);
out:
    free(ids);
    return tx_end(s, rc);
}

int
store_sqlite_names(struct store *s, int (*cb)(void *arg, int64_t id, const char *name), void *arg)
{
    sqlite3_stmt *st;
    int rc, r;
    if ((rc = store_sqlite_prepare(s, "SELECT id, name FROM feeds ORDER BY id", &st)) < 0)
        return rc;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1));
    if (rc == 0 && r != SQLITE_DONE)
        rc = store_sqlite_fail(s, r);
    store_sqlite_unprepare(s, st);
    return rc;
}
