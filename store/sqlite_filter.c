/* store/sqlite_filter.c — which dedup keys the SQLite store surely lacks: a
 * blocked Bloom filter of every key (and every feed-title key's
 * "FEED\x1fTITLE\x1f" prefix), so that the writer skips the index probes of
 * keys no article has — most of them when feeds are new (issue 15). Only
 * trusted inside a write transaction, when no other connection has
 * committed since it was built (PRAGMA data_version); built again from the
 * keys and bands tables otherwise, and when it fills. Keys deleted or
 * rolled back stay in it: a false "may hold", never a false "lacks". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define BITS_PER_KEY 16
#define MIN_KEYS 4096      /* the first layer's keys: 8 KiB */
#define MAX_KEYS (1 << 23) /* 16 MiB in all; past it no filter: every key probed */
#define LAYERS 16
#define BLOCK_WORDS 8 /* a block: one 64-byte cache line */
#define PROBES 6

/* A scalable Bloom filter: when the last layer holds its keys, a layer
 * twice its size follows, so it grows without reading the tables again. */
struct layer {
    uint64_t *bits;
    size_t nblocks, n, cap; /* blocks; keys added, keys it is sized for */
};

struct lite_filter {
    struct layer layer[LAYERS];
    int nlayers;
    size_t total;    /* keys sized for, all layers */
    int valid;       /* holds every key of the store */
    int off;         /* too many keys, or no memory: no filter on this handle */
    int checked;     /* … checked against data_version in this transaction */
    int64_t version; /* PRAGMA data_version when built */
    sqlite3_stmt *version_st;
};

/* kind and bytes (a text key, or a prefix: kind | 0x100) to 64 bits */
static uint64_t
hash_bytes(int kind, const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = store_mix64(0x9e3779b97f4a7c15ULL ^ (uint64_t)kind << 40 ^ len);
    uint64_t w;
    for (; len >= 8; b += 8, len -= 8) {
        memcpy(&w, b, 8);
        h = store_mix64(h ^ w) * 0x9e3779b97f4a7c15ULL;
    }
    w = 0;
    memcpy(&w, b, len);
    return store_mix64(h ^ w ^ 0xa5);
}

static uint64_t
hash_key(const struct store_key *k)
{
    if (k->text == NULL)
        return store_mix64((uint64_t)k->num ^ store_mix64(0x51ed27ULL + (uint64_t)k->kind));
    return hash_bytes(k->kind, k->text, strlen(k->text));
}

/* A feed-title key's "FEED\x1fTITLE\x1f": its length, 0 when it has no two
 * unit separators. Every key in key_range's [lo, hi) starts with lo, so it
 * has lo's prefix. */
static size_t
prefix_len(const char *p, size_t len)
{
    const char *a = memchr(p, '\x1f', len), *b;
    if (a == NULL || (b = memchr(a + 1, '\x1f', len - (size_t)(a + 1 - p))) == NULL)
        return 0;
    return (size_t)(b + 1 - p);
}

static uint64_t *
block(const struct layer *y, uint64_t h)
{
    return y->bits + (size_t)(((h >> 32) * y->nblocks) >> 32) * BLOCK_WORDS;
}

static int
grow(struct lite_filter *f, size_t cap)
{
    struct layer *y = &f->layer[f->nlayers];
    if (f->nlayers == LAYERS || f->total + cap > MAX_KEYS)
        return -E2BIG;
    y->nblocks = cap * BITS_PER_KEY / 64 / BLOCK_WORDS;
    if ((y->bits = calloc(y->nblocks * BLOCK_WORDS, sizeof(uint64_t))) == NULL)
        return -ENOMEM;
    y->n = 0;
    y->cap = cap;
    f->total += cap;
    f->nlayers++;
    return 0;
}

static void
clear(struct lite_filter *f)
{
    for (int i = 0; i < f->nlayers; i++)
        free(f->layer[i].bits);
    f->nlayers = 0;
    f->total = 0;
    f->valid = 0;
}

static void
set(struct lite_filter *f, uint64_t h)
{
    if (f->nlayers == 0)
        return; /* off */
    struct layer *y = &f->layer[f->nlayers - 1];
    if (y->n >= y->cap && grow(f, y->cap * 2) < 0) {
        /* a key it cannot hold: it would say "lacks" of a key stored */
        clear(f);
        f->off = 1;
        return;
    }
    y = &f->layer[f->nlayers - 1];
    uint64_t *blk = block(y, h), g = store_mix64(h);
    for (int i = 0; i < PROBES; i++, g >>= 9)
        blk[(g >> 6) & (BLOCK_WORDS - 1)] |= 1ULL << (g & 63);
    y->n++;
}

