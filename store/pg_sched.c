/* store/pg_sched.c — the PostgreSQL backend's share of the schedule every
 * node shares (SPEC §10, store.h): claims in one statement with FOR UPDATE
 * SKIP LOCKED under a transaction-scoped advisory lock (per_host exact
 * across nodes), max_rate's slots in the hosts table, leases and fencing
 * tokens, refresh's urgent flag, the listing of feeds, LISTEN/NOTIFY.
 * Every time is the server's clock: now(), in Unix seconds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* Serializes claims between nodes (any constant but the migrations'). */
#define CLAIM_LOCK 0x66696e636c61696dLL /* "fincl aim" */

#define NOW "floor(extract(epoch FROM now()))::bigint"

char *
store_pg_ids(const int64_t *ids, size_t n)
{
    char *j = malloc(n * 22 + 3), *w = j;
    if (j == NULL)
        return NULL;
    *w++ = '{';
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s%" PRId64, i ? "," : "", ids[i]);
    *w++ = '}';
    *w = '\0';
    return j;
}

static int
stale(struct store *s, int64_t feed_id, int64_t token)
{
    snprintf(s->err, sizeof(s->err), "feed %" PRId64 ": token %" PRId64 " is stale", feed_id,
             token);
    return -ESTALE;
}

/* A statement with parameters for its effect; rows changed into *rows. */
static int
cmd(struct store *s, const char *sql, const struct pg_params *p, long *rows)
{
    int rc;
    PGresult *res = store_pg_exec(s, sql, p, &rc);
    if (res == NULL)
        return rc;
    if (rows != NULL)
        *rows = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return 0;
}

