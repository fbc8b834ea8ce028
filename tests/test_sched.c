/* tests/test_sched.c — daemon/service/policy.c: when a feed is fetched next
 * (SPEC §6) as plain functions, no loop: interval and jitter after a
 * success, ttl and max-age capped at 6 h, exponential backoff capped at 24 h,
 * Retry-After, the timer delay, saturation at the ends of int64_t, a
 * feed's state in words (stale, gone, new, …), and the next check with its
 * reason (issue 13 §2: auto, a schedule's opening). And
 * daemon/service/tickers.c (SPEC §12), no loop either: an extractor's finder
 * and issuer listings plugged into the ingest and the watchlists, a
 * stand-in's and the real one's (parse/tickers, with a dictionary). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/cadence/cadence.h"
#include "daemon/config/config.h"
#include "daemon/service/ingest.h"
#include "daemon/service/policy.h"
#include "daemon/service/service.h"
#include "store/store.h"

#define NOW INT64_C(1714550400) /* 2024-05-01T08:00:00Z */
#define HOUR 3600

static void
test_next_ok(void **state)
{
    (void)state;
    /* the interval, and jitter of at most 10% */
    assert_int_equal(service_next_ok(NOW, 900, 0, -1, 0), NOW + 900);
    assert_int_equal(service_next_ok(NOW, 900, 0, -1, 90), NOW + 990);
    assert_int_equal(service_next_ok(NOW, 900, 0, -1, 91), NOW + 900); /* 91 % 91 */
    for (uint64_t r = 0; r < 1000; r += 7) {
        int64_t t = service_next_ok(NOW, 900, 0, -1, r);
        assert_true(t >= NOW + 900 && t <= NOW + 990);
    }
    /* never sooner than ttl (minutes) or max-age asks */
    assert_int_equal(service_next_ok(NOW, 900, 60, -1, 0), NOW + HOUR);
    assert_int_equal(service_next_ok(NOW, 900, 0, 2 * HOUR, 0), NOW + 2 * HOUR);
    assert_int_equal(service_next_ok(NOW, 900, 30, 2 * HOUR, 0), NOW + 2 * HOUR);
    /* a shorter ask does not shorten the interval */
    assert_int_equal(service_next_ok(NOW, 2 * HOUR, 5, 60, 0), NOW + 2 * HOUR);
    /* capped at 6 h, however much is asked */
    assert_int_equal(service_next_ok(NOW, 900, 100000, -1, 0), NOW + SERVICE_TTL_CAP);
    assert_int_equal(service_next_ok(NOW, 900, LONG_MAX, -1, 0), NOW + SERVICE_TTL_CAP);
    assert_int_equal(service_next_ok(NOW, 900, 0, LONG_MAX, 0), NOW + SERVICE_TTL_CAP);
    /* an interval longer than the cap stays */
    assert_int_equal(service_next_ok(NOW, 7 * 86400, 0, HOUR, 0), NOW + 7 * 86400);
}

static void
test_next_error(void **state)
{
    (void)state;
    /* interval × 2^(errors−1) */
    assert_int_equal(service_next_error(NOW, 900, 1, -1, 0), NOW + 900);
    assert_int_equal(service_next_error(NOW, 900, 2, -1, 0), NOW + 1800);
    assert_int_equal(service_next_error(NOW, 900, 3, -1, 0), NOW + 3600);
    /* jitter of at most 20% */
    assert_int_equal(service_next_error(NOW, 900, 1, -1, 180), NOW + 1080);
    /* capped at 24 h, jitter included */
    assert_int_equal(service_next_error(NOW, 900, 30, -1, 0), NOW + SERVICE_DAY);
    assert_int_equal(service_next_error(NOW, 900, 30, -1, UINT64_MAX), NOW + SERVICE_DAY);
    assert_int_equal(service_next_error(NOW, 900, INT32_MAX, -1, 12345), NOW + SERVICE_DAY);
    /* Retry-After wins when it asks for later, capped at 24 h too */
    assert_int_equal(service_next_error(NOW, 900, 1, 5000, 0), NOW + 5000);
    assert_int_equal(service_next_error(NOW, 900, 3, 60, 0), NOW + 3600);
    assert_int_equal(service_next_error(NOW, 900, 1, LONG_MAX, 0), NOW + SERVICE_DAY);
}

/* An interval of INT64_MAX (once accepted by the configuration) must not
 * wrap the next fetch into the past: it saturates. */
