/* store/sqlite_query.c — the SQLite backend's reading for output: the merged
 * feed with its filters (feed, category, full text through the FTS5 trigram
 * index), counts, the change generation; and retention's deletes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

/* FTS5's trigram tokenizer matches terms of at least 3 characters: those
 * become one MATCH of quoted strings, all required; shorter ones (two-
 * character Chinese words such as 长春) a LIKE each, '%' and '_' escaped. */
static char *
fts_query(char *const *terms, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(terms[i]) * 2 + 3;
    char *out = malloc(len), *w = out;
    if (out == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (store_term_chars(terms[i]) < 3)
            continue;
        if (w != out)
            *w++ = ' ';
        *w++ = '"';
        for (const char *p = terms[i]; *p; p++) {
            if (*p == '"')
                *w++ = '"';
            *w++ = *p;
        }
        *w++ = '"';
    }
    *w = '\0';
    return out;
}

/* Parameters: ?1 feed, ?2 category, ?3 MATCH text, ?4 id, ?5 limit, ?6… LIKE
 * patterns. The first source comes first in the sources array. */
static const char select_sql[] =
    "SELECT a.id, a.uid, a.title, a.link, a.guid, a.author, a.headimg, a.thumbnail,"
    " a.summary, a.body, a.categories,"
    " (SELECT json_group_array(name) FROM (SELECT f.name FROM sources x"
    "   JOIN feeds f ON f.id = x.feed_id JOIN articles b ON b.id = x.article_id"
    "   WHERE x.article_id = a.id ORDER BY x.feed_id <> b.feed_id, x.seen, f.id)),"
    " (SELECT name FROM feeds WHERE id = a.feed_id),"
    " a.comments, a.date, a.updated, a.first_seen, a.rejected_date"
    " FROM articles a WHERE a.republish = 1";

