/* store/sqlite_feed.c — the SQLite backend's feeds table: a feed's row by
 * name, and its fetch state (validators, status, errors, next fetch), kept
 * so that a restarted daemon goes on where it stopped; and the newest items
 * a feed carries (its publishing rate and lag, issue 13). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

static char *
col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? strdup(v) : NULL;
}

int
store_sqlite_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "INSERT INTO feeds(name, url, config_url, host)"
                                " VALUES(?1, ?2, ?2, finfeed_host(?2))"
                                " ON CONFLICT(name) DO UPDATE SET"
                                /* a moved feed keeps its new URL while the
                                 * configured one stays the same (SPEC §6) */
                                "  url = CASE WHEN ?2 IS NULL OR config_url IS ?2 THEN url"
                                "        ELSE ?2 END,"
                                "  host = finfeed_host(CASE WHEN ?2 IS NULL OR config_url IS ?2"
                                "        THEN url ELSE ?2 END),"
                                "  config_url = coalesce(?2, config_url)"
                                " RETURNING id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    int e = rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

int
store_sqlite_feed_state_get(struct store *s, int64_t feed_id, struct store_feed_state *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "SELECT url, etag, last_modified, last_status, error, last_fetch,"
                                " next_fetch, newest, http, errors, enabled, first_ok, next_why,"
                                " lag_median, lag_n FROM feeds WHERE id = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    sqlite3_bind_int64(st, 1, feed_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->url = col(st, 0);
        out->etag = col(st, 1);
        out->last_modified = col(st, 2);
        out->status = col(st, 3);
        out->error = col(st, 4);
        out->last_fetch = sqlite3_column_int64(st, 5);
        out->next_fetch = sqlite3_column_int64(st, 6);
        out->newest = sqlite3_column_int64(st, 7);
        out->http = (long)sqlite3_column_int64(st, 8);
        out->errors = (long)sqlite3_column_int64(st, 9);
        out->enabled = sqlite3_column_int(st, 10);
        out->first_ok = sqlite3_column_int64(st, 11);
        out->next_why = col(st, 12);
        out->lag_median = sqlite3_column_int64(st, 13);
        out->lag_n = (long)sqlite3_column_int64(st, 14);
    }
    int e = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

int
store_sqlite_feed_state_set(struct store *s, int64_t feed_id, const struct store_feed_state *in)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "UPDATE feeds SET url = coalesce(?2, url),"
                                " host = coalesce(finfeed_host(?2), host), etag = ?3,"
                                " last_modified = ?4, last_status = ?5, error = ?6,"
                                " last_fetch = ?7, next_fetch = ?8, newest = ?9, http = ?10,"
                                " errors = ?11, enabled = ?12,"
                                " first_ok = coalesce(first_ok, nullif(?13, 0)),"
                                " next_why = ?14, lag_median = ?15, lag_n = ?16 WHERE id = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    sqlite3_bind_int64(st, 1, feed_id);
    sqlite3_bind_text(st, 2, in->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->last_modified, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, in->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, in->last_fetch);
    sqlite3_bind_int64(st, 8, in->next_fetch);
    sqlite3_bind_int64(st, 9, in->newest);
    sqlite3_bind_int64(st, 10, in->http);
    sqlite3_bind_int64(st, 11, in->errors);
    sqlite3_bind_int(st, 12, in->enabled);
    sqlite3_bind_int64(st, 13, in->first_ok);
    sqlite3_bind_text(st, 14, in->next_why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 15, in->lag_median);
    sqlite3_bind_int64(st, 16, in->lag_n);
    rc = sqlite3_step(st);
    int e = rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

int
store_sqlite_feed_items(struct store *s, int64_t feed_id, struct store_feed_item *out, size_t max,
                        size_t *n, int64_t *first_ok)
{
    sqlite3_stmt *st;
    /* backwards along sources_feed (feed_id, article_id): the newest rows
     * first, LIMIT rows read at most */
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "SELECT a.date, a.first_seen,"
                                " a.rejected_date IS NULL AND a.date <> a.first_seen,"
                                " a.feed_id = ?1,"
                                " (SELECT coalesce(first_ok, 0) FROM feeds WHERE id = ?1)"
                                " FROM sources src JOIN articles a ON a.id = src.article_id"
                                " WHERE src.feed_id = ?1 ORDER BY src.article_id DESC LIMIT ?2",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    sqlite3_bind_int64(st, 1, feed_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        struct store_feed_item *it = &out[(*n)++];
        it->date = sqlite3_column_int64(st, 0);
        it->first_seen = sqlite3_column_int64(st, 1);
        it->believed = sqlite3_column_int(st, 2);
        it->first_source = sqlite3_column_int(st, 3);
        *first_ok = sqlite3_column_int64(st, 4);
    }
    int e = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    if (e == 0 && *n == 0) {
        /* no item: the feed's row alone */
        rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "SELECT coalesce(first_ok, 0) FROM feeds WHERE id = ?1", -1, &st,
                                NULL);
        if (rc != SQLITE_OK)
            return store_sqlite_fail(s, rc);
        sqlite3_bind_int64(st, 1, feed_id);
        if ((rc = sqlite3_step(st)) == SQLITE_ROW)
            *first_ok = sqlite3_column_int64(st, 0);
        e = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
        sqlite3_finalize(st);
    }
    return e;
}