/* The built-in hub's retries (SPEC §11): 5 s, 30 s, 2 min, 10 min, then the
 * content is given up; ten failures in a row drop the subscription. */
static void
test_hub_retry(void **state)
{
    (void)state;
    int drop = -1;
    assert_int_equal(service_hub_retry(1, 1, &drop), 5);
    assert_int_equal(drop, 0);
    assert_int_equal(service_hub_retry(2, 2, &drop), 30);
    assert_int_equal(service_hub_retry(3, 3, &drop), 120);
    assert_int_equal(service_hub_retry(4, 4, &drop), 600);
    assert_int_equal(service_hub_retry(5, 5, &drop), 0); /* given up */
    assert_int_equal(drop, 0);
    assert_int_equal(service_hub_retry(1, 6, &drop), 5); /* the next content, tried afresh */
    assert_int_equal(service_hub_retry(4, 9, &drop), 600);
    assert_int_equal(drop, 0);
    assert_int_equal(service_hub_retry(5, SERVICE_HUB_DROP_FAILS, &drop), 0);
    assert_int_equal(drop, 1);
    assert_int_equal(service_hub_retry(0, 1, &drop), 0);
    assert_int_equal(service_hub_retry(INT32_MAX, INT32_MAX, &drop), 0);
    assert_int_equal(drop, 1);
}

/* Token buckets a key (the built-in hub's clients, pushes a subscription):
 * a burst, then a refill a second; a new key takes the least recently used
 * bucket when all are taken. */
static void
test_buckets(void **state)
{
    (void)state;
    struct service_bucket b[2];
    memset(b, 0, sizeof(b));
    assert_int_equal(service_bucket_take(b, 2, "a", 1000, 2, 1), 1);
    assert_int_equal(service_bucket_take(b, 2, "a", 1000, 2, 1), 1);
    assert_int_equal(service_bucket_take(b, 2, "a", 1000, 2, 1), 0); /* the burst is spent */
    assert_int_equal(service_bucket_take(b, 2, "a", 1500, 2, 1), 0); /* half a token */
    assert_int_equal(service_bucket_take(b, 2, "a", 2000, 2, 1), 1); /* refilled */
    assert_int_equal(service_bucket_take(b, 2, "b", 2100, 2, 1), 1); /* a key of its own */
    assert_int_equal(service_bucket_take(b, 2, "a", 2100, 2, 1), 0);
    /* a third key: "a" (seen at 2100 like "b", but first in the table) makes room */
    assert_int_equal(service_bucket_take(b, 2, "c", 2200, 2, 1), 1);
    assert_string_equal(b[0].key, "c");
    assert_string_equal(b[1].key, "b");
    assert_int_equal(service_bucket_take(b, 2, "a", 2300, 2, 1), 1); /* "a" starts afresh */
    assert_string_equal(b[1].key, "a");
    /* the refill never passes the burst */
    assert_int_equal(service_bucket_take(b, 2, "a", 1000000, 2, 1), 1);
    assert_int_equal(service_bucket_take(b, 2, "a", 1000000, 2, 1), 1);
    assert_int_equal(service_bucket_take(b, 2, "a", 1000000, 2, 1), 0);
}

static void
test_saturation(void **state)
{
    (void)state;
    assert_int_equal(service_time_add(INT64_MAX - 5, 10), INT64_MAX);
    assert_int_equal(service_time_add(INT64_MIN + 5, -10), INT64_MIN);
    assert_int_equal(service_time_add(NOW, 10), NOW + 10);
    assert_int_equal(service_next_ok(NOW, INT64_MAX, 0, -1, 0), INT64_MAX);
    assert_int_equal(service_next_ok(NOW, INT64_MAX, 0, -1, UINT64_MAX), INT64_MAX);
    assert_int_equal(service_next_ok(NOW, INT64_MAX - NOW, 0, -1, 1), INT64_MAX);
    assert_true(service_next_ok(NOW, INT64_MAX / 2, 60, 60, 77) > NOW);
    assert_int_equal(service_next_error(NOW, INT64_MAX, 1, -1, 0), NOW + SERVICE_DAY);
    assert_int_equal(service_next_error(NOW, INT64_MAX, 5, LONG_MAX, UINT64_MAX),
                     NOW + SERVICE_DAY);
    assert_int_equal(service_next_error(INT64_MAX - 10, 900, 1, -1, 0), INT64_MAX);
}

