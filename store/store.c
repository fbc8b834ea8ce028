/* store/store.c — the SQLite store: opening in WAL mode, migrations by
 * PRAGMA user_version, prepared statements, one transaction per document,
 * the feeds table, retention with tombstones. Storing an article through the
 * dedup rules is store_add.c; queries for output are store_query.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

/* Rule 3 and 4 keys of pruned articles matter only inside their windows. */
#define KEY_WINDOW (72 * 3600)
/* Nothing first seen within a day is pruned, whatever its date. */
#define DAY (24 * 3600)

static const char *const default_tracking[] = {
    "utm_*",  "spm",    "fbclid", "gclid",   "dclid",   "mc_cid", "mc_eid", "yclid",
    "igshid", "_hsenc", "_hsmi",  "ref_src", "mkt_tok", "cmpid",  "ncid",   "wt.mc_id"};

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
};

/* Lookups prefer a live article over a tombstone (a pruned article's keys). */
static const char *const sql[Q_COUNT] = {
    [Q_KEY_FIND] = "SELECT k.article_id, a.id IS NOT NULL FROM keys k"
                   " LEFT JOIN articles a ON a.id = k.article_id"
                   " WHERE k.kind = ?1 AND k.key = ?2 ORDER BY a.id IS NULL LIMIT 1",
    [Q_KEY_FIND_NEAR] = "SELECT k.article_id, a.id IS NOT NULL FROM keys k"
                        " LEFT JOIN articles a ON a.id = k.article_id"
                        " WHERE k.kind = ?1 AND k.key = ?2 AND k.at BETWEEN ?3 AND ?4"
                        " ORDER BY a.id IS NULL",
    [Q_KEY_HAS] = "SELECT 1 FROM keys WHERE kind = ?1 AND key = ?2 AND article_id = ?3 LIMIT 1",
    [Q_KEY_ADD] = "INSERT INTO keys(kind, key, article_id, at) VALUES(?1, ?2, ?3, ?4)",
    [Q_KEY_COLUMN] = "SELECT DISTINCT key FROM keys WHERE kind = 5 AND key >= ?1 AND key < ?2"
                     " LIMIT 3",
    [Q_ART_GET] = "SELECT content_hash, feed_id FROM articles WHERE id = ?1",
    [Q_ART_TEXT] = "SELECT body FROM articles_fts WHERE rowid = ?1",
    [Q_ART_INSERT] = "INSERT INTO articles(uid, feed_id, guid, title, link, author, categories,"
                     " date, updated, first_seen, headimg, thumbnail, comments, summary, body,"
                     " content_hash, republish, rejected_date)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14,"
                     " ?15, ?16, ?17)",
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
store_fail(struct store *s, int rc)
{
    snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
    return errno_of(rc);
}

int
store_exec(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int e = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail(s, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
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

/* One integer from a one-row query; -1 when it fails (message on s). */
static int
query_int(struct store *s, const char *q, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_fail(s, rc);
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    int e = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc);
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
    int rc;
    for (int v = version; v < store_schema_version(); v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
        if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
            return store_fail(s, rc);
        if ((rc = sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL)) != SQLITE_OK ||
            (rc = sqlite3_exec(s->db, pragma, NULL, NULL, NULL)) != SQLITE_OK ||
            (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
            int e = errno_of(rc);
            snprintf(s->err, sizeof(s->err), "migration to schema %d: %.200s", v + 1,
                     sqlite3_errmsg(s->db));
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return e;
        }
    }
    return 0;
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
        snprintf(s->err, sizeof(s->err), "read-only database (%s)", sqlite3_errmsg(s->db));
    else
        snprintf(s->err, sizeof(s->err), "read-only database (%s%.160s not writable: %s)",
                 is_dir ? "directory " : "file", is_dir ? dir : "", strerror(e));
    return e == EACCES || e == EPERM ? -EACCES : -EROFS;
}

int
store_open(const char *path, struct store **out, char *err, size_t errsize)
{
    struct store *s = calloc(1, sizeof(*s));
    int rc, version;
    *out = NULL;
    if (s == NULL) {
        snprintf(err, errsize, "%s: out of memory", path);
        return -ENOMEM;
    }
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = s->db ? store_fail(s, rc) : -ENOMEM;
        goto err;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* SQLite falls back to reading only when the file is write-protected:
     * say so now, with the path, rather than on the first feed written. */
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        rc = readonly_fail(s, path);
        goto err;
    }
    /* A reader (the sqlite3 CLI, a backup) or another writer holding the lock
     * must never make a write fail: wait for it. */
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    /* Closing does not checkpoint: a checkpoint costs two or three fsyncs,
     * which dominated one `finfeed ingest` per feed; the WAL is folded into
     * the database by SQLite's auto-checkpoint (every 1000 pages) instead,
     * and a later open reads it, so nothing is lost. */
    if ((rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL)) != SQLITE_OK) {
        rc = store_fail(s, rc);
        goto err;
    }
    if ((rc = check_schema(s, &version)) < 0)
        goto err;
    if ((rc = sqlite3_exec(s->db,
                           "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                           "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;",
                           NULL, NULL, NULL)) != SQLITE_OK) {
        rc = store_fail(s, rc);
        goto err;
    }
    if ((rc = sqlite3_create_function(s->db, "finfeed_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                      NULL, sql_text, NULL, NULL)) != SQLITE_OK) {
        rc = store_fail(s, rc);
        goto err;
    }
    if ((rc = migrate(s, version)) < 0)
        goto err;
    for (int i = 0; i < Q_COUNT; i++)
        if ((rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                     NULL)) != SQLITE_OK) {
            rc = store_fail(s, rc);
            goto err;
        }
    if ((rc = store_set_tracking_params(s, NULL, 0)) < 0) {
        snprintf(s->err, sizeof(s->err), "out of memory");
        goto err;
    }
    *out = s;
    return 0;
err:
    if (rc == -EROFS && strncmp(s->err, "read-only database", 18) != 0)
        rc = readonly_fail(s, path); /* its directory, most likely: no room for the -wal */
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
    sqlite3_close_v2(s->db);
    free(s);
}

int
store_set_busy_timeout(struct store *s, int ms)
{
    if (ms < 0)
        return -EINVAL;
    return sqlite3_busy_timeout(s->db, ms) == SQLITE_OK ? 0 : -EINVAL;
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
                                "INSERT INTO feeds(name, url, config_url) VALUES(?1, ?2, ?2)"
                                " ON CONFLICT(name) DO UPDATE SET"
                                /* a moved feed keeps its new URL while the
                                 * configured one stays the same (SPEC §6) */
                                "  url = CASE WHEN ?2 IS NULL OR config_url IS ?2 THEN url"
                                "        ELSE ?2 END,"
                                "  config_url = coalesce(?2, config_url)"
                                " RETURNING id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_fail(s, rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    int e = rc == SQLITE_DONE ? 0 : store_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

/* ---- transactions ---- */

int
store_begin(struct store *s)
{
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout),
     * not at the first write, where a lock upgrade cannot wait */
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail(s, rc);
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
        if ((rc = store_exec(s, st)) < 0)
            return rc;
    }
    if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
        return store_fail(s, rc);
    s->in_tx = 0;
    s->changed = 0;
    return 0;
}

