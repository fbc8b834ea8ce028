/* store/sqlite_copy.c — the SQLite backend's raw rows for store_copy: each
 * table read in id order and written back as it is, ids kept, the search
 * text read from and written to articles_fts, band keys kept integers (and,
 * from schema 13, in the bands table: keys of kind 4 here); new ids past
 * every id the copied keys name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/sqlite_int.h"

static const char *const table_name[STORE_T_COUNT] = {
    "feeds", "articles", "sources", "keys", "tombstones", "article_tickers", "websub", "hub_subs"};

/* The columns of backend_int.h, in its order. */
static const char *const select_sql[STORE_T_COUNT] = {
    "SELECT id, name, url, config_url, etag, last_modified, last_fetch, last_status, http,"
    " errors, error, next_fetch, newest, enabled, last_counts, host, token, done_token,"
    " listed_at, interval_s, unlisted, first_ok, next_why, lag_median, lag_n"
    " FROM feeds ORDER BY id",
    "SELECT a.id, a.uid, a.feed_id, a.guid, a.title, a.link, a.author, a.categories, a.date,"
    " a.updated, a.first_seen, a.headimg, a.thumbnail, a.comments, a.summary, a.body,"
    " coalesce(f.body, ''), a.content_hash, a.republish, a.rejected_date"
    " FROM articles a LEFT JOIN articles_fts f ON f.rowid = a.id ORDER BY a.id",
    "SELECT article_id, feed_id, seen FROM sources ORDER BY article_id, feed_id",
    "SELECT kind, key, article_id, at FROM keys"
    " UNION ALL SELECT 4, key, article_id, at FROM bands",
    "SELECT article_id, seen FROM tombstones ORDER BY article_id",
    "SELECT article_id, ticker, pos FROM article_tickers ORDER BY article_id, pos",
    "SELECT callback, feed_id, topic, hub, secret, state, lease_until, lease_s, asked_at,"
    " renew_at FROM websub ORDER BY callback",
    "SELECT id, topic, path, callback, host, secret, lease_until, lease_s, created, changed,"
    " seen, sent, fails, tries, next_try, claim, claim_until FROM hub_subs ORDER BY id",
};

/* Values are bound as text: the INTEGER columns' affinity makes numbers of
 * them again. Column 17 of articles (body_text) goes to articles_fts. */
