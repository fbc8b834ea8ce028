/* store/store.c — the store's face over its two backends: store_open picks
 * SQLite (a path) or PostgreSQL (a postgresql:// URI); transactions with the
 * change generation, retention with tombstones, the feeds' state and the
 * tracking parameters are the same on both. Storing an article through the
 * dedup rules is store_add.c; the output query's words are store_query.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_int.h"

/* Nothing first seen within a day is pruned, whatever its date. */
#define DAY (24 * 3600)

static const char *const default_tracking[] = {
    "utm_*",  "spm",    "fbclid", "gclid",   "dclid",   "mc_cid", "mc_eid", "yclid",
    "igshid", "_hsenc", "_hsmi",  "ref_src", "mkt_tok", "cmpid",  "ncid",   "wt.mc_id"};

int
store_is_pg_uri(const char *where)
{
    return strncasecmp(where, "postgresql://", 13) == 0 ||
           strncasecmp(where, "postgres://", 11) == 0;
}

const char *
store_where_shown(const char *uri, char *out, size_t size)
{
    const char *auth = strstr(uri, "://"), *at, *colon, *end;
    size_t n = 0;
    auth = auth ? auth + 3 : uri;
    end = auth + strcspn(auth, "/?");
    at = memchr(auth, '@', (size_t)(end - auth));
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    for (const char *p = uri; *p && n + 4 < size;) {
        if (p == colon + 1 && colon != NULL) {
            n += (size_t)snprintf(out + n, size - n, "***");
            p = at;
            continue;
        }
        if (p > end && strncasecmp(p, "password=", 9) == 0 && (p[-1] == '?' || p[-1] == '&')) {
            n += (size_t)snprintf(out + n, size - n, "password=***");
            p += strcspn(p, "&");
            continue;
        }
        out[n++] = *p++;
    }
    out[n < size ? n : size - 1] = '\0';
    return out;
}

int
store_open(const char *where, struct store **out, char *err, size_t errsize)
{
    int rc;
    *out = NULL;
    rc = store_is_pg_uri(where) ? store_pg_open(where, out, err, errsize)
                                : store_sqlite_open(where, out, err, errsize);
    if (rc < 0)
        return rc;
    if ((rc = store_set_tracking_params(*out, NULL, 0)) < 0) {
        snprintf(err, errsize, "%s: out of memory", where);
        store_close(*out);
        *out = NULL;
    }
    return rc;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->in_tx)
        store_rollback(s);
    store_group_rollback(s); /* a group not committed is not stored */
    for (size_t i = 0; i < s->ntracking; i++)
        free(s->tracking[i]);
    free(s->tracking);
    s->ops->close(s);
}

const char *
store_errmsg(const struct store *s)
{
    return s->err;
}

int
store_checkpoint_async(struct store *s)
{
    return s->ops->checkpoint_async != NULL ? s->ops->checkpoint_async(s) : 0;
}

int
store_set_cache(struct store *s, long kib)
{
    if (kib <= 0)
        return -EINVAL;
    return s->ops->cache != NULL ? s->ops->cache(s, kib) : 0;
}

int
store_set_busy_timeout(struct store *s, int ms)
{
    if (ms < 0)
        return -EINVAL;
    return s->ops->busy_timeout != NULL ? s->ops->busy_timeout(s, ms) : 0;
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
    static uint64_t gens; /* stores of several threads share it */
    s->tracking_gen = __atomic_add_fetch(&gens, 1, __ATOMIC_RELAXED);
    return 0;
}

int
store_feed_ensure(struct store *s, const char *name, const char *url, int64_t *id)
{
    return s->ops->feed_ensure(s, name, url, id);
}

int
store_feed_state_get(struct store *s, int64_t feed_id, struct store_feed_state *st)
{
    memset(st, 0, sizeof(*st));
    st->enabled = 1;
    return s->ops->feed_state_get(s, feed_id, st);
}

int
store_feed_state_set(struct store *s, int64_t feed_id, const struct store_feed_state *st)
{
    return s->ops->feed_state_set(s, feed_id, st);
}

void
store_feed_state_clear(struct store_feed_state *st)
{
    free(st->url);
    free(st->etag);
    free(st->last_modified);
    free(st->status);
    free(st->error);
    free(st->next_why);
    memset(st, 0, sizeof(*st));
}

int
store_feed_items(struct store *s, int64_t feed_id, struct store_feed_item *out, size_t max,
                 size_t *n, int64_t *first_ok)
{
    *n = 0;
    *first_ok = 0;
    if (max == 0)
        return 0;
    return s->ops->feed_items(s, feed_id, out, max, n, first_ok);
}

/* ---- transactions ---- */