static void
test_timer_ms(void **state)
{
    (void)state;
    assert_int_equal(service_timer_ms(NOW, NOW - 10), 0);
    assert_int_equal(service_timer_ms(NOW, NOW), 0);
    assert_int_equal(service_timer_ms(NOW, NOW + 1), 1000);
    assert_int_equal(service_timer_ms(NOW, NOW + 900), 900000);
    /* at most a day: the timer fires and re-arms */
    assert_int_equal(service_timer_ms(NOW, NOW + 2 * SERVICE_DAY), SERVICE_DAY * 1000ULL);
    assert_int_equal(service_timer_ms(NOW, INT64_MAX), SERVICE_DAY * 1000ULL);
    assert_int_equal(service_timer_ms(INT64_MIN, INT64_MAX), SERVICE_DAY * 1000ULL);
}

static void
test_feed_state(void **state)
{
    (void)state;
    const int64_t stale = 14 * 86400;
    struct service_feed f = {.enabled = 1, .fetched = 1, .last = SERVICE_OK, .newest = NOW};
    assert_string_equal(service_feed_state(&f, NOW, stale), "ok");
    /* stale: the newest item older than stale_after */
    f.newest = NOW - stale - 1;
    assert_string_equal(service_feed_state(&f, NOW, stale), "stale");
    assert_string_equal(service_feed_state(&f, NOW, 0), "ok"); /* 0: never stale */
    f.newest = NOW - stale;
    assert_string_equal(service_feed_state(&f, NOW, stale), "ok");
    f.newest = 0; /* unknown: not stale */
    assert_string_equal(service_feed_state(&f, NOW, stale), "ok");
    f.newest = INT64_MAX; /* a date far ahead: no overflow, not stale */
    assert_string_equal(service_feed_state(&f, INT64_MIN, stale), "ok");
    f.newest = 1;
    assert_string_equal(service_feed_state(&f, INT64_MAX, INT64_MAX - 2), "stale");
    f.last = SERVICE_NOT_MODIFIED;
    f.newest = NOW;
    assert_string_equal(service_feed_state(&f, NOW, stale), "ok");
    f.last = SERVICE_ERROR;
    assert_string_equal(service_feed_state(&f, NOW, stale), "error");
    f.enabled = 0;
    assert_string_equal(service_feed_state(&f, NOW, stale), "disabled");
    f.last = SERVICE_GONE;
    assert_string_equal(service_feed_state(&f, NOW, stale), "gone");
    /* never fetched, in this run or before */
    struct service_feed n = {.enabled = 1};
    assert_string_equal(service_feed_state(&n, NOW, stale), "new");
    n.last_fetch = NOW - 60; /* fetched by an earlier run: its stored outcome counts */
    assert_string_equal(service_feed_state(&n, NOW, stale), "ok");

    assert_string_equal(service_outcome_name(SERVICE_OK), "ok");
    assert_string_equal(service_outcome_name(SERVICE_NOT_MODIFIED), "not-modified");
    assert_string_equal(service_outcome_name(SERVICE_ERROR), "error");
    assert_string_equal(service_outcome_name(SERVICE_GONE), "gone");
    assert_string_equal(service_outcome_name(SERVICE_OUTCOMES), "error");
}

static void
test_time_iso(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(service_time_iso(NOW, b, sizeof(b)), "2024-05-01T08:00:00Z");
}

/* Issue 13 §2: the next check with its reason — an interval, a closed
 * schedule's opening when it comes first (never sooner than ttl or max-age
 * ask), the backoff and Retry-After; with a real schedule (New York, fake
 * clock: Friday 7 March 2025 after the close, Monday opens at 13:30Z). */
