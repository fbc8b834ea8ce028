/* store/store_backup.c — backup, restore and check over both backends: one
 * backup format (a SQLite file), written beside its destination under a
 * temporary name, checked, synced and renamed into place; restore checks
 * first and never overwrites what it replaces (WHERE.before-restore). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

/* What each invariant's offenders are, and what its sample id is, for the
 * report. */
static const struct {
    const char *what, *first;
} invariant_text[STORE_INV_COUNT] = {
    [STORE_INV_ART_NO_SOURCE] = {"articles without a source", "article"},
    [STORE_INV_ART_FIRST_SOURCE] = {"articles whose first feed is not among their sources",
                                    "article"},
    [STORE_INV_ART_FEED] = {"articles naming a feed that does not exist", "article"},
    [STORE_INV_ART_GUID_KEY] = {"articles without their guid key (their feed would store them"
                                " again)",
                                "article"},
    [STORE_INV_SRC_FEED] = {"sources naming a feed that does not exist", "article"},
    [STORE_INV_SRC_ARTICLE] = {"sources naming an article that does not exist", "article"},
    [STORE_INV_KEY_KIND] = {"dedup keys of an unknown kind", "article"},
    [STORE_INV_KEY_FEED] = {"guid or feed-title keys naming a feed that does not exist", "article"},
    [STORE_INV_SEARCH_MISSING] = {"articles missing from the search index", "article"},
    [STORE_INV_SEARCH_ORPHAN] = {"search rows without an article", "row"},
    [STORE_INV_TOMB_LIVE] = {"tombstones naming an article that is not pruned", "article"},
    [STORE_INV_TOMB_UNTRACKED] = {"dedup keys of pruned articles without a tombstone (they"
                                  " would never expire)",
                                  "article"},
    [STORE_INV_TICKER_ARTICLE] = {"tickers naming an article that does not exist", "article"},
    [STORE_INV_BAND_LIVE] = {"LSH band keys naming no live article (prune deletes them)",
                             "article"},
};

/* SQLite's schema that has the tombstones table (migration 8). */
#define SQLITE_TOMBSTONES 8
/* … and the one that has the tickers (migration 11, SPEC §12). */
#define SQLITE_TICKERS 11
/* … and the one with the bands table (migration 13). */
#define SQLITE_BANDS 13

