/* store/sqlite_query.c — the SQLite backend's reading for output: the merged
 * feed with its filters (feed, category, full text through the FTS5 trigram
 * index, tickers, watchlists), the most-mentioned tickers, counts, the
 * change generation; and retention's deletes, in batches: the articles
 * pruned (their tickers with them), the tombstones expired. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "store/sqlite_int.h"

/* Case folding for finfeed_has: towlower in the C.UTF-8 locale (Unicode's
 * simple lower-case mappings, as PostgreSQL's lower() folds); ASCII alone
 * where the C library has no such locale. Built once a process with the
 * table of fold_split below. */
static locale_t fold_locale;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

/* Where the index's case folding and finfeed_has's part ways. FTS5's
 * trigram tokenizer folds with SQLite's own tables (an older Unicode, and
 * nothing beyond the BMP but Deseret); towlower_l knows more: İ (U+0130)
 * is i to it (and to PostgreSQL's lower()), not to the index; so are
 * Cherokee, Georgian Mtavruli, Adlam and others. A row with "İSTANBUL"
 * holds the word "ist" for finfeed_has but not the trigram "ist" for the
 * index. So a trigram with a character of such a split class (all the
 * characters towlower_l folds to one) is asked as each of its spellings
 * the index tells apart, ORed: ("ist" OR "İst"); not at all when those
 * are too many. The characters of split classes, sorted by c. */
#define FOLD_ALTS 4   /* spellings kept a character */
#define FOLD_COMBOS 8 /* spellings of a trigram asked at most */
struct fold_split {
    uint32_t c;
    unsigned n; /* spellings in alt; 0: more than FOLD_ALTS */
    uint32_t alt[FOLD_ALTS];
};
static struct fold_split *fold_split;
static size_t nfold_split;
static int fold_split_ok; /* 0: no table (no memory, no FTS5): no trigram is asked */

struct index_fold_ctx {
    uint32_t c;
};

static int
on_fts5_token(void *arg, int flags, const char *tok, int ntok, int start, int end)
{
    struct index_fold_ctx *x = arg;
    size_t len;
    (void)flags, (void)start, (void)end;
    int32_t c = ntok > 0 ? (unsigned char)tok[0] : -1;
    if (c >= 0x80)
        c = store_utf8_char((const unsigned char *)tok, (size_t)ntok, &len);
    if (c >= 0)
        x->c = (uint32_t)c;
    return SQLITE_OK;
}

/* c as the index folds it: the first character of the trigram of ccc. */
static uint32_t
index_fold(fts5_tokenizer *api, Fts5Tokenizer *t, uint32_t c)
{
    char buf[12];
    size_t n = parse_utf8_put(c, buf);
    memcpy(buf + n, buf, n);
    memcpy(buf + 2 * n, buf, n);
    struct index_fold_ctx x = {c};
    api->xTokenize(t, &x, FTS5_TOKENIZE_DOCUMENT, buf, (int)(3 * n), on_fts5_token);
    return x.c;
}

struct fold_pair {
    uint32_t key; /* towlower_l of c: the class */
    uint32_t c;
    uint32_t f; /* c as the index folds it */
};

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int
cmp_pair(const void *a, const void *b)
{
    const struct fold_pair *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? -1 : 1) : cmp_u32(&x->c, &y->c);
}

static int
cmp_split(const void *a, const void *b)
{
    return cmp_u32(&((const struct fold_split *)a)->c, &((const struct fold_split *)b)->c);
}

static int
valid_char(uint32_t c)
{
    return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF);
}

/* fold_split from towlower_l and the index's own tokenizer (a private
 * in-memory database lends it): the classes where they disagree. */