void
store_rollback(struct store *s)
{
    if (sqlite3_get_autocommit(s->db) == 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = 0;
    s->changed = 0;
}

/* ---- retention ---- */

int
store_prune(struct store *s, int64_t cutoff, int64_t now, long *deleted)
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
    long n = 0;
    int rc = store_begin(s);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sqlite3_stmt *st;
        if ((rc = sqlite3_prepare_v2(s->db, steps[i], -1, &st, NULL)) != SQLITE_OK) {
            rc = store_fail(s, rc);
            store_rollback(s);
            return rc;
        }
        sqlite3_bind_int64(st, 1, cutoff);
        if (i == 3)
            sqlite3_bind_int64(st, 2, KEY_WINDOW);
        else
            sqlite3_bind_int64(st, 3, now > INT64_MIN + DAY ? now - DAY : INT64_MIN);
        rc = sqlite3_step(st);
        if (i == 2)
            n = sqlite3_changes(s->db);
        if (rc != SQLITE_DONE) {
            rc = store_fail(s, rc);
            sqlite3_finalize(st);
            store_rollback(s);
            return rc;
        }
        sqlite3_finalize(st);
    }
#undef PRUNABLE
    s->changed = n > 0;
    if ((rc = store_commit(s)) < 0) {
        store_rollback(s);
        return rc;
    }
    if (deleted)
        *deleted = n;
    return 0;
}
