/* store/store.c — the SQLite store: opening in WAL mode, migrations by
 * PRAGMA user_version, prepared statements, one transaction per document,
 * storing articles through the four dedup rules of SPEC §7, retention with
 * tombstones. Queries for output are in store_query.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

#define H48 (48 * 3600)
#define H72 (72 * 3600)
#define MIN_BODY_CHARS 200 /* rule 4 applies to bodies at least this long */
#define MIN_TITLE_BYTES 9  /* rule 3 ignores titles shorter than 3 CJK / 9 ASCII characters */
#define SIMILAR 0.85

enum key_kind { KEY_GUID = 1, KEY_LINK = 2, KEY_TITLE = 3, KEY_BAND = 4 };

static const char *const default_tracking[] = {
    "utm_*", "spm", "fbclid", "gclid", "dclid", "mc_cid", "mc_eid", "yclid", "igshid",
    "_hsenc", "_hsmi", "ref_src", "mkt_tok", "mod", "cmpid", "ncid", "wt.mc_id"};

/* Migrations: entry i brings a database from user_version i to i + 1. Never
 * edit a released entry; append a new one. */
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
};

static const char *const sql[Q_COUNT] = {
    [Q_KEY_FIND] = "SELECT k.article_id, a.id IS NOT NULL FROM keys k"
                   " LEFT JOIN articles a ON a.id = k.article_id"
                   " WHERE k.kind = ?1 AND k.key = ?2 LIMIT 1",
    [Q_KEY_FIND_NEAR] = "SELECT k.article_id, a.id IS NOT NULL FROM keys k"
                        " LEFT JOIN articles a ON a.id = k.article_id"
                        " WHERE k.kind = ?1 AND k.key = ?2 AND k.at BETWEEN ?3 AND ?4",
    [Q_KEY_ADD] = "INSERT INTO keys(kind, key, article_id, at) VALUES(?1, ?2, ?3, ?4)",
    [Q_ART_GET] = "SELECT content_hash, body, feed_id FROM articles WHERE id = ?1",
    [Q_ART_INSERT] = "INSERT INTO articles(uid, feed_id, guid, title, link, author, categories,"
                     " date, updated, first_seen, headimg, thumbnail, comments, summary, body,"
                     " content_hash, republish)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14,"
                     " ?15, ?16)",
    [Q_ART_UPDATE] = "UPDATE articles SET title = ?2, link = ?3, author = ?4, categories = ?5,"
                     " headimg = ?6, thumbnail = ?7, summary = ?8, body = ?9,"
                     " content_hash = ?10, updated = ?11 WHERE id = ?1",
    [Q_SRC_ADD] = "INSERT OR IGNORE INTO sources(article_id, feed_id, seen) VALUES(?1, ?2, ?3)",
    [Q_FTS_INSERT] = "INSERT INTO articles_fts(rowid, title, body) VALUES(?1, ?2, ?3)",
    [Q_FTS_DELETE] = "DELETE FROM articles_fts WHERE rowid = ?1",
    [Q_ART_REPUBLISH] = "UPDATE articles SET republish = 1 WHERE id = ?1 AND republish = 0",
    [Q_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'generation'",
};

static int
errno_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return 0;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_CANTOPEN: return -ENOENT;
    case SQLITE_PERM:
    case SQLITE_AUTH: return -EACCES;
    default: return -EIO;
    }
}

/* Record SQLite's message on the handle and translate the code (STYLE §4). */
static int
fail(struct store *s, int rc)
{
    snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
    return errno_of(rc);
}

const char *
store_errmsg(const struct store *s)
{
    return s->err;
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

static int
migrate(struct store *s)
{
    sqlite3_stmt *st;
    int version = 0, rc;
    if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL)) != SQLITE_OK)
        return fail(s, rc);
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > store_schema_version()) {
        snprintf(s->err, sizeof(s->err),
                 "database schema %d is newer than this finfeed (%d): upgrade finfeed", version,
                 store_schema_version());
        return -EPROTO;
    }
    for (int v = version; v < store_schema_version(); v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
            return fail(s, rc);
        if ((rc = sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL)) != SQLITE_OK ||
            (rc = sqlite3_exec(s->db, pragma, NULL, NULL, NULL)) != SQLITE_OK) {
            int e = fail(s, rc);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return e;
        }
        if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
            return fail(s, rc);
    }
    return 0;
}

