/* store/pg_ops.c — the PostgreSQL backend's primitives: transactions, the
 * dedup keys (exact keys written once with ON CONFLICT DO NOTHING), articles
 * with their search text, sources; the prepared statements' SQL; the ops
 * table the shared code calls. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* Lookups prefer a live article over a tombstone (a pruned article's keys). */
const char *const store_pg_sql[P_COUNT] = {
    [P_KEY_FIND] = "SELECT k.article_id, a.id IS NOT NULL FROM keys k"
                   " LEFT JOIN articles a ON a.id = k.article_id"
                   " WHERE k.kind = $1 AND k.key = $2 ORDER BY a.id IS NULL LIMIT 1",
    [P_KEY_FIND_NEAR] = "SELECT k.article_id, a.id IS NOT NULL FROM keys k"
                        " LEFT JOIN articles a ON a.id = k.article_id"
                        " WHERE k.kind = $1 AND k.key = $2 AND k.at BETWEEN $3 AND $4"
                        " ORDER BY a.id IS NULL LIMIT 1",
    [P_KEY_LIVE] = "SELECT k.article_id FROM keys k JOIN articles a ON a.id = k.article_id"
                   " WHERE k.kind = $1 AND k.key = $2 AND k.at BETWEEN $3 AND $4"
                   " GROUP BY k.article_id ORDER BY min(k.at), k.article_id LIMIT $5",
    /* P_KEY_FIND (live false: tombstones too, live first) or P_KEY_LIVE
     * (live true) of up to three keys, each (kind, key, lo, hi, live, max),
     * a NULL key for none, by its number. Scalar parameters, not arrays: the
     * generic plan then costs what a custom one does, and is kept (arrays
     * made the server plan the statement anew at each call); one LATERAL
     * subquery run for each, not a UNION of three: the executor sets one
     * plan up, not three (its start-up was a tenth of the server's time) */
    [P_KEY_LOOKUP] = "SELECT b.n, c.*, NULL::text FROM (VALUES (1, $1::smallint, $2::text,"
                     "  $3::bigint, $4::bigint, $5::boolean, $6::bigint),"
                     "  (2, $7, $8, $9, $10, $11, $12), (3, $13, $14, $15, $16, $17, $18))"
                     "  AS b(n, kind, key, lo, hi, live, max)"
                     " CROSS JOIN LATERAL (SELECT k.article_id, bool_or(a.id IS NOT NULL) AS alive,"
                     "  min(k.at) AS at FROM keys k LEFT JOIN articles a ON a.id = k.article_id"
                     "  WHERE k.kind = b.kind AND k.key = b.key AND k.at BETWEEN b.lo AND b.hi"
                     "  AND (NOT b.live OR a.id IS NOT NULL) GROUP BY k.article_id"
                     "  ORDER BY 2 DESC, 3, 1 LIMIT b.max) c"
                     /* and P_KEY_RANGE's keys ($19 … $22; a NULL kind for none) as
                      * lookup 4: one statement less an article */
                     " UNION ALL SELECT 4, NULL, NULL, NULL, r.key FROM (SELECT DISTINCT key"
                     "  FROM keys WHERE kind = $19::smallint AND key >= $20::text"
                     "  AND key < $21::text LIMIT $22::bigint) r"
                     " ORDER BY 1, 3 DESC, 4, 2, 5",
    /* P_KEY_LIVE for each key, in the keys' order; LATERAL with LIMIT keeps
     * it an index lookup a key whatever the generic plan thinks of the table */
    [P_KEY_LIVE_MANY] = "SELECT c.article_id"
                        " FROM unnest($1::smallint[], $2::text[]) WITH ORDINALITY AS b(kind, key, ord)"
                        " CROSS JOIN LATERAL (SELECT k.article_id, min(k.at) AS at"
                        "  FROM keys k JOIN articles a ON a.id = k.article_id"
                        "  WHERE k.kind = b.kind AND k.key = b.key AND k.at BETWEEN $3 AND $4"
                        "  GROUP BY k.article_id ORDER BY min(k.at), k.article_id LIMIT $5) c"
                        " ORDER BY b.ord, c.at, c.article_id",
    /* an article's keys in one statement: one round trip, not twenty */
    [P_KEYS_ADD] = "INSERT INTO keys(kind, key, article_id, at)"
                   " SELECT k.kind, k.key, $4, $5"
                   " FROM unnest($1::smallint[], $2::text[], $3::boolean[]) AS k(kind, key, only_new)"
                   /* a scalar subquery, not EXISTS: the generic plan made on a
                    * near-empty table hashed an EXISTS over a scan of all keys,
                    * and kept it (one scan of the table per duplicate) */
                   " WHERE NOT k.only_new OR (SELECT true FROM keys x"
                   "  WHERE x.kind = k.kind AND x.key = k.key AND x.article_id = $4 LIMIT 1)"
                   "  IS NULL"
                   " ON CONFLICT DO NOTHING",
    /* P_KEYS_ADD of up to KEYS_FEW keys, each (kind, key, only_new), a NULL
     * key for none, then article_id, at: scalar parameters, so that the
     * server keeps one generic plan (the arrays' was planned anew at every
     * call: a duplicate's keys) */
    [P_KEYS_ADD_FEW] = "INSERT INTO keys(kind, key, article_id, at)"
                       " SELECT k.kind, k.key, $16, $17"
                       " FROM (VALUES ($1::smallint, $2::text, $3::boolean), ($4, $5, $6),"
                       "  ($7, $8, $9), ($10, $11, $12), ($13, $14, $15)) AS k(kind, key, only_new)"
                       " WHERE k.key IS NOT NULL AND (NOT k.only_new OR (SELECT true FROM keys x"
                       "  WHERE x.kind = k.kind AND x.key = k.key AND x.article_id = $16 LIMIT 1)"
                       "  IS NULL)"
                       " ON CONFLICT DO NOTHING",
    /* P_KEY_FIND and P_ART_GET of each key, by its number (none: not
     * found); LATERAL with LIMIT keeps it an index lookup a key */
    [P_GUID_FIND] = "SELECT b.ord, f.article_id, f.alive, a.content_hash, a.feed_id"
                    " FROM unnest($2::text[]) WITH ORDINALITY AS b(key, ord)"
                    " CROSS JOIN LATERAL (SELECT k.article_id, a.id IS NOT NULL AS alive"
                    "  FROM keys k LEFT JOIN articles a ON a.id = k.article_id"
                    "  WHERE k.kind = $1 AND k.key = b.key ORDER BY a.id IS NULL LIMIT 1) f"
                    " LEFT JOIN articles a ON a.id = f.article_id",
    [P_KEY_RANGE] = "SELECT DISTINCT key FROM keys WHERE kind = $1 AND key >= $2 AND key < $3"
                    " LIMIT $4",
    [P_ART_GET] = "SELECT content_hash, feed_id FROM articles WHERE id = $1",
    [P_ART_TEXT] = "SELECT body_text FROM articles WHERE id = $1",
    /* a new article, its first source and its keys: one round trip, not three
     * (data-modifying WITHs run whether read or not) */
    [P_ART_ADD] = "WITH a AS (INSERT INTO articles(uid, feed_id, guid, title, link, author,"
                  "  categories, date, updated, first_seen, headimg, thumbnail, comments, summary,"
                  "  body, content_hash, republish, rejected_date, body_text)"
                  "  VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14,"
                  "  $15, $16, $17, $18) RETURNING id),"
                  " s AS (INSERT INTO sources(article_id, feed_id, seen) SELECT id, $2, $9 FROM a"
                  "  ON CONFLICT DO NOTHING),"
                  /* an exact key another node wrote first is not written:
                   * counted, the caller then undoes the article (P_ART_UNDO) */
                  " k AS (INSERT INTO keys(kind, key, article_id, at) SELECT k.kind, k.key, a.id, $21"
                  "  FROM a, unnest($19::smallint[], $20::text[]) AS k(kind, key)"
                  "  ON CONFLICT DO NOTHING RETURNING kind)"
                  " SELECT id, (SELECT count(*) FROM k WHERE kind IN (1, 2)) FROM a",
    [P_ART_UPDATE] = "UPDATE articles SET title = $2, link = $3, author = $4, categories = $5,"
                     " headimg = $6, thumbnail = $7, summary = $8, body = $9,"
                     " content_hash = $10, updated = $11, body_text = $12 WHERE id = $1",
    /* a source and, with $4, the article shown: one round trip; the rows
     * either changed */
    [P_SRC_ADD] = "WITH s AS (INSERT INTO sources(article_id, feed_id, seen) VALUES($1, $2, $3)"
                  "  ON CONFLICT DO NOTHING RETURNING 1),"
                  " r AS (UPDATE articles SET republish = true"
                  "  WHERE $4 AND id = $1 AND NOT republish RETURNING 1)"
                  " SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM r)",
    [P_GEN_BUMP] = "SELECT nextval('generation')",
    /* a sequence not yet called reads its start value: count that as 0 */
    [P_GENERATION] = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM generation",
    [P_FEED_ENSURE] = "INSERT INTO feeds(name, url, config_url, host)"
                      " VALUES($1, $2, $2, finfeed_host($2))"
                      " ON CONFLICT(name) DO UPDATE SET"
                      /* a moved feed keeps its new URL while the configured
                       * one stays the same (SPEC §6) */
                      "  url = CASE WHEN $2::text IS NULL"
                      "   OR feeds.config_url IS NOT DISTINCT FROM $2::text THEN feeds.url"
                      "   ELSE $2::text END,"
                      "  host = finfeed_host(CASE WHEN $2::text IS NULL"
                      "   OR feeds.config_url IS NOT DISTINCT FROM $2::text THEN feeds.url"
                      "   ELSE $2::text END),"
                      "  config_url = coalesce($2::text, feeds.config_url)"
                      " RETURNING id",
    [P_FEED_GET] = "SELECT url, etag, last_modified, last_status, error, last_fetch,"
                   " next_fetch, newest, http, errors, enabled, first_ok, next_why, lag_median,"
                   " lag_n FROM feeds WHERE id = $1",
    [P_FEED_SET] = "UPDATE feeds SET url = coalesce($2, url),"
                   " host = coalesce(finfeed_host($2), host), etag = $3,"
                   " last_modified = $4, last_status = $5, error = $6,"
                   " last_fetch = $7, next_fetch = $8, newest = $9, http = $10,"
                   " errors = $11, enabled = $12,"
                   " first_ok = coalesce(first_ok, nullif($13::bigint, 0)), next_why = $14,"
                   " lag_median = $15, lag_n = $16 WHERE id = $1",
    /* LOCKS_MAX keys, sorted (every node takes its locks in one order: the
     * select list runs left to right), the last repeated to fill; scalar
     * parameters, not an array: unnest and an aggregate cost the server a
     * tenth of an ingest */
    [P_LOCK_KEYS] = "SELECT pg_advisory_xact_lock($1), pg_advisory_xact_lock($2),"
                    " pg_advisory_xact_lock($3), pg_advisory_xact_lock($4),"
                    " pg_advisory_xact_lock($5), pg_advisory_xact_lock($6),"
                    " pg_advisory_xact_lock($7), pg_advisory_xact_lock($8),"
                    " pg_advisory_xact_lock($9), pg_advisory_xact_lock($10),"
                    " pg_advisory_xact_lock($11), pg_advisory_xact_lock($12),"
                    " pg_advisory_xact_lock($13), pg_advisory_xact_lock($14),"
                    " pg_advisory_xact_lock($15), pg_advisory_xact_lock($16),"
                    " pg_advisory_xact_lock($17)",
    [P_COMMIT] = "COMMIT",
    [P_BEGIN] = "BEGIN",
    [P_ART_UNDO] = "WITH a AS (DELETE FROM articles WHERE id = $1),"
                   " s AS (DELETE FROM sources WHERE article_id = $1)"
                   " DELETE FROM keys WHERE article_id = $1",
    /* made again when another node expired it meanwhile (its insert then
     * waits for that node's commit): the keys added next are tracked */
    [P_TOMB_SEEN] = "INSERT INTO tombstones(article_id, seen) VALUES($1, $2)"
                    " ON CONFLICT(article_id) DO UPDATE SET seen = excluded.seen"
                    " WHERE tombstones.seen <= excluded.seen - $3::bigint",
    /* ON CONFLICT DO UPDATE locks the row even when its WHERE is false:
     * here the row is read first and locked only when written */
    [P_TOMB_TOUCH] = "WITH u AS (UPDATE tombstones SET seen = $2"
                     "  WHERE article_id = $1 AND seen <= $2::bigint - $3::bigint)"
                     " INSERT INTO tombstones(article_id, seen) SELECT $1, $2"
                     " WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE article_id = $1)"
                     " ON CONFLICT(article_id) DO NOTHING",
};

