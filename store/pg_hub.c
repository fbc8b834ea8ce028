/* store/pg_hub.c — the PostgreSQL backend's built-in hub subscriptions
 * (SPEC §11): the hub_subs table every node shares, changes marked on every
 * live row, deliveries claimed with FOR UPDATE SKIP LOCKED (one node
 * delivers each change) and finished with the claim's token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

#define HUB_COLS                                                                                   \
    "id, topic, path, callback, host, secret, lease_until, lease_s, changed, seen, sent, fails,"   \
    " tries, next_try, claim"

static char *
col(const PGresult *res, int i, int c, int *bad)
{
    if (PQgetisnull(res, i, c))
        return NULL;
    char *v = strdup(PQgetvalue(res, i, c));
    if (v == NULL)
        *bad = 1;
    return v;
}

/* Row i of res (HUB_COLS) into h: 0 or -ENOMEM. */
static int
row(const PGresult *res, int i, struct store_hub_sub *h)
{
    int bad = 0;
    h->id = store_pg_int64(res, i, 0);
    h->topic = col(res, i, 1, &bad);
    h->path = col(res, i, 2, &bad);
    h->callback = col(res, i, 3, &bad);
    h->host = col(res, i, 4, &bad);
    h->secret = col(res, i, 5, &bad);
    h->lease_until = store_pg_int64(res, i, 6);
    h->lease_s = store_pg_int64(res, i, 7);
    h->changed = store_pg_int64(res, i, 8);
    h->seen = store_pg_int64(res, i, 9);
    h->sent = col(res, i, 10, &bad);
    h->fails = (int)store_pg_int64(res, i, 11);
    h->tries = (int)store_pg_int64(res, i, 12);
    h->next_try = store_pg_int64(res, i, 13);
    h->claim = store_pg_int64(res, i, 14);
    if (bad || h->topic == NULL || h->path == NULL || h->callback == NULL || h->host == NULL) {
        store_hub_clear(h);
        return -ENOMEM;
    }
    return 0;
}

/* Run sql; its rows into out[] (room for max; NULL: none read), their
 * number in *n (may be NULL), the rows it changed in *changed (may be
 * NULL). */
