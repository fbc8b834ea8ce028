/* store/sqlite_ckpt.c — the WAL's checkpoints off the writer
 * (store_checkpoint_async). SQLite's auto-checkpoint runs inside the COMMIT
 * that takes the WAL past 4 MB (STORE_CKPT_BYTES), on the writer's thread:
 * an eighth of the daemon's writer in a first refresh. Here a hook on the
 * writer's connection (sqlite3_wal_hook, which replaces the auto-checkpoint) wakes a
 * thread of the store's own, which runs PASSIVE checkpoints on a connection
 * of its own while the writer goes on: a passive checkpoint copies what is
 * committed to the database, never waits for a lock and makes nobody wait.
 *
 * The WAL starts again from its beginning (and journal_size_limit cuts the
 * file back to 16 MiB) at the writer's first transaction after a checkpoint
 * that copied every frame. A writer that never pauses leaves no such moment:
 * its next group begins before the thread has copied the last one. So once
 * the WAL holds CKPT_FORCE_BYTES, the commit checkpoints what is left
 * itself, as the auto-checkpoint did (after the thread's current pass: the
 * last group or two), and the WAL restarts at its next transaction. A WAL
 * past 16 MiB when the handle closes is checkpointed and truncated then. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define CKPT_LIMIT_BYTES (16 << 20) /* journal_size_limit (sqlite.c) */
/* the writer copies the rest itself past this: at 64 MiB a reader just after
 * a burst looked pages up in a WAL that big (/feed.atom at 0.41-0.54x
 * nginx for seconds, 1.1x at 16 MiB), and the refresh was no faster */
#define CKPT_FORCE_BYTES (16 << 20)

struct lite_ckpt {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* want, stop, or a checkpoint ended */
    int want;          /* the writer committed past STORE_CKPT_BYTES */
    int running;       /* a checkpoint runs, on either thread */
    int stop;
    sqlite3 *db;       /* the thread's connection */
    int want_frames;   /* STORE_CKPT_BYTES in pages */
    int force_frames;  /* CKPT_FORCE_BYTES in pages */
    int limit_frames;  /* journal_size_limit in pages */
    int frames;        /* in the WAL at the writer's last commit */
};

/* The writer's connection, after each commit: frames in the WAL. */
static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct lite_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    c->frames = frames;
    if (frames < c->want_frames) {
        pthread_mutex_unlock(&c->mu);
        return SQLITE_OK;
    }
    if (frames < c->force_frames) {
        c->want = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        return SQLITE_OK;
    }
    while (c->running)
        pthread_cond_wait(&c->cv, &c->mu);
    c->running = 1;
    c->want = 0;
    pthread_mutex_unlock(&c->mu);
    /* a failure (a reader's snapshot, an I/O error) leaves the WAL as it
     * is: the next commit tries again, as with the auto-checkpoint */
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->running = 0;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

static void *
ckpt_main(void *arg)
{
    struct lite_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (c->stop)
            break;
        if (!c->want || c->running) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        c->want = 0;
        c->running = 1;
        pthread_mutex_unlock(&c->mu);
        (void)sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->running = 0;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int
store_sqlite_ckpt_start(struct store *s)
{
    struct sqlite_store *l = sqlite_of(s);
    struct lite_ckpt *c;
    sqlite3_stmt *st = NULL;
    const char *path = sqlite3_db_filename(l->db, "main");
    int rc, page = 4096;
    if (l->ckpt != NULL)
        return 0;
    if (path == NULL || path[0] == '\0')
        return 0; /* a temporary database: no WAL */
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    if (sqlite3_prepare_v2(l->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    c->want_frames = STORE_CKPT_BYTES / page;
    c->force_frames = CKPT_FORCE_BYTES / page;
    c->limit_frames = CKPT_LIMIT_BYTES / page;
    rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    /* its close never checkpoints either (store_sqlite_open); a first read
     * opens the WAL */
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(s->err, sizeof(s->err), "checkpoints: %s",
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        rc = c->db ? store_sqlite_errno(rc) : -ENOMEM;
        sqlite3_close_v2(c->db);
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if ((rc = pthread_create(&c->th, NULL, ckpt_main, c)) != 0) {
        snprintf(s->err, sizeof(s->err), "checkpoints: %s", strerror(rc));
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        sqlite3_close_v2(c->db);
        free(c);
        return -rc;
    }
    l->ckpt = c;
    sqlite3_wal_hook(l->db, ckpt_hook, c);
    return 0;
}

void
store_sqlite_ckpt_stop(struct sqlite_store *l)
{
    struct lite_ckpt *c = l->ckpt;
    if (c == NULL)
        return;
    sqlite3_wal_hook(l->db, NULL, NULL); /* no auto-checkpoint either: closing */
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    /* a WAL past journal_size_limit is not left behind for the next open
     * to read through: copied and cut to nothing, unless a reader holds it
     * (no waiting: its next writer's commit restarts it) */
    if (c->frames >= c->limit_frames) {
        sqlite3_busy_timeout(l->db, 0);
        (void)sqlite3_wal_checkpoint_v2(l->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    sqlite3_close_v2(c->db);
    free(c);
    l->ckpt = NULL;
}