static void
pg_close(struct store *s)
{
    if (s == NULL)
        return;
    PQfinish(pg_of(s)->conn);
    free(pg_of(s));
}

/* ---- transactions ---- */

static int
pg_begin(struct store *s)
{
    static const struct pg_params none = {0};
    pg_of(s)->bump = 0;
    pg_of(s)->lost_tx = 0;
    /* with the transaction's first round trip, not one of its own (a
     * broken connection known now is made anew first; one found broken by
     * that round trip, store_pg_begin_alone) */
    return store_pg_ahead(s, P_BEGIN, &none, -1);
}

static int
pg_gen_bump(struct store *s)
{
    pg_of(s)->bump = 1;
    return 0;
}

static int
pg_commit(struct store *s)
{
    static const struct pg_params none = {0};
    /* the generation after the commit, never before: a reader that sees
     * the new generation must see the articles too (a sequence is outside
     * transactions); in the commit's round trip, with the results of the
     * statements sent ahead: a failed COMMIT aborts the rest of the
     * pipeline, the bump with it */
    struct piped q[2] = {{P_COMMIT, &none, 0, NULL}, {P_GEN_BUMP, &none, 0, NULL}};
    int known = pg_of(s)->bump;
    int rc = store_pg_pipeline(s, q, known ? 2 : 1);
    /* a source a statement sent ahead added, found out in that round
     * trip: the bump after the commit, in one of its own */
    if (rc == 0 && !known && pg_of(s)->bump)
        rc = store_pg_cmd(s, P_GEN_BUMP, NULL, NULL);
    if (rc == 0)
        pg_of(s)->bump = 0;
    return rc;
}