int
store_pg_now(struct store *s, int64_t *now)
{
    int rc;
    PGresult *res = store_pg_exec(s, "SELECT " NOW, NULL, &rc);
    if (res == NULL)
        return rc;
    *now = store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

/* The claim, one window at a time (store_pg_claim loops). A window: the
 * next $7 candidates in claim order (urgent first, then by due and id,
 * each part read in its own index from the keyset after the previous
 * window's last row: $8 urgent ones still to read, $9/$10 the urgent part's
 * last due and id, $11/$12 the others'), due, enabled, lease free or run
 * out, listed ($1 the node's ids, or NULL: the listing of node $4), not of a
 * host found full ($13); each ranked within its host beside the host's
 * live leases, counted for the window's hosts alone (per_host $2); the
 * first $3 that fit locked, skipping rows another transaction holds (a
 * fence: that feed is being written), and claimed for node $4 for $5
 * seconds; then each host's max_rate slots ($6 ms apart) reserved in hosts,
 * continuing from the last one reserved. Rows of kind 0 are the claims;
 * one row of kind 1 tells the window: its size, its last row (id, due,
 * urgent) and the hosts found full so far (a text[] literal). Only the
 * rows claimed are locked: locking every due row made a claim cost the
 * whole backlog. */
#define CLAIM_PART(URGENT, AFTER, LISTED)                                                          \
    "(SELECT f.id, f.host, f.urgent, coalesce(f.next_fetch, 0) AS due FROM feeds f, t"            \
    " WHERE " URGENT " AND f.enabled AND coalesce(f.next_fetch, 0) <= " NOW                       \
    " AND (f.lease_until IS NULL OR f.lease_until <= t.now)"                                      \
    " AND (coalesce(f.next_fetch, 0), f.id) > " AFTER                                             \
    " AND (f.host IS NULL OR f.host <> ALL($13::text[])) AND " LISTED                             \
    " ORDER BY 4, 1 LIMIT $7)"
#define CLAIM_SQL(LISTED)                                                                          \
    "WITH t AS (SELECT " NOW " AS now, floor(extract(epoch FROM now()) * 1000)::bigint AS ms),"    \
    " c0 AS (SELECT * FROM ("                                                                      \
    CLAIM_PART("f.urgent AND $8::boolean", "($9::bigint, $10::bigint)", LISTED) " UNION ALL "      \
    CLAIM_PART("NOT f.urgent", "($11::bigint, $12::bigint)", LISTED)                               \
    "  ) u ORDER BY urgent DESC, due, id LIMIT $7),"                                               \
    " hl AS (SELECT h.host, (SELECT count(*) FROM feeds l"                                         \
    "   WHERE l.host = h.host AND l.lease_until > t.now) AS live"                                  \
    "  FROM (SELECT DISTINCT host FROM c0 WHERE host IS NOT NULL AND $2::bigint > 0) h, t),"       \
    " ranked AS (SELECT c0.*, coalesce(hl.live, 0) AS live, row_number() OVER"                     \
    "   (PARTITION BY c0.host ORDER BY c0.urgent DESC, c0.due, c0.id) AS rn"                       \
    "  FROM c0 LEFT JOIN hl ON hl.host = c0.host),"                                                \
    " pick AS (SELECT * FROM ranked WHERE $2::bigint <= 0 OR host IS NULL OR live + rn <= $2::bigint" \
    "  ORDER BY urgent DESC, due, id LIMIT $3),"                                                   \
    " lk AS (SELECT f.id, f.host, f.urgent, p.due FROM feeds f JOIN pick p ON p.id = f.id"         \
    "  CROSS JOIN t WHERE f.enabled AND coalesce(f.next_fetch, 0) <= t.now"                        \
    "  AND (f.lease_until IS NULL OR f.lease_until <= t.now) FOR UPDATE OF f SKIP LOCKED),"        \
    " upd AS (UPDATE feeds f SET owner = $4, token = f.token + 1,"                                 \
    "  lease_until = t.now + $5::bigint, next_fetch = t.now + $5::bigint, urgent = false"          \
    "  FROM lk, t WHERE f.id = lk.id"                                                              \
    "  RETURNING f.id, f.token, f.lease_until, f.host, lk.urgent, lk.due),"                        \
    " per AS (SELECT host, count(*) AS c FROM upd WHERE host IS NOT NULL AND $6::bigint > 0"       \
    "  GROUP BY host),"                                                                            \
    " slot AS (INSERT INTO hosts(host, next_slot) SELECT per.host, t.ms + per.c * $6::bigint"      \
    "  FROM per, t ON CONFLICT(host) DO UPDATE SET next_slot = greatest(hosts.next_slot,"          \
    "  (SELECT ms FROM t)) + excluded.next_slot - (SELECT ms FROM t) RETURNING host, next_slot)"   \
    " SELECT 0 AS kind, u.id, u.token, u.lease_until, u.urgent,"                                   \
    "  coalesce(s.next_slot - p.c * $6::bigint + (row_number() OVER (PARTITION BY u.host"          \
    "   ORDER BY u.urgent DESC, u.due, u.id) - 1) * $6::bigint, t.ms), t.ms, NULL::text, u.due"    \
    " FROM upd u CROSS JOIN t LEFT JOIN per p ON p.host = u.host"                                  \
    " LEFT JOIN slot s ON s.host = u.host"                                                         \
    " UNION ALL"                                                                                   \
    " SELECT 1, (SELECT count(*) FROM c0), l.id, l.due, l.urgent, 0, 0,"                           \
    "  array(SELECT unnest($13::text[]) UNION SELECT host FROM ranked"                             \
    "   WHERE $2::bigint > 0 AND host IS NOT NULL AND live + rn > $2::bigint)::text, 0"            \
    " FROM (SELECT 1) one LEFT JOIN (SELECT id, due, urgent FROM c0"                               \
    "  ORDER BY urgent, due DESC, id DESC LIMIT 1) l ON true"                                      \
    " ORDER BY 1, 5 DESC, 9, 2"

/* Among the ids given ($1), or among the node's listing ($1 NULL): a
 * scalar subquery, not EXISTS, which the planner made a join driven by the
 * whole listing; and NOW itself, not t.now, in the due bound, so that it is
 * the index's range */
static const char claim_ids_sql[] =
    CLAIM_SQL("$1::bigint[] IS NOT NULL AND f.id = ANY($1::bigint[])");
static const char claim_listing_sql[] = CLAIM_SQL(
    "$1::bigint[] IS NULL AND (SELECT true FROM listing l WHERE l.node = $4 AND l.feed_id = f.id)"
    " IS NOT NULL");

/* One window of a claim as a transaction of its own, in one round trip:
 * a pipeline of BEGIN, the advisory lock, the window and COMMIT. The
 * server runs them in turn, so the window's snapshot is taken once the lock
 * is granted (it sees every claim committed before), and the lock is held
 * for the server's work alone, never across a round trip: claims of several
 * nodes queue for milliseconds, not for their round trips. The window's rows
 * into *out (the caller PQclears them); 0 or a negative errno (nothing
 * claimed: rolled back). A connection found broken is made anew and the
 * window sent once more (should the break have come after the COMMIT, its
 * claims run out with their leases). */
static int
claim_tx(struct store *s, const char *sql, const struct pg_params *p, PGresult **out)
{
    struct pg_store *g = pg_of(s);
    char lock[64];
    const char *q[4] = {"BEGIN", lock, sql, "COMMIT"};
    int rc = 0;
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)", (long long)CLAIM_LOCK);
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = g->conn;
        PGresult *res;
        int sent = 0;
        if ((rc = store_pg_ready(s)) < 0)
            return rc;
        if (!PQenterPipelineMode(c))
            return store_pg_fail(s, NULL);
        for (; sent < 4; sent++) {
            const struct pg_params *pp = sent == 2 ? p : NULL;
            if (!PQsendQueryParams(c, q[sent], pp ? pp->n : 0, NULL, pp ? pp->v : NULL, NULL,
                                   NULL, 0))
                break;
        }
        if (sent < 4 || !PQpipelineSync(c)) {
            rc = store_pg_fail(s, NULL);
            if (rc == -ENOMEM && PQstatus(c) == CONNECTION_OK)
                rc = -EIO;
            if (PQpipelineStatus(c) == PQ_PIPELINE_OFF || !PQpipelineSync(c))
                sent = 0;
        }
        /* each statement's results up to its NULL, then the sync's */
        for (int i = 0; i < sent && PQstatus(c) != CONNECTION_BAD; i++)
            while ((res = PQgetResult(c)) != NULL) {
                ExecStatusType st = PQresultStatus(res);
                if (i == 2 && st == PGRES_TUPLES_OK && *out == NULL && rc == 0)
                    *out = res;
                else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ||
                         st == PGRES_PIPELINE_ABORTED || rc < 0)
                    PQclear(res);
                else
                    rc = store_pg_fail(s, res);
            }
        if (sent > 0 && PQstatus(c) != CONNECTION_BAD)
            PQclear(PQgetResult(c)); /* PGRES_PIPELINE_SYNC */
        PQexitPipelineMode(c);
        if (PQstatus(c) != CONNECTION_BAD) {
            g->connected = 1;
            if (rc < 0 && PQtransactionStatus(c) != PQTRANS_IDLE)
                PQclear(PQexec(c, "ROLLBACK"));
            break;
        }
        g->connected = 0;
        PQclear(*out);
        *out = NULL;
        snprintf(s->err, sizeof(s->err), "connection lost during a claim");
        rc = -ECONNRESET;
        if (attempt == 0 && (rc = store_pg_reconnect(s)) < 0)
            break;
        rc = -ECONNRESET;
    }
    if (rc < 0) {
        PQclear(*out);
        *out = NULL;
    }
    return rc;
}