int
store_begin(struct store *s)
{
    int rc;
    if (s->group) {
        if (s->group_lost < 0) {
            snprintf(s->err, sizeof(s->err),
                     "the group's transaction was rolled back (an earlier error)");
            return s->group_lost;
        }
        if (!s->group_tx) {
            if ((rc = s->ops->begin(s)) < 0)
                return rc;
            s->group_tx = 1;
        }
        if ((rc = s->ops->sp_begin(s)) < 0) {
            /* the savepoint failed: nothing of this document began; the
             * group's transaction stays as it is */
            return rc;
        }
    } else if ((rc = s->ops->begin(s)) < 0) {
        return rc;
    }
    s->in_tx = 1;
    s->changed = 0;
    return 0;
}

int
store_commit(struct store *s)
{
    int rc;
    if (s->group) {
        /* the generation is counted once, when the group commits */
        if ((rc = s->ops->sp_release(s)) < 0)
            return rc;
        s->group_changed |= s->changed;
    } else {
        if (s->changed && (rc = s->ops->gen_bump(s)) < 0)
            return rc;
        if ((rc = s->ops->commit(s)) < 0)
            return rc;
    }
    s->in_tx = 0;
    s->changed = 0;
    return 0;
}

void
store_rollback(struct store *s)
{
    if (s->group && s->in_tx) {
        int rc = s->ops->sp_undo(s);
        if (rc < 0 && s->group_lost == 0)
            s->group_lost = rc;
    } else if (!s->group) {
        s->ops->rollback(s);
    }
    s->in_tx = 0;
    s->changed = 0;
}

int
store_group_begin(struct store *s)
{
    if (s->in_tx || s->group)
        return -EINVAL;
    if (s->ops->sp_begin == NULL)
        return 0;
    s->group = 1;
    s->group_tx = 0;
    s->group_changed = 0;
    s->group_lost = 0;
    return 1;
}

int
store_group_commit(struct store *s)
{
    int rc = 0;
    if (!s->group)
        return 0;
    if (s->in_tx)
        return -EINVAL;
    if (s->group_lost < 0) {
        rc = s->group_lost;
        snprintf(s->err, sizeof(s->err),
                 "the group's transaction was rolled back by an earlier error");
        s->ops->rollback(s);
    } else if (s->group_tx) {
        if ((s->group_changed && (rc = s->ops->gen_bump(s)) < 0) ||
            (rc = s->ops->commit(s)) < 0)
            s->ops->rollback(s);
    }
    s->group = s->group_tx = s->group_changed = s->group_lost = 0;
    return rc;
}

void
store_group_rollback(struct store *s)
{
    if (!s->group)
        return;
    if (s->group_tx)
        s->ops->rollback(s);
    s->group = s->group_tx = s->group_changed = s->group_lost = 0;
    s->in_tx = 0;
    s->changed = 0;
}

int
store_group_open(const struct store *s)
{
    return s->group && s->group_tx;
}

int64_t
store_generation(struct store *s)
{
    int64_t g;
    int rc = s->ops->generation(s, &g);
    return rc < 0 ? rc : g; /* -EBUSY: a reader that may not wait */
}

int
store_count(struct store *s, int64_t feed_id, long *n)
{
    *n = 0;
    return s->ops->count(s, feed_id, n);
}

/* ---- retention ---- */

/* One batch of `op` (the backend's prune or tomb_prune) in a transaction
 * of its own; the count in *n. */
static int
batch(struct store *s, int tombstones, int64_t cutoff, int64_t now, long max, long *n)
{
    int rc;
    *n = 0;
    if (max <= 0 || s->in_tx)
        return -EINVAL;
    if ((rc = store_begin(s)) < 0)
        return rc;
    rc = tombstones ? s->ops->tomb_prune(s, cutoff, max, n)
                    : s->ops->prune(s, cutoff, now > INT64_MIN + DAY ? now - DAY : INT64_MIN,
                                    now, max, n);
    if (rc < 0) {
        store_rollback(s);
        *n = 0;
        return rc;
    }
    /* tombstones are no articles: output caches stay */
    s->changed = !tombstones && *n > 0;
    if ((rc = store_commit(s)) < 0) {
        store_rollback(s);
        *n = 0;
    }
    return rc;
}

int
store_prune_batch(struct store *s, int64_t cutoff, int64_t now, long max, long *deleted)
{
    long n;
    int rc = batch(s, 0, cutoff, now, max, &n);
    if (deleted)
        *deleted = n;
    return rc;
}

int
store_prune(struct store *s, int64_t cutoff, int64_t now, long *deleted)
{
    long n, all = 0;
    int rc;
    do {
        if ((rc = batch(s, 0, cutoff, now, STORE_PRUNE_BATCH, &n)) < 0)
            break;
        all += n;
    } while (n == STORE_PRUNE_BATCH);
    if (deleted)
        *deleted = all;
    return rc;
}

int
store_prune_tombstones(struct store *s, int64_t before, long max, long *deleted)
{
    long n;
    int rc = batch(s, 1, before, 0, max, &n);
    if (deleted)
        *deleted = n;
    return rc;
}
