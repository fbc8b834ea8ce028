/* store/store_copy.c — store_copy: one store's rows into another, of either
 * backend, through the raw primitives of the ops table; one transaction on
 * the destination and an order-independent checksum of every row, which
 * both verifies a copy and recognizes an earlier one (`finfeed migrate`). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

static const char *const stage_name[STORE_T_COUNT] = {"feeds", "articles", "sources", "keys",
                                                      "tombstones"};
static const int ncols[STORE_T_COUNT] = {STORE_FEEDS_NCOLS, STORE_ARTICLES_NCOLS, 3, 4, 2};

#define PROGRESS_EVERY 1000

struct copy {
    struct store *to; /* NULL: only the checksum */
    int table;
    const char *stage;
    long done, total;
    uint64_t sum; /* of the rows' hashes: the same rows in any order, the same sum */
    store_progress_cb cb;
    void *arg;
};

/* FNV-1a over the table and each column (NULL distinct from ""), then
 * splitmix64's finalizer so that a sum of row hashes mixes well. */
static uint64_t
row_hash(int table, const char *const *col)
{
    uint64_t h = 0xcbf29ce484222325ULL;
#define MIX(byte) (h = (h ^ (unsigned char)(byte)) * 0x100000001b3ULL)
    MIX(table);
    for (int i = 0; i < ncols[table]; i++) {
        if (col[i] == NULL) {
            MIX(0xff);
            continue;
        }
        for (const char *p = col[i]; *p; p++)
            MIX(*p);
        MIX(0);
    }
#undef MIX
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static int
on_raw_row(void *arg, const char *const *col)
{
    struct copy *c = arg;
    int rc;
    c->sum += row_hash(c->table, col);
    if (c->to != NULL && (rc = c->to->ops->raw_put(c->to, c->table, col)) < 0)
        return rc;
    if (++c->done % PROGRESS_EVERY == 0 && c->cb != NULL)
        c->cb(c->arg, c->stage, c->done, c->total > c->done ? c->total : c->done);
    return 0;
}

/* The source's message on `to`, which carries store_copy's errors. */
static int
source_fail(struct store *from, struct store *to, int rc)
{
    char msg[sizeof(to->err)];
    snprintf(msg, sizeof(msg), "reading the source: %.400s", from->err);
    snprintf(to->err, sizeof(to->err), "%s", msg);
    return rc;
}

/* The checksum of every row of s (`total` of them) into *sum, as stage. */
static int
checksum(struct store *s, const char *stage, long total, store_progress_cb cb, void *arg,
         uint64_t *sum)
{
    struct copy c = {.stage = stage, .total = total, .cb = cb, .arg = arg};
    int rc;
    for (c.table = 0; c.table < STORE_T_COUNT; c.table++)
        if ((rc = s->ops->raw_each(s, c.table, on_raw_row, &c)) != 0)
            return rc;
    if (cb != NULL)
        cb(arg, stage, c.done, c.done);
    *sum = c.sum;
    return 0;
}

/* Every table of `from` into `to` (inside its transaction); the source's
 * checksum in *sum. Errors: the message on `to`. */
static int
copy_rows(struct store *from, struct store *to, const long *n, store_progress_cb cb, void *arg,
          uint64_t *sum)
{
    struct copy c = {.to = to, .cb = cb, .arg = arg};
    int rc;
    for (c.table = 0; c.table < STORE_T_COUNT; c.table++) {
        c.stage = stage_name[c.table];
        c.done = 0;
        c.total = n[c.table];
        if ((rc = to->ops->raw_start(to, c.table)) < 0)
            return rc;
        rc = from->ops->raw_each(from, c.table, on_raw_row, &c);
        if (rc != 0)
            return rc;
        if ((rc = to->ops->raw_end(to, c.table)) < 0)
            return rc;
        if (cb != NULL)
            cb(arg, c.stage, c.done, c.done);
    }
    *sum = c.sum;
    return 0;
}

int
store_copy(struct store *from, struct store *to, store_progress_cb cb, void *arg)
{
    long nfrom[STORE_T_COUNT], nto[STORE_T_COUNT], all = 0, have = 0;
    uint64_t src = 0, dst = 0;
    int rc;
    if (from == to || from->in_tx || to->in_tx)
        return -EINVAL;
    from->err[0] = to->err[0] = '\0';
    if ((rc = from->ops->snapshot(from)) < 0)
        return source_fail(from, to, rc);
    for (int t = 0; t < STORE_T_COUNT; t++) {
        if ((rc = from->ops->raw_count(from, t, &nfrom[t])) < 0) {
            rc = source_fail(from, to, rc);
            goto out;
        }
        if ((rc = to->ops->raw_count(to, t, &nto[t])) < 0)
            goto out;
        all += nfrom[t];
        have += nto[t];
    }
    if (have > 0) {
        /* a store that is not empty: an earlier copy of this source is
         * left as it is; anything else is not ours to overwrite */
        int same = memcmp(nfrom, nto, sizeof(nfrom)) == 0;
        if (same && (rc = checksum(from, "check source", all, cb, arg, &src)) != 0) {
            rc = source_fail(from, to, rc);
            goto out;
        }
        if (same && (rc = checksum(to, "check destination", all, cb, arg, &dst)) != 0)
            goto out;
        if (same && src == dst) {
            rc = 1;
            goto out;
        }
        snprintf(to->err, sizeof(to->err),
                 "not empty (%ld feeds, %ld articles, %ld keys) and not a copy of the source:"
                 " a store is copied into an empty one only",
                 nto[STORE_T_FEEDS], nto[STORE_T_ARTICLES], nto[STORE_T_KEYS]);
        rc = -ENOTEMPTY;
        goto out;
    }
    if ((rc = to->ops->begin(to)) < 0)
        goto out;
    /* whose error: a failed raw_put leaves its message on `to`, a failed
     * read on `from` */
    from->err[0] = '\0';
    if ((rc = copy_rows(from, to, nfrom, cb, arg, &src)) != 0) {
        if (from->err[0] != '\0')
            source_fail(from, to, rc);
        goto rollback;
    }
    if ((rc = to->ops->raw_finish(to)) < 0 ||
        (rc = checksum(to, "verify", all, cb, arg, &dst)) < 0)
        goto rollback;
    if (src != dst) {
        snprintf(to->err, sizeof(to->err),
                 "the copy reads back different from the source (checksum): rolled back");
        rc = -EIO;
        goto rollback;
    }
    rc = to->ops->commit(to);
    if (rc == 0)
        goto out;
rollback:
    to->ops->rollback(to);
out:
    from->ops->rollback(from);
    return rc;
}