static void say(store_report_cb cb, void *arg, int problem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
say(store_report_cb cb, void *arg, int problem, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    if (cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cb(arg, problem, line);
}

/* The invariants of an open handle, each to cb; problems added. */
static void
check_invariants(struct store *s, int version, store_report_cb cb, void *arg, long *problems)
{
    static const char *const table[] = {"feeds", "articles", "sources", "keys", "tombstones"};
    long count[STORE_T_COUNT] = {0}, n, found = 0;
    int64_t sample;
    int rc;
    if (s->ops->raw_count != NULL) {
        for (int t = 0; t < STORE_T_COUNT; t++)
            if (s->ops->raw_count(s, t, &count[t]) < 0)
                count[t] = -1;
        if (version >= SQLITE_TOMBSTONES)
            say(cb, arg, 0, "%ld %s, %ld %s, %ld %s, %ld %s, %ld %s", count[0], table[0],
                count[1], table[1], count[2], table[2], count[3], table[3], count[4], table[4]);
        else
            say(cb, arg, 0, "%ld %s, %ld %s, %ld %s, %ld %s", count[0], table[0], count[1],
                table[1], count[2], table[2], count[3], table[3]);
    }
    for (int i = 0; i < STORE_INV_COUNT; i++) {
        if ((i == STORE_INV_SEARCH_MISSING || i == STORE_INV_SEARCH_ORPHAN) && version < 2)
            continue; /* SQLite's schema 1 had no search index */
        if ((i == STORE_INV_TOMB_LIVE || i == STORE_INV_TOMB_UNTRACKED) &&
            version < SQLITE_TOMBSTONES)
            continue; /* nor a tombstones table before schema 8 */
        if (i == STORE_INV_TICKER_ARTICLE && version < SQLITE_TICKERS)
            continue; /* nor the tickers before schema 11 */
        if (i == STORE_INV_BAND_LIVE && version < SQLITE_BANDS)
            continue; /* nor the bands table before schema 13 */
        n = 0;
        sample = 0;
        if ((rc = s->ops->invariant(s, i, &n, &sample)) == -ENOTSUP)
            continue;
        if (rc < 0) {
            say(cb, arg, 1, "invariants: cannot check: %s", store_errmsg(s));
            ++*problems;
            return;
        }
        if (i == STORE_INV_TOMBSTONES) {
            say(cb, arg, 0,
                "%ld dedup keys of pruned articles (tombstones: kept until tombstone_retention"
                " after an item holding them was last seen)",
                n);
        } else if (i == STORE_INV_TOMB_ABOVE) {
            if (n > 0)
                say(cb, arg, 0,
                    "warning: %ld dedup keys name article ids the next article could take"
                    " (above the newest article and every id pruned): they would then point"
                    " at it",
                    n);
        } else if (n > 0) {
            say(cb, arg, 1, "%ld %s (first: %s %" PRId64 ")", n, invariant_text[i].what,
                invariant_text[i].first, sample);
            *problems += n;
            found = 1;
        }
    }
    if (!found)
        say(cb, arg, 0, "invariants: ok");
}

int
store_check(const char *where, store_report_cb cb, void *arg, long *problems, char *err,
            size_t errsize)
{
    struct store *s = NULL;
    struct stat st;
    int version = store_schema_version(), rc;
    *problems = 0;
    if (store_is_pg_uri(where)) {
        if ((rc = store_open(where, &s, err, errsize)) < 0)
            return rc;
        say(cb, arg, 0, "PostgreSQL checks its own pages (amcheck not run)");
    } else {
        if (stat(where, &st) < 0) {
            rc = -errno;
            snprintf(err, errsize, "%s: %s", where, strerror(errno));
            return rc;
        }
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errsize, "%s: not a file", where);
            return -EINVAL;
        }
        rc = store_sqlite_open_check(where, &s, &version, err, errsize);
        if (s == NULL)
            return rc;
        if (rc < 0) {
            /* not a database, damaged, not finfeed's, too new: found */
            say(cb, arg, 1, "%s", store_errmsg(s));
            ++*problems;
            store_close(s);
            return 0;
        }
        say(cb, arg, 0, "schema version %d (this finfeed writes %d)", version,
            store_schema_version());
    }
    if (s->ops->integrity != NULL && (rc = s->ops->integrity(s, cb, arg, problems)) < 0) {
        snprintf(err, errsize, "%s: %s", where, store_errmsg(s));
        store_close(s);
        return rc;
    }
    if (*problems > 0)
        say(cb, arg, 1, "invariants: not checked (the file is damaged)");
    else
        check_invariants(s, version, cb, arg, problems);
    store_close(s);
    return 0;
}

/* ---- files ---- */

/* The directory of `path` into dir (size bytes). */
static void
dir_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, size, ".");
    else
        snprintf(dir, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* A new empty file beside `path` named ".BASE.what-XXXXXX" (closed), its
 * name in tmp. */
static int
temp_beside(const char *path, const char *what, char *tmp, size_t size, char *err, size_t errsize)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    dir_of(path, dir, sizeof(dir));
    if ((size_t)snprintf(tmp, size, "%s/.%s.%s-XXXXXX", dir, base, what) >= size) {
        snprintf(err, errsize, "%s: name too long", path);
        return -ENAMETOOLONG;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsize, "%s: cannot create a file in %s: %s", path, dir, strerror(e));
        tmp[0] = '\0';
        return -e;
    }
    close(fd);
    return 0;
}

/* Remove a SQLite file and the files SQLite keeps beside it. */
static void
unlink_db(const char *path)
{
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    char p[PATH_MAX + 64];
    if (path[0] == '\0')
        return;
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
}

