/* store/store_query.c — reading the store for output: the merged feed with
 * its filters (feed, category, full text), counts, the change generation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define MAX_TERMS 16

/* The words of a search text: split at white space (ASCII and U+3000),
 * pointers into `buf` (a copy the caller frees). Returns the count, or -1
 * for more than MAX_TERMS words. */
static int
split_terms(char *buf, char *terms[MAX_TERMS])
{
    int n = 0;
    char *p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
               (p[0] == '\xe3' && p[1] == '\x80' && p[2] == '\x80'))
            p += *p == '\xe3' ? 3 : 1;
        if (*p == '\0')
            return n;
        if (n == MAX_TERMS)
            return -1;
        terms[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
               !(p[0] == '\xe3' && p[1] == '\x80' && p[2] == '\x80'))
            p++;
        if (*p != '\0') {
            int skip = *p == '\xe3' ? 3 : 1;
            *p = '\0';
            p += skip;
        }
    }
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

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
        if (utf8_chars(terms[i]) < 3)
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

static char *
like_pattern(const char *term)
{
    char *out = malloc(strlen(term) * 2 + 3), *w = out;
    if (out == NULL)
        return NULL;
    *w++ = '%';
    for (const char *p = term; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            *w++ = '\\';
        *w++ = *p;
    }
    *w++ = '%';
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
store_articles(struct store *s, const struct store_query *q, store_article_cb cb, void *arg)
{
    static const struct store_query all = {0};
    char sqlbuf[4096], *terms[MAX_TERMS], *text = NULL, *fq = NULL, *likes[MAX_TERMS] = {0};
    sqlite3_stmt *st = NULL;
    int nterms = 0, nlike = 0, ret = -ENOMEM, rc;
    size_t len;
    if (q == NULL)
        q = &all;
    if (q->text != NULL) {
        if ((text = strdup(q->text)) == NULL)
            goto out;
        if ((nterms = split_terms(text, terms)) < 0) {
            snprintf(s->err, sizeof(s->err), "more than %d search words", MAX_TERMS);
            ret = -EINVAL;
            goto out;
        }
        if ((fq = fts_query(terms, nterms)) == NULL)
            goto out;
    }
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
        if (utf8_chars(terms[i]) >= 3)
            continue;
        if ((likes[nlike] = like_pattern(terms[i])) == NULL)
            goto out;
        nlike++;
        len += (size_t)snprintf(sqlbuf + len, sizeof(sqlbuf) - len,
                                " AND a.id IN (SELECT rowid FROM articles_fts WHERE title"
                                " LIKE ?%d ESCAPE '\\' OR body LIKE ?%d ESCAPE '\\')",
                                5 + nlike, 5 + nlike);
    }
    snprintf(sqlbuf + len, sizeof(sqlbuf) - len, " ORDER BY a.date DESC, a.id DESC LIMIT ?5");
    if ((rc = sqlite3_prepare_v2(s->db, sqlbuf, -1, &st, NULL)) != SQLITE_OK) {
        ret = store_fail(s, rc);
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
        ret = store_fail(s, rc);
out:
    sqlite3_finalize(st);
    for (int i = 0; i < nlike; i++)
        free(likes[i]);
    free(fq);
    free(text);
    return ret;
}

int64_t
store_generation(struct store *s)
{
    sqlite3_stmt *st;
    int64_t g = -EIO;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'generation'", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        g = store_fail(s, rc);
        return g < 0 ? g : -EIO;
    }
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g = sqlite3_column_int64(st, 0);
    else if ((g = store_fail(s, rc)) >= 0)
        g = -EIO; /* no row */
    sqlite3_finalize(st);
    return g;
}

int
store_count(struct store *s, int64_t feed_id, long *n)
{
    sqlite3_stmt *st;
    const char *q = feed_id > 0 ? "SELECT count(*) FROM sources WHERE feed_id = ?1"
                                : "SELECT count(*) FROM articles";
    int rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);
    *n = 0;
    if (rc != SQLITE_OK)
        return store_fail(s, rc);
    if (feed_id > 0)
        sqlite3_bind_int64(st, 1, feed_id);
    rc = sqlite3_step(st);
    int e = rc == SQLITE_ROW ? 0 : store_fail(s, rc);
    if (rc == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return e;
}
