/* tests/test_prune.c — daemon/service/prune.c: the size of retention's
 * batches as a plain function; then a real service on a uv loop pruning a
 * SQLite store of old articles and many tombstones: every article past
 * `retention` and every tombstone not seen for `tombstone_retention` goes,
 * in many batches (each a worker job of its own); a tombstone seen lately
 * and column titles stay; and a refresh asked while the prune runs is
 * answered before the prune ends (its jobs queue behind one batch, not
 * behind the whole prune). Every handle closed, uv_loop_close() == 0. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>
#include <uv.h>

#include "daemon/config/config.h"
#include "daemon/log/log.h"
#include "daemon/service/prune.h"
#include "daemon/service/service.h"
#include "store/store.h"

#define DAY (24 * 3600)

static void
test_batch_size(void **state)
{
    (void)state;
    /* quick batches double, up to the cap */
    assert_int_equal(service_prune_batch(64, 0), 128);
    assert_int_equal(service_prune_batch(64, SERVICE_PRUNE_AIM_MS / 2 - 1), 128);
    assert_int_equal(service_prune_batch(SERVICE_PRUNE_MAX, 0), SERVICE_PRUNE_MAX);
    assert_int_equal(service_prune_batch(3000, 1), SERVICE_PRUNE_MAX);
    /* near the aim, kept */
    assert_int_equal(service_prune_batch(64, SERVICE_PRUNE_AIM_MS / 2), 64);
    assert_int_equal(service_prune_batch(64, SERVICE_PRUNE_AIM_MS), 64);
    /* slow ones scaled to the aim, down to the floor */
    assert_int_equal(service_prune_batch(1000, 4 * SERVICE_PRUNE_AIM_MS), 250);
    assert_int_equal(service_prune_batch(64, 2 * SERVICE_PRUNE_AIM_MS), 32);
    assert_int_equal(service_prune_batch(SERVICE_PRUNE_MIN, 100000), SERVICE_PRUNE_MIN);
    assert_int_equal(service_prune_batch(SERVICE_PRUNE_MAX, UINT64_MAX), SERVICE_PRUNE_MIN);
    /* whatever it was, the next is within bounds, and never grows after a
     * batch over the aim */
    for (long b = 1; b < 10000; b = b * 3 + 1)
        for (uint64_t ms = 0; ms < 1000; ms = ms * 2 + 1) {
            long n = service_prune_batch(b, ms);
            assert_true(n >= SERVICE_PRUNE_MIN && n <= SERVICE_PRUNE_MAX);
            if (ms > SERVICE_PRUNE_AIM_MS && b >= SERVICE_PRUNE_MIN)
                assert_true(n <= b);
        }
}

/* ---- a service pruning ---- */

#define TOMBSTONES 60000 /* expired ones, each with a guid and a link key */
#define ARTICLES 300     /* past retention */

static const char feed_xml[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<rss version=\"2.0\"><channel><title>A</title><link>https://a.example/</link>\n"
    "<item><title>One</title><link>https://a.example/1</link><guid>urn:a:1</guid>"
    "<description>first</description></item>\n"
    "</channel></rss>\n";

struct run {
    uv_loop_t loop;
    uv_timer_t start;
    struct service *svc;
    struct service_wait wait;
    int refreshed, pruned, stopped; /* the order each came in: 1, 2, … */
    int events;
    int rc;
    struct service_pruned p;
};

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
}