static int
fsync_path(const char *path, int directory, char *err, size_t errsize)
{
    int fd = open(path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        snprintf(err, errsize, "%s: fsync: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    close(fd);
    return 0;
}

static int
same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Rename `from` to `to` when it exists; 0, or a negative errno said in err. */
static int
move_if_there(const char *from, const char *to, char *err, size_t errsize)
{
    if (rename(from, to) == 0 || errno == ENOENT)
        return 0;
    int e = errno;
    snprintf(err, errsize, "%s: cannot rename to %s: %s", from, to, strerror(e));
    return -e;
}

/* The checked copy `tmp` becomes `out`: synced, then renamed (with force,
 * over an existing out, whose -wal and -journal would otherwise be read
 * as the new file's); without, never over one (link, then unlink). */
static int
install(const char *tmp, const char *out, int force, char *err, size_t errsize)
{
    char dir[PATH_MAX], side[PATH_MAX + 16];
    if (strlen(out) >= PATH_MAX) {
        snprintf(err, errsize, "%.200s…: name too long", out);
        return -ENAMETOOLONG;
    }
    int rc;
    if ((rc = fsync_path(tmp, 0, err, errsize)) < 0)
        return rc;
    if (force) {
        for (int i = 0; i < 3; i++) {
            snprintf(side, sizeof(side), "%s%s", out,
                     i == 0   ? "-wal"
                     : i == 1 ? "-journal"
                              : "-shm");
            unlink(side);
        }
        if (rename(tmp, out) < 0) {
            rc = -errno;
            snprintf(err, errsize, "%s: cannot rename %s to it: %s", out, tmp, strerror(errno));
            return rc;
        }
    } else if (link(tmp, out) == 0) {
        unlink(tmp);
    } else if (errno == EEXIST) {
        snprintf(err, errsize, "%s: exists (--force replaces it)", out);
        return -EEXIST;
    } else if (exists(out)) {
        snprintf(err, errsize, "%s: exists (--force replaces it)", out);
        return -EEXIST;
    } else if (rename(tmp, out) < 0) { /* a file system without hard links */
        rc = -errno;
        snprintf(err, errsize, "%s: cannot rename %s to it: %s", out, tmp, strerror(errno));
        return rc;
    }
    dir_of(out, dir, sizeof(dir));
    return fsync_path(dir, 1, err, errsize);
}

/* The copy at tmp checked: 0, or -EIO with the count in err. */
static int
check_copy(const char *tmp, const char *what, store_report_cb report, void *arg, char *err,
           size_t errsize)
{
    long problems = 0;
    int rc = store_check(tmp, report, arg, &problems, err, errsize);
    if (rc == 0 && problems > 0) {
        snprintf(err, errsize, "%s: the copy failed its check (%ld problem(s), above)", what,
                 problems);
        rc = -EIO;
    }
    return rc;
}

/* ---- backup ---- */

int
store_backup(const char *where, const char *out, int flags, store_progress_cb cb,
             store_report_cb report, void *arg, char *err, size_t errsize)
{
    char tmp[PATH_MAX] = "";
    struct store *from = NULL, *to = NULL;
    int pg = store_is_pg_uri(where), rc;
    if (store_is_pg_uri(out)) {
        snprintf(err, errsize, "%s: a backup is a SQLite file, not a URI", out);
        return -EINVAL;
    }
    if (!pg && !exists(where)) {
        snprintf(err, errsize, "%s: %s", where, strerror(ENOENT));
        return -ENOENT;
    }
    if (!pg && same_file(where, out)) {
        snprintf(err, errsize, "%s: is the store itself", out);
        return -EINVAL;
    }
    if (!(flags & STORE_BACKUP_FORCE) && exists(out)) {
        snprintf(err, errsize, "%s: exists (--force replaces it)", out);
        return -EEXIST;
    }
    if ((rc = temp_beside(out, "backup", tmp, sizeof(tmp), err, errsize)) < 0)
        return rc;
    if (pg) {
        if ((rc = store_open(where, &from, err, errsize)) < 0 ||
            (rc = store_open(tmp, &to, err, errsize)) < 0)
            goto out;
        if ((rc = store_copy(from, to, cb, arg)) < 0) {
            snprintf(err, errsize, "%s: %s", out, store_errmsg(to));
            goto out;
        }
        store_close(to);
        to = NULL;
        if ((rc = store_sqlite_unwal(tmp, err, errsize)) < 0)
            goto out;
    } else if ((rc = store_sqlite_backup_file(where, tmp, cb, arg, err, errsize)) < 0) {
        goto out;
    }
    if ((rc = check_copy(tmp, out, report, arg, err, errsize)) < 0)
        goto out;
    rc = install(tmp, out, flags & STORE_BACKUP_FORCE, err, errsize);
out:
    store_close(to);
    store_close(from);
    if (rc < 0)
        unlink_db(tmp);
    return rc;
}

/* ---- restore ---- */

int
store_in_use(const char *path, long *pid)
{
    /* SQLite's unix VFS: every connection to a WAL database holds a read
     * lock on byte 128 of the -shm file (UNIX_SHM_DMS) while it is open;
     * a transaction of any mode also locks the database file's lock bytes
     * (PENDING_BYTE 0x40000000 onwards: pending, reserved, 510 shared). */
    static const struct {
        const char *suffix;
        off_t start, len;
    } probe[] = {{"-shm", 128, 1}, {"", 0x40000000, 512 + 2}};
    char p[PATH_MAX + 8];
    *pid = 0;
    if (store_is_pg_uri(path))
        return 0;
    for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", path, probe[i].suffix);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            return -errno;
        }
        struct flock fl = {.l_type = F_WRLCK,
                           .l_whence = SEEK_SET,
                           .l_start = probe[i].start,
                           .l_len = probe[i].len};
        int rc = fcntl(fd, F_GETLK, &fl);
        int e = errno;
        close(fd);
        if (rc < 0)
            return -e;
        if (fl.l_type != F_UNLCK) {
            *pid = (long)fl.l_pid;
            return 1;
        }
    }
    return 0;
}