/* A window of the first claims asks for this many rows; each next one for
 * twice as many (a backlog of full hosts is read through quickly). */
#define WINDOW_MAX 8192

int
store_pg_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
               size_t *n)
{
    char *ids = NULL, *full = NULL;
    int64_t spacing = o->max_rate > 0 ? (int64_t)(1000.0 / o->max_rate + 0.999) : 0;
    int64_t after[4] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
    int urgent_left = 1;
    size_t window = o->limit;
    PGresult *res = NULL;
    int rc = 0;
    if (o->feed_ids != NULL && (ids = store_pg_ids(o->feed_ids, o->n_ids)) == NULL)
        return -ENOMEM;
    /* a window a transaction (claim_tx): a claim that reads on past a
     * full window claims in two transactions or more, each exact */
    while (*n < o->limit) {
        struct pg_params p = {0};
        store_pg_text(&p, ids);
        store_pg_int(&p, o->per_host);
        store_pg_int(&p, (int64_t)(o->limit - *n));
        store_pg_text(&p, o->node);
        store_pg_int(&p, o->lease);
        store_pg_int(&p, spacing);
        store_pg_int(&p, (int64_t)window);
        store_pg_text(&p, urgent_left ? "t" : "f");
        for (int i = 0; i < 4; i++)
            store_pg_int(&p, after[i]);
        store_pg_text(&p, full ? full : "{}");
        if ((rc = claim_tx(s, ids ? claim_ids_sql : claim_listing_sql, &p, &res)) < 0)
            goto out;
        int rows = PQntuples(res);
        for (int i = 0; i < rows - 1 && *n < o->limit; i++) {
            struct store_claim *c = &out[*n];
            c->feed_id = store_pg_int64(res, i, 1);
            c->token = store_pg_int64(res, i, 2);
            c->lease_until = store_pg_int64(res, i, 3);
            c->urgent = PQgetvalue(res, i, 4)[0] == 't';
            c->start_at_ms = store_pg_int64(res, i, 5);
            c->start_at = (c->start_at_ms + 999) / 1000;
            c->now_ms = store_pg_int64(res, i, 6);
            (*n)++;
        }
        /* the window's own row, last: a full window may have more behind it */
        int last = rows - 1;
        if (last < 0 || store_pg_int64(res, last, 0) != 1 ||
            store_pg_int64(res, last, 1) < (int64_t)window || PQgetisnull(res, last, 2)) {
            PQclear(res);
            break;
        }
        int urgent = PQgetvalue(res, last, 4)[0] == 't';
        after[urgent ? 0 : 2] = store_pg_int64(res, last, 3);
        after[urgent ? 1 : 3] = store_pg_int64(res, last, 2);
        urgent_left = urgent;
        free(full);
        if ((full = strdup(PQgetvalue(res, last, 7))) == NULL) {
            rc = -ENOMEM;
            PQclear(res);
            goto out;
        }
        PQclear(res);
        window = window * 2 < WINDOW_MAX ? window * 2 : WINDOW_MAX;
    }
out:
    free(ids);
    free(full);
    /* a window that failed after others claimed: those stand (committed) */
    return *n > 0 ? 0 : rc;
}

