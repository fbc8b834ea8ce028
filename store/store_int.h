/* store/store_int.h — inside store/: the handle and the dedup key helpers. */
#ifndef FINFEED_STORE_INT_H
#define FINFEED_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* MinHash LSH: 16 bands of 6 rows. Two bodies with Jaccard 0.85 share a band
 * with probability 1 - (1 - 0.85^6)^16 > 0.9995; at 0.5 only ~22% become
 * candidates, and every candidate is verified exactly. */
#define STORE_BANDS 16
#define STORE_ROWS 6

enum stmt_id {
    Q_KEY_FIND,      /* kind, key → article_id, alive */
    Q_KEY_FIND_NEAR, /* kind, key, lo, hi → article_id (alive only) */
    Q_KEY_ADD,
    Q_ART_GET,       /* id → title_hash, body */
    Q_ART_INSERT,
    Q_ART_UPDATE,
    Q_SRC_ADD,
    Q_FTS_INSERT,
    Q_FTS_DELETE,
    Q_ART_REPUBLISH,
    Q_GEN_BUMP,
    Q_COUNT
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[Q_COUNT];
    char **tracking;   /* tracking parameter patterns, owned */
    size_t ntracking;
    int in_tx;         /* inside store_begin … commit/rollback */
    int changed;       /* the open transaction changed articles */
    char err[256];
};

int store_shingles(const char *text, uint64_t **out, size_t *n, size_t *chars);
double store_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);
void store_bands(const uint64_t *set, size_t n, uint64_t bands[STORE_BANDS]);

#endif
