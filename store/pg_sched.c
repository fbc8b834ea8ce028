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

/* End a transaction of our own: COMMIT after rc 0, else ROLLBACK (a
 * connection lost inside it forgotten: the next call reconnects). */
static int
tx_end(struct store *s, int rc)
{
    if (rc == 0 && (rc = cmd(s, "COMMIT", NULL, NULL)) == 0)
        return 0;
    pg_of(s)->lost_tx = 0;
    if (PQstatus(pg_of(s)->conn) == CONNECTION_OK &&
        PQtransactionStatus(pg_of(s)->conn) != PQTRANS_IDLE)
        PQclear(PQexec(pg_of(s)->conn, "ROLLBACK"));
    return rc;
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

/* The claim: the candidates (due, enabled, among $1, lease free or run
 * out) locked in claim order, skipping rows another transaction holds (a
 * fence: that feed is being written); each ranked within its host beside
 * the host's live leases (per_host $2); the first $3 that fit claimed for
 * node $4 for $5 seconds; then each host's max_rate slots ($6 ms apart)
 * reserved in hosts, continuing from the last one reserved. */
static const char claim_sql[] =
    "WITH t AS (SELECT " NOW " AS now, floor(extract(epoch FROM now()) * 1000)::bigint AS ms),"
    " cand AS (SELECT f.id, f.host, f.urgent, coalesce(f.next_fetch, 0) AS due"
    "  FROM feeds f, t WHERE f.id = ANY($1::bigint[]) AND f.enabled"
    "  AND coalesce(f.next_fetch, 0) <= t.now AND (f.lease_until IS NULL OR f.lease_until <= t.now)"
    "  ORDER BY f.urgent DESC, 4, f.id FOR UPDATE OF f SKIP LOCKED),"
    " ranked AS (SELECT c.*, row_number() OVER (PARTITION BY c.host"
    "   ORDER BY c.urgent DESC, c.due, c.id) AS rn,"
    "  (SELECT count(*) FROM feeds l, t WHERE l.host = c.host AND l.lease_until > t.now) AS live"
    "  FROM cand c),"
    " pick AS (SELECT * FROM ranked WHERE $2::bigint <= 0 OR host IS NULL OR live + rn <= $2::bigint"
    "  ORDER BY urgent DESC, due, id LIMIT $3),"
    " upd AS (UPDATE feeds f SET owner = $4, token = f.token + 1,"
    "  lease_until = t.now + $5::bigint, next_fetch = t.now + $5::bigint, urgent = false"
    "  FROM pick, t WHERE f.id = pick.id"
    "  RETURNING f.id, f.token, f.lease_until, f.host, pick.urgent, pick.due),"
    " per AS (SELECT host, count(*) AS c FROM upd WHERE host IS NOT NULL AND $6::bigint > 0"
    "  GROUP BY host),"
    " slot AS (INSERT INTO hosts(host, next_slot) SELECT per.host, t.ms + per.c * $6::bigint"
    "  FROM per, t ON CONFLICT(host) DO UPDATE SET next_slot = greatest(hosts.next_slot,"
    "  (SELECT ms FROM t)) + excluded.next_slot - (SELECT ms FROM t) RETURNING host, next_slot)"
    " SELECT u.id, u.token, u.lease_until, u.urgent,"
    "  coalesce(s.next_slot - p.c * $6::bigint + (row_number() OVER (PARTITION BY u.host"
    "   ORDER BY u.urgent DESC, u.due, u.id) - 1) * $6::bigint, t.ms), t.ms"
    " FROM upd u CROSS JOIN t LEFT JOIN per p ON p.host = u.host"
    " LEFT JOIN slot s ON s.host = u.host"
    " ORDER BY u.urgent DESC, u.due, u.id";

int
store_pg_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
               size_t *n)
{
    struct pg_params p = {0};
    char *ids = store_pg_ids(o->feed_ids, o->n_ids), lock[96];
    int64_t spacing = o->max_rate > 0 ? (int64_t)(1000.0 / o->max_rate + 0.999) : 0;
    PGresult *res = NULL;
    int rc;
    if (ids == NULL)
        return -ENOMEM;
    /* the advisory lock first, in a statement of its own: the claim's
     * snapshot then sees every claim committed before it was granted */
    snprintf(lock, sizeof(lock), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
             (long long)CLAIM_LOCK);
    if ((rc = cmd(s, lock, NULL, NULL)) < 0)
        goto out;
    store_pg_text(&p, ids);
    store_pg_int(&p, o->per_host);
    store_pg_int(&p, (int64_t)o->limit);
    store_pg_text(&p, o->node);
    store_pg_int(&p, o->lease);
    store_pg_int(&p, spacing);
    if ((res = store_pg_exec(s, claim_sql, &p, &rc)) == NULL)
        goto out;
    for (int i = 0; i < PQntuples(res) && (size_t)i < o->limit; i++) {
        struct store_claim *c = &out[i];
        c->feed_id = store_pg_int64(res, i, 0);
        c->token = store_pg_int64(res, i, 1);
        c->lease_until = store_pg_int64(res, i, 2);
        c->urgent = PQgetvalue(res, i, 3)[0] == 't';
        c->start_at_ms = store_pg_int64(res, i, 4);
        c->start_at = (c->start_at_ms + 999) / 1000;
        c->now_ms = store_pg_int64(res, i, 5);
        *n = (size_t)i + 1;
    }
    PQclear(res);
out:
    free(ids);
    if ((rc = tx_end(s, rc)) < 0)
        *n = 0;
    return rc;
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
    /* one statement: its own transaction, or a part of the open one; a
     * refresh that came while the fetch ran makes the feed due at once */
    int rc = cmd(s,
                 "UPDATE feeds SET url = coalesce($2, url), host = coalesce(finfeed_host($2), host),"
                 " etag = $3, last_modified = $4, last_status = $5, error = $6, last_fetch = $7,"
                 " newest = $8, http = $9, errors = $10, enabled = enabled AND $11::boolean,"
                 " next_fetch = CASE WHEN urgent THEN " NOW " ELSE " NOW " + $12::bigint END,"
                 " owner = NULL, lease_until = NULL, done_token = token"
                 " WHERE id = $1 AND token = $13",
                 &p, &rows);
    return rc < 0 ? rc : rows == 0 ? stale(s, feed_id, token) : 0;
}

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
                                  "UPDATE feeds SET urgent = true,"
                                  " next_fetch = least(coalesce(next_fetch, 0), " NOW ")"
                                  " WHERE id = ANY($1::bigint[]) RETURNING id, token",
                                  &p, &rc);
    free(ids);
    if (res == NULL)
        return rc;
    for (int r = 0; tokens != NULL && r < PQntuples(res); r++) {
        int64_t id = store_pg_int64(res, r, 0);
        for (size_t i = 0; i < n; i++)
            if (feed_ids[i] == id)
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
                                  "SELECT id, CASE WHEN lease_until > " NOW " THEN owner END,"
                                  " CASE WHEN lease_until > " NOW " THEN lease_until END,"
                                  " token, done_token, next_fetch, last_fetch, listed_at, enabled"
                                  " FROM feeds WHERE id = ANY($1::bigint[])",
                                  &p, &rc);
    free(ids);
    if (res == NULL)
        return rc;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        int64_t id = store_pg_int64(res, r, 0);
        for (size_t i = 0; i < n && rc == 0; i++) {
            struct store_feed_lease *l = &out[i];
            if (feed_ids[i] != id)
                continue;
            l->feed_id = id;
            if (!PQgetisnull(res, r, 1) && (l->owner = strdup(PQgetvalue(res, r, 1))) == NULL)
                rc = -ENOMEM;
            l->lease_until = store_pg_int64(res, r, 2);
            l->token = store_pg_int64(res, r, 3);
            l->done_token = store_pg_int64(res, r, 4);
            l->next_fetch = store_pg_int64(res, r, 5);
            l->last_fetch = store_pg_int64(res, r, 6);
            l->listed_at = store_pg_int64(res, r, 7);
            l->enabled = PQgetvalue(res, r, 8)[0] == 't';
        }
    }
    PQclear(res);
    if (rc < 0)
        store_feed_lease_clear(out, n);
    return rc;
}

