/* store/store_add.c — storing one article through the four dedup rules of
 * SPEC §7, in order: same feed and guid (unchanged or updated in place), same
 * canonical link, same normalized title within 48 h, near-identical body
 * within 72 h. A duplicate becomes another source of the article it repeats. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "store/store_int.h"

#define H48 (48 * 3600)
#define H72 (72 * 3600)
#define MIN_BODY_CHARS 200 /* rule 4 applies to bodies at least this long */
#define SIMILAR 0.85
#define MAX_CANDIDATES 64 /* rule 4 candidates verified per article */
#define TITLE_CANDIDATES 16 /* rule 3 candidates verified per article */
#define HEADLINE_CHARS 40   /* rule 3: bodies shorter than this are headline-only */
#define TITLE_SIMILAR 0.5   /* rule 3: Jaccard of the bodies under one title */

/* The dedup keys of one article, computed as the rules need them. */
struct keys {
    char *guid;    /* "FEED_ID\x1fGUID" */
    char *link;    /* canonical link, or NULL (none, or not usable) */
    char *title;   /* title key, or NULL (too short to compare) */
    char *feed_title; /* "FEED_ID\x1fTITLE\x1fLINK" when title is set: what this feed
                       * carried under that title (link: canonical, else as given,
                       * else the guid) */
    int column;       /* title is a column title (rule 3): never matched by title */
    int column_known; /* … and the store already says so (a KEY_COLUMN row) */
    uint64_t *set; /* 4-gram hashes of the body text */
    size_t nset, chars;
    int banded; /* bands[] is set: the body is long enough for rule 4 */
    uint64_t bands[STORE_BANDS];
};

static void
keys_free(struct keys *k)
{
    free(k->guid);
    free(k->link);
    free(k->title);
    free(k->feed_title);
    free(k->set);
}

/* Rules 2–4 keys of `a` of feed `feed_id` whose body text is `text`. */
static int
keys_make(struct store *s, int64_t feed_id, const struct parse_article *a, const char *text,
          struct keys *k)
{
    if ((k->link = store_canonical_link(s, a->link)) != NULL && !store_link_key_usable(k->link)) {
        free(k->link);
        k->link = NULL;
    }
    if ((k->title = store_title_key(a->title)) == NULL)
        return -ENOMEM;
    if (!store_title_key_usable(k->title)) {
        free(k->title);
        k->title = NULL;
    } else {
        const char *link = k->link ? k->link : a->link ? a->link : a->guid;
        size_t n = strlen(k->title) + strlen(link) + 32;
        if ((k->feed_title = malloc(n)) == NULL)
            return -ENOMEM;
        snprintf(k->feed_title, n, "%" PRId64 "\x1f%s\x1f%s", feed_id, k->title, link);
    }
    if (store_shingles(text, &k->set, &k->nset, &k->chars) < 0)
        return -ENOMEM;
    if (k->chars >= MIN_BODY_CHARS) {
        store_bands(k->set, k->nset, k->bands);
        k->banded = 1;
    }
    return 0;
}

