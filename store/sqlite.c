/* store/sqlite.c — the SQLite backend: opening in WAL mode, migrations by
 * PRAGMA user_version, prepared statements, transactions, and the key and
 * article primitives the dedup rules of store_add.c run on. Its output
 * query and retention are sqlite_query.c, the feeds table sqlite_feed.c. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite_int.h"

/* Migrations: entry i brings a database from user_version i to i + 1. Never
 * edit a released entry; append a new one (and a fixture of the old version
 * under tests/fixtures/store/). */
static const char *const migrations[] = {
    /* 1: feeds, articles, sources, dedup keys */
    "CREATE TABLE feeds("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT,"
    " etag TEXT, last_modified TEXT, last_fetch INTEGER, last_status TEXT, http INTEGER,"
    " errors INTEGER NOT NULL DEFAULT 0, error TEXT, next_fetch INTEGER);"
    "CREATE TABLE articles("
    " id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, feed_id INTEGER NOT NULL,"
    " guid TEXT NOT NULL, title TEXT NOT NULL, link TEXT, author TEXT,"
    " categories TEXT NOT NULL DEFAULT '[]', date INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " first_seen INTEGER NOT NULL, headimg TEXT, thumbnail TEXT,"
    " comments INTEGER NOT NULL DEFAULT 0, summary TEXT, body TEXT NOT NULL,"
    " content_hash INTEGER NOT NULL, republish INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX articles_date ON articles(date DESC, id DESC);"
    "CREATE TABLE sources(article_id INTEGER NOT NULL, feed_id INTEGER NOT NULL,"
    " seen INTEGER NOT NULL, PRIMARY KEY(article_id, feed_id)) WITHOUT ROWID;"
    "CREATE INDEX sources_feed ON sources(feed_id, article_id);"
    "CREATE TABLE keys(kind INTEGER NOT NULL, key BLOB NOT NULL,"
    " article_id INTEGER NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX keys_lookup ON keys(kind, key, at);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES('generation', 0);",
    /* 2: full-text search over title and body text; feed state for the daemon */
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, tokenize='trigram');"
    "INSERT INTO articles_fts(rowid, title, body)"
    " SELECT id, title, finfeed_text(body) FROM articles;"
    "ALTER TABLE feeds ADD COLUMN newest INTEGER;"
    "ALTER TABLE feeds ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE feeds ADD COLUMN last_counts TEXT;",
    /* 3: the configured URL beside the current one, so that a permanent
     * redirect (url) survives restarts until the configuration changes */
    "ALTER TABLE feeds ADD COLUMN config_url TEXT;"
    "UPDATE feeds SET config_url = url;",
    /* 4: a publisher's date that is not believed (before 1995, or more than
     * 10 minutes after first seen) is kept beside the article's date, which
     * becomes first seen: articles a CMS dated 1970 stop being pruned */
    "ALTER TABLE articles ADD COLUMN rejected_date INTEGER;"
    "UPDATE articles SET rejected_date = date, date = first_seen"
    " WHERE date < 788918400 OR date > first_seen + 600;",
    /* 5: the schedule of SPEC §10 (one node on SQLite, the same calls): the
     * host (per_host, max_rate), the claim (owner, lease_until, the fencing
     * token), the last token completed, refresh's urgent flag, who listed
     * the feed last and its interval; unlisted: disabled for being listed
     * by nobody (not for a 410), enabled again once listed. hosts: max_rate's
     * next free start, Unix milliseconds */
    "ALTER TABLE feeds ADD COLUMN host TEXT;"
    "ALTER TABLE feeds ADD COLUMN owner TEXT;"
    "ALTER TABLE feeds ADD COLUMN lease_until INTEGER;"
    "ALTER TABLE feeds ADD COLUMN token INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE feeds ADD COLUMN done_token INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE feeds ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE feeds ADD COLUMN listed_at INTEGER;"
    "ALTER TABLE feeds ADD COLUMN interval_s INTEGER;"
    "ALTER TABLE feeds ADD COLUMN unlisted INTEGER NOT NULL DEFAULT 0;"
    "UPDATE feeds SET host = finfeed_host(url);"
    "CREATE INDEX feeds_host ON feeds(host, lease_until);"
    "CREATE TABLE hosts(host TEXT PRIMARY KEY, next_slot INTEGER NOT NULL) WITHOUT ROWID;",
    /* 6: each node's listing (store_node_listed), so that a claim need not
     * carry the node's list of feeds; nodes: when each last listed (its
     * listing dropped once expired) */
    "CREATE TABLE nodes(node TEXT PRIMARY KEY, listed_at INTEGER NOT NULL,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE listing(node TEXT NOT NULL, feed_id INTEGER NOT NULL,"
    " PRIMARY KEY(node, feed_id)) WITHOUT ROWID;",
    /* 7: WebSub (SPEC §11): the subscriptions asked of hubs, by callback id
     * (state 0 pending, 1 active, 2 unsubscribing; renew_at: when a node
     * claimed its renewal), and the deliveries seen (the replay guard) */
    "CREATE TABLE websub(callback TEXT PRIMARY KEY, feed_id INTEGER NOT NULL,"
    " topic TEXT NOT NULL, hub TEXT NOT NULL, secret TEXT NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0, lease_until INTEGER NOT NULL DEFAULT 0,"
    " lease_s INTEGER NOT NULL DEFAULT 0, asked_at INTEGER NOT NULL DEFAULT 0,"
    " renew_at INTEGER) WITHOUT ROWID;"
    "CREATE INDEX websub_feed ON websub(feed_id);"
    "CREATE TABLE websub_seen(sig TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;",
    /* 8: tombstones expire (tombstone_retention). A pruned article's keys
     * are found by its id (keys_article), its tombstone by when an item
     * holding them was last seen. Those already pruned get a last seen of
     * now, the upgrade: their feeds may list them still (nothing recorded
     * when), and a feed fetched at least once per tombstone_retention sees
     * them again before they can expire. Their title and body keys go
     * (rules 3 and 4 compare live articles only). article_floor: the
     * largest id ever pruned, so no new article takes a pruned article's id
     * (an INTEGER PRIMARY KEY hands out max(id) + 1) and with it the keys
     * that name it. Keys that already name a reused id are the old item's
     * when their feed is no source of the article they name (guid and
     * feed-title keys): moved to a tombstone of their own, above every id
     * (ids + the largest before) */
    "DELETE FROM keys WHERE kind IN (3, 4) AND article_id NOT IN (SELECT id FROM articles);"
    "CREATE INDEX keys_article ON keys(article_id);"
    "CREATE TEMP TABLE moved AS SELECT k.rowid AS r, k.article_id AS old FROM keys k"
    " JOIN articles a ON a.id = k.article_id WHERE k.kind IN (1, 5) AND NOT EXISTS"
    " (SELECT 1 FROM sources s WHERE s.article_id = a.id"
    "  AND s.feed_id = CAST(substr(k.key, 1, instr(k.key, char(31)) - 1) AS INTEGER));"
    "INSERT INTO meta(key, value) VALUES('article_floor', max("
    " coalesce((SELECT max(id) FROM articles), 0),"
    " coalesce((SELECT max(article_id) FROM keys), 0)));"
    "UPDATE keys SET article_id = article_id"
    " + (SELECT value FROM meta WHERE key = 'article_floor')"
    " WHERE rowid IN (SELECT r FROM moved);"
    "UPDATE meta SET value = max(value, coalesce((SELECT max(article_id) FROM keys), 0))"
    " WHERE key = 'article_floor';"
    "DROP TABLE moved;"
    "CREATE TABLE tombstones(article_id INTEGER PRIMARY KEY, seen INTEGER NOT NULL);"
    "CREATE INDEX tombstones_seen ON tombstones(seen);"
    "INSERT INTO tombstones(article_id, seen)"
    " SELECT DISTINCT article_id, CAST(strftime('%s', 'now') AS INTEGER) FROM keys"
    " WHERE kind <> 6 AND article_id NOT IN (SELECT id FROM articles);",
    /* 9: the built-in hub's subscriptions (store_hub.c): one row a verified
     * (topic, callback), its lease, its delivery state (changed/seen: the
     * changes marked and delivered; sent: the hash of the content last
     * delivered; fails, tries, next_try: the backoff) and its claim (a
     * token and a hold, so one node delivers each change) */
    "CREATE TABLE hub_subs(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, path TEXT NOT NULL,"
    " callback TEXT NOT NULL, host TEXT NOT NULL, secret TEXT,"
    " lease_until INTEGER NOT NULL, lease_s INTEGER NOT NULL, created INTEGER NOT NULL,"
    " changed INTEGER NOT NULL DEFAULT 0, seen INTEGER NOT NULL DEFAULT 0, sent TEXT,"
    " fails INTEGER NOT NULL DEFAULT 0, tries INTEGER NOT NULL DEFAULT 0,"
    " next_try INTEGER NOT NULL DEFAULT 0, claim INTEGER NOT NULL DEFAULT 0,"
    " claim_until INTEGER NOT NULL DEFAULT 0, UNIQUE(topic, callback));"
    "CREATE INDEX hub_subs_host ON hub_subs(host);"
    "CREATE INDEX hub_subs_lease ON hub_subs(lease_until);",
    /* 10: freshness (issue 13): a feed's first successful fetch (the articles
     * first seen after it count for lag; a store from before takes its
     * first article's), why its next check is when it is, the median lag of
     * its last day and how many articles that is of */
    "ALTER TABLE feeds ADD COLUMN first_ok INTEGER;"
    "ALTER TABLE feeds ADD COLUMN next_why TEXT;"
    "ALTER TABLE feeds ADD COLUMN lag_median INTEGER;"
    "ALTER TABLE feeds ADD COLUMN lag_n INTEGER NOT NULL DEFAULT 0;"
    "UPDATE feeds SET first_ok = (SELECT min(a.first_seen) FROM articles a"
    " WHERE a.feed_id = feeds.id);",
    /* 11: instruments (SPEC §12): each article's tickers in their order (pos),
     * found by ticker for /tickers/ and watchlists */
    "CREATE TABLE article_tickers(article_id INTEGER NOT NULL, ticker TEXT NOT NULL,"
    " pos INTEGER NOT NULL, PRIMARY KEY(article_id, ticker)) WITHOUT ROWID;"
    "CREATE INDEX article_tickers_ticker ON article_tickers(ticker, article_id);",
    /* 12: the full-text index cheaper to write (issue 15): its pending terms
     * kept in memory up to 8 MiB before they become a segment (1 MiB made
     * several segments of one group commit), and segments merged eight at a
     * time, not four. Indexing the bench's 17,881 articles in groups takes
     * a third fewer CPU seconds; a search reads more segments after many
     * small commits (0.29 ms against 0.24), as many after large ones */
    "INSERT INTO articles_fts(articles_fts, rank) VALUES('hashsize', 8388608);"
    "INSERT INTO articles_fts(articles_fts, rank) VALUES('automerge', 8);",
    /* 13: dedup keys cheaper to write (issue 15). keys clustered by article
     * (WITHOUT ROWID, primary key article_id first): its keys_article index
     * goes, whose insert was 7% of the writer, prune finds an article's keys
     * by the primary key, and keys_lookup carries article_id (lookups need
     * not read the table). An identical row says nothing new: dropped.
     * The LSH bands (kind 4, integers) in a table of their own, one B-tree
     * an insert, no index by article: prune deletes an article's bands by
     * the list its row keeps (articles.bands, a JSON array) */
    "CREATE TABLE keys13(kind INTEGER NOT NULL, key BLOB NOT NULL,"
    " article_id INTEGER NOT NULL, at INTEGER NOT NULL,"
    " PRIMARY KEY(article_id, kind, key, at)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO keys13(kind, key, article_id, at)"
    " SELECT kind, key, article_id, at FROM keys WHERE kind <> 4 ORDER BY article_id;"
    "CREATE TABLE bands(key INTEGER NOT NULL, at INTEGER NOT NULL, article_id INTEGER NOT NULL,"
    " PRIMARY KEY(key, at, article_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO bands(key, at, article_id)"
    " SELECT key, at, article_id FROM keys"
    " WHERE kind = 4 AND article_id IN (SELECT id FROM articles);"
    "ALTER TABLE articles ADD COLUMN bands TEXT;"
    "UPDATE articles SET bands = (SELECT json_group_array(b.key) FROM bands b"
    " WHERE b.article_id = articles.id) WHERE id IN (SELECT article_id FROM bands);"
    "DROP TABLE keys;"
    "ALTER TABLE keys13 RENAME TO keys;"
    "CREATE INDEX keys_lookup ON keys(kind, key, at);",
    /* 14: the full-text index cheaper still to write (issue 15): it keeps
     * which rows hold a trigram, not where (detail=none), and no column
     * sizes (nothing ranks). 40% less work building it; a search takes
     * the rows holding a word's trigrams and finfeed_has decides on their
     * text (sqlite_query.c). Rebuilt from its own text; migration 12's
     * settings carried over */
    "CREATE VIRTUAL TABLE articles_fts14 USING fts5(title, body, tokenize='trigram',"
    " detail=none, columnsize=0);"
    "INSERT INTO articles_fts14(articles_fts14, rank)"
    " SELECT k, v FROM articles_fts_config WHERE k IN ('hashsize', 'automerge');"
    "INSERT INTO articles_fts14(rowid, title, body) SELECT rowid, title, body FROM articles_fts;"
    "DROP TABLE articles_fts;"
    "ALTER TABLE articles_fts14 RENAME TO articles_fts;",
    /* 15: feeds in claim order (issue 15): a claim reads the due feeds
     * along it and stops once it has its feeds, instead of sorting every
     * due feed (sqlite_sched.c) */
    "CREATE INDEX IF NOT EXISTS feeds_due ON feeds(urgent DESC, coalesce(next_fetch, 0), id);",
};