static void
fold_split_init(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    fts5_api *fts = NULL;
    fts5_tokenizer api;
    Fts5Tokenizer *t = NULL;
    void *ud = NULL;
    uint32_t *keys = NULL;
    struct fold_pair *pairs = NULL;
    size_t nkeys = 0, npairs = 0, cap = 0;
    if (fold_locale == (locale_t)0) { /* ASCII folding: the index folds A-Z alike */
        fold_split_ok = 1;
        return;
    }
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_pointer(st, 1, &fts, "fts5_api_ptr", NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || fts == NULL ||
        fts->xFindTokenizer(fts, "trigram", &ud, &api) != SQLITE_OK ||
        api.xCreate(ud, NULL, 0, &t) != SQLITE_OK)
        goto out;
    /* the classes the index splits: some c whose fold is not its lower case's */
    for (uint32_t c = 0x80; c <= 0x10FFFF; c++) {
        wint_t l = towlower_l((wint_t)c, fold_locale);
        if (l == (wint_t)c || !valid_char((uint32_t)l) || !valid_char(c))
            continue;
        if (index_fold(&api, t, c) != index_fold(&api, t, (uint32_t)l)) {
            if (nkeys == cap) {
                uint32_t *k = realloc(keys, (cap = cap ? 2 * cap : 256) * sizeof(*k));
                if (k == NULL)
                    goto out;
                keys = k;
            }
            keys[nkeys++] = (uint32_t)l;
        }
    }
    qsort(keys, nkeys, sizeof(*keys), cmp_u32);
    /* their characters (ASCII too: I is in İ's class) */
    cap = 0;
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (!valid_char(c))
            continue;
        uint32_t key = (uint32_t)towlower_l((wint_t)c, fold_locale);
        if (nkeys == 0 || bsearch(&key, keys, nkeys, sizeof(*keys), cmp_u32) == NULL)
            continue;
        if (npairs == cap) {
            struct fold_pair *p = realloc(pairs, (cap = cap ? 2 * cap : 256) * sizeof(*p));
            if (p == NULL)
                goto out;
            pairs = p;
        }
        pairs[npairs++] = (struct fold_pair){key, c, index_fold(&api, t, c)};
    }
    qsort(pairs, npairs, sizeof(*pairs), cmp_pair);
    if (npairs > 0 && (fold_split = calloc(npairs, sizeof(*fold_split))) == NULL)
        goto out;
    for (size_t i = 0, j; i < npairs; i = j) {
        struct fold_split one = {0};
        for (j = i; j < npairs && pairs[j].key == pairs[i].key; j++) {
            size_t k = i;
            while (k < j && pairs[k].f != pairs[j].f)
                k++;
            if (k < j) /* a spelling the index folds as an earlier one's */
                continue;
            if (one.n < FOLD_ALTS)
                one.alt[one.n] = pairs[j].c;
            one.n++;
        }
        if (one.n > FOLD_ALTS)
            one.n = 0;
        for (size_t k = i; k < j; k++) {
            one.c = pairs[k].c;
            fold_split[nfold_split++] = one;
        }
    }
    qsort(fold_split, nfold_split, sizeof(*fold_split), cmp_split);
    fold_split_ok = 1;
out:
    if (t != NULL)
        api.xDelete(t);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(keys);
    free(pairs);
}

static void
fold_init(void)
{
    fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    fold_split_init();
}

/* s folded to lower case into out (room for 2 * n bytes: a character
 * grows by half at most, Ⱥ's 2 bytes to ⱥ's 3); bytes that are no valid
 * character copied as they are. The length written. */