static uint64_t
hash64(uint64_t h, const char *p)
{
    for (; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

enum { K_GUID = 1, K_LINK = 2, K_TITLE = 4, K_BANDS = 8, K_FEED_TITLE = 16, K_COLUMN = 32 };

/* The keys `which` of k into add[] (room for 5 + STORE_BANDS); their number. */
static size_t
keys_list(const struct keys *k, unsigned which, int only_new, struct store_key *add)
{
    size_t n = 0;
    if (which & K_GUID)
        add[n++] = (struct store_key){KEY_GUID, k->guid, 0, only_new};
    if ((which & K_LINK) && k->link != NULL)
        add[n++] = (struct store_key){KEY_LINK, k->link, 0, only_new};
    if ((which & K_TITLE) && k->title != NULL)
        add[n++] = (struct store_key){KEY_TITLE, k->title, 0, only_new};
    if ((which & K_FEED_TITLE) && k->feed_title != NULL)
        add[n++] = (struct store_key){KEY_FEED_TITLE, k->feed_title, 0, only_new};
    if ((which & K_COLUMN) && k->column && !k->column_known)
        add[n++] = (struct store_key){KEY_COLUMN, k->title, 0, 0};
    if ((which & K_BANDS) && k->banded)
        for (int b = 0; b < STORE_BANDS; b++)
            add[n++] = (struct store_key){KEY_BAND, NULL, (int64_t)k->bands[b], only_new};
    return n;
}

static int
keys_add(struct store *s, const struct keys *k, unsigned which, int64_t article, int64_t at,
         int only_new)
{
    struct store_key add[5 + STORE_BANDS];
    size_t n = keys_list(k, which, only_new, add);
    return n > 0 ? s->ops->keys_add(s, add, n, article, at) : 0;
}

/* The article holding key (kind, text), preferring a live one; with
 * window > 0 only keys dated within `window` of `at`. 1 found (liveness in
 * *alive), 0 none, or a negative errno. */
static int
key_find(struct store *s, int kind, const char *text, int64_t at, int64_t window, int64_t *article,
         int *alive)
{
    struct store_key k = {kind, text, 0, 0};
    return s->ops->key_find(s, &k, window > 0, at - window, at + window, article, alive);
}

/* The body text of stored article `id` as a 4-gram set (caller frees *set;
 * empty when the article has no text). Returns 0 or a negative errno. */
struct shingled {
    uint64_t **set;
    size_t *n, *chars;
};

static int
on_text(void *arg, const char *text)
{
    struct shingled *sh = arg;
    return store_shingles(text, sh->set, sh->n, sh->chars) < 0 ? -ENOMEM : 0;
}

static int
stored_shingles(struct store *s, int64_t id, uint64_t **set, size_t *n, size_t *chars)
{
    struct shingled sh = {set, n, chars};
    *set = NULL;
    *n = *chars = 0;
    return s->ops->art_text(s, id, on_text, &sh);
}

/* What rules 2 and 3 read of the store for a new article, read at once
 * before they run (one round trip on PostgreSQL, not three): whether its
 * title is a known column title, the article holding its link, the live
 * articles under its title within 48 h. */
struct lookups {
    int column;                      /* a KEY_COLUMN row holds the title */
    int link;                        /* 1: link_article (alive: link_alive) */
    int64_t link_article;
    int link_alive;
    int ntitle;                      /* title[0..ntitle): rule 3's candidates */
    int64_t title[TITLE_CANDIDATES];
    int other_links;                 /* the feed's other links under the title (up to 2;
                                      * column_title's count), when the title is set */
    int nsimilar;                    /* similar[0..nsimilar): rule 4's candidates, when banded */
    int64_t similar[MAX_CANDIDATES];
};

void
store_more_clear(struct store_more *m)
{
    for (int i = 0; i < m->nrange; i++)
        free(m->range_keys[i]);
    m->nrange = 0;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The locks rules 3 and 4 look their candidates up under (SPEC §10): one on
 * the title key, one on each LSH band; sorted and distinct into locks[]
 * (room for 1 + STORE_BANDS), their number. */
static size_t
similarity_locks(const struct keys *k, int64_t *locks)
{
    size_t n = 0, d = 0;
    if (k->title != NULL)
        locks[n++] = (int64_t)hash64(0x84222325cbf29ce4ULL, k->title);
    if (k->banded)
        for (int b = 0; b < STORE_BANDS; b++)
            locks[n++] = (int64_t)k->bands[b];
    qsort(locks, n, sizeof(*locks), cmp_i64);
    for (size_t i = 0; i < n; i++)
        if (d == 0 || locks[d - 1] != locks[i])
            locks[d++] = locks[i];
    return d;
}

/* The column-title range of feed `feed_id` and title key `title`: keys
 * "FEED\x1fTITLE\x1f…", [lo, hi) into buffers of n bytes. */
static void
column_range(int64_t feed_id, const char *title, char *lo, char *hi, size_t n)
{
    int len = snprintf(lo, n, "%" PRId64 "\x1f%s\x1f", feed_id, title);
    memcpy(hi, lo, (size_t)len + 1);
    hi[len - 1] = '\x20'; /* the first key past every "lo…" */
}

/* What rules 2–4 read of the store for a new article (its feed
 * `feed_id`), read at once before they run (one round trip on PostgreSQL,
 * not five): whether its title is a known column title, the article
 * holding its link, the live articles under its title within 48 h, the
 * feed's other links under its title (a column title?), the live articles
 * sharing a band within 72 h. Rules 3 and 4 read them under the locks; the
 * last three are read whether or not a rule before needs them. */
static int
lookups_read(struct store *s, const struct keys *k, int64_t feed_id, int64_t date,
             struct lookups *l)
{
    struct store_lookup q[3];
    struct store_more more = {0};
    struct store_key bands[STORE_BANDS];
    int64_t column, locks[1 + STORE_BANDS];
    size_t n = 0, nlocks = similarity_locks(k, locks);
    int ic = -1, il = -1, it = -1;
    char *lo = NULL, *hi = NULL;
    memset(l, 0, sizeof(*l));
    if (k->title != NULL) {
        size_t len = strlen(k->title) + 32;
        if ((lo = malloc(len)) == NULL || (hi = malloc(len)) == NULL) {
            free(lo);
            return -ENOMEM;
        }
        column_range(feed_id, k->title, lo, hi, len);
        more.range_kind = KEY_FEED_TITLE;
        more.range_lo = lo;
        more.range_hi = hi;
        more.range_max = 3;
    }
    if (k->banded) {
        for (int b = 0; b < STORE_BANDS; b++)
            bands[b] = (struct store_key){KEY_BAND, NULL, (int64_t)k->bands[b], 0};
        more.k = bands;
        more.nk = STORE_BANDS;
        more.lo = date - H72;
        more.hi = date + H72;
        more.cand = l->similar;
        more.max = MAX_CANDIDATES;
    }
    if (k->title != NULL) {
        ic = (int)n;
        q[n++] = (struct store_lookup){.k = {KEY_COLUMN, k->title, 0, 0}, .out = &column, .max = 1};
    }
    if (k->link != NULL) {
        il = (int)n;
        q[n++] = (struct store_lookup){
            .k = {KEY_LINK, k->link, 0, 0}, .out = &l->link_article, .max = 1};
    }
    if (k->title != NULL) {
        it = (int)n;
        q[n++] = (struct store_lookup){.k = {KEY_TITLE, k->title, 0, 0},
                                       .live = 1,
                                       .lo = date - H48,
                                       .hi = date + H48,
                                       .out = l->title,
                                       .max = TITLE_CANDIDATES};
    }
    int rc = n > 0 || nlocks > 0 ? s->ops->key_lookup(s, locks, nlocks, q, n, &more) : 0;
    if (rc == 0) {
        /* column_title's count: the incoming article's own key is one */
        for (int i = 0; i < more.nrange; i++)
            l->other_links += strcmp(more.range_keys[i], k->feed_title) != 0;
        l->nsimilar = more.ncand;
    }
    store_more_clear(&more);
    free(lo);
    free(hi);
    if (rc < 0)
        return rc;
    if (ic >= 0)
        l->column = q[ic].n > 0;
    if (il >= 0) {
        l->link = q[il].n > 0;
        l->link_alive = q[il].alive;
    }
    if (it >= 0)
        l->ntitle = q[it].n;
    return 0;
}

/* Rule 3: a live article under the same title within 48 h whose body agrees
 * (both headline-only, or Jaccard ≥ 0.5), unless the title is a column
 * title. 1 and *article when found. */
static int
find_by_title(struct store *s, const struct keys *k, const struct lookups *l, int64_t *article)
{
    const int64_t *cand = l->title;
    int nc = l->ntitle;
    if (k->column)
        return 0;
    for (int i = 0; i < nc; i++) {
        uint64_t *other = NULL;
        size_t no, chars;
        int rc = stored_shingles(s, cand[i], &other, &no, &chars);
        int agree = rc == 0 && ((k->chars < HEADLINE_CHARS && chars < HEADLINE_CHARS) ||
                                store_jaccard(k->set, k->nset, other, no) >= TITLE_SIMILAR);
        free(other);
        if (rc < 0)
            return rc;
        if (agree) {
            *article = cand[i];
            return 1;
        }
    }
    return 0;
}

/* Rule 3's column titles: whether the title of the incoming article (keys
 * `k`) is one, into k->column and k->column_known: known as one, or
 * carried by its feed for two or more different links. */
static void
find_column(struct keys *k, const struct lookups *l)
{
    k->column = k->column_known = l->column;
    /* feed carried the title for two or more different links, the
     * incoming article counting as one of them */
    if (!k->column)
        k->column = 1 + l->other_links >= 2;
}

/* Rule 4: a live article sharing an LSH band within 72 h whose body text
 * really is near-identical (Jaccard ≥ 0.85). 1 and *article when found. */
static int
find_similar(struct store *s, const struct keys *k, const struct lookups *l, int64_t *article)
{
    /* every band's candidates, read with the lookups (lookups_read): band
     * by band, each article once, the first 64 */
    const int64_t *cand = l->similar;
    int nc = l->nsimilar;
    for (int i = 0; i < nc; i++) {
        uint64_t *other = NULL;
        size_t no, chars;
        int rc = stored_shingles(s, cand[i], &other, &no, &chars);
        double j = rc == 0 ? store_jaccard(k->set, k->nset, other, no) : 0;
        free(other);
        if (rc < 0)
            return rc;
        if (j >= SIMILAR) {
            *article = cand[i];
            return 1;
        }
    }
    return 0;
}

static int
add_source(struct store *s, int64_t article, int64_t feed_id, int republish, int64_t now)
{
    int rc = s->ops->src_add(s, article, feed_id, now);
    if (rc > 0)
        s->changed = 1;
    if (rc >= 0 && republish) {
        /* a feed that may republish makes a hidden article visible */
        if ((rc = s->ops->art_republish(s, article)) > 0)
            s->changed = 1;
    }
    return rc < 0 ? rc : 0;
}

/* The article's tickers (SPEC §12) added to stored article `article`'s:
 * a duplicate's are merged into the first article's, an update's kept
 * beside the ones it had. */
static int
merge_tickers(struct store *s, int64_t article, const struct parse_article *a)
{
    if (a->ntickers == 0)
        return 0;
    int rc = s->ops->tickers_add(s, article, (const char *const *)a->tickers, a->ntickers);
    if (rc > 0)
        s->changed = 1;
    return rc < 0 ? rc : 0;
}

static char *
categories_json(const struct parse_article *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < a->ncategories; i++)
        if (json_array_append_new(arr, json_string(a->categories[i])) < 0) {
            json_decref(arr);
            return NULL;
        }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return s;
}

static int
update_article(struct store *s, int64_t id, const struct parse_article *a, const char *cats,
               const char *text, uint64_t hash, int64_t now)
{
    struct store_row r = {.a = a, .cats = cats, .text = text, .hash = hash, .now = now};
    int rc = s->ops->art_update(s, id, &r);
    if (rc == 0)
        s->changed = 1;
    return rc;
}

/* The article's output id, stable forever: a version 7 UUID (RFC 9562),
 * 48 bits of Unix milliseconds then 74 random bits. Time-ordered, so a new
 * id lands at the end of the uid index instead of on a random page of it
 * (that cut the bytes written per document by a sixth). */
static void
new_uid(char uid[48])
{
    unsigned char r[16] = {0};
    struct timespec ts = {0};
    uint64_t ms = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    /* 16 bytes never fail once the kernel's pool is ready (Linux ≥ 3.17);
     * should they, nanoseconds and the address of r, mixed, stand in */
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)r ^ ((uint64_t)ts.tv_sec << 30);
        for (int i = 0; i < 16; i++) {
            x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
            r[i] = (unsigned char)(x >> 56);
        }
    }
    for (int i = 0; i < 6; i++)
        r[i] = (unsigned char)(ms >> (40 - 8 * i));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x70); /* version 7 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(uid, 48,
             "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

/* A new article with its first source and every key of `k`. */
static int
insert_article(struct store *s, int64_t feed_id, const struct parse_article *a, const char *cats,
               const char *text, uint64_t hash, int republish, int64_t now, const struct keys *k,
               int64_t *id)
{
    struct store_key add[5 + STORE_BANDS];
    size_t n = keys_list(k, K_GUID | K_LINK | K_TITLE | K_FEED_TITLE | K_COLUMN | K_BANDS, 0, add);
    char uid[48];
    new_uid(uid);
    struct store_row r = {.a = a,
                          .uid = uid,
                          .cats = cats,
                          .text = text,
                          .hash = hash,
                          .feed_id = feed_id,
                          .republish = republish,
                          .now = now};
    int rc = s->ops->art_add(s, &r, add, n, a->date, id);
    if (rc == 0)
        s->changed = 1;
    return rc;
}