/* Lookups prefer a live article over a tombstone (a pruned article's keys).
 * The first live key in index order, else the first key: max()'s bare
 * column is the row of the first maximum, so no ORDER BY and no temporary
 * B-tree to sort a key's rows (a third of each lookup's time); a row comes
 * back even when no key matches, its liveness NULL. */
static const char *const sql[Q_COUNT] = {
    [Q_KEY_FIND] = "SELECT k.article_id, max(a.id IS NOT NULL) FROM keys k"
                   " LEFT JOIN articles a ON a.id = k.article_id"
                   " WHERE k.kind = ?1 AND k.key = ?2",
    [Q_KEY_FIND_NEAR] = "SELECT k.article_id, max(a.id IS NOT NULL) FROM keys k"
                        " LEFT JOIN articles a ON a.id = k.article_id"
                        " WHERE k.kind = ?1 AND k.key = ?2 AND k.at BETWEEN ?3 AND ?4",
    /* the live articles only, in the keys' index order (CROSS JOIN: keys
     * first) */
    [Q_KEY_LIVE] = "SELECT k.article_id FROM keys k CROSS JOIN articles a ON a.id = k.article_id"
                   " WHERE k.kind = ?1 AND k.key = ?2 AND k.at BETWEEN ?3 AND ?4",
    [Q_KEY_HAS] = "SELECT 1 FROM keys WHERE kind = ?1 AND key = ?2 AND article_id = ?3 LIMIT 1",
    [Q_KEY_ADD] = "INSERT OR IGNORE INTO keys(kind, key, article_id, at) VALUES(?1, ?2, ?3, ?4)",
    [Q_BAND_LIVE] = "SELECT b.article_id FROM bands b CROSS JOIN articles a ON a.id = b.article_id"
                    " WHERE b.key = ?2 AND b.at BETWEEN ?3 AND ?4",
    [Q_BAND_HAS] = "SELECT 1 FROM bands WHERE key = ?2 AND article_id = ?3 LIMIT 1",
    [Q_BAND_ADD] = "INSERT OR IGNORE INTO bands(key, article_id, at) VALUES(?2, ?3, ?4)",
    [Q_BAND_NOTE] = "UPDATE articles SET bands = json_insert(coalesce(bands, '[]'), '$[#]', ?2)"
                    " WHERE id = ?1",
    [Q_KEY_COLUMN] = "SELECT DISTINCT key FROM keys WHERE kind = ?1 AND key >= ?2 AND key < ?3"
                     " LIMIT ?4",
    [Q_ART_GET] = "SELECT content_hash, feed_id FROM articles WHERE id = ?1",
    [Q_ART_TEXT] = "SELECT body FROM articles_fts WHERE rowid = ?1",
    /* the id past both the newest article and every id pruned (each
     * subquery one b-tree seek) */
    [Q_ART_INSERT] = "INSERT INTO articles(id, uid, feed_id, guid, title, link, author,"
                     " categories, date, updated, first_seen, headimg, thumbnail, comments,"
                     " summary, body, content_hash, republish, rejected_date, bands)"
                     " VALUES(max(coalesce((SELECT max(id) FROM articles), 0),"
                     " coalesce((SELECT value FROM meta WHERE key = 'article_floor'), 0)) + 1,"
                     " ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14,"
                     " ?15, ?16, ?17, ?18)",
    [Q_ART_UPDATE] = "UPDATE articles SET title = ?2, link = ?3, author = ?4, categories = ?5,"
                     " headimg = ?6, thumbnail = ?7, summary = ?8, body = ?9,"
                     " content_hash = ?10, updated = ?11 WHERE id = ?1",
    [Q_SRC_ADD] = "INSERT OR IGNORE INTO sources(article_id, feed_id, seen) VALUES(?1, ?2, ?3)",
    [Q_FTS_INSERT] = "INSERT INTO articles_fts(rowid, title, body) VALUES(?1, ?2, ?3)",
    [Q_FTS_DELETE] = "DELETE FROM articles_fts WHERE rowid = ?1",
    [Q_ART_REPUBLISH] = "UPDATE articles SET republish = 1 WHERE id = ?1 AND republish = 0",
    [Q_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'generation'",
    [Q_TOMB_SEEN] = "INSERT INTO tombstones(article_id, seen) VALUES(?1, ?2)"
                    " ON CONFLICT(article_id) DO UPDATE SET seen = excluded.seen"
                    " WHERE tombstones.seen <= excluded.seen - ?3",
    [Q_TICKER_ADD] = "INSERT OR IGNORE INTO article_tickers(article_id, ticker, pos)"
                     " SELECT ?1, ?2, coalesce(max(pos), 0) + 1 FROM article_tickers"
                     " WHERE article_id = ?1",
};

int
store_sqlite_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return -EACCES;
    default:
        return -EIO; /* SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_IOERR, … */
    }
}

