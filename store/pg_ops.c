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
     * made the server plan the statement anew at each call) */
    [P_KEY_LOOKUP] = " SELECT 1, c.* FROM (SELECT k.article_id, bool_or(a.id IS NOT NULL) AS alive,"
                     "  min(k.at) AS at FROM keys k LEFT JOIN articles a ON a.id = k.article_id"
                     "  WHERE k.kind = $1 AND k.key = $2 AND k.at BETWEEN $3 AND $4"
                     "  AND (NOT $5 OR a.id IS NOT NULL) GROUP BY k.article_id"
                     "  ORDER BY 2 DESC, 3, 1 LIMIT $6) c"
                     " UNION ALL"
                     " SELECT 2, c.* FROM (SELECT k.article_id, bool_or(a.id IS NOT NULL) AS alive,"
                     "  min(k.at) AS at FROM keys k LEFT JOIN articles a ON a.id = k.article_id"
                     "  WHERE k.kind = $7 AND k.key = $8 AND k.at BETWEEN $9 AND $10"
                     "  AND (NOT $11 OR a.id IS NOT NULL) GROUP BY k.article_id"
                     "  ORDER BY 2 DESC, 3, 1 LIMIT $12) c"
                     " UNION ALL"
                     " SELECT 3, c.* FROM (SELECT k.article_id, bool_or(a.id IS NOT NULL) AS alive,"
                     "  min(k.at) AS at FROM keys k LEFT JOIN articles a ON a.id = k.article_id"
                     "  WHERE k.kind = $13 AND k.key = $14 AND k.at BETWEEN $15 AND $16"
                     "  AND (NOT $17 OR a.id IS NOT NULL) GROUP BY k.article_id"
                     "  ORDER BY 2 DESC, 3, 1 LIMIT $18) c"
                     " ORDER BY 1, 3 DESC, 4, 2",
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
                  "  ON CONFLICT DO NOTHING RETURNING kind),"
                  /* its tickers in their order (SPEC §12) */
                  " t AS (INSERT INTO article_tickers(article_id, ticker, pos)"
                  "  SELECT a.id, t.ticker, t.pos FROM a,"
                  "  unnest($22::text[]) WITH ORDINALITY AS t(ticker, pos) ON CONFLICT DO NOTHING)"
                  " SELECT id, (SELECT count(*) FROM k WHERE kind IN (1, 2)) FROM a",
    [P_ART_UPDATE] = "UPDATE articles SET title = $2, link = $3, author = $4, categories = $5,"
                     " headimg = $6, thumbnail = $7, summary = $8, body = $9,"
                     " content_hash = $10, updated = $11, body_text = $12 WHERE id = $1",
    [P_SRC_ADD] = "INSERT INTO sources(article_id, feed_id, seen) VALUES($1, $2, $3)"
                  " ON CONFLICT DO NOTHING",
    [P_ART_REPUBLISH] = "UPDATE articles SET republish = true WHERE id = $1 AND NOT republish",
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
                   " next_fetch, newest, http, errors, enabled FROM feeds WHERE id = $1",
    [P_FEED_SET] = "UPDATE feeds SET url = coalesce($2, url),"
                   " host = coalesce(finfeed_host($2), host), etag = $3,"
                   " last_modified = $4, last_status = $5, error = $6,"
                   " last_fetch = $7, next_fetch = $8, newest = $9, http = $10,"
                   " errors = $11, enabled = $12 WHERE id = $1",
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
    [P_ART_UNDO] = "WITH a AS (DELETE FROM articles WHERE id = $1),"
                   " s AS (DELETE FROM sources WHERE article_id = $1),"
                   " t AS (DELETE FROM article_tickers WHERE article_id = $1)"
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
    /* tickers after the article's last, each once, in the array's order */
    [P_TICKERS_ADD] = "INSERT INTO article_tickers(article_id, ticker, pos)"
                      " SELECT $1, t.ticker, (SELECT coalesce(max(pos), 0) FROM article_tickers"
                      "  WHERE article_id = $1) + t.ord"
                      " FROM unnest($2::text[]) WITH ORDINALITY AS t(ticker, ord)"
                      " ON CONFLICT DO NOTHING",
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
simple(struct store *s, const char *sql)
{
    int rc;
    PQclear(store_pg_exec(s, sql, NULL, &rc));
    return rc;
}

static int
pg_begin(struct store *s)
{
    pg_of(s)->bump = 0;
    pg_of(s)->lost_tx = 0;
    return simple(s, "BEGIN");
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
    int rc = simple(s, "COMMIT");
    if (rc < 0)
        return rc;
    /* after the commit, never before: a reader that sees the new generation
     * must see the articles too (a sequence is outside transactions) */
    if (pg_of(s)->bump) {
        pg_of(s)->bump = 0;
        return store_pg_cmd(s, P_GEN_BUMP, NULL, NULL);
    }
    return 0;
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

/* P_KEY_LOOKUP's parameters for the m (<= LOOKUPS) lookups q[0..m). */
static void
lookup_params(struct pg_params *p, struct store_lookup *q, size_t m)
{
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
}

/* P_KEY_LOOKUP's rows into q[0..m). */
static void
lookup_read(const PGresult *res, struct store_lookup *q, size_t m)
{
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t b = store_pg_int64(res, r, 0) - 1;
        if (b < 0 || (size_t)b >= m)
            continue;
        struct store_lookup *l = &q[b];
        if ((size_t)l->n >= (l->live ? l->max : 1))
            continue;
        if (!l->live)
            l->alive = PQgetvalue(res, r, 2)[0] == 't';
        l->out[l->n++] = store_pg_int64(res, r, 1);
    }
}