static void
test_next_check(void **state)
{
    (void)state;
    char why[160];
    struct service_next_in in = {.now = NOW, .kind = SERVICE_NEXT_OK, .max_age = -1,
                                 .interval = 900, .why = "every 15m"};
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 900);
    assert_string_equal(why, "every 15m");
    in.rnd = 90; /* jitter up to 10% */
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 990);
    in.rnd = 0;
    in.ttl_min = 60;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + HOUR);
    assert_string_equal(why, "every 15m; ttl asks 1h");
    in.ttl_min = 0;
    in.max_age = 2 * HOUR;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 2 * HOUR);
    assert_string_equal(why, "every 15m; max-age asks 2h");
    /* the same as service_next_ok, for any draw */
    in.max_age = 600;
    for (uint64_t r = 0; r < 500; r += 13) {
        in.rnd = r;
        assert_int_equal(service_next_check(&in, why, sizeof(why)),
                         service_next_ok(NOW, 900, 0, 600, r));
    }

    /* a schedule, closed: the opening when it is sooner, with its jitter */
    in = (struct service_next_in){.now = NOW, .kind = SERVICE_NEXT_OK, .max_age = -1,
                                  .interval = HOUR, .why = "every 1h",
                                  .label = "schedule us: closed", .opens = NOW + 600,
                                  .open_jitter = 6, .opens_label = "opens Mon 09:30"};
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 600);
    assert_string_equal(why, "schedule us: closed, opens Mon 09:30");
    in.rnd = 6;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 606);
    in.rnd = 0;
    in.ttl_min = 30; /* the feed asks for 30 minutes: the opening waits */
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 1800);
    assert_string_equal(why, "schedule us: closed, opens Mon 09:30; ttl asks 30m");
    in.ttl_min = 0;
    in.opens = NOW + 2 * HOUR; /* the interval comes first */
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + HOUR);
    assert_string_equal(why, "schedule us: closed, every 1h");

    /* failures: the backoff, and Retry-After when it decides */
    in = (struct service_next_in){.now = NOW, .kind = SERVICE_NEXT_ERROR, .errors = 3,
                                  .retry_after = -1, .interval = 900, .why = "every 15m"};
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 3600);
    assert_string_equal(why, "backoff: 3 errors");
    in.errors = 1;
    in.retry_after = 7200;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 7200);
    assert_string_equal(why, "Retry-After: 2h");
    in.retry_after = 60;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW + 900);
    assert_string_equal(why, "backoff: 1 error");
    in.kind = SERVICE_NEXT_NOW;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), NOW);

    /* with the cadence of a real schedule */
    struct cadence_hours *h = NULL;
    char err[128];
    assert_int_equal(cadence_hours_parse("Mon-Fri 09:30-16:00 America/New_York", &h, err,
                                         sizeof(err)),
                     0);
    struct cadence_plan p = {.interval = 900, .min_interval = 60, .max_interval = 21600,
                             .schedule = "us", .hours = h, .inside = 60, .outside = 4 * HOUR};
    struct cadence_step st;
    int64_t fri = INT64_C(1741381200), mon = INT64_C(1741613400); /* 16:00 EST, 09:30 EDT */
    int64_t sun = mon - 3 * HOUR;                                 /* Monday 06:30 EDT */
    char ivw[96];
    cadence_step(&p, fri, &st);
    in = (struct service_next_in){.now = fri, .kind = SERVICE_NEXT_OK, .max_age = -1};
    in.interval = cadence_interval(&st, NULL, 0, fri, ivw, sizeof(ivw));
    in.why = ivw, in.label = st.label, in.opens = st.opens, in.open_jitter = st.open_jitter;
    in.opens_label = st.opens_label;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), fri + 4 * HOUR);
    assert_string_equal(why, "schedule us: closed, every 4h");
    cadence_step(&p, sun, &st);
    in.now = sun, in.opens = st.opens, in.rnd = 5;
    assert_int_equal(service_next_check(&in, why, sizeof(why)), mon + 5);
    assert_string_equal(why, "schedule us: closed, opens Mon 09:30");
    cadence_step(&p, mon + 60, &st);
    in.now = mon + 60, in.opens = st.opens, in.label = st.label, in.rnd = 0;
    in.interval = cadence_interval(&st, NULL, 0, mon + 60, ivw, sizeof(ivw));
    assert_int_equal(service_next_check(&in, why, sizeof(why)), mon + 120);
    assert_string_equal(why, "schedule us: open, every 1m");
    cadence_hours_free(h);
}

/* ---- instruments (SPEC §12) ---- */

/* A stand-in for the extractor: "Alibaba" in a text is NYSE:BABA, and
 * its issuer is listed on NYSE and HKEX. */
static int
stub_find(const void *arg, const char *title, const char *body_text, char ***out, size_t *n)
{
    (void)arg;
    *out = NULL;
    *n = 0;
    if (strstr(title, "Alibaba") == NULL && strstr(body_text, "Alibaba") == NULL)
        return 0;
    *out = calloc(1, sizeof(char *));
    assert_non_null(*out);
    (*out)[0] = strdup("NYSE:BABA");
    *n = 1;
    return 0;
}