int
store_sqlite_fail(struct store *s, int rc)
{
    snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(sqlite_of(s)->db));
    return store_sqlite_errno(rc);
}

int
store_sqlite_prepare(struct store *s, const char *text, sqlite3_stmt **st)
{
    struct sqlite_store *l = sqlite_of(s);
    int i = 0;
    for (; i < STORE_SQLITE_CACHE && l->cache[i].sql != NULL; i++)
        if (l->cache[i].sql == text) {
            *st = l->cache[i].st;
            return SQLITE_OK;
        }
    int rc = sqlite3_prepare_v3(l->db, text, -1,
                                i < STORE_SQLITE_CACHE ? SQLITE_PREPARE_PERSISTENT : 0, st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if (i < STORE_SQLITE_CACHE) {
        l->cache[i].sql = text;
        l->cache[i].st = *st;
    }
    return 0;
}

void
store_sqlite_unprepare(struct store *s, sqlite3_stmt *st)
{
    struct sqlite_store *l = sqlite_of(s);
    for (int i = 0; i < STORE_SQLITE_CACHE && l->cache[i].sql != NULL; i++)
        if (l->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    sqlite3_finalize(st); /* the cache was full, or NULL */
}

int
store_sqlite_exec(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int e = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

char *
store_sqlite_col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? strdup(v) : NULL;
}

int
store_sqlite_run(struct store *s, sqlite3_stmt *st, int *changed)
{
    int rc = sqlite3_step(st);
    int e = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    if (changed != NULL)
        *changed = sqlite3_changes(sqlite_of(s)->db);
    store_sqlite_unprepare(s, st);
    return e;
}

int
store_sqlite_rows(struct store *s, sqlite3_stmt *st, void *out, size_t size, size_t max, size_t *n,
                  int (*row)(sqlite3_stmt *st, void *item))
{
    int rc, e = 0;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (*n < max && e == 0 && (e = row(st, (char *)out + *n * size)) == 0)
            (*n)++;
    if (rc != SQLITE_DONE && e == 0)
        e = store_sqlite_fail(s, rc);
    store_sqlite_unprepare(s, st);
    return e;
}

int
store_schema_version(void)
{
    return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

/* SQL function finfeed_text(html): the plain text of a body (for FTS). */
static void
sql_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *html = (const char *)sqlite3_value_text(argv[0]);
    char *t = parse_html_text(html ? html : "");
    if (t == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_text(ctx, t, -1, free);
}

/* SQL function finfeed_host(url): store_url_host (migration 5). */
static void
sql_host(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    char *h = store_url_host((const char *)sqlite3_value_text(argv[0]));
    if (h == NULL)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_text(ctx, h, -1, free);
}

/* One integer from a one-row query; -1 when it fails (message on s). */
static int
query_int(struct store *s, const char *q, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    int e = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

/* Whether the file is a finfeed database this build can use: its schema
 * version in *version. Changes nothing, so another program's file is left as
 * it was found. */
static int
check_schema(struct store *s, int *version)
{
    int tables, rc;
    if ((rc = query_int(s, "PRAGMA user_version", version)) < 0)
        return rc;
    if (*version > store_schema_version()) {
        snprintf(s->err, sizeof(s->err),
                 "database schema %d is newer than this finfeed's (%d): upgrade finfeed", *version,
                 store_schema_version());
        return -EPROTO;
    }
    if (*version == 0) {
        /* version 0 is an empty file; tables without a version belong to
         * some other program, and finfeed leaves them alone */
        if ((rc = query_int(s, "SELECT count(*) FROM sqlite_master", &tables)) < 0)
            return rc;
        if (tables > 0) {
            snprintf(s->err, sizeof(s->err),
                     "not a finfeed database (it has tables but no schema version)");
            return -EIO;
        }
    }
    return 0;
}

/* Bring the schema from `version` to store_schema_version(), one
 * transaction a step. */
static int
migrate(struct store *s, int version)
{
    sqlite3 *db = sqlite_of(s)->db;
    int rc;
    for (int v = version; v < store_schema_version(); v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
            return store_sqlite_fail(s, rc);
        if ((rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL)) != SQLITE_OK ||
            (rc = sqlite3_exec(db, pragma, NULL, NULL, NULL)) != SQLITE_OK ||
            (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
            int e = store_sqlite_errno(rc);
            snprintf(s->err, sizeof(s->err), "migration to schema %d: %.200s", v + 1,
                     sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return e;
        }
    }
    return 0;
}

static void fts_drop(struct sqlite_store *l, size_t from);
static int fts_flush(struct store *s);

static void
lite_close(struct store *s)
{
    struct sqlite_store *l = sqlite_of(s);
    store_sqlite_ckpt_stop(l);
    fts_drop(l, 0);
    free(l->fq);
    for (int i = 0; i < STORE_SQLITE_CACHE; i++)
        sqlite3_finalize(l->cache[i].st);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(l->stmt[i]);
    sqlite3_finalize(l->raw[0]);
    sqlite3_finalize(l->raw[1]);
    store_sqlite_filter_free(l);
    sqlite3_close_v2(l->db);
    free(l);
}

/* ---- transactions ---- */

static int
lite_begin(struct store *s)
{
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout),
     * not at the first write, where a lock upgrade cannot wait */
    store_sqlite_filter_txn_end(sqlite_of(s)); /* whatever ended the last one */
    int rc = sqlite3_exec(sqlite_of(s)->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

static int
lite_commit(struct store *s)
{
    if (sqlite_of(s)->nfq > 0) {
        int e = fts_flush(s);
        if (e < 0)
            return e;
    }
    int rc = sqlite3_exec(sqlite_of(s)->db, "COMMIT", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

static void
lite_rollback(struct store *s)
{
    sqlite3 *db = sqlite_of(s)->db;
    fts_drop(sqlite_of(s), 0);
    if (sqlite3_get_autocommit(db) == 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* A document inside a group's transaction (store_group_begin). */
static int
lite_sp_begin(struct store *s)
{
    sqlite_of(s)->fq_mark = sqlite_of(s)->nfq;
    int rc = sqlite3_exec(sqlite_of(s)->db, "SAVEPOINT document", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

static int
lite_sp_release(struct store *s)
{
    int rc = sqlite3_exec(sqlite_of(s)->db, "RELEASE document", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

static int
lite_sp_undo(struct store *s)
{
    sqlite3 *db = sqlite_of(s)->db;
    fts_drop(sqlite_of(s), sqlite_of(s)->fq_mark);
    /* some errors (SQLITE_FULL, IOERR, NOMEM) roll the whole transaction
     * back: the savepoint is gone with the group's other documents */
    if (sqlite3_get_autocommit(db))
        return -EIO;
    if (sqlite3_exec(db, "ROLLBACK TO document; RELEASE document", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_get_autocommit(db))
        return -EIO;
    return 0;
}

static int
lite_gen_bump(struct store *s)
{
    return store_sqlite_exec(s, sqlite_of(s)->stmt[Q_GEN_BUMP]);
}

/* ---- keys ---- */

static void
bind_key(sqlite3_stmt *st, const struct store_key *k)
{
    sqlite3_bind_int(st, 1, k->kind);
    if (k->text != NULL)
        sqlite3_bind_text(st, 2, k->text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, k->num);
}

static int
lite_key_find(struct store *s, const struct store_key *k, int near, int64_t lo, int64_t hi,
              int64_t *article, int *alive)
{
    if (store_sqlite_filter_lacks(sqlite_of(s), k))
        return 0;
    sqlite3_stmt *st = sqlite_of(s)->stmt[near ? Q_KEY_FIND_NEAR : Q_KEY_FIND];
    bind_key(st, k);
    if (near) {
        sqlite3_bind_int64(st, 3, lo);
        sqlite3_bind_int64(st, 4, hi);
    }
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL) {
        *article = sqlite3_column_int64(st, 0);
        *alive = sqlite3_column_int(st, 1);
        found = 1;
    } else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        found = store_sqlite_fail(s, rc);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

static int
lite_key_live(struct store *s, const struct store_key *k, int64_t lo, int64_t hi, int64_t *cand,
              size_t max)
{
    if (store_sqlite_filter_lacks(sqlite_of(s), k))
        return 0;
    sqlite3_stmt *st = sqlite_of(s)->stmt[k->kind == KEY_BAND ? Q_BAND_LIVE : Q_KEY_LIVE];
    size_t nc = 0;
    int rc = SQLITE_DONE;
    bind_key(st, k);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    /* live rows only: a pruned body cannot be compared */
    while (nc < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int dup = 0;
        for (size_t j = 0; j < nc && !dup; j++)
            dup = cand[j] == id;
        if (!dup)
            cand[nc++] = id;
    }
    int e = nc == max || rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e < 0 ? e : (int)nc;
}

static int lite_key_live_many(struct store *s, const struct store_key *k, size_t n, int64_t lo,
                              int64_t hi, int64_t *cand, size_t max);
static int lite_key_range(struct store *s, int kind, const char *lo, const char *hi, int max,
                          store_key_cb cb, void *arg);

/* key_range's callback for store_more: a copy of each key. */
static int
on_more_key(void *arg, const char *key)
{
    struct store_more *m = arg;
    if (m->nrange >= STORE_MORE_RANGE)
        return 0;
    if ((m->range_keys[m->nrange] = strdup(key)) == NULL)
        return -ENOMEM;
    m->nrange++;
    return 0;
}

/* SQLite has no round trips to save: a lookup after another. */
static int
lite_key_lookup_one(struct store *s, struct store_lookup *q, size_t n, struct store_more *more)
{
    for (size_t i = 0; i < n; i++) {
        int rc = q[i].live ? lite_key_live(s, &q[i].k, q[i].lo, q[i].hi, q[i].out, q[i].max)
                           : lite_key_find(s, &q[i].k, q[i].near, q[i].lo, q[i].hi, q[i].out,
                                           &q[i].alive);
        if (rc < 0)
            return rc;
        q[i].n = rc;
    }
    if (more != NULL && more->range_kind != 0) {
        int rc = lite_key_range(s, more->range_kind, more->range_lo, more->range_hi,
                                more->range_max, on_more_key, more);
        if (rc < 0)
            return rc;
    }
    if (more != NULL && more->nk > 0) {
        int rc =
            lite_key_live_many(s, more->k, more->nk, more->lo, more->hi, more->cand, more->max);
        if (rc < 0)
            return rc;
        more->ncand = rc;
    }
    return 0;
}

static int
lite_key_lookup(struct store *s, struct store_lookups *r, size_t nr)
{
    /* BEGIN IMMEDIATE: one writer at a time already, the locks are moot */
    for (size_t i = 0; i < nr; i++) {
        int rc = lite_key_lookup_one(s, r[i].q, r[i].n, r[i].more);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* SQLite has no round trips to save: key_live a key after another. */
static int lite_art_insert(struct store *s, const struct store_row *r, const char *bands,
                           int64_t *id);
static int lite_key_add(struct store *s, const struct store_key *k, int64_t article, int64_t at,
                        int listed);
static int lite_keys_add(struct store *s, const struct store_key *k, size_t n, int64_t article,
                         int64_t at);
static int lite_src_add(struct store *s, int64_t article, int64_t feed_id, int64_t now);

static int lite_tickers_add(struct store *s, int64_t article, const char *const *t, size_t n);

/* SQLite: the writes one after another; the row lists its bands
 * (articles.bands) as it is written. */
static int
lite_art_add(struct store *s, const struct store_row *r, const struct store_key *k, size_t n,
             int64_t at, int64_t *id)
{
    char bands[2 + STORE_BANDS * 21 + 1];
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (k[i].kind == KEY_BAND && len + 23 < sizeof(bands))
            len += (size_t)snprintf(bands + len, sizeof(bands) - len, "%c%lld", len ? ',' : '[',
                                    (long long)k[i].num);
    if (len > 0)
        snprintf(bands + len, sizeof(bands) - len, "]");
    int rc = lite_art_insert(s, r, len > 0 ? bands : NULL, id);
    if (rc == 0 && (rc = lite_src_add(s, *id, r->feed_id, r->now)) > 0)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = lite_key_add(s, &k[i], *id, at, 1);
    if (rc == 0 && r->a->ntickers > 0 &&
        (rc = lite_tickers_add(s, *id, (const char *const *)r->a->tickers, r->a->ntickers)) > 0)
        rc = 0;
    return rc;
}

static int
lite_key_live_many(struct store *s, const struct store_key *k, size_t n, int64_t lo, int64_t hi,
                   int64_t *cand, size_t max)
{
    size_t nc = 0;
    for (size_t i = 0; i < n && nc < max; i++) {
        int64_t one[max];
        int got = lite_key_live(s, &k[i], lo, hi, one, max);
        if (got < 0)
            return got;
        for (int j = 0; j < got && nc < max; j++) {
            int dup = 0;
            for (size_t m = 0; m < nc && !dup; m++)
                dup = cand[m] == one[j];
            if (!dup)
                cand[nc++] = one[j];
        }
    }
    return (int)nc;
}

/* Key k of `article` dated `at`; `listed`: a band already in the article's
 * row (articles.bands, written with the row: lite_art_add). */
static int
lite_key_add(struct store *s, const struct store_key *k, int64_t article, int64_t at, int listed)
{
    struct sqlite_store *l = sqlite_of(s);
    int band = k->kind == KEY_BAND;
    sqlite3_stmt *st;
    if (k->only_new && !store_sqlite_filter_lacks(l, k)) {
        st = l->stmt[band ? Q_BAND_HAS : Q_KEY_HAS];
        bind_key(st, k);
        sqlite3_bind_int64(st, 3, article);
        int rc = sqlite3_step(st),
            e = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_fail(s, rc);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (e < 0 || rc == SQLITE_ROW)
            return e;
    }
    st = l->stmt[band ? Q_BAND_ADD : Q_KEY_ADD];
    bind_key(st, k);
    sqlite3_bind_int64(st, 3, article);
    sqlite3_bind_int64(st, 4, at);
    int rc = store_sqlite_exec(s, st);
    if (rc == 0)
        store_sqlite_filter_add(l, k);
    if (rc < 0 || !band || listed || sqlite3_changes(l->db) == 0)
        return rc;
    /* prune deletes the bands the article's row lists */
    st = l->stmt[Q_BAND_NOTE];
    sqlite3_bind_int64(st, 1, article);
    sqlite3_bind_int64(st, 2, k->num);
    return store_sqlite_exec(s, st);
}

static int
lite_keys_add(struct store *s, const struct store_key *k, size_t n, int64_t article, int64_t at)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = lite_key_add(s, &k[i], article, at, 0);
    return rc;
}

static int
lite_key_range(struct store *s, int kind, const char *lo, const char *hi, int max, store_key_cb cb,
               void *arg)
{
    if (store_sqlite_filter_lacks_range(sqlite_of(s), kind, lo))
        return 0;
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_KEY_COLUMN];
    int r, ret = 0;
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, max);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if ((ret = cb(arg, key ? key : "")) != 0)
            break;
    }
    if (ret == 0 && r != SQLITE_DONE)
        ret = store_sqlite_fail(s, r);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

/* ---- articles ---- */

static int
lite_art_get(struct store *s, int64_t id, uint64_t *hash, int64_t *feed_id)
{
    sqlite3_stmt *g = sqlite_of(s)->stmt[Q_ART_GET];
    int found = 0;
    sqlite3_bind_int64(g, 1, id);
    int r = sqlite3_step(g);
    if (r == SQLITE_ROW) {
        *hash = (uint64_t)sqlite3_column_int64(g, 0);
        *feed_id = sqlite3_column_int64(g, 1);
        found = 1;
    } else if (r != SQLITE_DONE) {
        found = store_sqlite_fail(s, r);
    }
    sqlite3_reset(g);
    sqlite3_clear_bindings(g);
    return found;
}

static int
lite_art_text(struct store *s, int64_t id, store_text_cb cb, void *arg)
{
    struct sqlite_store *l = sqlite_of(s);
    /* a row the group has not written yet: the latest queued for id (a
     * delete is always followed by the row that replaces it) */
    for (size_t i = l->nfq; i-- > 0;)
        if (l->fq[i].id == id && l->fq[i].text != NULL)
            return cb(arg, l->fq[i].text);
    sqlite3_stmt *g = l->stmt[Q_ART_TEXT];
    int e = 0;
    sqlite3_bind_int64(g, 1, id);
    int rc = sqlite3_step(g);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(g, 0);
        e = cb(arg, t ? t : "");
    } else if (rc != SQLITE_DONE) {
        e = store_sqlite_fail(s, rc);
    }
    sqlite3_reset(g);
    sqlite3_clear_bindings(g);
    return e;
}

/* Queue a full-text row (text NULL: a delete) of a group's document. */
static int
fts_queue(struct store *s, int64_t id, const char *title, const char *text)
{
    struct sqlite_store *l = sqlite_of(s);
    if (l->nfq == l->capfq) {
        size_t cap = l->capfq ? l->capfq * 2 : 256;
        struct fts_row *q = realloc(l->fq, cap * sizeof(*q));
        if (q == NULL)
            goto nomem;
        l->fq = q;
        l->capfq = cap;
    }
    struct fts_row *r = &l->fq[l->nfq];
    r->id = id;
    r->title = r->text = NULL;
    if (text != NULL &&
        ((r->title = strdup(title)) == NULL || (r->text = strdup(text)) == NULL)) {
        free(r->title);
        goto nomem;
    }
    l->nfq++;
    return 0;
nomem:
    snprintf(s->err, sizeof(s->err), "out of memory");
    return -ENOMEM;
}

/* Drop the queued rows from fq[from] on. */
static void
fts_drop(struct sqlite_store *l, size_t from)
{
    for (size_t i = from; i < l->nfq; i++) {
        free(l->fq[i].title);
        free(l->fq[i].text);
    }
    l->nfq = from;
    if (l->fq_mark > from)
        l->fq_mark = from;
}

/* The queued rows into articles_fts, in order (at the group's commit). */
static int
fts_flush(struct store *s)
{
    struct sqlite_store *l = sqlite_of(s);
    int rc = 0;
    for (size_t i = 0; i < l->nfq && rc == 0; i++) {
        const struct fts_row *r = &l->fq[i];
        sqlite3_stmt *st = l->stmt[r->text ? Q_FTS_INSERT : Q_FTS_DELETE];
        sqlite3_bind_int64(st, 1, r->id);
        if (r->text != NULL) {
            sqlite3_bind_text(st, 2, r->title, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, r->text, -1, SQLITE_STATIC);
        }
        rc = store_sqlite_exec(s, st);
    }
    fts_drop(l, 0);
    return rc;
}

static int
fts_put(struct store *s, int64_t id, const char *title, const char *text)
{
    if (s->group)
        return fts_queue(s, id, title, text);
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_FTS_INSERT];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    return store_sqlite_exec(s, st);
}

static int
lite_art_insert(struct store *s, const struct store_row *r, const char *bands, int64_t *id)
{
    const struct parse_article *a = r->a;
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_ART_INSERT];
    sqlite3_bind_text(st, 1, r->uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->feed_id);
    sqlite3_bind_text(st, 3, a->guid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->link, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->cats, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, a->date);
    sqlite3_bind_int64(st, 9, r->now);
    sqlite3_bind_text(st, 10, a->headimg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, a->thumbnail, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 12, a->comments);
    sqlite3_bind_text(st, 13, a->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, a->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 15, (int64_t)r->hash);
    sqlite3_bind_int(st, 16, r->republish ? 1 : 0);
    if (a->date_rejected)
        sqlite3_bind_int64(st, 17, a->rejected_date);
    if (bands != NULL)
        sqlite3_bind_text(st, 18, bands, -1, SQLITE_STATIC);
    int rc = store_sqlite_exec(s, st);
    if (rc < 0)
        return rc;
    *id = sqlite3_last_insert_rowid(sqlite_of(s)->db);
    return fts_put(s, *id, a->title, r->text);
}

static int
lite_art_update(struct store *s, int64_t id, const struct store_row *r)
{
    const struct parse_article *a = r->a;
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_ART_UPDATE];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->link, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->cats, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->headimg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->thumbnail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, a->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, a->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (int64_t)r->hash);
    sqlite3_bind_int64(st, 11, r->now);
    int rc = store_sqlite_exec(s, st);
    if (rc < 0)
        return rc;
    if (s->group) {
        rc = fts_queue(s, id, NULL, NULL);
    } else {
        st = sqlite_of(s)->stmt[Q_FTS_DELETE];
        sqlite3_bind_int64(st, 1, id);
        rc = store_sqlite_exec(s, st);
    }
    if (rc < 0)
        return rc;
    return fts_put(s, id, a->title, r->text);
}

static int
lite_src_add(struct store *s, int64_t article, int64_t feed_id, int64_t now)
{
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_SRC_ADD];
    sqlite3_bind_int64(st, 1, article);
    sqlite3_bind_int64(st, 2, feed_id);
    sqlite3_bind_int64(st, 3, now);
    int rc = store_sqlite_exec(s, st);
    return rc < 0 ? rc : sqlite3_changes(sqlite_of(s)->db) > 0;
}

static int
lite_tickers_add(struct store *s, int64_t article, const char *const *t, size_t n)
{
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_TICKER_ADD];
    int added = 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, article);
        sqlite3_bind_text(st, 2, t[i], -1, SQLITE_STATIC);
        int rc = store_sqlite_exec(s, st);
        if (rc < 0)
            return rc;
        added += sqlite3_changes(sqlite_of(s)->db) > 0;
    }
    return added;
}

static int
lite_art_republish(struct store *s, int64_t article)
{
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_ART_REPUBLISH];
    sqlite3_bind_int64(st, 1, article);
    int rc = store_sqlite_exec(s, st);
    return rc < 0 ? rc : sqlite3_changes(sqlite_of(s)->db) > 0;
}

/* One writer at a time (BEGIN IMMEDIATE): made or moved alike. */
static int
lite_tomb_seen(struct store *s, int64_t article, int64_t now, int keys)
{
    (void)keys;
    sqlite3_stmt *st = sqlite_of(s)->stmt[Q_TOMB_SEEN];
    sqlite3_bind_int64(st, 1, article);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, STORE_TOMB_REFRESH);
    return store_sqlite_exec(s, st);
}

static int
lite_src_republish(struct store *s, int64_t article, int64_t feed_id, int64_t now, int republish)
{
    int added = lite_src_add(s, article, feed_id, now), shown = 0;
    if (added >= 0 && republish)
        shown = lite_art_republish(s, article);
    return added < 0 ? added : shown < 0 ? shown : added || shown;
}

static int
lite_cache(struct store *s, long kib)
{
    char q[64];
    snprintf(q, sizeof(q), "PRAGMA main.cache_size = -%ld", kib);
    int rc = sqlite3_exec(sqlite_of(s)->db, q, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_sqlite_fail(s, rc);
}

static int
lite_busy_timeout(struct store *s, int ms)
{
    return sqlite3_busy_timeout(sqlite_of(s)->db, ms) == SQLITE_OK ? 0 : -EINVAL;
}

/* A database that cannot be written, and why: the file, or its directory
 * (where SQLite creates the -wal and -shm files). Says so on s; returns
 * -EACCES or -EROFS. */
static int
readonly_fail(struct store *s, const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int e = 0, is_dir = 0;
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0 && errno != ENOENT)
        e = errno;
    else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
        e = errno, is_dir = 1;
    if (e == 0)
        snprintf(s->err, sizeof(s->err), "read-only database (%s)",
                 sqlite3_errmsg(sqlite_of(s)->db));
    else
        snprintf(s->err, sizeof(s->err), "read-only database (%s%.160s not writable: %s)",
                 is_dir ? "directory " : "file", is_dir ? dir : "", strerror(e));
    return e == EACCES || e == EPERM ? -EACCES : -EROFS;
}

static const struct store_ops lite_ops = {
    .close = lite_close,
    .busy_timeout = lite_busy_timeout,
    .checkpoint_async = store_sqlite_ckpt_start,
    .cache = lite_cache,
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .sp_begin = lite_sp_begin,
    .sp_release = lite_sp_release,
    .sp_undo = lite_sp_undo,
    .gen_bump = lite_gen_bump,
    .generation = store_sqlite_generation,
    .key_find = lite_key_find,
    .key_live = lite_key_live,
    .key_lookup = lite_key_lookup,
    .key_live_many = lite_key_live_many,
    .keys_add = lite_keys_add,
    .key_range = lite_key_range,
    .art_get = lite_art_get,
    .art_text = lite_art_text,
    .art_add = lite_art_add,
    .art_update = lite_art_update,
    .src_add = lite_src_republish,
    .tickers_add = lite_tickers_add,
    .articles = store_sqlite_articles,
    .top_tickers = store_sqlite_top_tickers,
    .prune = store_sqlite_prune,
    .tomb_seen = lite_tomb_seen,
    .tomb_prune = store_sqlite_tomb_prune,
    .count = store_sqlite_count,
    .feed_ensure = store_sqlite_feed_ensure,
    .feed_state_get = store_sqlite_feed_state_get,
    .feed_state_set = store_sqlite_feed_state_set,
    .ws_put = store_sqlite_ws_put,
    .ws_get = store_sqlite_ws_get,
    .ws_of_feed = store_sqlite_ws_of_feed,
    .ws_set = store_sqlite_ws_set,
    .ws_delete = store_sqlite_ws_delete,
    .ws_renewals = store_sqlite_ws_renewals,
    .ws_seen = store_sqlite_ws_seen,
    .feed_items = store_sqlite_feed_items,
    .hub_put = store_sqlite_hub_put,
    .hub_remove = store_sqlite_hub_remove,
    .hub_get = store_sqlite_hub_get,
    .hub_count = store_sqlite_hub_count,
    .hub_mark = store_sqlite_hub_mark,
    .hub_claim = store_sqlite_hub_claim,
    .hub_done = store_sqlite_hub_done,
    .snapshot = store_sqlite_snapshot,
    .raw_count = store_sqlite_raw_count,
    .raw_each = store_sqlite_raw_each,
    .raw_start = store_sqlite_raw_start,
    .raw_put = store_sqlite_raw_put,
    .raw_end = store_sqlite_raw_end,
    .raw_finish = store_sqlite_raw_finish,
    .now = store_sqlite_now,
    .claim = store_sqlite_claim,
    .lease_extend = store_sqlite_lease_extend,
    .fence = store_sqlite_fence,
    .feed_complete = store_sqlite_feed_complete,
    .due_now = store_sqlite_due_now,
    .leases = store_sqlite_leases,
    .names = store_sqlite_names,
    .listed = store_sqlite_listed,
};

/* The WAL file's size once it is reset. A reader's snapshot (a backup, the
 * sqlite3 shell, a long render) keeps the WAL from being reset, so it grows
 * by everything written meanwhile; without a limit the file then stays at
 * that peak for good (bench/soak: 164 MiB beside a 30 MiB database). With it
 * the first commit after a reset truncates the file to this size: four
 * times the auto-checkpoint's 1000 pages, above the usual peak. */
#define STORE_WAL_LIMIT "16777216"
static pthread_once_t lite_once = PTHREAD_ONCE_INIT;

/* SQLite's memory statistics off: they took a mutex and kept counts at
 * every one of SQLite's mallocs and frees, which nothing here reads.
 * Possible only before SQLite initializes (else SQLITE_MISUSE, ignored). */
static void
lite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void
store_sqlite_init(void)
{
    pthread_once(&lite_once, lite_configure);
}

/* A transaction's end: the key filter checks data_version again in the next. */
static int
on_commit(void *arg)
{
    store_sqlite_filter_txn_end(arg);
    return 0;
}

static void
on_rollback(void *arg)
{
    store_sqlite_filter_txn_end(arg);
}

int
store_sqlite_open(const char *path, struct store **out, char *err, size_t errsize)
{
    struct sqlite_store *l = calloc(1, sizeof(*l));
    struct store *s = &l->s;
    int rc, version, page;
    *out = NULL;
    if (l == NULL) {
        snprintf(err, errsize, "%s: out of memory", path);
        return -ENOMEM;
    }
    s->ops = &lite_ops;
    store_sqlite_init();
    rc = sqlite3_open_v2(path, &l->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = l->db ? store_sqlite_fail(s, rc) : -ENOMEM;
        goto err;
    }
    sqlite3_extended_result_codes(l->db, 1);
    sqlite3_commit_hook(l->db, on_commit, l);
    sqlite3_rollback_hook(l->db, on_rollback, l);
    /* SQLite falls back to reading only when the file is write-protected:
     * say so now, with the path, rather than on the first feed written. */
    if (sqlite3_db_readonly(l->db, "main") == 1) {
        rc = readonly_fail(s, path);
        goto err;
    }
    /* A reader (the sqlite3 CLI, a backup) or another writer holding the lock
     * must never make a write fail: wait for it. */
    sqlite3_busy_timeout(l->db, STORE_BUSY_TIMEOUT_MS);
    /* Closing does not checkpoint: a checkpoint costs two or three fsyncs,
     * which dominated one `finfeed ingest` per feed; the WAL is folded into
     * the database by SQLite's auto-checkpoint (every 4 MB of WAL) instead,
     * and a later open reads it, so nothing is lost. */
    if ((rc = sqlite3_db_config(l->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL)) != SQLITE_OK) {
        rc = store_sqlite_fail(s, rc);
        goto err;
    }
    if ((rc = check_schema(s, &version)) < 0)
        goto err;
    /* page_size names the size of a file not yet written (a new store's;
     * one written keeps its own), before journal_mode writes the header;
     * the auto-checkpoint comes after 4 MB of WAL whatever the size */
    if ((rc = sqlite3_exec(l->db, "PRAGMA page_size = " STORE_SQLITE_PAGE, NULL, NULL, NULL)) !=
            SQLITE_OK ||
        (rc = sqlite3_exec(l->db,
                           "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                           "PRAGMA journal_size_limit = " STORE_WAL_LIMIT ";"
                           "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;",
                           NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = query_int(s, "PRAGMA page_size", &page)) < 0 ||
        (rc = sqlite3_wal_autocheckpoint(l->db, STORE_CKPT_BYTES / (page > 0 ? page : 4096))) !=
            SQLITE_OK) {
        rc = rc < 0 ? rc : store_sqlite_fail(s, rc);
        goto err;
    }
    if ((rc = sqlite3_create_function(l->db, "finfeed_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                      NULL, sql_text, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_create_function(l->db, "finfeed_host", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                      NULL, sql_host, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_create_function(l->db, "finfeed_has", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                      NULL, store_sqlite_has, NULL, NULL)) != SQLITE_OK) {
        rc = store_sqlite_fail(s, rc);
        goto err;
    }
    if ((rc = migrate(s, version)) < 0)
        goto err;
    for (int i = 0; i < Q_COUNT; i++)
        if ((rc = sqlite3_prepare_v3(l->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->stmt[i],
                                     NULL)) != SQLITE_OK) {
            rc = store_sqlite_fail(s, rc);
            goto err;
        }
    *out = s;
    return 0;
err:
    if (rc == -EROFS && strncmp(s->err, "read-only database", 18) != 0)
        rc = readonly_fail(s, path); /* its directory, most likely: no room for the -wal */
    snprintf(err, errsize, "%s: %s", path, s->err[0] ? s->err : "cannot open");
    lite_close(s);
    return rc;
}
