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
 * simple lower-case mappings, as FTS5's trigram tokenizer folds); ASCII
 * alone where the C library has no such locale. */
static locale_t fold_locale;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void
fold_init(void)
{
    fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* The UTF-8 character at s (n > 0 bytes): its code point, *len its bytes;
 * -1 and one byte for a byte that starts no valid character. */
static int32_t
utf8_char(const unsigned char *s, size_t n, size_t *len)
{
    static const int32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t k = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    int32_t c = s[0] & (0x7F >> k);
    *len = 1;
    if (k == 0 || s[0] > 0xF4 || k > n)
        return -1;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < least[k] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *len = k;
    return c;
}

static size_t
utf8_put(uint32_t c, char *w)
{
    if (c < 0x80) {
        w[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        w[0] = (char)(0xC0 | c >> 6);
        w[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        w[0] = (char)(0xE0 | c >> 12);
        w[1] = (char)(0x80 | (c >> 6 & 0x3F));
        w[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    w[0] = (char)(0xF0 | c >> 18);
    w[1] = (char)(0x80 | (c >> 12 & 0x3F));
    w[2] = (char)(0x80 | (c >> 6 & 0x3F));
    w[3] = (char)(0x80 | (c & 0x3F));
    return 4;
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
        if (c >= 0x80 && (c = utf8_char(s + i, n - i, &len)) >= 0 && fold_locale != (locale_t)0) {
            wint_t l = towlower_l((wint_t)c, fold_locale);
            w += utf8_put(l <= 0x10FFFF ? (uint32_t)l : (uint32_t)c, w);
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

/* p advanced by k UTF-8 characters (not past its end). */
static const char *
skip_chars(const char *p, size_t k)
{
    while (k > 0 && *p)
        if (((unsigned char)*++p & 0xC0) != 0x80)
            k--;
    return p;
}

/* The index (detail=none, migration 14) knows which rows hold a trigram,
 * not where. A row holding a word of 3 or more characters holds each of
 * its trigrams: the one at every third character and the last suffice to
 * narrow a search to few rows, one MATCH of them all, quoted. "" when no
 * word is that long. */
static char *
fts_query(char *const *terms, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(terms[i]) * 4 + 32; /* each byte twice at most, quotes */
    char *out = malloc(len), *w = out;
    if (out == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        size_t chars = store_term_chars(terms[i]);
        if (chars < 3)
            continue;
        const char *p = terms[i];
        for (size_t c = 0;;) { /* p: character c, a trigram's start */
            const char *end = skip_chars(p, 3);
            if (w != out)
                *w++ = ' ';
            *w++ = '"';
            for (const char *q = p; q < end; q++) {
                if (*q == '"')
                    *w++ = '"';
                *w++ = *q;
            }
            *w++ = '"';
            if (c + 3 == chars)
                break;
            size_t next = c + 6 <= chars ? c + 3 : chars - 3;
            p = skip_chars(p, next - c);
            c = next;
        }
    }
    *w = '\0';
    return out;
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
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, "SELECT value FROM meta WHERE key = 'generation'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = store_sqlite_fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
        if (rc >= 0)
            rc = -EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int
store_sqlite_count(struct store *s, int64_t feed_id, long *n)
{
    sqlite3_stmt *st;
    const char *q = feed_id > 0 ? "SELECT count(*) FROM sources WHERE feed_id = ?1"
                                : "SELECT count(*) FROM articles";
    int rc = sqlite3_prepare_v2(sqlite_of(s)->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_sqlite_fail(s, rc);
    if (feed_id > 0)
        sqlite3_bind_int64(st, 1, feed_id);
    rc = sqlite3_step(st);
    int e = rc == SQLITE_ROW ? 0 : store_sqlite_fail(s, rc);
    if (rc == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
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