static void
sql(const char *db, const char *q)
{
    sqlite3 *h;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_exec(h, q, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", q, msg);
    sqlite3_close(h);
}

static int64_t
sql_int(const char *db, const char *q)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_prepare_v2(h, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void
on_stopped(void *arg)
{
    struct run *r = arg;
    r->stopped = ++r->events;
}

static void
maybe_stop(struct run *r)
{
    if (r->refreshed && r->pruned)
        service_stop(r->svc, on_stopped, r);
}

static void
on_refreshed(void *arg, const struct service_feed *f)
{
    struct run *r = arg;
    (void)f;
    r->refreshed = ++r->events;
    maybe_stop(r);
}

static void
on_pruned(void *arg, int rc, const struct service_pruned *p, const char *err)
{
    struct run *r = arg;
    if (rc < 0)
        print_error("prune: %s\n", err);
    r->rc = rc;
    r->p = *p;
    r->pruned = ++r->events;
    maybe_stop(r);
}

/* Once the loop runs: prune, and while it runs, refresh. */
static void
on_start(uv_timer_t *t)
{
    struct run *r = t->data;
    assert_int_equal(service_prune(r->svc, on_pruned, r), 0);
    assert_int_equal(service_refresh(r->svc, "a", &r->wait, on_refreshed, r), 0);
    uv_close((uv_handle_t *)t, NULL);
}

static void
test_service_prune(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_prune.XXXXXX", db[128], conf[128], feed[128], text[1024], err[512];
    struct store *s;
    struct config *cfg = NULL;
    int64_t f, now = (int64_t)time(NULL);
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/finfeed.db", dir);
    snprintf(conf, sizeof(conf), "%s/finfeed.conf", dir);
    snprintf(feed, sizeof(feed), "%s/a.xml", dir);
    write_file(feed, feed_xml);
    snprintf(text, sizeof(text),
             "[daemon]\ndatabase = %s\ncontrol_socket = %s/control.sock\nlisten = \"\"\n"
             "allow_file_urls = yes\ninterval = 1h\nretention = 30d\n"
             "tombstone_retention = 100d\nnode = prune-node\n\n"
             "[feed \"a\"]\nurl = file://%s\n",
             db, dir, feed);
    write_file(conf, text);

    /* the store: articles first seen 60 days ago (past retention) … */
    assert_int_equal(store_open(db, &s, err, sizeof(err)), 0);
    assert_int_equal(store_feed_ensure(s, "old", NULL, &f), 0);
    assert_int_equal(store_begin(s), 0);
    for (int i = 0; i < ARTICLES; i++) {
        char guid[32], title[64];
        struct parse_article a = {.guid = guid, .title = title, .body = (char *)"<p>old</p>",
                                  .date = now - 60 * DAY};
        snprintf(guid, sizeof(guid), "old-%d", i);
        snprintf(title, sizeof(title), "An old story, number %d", i);
        assert_int_equal(store_add(s, f, &a, 1, now - 60 * DAY, NULL), 0);
    }
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    /* … tombstones last seen 200 days ago, with their guid and link keys
     * (ids past the articles'), one with a column title too; one seen
     * yesterday */
    snprintf(text, sizeof(text),
             "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n"
             "  WHERE i < %d)"
             " INSERT INTO keys(kind, key, article_id, at)"
             " SELECT 1, '%lld' || char(31) || 'gone-' || i, i, 0 FROM n"
             " UNION ALL SELECT 2, 'https://gone.example/' || i, i, 0 FROM n;"
             "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n"
             "  WHERE i < %d)"
             " INSERT INTO tombstones(article_id, seen) SELECT i, %lld FROM n;"
             "INSERT INTO keys VALUES(6, 'eveningwrapstockscloseme', 1000, 0);"
             "INSERT INTO keys VALUES(1, '%lld' || char(31) || 'seen-lately', 999, 0);"
             "INSERT INTO tombstones VALUES(999, %lld);"
             "UPDATE meta SET value = %d WHERE key = 'article_floor';",
             1000 + TOMBSTONES - 1, (long long)f, 1000 + TOMBSTONES - 1,
             (long long)(now - 200 * DAY), (long long)f, (long long)(now - DAY),
             1000 + TOMBSTONES);
    sql(db, text);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM tombstones"), TOMBSTONES + 1);

    struct run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    log_init(getenv("TEST_PRUNE_VERBOSE") != NULL); /* each batch's size and time */
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    if (config_load(conf, &cfg, err, sizeof(err)) < 0 ||
        service_new(&r->loop, cfg, conf, &r->svc, err, sizeof(err)) < 0 ||
        service_start(r->svc, err, sizeof(err)) < 0)
        fail_msg("service: %s", err);
    assert_int_equal(uv_timer_init(&r->loop, &r->start), 0);
    r->start.data = r;
    assert_int_equal(uv_timer_start(&r->start, on_start, 0, 0), 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    service_free(r->svc);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    curl_global_cleanup();

    assert_int_equal(r->rc, 0);
    print_message("pruned %ld articles, expired %ld tombstones in %ld batches, the longest"
                  " %" PRIu64 " ms\n",
                  r->p.articles, r->p.tombstones, r->p.batches, r->p.max_ms);
    assert_int_equal(r->p.articles, ARTICLES);
    assert_int_equal(r->p.tombstones, TOMBSTONES);
    /* batch by batch, none larger than the cap: the tombstones alone take
     * at least TOMBSTONES / SERVICE_PRUNE_MAX */
    assert_true(r->p.batches >= 2 + TOMBSTONES / SERVICE_PRUNE_MAX);
    /* the refresh came while the prune ran, and did not wait for its end */
    assert_true(r->refreshed > 0 && r->pruned > 0 && r->stopped > 0);
    assert_true(r->refreshed < r->pruned);

    /* what stays: the new tombstones of the articles pruned, the one seen
     * lately, the column title; the expired ones' keys are gone */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM articles WHERE feed_id = 1"), 0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM tombstones"), ARTICLES + 1);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM tombstones WHERE article_id = 999"), 1);
    snprintf(text, sizeof(text), "SELECT count(*) FROM keys WHERE article_id BETWEEN 1000 AND %d",
             1000 + TOMBSTONES - 1);
    assert_int_equal(sql_int(db, text), 1);
    /* … and no new article took an id a key named */
    snprintf(text, sizeof(text), "SELECT min(id) FROM articles WHERE feed_id = 2");
    assert_true(sql_int(db, text) > 1000 + TOMBSTONES);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM keys WHERE kind = 6"), 1);
    /* the feed's article, fetched meanwhile, is stored */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM articles WHERE guid = 'urn:a:1'"), 1);
    free(r);

    const char *files[] = {"finfeed.db", "finfeed.db-wal", "finfeed.db-shm", "finfeed.conf",
                           "a.xml"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(text, sizeof(text), "%s/%s", dir, files[i]);
        unlink(text);
    }
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_size),
        cmocka_unit_test(test_service_prune),
    };
    return cmocka_run_group_tests_name("prune", tests, NULL, NULL);
}
