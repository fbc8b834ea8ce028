/* store/sqlite_backup.c — the SQLite side of backup, restore and check: the
 * online backup API on connections of its own, a file made one file again
 * (its WAL folded in), and store_check's physical checks (integrity_check,
 * the FTS5 index) and invariants, on a handle that never migrates. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_int.h"

#define STEP_PAGES 1024       /* pages a backup step copies (4 MiB of 4 KiB pages) */
#define BUSY_RETRY_MS 20      /* wait between two tries of a busy step */
#define BUSY_GIVE_UP_MS 30000 /* … and for how long in all, without progress */
#define INTEGRITY_LINES 20    /* integrity_check's lines reported at most */

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* "PATH: what: SQLite's message" into err; the negative errno of rc. */
static int
db_fail(sqlite3 *db, int rc, const char *path, const char *what, char *err, size_t errsize)
{
    snprintf(err, errsize, "%s: %s: %s", path, what,
             db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return store_sqlite_errno(rc);
}

int
store_sqlite_backup_file(const char *src, const char *dst, store_progress_cb cb, void *arg,
                         char *err, size_t errsize)
{
    sqlite3 *from = NULL, *to = NULL;
    sqlite3_backup *b = NULL;
    int rc, e = 0, waited = 0;
    store_sqlite_init();
    /* read-only: a backup never writes the store (nor needs the right to) */
    if ((rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)) !=
        SQLITE_OK) {
        e = db_fail(from, rc, src, "cannot open", err, errsize);
        goto out;
    }
    sqlite3_busy_timeout(from, STORE_BUSY_TIMEOUT_MS);
    /* One read transaction for the whole copy: every step reads the same
     * snapshot (WAL: the writer goes on meanwhile), so the copy never
     * restarts because the daemon wrote, and holds exactly what was
     * committed when it began. */
    if ((rc = sqlite3_exec(from, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL)) !=
        SQLITE_OK) {
        e = db_fail(from, rc, src, "cannot read", err, errsize);
        goto out;
    }
    if ((rc = sqlite3_open_v2(dst, &to,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              NULL)) != SQLITE_OK) {
        e = db_fail(to, rc, dst, "cannot create", err, errsize);
        goto out;
    }
    if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
        e = db_fail(to, sqlite3_errcode(to), dst, "backup", err, errsize);
        goto out;
    }
    for (;;) {
        rc = sqlite3_backup_step(b, STEP_PAGES);
        if (rc == SQLITE_OK || rc == SQLITE_DONE) {
            long total = sqlite3_backup_pagecount(b);
            waited = 0;
            if (cb != NULL)
                cb(arg, "pages", total - sqlite3_backup_remaining(b), total);
            if (rc == SQLITE_DONE)
                break;
        } else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            /* another connection holds a lock the step needs (a WAL being
             * recovered, a checkpoint): wait for it, as SQLite's own shell does */
            if ((waited += BUSY_RETRY_MS) > BUSY_GIVE_UP_MS) {
                snprintf(err, errsize, "%s: locked by another connection for %d s", src,
                         BUSY_GIVE_UP_MS / 1000);
                e = -EBUSY;
                goto out;
            }
            sleep_ms(BUSY_RETRY_MS);
        } else {
            /* the step's error is on the destination (full, read-only) or
             * the source (damaged): say which by the code */
            int full = rc == SQLITE_FULL || rc == SQLITE_READONLY || (rc & 0xff) == SQLITE_IOERR;
            e = db_fail(NULL, rc, full ? dst : src, full ? "writing" : "reading", err, errsize);
            goto out;
        }
    }
    rc = sqlite3_backup_finish(b);
    b = NULL;
    if (rc != SQLITE_OK) {
        e = db_fail(to, rc, dst, "backup", err, errsize);
        goto out;
    }
    /* the copy's header says WAL, as the store's does: one file instead */
    if ((rc = sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL)) != SQLITE_OK)
        e = db_fail(to, rc, dst, "journal_mode", err, errsize);
out:
    if (b != NULL)
        sqlite3_backup_finish(b);
    if (to != NULL && sqlite3_close(to) != SQLITE_OK && e == 0)
        e = db_fail(NULL, SQLITE_IOERR, dst, "close", err, errsize);
    if (from != NULL) {
        sqlite3_exec(from, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(from);
    }
    return e;
}

int
store_sqlite_unwal(const char *path, char *err, size_t errsize)
{
    sqlite3 *db = NULL;
    store_sqlite_init();
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL), e = 0;
    if (rc != SQLITE_OK)
        e = db_fail(db, rc, path, "cannot open", err, errsize);
    else if ((rc = sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE",
                                NULL, NULL, NULL)) != SQLITE_OK)
        e = db_fail(db, rc, path, "journal_mode", err, errsize);
    if (db != NULL && sqlite3_close(db) != SQLITE_OK && e == 0)
        e = db_fail(NULL, SQLITE_IOERR, path, "close", err, errsize);
    return e;
}

