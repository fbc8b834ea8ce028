/* store/pg_backup.c — the PostgreSQL side of store_check: the store's
 * invariants counted in SQL (store_backup.c words them). PostgreSQL checks
 * its own pages; amcheck is not required and not run. */
#include <errno.h>

#include "store/pg_int.h"

/* Each invariant's count of offenders and smallest id; NULL: means nothing
 * here (no separate search table: body_text is a column of articles; ids
 * come from identity sequences, which never hand one out twice). Guid and
 * feed-title keys start "FEED_ID\x1f". */
static const char *const invariant_sql[STORE_INV_COUNT] = {
    [STORE_INV_ART_NO_SOURCE] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                                " (SELECT 1 FROM sources s WHERE s.article_id = a.id)",
    [STORE_INV_ART_FIRST_SOURCE] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                                   " (SELECT 1 FROM sources s WHERE s.article_id = a.id"
                                   " AND s.feed_id = a.feed_id)",
    [STORE_INV_ART_FEED] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                           " (SELECT 1 FROM feeds f WHERE f.id = a.feed_id)",
    [STORE_INV_ART_GUID_KEY] = "SELECT count(*), min(id) FROM articles a WHERE NOT EXISTS"
                               " (SELECT 1 FROM keys k WHERE k.kind = 1"
                               " AND k.key = a.feed_id::text || chr(31) || a.guid"
                               " AND k.article_id = a.id)",
    [STORE_INV_SRC_FEED] = "SELECT count(*), min(article_id) FROM sources s WHERE NOT EXISTS"
                           " (SELECT 1 FROM feeds f WHERE f.id = s.feed_id)",
    [STORE_INV_SRC_ARTICLE] = "SELECT count(*), min(article_id) FROM sources s WHERE NOT EXISTS"
                              " (SELECT 1 FROM articles a WHERE a.id = s.article_id)",
    [STORE_INV_KEY_KIND] =
        "SELECT count(*), min(article_id) FROM keys WHERE kind NOT BETWEEN 1 AND 6",
    [STORE_INV_KEY_FEED] = "SELECT count(*), min(article_id) FROM keys k WHERE kind IN (1, 5)"
                           " AND NOT EXISTS (SELECT 1 FROM feeds f"
                           " WHERE f.id::text = split_part(k.key, chr(31), 1))",
    [STORE_INV_TOMBSTONES] = "SELECT count(*), min(article_id) FROM keys k WHERE NOT EXISTS"
                             " (SELECT 1 FROM articles a WHERE a.id = k.article_id)",
    /* the identity sequence never hands out an id twice, and store_copy
     * moves it past every id the keys name: no STORE_INV_TOMB_ABOVE */
    [STORE_INV_TOMB_LIVE] = "SELECT count(*), min(article_id) FROM tombstones t WHERE EXISTS"
                            " (SELECT 1 FROM articles a WHERE a.id = t.article_id)",
    [STORE_INV_TOMB_UNTRACKED] = "SELECT count(*), min(article_id) FROM keys k WHERE kind <> 6"
                                 " AND NOT EXISTS"
                                 " (SELECT 1 FROM articles a WHERE a.id = k.article_id)"
                                 " AND NOT EXISTS"
                                 " (SELECT 1 FROM tombstones t WHERE t.article_id = k.article_id)",
    [STORE_INV_BAND_LIVE] = "SELECT count(*), min(article_id) FROM keys k WHERE kind = 4"
                            " AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = k.article_id)",
    [STORE_INV_TICKER_ARTICLE] = "SELECT count(*), min(article_id) FROM article_tickers t"
                                 " WHERE NOT EXISTS"
                                 " (SELECT 1 FROM articles a WHERE a.id = t.article_id)",
};

int
store_pg_invariant(struct store *s, int which, long *n, int64_t *sample)
{
    int rc;
    if (which < 0 || which >= STORE_INV_COUNT || invariant_sql[which] == NULL)
        return -ENOTSUP;
    PGresult *res = store_pg_exec(s, invariant_sql[which], NULL, &rc);
    if (res == NULL)
        return rc;
    *n = (long)store_pg_int64(res, 0, 0);
    *sample = store_pg_int64(res, 0, 1);
    PQclear(res);
    return 0;
}