static size_t
fold(const unsigned char *s, size_t n, char *out)
{
    char *w = out;
    for (size_t i = 0, len; i < n; i += len) {
        int32_t c = s[i];
        len = 1;
        if (c >= 0x80 && (c = store_utf8_char(s + i, n - i, &len)) >= 0 && fold_locale != (locale_t)0) {
            wint_t l = towlower_l((wint_t)c, fold_locale);
            w += parse_utf8_put(l <= 0x10FFFF ? (uint32_t)l : (uint32_t)c, w);
        } else if (c >= 0x80 || c < 0) {
            memcpy(w, s + i, len);
            w += len;
        } else {
            *w++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    return (size_t)(w - out);
}

struct folded {
    size_t n;
    char s[];
};

/* SQL function finfeed_has(text, ..., word): whether the word is a
 * substring of any of the texts, case folded (SPEC §5's ?q=: "a case-
 * insensitive substring, whatever its length"). The word is folded once a
 * statement (auxiliary data of its argument). */
void
store_sqlite_has(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    pthread_once(&fold_once, fold_init);
    struct folded *w = sqlite3_get_auxdata(ctx, argc - 1);
    if (w == NULL) {
        const unsigned char *t = sqlite3_value_text(argv[argc - 1]);
        size_t n = (size_t)sqlite3_value_bytes(argv[argc - 1]);
        if ((w = sqlite3_malloc64(sizeof(*w) + 2 * n + 1)) == NULL) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        w->n = t != NULL ? fold(t, n, w->s) : 0;
        sqlite3_set_auxdata(ctx, argc - 1, w, sqlite3_free);
        if ((w = sqlite3_get_auxdata(ctx, argc - 1)) == NULL) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    for (int i = 0; i < argc - 1; i++) {
        const unsigned char *t = sqlite3_value_text(argv[i]);
        size_t n = (size_t)sqlite3_value_bytes(argv[i]);
        if (t == NULL)
            continue;
        char *f = sqlite3_malloc64(2 * n + 1);
        if (f == NULL) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        int found = memmem(f, fold(t, n, f), w->s, w->n) != NULL;
        sqlite3_free(f);
        if (found) {
            sqlite3_result_int(ctx, 1);
            return;
        }
    }
    sqlite3_result_int(ctx, 0);
}

/* The spellings the index tells apart of the word's character c (*alt,
 * n of them): c alone unless fold_split holds it; 0 for a byte that is no
 * character, or a class of too many. */
static unsigned
spellings(const uint32_t *c, const uint32_t **alt)
{
    struct fold_split key = {.c = *c};
    const struct fold_split *f;
    *alt = c;
    if (*c == UINT32_MAX)
        return 0;
    if (nfold_split == 0 ||
        (f = bsearch(&key, fold_split, nfold_split, sizeof(*f), cmp_split)) == NULL)
        return 1;
    *alt = f->alt;
    return f->n;
}

/* The trigram of characters c[0..2] into o as a quoted string, or as
 * ("…" OR "…") of its spellings; 0, or -1 when it has too many (or holds
 * no character) and is not asked. */
static int
put_trigram(struct store_sql *o, const uint32_t *c)
{
    const uint32_t *alt[3];
    unsigned n[3], combos = 1;
    for (int k = 0; k < 3; k++)
        combos *= (n[k] = spellings(&c[k], &alt[k]));
    if (combos == 0 || combos > FOLD_COMBOS)
        return -1;
    store_sql_add(o, "%s%s", o->len > 0 ? " AND " : "", combos > 1 ? "(" : "");
    for (unsigned i = 0; i < combos; i++) {
        char buf[3 * 4 * 2 + 1], *w = buf; /* 3 characters, a quote doubled */
        for (unsigned k = 0, r = i; k < 3; r /= n[k], k++) {
            char ch[4];
            size_t len = parse_utf8_put(alt[k][r % n[k]], ch);
            for (size_t j = 0; j < len; j++) {
                if (ch[j] == '"')
                    *w++ = '"';
                *w++ = ch[j];
            }
        }
        *w = '\0';
        store_sql_add(o, "%s\"%s\"", i > 0 ? " OR " : "", buf);
    }
    store_sql_add(o, "%s", combos > 1 ? ")" : "");
    return 0;
}

/* The index (detail=none, migration 14) knows which rows hold a trigram,
 * not where. A row holding a word of 3 or more characters holds each of
 * its trigrams: one at every third character (the next that can be asked
 * when one cannot) and the last suffice to narrow a search to few rows,
 * one MATCH of them all, ANDed (FTS5 takes a group after a string only
 * with AND). A byte that is no UTF-8 character is in no trigram asked
 * (FTS5 would read it as a character of its own: two trigrams, a phrase,
 * which detail=none refuses). "" when no word has a trigram to ask; NULL
 * when out of memory. */
static char *
fts_query(char *const *terms, int n)
{
    struct store_sql o = {0};
    store_sql_add(&o, "%s", "");
    pthread_once(&fold_once, fold_init);
    for (int i = 0; i < n && fold_split_ok; i++) {
        size_t len = strlen(terms[i]), chars = 0;
        uint32_t *c = malloc((len + 1) * sizeof(*c));
        if (c == NULL) {
            store_sql_free(&o);
            return NULL;
        }
        for (size_t at = 0, k; at < len; at += k) { /* the word's characters */
            int32_t u = (unsigned char)terms[i][at];
            k = 1;
            if (u >= 0x80)
                u = store_utf8_char((const unsigned char *)terms[i] + at, len - at, &k);
            c[chars++] = u >= 0 ? (uint32_t)u : UINT32_MAX;
        }
        size_t last = SIZE_MAX; /* the last trigram asked */
        for (size_t at = 0; at + 3 <= chars;)
            if (put_trigram(&o, c + at) == 0) {
                last = at;
                at += 3;
            } else {
                at++;
            }
        if (chars >= 3 && last != chars - 3)
            put_trigram(&o, c + chars - 3);
        free(c);
    }
    if (o.err) {
        store_sql_free(&o);
        return NULL;
    }
    return o.s;
}

/* "(?i, ?j, …)" of n texts. */
static void
in_list(struct store_sql *q, struct store_texts *b, const char *const *t, size_t n)
{
    store_sql_add(q, "(");
    for (size_t i = 0; i < n; i++)
        store_sql_add(q, "%s?%d", i ? ", " : "", store_texts_add(b, t[i], 0));
    store_sql_add(q, ")");
}

/* Every search word in the title or the body text: the rows the trigrams
 * of its longer words narrow it to (all rows when it has none), then
 * finfeed_has on each row's text for each word. */
static void
text_cond(struct store_sql *q, struct store_texts *b, char *const *terms, int n)
{
    char *fq = fts_query(terms, n);
    const char *and = "";
    if (fq == NULL) {
        b->err = -ENOMEM;
        return;
    }
    store_sql_add(q, "a.id IN (SELECT rowid FROM articles_fts WHERE ");
    if (*fq) {
        store_sql_add(q, "articles_fts MATCH ?%d", store_texts_add(b, fq, 1));
        and = " AND ";
    } else {
        free(fq);
    }
    for (int i = 0; i < n; i++) {
        store_sql_add(q, "%sfinfeed_has(articles_fts.title, articles_fts.body, ?%d)", and,
                      store_texts_add(b, strdup(terms[i]), 1));
        and = " AND ";
    }
    store_sql_add(q, ")");
}

static void
tickers_cond(struct store_sql *q, struct store_texts *b, const char *const *t, size_t n)
{
    store_sql_add(q, "a.id IN (SELECT article_id FROM article_tickers WHERE ticker IN ");
    in_list(q, b, t, n);
    store_sql_add(q, ")");
}

/* One watchlist group: any of its items, "(… OR …)"; "0" when it has none. */
static void
match_cond(struct store_sql *q, struct store_texts *b, const struct store_match *m)
{
    const char * or = "";
    if (store_match_empty(m)) {
        store_sql_add(q, "0");
        return;
    }
    store_sql_add(q, "(");
    if (m->ntickers > 0) {
        tickers_cond(q, b, m->tickers, m->ntickers);
        or = " OR ";
    }
    for (size_t i = 0; i < m->nkeywords; i++) {
        char *terms[STORE_MAX_TERMS], *copy = strdup(m->keywords[i]);
        int n = copy != NULL ? store_split_terms(copy, terms) : 0;
        if (copy == NULL)
            b->err = -ENOMEM;
        if (n > 0) { /* store_articles checked: one word at least */
            store_sql_add(q, "%s(", or);
            text_cond(q, b, terms, n);
            store_sql_add(q, ")");
            or = " OR ";
        }
        free(copy); /* text_cond bound patterns of its own */
    }
    if (m->ncategories > 0) {
        store_sql_add(q, "%sEXISTS (SELECT 1 FROM json_each(a.categories) WHERE value IN ", or);
        in_list(q, b, m->categories, m->ncategories);
        store_sql_add(q, ")");
        or = " OR ";
    }
    if (m->nfeeds > 0) {
        store_sql_add(q,
                      "%sa.id IN (SELECT x.article_id FROM sources x JOIN feeds f"
                      " ON f.id = x.feed_id WHERE f.name IN ",
                      or);
        in_list(q, b, m->feeds, m->nfeeds);
        store_sql_add(q, ")");
    }
    store_sql_add(q, ")");
}
/* The first source comes first in the sources array; the tickers in
 * their order. The filters and the limit pick the ids first (an inner
 * query, sorted on date and id alone; .close ends it); the columns, bodies
 * and sources are read for those only: a search matching thousands of
 * articles would otherwise build every match's row, sources included,
 * before the sort kept the newest (bench/soak: ?q= and the daemon's CPU
 * grew with the store). */
static const char select_sql[] =
    "SELECT a.id, a.uid, a.title, a.link, a.guid, a.author, a.headimg, a.thumbnail,"
    " a.summary, a.body, a.categories,"
    " (SELECT json_group_array(name) FROM (SELECT f.name FROM sources x"
    "   JOIN feeds f ON f.id = x.feed_id JOIN articles b ON b.id = x.article_id"
    "   WHERE x.article_id = a.id ORDER BY x.feed_id <> b.feed_id, x.seen, f.id)),"
    " (SELECT name FROM feeds WHERE id = a.feed_id),"
    " a.comments, a.date, a.updated, a.first_seen, a.rejected_date,"
    " (SELECT json_group_array(ticker) FROM (SELECT ticker FROM article_tickers"
    "   WHERE article_id = a.id ORDER BY pos))"
    " FROM articles a WHERE a.id IN (SELECT a.id FROM articles a WHERE a.republish = 1";

static const struct store_dialect dialect = {
    .select = select_sql,
    .param = '?',
    .category = {"EXISTS (SELECT 1 FROM json_each(a.categories) WHERE value = ", ")"},
    .text = text_cond,
    .tickers = tickers_cond,
    .match = match_cond,
    .close = ") ORDER BY a.date DESC, a.id DESC",
};

int
store_sqlite_articles(struct store *s, const struct store_query *q, char *const *terms, int nterms,
                      store_article_cb cb, void *arg)
{
    struct store_sql sql = {0};
    struct store_texts b = {0};
    sqlite3_stmt *st = NULL;
    int ret = -ENOMEM, rc;
    store_articles_sql(&sql, &b, q, terms, nterms, &dialect);
    if (sql.err || b.err)
        goto out;
    if ((rc = sqlite3_prepare_v2(sqlite_of(s)->db, sql.s, -1, &st, NULL)) != SQLITE_OK) {
        ret = store_sqlite_fail(s, rc);
        goto out;
    }
    for (int i = 0; i < b.n; i++)
        sqlite3_bind_text(st, i + 1, b.v[i], -1, SQLITE_STATIC);
    ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_article a = {
            .id = sqlite3_column_int64(st, 0),
            .uid = (const char *)sqlite3_column_text(st, 1),
            .title = (const char *)sqlite3_column_text(st, 2),
            .link = (const char *)sqlite3_column_text(st, 3),
            .guid = (const char *)sqlite3_column_text(st, 4),
            .author = (const char *)sqlite3_column_text(st, 5),
            .headimg = (const char *)sqlite3_column_text(st, 6),
            .thumbnail = (const char *)sqlite3_column_text(st, 7),
            .summary = (const char *)sqlite3_column_text(st, 8),
            .body = (const char *)sqlite3_column_text(st, 9),
            .categories_json = (const char *)sqlite3_column_text(st, 10),
            .sources_json = (const char *)sqlite3_column_text(st, 11),
            .feed = (const char *)sqlite3_column_text(st, 12),
            .comments = sqlite3_column_int(st, 13),
            .date = sqlite3_column_int64(st, 14),
            .updated = sqlite3_column_int64(st, 15),
            .first_seen = sqlite3_column_int64(st, 16),
            .date_rejected = sqlite3_column_type(st, 17) != SQLITE_NULL,
            .rejected_date = sqlite3_column_int64(st, 17),
            .tickers_json = (const char *)sqlite3_column_text(st, 18),
        };
        if ((ret = cb(arg, &a)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = store_sqlite_fail(s, rc);
out:
    sqlite3_finalize(st);
    store_texts_free(&b);
    store_sql_free(&sql);
    return ret;
}

int
store_sqlite_top_tickers(struct store *s, int64_t since, long limit, store_ticker_cb cb, void *arg)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db,
                                "SELECT t.ticker, count(*) AS n FROM articles a"
                                " JOIN article_tickers t ON t.article_id = a.id"
                                " WHERE a.date >= ?1 AND a.republish = 1"
                                " GROUP BY t.ticker ORDER BY n DESC, t.ticker LIMIT ?2",
                                -1, &st, NULL),
        ret = 0;
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if ((ret = cb(arg, t ? t : "", (long)sqlite3_column_int64(st, 1))) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return ret;
}

int
store_sqlite_generation(struct store *s, int64_t *gen)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(s, "SELECT value FROM meta WHERE key = 'generation'", &st);
    if (rc < 0)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
        if (rc >= 0)
            rc = -EIO;
    }
    store_sqlite_unprepare(s, st);
    return rc;
}

int
store_sqlite_count(struct store *s, int64_t feed_id, long *n)
{
    sqlite3_stmt *st;
    /* prepared once a handle (store_sqlite_prepare): the writer counts a
     * feed's articles after each document, and the start every feed's */
    const char *q = feed_id > 0 ? "SELECT count(*) FROM sources WHERE feed_id = ?1"
                                : "SELECT count(*) FROM articles";
    int rc = store_sqlite_prepare(s, q, &st);
    if (rc < 0)
        return rc;
    if (feed_id > 0)
        sqlite3_bind_int64(st, 1, feed_id);
    rc = sqlite3_step(st);
    int e = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    if (rc == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(st, 0);
    store_sqlite_unprepare(s, st);
    return e;
}

/* ---- retention ---- */

/* Up to max ids from query `q`, whose parameters are p[0..np) then max,
 * into a new array *ids (the caller frees it, NULL when none); their
 * number in *n. */
static int
select_ids(struct store *s, const char *q, const int64_t *p, int np, long max, int64_t **ids,
           long *n)
{
    sqlite3_stmt *st;
    size_t room = 0;
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, q, -1, &st, NULL), e = 0;
    *n = 0;
    *ids = NULL;
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    for (int i = 0; i < np; i++)
        sqlite3_bind_int64(st, i + 1, p[i]);
    sqlite3_bind_int64(st, np + 1, max);
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((size_t)*n == room) {
            int64_t *more = realloc(*ids, (room = room ? 2 * room : 256) * sizeof(**ids));
            if (more == NULL) {
                e = -ENOMEM;
                break;
            }
            *ids = more;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (e == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = store_sqlite_fail(s, rc);
    sqlite3_finalize(st);
    return e;
}

/* Each statement of steps[0..n) (at most 8) once for each id of
 * ids[0..nids), the id bound to ?1 and `now` to ?2 where a statement has
 * it: a batch is a few hundred rows, each statement an index lookup. */
static int
each_id(struct store *s, const char *const *steps, int n, const int64_t *ids, long nids,
        int64_t now)
{
    sqlite3_stmt *st[8] = {0};
    int rc = 0, r;
    for (int i = 0; i < n && i < 8 && rc == 0; i++)
        if ((r = sqlite3_prepare_v2(sqlite_of(s)->db, steps[i], -1, &st[i], NULL)) != SQLITE_OK)
            rc = store_sqlite_fail(s, r);
    for (long k = 0; k < nids && rc == 0; k++)
        for (int i = 0; i < n && rc == 0; i++) {
            sqlite3_bind_int64(st[i], 1, ids[k]);
            if (sqlite3_bind_parameter_count(st[i]) >= 2)
                sqlite3_bind_int64(st[i], 2, now);
            rc = store_sqlite_exec(s, st[i]);
        }
    for (int i = 0; i < n && i < 8; i++)
        sqlite3_finalize(st[i]);
    return rc;
}

int
store_sqlite_prune(struct store *s, int64_t cutoff, int64_t fresh, int64_t now, long max,
                   long *deleted)
{
    static const char *const steps[] = {
        "DELETE FROM articles_fts WHERE rowid = ?1",
        "DELETE FROM sources WHERE article_id = ?1",
        "DELETE FROM article_tickers WHERE article_id = ?1",
        /* rules 3 and 4 compare live articles only; the exact keys,
         * feed-title and column keys stay: the tombstone. The bands are
         * those the row lists (schema 13) */
        "DELETE FROM keys WHERE article_id = ?1 AND kind = 3",
        ("DELETE FROM bands WHERE article_id = ?1 AND key IN (SELECT value FROM"
         " json_each((SELECT bands FROM articles WHERE id = ?1)))"),
        "DELETE FROM articles WHERE id = ?1",
        ("INSERT INTO tombstones(article_id, seen) VALUES(?1, ?2)"
         " ON CONFLICT(article_id) DO UPDATE SET seen = max(seen, excluded.seen)"),
        /* the largest id ever pruned: no new article takes it, nor the keys
         * that name it (Q_ART_INSERT) */
        "UPDATE meta SET value = max(value, ?1) WHERE key = 'article_floor'",
    };
    int64_t *ids, p[2] = {cutoff, fresh};
    long n;
    int rc = select_ids(s,
                        "SELECT id FROM articles WHERE date < ?1 AND first_seen < ?2"
                        " ORDER BY date LIMIT ?3",
                        p, 2, max, &ids, &n);
    if (rc == 0)
        rc = each_id(s, steps, (int)(sizeof(steps) / sizeof(steps[0])), ids, n, now);
    free(ids);
    *deleted = rc == 0 ? n : 0;
    return rc;
}

int
store_sqlite_tomb_prune(struct store *s, int64_t before, long max, long *deleted)
{
    static const char *const steps[] = {
        "DELETE FROM keys WHERE article_id = ?1 AND kind <> 6",
        "DELETE FROM tombstones WHERE article_id = ?1",
    };
    int64_t *ids;
    long n;
    int rc = select_ids(s,
                        "SELECT article_id FROM tombstones WHERE seen < ?1"
                        " AND article_id NOT IN (SELECT id FROM articles) ORDER BY seen LIMIT ?2",
                        &before, 1, max, &ids, &n);
    if (rc == 0)
        rc = each_id(s, steps, (int)(sizeof(steps) / sizeof(steps[0])), ids, n, 0);
    free(ids);
    *deleted = rc == 0 ? n : 0;
    return rc;
}