static int
has(const struct lite_filter *f, uint64_t h)
{
    uint64_t g0 = store_mix64(h);
    for (int l = 0; l < f->nlayers; l++) {
        const uint64_t *blk = block(&f->layer[l], h);
        uint64_t g = g0;
        int i;
        for (i = 0; i < PROBES; i++, g >>= 9)
            if (!(blk[(g >> 6) & (BLOCK_WORDS - 1)] & 1ULL << (g & 63)))
                break;
        if (i == PROBES)
            return 1;
    }
    return 0;
}

static void
add_bytes(struct lite_filter *f, int kind, const void *p, size_t len)
{
    set(f, hash_bytes(kind, p, len));
    size_t pre;
    if (kind == KEY_FEED_TITLE && (pre = prefix_len(p, len)) > 0)
        set(f, hash_bytes(kind | 0x100, p, pre));
}

static int
version_now(struct sqlite_store *l, int64_t *v)
{
    struct lite_filter *f = l->filter;
    if (f->version_st == NULL &&
        sqlite3_prepare_v2(l->db, "PRAGMA data_version", -1, &f->version_st, NULL) != SQLITE_OK)
        return -EIO;
    int rc = sqlite3_step(f->version_st);
    *v = sqlite3_column_int64(f->version_st, 0);
    sqlite3_reset(f->version_st);
    return rc == SQLITE_ROW ? 0 : -EIO;
}

/* Every key of the store into a new filter, its first layer sized for
 * twice as many rows (room for the feed-title keys' prefixes too). */
static int
build(struct sqlite_store *l)
{
    struct lite_filter *f = l->filter;
    sqlite3_stmt *st = NULL;
    int64_t nkeys = 0;
    int rc;
    clear(f);
    if (sqlite3_prepare_v2(l->db,
                           "SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM bands)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        nkeys = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    size_t cap = MIN_KEYS;
    while (cap < (size_t)nkeys * 2 && cap < MAX_KEYS)
        cap *= 2;
    if ((rc = grow(f, cap)) < 0) {
        f->off = 1;
        return rc;
    }
    if (sqlite3_prepare_v2(l->db, "SELECT kind, key FROM keys", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !f->off) {
        const void *p = sqlite3_column_blob(st, 1);
        add_bytes(f, sqlite3_column_int(st, 0), p != NULL ? p : "",
                  (size_t)sqlite3_column_bytes(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || f->off)
        return -EIO;
    if (sqlite3_prepare_v2(l->db, "SELECT key FROM bands", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !f->off) {
        struct store_key k = {KEY_BAND, NULL, sqlite3_column_int64(st, 0), 0};
        set(f, hash_key(&k));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || f->off)
        return -EIO;
    f->valid = 1;
    return 0;
}

/* The filter, ready to answer for this write transaction, or NULL. */
static struct lite_filter *
ready(struct sqlite_store *l)
{
    struct lite_filter *f = l->filter;
    if (f == NULL) {
        if ((f = l->filter = calloc(1, sizeof(*f))) == NULL)
            return NULL;
        f->version = -1;
    }
    /* outside a write transaction another connection may commit a key any
     * moment; inside one, none can until it ends */
    if (sqlite3_txn_state(l->db, "main") != SQLITE_TXN_WRITE)
        return NULL;
    if (!f->checked) {
        int64_t v;
        if (version_now(l, &v) < 0)
            return NULL;
        if (v != f->version)
            f->valid = 0;
        f->version = v;
        f->checked = 1;
    }
    if (!f->off && !f->valid && build(l) < 0) {
        clear(f);
        f->off = 1; /* every key probed on this handle from now on */
    }
    if (f->off)
        return NULL;
    return f;
}

int
store_sqlite_filter_lacks(struct sqlite_store *l, const struct store_key *k)
{
    struct lite_filter *f = ready(l);
    return f != NULL && !has(f, hash_key(k));
}

int
store_sqlite_filter_lacks_range(struct sqlite_store *l, int kind, const char *lo)
{
    size_t pre;
    if (kind != KEY_FEED_TITLE || (pre = prefix_len(lo, strlen(lo))) == 0)
        return 0;
    struct lite_filter *f = ready(l);
    return f != NULL && !has(f, hash_bytes(kind | 0x100, lo, pre));
}

void
store_sqlite_filter_add(struct sqlite_store *l, const struct store_key *k)
{
    struct lite_filter *f = l->filter;
    if (f == NULL || !f->valid)
        return; /* built from the tables when next needed, this key with them */
    if (k->text == NULL)
        set(f, hash_key(k));
    else
        add_bytes(f, k->kind, k->text, strlen(k->text));
}

void
store_sqlite_filter_txn_end(struct sqlite_store *l)
{
    if (l->filter != NULL)
        l->filter->checked = 0;
}

void
store_sqlite_filter_drop(struct sqlite_store *l)
{
    if (l->filter != NULL)
        l->filter->valid = 0;
}

void
store_sqlite_filter_free(struct sqlite_store *l)
{
    if (l->filter == NULL)
        return;
    sqlite3_finalize(l->filter->version_st);
    clear(l->filter);
    free(l->filter);
    l->filter = NULL;
}