static int
stub_listings(const void *arg, const char *ticker, char ***out, size_t *n)
{
    (void)arg;
    *out = NULL;
    *n = 0;
    if (strcmp(ticker, "NYSE:BABA") != 0 && strcmp(ticker, "HKEX:9988") != 0)
        return 0;
    *out = calloc(2, sizeof(char *));
    assert_non_null(*out);
    (*out)[0] = strdup("NYSE:BABA");
    (*out)[1] = strdup("HKEX:9988");
    *n = 2;
    return 0;
}

static int stub_freed;

static void
stub_free(void *arg)
{
    (void)arg;
    stub_freed++;
}

static struct config *
load(const char *text)
{
    char path[] = "/tmp/test_sched.XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct config *c = NULL;
    if (config_load(path, &c, err, sizeof(err)) != 0)
        fail_msg("config_load: %s", err);
    unlink(path);
    return c;
}

static int
on_tickers(void *arg, const struct store_article *a)
{
    char *buf = arg;
    snprintf(buf + strlen(buf), 512 - strlen(buf), "%s=%s;", a->guid, a->tickers_json);
    return 0;
}

/* doc stored as feed `name` of cfg, tickers found with t. */
static void
ingest_with(struct store *s, const struct config *cfg, struct service_tickers *t,
            const char *name, const char *doc)
{
    struct service_ingest f;
    struct store_counts counts;
    struct parse_report rep;
    char err[512];
    assert_int_equal(
        service_ingest_init(&f, s, cfg, config_find_feed(cfg, name), name, err, sizeof(err)), 0);
    service_ingest_set_tickers(&f, t);
    assert_int_equal(service_ingest_document(s, &f, NULL, doc, strlen(doc), NULL, 1714550400,
                                             &counts, &rep, err, sizeof(err)),
                     0);
    service_ingest_close(&f);
}

/* The ingest finds tickers with the extractor it was given, after the
 * feed's tickers_add; `tickers = no` keeps only those. */
static void
test_ingest_tickers(void **state)
{
    (void)state;
    struct config *cfg = load("[feed \"wire\"]\nurl = https://wire.example/rss\n"
                              "tickers_add = NASDAQ:AAPL\n"
                              "[feed \"quiet\"]\nurl = https://quiet.example/rss\n"
                              "tickers = no\n");
    struct service_tickers *t = NULL;
    assert_int_equal(service_tickers_new_with(stub_find, stub_listings, &stub_freed, stub_free, &t),
                     0);
    struct store *s = NULL;
    char err[512], got[512] = "";
    assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), 0);
    static const char doc[] =
        "<rss version=\"2.0\"><channel><title>W</title>"
        "<item><guid>a</guid><title>Alibaba lists its cloud</title>"
        "<link>https://wire.example/a</link><description>x</description></item>"
        "</channel></rss>";
    const char *names[] = {"wire", "quiet"};
    for (int i = 0; i < 2; i++)
        ingest_with(s, cfg, t, names[i], doc);
    struct store_query q = {.limit = 10};
    assert_int_equal(store_articles(s, &q, on_tickers, got), 0);
    /* the quiet feed's copy is a duplicate: it brought nothing */
    assert_string_equal(got, "a=[\"NASDAQ:AAPL\",\"NYSE:BABA\"];");
    store_close(s);

    /* the last reference frees the extractor's own state */
    stub_freed = 0;
    service_tickers_unref(t);
    assert_int_equal(stub_freed, 1);
    config_free(cfg);
}

/* A watchlist's tickers are every listing of their issuers; its copy and
 * its store predicate keep the groups. */