static void
pg_rollback(struct store *s)
{
    store_pg_settle(s, 1);
    pg_of(s)->bump = 0;
    pg_of(s)->lost_tx = 0;
    store_pg_copy_abort(s);
    if (PQstatus(pg_of(s)->conn) == CONNECTION_OK &&
        PQtransactionStatus(pg_of(s)->conn) != PQTRANS_IDLE)
        PQclear(PQexec(pg_of(s)->conn, "ROLLBACK"));
}

/* ---- keys ---- */

static void
key_params(struct pg_params *p, const struct store_key *k)
{
    store_pg_int(p, k->kind);
    if (k->text != NULL) {
        store_pg_text(p, k->text);
    } else {
        /* a band's number as text: the keys column is text for every kind */
        store_pg_int(p, k->num);
    }
}

static int
pg_key_find(struct store *s, const struct store_key *k, int near, int64_t lo, int64_t hi,
            int64_t *article, int *alive)
{
    struct pg_params p = {0};
    int rc;
    key_params(&p, k);
    if (near) {
        store_pg_int(&p, lo);
        store_pg_int(&p, hi);
    }
    PGresult *res = store_pg_run(s, near ? P_KEY_FIND_NEAR : P_KEY_FIND, &p, &rc);
    if (res == NULL)
        return rc;
    int found = PQntuples(res) > 0;
    if (found) {
        *article = store_pg_int64(res, 0, 0);
        *alive = PQgetvalue(res, 0, 1)[0] == 't';
    }
    PQclear(res);
    return found;
}