/* ---- store_check's handle ---- */

static void
check_close(struct store *s)
{
    struct sqlite_store *l = sqlite_of(s);
    if (l->db != NULL) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(l->db);
    }
    free(l);
}

static void report(store_report_cb cb, void *arg, int problem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
report(store_report_cb cb, void *arg, int problem, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (cb != NULL)
        cb(arg, problem, line);
}

static int
check_integrity(struct store *s, store_report_cb cb, void *arg, long *problems)
{
    sqlite3 *db = sqlite_of(s)->db;
    sqlite3_stmt *st;
    int rc, lines = 0, fts = 0;
    /* integrity_check: "ok", or one line a problem (at most 100) */
    if ((rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(100)", -1, &st, NULL)) != SQLITE_OK) {
        report(cb, arg, 1, "integrity_check: %s", sqlite3_errmsg(db));
        ++*problems;
        return 0;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t != NULL && strcmp(t, "ok") == 0) {
            report(cb, arg, 0, "integrity_check: ok");
            continue;
        }
        ++*problems;
        if (lines++ < INTEGRITY_LINES)
            report(cb, arg, 1, "integrity_check: %s", t ? t : "(null)");
    }
    if (rc != SQLITE_DONE) {
        report(cb, arg, 1, "integrity_check: %s", sqlite3_errmsg(db));
        ++*problems;
    }
    sqlite3_finalize(st);
    if (lines > INTEGRITY_LINES)
        report(cb, arg, 1, "integrity_check: … %d lines in all", lines);
    if (*problems > 0)
        return 0; /* a damaged file: the index check would only repeat it */

    /* FTS5's own check of its index against its content: a command written
     * as an INSERT, so it needs a write transaction (rolled back; it
     * changes nothing). A file that may not be written is said so. */
    if ((rc = sqlite3_prepare_v2(db,
                                 "SELECT count(*) FROM sqlite_master WHERE name = 'articles_fts'",
                                 -1, &st, NULL)) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        fts = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (!fts)
        return 0;
    if (sqlite3_db_readonly(db, "main") == 1) {
        report(cb, arg, 0, "fts5 integrity-check: not run (the file is read-only to us)");
        return 0;
    }
    rc = sqlite3_exec(db,
                      "BEGIN IMMEDIATE;"
                      "INSERT INTO articles_fts(articles_fts) VALUES('integrity-check')",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        report(cb, arg, 0, "fts5 integrity-check: ok");
    } else if ((rc & 0xff) == SQLITE_BUSY) {
        report(cb, arg, 0, "fts5 integrity-check: not run (%s)", sqlite3_errmsg(db));
    } else {
        report(cb, arg, 1, "fts5 integrity-check: %s", sqlite3_errmsg(db));
        ++*problems;
    }
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return 0;
}

/* Each invariant's count of offenders and smallest id (schema 1 columns and
 * articles_fts of schema 2). Guid and feed-title keys start "FEED_ID\x1f". */
#define FEED_OF_KEY "CAST(substr(key, 1, instr(key, char(31)) - 1) AS INTEGER)"
static const char *const invariant_sql[STORE_INV_COUNT] = {
    [STORE_INV_ART_NO_SOURCE] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                                " (SELECT 1 FROM sources s WHERE s.article_id = a.id)",
    [STORE_INV_ART_FIRST_SOURCE] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                                   " (SELECT 1 FROM sources s WHERE s.article_id = a.id"
                                   " AND s.feed_id = a.feed_id)",
    [STORE_INV_ART_FEED] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                           " (SELECT 1 FROM feeds f WHERE f.id = a.feed_id)",
    [STORE_INV_ART_GUID_KEY] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                               " (SELECT 1 FROM keys k WHERE k.kind = 1"
                               " AND k.key = a.feed_id || char(31) || a.guid"
                               " AND k.article_id = a.id)",
    [STORE_INV_SRC_FEED] = "SELECT count(*), min(article_id) FROM sources s WHERE NOT EXISTS"
                           " (SELECT 1 FROM feeds f WHERE f.id = s.feed_id)",
    [STORE_INV_SRC_ARTICLE] = "SELECT count(*), min(article_id) FROM sources s WHERE NOT EXISTS"
                              " (SELECT 1 FROM articles a WHERE a.id = s.article_id)",
    [STORE_INV_KEY_KIND] =
        "SELECT count(*), min(article_id) FROM keys WHERE kind NOT BETWEEN 1 AND 6",
    [STORE_INV_KEY_FEED] = "SELECT count(*), min(article_id) FROM keys WHERE kind IN (1, 5)"
                           " AND " FEED_OF_KEY " NOT IN (SELECT id FROM feeds)",
    [STORE_INV_SEARCH_MISSING] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                                 " (SELECT 1 FROM articles_fts f WHERE f.rowid = a.id)",
    [STORE_INV_SEARCH_ORPHAN] = "SELECT count(*), min(rowid) FROM articles_fts f WHERE NOT EXISTS"
                                " (SELECT 1 FROM articles a WHERE a.id = f.rowid)",
    [STORE_INV_TOMBSTONES] = "SELECT count(*), min(article_id) FROM keys k WHERE NOT EXISTS"
                             " (SELECT 1 FROM articles a WHERE a.id = k.article_id)",
    /* an INTEGER PRIMARY KEY without AUTOINCREMENT hands out max(id) + 1:
     * the id of a pruned newest article would come back, but for the
     * largest id pruned (meta article_floor, schema 8), which new ids pass */
    [STORE_INV_TOMB_ABOVE] = "SELECT count(*), min(article_id) FROM keys"
                             " WHERE article_id > max((SELECT coalesce(max(id), 0) FROM articles),"
                             " coalesce((SELECT value FROM meta WHERE key = 'article_floor'), 0))",
    [STORE_INV_TOMB_LIVE] = "SELECT count(*), min(article_id) FROM tombstones t WHERE EXISTS"
                            " (SELECT 1 FROM articles a WHERE a.id = t.article_id)",
    [STORE_INV_TOMB_UNTRACKED] = "SELECT count(*), min(article_id) FROM keys k WHERE kind <> 6"
                                 " AND NOT EXISTS"
                                 " (SELECT 1 FROM articles a WHERE a.id = k.article_id)"
                                 " AND NOT EXISTS"
                                 " (SELECT 1 FROM tombstones t WHERE t.article_id = k.article_id)",
    [STORE_INV_BAND_LIVE] = "SELECT count(*), min(article_id) FROM bands b WHERE NOT EXISTS"
                            " (SELECT 1 FROM articles a WHERE a.id = b.article_id)",
    [STORE_INV_TICKER_ARTICLE] = "SELECT count(*), min(article_id) FROM article_tickers t"
                                 " WHERE NOT EXISTS"
                                 " (SELECT 1 FROM articles a WHERE a.id = t.article_id)",
};
#undef FEED_OF_KEY

static int
check_invariant(struct store *s, int which, long *n, int64_t *sample)
{
    sqlite3 *db = sqlite_of(s)->db;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, invariant_sql[which], -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *n = (long)sqlite3_column_int64(st, 0);
        *sample = sqlite3_column_int64(st, 1);
    }
    int e = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

static const struct store_ops check_ops = {
    .close = check_close,
    .integrity = check_integrity,
    .invariant = check_invariant,
    .raw_count = store_sqlite_raw_count,
};

int
store_sqlite_open_check(const char *path, struct store **out, int *version, char *err,
                        size_t errsize)
{
    struct sqlite_store *l = calloc(1, sizeof(*l));
    sqlite3_stmt *st = NULL;
    int rc, tables = 0;
    *out = NULL;
    *version = 0;
    if (l == NULL) {
        snprintf(err, errsize, "%s: out of memory", path);
        return -ENOMEM;
    }
    l->s.ops = &check_ops;
    store_sqlite_init();
    /* never created (a missing file is an error, not an empty store) */
    rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(l->db);
        l->db = NULL;
        rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    }
    if (rc != SQLITE_OK) {
        int e = db_fail(l->db, rc, path, "cannot open", err, errsize);
        check_close(&l->s);
        return e;
    }
    sqlite3_extended_result_codes(l->db, 1);
    sqlite3_busy_timeout(l->db, STORE_BUSY_TIMEOUT_MS);
    *out = &l->s;
    /* the version and whether it has tables: a file that is no database
     * fails here, which is what the check reports */
    if ((rc = sqlite3_prepare_v2(l->db,
                                 "SELECT (SELECT user_version FROM pragma_user_version),"
                                 " (SELECT count(*) FROM sqlite_master)",
                                 -1, &st, NULL)) != SQLITE_OK ||
        (rc = sqlite3_step(st)) != SQLITE_ROW) {
        rc = store_sqlite_fail(&l->s, rc);
        sqlite3_finalize(st);
        return rc;
    }
    *version = sqlite3_column_int(st, 0);
    tables = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    if (*version > store_schema_version()) {
        snprintf(l->s.err, sizeof(l->s.err),
                 "schema %d is newer than this finfeed's (%d): check it with a newer finfeed",
                 *version, store_schema_version());
        return -EPROTO;
    }
    if (*version == 0) {
        snprintf(l->s.err, sizeof(l->s.err), "not a finfeed database (%s)",
                 tables > 0 ? "tables but no schema version" : "empty");
        return -EIO;
    }
    return 0;
}