static int
query(struct store *s, const char *sql, const struct pg_params *p, struct store_hub_sub *out,
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
store_pg_hub_put(struct store *s, const struct store_hub_sub *h, int64_t now)
{
    struct pg_params p = {0};
    store_pg_text(&p, h->topic);
    store_pg_text(&p, h->path);
    store_pg_text(&p, h->callback);
    store_pg_text(&p, h->host);
    store_pg_text(&p, h->secret); /* NULL: SQL NULL */
    store_pg_int(&p, now);
    store_pg_int(&p, h->lease_s);
    store_pg_text(&p, h->sent);
    /* a renewal keeps the delivery state: what was pushed is not pushed again */
    return query(s,
                 "INSERT INTO hub_subs(topic, path, callback, host, secret, lease_until, lease_s,"
                 " created, sent, changed)"
                 " VALUES($1, $2, $3, $4, $5, $6::bigint + $7::bigint, $7, $6, $8, 1)"
                 " ON CONFLICT(topic, callback) DO UPDATE SET path = excluded.path,"
                 " host = excluded.host, secret = excluded.secret,"
                 " lease_until = excluded.lease_until, lease_s = excluded.lease_s, fails = 0",
                 &p, NULL, 0, NULL, NULL);
}

int
store_pg_hub_remove(struct store *s, const char *topic, const char *callback)
{
    struct pg_params p = {0};
    long changed = 0;
    store_pg_text(&p, topic);
    store_pg_text(&p, callback);
    int rc = query(s, "DELETE FROM hub_subs WHERE topic = $1 AND callback = $2", &p, NULL, 0, NULL,
                   &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_pg_hub_get(struct store *s, const char *topic, const char *callback,
                 struct store_hub_sub *out)
{
    struct pg_params p = {0};
    size_t n = 0;
    store_pg_text(&p, topic);
    store_pg_text(&p, callback);
    int rc = query(s, "SELECT " HUB_COLS " FROM hub_subs WHERE topic = $1 AND callback = $2", &p,
                   out, 1, &n, NULL);
    return rc < 0 ? rc : (int)n;
}

int
store_pg_hub_count(struct store *s, int64_t now, const char *host, const char *topic,
                   const char *callback, long *total, long *of_host)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, now);
    store_pg_text(&p, host);
    store_pg_text(&p, topic);
    store_pg_text(&p, callback);
    PGresult *res = store_pg_exec(s,
                                  "SELECT count(*), count(*) FILTER (WHERE host = $2)"
                                  " FROM hub_subs WHERE lease_until > $1"
                                  " AND NOT (topic = $3 AND callback = $4)",
                                  &p, &rc);
    if (res == NULL)
        return rc;
    *total = (long)store_pg_int64(res, 0, 0);
    *of_host = (long)store_pg_int64(res, 0, 1);
    PQclear(res);
    return 0;
}

int
store_pg_hub_mark(struct store *s, int64_t now)
{
    struct pg_params p = {0};
    store_pg_int(&p, now);
    return query(s, "UPDATE hub_subs SET changed = changed + 1 WHERE lease_until > $1", &p, NULL, 0,
                 NULL, NULL);
}

int
store_pg_hub_claim(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out,
                   size_t max, size_t *n, struct store_hub_pass *p)
{
    struct pg_params a = {0}, b = {0};
    int rc;
    store_pg_int(&a, now);
    if ((rc = query(s, "DELETE FROM hub_subs WHERE lease_until <= $1", &a, NULL, 0, NULL,
                    &p->expired)) < 0)
        return rc;
    store_pg_int(&b, now);
    store_pg_int(&b, hold);
    store_pg_int(&b, (int64_t)max);
    /* the rows another node is claiming are skipped, not waited for */
    if ((rc = query(s,
                    "UPDATE hub_subs SET claim = claim + 1, claim_until = $1::bigint + $2::bigint"
                    " WHERE id IN (SELECT id FROM hub_subs WHERE changed > seen"
                    "  AND next_try <= $1 AND claim_until <= $1"
                    "  ORDER BY next_try, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
                    " RETURNING " HUB_COLS,
                    &b, out, max, n, NULL)) < 0)
        return rc;
    PGresult *res = store_pg_exec(s,
                                  "SELECT count(*), min(CASE WHEN changed > seen"
                                  " THEN greatest(next_try, claim_until) END) FROM hub_subs",
                                  NULL, &rc);
    if (res == NULL) {
        for (size_t i = 0; i < *n; i++)
            store_hub_clear(&out[i]);
        *n = 0;
        return rc;
    }
    p->live = (long)store_pg_int64(res, 0, 0);
    p->next = store_pg_int64(res, 0, 1); /* NULL: 0 */
    PQclear(res);
    return 0;
}

int
store_pg_hub_done(struct store *s, const struct store_hub_sub *d, int drop)
{
    struct pg_params p = {0};
    long changed = 0;
    int rc;
    store_pg_int(&p, d->id);
    store_pg_int(&p, d->claim);
    if (drop) {
        rc = query(s, "DELETE FROM hub_subs WHERE id = $1 AND claim = $2", &p, NULL, 0, NULL,
                   &changed);
    } else {
        store_pg_int(&p, d->seen);
        store_pg_text(&p, d->sent);
        store_pg_int(&p, d->fails);
        store_pg_int(&p, d->tries);
        store_pg_int(&p, d->next_try);
        rc = query(s,
                   "UPDATE hub_subs SET seen = greatest(seen, $3::bigint),"
                   " sent = coalesce($4, sent), fails = $5, tries = $6, next_try = $7,"
                   " claim_until = 0 WHERE id = $1 AND claim = $2",
                   &p, NULL, 0, NULL, &changed);
    }
    return rc < 0 ? rc : changed > 0;
}