static int
pg_key_live(struct store *s, const struct store_key *k, int64_t lo, int64_t hi, int64_t *cand,
            size_t max)
{
    struct pg_params p = {0};
    int rc;
    key_params(&p, k);
    store_pg_int(&p, lo);
    store_pg_int(&p, hi);
    store_pg_int(&p, (int64_t)max);
    PGresult *res = store_pg_run(s, P_KEY_LIVE, &p, &rc);
    if (res == NULL)
        return rc;
    int n = PQntuples(res);
    for (int i = 0; i < n && (size_t)i < max; i++)
        cand[i] = store_pg_int64(res, i, 0);
    PQclear(res);
    return n < (int)max ? n : (int)max;
}

/* Append `t` to the array literal at *w as a quoted element ("…" with
 * '"' and '\' escaped). */
static char *
array_text(char *w, const char *t)
{
    *w++ = '"';
    for (; *t; t++) {
        if (*t == '"' || *t == '\\')
            *w++ = '\\';
        *w++ = *t;
    }
    *w++ = '"';
    return w;
}

/* Keys k[0..n) (n at most KEYS_MAX) as array literals: their kinds into
 * kinds[], their only_new flags into flags[] (may be NULL), their texts (a
 * band's number in decimal) into *keys (the caller frees it). */
#define KEYS_MAX (5 + STORE_BANDS)
static int
key_arrays(const struct store_key *k, size_t n, char kinds[8 * KEYS_MAX + 2],
           char flags[2 * KEYS_MAX + 2], char **keys)
{
    size_t len = 3, kl = 1, fl = 1;
    char *w;
    if (n > KEYS_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        len += (k[i].text ? strlen(k[i].text) * 2 : 24) + 3;
    if ((*keys = w = malloc(len)) == NULL)
        return -ENOMEM;
    *w++ = '{';
    kinds[0] = '{';
    if (flags != NULL)
        flags[0] = '{';
    for (size_t i = 0; i < n; i++) {
        char num[24];
        if (i > 0)
            *w++ = ',';
        if (k[i].text != NULL) {
            w = array_text(w, k[i].text);
        } else {
            /* a band's number as text: the keys column is text for every kind */
            snprintf(num, sizeof(num), "%" PRId64, k[i].num);
            w = array_text(w, num);
        }
        kl += (size_t)snprintf(kinds + kl, 8 * KEYS_MAX + 2 - kl, "%s%d", i ? "," : "",
                               k[i].kind);
        if (flags != NULL)
            fl += (size_t)snprintf(flags + fl, 2 * KEYS_MAX + 2 - fl, "%s%c", i ? "," : "",
                                   k[i].only_new ? 't' : 'f');
    }
    *w++ = '}';
    *w = '\0';
    snprintf(kinds + kl, 8 * KEYS_MAX + 2 - kl, "}");
    if (flags != NULL)
        snprintf(flags + fl, 2 * KEYS_MAX + 2 - fl, "}");
    return 0;
}

/* Up to three lookups a statement (P_KEY_LOOKUP's branches). */
#define LOOKUPS 3
/* P_LOCK_KEYS's parameters: a title and every band */
#define LOCKS_MAX (1 + STORE_BANDS)

/* P_KEY_LOOKUP's parameters for the m (<= LOOKUPS) lookups q[0..m) and
 * more's key range (more NULL or its range_kind 0: none). */
static void
lookup_params(struct pg_params *p, struct store_lookup *q, size_t m, const struct store_more *more)
{
    int range = more != NULL && more->range_kind != 0;
    for (size_t b = 0; b < LOOKUPS; b++) {
        struct store_lookup *l = b < m ? &q[b] : NULL;
        int near = l && (l->live || l->near);
        if (l == NULL) {
            store_pg_int(p, 0);
            store_pg_text(p, NULL); /* no key: no row */
        } else {
            l->n = l->alive = 0;
            key_params(p, &l->k);
        }
        store_pg_int(p, near ? l->lo : INT64_MIN);
        store_pg_int(p, near ? l->hi : INT64_MAX);
        store_pg_text(p, l && l->live ? "t" : "f");
        store_pg_int(p, l && l->live ? (int64_t)l->max : 1);
    }
    if (range)
        store_pg_int(p, more->range_kind);
    else
        store_pg_text(p, NULL);
    store_pg_text(p, range ? more->range_lo : NULL);
    store_pg_text(p, range ? more->range_hi : NULL);
    store_pg_int(p, range ? more->range_max : 0);
}

/* P_KEY_LOOKUP's rows into q[0..m) and more's range keys (copies): 0 or
 * -ENOMEM. */
static int
lookup_read(const PGresult *res, struct store_lookup *q, size_t m, struct store_more *more)
{
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t b = store_pg_int64(res, r, 0) - 1;
        if (b == LOOKUPS && more != NULL && !PQgetisnull(res, r, 4)) {
            if (more->nrange >= STORE_MORE_RANGE)
                continue;
            if ((more->range_keys[more->nrange] = strdup(PQgetvalue(res, r, 4))) == NULL)
                return -ENOMEM;
            more->nrange++;
            continue;
        }
        if (b < 0 || (size_t)b >= m)
            continue;
        struct store_lookup *l = &q[b];
        if ((size_t)l->n >= (l->live ? l->max : 1))
            continue;
        if (!l->live)
            l->alive = PQgetvalue(res, r, 2)[0] == 't';
        l->out[l->n++] = store_pg_int64(res, r, 1);
    }
    return 0;
}