/* PostgreSQL: the backup copied into the (empty) database. */
static int
restore_pg(const char *backup, const char *where, store_progress_cb cb, void *arg, char *err,
           size_t errsize)
{
    char tmp[PATH_MAX], shown[256];
    const char *dir = getenv("TMPDIR");
    struct store *from = NULL, *to = NULL;
    int rc, fd;
    /* a copy of its own to open as a store (opening migrates an older
     * schema and puts the file in WAL mode: never the backup itself) */
    snprintf(tmp, sizeof(tmp), "%s/finfeed-restore-XXXXXX", dir && *dir ? dir : "/tmp");
    if ((fd = mkstemp(tmp)) < 0) {
        rc = -errno;
        snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
        return rc;
    }
    close(fd);
    store_where_shown(where, shown, sizeof(shown));
    if ((rc = store_sqlite_backup_file(backup, tmp, NULL, NULL, err, errsize)) < 0 ||
        (rc = store_open(tmp, &from, err, errsize)) < 0 ||
        (rc = store_open(where, &to, err, errsize)) < 0)
        goto out;
    rc = store_copy(from, to, cb, arg);
    if (rc == -ENOTEMPTY)
        snprintf(err, errsize,
                 "%s: %s. A backup is restored into an empty database only: create one"
                 " (createdb NAME) and point [daemon] database at it, or, when nothing it holds"
                 " is needed, empty this one (DROP SCHEMA public CASCADE; CREATE SCHEMA public;)",
                 shown, store_errmsg(to));
    else if (rc < 0)
        snprintf(err, errsize, "%s: %s", shown, store_errmsg(to));
out:
    store_close(to);
    store_close(from);
    unlink_db(tmp);
    return rc;
}

