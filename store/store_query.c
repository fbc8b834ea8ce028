/* store/store_query.c — reading the store for output: the merged feed with
 * its filters (feed, category, full text), counts, the change generation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* FTS5 trigram needs terms of at least 3 characters; shorter ones (two-
 * character Chinese words such as 长春) fall back to a LIKE scan. */
static int
short_terms(const char *q)
{
    const unsigned char *p = (const unsigned char *)q;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t chars = 0;
        while (*p && *p != ' ') {
            if ((*p & 0xC0) != 0x80)
                chars++;
            p++;
        }
        if (chars > 0 && chars < 3)
            return 1;
    }
    return 0;
}

/* The FTS5 query for user text: every word quoted, all required. */
static char *
fts_query(const char *q)
{
    size_t n = strlen(q);
    char *out = malloc(n * 2 + 8), *w = out;
    if (out == NULL)
        return NULL;
    const char *p = q;
    while (*p) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (w != out)
            *w++ = ' ';
        *w++ = '"';
        while (*p && *p != ' ') {
            if (*p == '"')
                *w++ = '"';
            *w++ = *p++;
        }
        *w++ = '"';
    }
    *w = '\0';
    return out;
}

int
store_articles(struct store *s, const struct store_query *q, store_article_cb cb, void *arg)
{
    char sqlbuf[2048];
    sqlite3_stmt *st = NULL;
    char *fq = NULL, *like = NULL;
    int rc;
    int use_like = q->text != NULL && *q->text && short_terms(q->text);
    snprintf(sqlbuf, sizeof(sqlbuf),
             "SELECT a.id, a.uid, a.title, a.link, a.guid, a.author, a.headimg, a.thumbnail,"
             " a.summary, a.body, a.categories,"
             " (SELECT json_group_array(name) FROM (SELECT f.name FROM sources x"
             "   JOIN feeds f ON f.id = x.feed_id WHERE x.article_id = a.id ORDER BY x.seen, f.id)),"
             " (SELECT name FROM feeds WHERE id = a.feed_id),"
             " a.comments, a.date, a.updated, a.first_seen"
             " FROM articles a WHERE a.republish = 1%s%s%s%s"
             " ORDER BY a.date DESC, a.id DESC LIMIT ?5",
             q->feed ? " AND a.id IN (SELECT x.article_id FROM sources x JOIN feeds f"
                       " ON f.id = x.feed_id WHERE f.name = ?1)"
                     : "",
             q->category ? " AND EXISTS (SELECT 1 FROM json_each(a.categories)"
                           " WHERE value = ?2)"
                         : "",
             q->text && *q->text
                 ? (use_like ? " AND a.id IN (SELECT rowid FROM articles_fts"
                               " WHERE title LIKE ?3 OR body LIKE ?3)"
                             : " AND a.id IN (SELECT rowid FROM articles_fts"
                               " WHERE articles_fts MATCH ?3)")
                 : "",
             q->id > 0 ? " AND a.id = ?4" : "");
    if ((rc = sqlite3_prepare_v2(s->db, sqlbuf, -1, &st, NULL)) != SQLITE_OK)
        return -EIO + 0 * snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
    sqlite3_bind_text(st, 1, q->feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->category, -1, SQLITE_STATIC);
    if (q->text && *q->text) {
        if (use_like) {
            size_t n = strlen(q->text);
            if ((like = malloc(n + 3)) == NULL) {
                sqlite3_finalize(st);
                return -ENOMEM;
            }
            snprintf(like, n + 3, "%%%s%%", q->text);
            sqlite3_bind_text(st, 3, like, -1, SQLITE_STATIC);
        } else {
            if ((fq = fts_query(q->text)) == NULL) {
                sqlite3_finalize(st);
                return -ENOMEM;
            }
            sqlite3_bind_text(st, 3, fq, -1, SQLITE_STATIC);
        }
    }
    sqlite3_bind_int64(st, 4, q->id);
    sqlite3_bind_int64(st, 5, q->limit > 0 ? q->limit : 100);
    int ret = 0;
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
        };
        if ((ret = cb(arg, &a)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
        ret = -EIO;
    }
    sqlite3_finalize(st);
    free(fq);
    free(like);
    return ret;
}

int64_t
store_generation(struct store *s)
{
    sqlite3_stmt *st;
    int64_t g = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'generation'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        g = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return g;
}

int
store_count(struct store *s, int64_t feed_id, long *n)
{
    sqlite3_stmt *st;
    const char *q = feed_id > 0 ? "SELECT count(*) FROM sources WHERE feed_id = ?1"
                                : "SELECT count(*) FROM articles";
    if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK) {
        snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
        return -EIO;
    }
    sqlite3_bind_int64(st, 1, feed_id);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -EIO;
}