/* Statements q[0..n) in one round trip: a pipeline, each statement's
 * snapshot taken when it starts (READ COMMITTED), so that lookups after
 * P_LOCK_KEYS see what a node holding those locks committed. Inside a
 * transaction (store_begin); behind the statements sent ahead
 * (store_pg_ahead) when there are any: their results read first, and
 * their failure theirs (they read or write nothing that outlives the
 * rollback it calls for). The results asked for in q[i].res (the caller
 * PQclears them); 0 or a negative errno (then none kept). */
int
store_pg_pipeline(struct store *s, struct piped *q, int n)
{
    PGconn *c = pg_of(s)->conn;
    PGresult *res;
    int rc = 0, sent = 0, ahead = pg_of(s)->ahead > 0, alone = store_pg_begin_alone(s);
    if (!ahead) {
        if ((rc = store_pg_ready(s)) < 0)
            return rc;
        if (!PQenterPipelineMode(c))
            goto failed;
    }
    for (; sent < n; sent++) {
        char name[16];
        snprintf(name, sizeof(name), "ff%d", (int)q[sent].id);
        if (!PQsendQueryPrepared(c, name, q[sent].p->n, q[sent].p->v, NULL, NULL, 0))
            goto failed;
    }
    if (!PQpipelineSync(c)) {
    failed:
        rc = store_pg_fail(s, NULL);
        if (rc == -ENOMEM && PQstatus(c) == CONNECTION_OK)
            rc = -EIO;
        if (PQpipelineStatus(c) == PQ_PIPELINE_OFF)
            sent = 0;
        else if (PQpipelineSync(c) == 0)
            sent = 0; /* nothing more to read: the connection is broken */
        if (sent == 0)
            pg_of(s)->ahead = 0;
    }
    if (ahead) {
        int r = store_pg_read_ahead(s, 0);
        rc = rc < 0 ? rc : r;
    }
    /* each statement's results up to its NULL, then the sync's */
    for (int i = 0; i < sent && PQstatus(c) != CONNECTION_BAD; i++)
        while ((res = PQgetResult(c)) != NULL) {
            ExecStatusType st = PQresultStatus(res);
            if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && q[i].keep &&
                q[i].res == NULL && rc == 0)
                q[i].res = res;
            else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ||
                     st == PGRES_PIPELINE_ABORTED || rc < 0)
                PQclear(res);
            else
                rc = store_pg_fail(s, res);
        }
    if ((sent > 0 || ahead) && PQstatus(c) != CONNECTION_BAD)
        PQclear(PQgetResult(c)); /* PGRES_PIPELINE_SYNC */
    PQexitPipelineMode(c);
    if (PQstatus(c) == CONNECTION_BAD) {
        pg_of(s)->lost_tx = 1; /* inside store_begin */
        pg_of(s)->connected = 0;
        snprintf(s->err, sizeof(s->err), "connection lost inside a transaction");
        rc = -ECONNRESET;
    }
    if (rc < 0)
        for (int i = 0; i < n; i++) {
            PQclear(q[i].res);
            q[i].res = NULL;
        }
    if (rc == -ECONNRESET && alone) {
        /* the transaction's first round trip: nothing of it was done (the
         * server rolled it back with the session), so it begins again on
         * a new session, as a BEGIN of its own would have, once */
        static const struct pg_params none = {0};
        struct pg_store *g = pg_of(s);
        g->lost_tx = 0;
        if (store_pg_reconnect(s) == 0) {
            g->replay = 1;
            if ((rc = store_pg_ahead(s, P_BEGIN, &none, -1)) == 0)
                rc = store_pg_pipeline(s, q, n);
            g->replay = 0;
        } else {
            g->lost_tx = 1;
        }
    }
    return rc;
}

/* P_KEY_LIVE_MANY's parameters for k[0..n), lo, hi, max; the keys' array
 * text into *keys (the caller frees it) and their kinds' into kinds. */
#define KINDS_SIZE (8 * KEYS_MAX + 2)
static int
live_many_params(struct pg_params *p, const struct store_key *k, size_t n, int64_t lo,
                 int64_t hi, size_t max, char kinds[KINDS_SIZE], char **keys)
{
    int rc = key_arrays(k, n, kinds, NULL, keys);
    if (rc < 0)
        return rc;
    store_pg_text(p, kinds);
    store_pg_text(p, *keys);
    store_pg_int(p, lo);
    store_pg_int(p, hi);
    store_pg_int(p, (int64_t)max);
    return 0;
}

/* P_KEY_LIVE_MANY's rows into cand[0..max), each article once: their number. */
static int
live_many_read(const PGresult *res, int64_t *cand, size_t max)
{
    size_t nc = 0;
    for (int i = 0; i < PQntuples(res) && nc < max; i++) {
        int64_t id = store_pg_int64(res, i, 0);
        int dup = 0;
        for (size_t j = 0; j < nc && !dup; j++)
            dup = cand[j] == id;
        if (!dup)
            cand[nc++] = id;
    }
    return (int)nc;
}

/* One request's statements (pg_key_lookup): the locks, its first LOOKUPS
 * lookups with more's key range, more's band candidates; their parameters
 * and where they are in the pipeline (-1: not asked). */
struct lookup_stmts {
    struct pg_params lp, qp, mp;
    char kinds[KINDS_SIZE], *keys;
    int iq, im;
};