int
store_open(const char *path, struct store **out, char *err, size_t errsize)
{
    struct store *s = calloc(1, sizeof(*s));
    int rc;
    *out = NULL;
    if (s == NULL) {
        snprintf(err, errsize, "%s: out of memory", path);
        return -ENOMEM;
    }
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = s->db ? fail(s, rc) : -ENOMEM;
        goto err;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* A reader (the sqlite3 CLI, a backup) holding the lock must never make
     * a write fail: wait for it. */
    sqlite3_busy_timeout(s->db, 10000);
    if ((rc = sqlite3_exec(s->db,
                           "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                           "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;",
                           NULL, NULL, NULL)) != SQLITE_OK) {
        rc = fail(s, rc);
        goto err;
    }
    if ((rc = sqlite3_create_function(s->db, "finfeed_text", 1,
                                      SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_text, NULL,
                                      NULL)) != SQLITE_OK) {
        rc = fail(s, rc);
        goto err;
    }
    if ((rc = migrate(s)) < 0)
        goto err;
    for (int i = 0; i < Q_COUNT; i++)
        if ((rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                     NULL)) != SQLITE_OK) {
            rc = fail(s, rc);
            goto err;
        }
    if ((rc = store_set_tracking_params(s, NULL, 0)) < 0)
        goto err;
    *out = s;
    return 0;
err:
    snprintf(err, errsize, "%s: %s", path, s->err[0] ? s->err : "cannot open");
    store_close(s);
    return rc;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->in_tx)
        store_rollback(s);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (size_t i = 0; i < s->ntracking; i++)
        free(s->tracking[i]);
    free(s->tracking);
    if (s->db != NULL) {
        /* checkpoint so the -wal file does not outlive a clean shutdown */
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        sqlite3_close_v2(s->db);
    }
    free(s);
}

int
store_set_tracking_params(struct store *s, const char *const *params, size_t n)
{
    if (params == NULL || n == 0) {
        params = default_tracking;
        n = sizeof(default_tracking) / sizeof(default_tracking[0]);
    }
    char **l = calloc(n, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((l[i] = strdup(params[i])) == NULL) {
            while (i-- > 0)
                free(l[i]);
            free(l);
            return -ENOMEM;
        }
    for (size_t i = 0; i < s->ntracking; i++)
        free(s->tracking[i]);
    free(s->tracking);
    s->tracking = l;
    s->ntracking = n;
    return 0;
}

int
store_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO feeds(name, url) VALUES(?1, ?2)"
                                " ON CONFLICT(name) DO UPDATE SET url = coalesce(?2, url)"
                                " RETURNING id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    int e = rc == SQLITE_DONE ? 0 : fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

/* ---- transactions ---- */

int
store_begin(struct store *s)
{
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc);
    s->in_tx = 1;
    s->changed = 0;
    return 0;
}

int
store_commit(struct store *s)
{
    int rc;
    if (s->changed) {
        sqlite3_stmt *st = s->stmt[Q_GEN_BUMP];
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return fail(s, rc);
    }
    if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        return fail(s, rc);
    s->in_tx = 0;
    return 0;
}

void
store_rollback(struct store *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    s->changed = 0;
}

/* ---- storing an article ---- */