int
store_pg_lease_extend(struct store *s, int64_t feed_id, int64_t token, int64_t lease)
{
    struct pg_params p = {0};
    long rows = 0;
    store_pg_int(&p, feed_id);
    store_pg_int(&p, token);
    store_pg_int(&p, lease);
    int rc = cmd(s,
                 "UPDATE feeds SET lease_until = " NOW " + $3::bigint,"
                 " next_fetch = greatest(coalesce(next_fetch, 0), " NOW " + $3::bigint)"
                 " WHERE id = $1 AND token = $2",
                 &p, &rows);
    return rc < 0 ? rc : rows == 0 ? stale(s, feed_id, token) : 0;
}

int
store_pg_fence(struct store *s, int64_t feed_id, int64_t token)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, feed_id);
    /* the row stays locked to the end of the document's transaction: a
     * claim skips it meanwhile, so the token stays current to the commit */
    PGresult *res = store_pg_exec(s, "SELECT token FROM feeds WHERE id = $1 FOR UPDATE", &p, &rc);
    if (res == NULL)
        return rc;
    int ok = PQntuples(res) == 1 && store_pg_int64(res, 0, 0) == token;
    PQclear(res);
    return ok ? 0 : stale(s, feed_id, token);
}

int
store_pg_feed_complete(struct store *s, int64_t feed_id, int64_t token,
                       const struct store_feed_state *in, int64_t next_in)
{
    struct pg_params p = {0};
    long rows = 0;
    store_pg_int(&p, feed_id);
    store_pg_text(&p, in->url);
    store_pg_text(&p, in->etag);
    store_pg_text(&p, in->last_modified);
    store_pg_text(&p, in->status);
    store_pg_text(&p, in->error);
    store_pg_int(&p, in->last_fetch);
    store_pg_int(&p, in->newest);
    store_pg_int(&p, in->http);
    store_pg_int(&p, in->errors);
    store_pg_text(&p, in->enabled ? "t" : "f");
    store_pg_int(&p, next_in);
    store_pg_int(&p, token);
    store_pg_int(&p, in->first_ok);
    store_pg_text(&p, in->next_why);
    store_pg_int(&p, in->lag_median);
    store_pg_int(&p, in->lag_n);
    /* one statement: its own transaction, or a part of the open one; a
     * refresh that came while the fetch ran makes the feed due at once */
    int rc = cmd(s,
                 "UPDATE feeds SET url = coalesce($2, url), host = coalesce(finfeed_host($2), host),"
                 " etag = $3, last_modified = $4, last_status = $5, error = $6, last_fetch = $7,"
                 " newest = $8, http = $9, errors = $10, enabled = enabled AND $11::boolean,"
                 " next_fetch = CASE WHEN urgent THEN " NOW " ELSE " NOW " + $12::bigint END,"
                 " owner = NULL, lease_until = NULL, done_token = token,"
                 " first_ok = coalesce(first_ok, nullif($14::bigint, 0)), next_why = $15,"
                 " lag_median = $16, lag_n = $17"
                 " WHERE id = $1 AND token = $13",
                 &p, &rows);
    return rc < 0 ? rc : rows == 0 ? stale(s, feed_id, token) : 0;
}

