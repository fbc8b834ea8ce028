/* store/sqlite_hub.c — the SQLite backend's built-in hub subscriptions
 * (SPEC §11): the hub_subs table by (topic, callback), changes marked on
 * every live row, deliveries claimed in one UPDATE … RETURNING and
 * finished with the claim's token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define HUB_COLS                                                                                   \
    "id, topic, path, callback, host, secret, lease_until, lease_s, changed, seen, sent, fails,"   \
    " tries, next_try, claim"

static char *
col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? strdup(v) : NULL;
}

/* A row of HUB_COLS into h: 0 or -ENOMEM. */
static int
row(sqlite3_stmt *st, struct store_hub_sub *h)
{
    h->id = sqlite3_column_int64(st, 0);
    h->topic = col(st, 1);
    h->path = col(st, 2);
    h->callback = col(st, 3);
    h->host = col(st, 4);
    h->secret = col(st, 5);
    h->lease_until = sqlite3_column_int64(st, 6);
    h->lease_s = sqlite3_column_int64(st, 7);
    h->changed = sqlite3_column_int64(st, 8);
    h->seen = sqlite3_column_int64(st, 9);
    h->sent = col(st, 10);
    h->fails = sqlite3_column_int(st, 11);
    h->tries = sqlite3_column_int(st, 12);
    h->next_try = sqlite3_column_int64(st, 13);
    h->claim = sqlite3_column_int64(st, 14);
    if (h->topic == NULL || h->path == NULL || h->callback == NULL || h->host == NULL ||
        (h->secret == NULL && sqlite3_column_type(st, 5) != SQLITE_NULL) ||
        (h->sent == NULL && sqlite3_column_type(st, 10) != SQLITE_NULL)) {
        store_hub_clear(h);
        return -ENOMEM;
    }
    return 0;
}

static int
prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

/* Step st to its end, each row into out[] (room for max), the count in *n;
 * finalizes st. */
static int
rows(struct store *s, sqlite3_stmt *st, struct store_hub_sub *out, size_t max, size_t *n)
{
    int rc, e = 0;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (*n < max && e == 0 && (e = row(st, &out[*n])) == 0)
            (*n)++;
    if (rc != SQLITE_DONE && e == 0)
        e = store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

/* Run st for its effect; the rows changed in *changed (may be NULL). */
static int
run(struct store *s, sqlite3_stmt *st, int *changed)
{
    int rc = sqlite3_step(st);
    int e = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    if (changed != NULL)
        *changed = sqlite3_changes(sqlite_of(s)->db);
    sqlite3_finalize(st);
    return e;
}

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int
store_sqlite_hub_put(struct store *s, const struct store_hub_sub *h, int64_t now)
{
    sqlite3_stmt *st;
    /* a renewal keeps the delivery state: what was pushed is not pushed again */
    int rc = prepare(s,
                     "INSERT INTO hub_subs(topic, path, callback, host, secret, lease_until,"
                     " lease_s, created, sent, changed)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6 + ?7, ?7, ?6, ?8, 1)"
                     " ON CONFLICT(topic, callback) DO UPDATE SET path = excluded.path,"
                     " host = excluded.host, secret = excluded.secret,"
                     " lease_until = excluded.lease_until, lease_s = excluded.lease_s,"
                     " fails = 0",
                     &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, h->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, h->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->callback, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, h->host, -1, SQLITE_STATIC);
    bind_opt(st, 5, h->secret);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, h->lease_s);
    bind_opt(st, 8, h->sent);
    return run(s, st, NULL);
}

int
store_sqlite_hub_remove(struct store *s, const char *topic, const char *callback)
{
    sqlite3_stmt *st;
    int changed = 0;
    int rc = prepare(s, "DELETE FROM hub_subs WHERE topic = ?1 AND callback = ?2", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, callback, -1, SQLITE_STATIC);
    rc = run(s, st, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_sqlite_hub_get(struct store *s, const char *topic, const char *callback,
                     struct store_hub_sub *out)
{
    sqlite3_stmt *st;
    size_t n = 0;
    int rc =
        prepare(s, "SELECT " HUB_COLS " FROM hub_subs WHERE topic = ?1 AND callback = ?2", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, callback, -1, SQLITE_STATIC);
    rc = rows(s, st, out, 1, &n);
    return rc < 0 ? rc : (int)n;
}

int
store_sqlite_hub_count(struct store *s, int64_t now, const char *host, const char *topic,
                       const char *callback, long *total, long *of_host)
{
    sqlite3_stmt *st;
    int rc = prepare(s,
                     "SELECT count(*), coalesce(sum(host = ?2), 0) FROM hub_subs"
                     " WHERE lease_until > ?1 AND NOT (topic = ?3 AND callback = ?4)",
                     &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, callback, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *total = (long)sqlite3_column_int64(st, 0);
        *of_host = (long)sqlite3_column_int64(st, 1);
        rc = 0;
    } else {
        rc = store_sqlite_fail(s, rc);
    }
    sqlite3_finalize(st);
    return rc;
}

int
store_sqlite_hub_mark(struct store *s, int64_t now)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "UPDATE hub_subs SET changed = changed + 1 WHERE lease_until > ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    return run(s, st, NULL);
}

int
store_sqlite_hub_claim(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out,
                       size_t max, size_t *n, struct store_hub_pass *p)
{
    sqlite3_stmt *st;
    int changed = 0;
    int rc = prepare(s, "DELETE FROM hub_subs WHERE lease_until <= ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    if ((rc = run(s, st, &changed)) < 0)
        return rc;
    p->expired = changed;
    if ((rc = prepare(s,
                      "UPDATE hub_subs SET claim = claim + 1, claim_until = ?1 + ?2"
                      " WHERE id IN (SELECT id FROM hub_subs WHERE changed > seen"
                      "  AND next_try <= ?1 AND claim_until <= ?1"
                      "  ORDER BY next_try, id LIMIT ?3)"
                      " RETURNING " HUB_COLS,
                      &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, hold);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    if ((rc = rows(s, st, out, max, n)) < 0)
        return rc;
    if ((rc = prepare(s,
                      "SELECT count(*), min(CASE WHEN changed > seen"
                      " THEN max(next_try, claim_until) END) FROM hub_subs",
                      &st)) < 0)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        p->live = (long)sqlite3_column_int64(st, 0);
        p->next = sqlite3_column_int64(st, 1); /* NULL: 0 */
        rc = 0;
    } else {
        rc = store_sqlite_fail(s, rc);
    }
    sqlite3_finalize(st);
    return rc;
}

int
store_sqlite_hub_done(struct store *s, const struct store_hub_sub *d, int drop)
{
    sqlite3_stmt *st;
    int changed = 0, rc;
    if (drop) {
        rc = prepare(s, "DELETE FROM hub_subs WHERE id = ?1 AND claim = ?2", &st);
    } else {
        rc = prepare(s,
                     "UPDATE hub_subs SET seen = max(seen, ?3), sent = coalesce(?4, sent),"
                     " fails = ?5, tries = ?6, next_try = ?7, claim_until = 0"
                     " WHERE id = ?1 AND claim = ?2",
                     &st);
    }
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_int64(st, 2, d->claim);
    if (!drop) {
        sqlite3_bind_int64(st, 3, d->seen);
        bind_opt(st, 4, d->sent);
        sqlite3_bind_int(st, 5, d->fails);
        sqlite3_bind_int(st, 6, d->tries);
        sqlite3_bind_int64(st, 7, d->next_try);
    }
    rc = run(s, st, &changed);
    return rc < 0 ? rc : changed > 0;
}
