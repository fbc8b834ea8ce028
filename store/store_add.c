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

#include "store/store_int.h"

#define H48 (48 * 3600)
#define H72 (72 * 3600)
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
    char *cats; /* the categories' JSON when made ahead, until taken */
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
    free(k->cats);
}

/* Rules 2–4 keys of `a` of feed `feed_id` into k, its body text into
 * *text: taken from pre when it holds them (made ahead: store_prekeys),
 * else made here. */
static int
keys_make(struct store *s, int64_t feed_id, const struct parse_article *a,
          struct store_prekeys *pre, char **text, struct keys *k)
{
    struct store_prekeys made;
    /* keys made with a tracking list the store no longer has (a reload
     * changed it since) are made again */
    if (pre == NULL || !pre->full || pre->gen != s->tracking_gen) {
        if (store_keys_fill(s->tracking, s->ntracking, a, &made) < 0)
            return -ENOMEM;
        pre = &made;
    }
    /* taken: the keys are k's (and *text) now */
    *text = pre->text;
    k->cats = pre->cats;
    k->link = pre->link;
    k->title = pre->title;
    k->set = pre->set;
    k->nset = pre->nset;
    k->chars = pre->chars;
    k->banded = pre->banded;
    memcpy(k->bands, pre->bands, sizeof(k->bands));
    memset(pre, 0, sizeof(*pre));
    if (k->title != NULL) {
        const char *link = k->link ? k->link : a->link ? a->link : a->guid;
        size_t n = strlen(k->title) + strlen(link) + 32;
        if ((k->feed_title = malloc(n)) == NULL)
            return -ENOMEM;
        snprintf(k->feed_title, n, "%" PRId64 "\x1f%s\x1f%s", feed_id, k->title, link);
    }
    return 0;
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

/* The similarity locks are taken from this many, past LOCKS_BASE: a lock
 * held until the document's transaction ends is a slot of PostgreSQL's
 * shared lock table (max_locks_per_transaction × max_connections: 6,400 by
 * default, for every session), and a document of 740 articles with bodies
 * took 17 locks an article and ran out ("out of shared memory": a big
 * feed never stored). Two articles sharing a title or a band still share
 * a lock; the others share one now and then, and wait for each other. */
#define LOCKS_SLOTS 1024
#define LOCKS_BASE 0x66696e73696d0000LL /* "finsim" */

/* The locks rules 3 and 4 look their candidates up under (SPEC §10): one on
 * the title key, one on each LSH band, folded into LOCKS_SLOTS; sorted and
 * distinct into locks[] (room for 1 + STORE_BANDS), their number. */
static size_t
similarity_locks(const struct keys *k, int64_t *locks)
{
    size_t n = 0, d = 0;
    if (k->title != NULL)
        locks[n++] = LOCKS_BASE +
                     (int64_t)(store_hash64(0x84222325cbf29ce4ULL, k->title) % LOCKS_SLOTS);
    if (k->banded)
        for (int b = 0; b < STORE_BANDS; b++)
            locks[n++] = LOCKS_BASE + (int64_t)(k->bands[b] % LOCKS_SLOTS);
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
 * not five, and one for several articles: store_add_many): whether its
 * title is a known column title, the article holding its link, the live
 * articles under its title within 48 h, the feed's other links under its
 * title (a column title?), the live articles sharing a band within 72 h.
 * Rules 3 and 4 read them under the locks; the last three are read whether
 * or not a rule before needs them. The question (lookups_ask) points into
 * the struct, which stays put until the answer is read (lookups_answer). */
struct ask {
    struct store_lookups r; /* key_lookup's request */
    struct store_lookup q[3];
    struct store_more more;
    struct store_key bands[STORE_BANDS];
    int64_t column, locks[1 + STORE_BANDS];
    char *lo, *hi;
    int ic, il, it;
    struct lookups l; /* the answer */
};

static void
ask_free(struct ask *q)
{
    store_more_clear(&q->more);
    free(q->lo);
    free(q->hi);
    q->lo = q->hi = NULL;
}

static int
lookups_ask(const struct keys *k, int64_t feed_id, int64_t date, struct ask *q)
{
    struct lookups *l = &q->l;
    size_t n = 0;
    memset(q, 0, sizeof(*q));
    q->ic = q->il = q->it = -1;
    if (k->title != NULL) {
        size_t len = strlen(k->title) + 32;
        if ((q->lo = malloc(len)) == NULL || (q->hi = malloc(len)) == NULL)
            return -ENOMEM;
        column_range(feed_id, k->title, q->lo, q->hi, len);
        q->more.range_kind = KEY_FEED_TITLE;
        q->more.range_lo = q->lo;
        q->more.range_hi = q->hi;
        q->more.range_max = 3;
    }
    if (k->banded) {
        for (int b = 0; b < STORE_BANDS; b++)
            q->bands[b] = (struct store_key){KEY_BAND, NULL, (int64_t)k->bands[b], 0};
        q->more.k = q->bands;
        q->more.nk = STORE_BANDS;
        q->more.lo = date - H72;
        q->more.hi = date + H72;
        q->more.cand = l->similar;
        q->more.max = MAX_CANDIDATES;
    }
    if (k->title != NULL) {
        q->ic = (int)n;
        q->q[n++] =
            (struct store_lookup){.k = {KEY_COLUMN, k->title, 0, 0}, .out = &q->column, .max = 1};
    }
    if (k->link != NULL) {
        q->il = (int)n;
        q->q[n++] = (struct store_lookup){
            .k = {KEY_LINK, k->link, 0, 0}, .out = &l->link_article, .max = 1};
    }
    if (k->title != NULL) {
        q->it = (int)n;
        q->q[n++] = (struct store_lookup){.k = {KEY_TITLE, k->title, 0, 0},
                                          .live = 1,
                                          .lo = date - H48,
                                          .hi = date + H48,
                                          .out = l->title,
                                          .max = TITLE_CANDIDATES};
    }
    q->r = (struct store_lookups){.locks = q->locks,
                                  .nlocks = similarity_locks(k, q->locks),
                                  .q = q->q,
                                  .n = n,
                                  .more = &q->more};
    return 0;
}

/* The answer to q (asked for keys k) into q->l, once key_lookup ran. */
static void
lookups_answer(const struct keys *k, struct ask *q)
{
    struct lookups *l = &q->l;
    /* column_title's count: the incoming article's own key is one */
    for (int i = 0; i < q->more.nrange; i++)
        l->other_links += strcmp(q->more.range_keys[i], k->feed_title) != 0;
    l->nsimilar = q->more.ncand;
    if (q->ic >= 0)
        l->column = q->q[q->ic].n > 0;
    if (q->il >= 0) {
        l->link = q->q[q->il].n > 0;
        l->link_alive = q->q[q->il].alive;
    }
    if (q->it >= 0)
        l->ntitle = q->q[q->it].n;
    ask_free(q);
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
    /* every band's candidates, read with the lookups (lookups_ask): band
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
    /* a feed that may republish makes a hidden article visible */
    int rc = s->ops->src_add(s, article, feed_id, now, republish);
    if (rc > 0)
        s->changed = 1;
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
 * (that cut the bytes written per document by a sixth). The random bits
 * come from the handle's pool (s->rnd), written out by hand: snprintf's
 * sixteen %02x cost a cold ingest's writer as much as the getrandom. */
static void
new_uid(struct store *s, char uid[48])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16] = {0};
    struct timespec ts = {0};
    uint64_t ms = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    /* never fails once the kernel's pool is ready (Linux ≥ 3.17); should
     * it, nanoseconds and the address of r, mixed, stand in */
    if (s->nrnd < sizeof(r) &&
        getrandom(s->rnd, sizeof(s->rnd), 0) == (ssize_t)sizeof(s->rnd))
        s->nrnd = sizeof(s->rnd);
    if (s->nrnd >= sizeof(r)) {
        memcpy(r, s->rnd + sizeof(s->rnd) - s->nrnd, sizeof(r));
        s->nrnd -= sizeof(r);
    } else {
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
    char *w = uid + sizeof("urn:uuid:") - 1;
    memcpy(uid, "urn:uuid:", sizeof("urn:uuid:") - 1);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *w++ = '-';
        *w++ = hex[r[i] >> 4];
        *w++ = hex[r[i] & 15];
    }
    *w = '\0';
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
    new_uid(s, uid);
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

/* One article on its way through the rules (add_once, store_add_many). */
struct item {
    struct keys k;
    char *text, *cats;
    uint64_t hash;
    enum store_outcome out;
    struct ask ask; /* rules 2–4's question and answer */
};

static void
item_free(struct item *it)
{
    keys_free(&it->k);
    free(it->text);
    free(it->cats);
    ask_free(&it->ask);
    memset(it, 0, sizeof(*it));
}

/* The row's categories JSON into it->cats: the one made with the keys
 * ahead (store_prekeys_make, on the parsing thread), else made now. 0 or
 * -ENOMEM. */
static int
take_cats(struct item *it, const struct parse_article *a)
{
    if (it->k.cats != NULL) {
        it->cats = it->k.cats;
        it->k.cats = NULL;
        return 0;
    }
    return (it->cats = store_categories_json(a)) != NULL ? 0 : -ENOMEM;
}

/* Rule 1 for article `a` (its guid key and content hash into it): 0 when it
 * decides (it->out: unchanged, or updated in place), 2 when rules 2–4 are
 * to run, or a negative errno. `pre`: what the store said of the guid key a
 * moment ago (guid_find), or NULL to look it up now. */
static int
add_rule1(struct store *s, int64_t feed_id, const struct parse_article *a,
          struct store_prekeys *keys, int64_t now, const struct store_guid *pre, struct item *it)
{
    int64_t article = 0;
    int alive = 0, rc, found;
    it->out = STORE_UNCHANGED;
    if (a->guid == NULL || a->title == NULL || a->body == NULL) {
        snprintf(s->err, sizeof(s->err), "article without guid, title or body");
        return -EINVAL;
    }
    /* made ahead with the keys (a body's bytes one at a time: 2% of the
     * writer), else now */
    it->hash = keys != NULL && keys->hashed ? keys->hash : store_content_hash(a->title, a->body);