/* Each row of ids[] by its position: ord (1 …) in column 0. Linear: the
 * rows come back with their place, whatever n is (a status page of every
 * feed asks for all of them). */
int
store_pg_due_now(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens)
{
    struct pg_params p = {0};
    char *ids = store_pg_ids(feed_ids, n);
    int rc;
    if (ids == NULL)
        return -ENOMEM;
    store_pg_text(&p, ids);
    PGresult *res = store_pg_exec(s,
                                  "WITH u AS (UPDATE feeds SET urgent = true,"
                                  " next_fetch = least(coalesce(next_fetch, 0), " NOW ")"
                                  " WHERE id = ANY($1::bigint[]) RETURNING id, token)"
                                  " SELECT x.ord, u.token"
                                  " FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, ord)"
                                  " JOIN u ON u.id = x.id",
                                  &p, &rc);
    free(ids);
    if (res == NULL)
        return rc;
    for (int r = 0; tokens != NULL && r < PQntuples(res); r++) {
        int64_t i = store_pg_int64(res, r, 0) - 1;
        if (i >= 0 && (size_t)i < n)
            tokens[i] = store_pg_int64(res, r, 1);
    }
    PQclear(res);
    return 0;
}

int
store_pg_leases(struct store *s, const int64_t *feed_ids, size_t n, struct store_feed_lease *out)
{
    struct pg_params p = {0};
    char *ids = store_pg_ids(feed_ids, n);
    int rc = 0;
    if (ids == NULL)
        return -ENOMEM;
    store_pg_text(&p, ids);
    PGresult *res = store_pg_exec(s,
                                  "SELECT x.ord, f.id,"
                                  " CASE WHEN f.lease_until > " NOW " THEN f.owner END,"
                                  " CASE WHEN f.lease_until > " NOW " THEN f.lease_until END,"
                                  " f.token, f.done_token, f.next_fetch, f.last_fetch, f.listed_at,"
                                  " f.enabled, f.next_why, f.lag_median, f.lag_n"
                                  " FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, ord)"
                                  " JOIN feeds f ON f.id = x.id",
                                  &p, &rc);
    free(ids);
    if (res == NULL)
        return rc;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        int64_t i = store_pg_int64(res, r, 0) - 1;
        if (i < 0 || (size_t)i >= n)
            continue;
        struct store_feed_lease *l = &out[i];
        l->feed_id = store_pg_int64(res, r, 1);
        if (!PQgetisnull(res, r, 2) && (l->owner = strdup(PQgetvalue(res, r, 2))) == NULL)
            rc = -ENOMEM;
        l->lease_until = store_pg_int64(res, r, 3);
        l->token = store_pg_int64(res, r, 4);
        l->done_token = store_pg_int64(res, r, 5);
        l->next_fetch = store_pg_int64(res, r, 6);
        l->last_fetch = store_pg_int64(res, r, 7);
        l->listed_at = store_pg_int64(res, r, 8);
        l->enabled = PQgetvalue(res, r, 9)[0] == 't';
        if (!PQgetisnull(res, r, 10) && (l->next_why = strdup(PQgetvalue(res, r, 10))) == NULL)
            rc = -ENOMEM;
        l->lag_median = store_pg_int64(res, r, 11);
        l->lag_n = (long)store_pg_int64(res, r, 12);
    }
    PQclear(res);
    if (rc < 0)
        store_feed_lease_clear(out, n);
    return rc;
}

/* A node's listing (nodes, listing) is kept at least this long after its
 * last store_node_listed (longer when an interval is longer). */
#define LISTING_TTL 86400