/* Statements q[0..n) in one round trip: a pipeline, each statement's
 * snapshot taken when it starts (READ COMMITTED), so that lookups after
 * P_LOCK_KEYS see what a node holding those locks committed. Inside a
 * transaction (store_begin); behind a new article's P_ART_ADD when one is
 * pending (art_add_ahead): its result read first, and its failure theirs
 * (they read or write nothing that outlives the rollback it calls for).
 * The results asked for in q[i].res (the caller PQclears them); 0 or a
 * negative errno (then none kept). */
int
store_pg_pipeline(struct store *s, struct piped *q, int n)
{
    PGconn *c = pg_of(s)->conn;
    PGresult *res;
    int rc = 0, sent = 0, ahead = pg_of(s)->pending;
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
    }
    if (ahead) {
        int r = store_pg_settle(s, 0);
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
    if (sent > 0 && PQstatus(c) != CONNECTION_BAD)
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

/* The locks, the first LOOKUPS lookups and what more asks for, in one
 * pipeline; the lookups after those first ones, LOOKUPS a statement. */
static int
pg_key_lookup(struct store *s, const int64_t *locks, size_t nlocks, struct store_lookup *q,
              size_t n, struct store_more *more)
{
    struct pg_params lp = {0}, qp = {0}, rp = {0}, mp = {0};
    struct piped pq[4];
    char kinds[KINDS_SIZE], *keys = NULL;
    size_t m = n < LOOKUPS ? n : LOOKUPS;
    int np = 0, iq = -1, ir = -1, im = -1, rc;
    if (nlocks > LOCKS_MAX)
        return -EINVAL;
    if (nlocks > 0) {
        for (size_t i = 0; i < LOCKS_MAX; i++)
            store_pg_int(&lp, locks[i < nlocks ? i : nlocks - 1]);
        pq[np++] = (struct piped){P_LOCK_KEYS, &lp, 0, NULL};
    }
    if (m > 0) {
        lookup_params(&qp, q, m);
        iq = np;
        pq[np++] = (struct piped){P_KEY_LOOKUP, &qp, 1, NULL};
    }
    if (more != NULL && more->range_kind != 0) {
        store_pg_int(&rp, more->range_kind);
        store_pg_text(&rp, more->range_lo);
        store_pg_text(&rp, more->range_hi);
        store_pg_int(&rp, more->range_max);
        ir = np;
        pq[np++] = (struct piped){P_KEY_RANGE, &rp, 1, NULL};
    }
    if (more != NULL && more->nk > 0 && more->max > 0) {
        if ((rc = live_many_params(&mp, more->k, more->nk, more->lo, more->hi, more->max, kinds,
                                   &keys)) < 0)
            return rc;
        im = np;
        pq[np++] = (struct piped){P_KEY_LIVE_MANY, &mp, 1, NULL};
    }
    rc = np > 0 ? store_pg_pipeline(s, pq, np) : 0;
    free(keys);
    if (rc < 0)
        return rc;
    if (iq >= 0)
        lookup_read(pq[iq].res, q, m);
    for (int r = 0; ir >= 0 && r < PQntuples(pq[ir].res) && rc == 0; r++) {
        if (more->nrange >= STORE_MORE_RANGE)
            break;
        if ((more->range_keys[more->nrange] = strdup(PQgetvalue(pq[ir].res, r, 0))) == NULL)
            rc = -ENOMEM;
        else
            more->nrange++;
    }
    if (im >= 0)
        more->ncand = live_many_read(pq[im].res, more->cand, more->max);
    for (int i = 0; i < np; i++)
        PQclear(pq[i].res);
    for (size_t at = m; at < n && rc == 0; at += LOOKUPS) {
        struct pg_params p = {0};
        size_t k = n - at < LOOKUPS ? n - at : LOOKUPS;
        PGresult *res;
        lookup_params(&p, &q[at], k);
        if ((res = store_pg_run(s, P_KEY_LOOKUP, &p, &rc)) == NULL)
            return rc;
        lookup_read(res, &q[at], k);
        PQclear(res);
    }
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

static int
pg_keys_add(struct store *s, const struct store_key *k, size_t n, int64_t article, int64_t at)
{
    struct pg_params p = {0};
    char kinds[8 * KEYS_MAX + 2], flags[2 * KEYS_MAX + 2], *keys;
    int rc;
    if ((rc = key_arrays(k, n, kinds, flags, &keys)) < 0)
        return rc;
    store_pg_text(&p, kinds);
    store_pg_text(&p, keys);
    store_pg_text(&p, flags);
    store_pg_int(&p, article);
    store_pg_int(&p, at);
    rc = store_pg_cmd(s, P_KEYS_ADD, &p, NULL);
    free(keys);
    return rc;
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

/* A new article inside store_begin: P_ART_ADD sent and not waited for (a
 * pipeline of its own, pending): its result is read before the next
 * statement goes (store_pg_ready), so that the server writes it while the
 * caller makes the next article. Its failure is then the next call's: the
 * document is rolled back either way; an exact key another writer took
 * first is -EDEADLK, the document stored again. */
static int
art_add_ahead(struct store *s, const struct pg_params *p, long exact)
{
    struct pg_store *g = pg_of(s);
    char name[16];
    int rc;
    if ((rc = store_pg_ready(s)) < 0)
        return rc;
    snprintf(name, sizeof(name), "ff%d", (int)P_ART_ADD);
    if (!PQenterPipelineMode(g->conn))
        return store_pg_fail(s, NULL);
    if (!PQsendQueryPrepared(g->conn, name, p->n, p->v, NULL, NULL, 0) ||
        !PQpipelineSync(g->conn)) {
        rc = store_pg_fail(s, NULL);
        /* nothing sent that can be read back: the connection is unusable */
        PQexitPipelineMode(g->conn);
        g->lost_tx = 1;
        return rc < 0 && rc != -ENOMEM ? rc : -ECONNRESET;
    }
    g->pending = 1;
    g->pending_exact = exact;
    return 0;
}

static int
pg_art_add(struct store *s, const struct store_row *r, const struct store_key *k, size_t n,
           int64_t at, int64_t *id)
{
    struct pg_params p = {0};
    char kinds[8 * KEYS_MAX + 2], *keys, *tickers;
    int rc;
    if ((rc = key_arrays(k, n, kinds, NULL, &keys)) < 0)
        return rc;
    if ((tickers = store_pg_text_array((const char *const *)r->a->tickers, r->a->ntickers)) ==
        NULL) {
        free(keys);
        return -ENOMEM;
    }
    row_params(&p, r);
    store_pg_text(&p, kinds);
    store_pg_text(&p, keys);
    store_pg_int(&p, at);
    store_pg_text(&p, tickers);
    if (PQtransactionStatus(pg_of(s)->conn) == PQTRANS_INTRANS) {
        long exact = 0;
        for (size_t i = 0; i < n; i++)
            exact += k[i].kind == KEY_GUID || k[i].kind == KEY_LINK;
        rc = art_add_ahead(s, &p, exact);
        free(keys);
        free(tickers);
        *id = 0;
        return rc;
    }
    PGresult *res = store_pg_run(s, P_ART_ADD, &p, &rc);
    free(keys);
    free(tickers);
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
    return store_pg_cmd(s, P_ART_UPDATE, &p, NULL);
}

static int
pg_src_add(struct store *s, int64_t article, int64_t feed_id, int64_t now)
{
    struct pg_params p = {0};
    long rows = 0;
    store_pg_int(&p, article);
    store_pg_int(&p, feed_id);
    store_pg_int(&p, now);
    int rc = store_pg_cmd(s, P_SRC_ADD, &p, &rows);
    return rc < 0 ? rc : rows > 0;
}

static int
pg_art_republish(struct store *s, int64_t article)
{
    struct pg_params p = {0};
    long rows = 0;
    store_pg_int(&p, article);
    int rc = store_pg_cmd(s, P_ART_REPUBLISH, &p, &rows);
    return rc < 0 ? rc : rows > 0;
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

static int
pg_tickers_add(struct store *s, int64_t article, const char *const *t, size_t n)
{
    struct pg_params p = {0};
    long rows = 0;
    char *arr = store_pg_text_array(t, n);
    if (arr == NULL)
        return -ENOMEM;
    store_pg_int(&p, article);
    store_pg_text(&p, arr);
    int rc = store_pg_cmd(s, P_TICKERS_ADD, &p, &rows);
    free(arr);
    return rc < 0 ? rc : (int)rows;
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
    .keys_add = pg_keys_add,
    .key_range = pg_key_range,
    .art_get = pg_art_get,
    .art_text = pg_art_text,
    .art_add = pg_art_add,
    .art_update = pg_art_update,
    .src_add = pg_src_add,
    .art_republish = pg_art_republish,
    .tickers_add = pg_tickers_add,
    .articles = store_pg_articles,
    .top_tickers = store_pg_top_tickers,
    .prune = store_pg_prune,
    .tomb_seen = pg_tomb_seen,
    .tomb_prune = store_pg_tomb_prune,
    .count = store_pg_count,
    .feed_ensure = store_pg_feed_ensure,
    .feed_state_get = store_pg_feed_state_get,
    .feed_state_set = store_pg_feed_state_set,
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
