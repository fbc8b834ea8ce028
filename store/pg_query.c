/* store/pg_query.c — the PostgreSQL backend's reading for output: the merged
 * feed with its filters (feed, category, full text through the pg_trgm
 * index), counts, the change generation; retention's deletes (articles
 * pruned, tombstones expired, a batch at a time); the feeds
 * table and its fetch state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* The text a search reads: title and body text, kept apart by a space (a
 * word has none, so it never matches across the two). The same expression
 * as the articles_search index, or the index is not used. */
#define SEARCHED "(a.title || ' ' || a.body_text)"

/* The first source comes first in the sources array; compact JSON, as
 * SQLite's json_group_array writes it. */
static const char select_sql[] =
    "SELECT a.id, a.uid, a.title, a.link, a.guid, a.author, a.headimg, a.thumbnail,"
    " a.summary, a.body, a.categories,"
    " (SELECT coalesce('[' || string_agg(to_json(f.name)::text, ','"
    "   ORDER BY x.feed_id <> a.feed_id, x.seen, f.id) || ']', '[]')"
    "   FROM sources x JOIN feeds f ON f.id = x.feed_id WHERE x.article_id = a.id),"
    " (SELECT name FROM feeds WHERE id = a.feed_id),"
    " a.comments, a.date, a.updated, a.first_seen, a.rejected_date"
    " FROM articles a WHERE a.republish";

static const char *
col(const PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
}

int
store_pg_articles(struct store *s, const struct store_query *q, char *const *terms, int nterms,
                  store_article_cb cb, void *arg)
{
    PGconn *conn = pg_of(s)->conn;
    struct pg_params p = {0};
    char sql[4096], *likes[STORE_MAX_TERMS] = {0};
    int nlike = 0, ret = 0;
    size_t len = (size_t)snprintf(sql, sizeof(sql), "%s", select_sql);
#define ADD(...) (len += (size_t)snprintf(sql + len, sizeof(sql) - len, __VA_ARGS__))
    if (q->feed != NULL) {
        store_pg_text(&p, q->feed);
        ADD(" AND a.id IN (SELECT x.article_id FROM sources x JOIN feeds f ON f.id = x.feed_id"
            " WHERE f.name = $%d)",
            p.n);
    }
    if (q->category != NULL) {
        store_pg_text(&p, q->category);
        ADD(" AND a.categories::jsonb ? $%d", p.n);
    }
    for (int i = 0; i < nterms; i++) {
        if (store_term_chars(terms[i]) >= 3) {
            /* trigrams: through the GIN index */
            if ((likes[nlike] = store_like_pattern(terms[i])) == NULL) {
                ret = -ENOMEM;
                goto out;
            }
            store_pg_text(&p, likes[nlike++]);
            ADD(" AND " SEARCHED " ILIKE $%d", p.n);
        } else {
            /* one or two characters have no trigram: a scan of the rows the
             * other conditions leave (strpos is never an index condition) */
            store_pg_text(&p, terms[i]);
            ADD(" AND strpos(lower" SEARCHED ", lower($%d)) > 0", p.n);
        }
    }
    if (q->id > 0) {
        store_pg_int(&p, q->id);
        ADD(" AND a.id = $%d", p.n);
    }
    if (q->changed_since > 0) {
        store_pg_int(&p, q->changed_since);
        ADD(" AND a.updated >= $%d", p.n);
    }
    store_pg_int(&p, q->limit > 0 ? q->limit : 100);
    ADD(" ORDER BY a.date DESC, a.id DESC LIMIT $%d", p.n);
#undef ADD
    if (len >= sizeof(sql)) {
        snprintf(s->err, sizeof(s->err), "query too long");
        ret = -EINVAL;
        goto out;
    }
    if ((ret = store_pg_ready(s)) < 0)
        goto out;
    /* row by row: an export of every article never holds them all */
    if (!PQsendQueryParams(conn, sql, p.n, NULL, p.v, NULL, NULL, 0) ||
        !PQsetSingleRowMode(conn)) {
        ret = store_pg_fail(s, NULL);
        goto out;
    }
    for (PGresult *res; (res = PQgetResult(conn)) != NULL;) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && ret == 0) {
            struct store_article a = {
                .id = store_pg_int64(res, 0, 0),
                .uid = col(res, 1),
                .title = col(res, 2),
                .link = col(res, 3),
                .guid = col(res, 4),
                .author = col(res, 5),
                .headimg = col(res, 6),
                .thumbnail = col(res, 7),
                .summary = col(res, 8),
                .body = col(res, 9),
                .categories_json = col(res, 10),
                .sources_json = col(res, 11),
                .feed = col(res, 12),
                .comments = (int)store_pg_int64(res, 0, 13),
                .date = store_pg_int64(res, 0, 14),
                .updated = store_pg_int64(res, 0, 15),
                .first_seen = store_pg_int64(res, 0, 16),
                .date_rejected = !PQgetisnull(res, 0, 17),
                .rejected_date = store_pg_int64(res, 0, 17),
            };
            ret = cb(arg, &a); /* non-zero: the rest is read and dropped */
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && ret == 0) {
            ret = store_pg_fail(s, res);
            continue;
        }
        PQclear(res);
    }