    size_t gl = strlen(a->guid) + 32;
    if ((it->k.guid = malloc(gl)) == NULL)
        return -ENOMEM;
    snprintf(it->k.guid, gl, "%" PRId64 "\x1f%s", feed_id, a->guid);

    /* 1. same feed, same guid: unchanged, or updated in place */
    if (pre != NULL) {
        found = pre->found;
        article = pre->article;
        alive = pre->alive;
    } else if ((rc = found = key_find(s, KEY_GUID, it->k.guid, 0, 0, &article, &alive)) < 0) {
        return rc;
    }
    if (!found)
        return 2;
    if (!alive) /* a tombstone: pruned, not new again while a feed lists it */
        return s->ops->tomb_seen(s, article, now, 0);
    uint64_t old = it->hash, stored = pre ? pre->hash : 0;
    int64_t first = pre ? pre->feed_id : 0;
    int r = pre ? 1 : s->ops->art_get(s, article, &stored, &first);
    /* only the article's first source updates it: a feed that carries a
     * copy does not overwrite the original with its version */
    if (r < 0)
        return r;
    if (r > 0 && first == feed_id)
        old = stored;
    if (old == it->hash)
        return 0;
    it->out = STORE_UPDATED;
    if (keys_make(s, feed_id, a, keys, &it->text, &it->k) < 0 || take_cats(it, a) < 0)
        return -ENOMEM;
    if ((rc = update_article(s, article, a, it->cats, it->text, it->hash, now)) < 0 ||
        (rc = merge_tickers(s, article, a)) < 0)
        return rc;
    /* the new version's keys find its reposts too */
    return keys_add(s, &it->k, K_LINK | K_TITLE | K_FEED_TITLE | K_BANDS, article, a->date, 1);
}

/* Rules 2–4's first half, after add_rule1's 2: the article's text and
 * keys, and the question its lookups ask (it->ask.r). */
static int
new_ask(struct store *s, int64_t feed_id, const struct parse_article *a,
        struct store_prekeys *keys, struct item *it)
{
    if (keys_make(s, feed_id, a, keys, &it->text, &it->k) < 0)
        return -ENOMEM;
    return lookups_ask(&it->k, feed_id, a->date, &it->ask);
}

/* The second half, once key_lookup answered it->ask.r: rules 2–4 and the
 * writes (it->out). 0, 1 when another writer's copy of the story took an
 * exact key first (nothing stored: look again), or a negative errno. */
static int
new_decide(struct store *s, int64_t feed_id, const struct parse_article *a, int republish,
           int64_t now, struct item *it)
{
    struct lookups *look = &it->ask.l;
    int64_t article = 0;
    int alive = 0, rc, found;
    lookups_answer(&it->k, &it->ask);
    if (it->k.title != NULL)
        find_column(&it->k, look);
    if ((rc = found = find_duplicate(s, &it->k, look, &article, &alive)) < 0)
        return rc;
    if (found) {
        /* another source of an article already stored (or of a tombstone:
         * then nothing to show). Its guid now points there, so the next fetch
         * of this item is rule 1; its link and title find later copies. */
        struct store_key add[5 + STORE_BANDS];
        size_t n = keys_list(&it->k, K_GUID, 0, add);
        n += keys_list(&it->k, K_LINK | K_TITLE | K_FEED_TITLE | K_COLUMN, 1, add + n);
        it->out = alive ? STORE_DUPLICATE : STORE_UNCHANGED;
        /* a tombstone seen again lives on: refreshed (or made again, when
         * another node expired it meanwhile) before keys are added to it */
        if ((!alive && (rc = s->ops->tomb_seen(s, article, now, 1)) < 0) ||
            (rc = s->ops->keys_add(s, add, n, article, a->date)) < 0)
            return rc;
        if (!alive)
            return 0;
        if ((rc = add_source(s, article, feed_id, republish, now)) < 0)
            return rc;
        return merge_tickers(s, article, a);
    }
    it->out = STORE_NEW;
    if (take_cats(it, a) < 0)
        return -ENOMEM;
    return insert_article(s, feed_id, a, it->cats, it->text, it->hash, republish, now, &it->k,
                          &article);
}

/* store_add once: 0, a negative errno, or 1 when another writer's copy of
 * the story took an exact key first (nothing stored: look again). `keys`:
 * its keys made ahead, or NULL. `pre`: what the store said of the
 * article's guid key a moment ago (guid_find), or NULL to look it up now. */
static int
add_once(struct store *s, int64_t feed_id, const struct parse_article *a,
         struct store_prekeys *keys, int republish, int64_t now, const struct store_guid *pre,
         enum store_outcome *outcome)
{
    struct item it = {0};
    int rc = add_rule1(s, feed_id, a, keys, now, pre, &it);
    if (rc == 2 && (rc = new_ask(s, feed_id, a, keys, &it)) == 0 &&
        (rc = s->ops->key_lookup(s, &it.ask.r, 1)) == 0)
        rc = new_decide(s, feed_id, a, republish, now, &it);
    if (rc == 0 && outcome != NULL)
        *outcome = it.out;
    item_free(&it);
    return rc;
}

/* store_add with a's keys made ahead (or NULL). */
static int
add_keyed(struct store *s, int64_t feed_id, const struct parse_article *a,
          struct store_prekeys *keys, int republish, int64_t now, enum store_outcome *outcome)
{
    int rc;
    /* a conflict means the other copy is committed now: the second look
     * finds it (a third is for a copy pruned in between) */
    for (int attempt = 0; attempt < 3; attempt++)
        if ((rc = add_once(s, feed_id, a, keys, republish, now, NULL, outcome)) <= 0)
            return rc;
    snprintf(s->err, sizeof(s->err), "article stored elsewhere and not found");
    return -EAGAIN;
}

int
store_add(struct store *s, int64_t feed_id, const struct parse_article *a, int republish,
          int64_t now, enum store_outcome *outcome)
{
    return add_keyed(s, feed_id, a, NULL, republish, now, outcome);
}

/* Up to this many articles a look-up (store_add_many). */
#define GUIDS_MAX 64

/* Whether the rules 2–4 lookups of an article with keys b could find
 * anything an article with keys a writes (a's own keys: its guid, link,
 * title, feed title, column title, bands): then b's lookups must wait for
 * a's writes. */
static int
keys_meet(const struct keys *a, const struct keys *b)
{
    if (strcmp(a->guid, b->guid) == 0 || (a->link && b->link && strcmp(a->link, b->link) == 0) ||
        (a->title && b->title && strcmp(a->title, b->title) == 0))
        return 1;
    for (int i = 0; a->banded && b->banded && i < STORE_BANDS; i++)
        for (int j = 0; j < STORE_BANDS; j++)
            if (a->bands[i] == b->bands[j])
                return 1;
    return 0;
}

/* A batch's wave: items[at[0..n)], each asking rules 2–4's lookups, none
 * of them able to find what one before it writes (keys_meet): their
 * lookups in one key_lookup (one round trip on PostgreSQL), then each
 * decided and written in turn, as one after another would be (wave_run,
 * which empties it). */
struct wave {
    struct item *items;
    size_t at[GUIDS_MAX];
    size_t n;
};

static int
wave_run(struct store *s, int64_t feed_id, const struct parse_article *const *a, int republish,
         int64_t now, struct wave *w, enum store_outcome *out)
{
    struct store_lookups r[GUIDS_MAX];
    int rc = 0;
    for (size_t i = 0; i < w->n; i++)
        r[i] = w->items[w->at[i]].ask.r;
    if (w->n > 0)
        rc = s->ops->key_lookup(s, r, w->n);
    for (size_t i = 0; i < w->n; i++) {
        size_t j = w->at[i];
        struct item *it = &w->items[j];
        if (rc == 0) {
            rc = new_decide(s, feed_id, a[j], republish, now, it);
            /* another writer's copy took an exact key first: looked up
             * again, as store_add does */
            for (int attempt = 1; rc > 0 && attempt < 3; attempt++)
                rc = add_once(s, feed_id, a[j], NULL, republish, now, NULL, &it->out);
            if (rc > 0) {
                snprintf(s->err, sizeof(s->err), "article stored elsewhere and not found");
                rc = -EAGAIN;
            }
            if (rc == 0)
                out[j] = it->out;
        }
        item_free(it);
    }
    w->n = 0;
    return rc;
}

int
store_add_many(struct store *s, int64_t feed_id, const struct parse_article *const *a,
               struct store_prekeys *const *keys, size_t n, int republish, int64_t now,
               enum store_outcome *out)
{
    struct store_key k[GUIDS_MAX];
    struct store_guid pre[GUIDS_MAX];
    char *guid[GUIDS_MAX] = {0};
    struct wave w = {0};
    size_t done = 0;
    int rc = 0;
    if (s->ops->guid_find == NULL || !s->in_tx) {
        /* no round trips to save (SQLite), or none to hold back: one after
         * another */
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = add_keyed(s, feed_id, a[i], keys ? keys[i] : NULL, republish, now, &out[i]);
        return rc;
    }
    if ((w.items = calloc(GUIDS_MAX, sizeof(*w.items))) == NULL)
        return -ENOMEM;
    while (done < n && rc == 0) {
        size_t m = n - done < GUIDS_MAX ? n - done : GUIDS_MAX, nk = 0;
        int have = 0;
        const struct parse_article *const *b = a + done;
        struct store_prekeys *const *bk = keys ? keys + done : NULL;
        /* the guid keys of the next m articles, each once: a guid repeated
         * in the batch is looked up when its turn comes (the one before it
         * may have stored it) */
        for (size_t i = 0; i < m && rc == 0; i++) {
            size_t gl = b[i]->guid ? strlen(b[i]->guid) + 32 : 0;
            if (b[i]->guid == NULL)
                continue;
            if ((guid[i] = malloc(gl)) == NULL) {
                rc = -ENOMEM;
                break;
            }
            snprintf(guid[i], gl, "%" PRId64 "\x1f%s", feed_id, b[i]->guid);
            for (size_t j = 0; j < i && guid[i] != NULL; j++)
                if (guid[j] != NULL && strcmp(guid[j], guid[i]) == 0) {
                    free(guid[i]);
                    guid[i] = NULL;
                }
            if (guid[i] != NULL)
                k[nk++] = (struct store_key){KEY_GUID, guid[i], 0, 0};
        }
        if (rc == 0 && nk > 0) {
            struct store_guid found[GUIDS_MAX];
            if ((rc = s->ops->guid_find(s, k, nk, found)) == 0) {
                have = 1;
                for (size_t i = 0, j = 0; i < m; i++)
                    if (guid[i] != NULL)
                        pre[i] = found[j++];
            }
        }
        for (size_t i = 0; i < m && rc == 0; i++) {
            const struct store_guid *p = have && guid[i] != NULL ? &pre[i] : NULL;
            struct item *it = &w.items[i];
            if (p == NULL || (p->found && p->alive)) {
                /* a repeated guid looked up now, or an article rule 1 may
                 * update: after what the wave before it writes */
                if ((rc = wave_run(s, feed_id, b, republish, now, &w, out + done)) < 0)
                    break;
                int attempt = 0;
                while ((rc = add_once(s, feed_id, b[i], bk ? bk[i] : NULL, republish, now, p,
                                      &out[done + i])) > 0 &&
                       ++attempt < 3)
                    p = NULL;
                if (rc > 0) {
                    snprintf(s->err, sizeof(s->err), "article stored elsewhere and not found");
                    rc = -EAGAIN;
                }
                continue;
            }
            /* rule 1 decides alone (a tombstone), or rules 2–4 run with the
             * wave */
            rc = add_rule1(s, feed_id, b[i], bk ? bk[i] : NULL, now, p, it);
            if (rc == 0) {
                out[done + i] = it->out;
                item_free(it);
                continue;
            }
            if (rc < 0 || (rc = new_ask(s, feed_id, b[i], bk ? bk[i] : NULL, it)) < 0) {
                item_free(it);
                break;
            }
            for (size_t j = 0; j < w.n; j++)
                if (keys_meet(&w.items[w.at[j]].k, &it->k)) {
                    /* it could find what one before it writes: after it */
                    rc = wave_run(s, feed_id, b, republish, now, &w, out + done);
                    break;
                }
            if (rc < 0) {
                item_free(it);
                break;
            }
            w.at[w.n++] = i;
        }
        if (rc == 0)
            rc = wave_run(s, feed_id, b, republish, now, &w, out + done);
        for (size_t i = 0; i < w.n; i++)
            item_free(&w.items[w.at[i]]);
        w.n = 0;
        for (size_t i = 0; i < m; i++) {
            free(guid[i]);
            guid[i] = NULL;
        }
        done += m;
    }
    free(w.items);
    return rc;
}
