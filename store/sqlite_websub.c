/* store/sqlite_websub.c — the SQLite backend's WebSub subscriptions (SPEC
 * §11): the websub table by callback id, renewals claimed in one UPDATE …
 * RETURNING, and the deliveries seen (replay guard). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define WS_COLS "callback, feed_id, topic, hub, secret, state, lease_until, lease_s, asked_at"

/* A row of WS_COLS into w: 0 or -ENOMEM. */
static int
row(sqlite3_stmt *st, void *item)
{
    struct store_websub *w = item;
    w->callback = store_sqlite_col(st, 0);
    w->feed_id = sqlite3_column_int64(st, 1);
    w->topic = store_sqlite_col(st, 2);
    w->hub = store_sqlite_col(st, 3);
    w->secret = store_sqlite_col(st, 4);
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

int
store_sqlite_ws_put(struct store *s, const struct store_websub *w)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(s,
                                  "INSERT OR REPLACE INTO websub(" WS_COLS ")"
                                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                  &st);
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
    return store_sqlite_run(s, st, NULL);
}

int
store_sqlite_ws_get(struct store *s, const char *callback, struct store_websub *out)
{
    sqlite3_stmt *st;
    size_t n;
    int rc = store_sqlite_prepare(s, "SELECT " WS_COLS " FROM websub WHERE callback = ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, callback, -1, SQLITE_STATIC);
    rc = store_sqlite_rows(s, st, out, sizeof(*out), 1, &n, row);
    return rc < 0 ? rc : (int)n;
}

int
store_sqlite_ws_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                        size_t *n)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(s,
                                  "SELECT " WS_COLS " FROM websub WHERE ?1 = 0 OR feed_id = ?1"
                                  " ORDER BY asked_at, callback",
                                  &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st, 1, feed_id);
    return store_sqlite_rows(s, st, out, sizeof(*out), max, n, row);
}

int
store_sqlite_ws_set(struct store *s, const char *callback, int state, int64_t now, int64_t lease_s,
                    int64_t asked)
{
    sqlite3_stmt *st;
    int changed = 0;
    int rc =
        store_sqlite_prepare(s,
                             "UPDATE websub SET state = ?2,"
                             " lease_until = CASE WHEN ?4 > 0 THEN ?3 + ?4 ELSE lease_until END,"
                             " lease_s = CASE WHEN ?4 > 0 THEN ?4 ELSE lease_s END,"
                             " asked_at = CASE WHEN ?5 <> 0 THEN ?3 ELSE asked_at END,"
                             " renew_at = CASE WHEN ?4 > 0 THEN NULL ELSE renew_at END"
                             " WHERE callback = ?1",
                             &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, callback, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, lease_s);
    sqlite3_bind_int64(st, 5, asked);
    rc = store_sqlite_run(s, st, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_sqlite_ws_delete(struct store *s, const char *callback)
{
    sqlite3_stmt *st;
    int changed = 0;
    int rc = store_sqlite_prepare(s, "DELETE FROM websub WHERE callback = ?1", &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, callback, -1, SQLITE_STATIC);
    rc = store_sqlite_run(s, st, &changed);
    return rc < 0 ? rc : changed > 0;
}

int
store_sqlite_ws_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                         size_t max, size_t *n)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(s,
                                  "DELETE FROM websub WHERE (state = 1 AND lease_until + ?2 <= ?1)"
                                  " OR (state <> 1 AND asked_at + 86400 <= ?1)",
                                  &st);
    if (rc == 0)
        sqlite3_bind_int64(st, 1, now), sqlite3_bind_int64(st, 2, hold),
            rc = store_sqlite_run(s, st, NULL);
    if (rc == 0 &&
        (rc = store_sqlite_prepare(s, "DELETE FROM websub_seen WHERE at + 604800 <= ?1", &st)) == 0)
        sqlite3_bind_int64(st, 1, now), rc = store_sqlite_run(s, st, NULL);
    if (rc < 0)
        return rc;
    if ((rc = store_sqlite_prepare(s,
                                   "UPDATE websub SET renew_at = ?1 WHERE callback IN"
                                   " (SELECT callback FROM websub WHERE state = 1 AND lease_s > 0"
                                   "  AND lease_until - lease_s / 5 <= ?1"
                                   "  AND (renew_at IS NULL OR renew_at + ?2 <= ?1)"
                                   "  ORDER BY lease_until LIMIT ?3)"
                                   " RETURNING " WS_COLS,
                                   &st)) < 0)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, hold);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    return store_sqlite_rows(s, st, out, sizeof(*out), max, n, row);
}

int
store_sqlite_ws_seen(struct store *s, const char *sig, int64_t now, int add)
{
    sqlite3_stmt *st;
    size_t n = 0;
    int rc = store_sqlite_prepare(s,
                                  add ? "INSERT OR IGNORE INTO websub_seen(sig, at) VALUES(?1, ?2)"
                                      : "SELECT 1 FROM websub_seen WHERE sig = ?1",
                                  &st);
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, sig, -1, SQLITE_STATIC);
    if (add) {
        sqlite3_bind_int64(st, 2, now);
        return store_sqlite_run(s, st, NULL);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        n++;
    int e = rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    store_sqlite_unprepare(s, st);
    return e < 0 ? e : n > 0;
}