out:
    for (int i = 0; i < nlike; i++)
        free(likes[i]);
    return ret;
}

int
store_pg_generation(struct store *s, int64_t *gen)
{
    int rc;
    PGresult *res = store_pg_run(s, P_GENERATION, NULL, &rc);
    if (res == NULL)
        return rc;
    *gen = store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

int
store_pg_count(struct store *s, int64_t feed_id, long *n)
{
    struct pg_params p = {0};
    int rc;
    if (feed_id > 0)
        store_pg_int(&p, feed_id);
    PGresult *res = store_pg_exec(s,
                                  feed_id > 0 ? "SELECT count(*) FROM sources WHERE feed_id = $1"
                                              : "SELECT count(*) FROM articles",
                                  &p, &rc);
    if (res == NULL)
        return rc;
    *n = (long)store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

/* ---- retention ---- */

int
store_pg_prune(struct store *s, int64_t cutoff, int64_t fresh, int64_t now, long max,
               long *deleted)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, cutoff);
    store_pg_int(&p, fresh);
    store_pg_int(&p, max);
    store_pg_int(&p, now);
    /* rows another node is pruning, or an ingest is writing, are skipped:
     * nobody waits for a batch. Rules 3 and 4 compare live articles only:
     * title and body keys go; the exact keys, feed-title and column keys
     * stay, the tombstone. The identity sequence hands out no id twice. */
    PGresult *res = store_pg_exec(s,
                                  "WITH gone AS (DELETE FROM articles WHERE id IN"
                                  "  (SELECT id FROM articles WHERE date < $1 AND first_seen < $2"
                                  "   ORDER BY date LIMIT $3 FOR UPDATE SKIP LOCKED)"
                                  "  RETURNING id),"
                                  " src AS (DELETE FROM sources"
                                  "  WHERE article_id IN (SELECT id FROM gone)),"
                                  " k AS (DELETE FROM keys WHERE kind IN (3, 4)"
                                  "  AND article_id IN (SELECT id FROM gone)),"
                                  " t AS (INSERT INTO tombstones(article_id, seen)"
                                  "  SELECT id, $4 FROM gone ON CONFLICT(article_id) DO UPDATE"
                                  "  SET seen = greatest(tombstones.seen, excluded.seen))"
                                  " SELECT count(*) FROM gone",
                                  &p, &rc);
    if (res == NULL)
        return rc;
    *deleted = (long)store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

int
store_pg_tomb_prune(struct store *s, int64_t before, long max, long *deleted)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, before);
    store_pg_int(&p, max);
    /* a tombstone an ingest is refreshing is locked: skipped, it lives on */
    PGresult *res = store_pg_exec(s,
                                  "WITH t AS (SELECT article_id FROM tombstones x"
                                  "  WHERE seen < $1 AND NOT EXISTS"
                                  "  (SELECT 1 FROM articles a WHERE a.id = x.article_id)"
                                  "  ORDER BY seen LIMIT $2 FOR UPDATE SKIP LOCKED),"
                                  " k AS (DELETE FROM keys WHERE kind <> 6"
                                  "  AND article_id IN (SELECT article_id FROM t)),"
                                  " d AS (DELETE FROM tombstones"
                                  "  WHERE article_id IN (SELECT article_id FROM t) RETURNING 1)"
                                  " SELECT count(*) FROM d",
                                  &p, &rc);
    if (res == NULL)
        return rc;
    *deleted = (long)store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

/* ---- feeds ---- */