int
store_sqlite_articles(struct store *s, const struct store_query *q, char *const *terms, int nterms,
                      store_article_cb cb, void *arg)
{
    char sqlbuf[4096], *fq = NULL, *likes[STORE_MAX_TERMS] = {0};
    sqlite3_stmt *st = NULL;
    int nlike = 0, ret = -ENOMEM, rc;
    size_t len;
    if (nterms > 0 && (fq = fts_query(terms, nterms)) == NULL)
        goto out;
    len = (size_t)snprintf(sqlbuf, sizeof(sqlbuf), "%s%s%s%s%s%s", select_sql,
                           q->feed ? " AND a.id IN (SELECT x.article_id FROM sources x JOIN feeds f"
                                     " ON f.id = x.feed_id WHERE f.name = ?1)"
                                   : "",
                           q->category ? " AND EXISTS (SELECT 1 FROM json_each(a.categories)"
                                         " WHERE value = ?2)"
                                       : "",
                           fq && *fq ? " AND a.id IN (SELECT rowid FROM articles_fts"
                                       " WHERE articles_fts MATCH ?3)"
                                     : "",
                           q->id > 0 ? " AND a.id = ?4" : "",
                           q->changed_since > 0 ? " AND a.updated >= ?99" : "");
    for (int i = 0; i < nterms; i++) {
        if (store_term_chars(terms[i]) >= 3)
            continue;
        if ((likes[nlike] = store_like_pattern(terms[i])) == NULL)
            goto out;
        nlike++;
        len += (size_t)snprintf(sqlbuf + len, sizeof(sqlbuf) - len,
                                " AND a.id IN (SELECT rowid FROM articles_fts WHERE title"
                                " LIKE ?%d ESCAPE '\\' OR body LIKE ?%d ESCAPE '\\')",
                                5 + nlike, 5 + nlike);
    }
    snprintf(sqlbuf + len, sizeof(sqlbuf) - len, " ORDER BY a.date DESC, a.id DESC LIMIT ?5");
    if ((rc = sqlite3_prepare_v2(sqlite_of(s)->db, sqlbuf, -1, &st, NULL)) != SQLITE_OK) {
        ret = store_sqlite_fail(s, rc);
        goto out;
    }
    sqlite3_bind_text(st, 1, q->feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->category, -1, SQLITE_STATIC);
    if (fq && *fq)
        sqlite3_bind_text(st, 3, fq, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, q->id);
    if (q->changed_since > 0)
        sqlite3_bind_int64(st, 99, q->changed_since);
    sqlite3_bind_int64(st, 5, q->limit > 0 ? q->limit : 100);
    for (int i = 0; i < nlike; i++)
        sqlite3_bind_text(st, 6 + i, likes[i], -1, SQLITE_STATIC);
    ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_article a = {
            .id = sqlite3_column_int64(st, 0),
            .uid = (const char *)sqlite3_column_text(st, 1),
            .title = (const char *)sqlite3_column_text(st, 2),
            .link = (const char *)sqlite3_column_text(st, 3),
            .guid = (const char *)sqlite3_column_text(st, 4),
            .author = (const char *)sqlite3_column_text(st, 5),
            .headimg = (const char *)sqlite3_column_text(st, 6),
            .thumbnail = (const char *)sqlite3_column_text(st, 7),
            .summary = (const char *)sqlite3_column_text(st, 8),
            .body = (const char *)sqlite3_column_text(st, 9),
            .categories_json = (const char *)sqlite3_column_text(st, 10),
            .sources_json = (const char *)sqlite3_column_text(st, 11),
            .feed = (const char *)sqlite3_column_text(st, 12),
            .comments = sqlite3_column_int(st, 13),
            .date = sqlite3_column_int64(st, 14),
            .updated = sqlite3_column_int64(st, 15),
            .first_seen = sqlite3_column_int64(st, 16),
            .date_rejected = sqlite3_column_type(st, 17) != SQLITE_NULL,
            .rejected_date = sqlite3_column_int64(st, 17),
        };
        if ((ret = cb(arg, &a)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = store_sqlite_fail(s, rc);
out:
    sqlite3_finalize(st);
    for (int i = 0; i < nlike; i++)
        free(likes[i]);
    free(fq);
    return ret;
}

int
store_sqlite_generation(struct store *s, int64_t *gen)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, "SELECT value FROM meta WHERE key = 'generation'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
        if (rc >= 0)
            rc = -EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int
store_sqlite_count(struct store *s, int64_t feed_id, long *n)
{
    sqlite3_stmt *st;
    const char *q = feed_id > 0 ? "SELECT count(*) FROM sources WHERE feed_id = ?1"
                                : "SELECT count(*) FROM articles";
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if (feed_id > 0)
        sqlite3_bind_int64(st, 1, feed_id);
    rc = sqlite3_step(st);
    int e = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    if (rc == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return e;
}

/* ---- retention ---- */

int
store_sqlite_prune(struct store *s, int64_t cutoff, int64_t fresh, int64_t window, long *deleted)
{
#define PRUNABLE "SELECT id FROM articles WHERE date < ?1 AND first_seen < ?3"
    static const char *const steps[] = {
        "DELETE FROM articles_fts WHERE rowid IN (" PRUNABLE ")",
        "DELETE FROM sources WHERE article_id IN (" PRUNABLE ")",
        "DELETE FROM articles WHERE id IN (" PRUNABLE ")",
        /* guid and link keys stay as tombstones; title and body keys only
         * matter inside their 48/72 h windows */
        "DELETE FROM keys WHERE kind IN (3, 4) AND at < ?1 - ?2"
        " AND article_id NOT IN (SELECT id FROM articles)",
    };
#undef PRUNABLE
    sqlite3 *db = sqlite_of(s)->db;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db, steps[i], -1, &st, NULL);
        if (rc != SQLITE_OK)
            return store_sqlite_fail(s, rc);
        sqlite3_bind_int64(st, 1, cutoff);
        if (i == 3)
            sqlite3_bind_int64(st, 2, window);
        else
            sqlite3_bind_int64(st, 3, fresh);
        rc = sqlite3_step(st);
        if (i == 2)
            *deleted = sqlite3_changes(db);
        if (rc != SQLITE_DONE) {
            rc = store_sqlite_fail(s, rc);
            sqlite3_finalize(st);
            return rc;
        }
        sqlite3_finalize(st);
    }
    return 0;
}
