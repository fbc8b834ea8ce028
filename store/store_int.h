/* store/store_int.h — inside store/: the handle every backend shares, the
 * kinds of dedup keys and the key helpers of dedup.c, used by store.c,
 * store_add.c, store_query.c and the backends. Included by nobody outside
 * store/. */
#ifndef FINFEED_STORE_INT_H
#define FINFEED_STORE_INT_H

#include "store/backend_int.h"
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

/* The handle: what every backend shares. A backend's own struct has it as
 * its first member (store/sqlite.c, store/pg.c). */
struct store {
    const struct store_ops *ops;
    char **tracking; /* tracking parameter patterns, owned */
    size_t ntracking;
    /* which tracking list this is: new at each store_set_tracking_params,
     * unique in the process, so keys made ahead with another are remade */
    uint64_t tracking_gen;
    int in_tx;   /* inside store_begin … commit/rollback */
    int changed; /* the open transaction changed articles */
    /* store_group_begin … store_group_commit (SQLite): documents share one
     * transaction, each in a savepoint */
    int group;      /* a group is open */
    int group_tx;   /* … and its transaction has begun */
    int group_changed; /* a document of the group changed articles */
    int group_lost; /* its transaction was rolled back by the database: a
                     * negative errno, the group's every document lost */
    /* random bytes for new articles' uids (store_add.c), drawn 256 at a
     * time: one getrandom() an article was 2% of a cold ingest's writer.
     * A handle's own: never shared across a fork, as SQLite's are not */
    unsigned char rnd[256];
    size_t nrnd; /* rnd[sizeof(rnd) - nrnd …] not used yet */
    char err[512];
};

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

/* Rule 4 applies to bodies of at least this many characters. */
#define STORE_MIN_BODY_CHARS 200

/* The keys of an article that need nothing of the store (rules 2–4): made
 * by store_keys_fill in the writer, or ahead by store_prekeys_make.
 * Everything owned. */
struct store_prekeys {
    int full;       /* set, and not taken by store_add_many yet */
    uint64_t gen;   /* the tracking list's they were made with (tracking_gen) */
    char *text;     /* the body's plain text */
    char *cats;     /* the categories as a JSON array (the articles row's):
                     * store_prekeys_make's, else NULL */
    char *link;     /* canonical link when usable (rule 2), else NULL */
    char *title;    /* title key when usable (rule 3), else NULL */
    uint64_t *set;  /* 4-gram hashes of text, sorted, distinct */
    size_t nset, chars;
    int banded;     /* bands[] set: text is long enough for rule 4 */
    uint64_t bands[STORE_BANDS];
    int hashed;     /* hash set: store_prekeys_make's */
    uint64_t hash;  /* store_content_hash of the article (rule 1) */
};
/* FNV-1a of p continuing from h, then one step more (a string's end). */
uint64_t store_hash64(uint64_t h, const char *p);
/* 64 bits mixed (MurmurHash3's finalizer): the MinHash's and the key
 * filter's (sqlite_filter.c) */
static inline uint64_t
store_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
/* What rule 1 compares: the hash of title and body. */
uint64_t store_content_hash(const char *title, const char *body);
/* a's categories as a compact JSON array (caller frees), or NULL for no
 * memory. */
char *store_categories_json(const struct parse_article *a);
/* a's keys into *k with the tracking parameters tracking[0..ntracking):
 * 0, or -ENOMEM (then *k empty). */
int store_keys_fill(char *const *tracking, size_t ntracking, const struct parse_article *a,
                    struct store_prekeys *k);
/* Free what k holds; k emptied. */
void store_prekeys_clear(struct store_prekeys *k);

#endif
