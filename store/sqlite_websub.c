/* store/sqlite_websub.c — the SQLite backend's WebSub subscriptions (SPEC
 * §11): the websub table by callback id, renewals claimed in one UPDATE …
 * RETURNING, and the deliveries seen (replay guard). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define WS_COLS "callback, feed_id, topic, hub, secret, state, lease_until, lease_s, asked_at"

static char *
col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? strdup(v) : NULL;
}

/* A row of WS_COLS into w: 0 or -ENOMEM. */
static int
row(sqlite3_stmt *st, struct store_websub *w)
{
    w->callback = col(st, 0);
    w->feed_id = sqlite3_column_int64(st, 1);
    w->topic = col(st, 2);
    w->hub = col(st, 3);
    w->secret = col(st, 4);
    w->state = sqlite3_column_int(st, 5);
    w->lease_until = sqlite3_column_int64(st, 6);
    w->lease_s = sqlite3_column_int64(st, 7);
    w->asked_at = sqlite3_column_int64(st, 8);
    if (w->callback == NULL || w->topic == NULL || w->hub == NULL || w->secret == NULL) {
        store_websub_clear(w);
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
rows(struct store *s, sqlite3_stmt *st, struct store_websub *out, size_t max, size_t *n)
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

int
store_sqlite_ws_put(struct store *s, const struct store_websub *w)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "INSERT OR REPLACE INTO websub(" WS_COLS ")"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, w->callback, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, w->feed_id);
    sqlite3_bind_text(st, 3, w->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->hub, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, w->secret, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, w->state);
    sqlite3_bind_int64(st, 7, w->lease_until);
    sqlite3_bind_int64(st, 8, w->lease_s);
    sqlite3_bind_int64(st, 9, w->asked_at);
    return run(s, st, NULL);
}

int
store_sqlite_ws_get(struct store *s, const char *callback, struct store_websub *out)
{
    sqlite3_stmt *st;
    size_t n;
    int rc = prepare(s, "SELECT " WS_COLS " FROM websub WHERE callback = ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, callback, -1, SQLITE_STATIC);
    rc = rows(s, st, out, 1, &n);
    return rc < 0 ? rc : (int)n;
}

int
store_sqlite_ws_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                        size_t *n)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "SELECT " WS_COLS " FROM websub WHERE ?1 = 0 OR feed_id = ?1"
                        " ORDER BY asked_at, callback", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, feed_id);
    return rows(s, st, out, max, n);
}

int
store_sqlite_ws_set(struct store *s, const char *callback, int state, int64_t now,
                    int64_t lease_s, int64_t asked)
{
    sqlite3_stmt *st;
    int changed = 0;
    int rc = prepare(s, "UPDATE websub SET state = ?2,"
                        " lease_until = CASE WHEN ?4 > 0 THEN ?3 + ?4 ELSE lease_until END,"
                        " lease_s = CASE WHEN ?4 > 0 THEN ?4 ELSE lease_s END,"
                        " asked_at = CASE WHEN ?5 <> 0 THEN ?3 ELSE asked_at END,"
                        " renew_at = CASE WHEN ?4 > 0 THEN NULL ELSE renew_at END"
                        " WHERE callback = ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, callback, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, lease_s);
    sqlite3_bind_int64(st, 5, asked);
    rc = run(s, st, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_sqlite_ws_delete(struct store *s, const char *callback)
{
    sqlite3_stmt *st;
    int changed = 0;
    int rc = prepare(s, "DELETE FROM websub WHERE callback = ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, callback, -1, SQLITE_STATIC);
    rc = run(s, st, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_sqlite_ws_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                         size_t max, size_t *n)
{
    sqlite3_stmt *st;
    int rc = prepare(s, "DELETE FROM websub WHERE (state = 1 AND lease_until + ?2 <= ?1)"
                        " OR (state <> 1 AND asked_at + 86400 <= ?1)", &st);
    if (rc == 0)
        sqlite3_bind_int64(st, 1, now), sqlite3_bind_int64(st, 2, hold), rc = run(s, st, NULL);
    if (rc == 0 && (rc = prepare(s, "DELETE FROM websub_seen WHERE at + 604800 <= ?1", &st)) == 0)
        sqlite3_bind_int64(st, 1, now), rc = run(s, st, NULL);
    if (rc < 0)
        return rc;
    if ((rc = prepare(s, "UPDATE websub SET renew_at = ?1 WHERE callback IN"
                         " (SELECT callback FROM websub WHERE state = 1 AND lease_s > 0"
                         "  AND lease_until - lease_s / 5 <= ?1"
                         "  AND (renew_at IS NULL OR renew_at + ?2 <= ?1)"
                         "  ORDER BY lease_until LIMIT ?3)"
                         " RETURNING " WS_COLS, &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, hold);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    return rows(s, st, out, max, n);
}

int
store_sqlite_ws_seen(struct store *s, const char *sig, int64_t now, int add)
{
    sqlite3_stmt *st;
    size_t n = 0;
    int rc = prepare(s, add ? "INSERT OR IGNORE INTO websub_seen(sig, at) VALUES(?1, ?2)"
                            : "SELECT 1 FROM websub_seen WHERE sig = ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, sig, -1, SQLITE_STATIC);
    if (add) {
        sqlite3_bind_int64(st, 2, now);
        return run(s, st, NULL);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        n++;
    int e = rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e < 0 ? e : n > 0;
}