static uint64_t
hash64(uint64_t h, const char *p)
{
    for (; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

/* Run a statement that returns nothing. Resets it. */
static int
exec_stmt(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

static int
key_add_text(struct store *s, int kind, const char *key, int64_t article, int64_t at)
{
    sqlite3_stmt *st = s->stmt[Q_KEY_ADD];
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, article);
    sqlite3_bind_int64(st, 4, at);
    return exec_stmt(s, st);
}

static int
key_add_int(struct store *s, int kind, int64_t key, int64_t article, int64_t at)
{
    sqlite3_stmt *st = s->stmt[Q_KEY_ADD];
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_int64(st, 2, key);
    sqlite3_bind_int64(st, 3, article);
    sqlite3_bind_int64(st, 4, at);
    return exec_stmt(s, st);
}

/* First article holding key (kind, text key): 1 found (alive in *alive), 0 none. */
static int
key_find(struct store *s, int kind, const char *key, int64_t *article, int *alive)
{
    sqlite3_stmt *st = s->stmt[Q_KEY_FIND];
    sqlite3_bind_int(st, 1, kind);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        *article = sqlite3_column_int64(st, 0);
        *alive = sqlite3_column_int(st, 1);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = fail(s, rc);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

static int
add_source(struct store *s, int64_t article, int64_t feed_id, int republish, int64_t now)
{
    sqlite3_stmt *st = s->stmt[Q_SRC_ADD];
    sqlite3_bind_int64(st, 1, article);
    sqlite3_bind_int64(st, 2, feed_id);
    sqlite3_bind_int64(st, 3, now);
    int rc = exec_stmt(s, st);
    if (rc == 0 && sqlite3_changes(s->db) > 0)
        s->changed = 1;
    if (rc == 0 && republish) {
        st = s->stmt[Q_ART_REPUBLISH];
        sqlite3_bind_int64(st, 1, article);
        rc = exec_stmt(s, st);
    }
    return rc;
}

static char *
categories_json(const struct parse_article *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < a->ncategories; i++)
        json_array_append_new(arr, json_string(a->categories[i]));
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

/* Rule 4 candidates: articles sharing an LSH band within 72 h whose body
 * really is near-identical. 1 and *article when one is found. */
static int
find_similar(struct store *s, const uint64_t *set, size_t n, const uint64_t bands[STORE_BANDS],
             int64_t date, int64_t *article, int *alive)
{
    sqlite3_stmt *st = s->stmt[Q_KEY_FIND_NEAR];
    int64_t seen[64];
    size_t nseen = 0;
    int found = 0;
    for (int b = 0; b < STORE_BANDS && !found; b++) {
        sqlite3_bind_int(st, 1, KEY_BAND);
        sqlite3_bind_int64(st, 2, (int64_t)bands[b]);
        sqlite3_bind_int64(st, 3, date - H72);
        sqlite3_bind_int64(st, 4, date + H72);
        int64_t cand[16];
        size_t nc = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && nc < 16)
            if (sqlite3_column_int(st, 1)) /* a pruned body cannot be compared */
                cand[nc++] = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return fail(s, rc);
        for (size_t i = 0; i < nc && !found; i++) {
            int dup = 0;
            for (size_t j = 0; j < nseen; j++)
                dup |= seen[j] == cand[i];
            if (dup)
                continue;
            if (nseen < 64)
                seen[nseen++] = cand[i];
            sqlite3_stmt *g = s->stmt[Q_ART_GET];
            sqlite3_bind_int64(g, 1, cand[i]);
            if (sqlite3_step(g) == SQLITE_ROW) {
                char *text = parse_html_text((const char *)sqlite3_column_text(g, 1));
                uint64_t *other = NULL;
                size_t no, chars;
                if (text != NULL && store_shingles(text, &other, &no, &chars) == 0 &&
                    store_jaccard(set, n, other, no) >= SIMILAR) {
                    *article = cand[i];
                    *alive = 1;
                    found = 1;
                }
                free(other);
                free(text);
            }
            sqlite3_reset(g);
        }
    }
    return found;
}

static int
update_article(struct store *s, int64_t id, const struct parse_article *a, const char *cats,
               const char *text, uint64_t hash, int64_t now)
{
    sqlite3_stmt *st = s->stmt[Q_ART_UPDATE];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->link, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, cats, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->headimg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->thumbnail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, a->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, a->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (int64_t)hash);
    sqlite3_bind_int64(st, 11, now);
    int rc = exec_stmt(s, st);
    if (rc < 0)
        return rc;
    st = s->stmt[Q_FTS_DELETE];
    sqlite3_bind_int64(st, 1, id);
    if ((rc = exec_stmt(s, st)) < 0)
        return rc;
    st = s->stmt[Q_FTS_INSERT];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    s->changed = 1;
    return exec_stmt(s, st);
}

static int
insert_article(struct store *s, int64_t feed_id, const struct parse_article *a, const char *cats,
               const char *text, uint64_t hash, int republish, int64_t now, int64_t *id)
{
    unsigned char r[16];
    char uid[48];
    sqlite3_randomness(sizeof(r), r);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* UUID version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(uid, sizeof(uid),
             "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
    sqlite3_stmt *st = s->stmt[Q_ART_INSERT];
    sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, feed_id);
    sqlite3_bind_text(st, 3, a->guid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->link, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->author, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, cats, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, a->date);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_text(st, 10, a->headimg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, a->thumbnail, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 12, a->comments);
    sqlite3_bind_text(st, 13, a->summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, a->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 15, (int64_t)hash);
    sqlite3_bind_int(st, 16, republish ? 1 : 0);
    int rc = exec_stmt(s, st);
    if (rc < 0)
        return rc;
    *id = sqlite3_last_insert_rowid(s->db);
    st = s->stmt[Q_FTS_INSERT];
    sqlite3_bind_int64(st, 1, *id);
    sqlite3_bind_text(st, 2, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    s->changed = 1;
    return exec_stmt(s, st);
}

int
store_add(struct store *s, int64_t feed_id, const struct parse_article *a, int republish,
          int64_t now, enum store_outcome *outcome)
{
    enum store_outcome out = STORE_NEW;
    char *guid_key = NULL, *canon = NULL, *tkey = NULL, *text = NULL, *cats = NULL;
    uint64_t *set = NULL, bands[STORE_BANDS];
    size_t nset = 0, chars = 0;
    int64_t article = 0;
    int alive = 0, rc = -ENOMEM, found;
    uint64_t hash = hash64(hash64(0xcbf29ce484222325ULL, a->title), a->body);

    size_t gl = strlen(a->guid) + 32;
    if ((guid_key = malloc(gl)) == NULL)
        goto out;
    snprintf(guid_key, gl, "%" PRId64 "\x1f%s", feed_id, a->guid);
    if ((cats = categories_json(a)) == NULL || (text = parse_html_text(a->body)) == NULL)
        goto out;

    /* 1. same feed, same guid: unchanged, or updated in place */
    if ((found = key_find(s, KEY_GUID, guid_key, &article, &alive)) < 0) {
        rc = found;
        goto out;
    }
    if (found) {
        out = STORE_UNCHANGED;
        rc = 0;
        if (!alive)
            goto out; /* a tombstone: pruned, never new again */
        sqlite3_stmt *g = s->stmt[Q_ART_GET];
        sqlite3_bind_int64(g, 1, article);
        uint64_t old = hash;
        if (sqlite3_step(g) == SQLITE_ROW && sqlite3_column_int64(g, 2) == feed_id)
            old = (uint64_t)sqlite3_column_int64(g, 0); /* only its first source updates it */
        sqlite3_reset(g);
        if (old != hash) {
            out = STORE_UPDATED;
            rc = update_article(s, article, a, cats, text, hash, now);
            char *t2 = store_title_key(a->title);
            if (rc == 0 && t2 != NULL && strlen(t2) >= MIN_TITLE_BYTES)
                rc = key_add_text(s, KEY_TITLE, t2, article, a->date);
            free(t2);
        }
        goto out;
    }

    /* 2. any feed, same canonical link */
    canon = store_canonical_link(s, a->link);
    found = canon ? key_find(s, KEY_LINK, canon, &article, &alive) : 0;
    /* 3. same normalized title within 48 h */
    tkey = store_title_key(a->title);
    if (found == 0 && tkey != NULL && strlen(tkey) >= MIN_TITLE_BYTES) {
        sqlite3_stmt *st = s->stmt[Q_KEY_FIND_NEAR];
        sqlite3_bind_int(st, 1, KEY_TITLE);
        sqlite3_bind_text(st, 2, tkey, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a->date - H48);
        sqlite3_bind_int64(st, 4, a->date + H48);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            article = sqlite3_column_int64(st, 0);
            alive = sqlite3_column_int(st, 1);
            found = 1;
        } else if (r != SQLITE_DONE) {
            found = fail(s, r);
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    /* 4. near-identical body within 72 h */
    if ((rc = store_shingles(text, &set, &nset, &chars)) < 0)
        goto out;
    if (chars >= MIN_BODY_CHARS)
        store_bands(set, nset, bands);
    if (found == 0 && chars >= MIN_BODY_CHARS)
        found = find_similar(s, set, nset, bands, a->date, &article, &alive);
    if (found < 0) {
        rc = found;
        goto out;
    }
    if (found) {
        /* another source of an article already stored; its guid now points
         * there, so the next fetch of this item is rule 1 */
        out = alive ? STORE_DUPLICATE : STORE_UNCHANGED;
        if ((rc = key_add_text(s, KEY_GUID, guid_key, article, a->date)) < 0)
            goto out;
        if (alive)
            rc = add_source(s, article, feed_id, republish, now);
        goto out;
    }

    /* new */
    if ((rc = insert_article(s, feed_id, a, cats, text, hash, republish, now, &article)) < 0 ||
        (rc = add_source(s, article, feed_id, 0, now)) < 0 ||
        (rc = key_add_text(s, KEY_GUID, guid_key, article, a->date)) < 0)
        goto out;
    if (canon != NULL && (rc = key_add_text(s, KEY_LINK, canon, article, a->date)) < 0)
        goto out;
    if (tkey != NULL && strlen(tkey) >= MIN_TITLE_BYTES &&
        (rc = key_add_text(s, KEY_TITLE, tkey, article, a->date)) < 0)
        goto out;
    if (chars >= MIN_BODY_CHARS)
        for (int b = 0; b < STORE_BANDS; b++)
            if ((rc = key_add_int(s, KEY_BAND, (int64_t)bands[b], article, a->date)) < 0)
                goto out;
    rc = 0;
out:
    if (rc == 0 && outcome != NULL)
        *outcome = out;
    free(guid_key);
    free(canon);
    free(tkey);
    free(text);
    free(cats);
    free(set);
    return rc;
}

/* ---- retention ---- */

int
store_prune(struct store *s, int64_t cutoff, long *deleted)
{
    static const char *const steps[] = {
        "DELETE FROM articles_fts WHERE rowid IN (SELECT id FROM articles WHERE date < ?1)",
        "DELETE FROM sources WHERE article_id IN (SELECT id FROM articles WHERE date < ?1)",
        "DELETE FROM articles WHERE date < ?1",
        /* guid and link keys stay as tombstones; title and body keys only
         * matter inside their 48/72 h windows */
        "DELETE FROM keys WHERE kind IN (3, 4) AND at < ?1 - 259200"
        " AND article_id NOT IN (SELECT id FROM articles)",
    };
    long n = 0;
    int rc = store_begin(s);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st;
        if ((rc = sqlite3_prepare_v2(s->db, steps[i], -1, &st, NULL)) != SQLITE_OK) {
            rc = fail(s, rc);
            store_rollback(s);
            return rc;
        }
        sqlite3_bind_int64(st, 1, cutoff);
        rc = sqlite3_step(st);
        if (i == 2)
            n = sqlite3_changes(s->db);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            rc = fail(s, rc);
            store_rollback(s);
            return rc;
        }
    }
    s->changed = n > 0;
    if ((rc = store_commit(s)) < 0)
        return rc;
    if (deleted)
        *deleted = n;
    return 0;
}