/* Every request's locks, first LOOKUPS lookups and what more asks for, in
 * one pipeline (each request's locks before its lookups); a request's
 * lookups after those first ones, LOOKUPS a statement, after it. */
static int
pg_key_lookup(struct store *s, struct store_lookups *r, size_t nr)
{
    struct lookup_stmts *st = calloc(nr ? nr : 1, sizeof(*st));
    struct piped *pq = calloc(3 * (nr ? nr : 1), sizeof(*pq));
    int np = 0, rc = 0;
    if (st == NULL || pq == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nr && rc == 0; i++) {
        struct store_lookups *x = &r[i];
        struct lookup_stmts *t = &st[i];
        size_t m = x->n < LOOKUPS ? x->n : LOOKUPS;
        t->iq = t->im = -1;
        if (x->nlocks > LOCKS_MAX) {
            rc = -EINVAL;
            break;
        }
        if (x->nlocks > 0) {
            for (size_t j = 0; j < LOCKS_MAX; j++)
                store_pg_int(&t->lp, x->locks[j < x->nlocks ? j : x->nlocks - 1]);
            pq[np++] = (struct piped){P_LOCK_KEYS, &t->lp, 0, NULL};
        }
        if (m > 0 || (x->more != NULL && x->more->range_kind != 0)) {
            lookup_params(&t->qp, x->q, m, x->more);
            t->iq = np;
            pq[np++] = (struct piped){P_KEY_LOOKUP, &t->qp, 1, NULL};
        }
        if (x->more != NULL && x->more->nk > 0 && x->more->max > 0) {
            if ((rc = live_many_params(&t->mp, x->more->k, x->more->nk, x->more->lo,
                                       x->more->hi, x->more->max, t->kinds, &t->keys)) < 0)
                break;
            t->im = np;
            pq[np++] = (struct piped){P_KEY_LIVE_MANY, &t->mp, 1, NULL};
        }
    }
    if (rc == 0 && np > 0)
        rc = store_pg_pipeline(s, pq, np);
    for (size_t i = 0; i < nr && rc == 0; i++) {
        struct store_lookups *x = &r[i];
        size_t m = x->n < LOOKUPS ? x->n : LOOKUPS;
        if (st[i].iq >= 0)
            rc = lookup_read(pq[st[i].iq].res, x->q, m, x->more);
        if (st[i].im >= 0)
            x->more->ncand = live_many_read(pq[st[i].im].res, x->more->cand, x->more->max);
    }
    for (size_t i = 0; i < nr && rc == 0; i++) {
        struct store_lookups *x = &r[i];
        for (size_t at = LOOKUPS; at < x->n && rc == 0; at += LOOKUPS) {
            struct pg_params p = {0};
            size_t k = x->n - at < LOOKUPS ? x->n - at : LOOKUPS;
            PGresult *res;
            lookup_params(&p, &x->q[at], k, NULL);
            if ((res = store_pg_run(s, P_KEY_LOOKUP, &p, &rc)) == NULL)
                break;
            rc = lookup_read(res, &x->q[at], k, NULL);
            PQclear(res);
        }
    }
out:
    for (int i = 0; pq != NULL && i < np; i++)
        PQclear(pq[i].res);
    for (size_t i = 0; st != NULL && i < nr; i++)
        free(st[i].keys);
    free(st);
    free(pq);
    return rc;
}

static int
pg_key_live_many(struct store *s, const struct store_key *k, size_t n, int64_t lo, int64_t hi,
                 int64_t *cand, size_t max)
{
    struct pg_params p = {0};
    char kinds[KINDS_SIZE], *keys;
    int rc;
    if (n == 0 || max == 0)
        return 0;
    if ((rc = live_many_params(&p, k, n, lo, hi, max, kinds, &keys)) < 0)
        return rc;
    PGresult *res = store_pg_run(s, P_KEY_LIVE_MANY, &p, &rc);
    free(keys);
    if (res == NULL)
        return rc;
    rc = live_many_read(res, cand, max);
    PQclear(res);
    return rc;
}

/* P_KEYS_ADD_FEW's rows */
#define KEYS_FEW 5

static int
pg_keys_add(struct store *s, const struct store_key *k, size_t n, int64_t article, int64_t at)
{
    struct pg_params p = {0};
    char kinds[8 * KEYS_MAX + 2], flags[2 * KEYS_MAX + 2], *keys;
    int rc;
    if (n <= KEYS_FEW) {
        /* a duplicate's keys: guid, link, title, feed title, column */
        for (size_t i = 0; i < KEYS_FEW; i++) {
            if (i < n) {
                key_params(&p, &k[i]);
            } else {
                store_pg_int(&p, 0);
                store_pg_text(&p, NULL);
            }
            store_pg_text(&p, i < n && k[i].only_new ? "t" : "f");
        }
        store_pg_int(&p, article);
        store_pg_int(&p, at);
        return s->in_tx ? store_pg_ahead(s, P_KEYS_ADD_FEW, &p, -1)
                        : store_pg_cmd(s, P_KEYS_ADD_FEW, &p, NULL);
    }
    if ((rc = key_arrays(k, n, kinds, flags, &keys)) < 0)
        return rc;
    store_pg_text(&p, kinds);
    store_pg_text(&p, keys);
    store_pg_text(&p, flags);
    store_pg_int(&p, article);
    store_pg_int(&p, at);
    /* inside store_begin, nothing waits for it: sent ahead, with the next
     * round trip */
    rc = s->in_tx ? store_pg_ahead(s, P_KEYS_ADD, &p, -1) : store_pg_cmd(s, P_KEYS_ADD, &p, NULL);
    free(keys);
    return rc;
}

