/* store/pg_websub.c — the PostgreSQL backend's WebSub subscriptions (SPEC
 * §11): the websub table by callback id, shared by every node, renewals
 * claimed with FOR UPDATE SKIP LOCKED so that one node renews each, and
 * the deliveries seen (replay guard). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

#define WS_COLS "callback, feed_id, topic, hub, secret, state, lease_until, lease_s, asked_at"

/* Row i of res (WS_COLS) into w: 0 or -ENOMEM. */
static int
row(const PGresult *res, int i, struct store_websub *w)
{
    w->callback = strdup(PQgetvalue(res, i, 0));
    w->feed_id = store_pg_int64(res, i, 1);
    w->topic = strdup(PQgetvalue(res, i, 2));
    w->hub = strdup(PQgetvalue(res, i, 3));
    w->secret = strdup(PQgetvalue(res, i, 4));
    w->state = (int)store_pg_int64(res, i, 5);
    w->lease_until = store_pg_int64(res, i, 6);
    w->lease_s = store_pg_int64(res, i, 7);
    w->asked_at = store_pg_int64(res, i, 8);
    if (w->callback == NULL || w->topic == NULL || w->hub == NULL || w->secret == NULL) {
        store_websub_clear(w);
        return -ENOMEM;
    }
    return 0;
}

/* Run sql; its rows into out[] (room for max, NULL: none read), the count
 * in *n, the rows it changed in *changed (may be NULL). */
static int
query(struct store *s, const char *sql, const struct pg_params *p, struct store_websub *out,
      size_t max, size_t *n, long *changed)
{
    int rc;
    PGresult *res = store_pg_exec(s, sql, p, &rc);
    if (res == NULL)
        return rc;
    if (n != NULL)
        *n = 0;
    for (int i = 0; out != NULL && i < PQntuples(res) && *n < max && rc == 0; i++)
        if ((rc = row(res, i, &out[*n])) == 0)
            (*n)++;
    if (changed != NULL)
        *changed = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

int
store_pg_ws_put(struct store *s, const struct store_websub *w)
{
    struct pg_params p = {0};
    store_pg_text(&p, w->callback);
    store_pg_int(&p, w->feed_id);
    store_pg_text(&p, w->topic);
    store_pg_text(&p, w->hub);
    store_pg_text(&p, w->secret);
    store_pg_int(&p, w->state);
    store_pg_int(&p, w->lease_until);
    store_pg_int(&p, w->lease_s);
    store_pg_int(&p, w->asked_at);
    return query(s,
                 "INSERT INTO websub(" WS_COLS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                 " ON CONFLICT(callback) DO UPDATE SET feed_id = $2, topic = $3, hub = $4,"
                 " secret = $5, state = $6, lease_until = $7, lease_s = $8, asked_at = $9,"
                 " renew_at = NULL",
                 &p, NULL, 0, NULL, NULL);
}

int
store_pg_ws_get(struct store *s, const char *callback, struct store_websub *out)
{
    struct pg_params p = {0};
    size_t n = 0;
    store_pg_text(&p, callback);
    int rc = query(s, "SELECT " WS_COLS " FROM websub WHERE callback = $1", &p, out, 1, &n, NULL);
    return rc < 0 ? rc : (int)n;
}

int
store_pg_ws_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                    size_t *n)
{
    struct pg_params p = {0};
    store_pg_int(&p, feed_id);
    return query(s,
                 "SELECT " WS_COLS " FROM websub WHERE $1::bigint = 0 OR feed_id = $1"
                 " ORDER BY asked_at, callback",
                 &p, out, max, n, NULL);
}

int
store_pg_ws_set(struct store *s, const char *callback, int state, int64_t now, int64_t lease_s,
                int64_t asked)
{
    struct pg_params p = {0};
    long changed = 0;
    store_pg_text(&p, callback);
    store_pg_int(&p, state);
    store_pg_int(&p, now);
    store_pg_int(&p, lease_s);
    store_pg_int(&p, asked);
    int rc = query(s,
                   "UPDATE websub SET state = $2,"
                   " lease_until = CASE WHEN $4::bigint > 0 THEN $3::bigint + $4 ELSE lease_until END,"
                   " lease_s = CASE WHEN $4::bigint > 0 THEN $4 ELSE lease_s END,"
                   " asked_at = CASE WHEN $5::bigint <> 0 THEN $3 ELSE asked_at END,"
                   " renew_at = CASE WHEN $4::bigint > 0 THEN NULL ELSE renew_at END"
                   " WHERE callback = $1",
                   &p, NULL, 0, NULL, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_pg_ws_delete(struct store *s, const char *callback)
{
    struct pg_params p = {0};
    long changed = 0;
    store_pg_text(&p, callback);
    int rc = query(s, "DELETE FROM websub WHERE callback = $1", &p, NULL, 0, NULL, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_pg_ws_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                     size_t max, size_t *n)
{
    struct pg_params p = {0}, q = {0};
    store_pg_int(&p, now);
    store_pg_int(&p, hold);
    int rc = query(s,
                   "DELETE FROM websub WHERE (state = 1 AND lease_until + $2 <= $1)"
                   " OR (state <> 1 AND asked_at + 86400 <= $1)",
                   &p, NULL, 0, NULL, NULL);
    store_pg_int(&q, now);
    if (rc == 0)
        rc = query(s, "DELETE FROM websub_seen WHERE at + 604800 <= $1", &q, NULL, 0, NULL, NULL);
    if (rc < 0)
        return rc;
    store_pg_int(&p, (int64_t)max);
    /* the rows another node is claiming are skipped, not waited for */
    return query(s,
                 "UPDATE websub SET renew_at = $1 WHERE callback IN"
                 " (SELECT callback FROM websub WHERE state = 1 AND lease_s > 0"
                 "  AND lease_until - lease_s / 5 <= $1"
                 "  AND (renew_at IS NULL OR renew_at + $2 <= $1)"
                 "  ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED)"
                 " RETURNING " WS_COLS,
                 &p, out, max, n, NULL);
}

int
store_pg_ws_seen(struct store *s, const char *sig, int64_t now, int add)
{
    struct pg_params p = {0};
    int rc;
    store_pg_text(&p, sig);
    if (add) {
        store_pg_int(&p, now);
        return query(s,
                     "INSERT INTO websub_seen(sig, at) VALUES($1, $2) ON CONFLICT DO NOTHING",
                     &p, NULL, 0, NULL, NULL);
    }
    PGresult *res = store_pg_exec(s, "SELECT 1 FROM websub_seen WHERE sig = $1", &p, &rc);
    if (res == NULL)
        return rc;
    rc = PQntuples(res) > 0;
    PQclear(res);
    return rc;
}
