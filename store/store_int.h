/* store/store_int.h — inside store/: the handle, its prepared statements and
 * the dedup key helpers shared by store.c, store_add.c, store_query.c and
 * dedup.c. Included by nobody outside store/. */
#ifndef FINFEED_STORE_INT_H
#define FINFEED_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* MinHash LSH: 16 bands of 6 rows. Two bodies with Jaccard 0.85 share a band
 * with probability 1 - (1 - 0.85^6)^16 > 0.9995; at 0.5 only ~22% become
 * candidates, and every candidate is verified exactly. */
#define STORE_BANDS 16
#define STORE_ROWS 6

/* Kinds of rows in the keys table (stored: never renumber). */
enum store_key_kind {
    KEY_GUID = 1,
    KEY_LINK = 2,
    KEY_TITLE = 3,
    KEY_BAND = 4,
    /* "FEED_ID\x1fTITLE_KEY\x1fLINK": a title a feed carried for a link (rule 3:
     * two links under one title make it that feed's column title). Kept by
     * prune, like guid and link keys. */
    KEY_FEED_TITLE = 5,
    /* a title key some feed carried for two or more links: a column title
     * ("Market Wrap"), never matched by title alone again (rule 3) */
    KEY_COLUMN = 6,
};

enum stmt_id {
    Q_KEY_FIND,      /* kind, key → article_id, alive (live articles first) */
    Q_KEY_FIND_NEAR, /* kind, key, lo, hi → article_id, alive (live first) */
    Q_KEY_HAS,       /* kind, key, article_id → a row when that key exists */
    Q_KEY_ADD,
    Q_KEY_COLUMN, /* lo, hi → up to 3 distinct feed-title keys in [lo, hi) */
    Q_ART_GET,  /* id → content_hash, feed_id */
    Q_ART_TEXT, /* id → plain body text (from the FTS table) */
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
    char **tracking; /* tracking parameter patterns, owned */
    size_t ntracking;
    int in_tx;   /* inside store_begin … commit/rollback */
    int changed; /* the open transaction changed articles */
    char err[256];
};

/* Record SQLite's message on the handle; the negative errno of rc. */
int store_fail(struct store *s, int rc);
/* Step a statement that returns no rows, then reset it and clear its bindings. */
int store_exec(struct store *s, sqlite3_stmt *st);

/* Rule 3: whether a title key is long enough to be compared at all. */
int store_title_key_usable(const char *key);
/* Rule 2: whether a canonical link can name one story (a site's front page
 * cannot: feeds that link every item to it would collapse into one). */
int store_link_key_usable(const char *canon);

/* Rule 4: the sorted, distinct 4-gram hashes of `text` (white space skipped)
 * into *out (caller frees), their number in *n, the characters counted in
 * *chars. Returns 0 or -ENOMEM. */
int store_shingles(const char *text, uint64_t **out, size_t *n, size_t *chars);
double store_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);
/* The LSH band keys of a shingle set's MinHash signature. */
void store_bands(const uint64_t *set, size_t n, uint64_t bands[STORE_BANDS]);

#endif