int
store_pg_listed(struct store *s, const int64_t *feed_ids, const int64_t *intervals, size_t n)
{
    struct pg_params p = {0};
    char *ids = store_pg_ids(feed_ids, n), *iv = NULL;
    int rc = -ENOMEM;
    if (ids == NULL)
        return rc;
    if (intervals != NULL) {
        if ((iv = store_pg_ids(intervals, n)) == NULL)
            goto out;
    }
    store_pg_text(&p, ids);
    store_pg_text(&p, iv);
    /* two sets of rows, disjoint: the listed ones, and the rest whose
     * interval ran out (one statement, one snapshot) */
    rc = cmd(s,
             "WITH l AS (UPDATE feeds f SET listed_at = " NOW ", interval_s = coalesce(u.iv, 0),"
             "  enabled = f.enabled OR f.unlisted, unlisted = false"
             "  FROM unnest($1::bigint[], coalesce($2::bigint[], '{}')) AS u(id, iv)"
             "  WHERE f.id = u.id)"
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
    int count = 0, rc;
    if (!g->listening) {
        snprintf(s->err, sizeof(s->err), "store_notifications without store_listen");
        return -EINVAL;
    }
    if (PQstatus(g->conn) == CONNECTION_OK && !PQconsumeInput(g->conn))
        g->connected = 0; /* broken: made anew below */
    if (PQstatus(g->conn) == CONNECTION_BAD) {
        g->connected = 0;
        if ((rc = store_pg_reconnect(s)) < 0)
            return rc;
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