static void
test_watchlist_expand(void **state)
{
    (void)state;
    struct config *cfg = load("[watchlist \"china\"]\n"
                              "tickers = HKEX:9988, NASDAQ:AAPL\n"
                              "keywords = cloud\n"
                              "all_of = tickers: NYSE:BABA; feeds: wire\n"
                              "none_of = categories: ads\n"
                              "[feed \"wire\"]\nurl = https://wire.example/rss\n");
    struct service_tickers *t = NULL;
    struct service_watchlist *w = NULL, copy;
    size_t n = 0;
    assert_int_equal(service_tickers_new_with(NULL, stub_listings, NULL, NULL, &t), 0);
    assert_int_equal(service_watchlists_new(cfg, t, &w, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(w[0].name, "china");
    assert_int_equal(w[0].any.ntickers, 3);
    assert_string_equal(w[0].any.tickers[0], "HKEX:9988");
    assert_string_equal(w[0].any.tickers[1], "NYSE:BABA");
    assert_string_equal(w[0].any.tickers[2], "NASDAQ:AAPL");
    assert_int_equal(w[0].nall_of, 1);
    assert_int_equal(w[0].all_of[0].ntickers, 2);
    assert_int_equal(w[0].all_of[0].nfeeds, 1);
    assert_int_equal(w[0].nnone_of, 1);

    assert_int_equal(service_watchlist_copy(&w[0], &copy), 0);
    struct store_watch q;
    assert_int_equal(service_watchlist_query(&copy, &q), 0);
    assert_int_equal(q.any.ntickers, 3);
    assert_int_equal(q.any.nkeywords, 1);
    assert_string_equal(q.any.keywords[0], "cloud");
    assert_int_equal(q.nall_of, 1);
    assert_string_equal(q.all_of[0].feeds[0], "wire");
    assert_int_equal(q.nnone_of, 1);
    assert_string_equal(q.none_of[0].categories[0], "ads");
    service_watchlist_query_free(&q);
    service_watchlist_clear(&copy);
    service_watchlists_free(w, n);

    /* without the extractor: the tickers as written */
    assert_int_equal(service_watchlists_new(cfg, NULL, &w, &n), 0);
    assert_int_equal(w[0].any.ntickers, 2);
    service_watchlists_free(w, n);
    service_tickers_unref(t);
    config_free(cfg);
}

/* The configuration's extractor (parse/tickers through service_tickers_new):
 * the dictionary's names found in the text, its issuers' listings in the
 * watchlists. */
static void
test_extractor_wired(void **state)
{
    (void)state;
    char dict[] = "/tmp/test_sched_dict.XXXXXX", conf[1024], err[512], got[512] = "";
    int fd = mkstemp(dict);
    assert_true(fd >= 0);
    static const char tsv[] = "NYSE:BABA,HKEX:9988\tAlibaba Group\t阿里巴巴\n";
    assert_int_equal(write(fd, tsv, strlen(tsv)), (ssize_t)strlen(tsv));
    close(fd);
    snprintf(conf, sizeof(conf),
             "[tickers]\nfile = %s\n[feed \"wire\"]\nurl = https://wire.example/rss\n"
             "[watchlist \"ali\"]\ntickers = HKEX:9988\n",
             dict);
    struct config *cfg = load(conf);
    unlink(dict);
    struct service_tickers *t = NULL;
    assert_int_equal(service_tickers_new(cfg, &t, err, sizeof(err)), 0);

    struct store *s = NULL;
    assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), 0);
    static const char doc[] =
        "<rss version=\"2.0\"><channel><title>W</title>"
        "<item><guid>a</guid><title>阿里巴巴拆分云业务</title>"
        "<link>https://wire.example/a</link><description>Apple (NASDAQ: AAPL) too."
        "</description></item></channel></rss>";
    ingest_with(s, cfg, t, "wire", doc);
    struct store_query q = {.limit = 10};
    assert_int_equal(store_articles(s, &q, on_tickers, got), 0);
    assert_string_equal(got, "a=[\"NYSE:BABA\",\"NASDAQ:AAPL\"];");

    struct service_watchlist *w = NULL;
    size_t n = 0;
    assert_int_equal(service_watchlists_new(cfg, t, &w, &n), 0);
    assert_int_equal(w[0].any.ntickers, 2);
    assert_string_equal(w[0].any.tickers[0], "HKEX:9988");
    assert_string_equal(w[0].any.tickers[1], "NYSE:BABA");
    service_watchlists_free(w, n);
    store_close(s);
    service_tickers_unref(t);
    config_free(cfg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_ok),   cmocka_unit_test(test_next_error),
        cmocka_unit_test(test_hub_retry), cmocka_unit_test(test_buckets), cmocka_unit_test(test_saturation),
        cmocka_unit_test(test_timer_ms),  cmocka_unit_test(test_feed_state),
        cmocka_unit_test(test_time_iso),  cmocka_unit_test(test_next_check),
        cmocka_unit_test(test_ingest_tickers), cmocka_unit_test(test_watchlist_expand),
        cmocka_unit_test(test_extractor_wired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