/* Rules 2–4 in order: the article with keys `k` repeats *article, 1 when
 * found. */
static int
find_duplicate(struct store *s, const struct keys *k, const struct lookups *l, int64_t *article,
               int *alive)
{
    int found = 0;
    if (l->link) {
        *article = l->link_article;
        *alive = l->link_alive;
        return 1;
    }
    *alive = 1;
    if (k->title != NULL && (found = find_by_title(s, k, l, article)) != 0)
        return found;
    if (k->banded && (found = find_similar(s, k, l, article)) > 0)
        *alive = 1;
    return found;
}

/* store_add once: 0, a negative errno, or 1 when another writer's copy of
 * the story took an exact key first (nothing stored: look again). */
static int
add_once(struct store *s, int64_t feed_id, const struct parse_article *a, int republish,
         int64_t now, enum store_outcome *outcome)
{
    enum store_outcome out = STORE_UNCHANGED;
    struct keys k = {0};
    char *text = NULL, *cats = NULL;
    int64_t article = 0;
    int alive = 0, rc = -ENOMEM, found;
    if (a->guid == NULL || a->title == NULL || a->body == NULL) {
        snprintf(s->err, sizeof(s->err), "article without guid, title or body");
        return -EINVAL;
    }
    uint64_t hash = hash64(hash64(0xcbf29ce484222325ULL, a->title), a->body);

    size_t gl = strlen(a->guid) + 32;
    if ((k.guid = malloc(gl)) == NULL)
        goto out;
    snprintf(k.guid, gl, "%" PRId64 "\x1f%s", feed_id, a->guid);

    /* 1. same feed, same guid: unchanged, or updated in place */
    if ((rc = found = key_find(s, KEY_GUID, k.guid, 0, 0, &article, &alive)) < 0)
        goto out;
    if (found) {
        rc = 0;
        if (!alive) {
            /* a tombstone: pruned, not new again while a feed lists it */
            rc = s->ops->tomb_seen(s, article, now, 0);
            goto out;
        }
        uint64_t old = hash, stored;
        int64_t first;
        int r = s->ops->art_get(s, article, &stored, &first);
        /* only the article's first source updates it: a feed that carries a
         * copy does not overwrite the original with its version */
        if (r > 0 && first == feed_id)
            old = stored;
        else if (r < 0)
            rc = r;
        if (rc < 0 || old == hash)
            goto out;
        out = STORE_UPDATED;
        rc = -ENOMEM;
        if ((text = parse_html_text(a->body)) == NULL || (cats = categories_json(a)) == NULL ||
            keys_make(s, feed_id, a, text, &k) < 0)
            goto out;
        if ((rc = update_article(s, article, a, cats, text, hash, now)) < 0 ||
            (rc = merge_tickers(s, article, a)) < 0)
            goto out;
        /* the new version's keys find its reposts too */
        rc = keys_add(s, &k, K_LINK | K_TITLE | K_FEED_TITLE | K_BANDS, article, a->date, 1);
        goto out;
    }

    if ((text = parse_html_text(a->body)) == NULL || keys_make(s, feed_id, a, text, &k) < 0)
        goto out;
    struct lookups look;
    if ((rc = lookups_read(s, &k, feed_id, a->date, &look)) < 0)
        goto out;
    if (k.title != NULL)
        find_column(&k, &look);
    if ((rc = found = find_duplicate(s, &k, &look, &article, &alive)) < 0)
        goto out;
    if (found) {
        /* another source of an article already stored (or of a tombstone:
         * then nothing to show). Its guid now points there, so the next fetch
         * of this item is rule 1; its link and title find later copies. */
        out = alive ? STORE_DUPLICATE : STORE_UNCHANGED;
        /* a tombstone seen again lives on: refreshed (or made again, when
         * another node expired it meanwhile) before keys are added to it */
        if ((!alive && (rc = s->ops->tomb_seen(s, article, now, 1)) < 0) ||
            (rc = keys_add(s, &k, K_GUID, article, a->date, 0)) < 0 ||
            (rc = keys_add(s, &k, K_LINK | K_TITLE | K_FEED_TITLE | K_COLUMN, article, a->date, 1)) < 0)
            goto out;
        if (alive && (rc = add_source(s, article, feed_id, republish, now)) == 0)
            rc = merge_tickers(s, article, a);
        goto out;
    }

    out = STORE_NEW;
    rc = -ENOMEM;
    if ((cats = categories_json(a)) == NULL)
        goto out;
    rc = insert_article(s, feed_id, a, cats, text, hash, republish, now, &k, &article);
out:
    if (rc == 0 && outcome != NULL)
        *outcome = out;
    keys_free(&k);
    free(text);
    free(cats);
    return rc;
}

int
store_add(struct store *s, int64_t feed_id, const struct parse_article *a, int republish,
          int64_t now, enum store_outcome *outcome)
{
    int rc;
    /* a conflict means the other copy is committed now: the second look
     * finds it (a third is for a copy pruned in between) */
    for (int attempt = 0; attempt < 3; attempt++)
        if ((rc = add_once(s, feed_id, a, republish, now, outcome)) <= 0)
            return rc;
    snprintf(s->err, sizeof(s->err), "article stored elsewhere and not found");
    return -EAGAIN;
}