static int
pg_guid_find(struct store *s, const struct store_key *k, size_t n, struct store_guid *out)
{
    struct pg_params p = {0};
    char *keys;
    int rc;
    size_t len = 3;
    for (size_t i = 0; i < n; i++) {
        out[i] = (struct store_guid){0};
        if (k[i].text == NULL || k[i].kind != k[0].kind)
            return -EINVAL;
        len += strlen(k[i].text) * 2 + 3;
    }
    /* the keys as one array literal */
    char *w = keys = malloc(len);
    if (keys == NULL)
        return -ENOMEM;
    *w++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *w++ = ',';
        w = array_text(w, k[i].text);
    }
    *w++ = '}';
    *w = '\0';
    store_pg_int(&p, n > 0 ? k[0].kind : 0);
    store_pg_text(&p, keys);
    PGresult *res = store_pg_run(s, P_GUID_FIND, &p, &rc);
    free(keys);
    if (res == NULL)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t i = store_pg_int64(res, r, 0) - 1;
        if (i < 0 || (size_t)i >= n)
            continue;
        out[i].found = 1;
        out[i].article = store_pg_int64(res, r, 1);
        out[i].alive = PQgetvalue(res, r, 2)[0] == 't' && !PQgetisnull(res, r, 3);
        out[i].hash = (uint64_t)store_pg_int64(res, r, 3);
        out[i].feed_id = store_pg_int64(res, r, 4);
    }
    PQclear(res);
    return 0;
}

static int
pg_key_range(struct store *s, int kind, const char *lo, const char *hi, int max, store_key_cb cb,
             void *arg)
{
    struct pg_params p = {0};
    int rc, ret = 0;
    store_pg_int(&p, kind);
    store_pg_text(&p, lo);
    store_pg_text(&p, hi);
    store_pg_int(&p, max);
    PGresult *res = store_pg_run(s, P_KEY_RANGE, &p, &rc);
    if (res == NULL)
        return rc;
    for (int i = 0; i < PQntuples(res) && ret == 0; i++)
        ret = cb(arg, PQgetvalue(res, i, 0));
    PQclear(res);
    return ret;
}

/* ---- articles ---- */

static int
pg_art_get(struct store *s, int64_t id, uint64_t *hash, int64_t *feed_id)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, id);
    PGresult *res = store_pg_run(s, P_ART_GET, &p, &rc);
    if (res == NULL)
        return rc;
    int found = PQntuples(res) > 0;
    if (found) {
        *hash = (uint64_t)store_pg_int64(res, 0, 0);
        *feed_id = store_pg_int64(res, 0, 1);
    }
    PQclear(res);
    return found;
}