int
store_pg_listed(struct store *s, const char *node, const int64_t *feed_ids,
                const int64_t *intervals, size_t n)
{
    struct pg_params p = {0};
    char *ids = store_pg_ids(feed_ids, n), *iv = NULL;
    int64_t ttl = LISTING_TTL;
    int rc = -ENOMEM;
    if (ids == NULL)
        return rc;
    if (intervals != NULL) {
        if ((iv = store_pg_ids(intervals, n)) == NULL)
            goto out;
        for (size_t i = 0; i < n; i++)
            ttl = intervals[i] > ttl ? intervals[i] : ttl;
    }
    store_pg_text(&p, ids);
    store_pg_text(&p, iv);
    store_pg_text(&p, node);
    store_pg_int(&p, ttl);
    /* two sets of feeds, disjoint: the listed ones, and the rest whose
     * interval ran out; the node's listing replaced (the rows it no longer
     * lists, the new ones: disjoint too), expired nodes' dropped, and the
     * max_rate slots already past (a claim starts a host afresh from now:
     * the same as a row it finds in the past). One statement, one snapshot */
    rc = cmd(s,
             "WITH l AS (UPDATE feeds f SET listed_at = " NOW ", interval_s = coalesce(u.iv, 0),"
             "  enabled = f.enabled OR f.unlisted, unlisted = false"
             "  FROM unnest($1::bigint[], coalesce($2::bigint[], '{}')) AS u(id, iv)"
             "  WHERE f.id = u.id),"
             " nd AS (INSERT INTO nodes(node, listed_at, expires)"
             "  SELECT $3, " NOW ", " NOW " + $4::bigint WHERE $3::text IS NOT NULL"
             "  ON CONFLICT(node) DO UPDATE SET listed_at = excluded.listed_at,"
             "  expires = excluded.expires),"
             " hd AS (DELETE FROM hosts WHERE next_slot < " NOW " * 1000),"
             " gone AS (DELETE FROM nodes WHERE expires < " NOW
             "  AND node IS DISTINCT FROM $3::text RETURNING node),"
             " ld AS (DELETE FROM listing WHERE node IN (SELECT node FROM gone)"
             "  OR (node = $3::text AND feed_id <> ALL($1::bigint[]))),"
             " li AS (INSERT INTO listing(node, feed_id)"
             "  SELECT DISTINCT $3::text, u.id FROM unnest($1::bigint[]) AS u(id)"
             "  WHERE $3::text IS NOT NULL ON CONFLICT DO NOTHING)"
             " UPDATE feeds SET enabled = false, unlisted = true WHERE enabled"
             " AND listed_at + interval_s < " NOW " AND NOT (id = ANY($1::bigint[]))",
             &p, NULL);
out:
    free(ids);
    free(iv);
    return rc;
}

int
store_pg_listen(struct store *s)
{
    int rc = cmd(s, "LISTEN finfeed", NULL, NULL);
    if (rc < 0)
        return rc;
    pg_of(s)->listening = 1;
    pg_of(s)->listen_session = pg_of(s)->sessions;
    return PQsocket(pg_of(s)->conn);
}

int
store_pg_notify(struct store *s, const char *what)
{
    struct pg_params p = {0};
    store_pg_text(&p, what);
    return cmd(s, "SELECT pg_notify('finfeed', $1)", &p, NULL);
}

int
store_pg_notifications(struct store *s, void (*cb)(void *arg, const char *what), void *arg)
{
    struct pg_store *g = pg_of(s);
    PGnotify *nf;
    int count = 0;
    if (!g->listening) {
        snprintf(s->err, sizeof(s->err), "store_notifications without store_listen");
        return -EINVAL;
    }
    if (PQstatus(g->conn) == CONNECTION_OK && !PQconsumeInput(g->conn))
        g->connected = 0;
    if (PQstatus(g->conn) == CONNECTION_BAD) {
        /* never a reconnect here: this call is made where nothing may
         * block (the daemon's loop); store_listen makes it anew */
        g->connected = 0;
        const char *why = PQerrorMessage(g->conn);
        snprintf(s->err, sizeof(s->err), "%s", *why ? why : "connection lost: listen again");
        return -ECONNRESET;
    }
    if (g->sessions != g->listen_session) {
        snprintf(s->err, sizeof(s->err), "connection made anew: listen again");
        return -ECONNRESET;
    }
    g->connected = 1;
    while ((nf = PQnotifies(g->conn)) != NULL) {
        if (cb != NULL)
            cb(arg, nf->extra);
        PQfreemem(nf);
        count++;
    }
    return count;
}

int
store_pg_connected(const struct store *s)
{
    return ((const struct pg_store *)s)->connected;
}

int
store_pg_names(struct store *s, int (*cb)(void *arg, int64_t id, const char *name), void *arg)
{
    int rc = 0;
    PGresult *res = store_pg_exec(s, "SELECT id, name FROM feeds ORDER BY id", NULL, &rc);
    if (res == NULL)
        return rc;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++)
        rc = cb(arg, store_pg_int64(res, r, 0), PQgetvalue(res, r, 1));
    PQclear(res);
    return rc;
}