/* SQLite: the backup copied beside the database, then swapped in. */
static int
restore_sqlite(const char *backup, const char *where, int force, store_progress_cb cb, void *arg,
               char *err, size_t errsize)
{
    char tmp[PATH_MAX] = "", before[PATH_MAX + 32], from[PATH_MAX + 16], to[PATH_MAX + 48];
    struct stat old;
    long pid;
    int rc;
    if ((rc = store_in_use(where, &pid)) != 0) {
        if (rc > 0)
            snprintf(err, errsize,
                     "%s: open in process %ld (a running finfeed daemon?): stop it first", where,
                     pid);
        else
            snprintf(err, errsize, "%s: %s", where, strerror(-rc));
        return rc > 0 ? -EBUSY : rc;
    }
    snprintf(before, sizeof(before), "%s.before-restore", where);
    if (exists(where) && exists(before) && !force) {
        snprintf(err, errsize,
                 "%s: exists (from an earlier restore): move it away, or --force replaces it",
                 before);
        return -EEXIST;
    }
    if ((rc = temp_beside(where, "restore", tmp, sizeof(tmp), err, errsize)) < 0)
        return rc;
    if ((rc = store_sqlite_backup_file(backup, tmp, cb, arg, err, errsize)) < 0 ||
        (rc = fsync_path(tmp, 0, err, errsize)) < 0)
        goto fail;
    if (stat(where, &old) == 0) {
        /* the daemon's user must be able to open it, as it did the old one
         * (a restore run as root; without the right to chown, our own) */
        if (chown(tmp, old.st_uid, old.st_gid) < 0 && errno != EPERM) {
            rc = -errno;
            snprintf(err, errsize, "%s: chown: %s", tmp, strerror(errno));
            goto fail;
        }
        if (chmod(tmp, old.st_mode & 07777) < 0) {
            rc = -errno;
            snprintf(err, errsize, "%s: chmod: %s", tmp, strerror(errno));
            goto fail;
        }
        /* the old database with its WAL (and any hot journal) kept whole:
         * SQLite names them after the database, so they move together */
        unlink_db(before);
        static const char *const side[] = {"", "-wal", "-journal"};
        for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
            snprintf(from, sizeof(from), "%s%s", where, side[i]);
            snprintf(to, sizeof(to), "%s%s", before, side[i]);
            if ((rc = move_if_there(from, to, err, errsize)) < 0)
                goto fail;
        }
        snprintf(from, sizeof(from), "%s-shm", where);
        unlink(from); /* an index of the old WAL, rebuilt by whoever opens it */
    }
    if (rename(tmp, where) < 0) {
        rc = -errno;
        snprintf(err, errsize, "%s: cannot rename %s to it: %s", where, tmp, strerror(errno));
        goto fail;
    }
    dir_of(where, from, sizeof(from));
    return fsync_path(from, 1, err, errsize);
fail:
    unlink_db(tmp);
    return rc;
}

int
store_restore(const char *backup, const char *where, int flags, store_progress_cb cb,
              store_report_cb report, void *arg, char *err, size_t errsize)
{
    long problems = 0;
    int rc;
    if (store_is_pg_uri(backup)) {
        snprintf(err, errsize, "%s: a backup is a SQLite file, not a URI", backup);
        return -EINVAL;
    }
    if (!store_is_pg_uri(where) && same_file(backup, where)) {
        snprintf(err, errsize, "%s: is the store itself", backup);
        return -EINVAL;
    }
    if ((rc = store_check(backup, report, arg, &problems, err, errsize)) < 0)
        return rc;
    if (problems > 0) {
        snprintf(err, errsize, "%s: failed its check (%ld problem(s), above): not restored", backup,
                 problems);
        return -EINVAL;
    }
    return store_is_pg_uri(where)
               ? restore_pg(backup, where, cb, arg, err, errsize)
               : restore_sqlite(backup, where, flags & STORE_BACKUP_FORCE, cb, arg, err, errsize);
}