static int
pg_art_text(struct store *s, int64_t id, store_text_cb cb, void *arg)
{
    struct pg_params p = {0};
    int rc = 0;
    store_pg_int(&p, id);
    PGresult *res = store_pg_run(s, P_ART_TEXT, &p, &rc);
    if (res == NULL)
        return rc;
    if (PQntuples(res) > 0)
        rc = cb(arg, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

/* The article's parameters $1 … $18 of P_ART_ADD. */
static void
row_params(struct pg_params *p, const struct store_row *r)
{
    const struct parse_article *a = r->a;
    store_pg_text(p, r->uid);
    store_pg_int(p, r->feed_id);
    store_pg_text(p, a->guid);
    store_pg_text(p, a->title);
    store_pg_text(p, a->link);
    store_pg_text(p, a->author);
    store_pg_text(p, r->cats);
    store_pg_int(p, a->date);
    store_pg_int(p, r->now);
    store_pg_text(p, a->headimg);
    store_pg_text(p, a->thumbnail);
    store_pg_int(p, a->comments);
    store_pg_text(p, a->summary);
    store_pg_text(p, a->body);
    store_pg_int(p, (int64_t)r->hash);
    store_pg_text(p, r->republish ? "t" : "f");
    if (a->date_rejected)
        store_pg_int(p, a->rejected_date);
    else
        store_pg_text(p, NULL);
    store_pg_text(p, r->text);
}

static int
pg_art_add(struct store *s, const struct store_row *r, const struct store_key *k, size_t n,
           int64_t at, int64_t *id)
{
    struct pg_params p = {0};
    char kinds[8 * KEYS_MAX + 2], *keys;
    int rc;
    if ((rc = key_arrays(k, n, kinds, NULL, &keys)) < 0)
        return rc;
    row_params(&p, r);
    store_pg_text(&p, kinds);
    store_pg_text(&p, keys);
    store_pg_int(&p, at);
    if (s->in_tx) {
        /* inside store_begin: sent ahead, not waited for, with the next
         * round trip (the next wave's lookups); its failure (an exact key
         * another writer took first: -EDEADLK, the document stored again)
         * is the next call's, and the document is rolled back either way */
        long exact = 0;
        for (size_t i = 0; i < n; i++)
            exact += k[i].kind == KEY_GUID || k[i].kind == KEY_LINK;
        rc = store_pg_ahead(s, P_ART_ADD, &p, exact);
        free(keys);
        *id = 0;
        return rc;
    }
    PGresult *res = store_pg_run(s, P_ART_ADD, &p, &rc);
    free(keys);
    if (res == NULL)
        return rc;
    *id = store_pg_int64(res, 0, 0);
    int64_t written = store_pg_int64(res, 0, 1), exact = 0;
    PQclear(res);
    for (size_t i = 0; i < n; i++)
        exact += k[i].kind == KEY_GUID || k[i].kind == KEY_LINK;
    if (written == exact)
        return 0;
    /* another node stored the story first (its key waited for its commit):
     * nothing of this copy stays, the caller finds that one instead */
    p.n = 0;
    store_pg_int(&p, *id);
    *id = 0;
    return (rc = store_pg_cmd(s, P_ART_UNDO, &p, NULL)) < 0 ? rc : 1;
}

static int
pg_art_update(struct store *s, int64_t id, const struct store_row *r)
{
    const struct parse_article *a = r->a;
    struct pg_params p = {0};
    store_pg_int(&p, id);
    store_pg_text(&p, a->title);
    store_pg_text(&p, a->link);
    store_pg_text(&p, a->author);
    store_pg_text(&p, r->cats);
    store_pg_text(&p, a->headimg);
    store_pg_text(&p, a->thumbnail);
    store_pg_text(&p, a->summary);
    store_pg_text(&p, a->body);
    store_pg_int(&p, (int64_t)r->hash);
    store_pg_int(&p, r->now);
    store_pg_text(&p, r->text);
    /* inside store_begin, nothing waits for it: sent ahead, with the next
     * round trip */
    return s->in_tx ? store_pg_ahead(s, P_ART_UPDATE, &p, -1)
                    : store_pg_cmd(s, P_ART_UPDATE, &p, NULL);
}

static int
pg_src_add(struct store *s, int64_t article, int64_t feed_id, int64_t now, int republish)
{
    struct pg_params p = {0};
    int rc;
    store_pg_int(&p, article);
    store_pg_int(&p, feed_id);
    store_pg_int(&p, now);
    store_pg_text(&p, republish ? "t" : "f");
    /* inside store_begin: sent ahead, with the next round trip; whether it
     * changed anything is read there, and the commit moves the generation
     * then (pg_commit) */
    if (s->in_tx)
        return store_pg_ahead(s, P_SRC_ADD, &p, -1);
    PGresult *res = store_pg_run(s, P_SRC_ADD, &p, &rc);
    if (res == NULL)
        return rc;
    rc = store_pg_int64(res, 0, 0) > 0;
    PQclear(res);
    return rc;
}

static int
pg_tomb_seen(struct store *s, int64_t article, int64_t now, int keys)
{
    struct pg_params p = {0};
    store_pg_int(&p, article);
    store_pg_int(&p, now);
    store_pg_int(&p, STORE_TOMB_REFRESH);
    return store_pg_cmd(s, keys ? P_TOMB_SEEN : P_TOMB_TOUCH, &p, NULL);
}

const struct store_ops store_pg_ops = {
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .gen_bump = pg_gen_bump,
    .generation = store_pg_generation,
    .key_find = pg_key_find,
    .key_live = pg_key_live,
    .key_lookup = pg_key_lookup,
    .key_live_many = pg_key_live_many,
    .guid_find = pg_guid_find,
    .keys_add = pg_keys_add,
    .key_range = pg_key_range,
    .art_get = pg_art_get,
    .art_text = pg_art_text,
    .art_add = pg_art_add,
    .art_update = pg_art_update,
    .src_add = pg_src_add,
    .articles = store_pg_articles,
    .prune = store_pg_prune,
    .tomb_seen = pg_tomb_seen,
    .tomb_prune = store_pg_tomb_prune,
    .count = store_pg_count,
    .feed_ensure = store_pg_feed_ensure,
    .feed_state_get = store_pg_feed_state_get,
    .feed_state_set = store_pg_feed_state_set,
    .feed_items = store_pg_feed_items,
    .ws_put = store_pg_ws_put,
    .ws_get = store_pg_ws_get,
    .ws_of_feed = store_pg_ws_of_feed,
    .ws_set = store_pg_ws_set,
    .ws_delete = store_pg_ws_delete,
    .ws_renewals = store_pg_ws_renewals,
    .ws_seen = store_pg_ws_seen,
    .hub_put = store_pg_hub_put,
    .hub_remove = store_pg_hub_remove,
    .hub_get = store_pg_hub_get,
    .hub_count = store_pg_hub_count,
    .hub_mark = store_pg_hub_mark,
    .hub_claim = store_pg_hub_claim,
    .hub_done = store_pg_hub_done,
    .snapshot = store_pg_snapshot,
    .raw_count = store_pg_raw_count,
    .raw_each = store_pg_raw_each,
    .raw_start = store_pg_raw_start,
    .raw_put = store_pg_raw_put,
    .raw_end = store_pg_raw_end,
    .raw_finish = store_pg_raw_finish,
    .now = store_pg_now,
    .claim = store_pg_claim,
    .lease_extend = store_pg_lease_extend,
    .fence = store_pg_fence,
    .feed_complete = store_pg_feed_complete,
    .due_now = store_pg_due_now,
    .leases = store_pg_leases,
    .names = store_pg_names,
    .listed = store_pg_listed,
    .listen = store_pg_listen,
    .notify = store_pg_notify,
    .notifications = store_pg_notifications,
    .connected = store_pg_connected,
    .invariant = store_pg_invariant,
};
