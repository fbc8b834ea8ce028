/* store/pg_copy.c — the PostgreSQL backend's raw rows for store_copy: each
 * table streamed row by row (libpq's single-row mode) in id order, written
 * with COPY … FROM STDIN (ids kept), the identity sequences moved past the
 * copied ids afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

static const char *const table_name[STORE_T_COUNT] = {"feeds", "articles", "sources", "keys",
                                                       "tombstones"};

/* The columns of backend_int.h, in its order; booleans as 0 or 1. */
static const char *const columns[STORE_T_COUNT] = {
    "id, name, url, config_url, etag, last_modified, last_fetch, last_status, http, errors,"
    " error, next_fetch, newest, enabled, last_counts, host, token, done_token, listed_at,"
    " interval_s, unlisted, first_ok, next_why, lag_median, lag_n",
    "id, uid, feed_id, guid, title, link, author, categories, date, updated, first_seen,"
    " headimg, thumbnail, comments, summary, body, body_text, content_hash, republish,"
    " rejected_date",
    "article_id, feed_id, seen",
    "kind, key, article_id, at",
    "article_id, seen",
};

static const char *const select_sql[STORE_T_COUNT] = {
    "SELECT id, name, url, config_url, etag, last_modified, last_fetch, last_status, http,"
    " errors, error, next_fetch, newest, enabled::int, last_counts, host, token, done_token,"
    " listed_at, interval_s, unlisted::int, first_ok, next_why, lag_median, lag_n"
    " FROM feeds ORDER BY id",
    "SELECT id, uid, feed_id, guid, title, link, author, categories, date, updated, first_seen,"
    " headimg, thumbnail, comments, summary, body, body_text, content_hash, republish::int,"
    " rejected_date FROM articles ORDER BY id",
    "SELECT article_id, feed_id, seen FROM sources ORDER BY article_id, feed_id",
    /* no id: an article's keys together, in about the order they were written */
    "SELECT kind, key, article_id, at FROM keys ORDER BY article_id, kind, key, at",
    "SELECT article_id, seen FROM tombstones ORDER BY article_id",
};

static const int ncols[STORE_T_COUNT] = {STORE_FEEDS_NCOLS, STORE_ARTICLES_NCOLS, 3, 4, 2};

/* The connection's message on s (trailing new line dropped). */
static int
conn_fail(struct store *s)
{
    PGconn *c = pg_of(s)->conn;
    snprintf(s->err, sizeof(s->err), "%s", PQerrorMessage(c));
    s->err[strcspn(s->err, "\n")] = '\0';
    return PQstatus(c) == CONNECTION_OK ? -EIO : -ENOTCONN;
}

static int
simple(struct store *s, const char *sql)
{
    int rc;
    PQclear(store_pg_exec(s, sql, NULL, &rc));
    return rc;
}

int
store_pg_snapshot(struct store *s)
{
    /* one snapshot for every statement until the rollback that ends it */
    return simple(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

int
store_pg_raw_count(struct store *s, int t, long *n)
{
    char sql[64];
    int rc;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table_name[t]);
    PGresult *res = store_pg_exec(s, sql, NULL, &rc);
    if (res == NULL)
        return rc;
    *n = (long)store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

int
store_pg_raw_each(struct store *s, int t, store_raw_cb cb, void *arg)
{
    PGconn *c = pg_of(s)->conn;
    const char *col[STORE_MAX_COLS];
    PGresult *res;
    int ret = 0;
    if ((ret = store_pg_ready(s)) < 0)
        return ret;
    /* a row at a time: a table may not fit in memory */
    if (!PQsendQuery(c, select_sql[t]) || !PQsetSingleRowMode(c))
        return conn_fail(s);
    /* every result is read, even after a stop: the connection is used next */
    while ((res = PQgetResult(c)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (ret == 0 && st == PGRES_SINGLE_TUPLE) {
            for (int i = 0; i < ncols[t]; i++)
                col[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
            ret = cb(arg, col);
        } else if (ret == 0 && st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE) {
            ret = store_pg_fail(s, res);
            continue; /* store_pg_fail cleared it */
        }
        PQclear(res);
    }
    return ret;
}

int
store_pg_raw_start(struct store *s, int t)
{
    char sql[512];
    int rc;
    /* after what was sent ahead (store_begin's BEGIN) */
    if ((rc = store_pg_ready(s)) < 0)
        return rc;
    snprintf(sql, sizeof(sql), "COPY %s(%s) FROM STDIN", table_name[t], columns[t]);
    PGresult *res = PQexec(pg_of(s)->conn, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN)
        return store_pg_fail(s, res);
    PQclear(res);
    pg_of(s)->copying = 1;
    return 0;
}

int
store_pg_raw_put(struct store *s, int t, const char *const *col)
{
    size_t len = 2;
    for (int i = 0; i < ncols[t]; i++)
        len += (col[i] ? 2 * strlen(col[i]) : 2) + 1;
    char *line = malloc(len), *w = line;
    if (line == NULL)
        return -ENOMEM;
    /* COPY's text format: tab between columns, \N for NULL, and backslash,
     * tab, new line and carriage return escaped */
    for (int i = 0; i < ncols[t]; i++) {
        if (i > 0)
            *w++ = '\t';
        if (col[i] == NULL) {
            *w++ = '\\';
            *w++ = 'N';
            continue;
        }
        for (const char *p = col[i]; *p; p++) {
            char e = *p == '\\' ? '\\' : *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 0;
            if (e) {
                *w++ = '\\';
                *w++ = e;
            } else {
                *w++ = *p;
            }
        }
    }
    *w++ = '\n';
    int ok = PQputCopyData(pg_of(s)->conn, line, (int)(w - line)) == 1;
    free(line);
    return ok ? 0 : conn_fail(s);
}

int
store_pg_raw_end(struct store *s, int t)
{
    PGconn *c = pg_of(s)->conn;
    PGresult *res;
    int rc = 0;
    (void)t;
    pg_of(s)->copying = 0;
    if (PQputCopyEnd(c, NULL) != 1)
        return conn_fail(s);
    while ((res = PQgetResult(c)) != NULL) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = store_pg_fail(s, res);
            continue;
        }
        PQclear(res);
    }
    return rc;
}

void
store_pg_copy_abort(struct store *s)
{
    PGconn *c = pg_of(s)->conn;
    if (!pg_of(s)->copying)
        return;
    pg_of(s)->copying = 0;
    if (PQputCopyEnd(c, "store_copy failed") == 1)
        for (PGresult *res; (res = PQgetResult(c)) != NULL;)
            PQclear(res);
}

int
store_pg_raw_finish(struct store *s)
{
    int rc;
    /* GENERATED BY DEFAULT took the copied ids without drawing from the
     * sequences: the next new feed or article would collide, and a new
     * article must not take an id the copied keys name (a pruned article's,
     * above the newest article's) */
    if ((rc = simple(s, "SELECT setval(pg_get_serial_sequence('feeds', 'id'),"
                        " coalesce(max(id), 0) + 1, false) FROM feeds;"
                        "SELECT setval(pg_get_serial_sequence('articles', 'id'),"
                        " greatest((SELECT max(id) FROM articles),"
                        " (SELECT max(article_id) FROM keys),"
                        " (SELECT max(article_id) FROM tombstones), 0) + 1, false);"
                        /* the planner's statistics for the tables just filled */
                        "ANALYZE feeds, articles, sources, keys, tombstones")) < 0)
        return rc;
    pg_of(s)->bump = 1;
    return 0;
}