int
store_pg_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id)
{
    struct pg_params p = {0};
    int rc;
    store_pg_text(&p, name);
    store_pg_text(&p, url);
    PGresult *res = store_pg_run(s, P_FEED_ENSURE, &p, &rc);
    if (res == NULL)
        return rc;
    *id = store_pg_int64(res, 0, 0);
    PQclear(res);
    return 0;
}

static char *
dup_col(const PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? NULL : strdup(PQgetvalue(res, 0, c));
}

int
store_pg_feed_state_get(struct store *s, int64_t feed_id, struct store_feed_state *out)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, feed_id);
    PGresult *res = store_pg_run(s, P_FEED_GET, &p, &rc);
    if (res == NULL)
        return rc;
    if (PQntuples(res) == 1) {
        out->url = dup_col(res, 0);
        out->etag = dup_col(res, 1);
        out->last_modified = dup_col(res, 2);
        out->status = dup_col(res, 3);
        out->error = dup_col(res, 4);
        out->last_fetch = store_pg_int64(res, 0, 5);
        out->next_fetch = store_pg_int64(res, 0, 6);
        out->newest = store_pg_int64(res, 0, 7);
        out->http = (long)store_pg_int64(res, 0, 8);
        out->errors = (long)store_pg_int64(res, 0, 9);
        out->enabled = PQgetvalue(res, 0, 10)[0] == 't';
        out->first_ok = store_pg_int64(res, 0, 11);
        out->next_why = dup_col(res, 12);
        out->lag_median = store_pg_int64(res, 0, 13);
        out->lag_n = (long)store_pg_int64(res, 0, 14);
    }
    PQclear(res);
    return 0;
}

int
store_pg_feed_state_set(struct store *s, int64_t feed_id, const struct store_feed_state *in)
{
    struct pg_params p = {0};
    store_pg_int(&p, feed_id);
    store_pg_text(&p, in->url);
    store_pg_text(&p, in->etag);
    store_pg_text(&p, in->last_modified);
    store_pg_text(&p, in->status);
    store_pg_text(&p, in->error);
    store_pg_int(&p, in->last_fetch);
    store_pg_int(&p, in->next_fetch);
    store_pg_int(&p, in->newest);
    store_pg_int(&p, in->http);
    store_pg_int(&p, in->errors);
    store_pg_text(&p, in->enabled ? "t" : "f");
    store_pg_int(&p, in->first_ok);
    store_pg_text(&p, in->next_why);
    store_pg_int(&p, in->lag_median);
    store_pg_int(&p, in->lag_n);
    return store_pg_cmd(s, P_FEED_SET, &p, NULL);
}

int
store_pg_feed_items(struct store *s, int64_t feed_id, struct store_feed_item *out, size_t max,
                    size_t *n, int64_t *first_ok)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, feed_id);
    store_pg_int(&p, (int64_t)max);
    /* backwards along sources_feed (feed_id, article_id): the newest rows
     * first, LIMIT rows read at most; the feed's row joined once, even
     * without an item */
    PGresult *res = store_pg_exec(s,
                                  "SELECT coalesce(f.first_ok, 0), i.date, i.first_seen,"
                                  " i.believed::int, i.first_source::int FROM feeds f"
                                  " LEFT JOIN LATERAL (SELECT a.date, a.first_seen,"
                                  "  a.rejected_date IS NULL AND a.date <> a.first_seen"
                                  "  AS believed,"
                                  "  a.feed_id = f.id AS first_source, src.article_id"
                                  "  FROM sources src JOIN articles a ON a.id = src.article_id"
                                  "  WHERE src.feed_id = f.id ORDER BY src.article_id DESC"
                                  "  LIMIT $2::bigint) i ON true"
                                  " WHERE f.id = $1 ORDER BY i.article_id DESC",
                                  &p, &rc);
    if (res == NULL)
        return rc;
    for (int r = 0; r < PQntuples(res) && *n < max; r++) {
        *first_ok = store_pg_int64(res, r, 0);
        if (PQgetisnull(res, r, 1))
            continue; /* the feed without an item */
        struct store_feed_item *it = &out[(*n)++];
        it->date = store_pg_int64(res, r, 1);
        it->first_seen = store_pg_int64(res, r, 2);
        it->believed = store_pg_int64(res, r, 3) != 0;
        it->first_source = store_pg_int64(res, r, 4) != 0;
    }
    PQclear(res);
    return 0;
}