static const char *const insert_sql[STORE_T_COUNT] = {
    "INSERT INTO feeds(id, name, url, config_url, etag, last_modified, last_fetch, last_status,"
    " http, errors, error, next_fetch, newest, enabled, last_counts, host, token, done_token,"
    " listed_at, interval_s, unlisted, first_ok, next_why, lag_median, lag_n)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
    "INSERT INTO articles(id, uid, feed_id, guid, title, link, author, categories, date, updated,"
    " first_seen, headimg, thumbnail, comments, summary, body, content_hash, republish,"
    " rejected_date)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?18, ?19,"
    " ?20)",
    "INSERT INTO sources(article_id, feed_id, seen) VALUES(?1, ?2, ?3)",
    "INSERT INTO keys(kind, key, article_id, at) VALUES(?1, ?2, ?3, ?4)",
    "INSERT INTO tombstones(article_id, seen) VALUES(?1, ?2)",
    "INSERT INTO article_tickers(article_id, ticker, pos) VALUES(?1, ?2, ?3)",
    "INSERT INTO websub(callback, feed_id, topic, hub, secret, state, lease_until, lease_s,"
    " asked_at, renew_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    "INSERT INTO hub_subs(id, topic, path, callback, host, secret, lease_until, lease_s, created,"
    " changed, seen, sent, fails, tries, next_try, claim, claim_until)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
};

static const int ncols[STORE_T_COUNT] = STORE_NCOLS;

/* A band (a key of kind 4) into the bands table: the key column has no
 * affinity, so its number is bound as the integer store_add looks it up
 * as. The articles' lists of their bands (articles.bands) are made once
 * every band is in (raw_end). */
#define BAND_INSERT "INSERT INTO bands(key, article_id, at) VALUES(CAST(?2 AS INTEGER), ?3, ?4)"
#define BAND_LISTS                                                                                 \
    "UPDATE articles SET bands = (SELECT json_group_array(b.key) FROM bands b"                     \
    " WHERE b.article_id = articles.id) WHERE id IN (SELECT article_id FROM bands)"

/* Whether the file has schema 13's bands table (a backup checked by
 * store_sqlite_open_check may be older). */
static int
has_bands(sqlite3 *db)
{
    sqlite3_stmt *st;
    int yes = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bands'",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

int
store_sqlite_snapshot(struct store *s)
{
    /* deferred: the snapshot is taken by the first read, and no lock
     * keeps a writer out */
    int rc = sqlite3_exec(sqlite_of(s)->db, "BEGIN", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

int
store_sqlite_raw_count(struct store *s, int t, long *n)
{
    char sql[96];
    sqlite3_stmt *st;
    if (t == STORE_T_KEYS && has_bands(sqlite_of(s)->db))
        snprintf(sql, sizeof(sql),
                 "SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM bands)");
    else
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table_name[t]);
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    int e = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

int
store_sqlite_raw_each(struct store *s, int t, store_raw_cb cb, void *arg)
{
    const char *col[STORE_MAX_COLS];
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, select_sql[t], -1, &st, NULL), ret = 0;
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncols[t]; i++)
            col[i] = (const char *)sqlite3_column_text(st, i);
        if ((ret = cb(arg, col)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return ret;
}

int
store_sqlite_raw_start(struct store *s, int t)
{
    struct sqlite_store *l = sqlite_of(s);
    int rc;
    store_sqlite_filter_drop(l); /* keys written past it */
    sqlite3_finalize(l->raw[0]);
    sqlite3_finalize(l->raw[1]);
    l->raw[0] = l->raw[1] = NULL;
    if ((rc = sqlite3_prepare_v2(l->db, insert_sql[t], -1, &l->raw[0], NULL)) != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if (t == STORE_T_ARTICLES &&
        (rc = sqlite3_prepare_v2(l->db,
                                 "INSERT INTO articles_fts(rowid, title, body) VALUES(?1, ?2, ?3)",
                                 -1, &l->raw[1], NULL)) != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if (t == STORE_T_KEYS &&
        (rc = sqlite3_prepare_v2(l->db, BAND_INSERT, -1, &l->raw[1], NULL)) != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    return 0;
}

int
store_sqlite_raw_put(struct store *s, int t, const char *const *col)
{
    struct sqlite_store *l = sqlite_of(s);
    int rc;
    int64_t id = col[0] ? strtoll(col[0], NULL, 10) : 0;
    if (t == STORE_T_KEYS && id == KEY_BAND) {
        for (int i = 1; i < ncols[t]; i++)
            sqlite3_bind_text(l->raw[1], i + 1, col[i], -1, SQLITE_STATIC);
        return store_sqlite_exec(s, l->raw[1]);
    }
    for (int i = 0; i < ncols[t]; i++)
        if (t != STORE_T_ARTICLES || i != 16)
            sqlite3_bind_text(l->raw[0], i + 1, col[i], -1, SQLITE_STATIC);
    if (t == STORE_T_FEEDS || t == STORE_T_ARTICLES || t == STORE_T_TOMBSTONES ||
        t == STORE_T_HUB_SUBS)
        sqlite3_bind_int64(l->raw[0], 1, id); /* a rowid: an integer, not its text */
    if ((rc = store_sqlite_exec(s, l->raw[0])) < 0 || t != STORE_T_ARTICLES)
        return rc;
    sqlite3_bind_int64(l->raw[1], 1, id);
    sqlite3_bind_text(l->raw[1], 2, col[4], -1, SQLITE_STATIC);
    sqlite3_bind_text(l->raw[1], 3, col[16] ? col[16] : "", -1, SQLITE_STATIC);
    return store_sqlite_exec(s, l->raw[1]);
}

int
store_sqlite_raw_end(struct store *s, int t)
{
    struct sqlite_store *l = sqlite_of(s);
    int rc = 0;
    if (t == STORE_T_KEYS) {
        char *msg = NULL;
        if (sqlite3_exec(l->db, BAND_LISTS, NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(s->err, sizeof(s->err), "%s", msg ? msg : "out of memory");
            rc = -EIO;
        }
        sqlite3_free(msg);
    }
    sqlite3_finalize(l->raw[0]);
    sqlite3_finalize(l->raw[1]);
    l->raw[0] = l->raw[1] = NULL;
    return rc;
}

int
store_sqlite_raw_finish(struct store *s)
{
    sqlite3_stmt *st;
    /* new articles' ids past every id the copied keys name (tombstones'
     * above the newest article's too: Q_ART_INSERT) */
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "UPDATE meta SET value = max(value,"
                                " coalesce((SELECT max(article_id) FROM keys), 0),"
                                " coalesce((SELECT max(article_id) FROM tombstones), 0))"
                                " WHERE key = 'article_floor'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    rc = store_sqlite_exec(s, st);
    sqlite3_finalize(st);
    return rc < 0 ? rc : store_sqlite_exec(s, sqlite_of(s)->stmt[Q_GEN_BUMP]);
}
