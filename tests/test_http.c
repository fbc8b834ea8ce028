/* tests/test_http.c — daemon/http/: the HTTP output server on a real loop
 * with a real store: every route of SPEC §5.1, validators and 304, gzip,
 * HEAD, 405/404/400, the rendering cache, hostile requests on raw sockets,
 * listen addresses, renders off the loop (a render held or failed in the
 * worker by a hook: /healthz meanwhile, coalescing, one render at a time,
 * stale-if-error, stopping mid-render). The room is tested alone: the service.h functions it
 * calls are a fake defined here with canned feed state (the linker takes
 * these before the service library's). The loop runs on its own thread;
 * requests (libcurl) and assertions run on the test's thread, which hands
 * work to the loop with a uv_async_t. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>
#include <zlib.h>

#include "daemon/http/http.h"
#include "daemon/http/http_int.h"
#include "daemon/service/service.h"
#include "store/store.h"

#define CHECKER FIXTURES "/../check_feed.py"
#define PYTHON "/usr/bin/python3"

/* Set when feed validation could not run: the test then exits 77, a skip for
 * ctest, or 1 under make check (FINFEED_REQUIRE_ALL, tests/need.sh). */
static int checks_skipped;
/* Timed assertions ("within 2 s") hold in the plain build only; under the
 * sanitizers the same tests check behaviour, not time. */
#ifdef FINFEED_SANITIZED
#define TIMED 0
#else
#define TIMED 1
#endif

extern char **environ;

/* ---- the fake service ---- */

struct service {
    struct service_feed feeds[4];
    char *sina_cats[2];
    struct service_stats stats;
    struct store *rstore;
    service_watch_fn watch;
    void *watch_arg;
    int snapshot_fails; /* service_snapshot() says -ENOMEM */
    int tokens;         /* [output] tokens: alice and bob (test_tokens) */
    int64_t generation; /* service_generation(): bumped (atomically) by add_article */
    /* WebSub for our own feeds: [output] hub (0 none, 1 builtin, 2 an external URL) */
    int hub;
    service_hub_render_fn hub_render; /* what the server registered */
    void *hub_render_arg;
    struct service_hub_req hub_req; /* the last request (strings owned) */
    service_websub_fn hub_done;     /* its answer, pending */
    void *hub_arg;
    int hub_status;       /* … with this status (202 unless set) */
    uv_timer_t hub_timer; /* answers it from the loop */
    int hub_timer_open;
    int top_refreshes; /* service_top_tickers_refresh() calls (the status page) */
};

#define ALICE_SECRET "alice-0123456789abcdef"
#define BOB_SECRET "bob~0123456789.abcdef"

/* ---- the server under test, its loop on a thread ---- */

struct server {
    uv_loop_t loop;
    uv_async_t async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*job)(struct server *s, void *arg); /* to run on the loop, or NULL */
    void *job_arg;
    int job_done;
    int stopped; /* http_stop's done fired */

    char dir[64], db[96];
    struct service svc;
    struct http *http;
    struct store *writer; /* the test's own connection, like the daemon's worker */
    int64_t sina_id, wsj_id;
    int port;
    char base[64];
    int checker; /* check_feed.py with feedparser available */
};

static struct server *S;


static char *
dup_or_null(const char *s)
{
    char *d = s != NULL ? strdup(s) : NULL;
    assert_true(s == NULL || d != NULL);
    return d;
}

/* "china": Alibaba's two listings (as the service expands them), not the
 * Markets category; "desk": the wsj feed, only about bonds. */
static char *china_tickers[] = {"NYSE:BABA", "HKEX:9988"}, *markets[] = {"Markets"},
            *desk_feeds[] = {"wsj"}, *bonds[] = {"bonds"};
static struct service_match china_none = {.categories = markets, .ncategories = 1},
                            desk_all = {.keywords = bonds, .nkeywords = 1};
static const struct service_watchlist fake_watchlists[2] = {
    {.name = "china",
     .any = {.tickers = china_tickers, .ntickers = 2},
     .none_of = &china_none,
     .nnone_of = 1},
    {.name = "desk", .any = {.feeds = desk_feeds, .nfeeds = 1}, .all_of = &desk_all, .nall_of = 1},
};

int
service_snapshot(struct service *s, const char *feed, struct service_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    if (s->snapshot_fails)
        return -ENOMEM;
    out->title = dup_or_null("Finance news");
    out->link = dup_or_null("http://127.0.0.1:8470/");
    out->max_entries = 100;
    out->stale_after = 14 * 86400;
    out->node = dup_or_null("node-7 \"east\"");
    out->hub = dup_or_null(s->hub == 1   ? "http://127.0.0.1:8470/hub"
                           : s->hub == 2 ? "https://hub.example/publish?a=1&b=2"
                                         : NULL);
    out->hub_builtin = s->hub == 1;
    if (s->tokens) {
        out->readers = calloc(2, sizeof(*out->readers));
        assert_non_null(out->readers);
        out->readers[0].name = dup_or_null("alice");
        out->readers[0].secret = dup_or_null(ALICE_SECRET);
        out->readers[1].name = dup_or_null("bob");
        out->readers[1].secret = dup_or_null(BOB_SECRET);
        out->nreaders = 2;
    }
    out->feeds = calloc(4, sizeof(*out->feeds));
    assert_non_null(out->feeds);
    for (size_t i = 0; i < 4; i++) {
        const struct service_feed *f = &s->feeds[i];
        struct service_feed *c = &out->feeds[out->nfeeds];
        if (feed != NULL && strcmp(feed, f->name) != 0)
            continue;
        *c = *f;
        c->name = dup_or_null(f->name);
        c->url = dup_or_null(f->url);
        c->categories = f->ncategories ? calloc(f->ncategories, sizeof(char *)) : NULL;
        for (size_t k = 0; k < f->ncategories; k++)
            c->categories[k] = dup_or_null(f->categories[k]);
        out->nfeeds++;
    }
    if (feed != NULL && out->nfeeds == 0) {
        service_snapshot_free(out);
        return -ENOENT;
    }
    /* instruments (SPEC §12): two watchlists, the most-mentioned tickers */
    out->watchlists = calloc(2, sizeof(*out->watchlists));
    assert_non_null(out->watchlists);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(service_watchlist_copy(&fake_watchlists[i], &out->watchlists[i]), 0);
    out->nwatchlists = 2;
    out->top = calloc(2, sizeof(*out->top));
    assert_non_null(out->top);
    out->top[0] = (struct service_ticker){dup_or_null("NYSE:BABA"), 2};
    out->top[1] = (struct service_ticker){dup_or_null("HKEX:0700"), 1};
    out->ntop = 2;
    out->top_at = (int64_t)time(NULL);
    return 0;
}

void
service_top_tickers_refresh(struct service *s)
{
    s->top_refreshes++;
}

void
service_snapshot_free(struct service_snapshot *snap)
{
    for (size_t i = 0; i < snap->nfeeds; i++) {
        struct service_feed *f = &snap->feeds[i];
        for (size_t k = 0; k < f->ncategories; k++)
            free(f->categories[k]);
        free(f->categories);
        free(f->name);
        free(f->url);
    }
    free(snap->feeds);
    free(snap->title);
    free(snap->link);
    free(snap->hub);
    free(snap->node);
    for (size_t i = 0; i < snap->nreaders; i++) {
        free(snap->readers[i].name);
        free(snap->readers[i].secret);
    }
    free(snap->readers);
    for (size_t i = 0; i < snap->nwatchlists; i++)
        service_watchlist_clear(&snap->watchlists[i]);
    free(snap->watchlists);
    for (size_t i = 0; i < snap->ntop; i++)
        free(snap->top[i].ticker);
    free(snap->top);
    memset(snap, 0, sizeof(*snap));
}

void
service_stats(const struct service *s, struct service_stats *out)
{
    *out = s->stats;
}

int
service_health(struct service *s, char *why, size_t size)
{
    if (s->stats.store_ok < 0) { /* the test's "cannot serve at all" */
        snprintf(why, size, "%s", s->stats.store_error);
        return -EIO;
    }
    if (!s->stats.store_ok) { /* degraded: the store fails, the cache serves */
        snprintf(why, size, "%s", s->stats.store_error);
        return 1;
    }
    return 0; /* no query: the loop thread never touches the reader store */
}

int64_t
service_generation(const struct service *s)
{
    return __atomic_load_n(&s->generation, __ATOMIC_SEQ_CST);
}

struct store *
service_store(struct service *s)
{
    return s->rstore;
}

int
service_watch(struct service *s, service_watch_fn fn, void *arg)
{
    assert_null(s->watch); /* the server watches once */
    s->watch = fn;
    s->watch_arg = arg;
    return 0;
}

void
service_unwatch(struct service *s, service_watch_fn fn, void *arg)
{
    assert_true(s->watch == fn && s->watch_arg == arg);
    s->watch = NULL;
}

/* WebSub: this fake service has no subscriber (public_url unset). */
int
service_websub_callback(struct service *s, const struct service_websub_req *r,
                        service_websub_fn done, void *arg, const char **why)
{
    (void)s, (void)r, (void)done, (void)arg;
    *why = "no WebSub subscriber here ([daemon] public_url is not set)";
    return 404;
}

void
service_websub_cancel(struct service *s, void *arg)
{
    (void)s, (void)arg;
}

void
service_ws_stats(const struct service *s, uint64_t *out)
{
    (void)s;
    memset(out, 0, SERVICE_WS_EVENTS * sizeof(*out));
}

const char *
service_ws_event_name(enum service_ws_event e)
{
    (void)e;
    return "pushed";
}

/* The built-in hub: this fake keeps the renderer the server registers and
 * the last request, answered from the loop a moment later. */
void
service_hub_renderer(struct service *s, service_hub_render_fn fn, void *arg)
{
    s->hub_render = fn;
    s->hub_render_arg = arg;
}

static void
hub_req_clear(struct service_hub_req *r)
{
    free((char *)r->mode);
    free((char *)r->topic);
    free((char *)r->path);
    free((char *)r->callback);
    free((char *)r->lease);
    free((char *)r->secret);
    free((char *)r->client);
    memset(r, 0, sizeof(*r));
}

static void
on_hub_answer(uv_timer_t *t)
{
    struct service *s = t->data;
    service_websub_fn done = s->hub_done;
    s->hub_done = NULL;
    if (done != NULL)
        done(s->hub_arg, s->hub_status != 0 ? s->hub_status : 202, "accepted: verify next");
}

int
service_hub_request(struct service *s, const struct service_hub_req *r, service_websub_fn done,
                    void *arg, const char **why)
{
    (void)why;
    hub_req_clear(&s->hub_req);
    s->hub_req = (struct service_hub_req){.mode = dup_or_null(r->mode),
                                          .topic = dup_or_null(r->topic),
                                          .path = dup_or_null(r->path),
                                          .callback = dup_or_null(r->callback),
                                          .lease = dup_or_null(r->lease),
                                          .secret = dup_or_null(r->secret),
                                          .client = dup_or_null(r->client)};
    s->hub_done = done;
    s->hub_arg = arg;
    assert_int_equal(uv_timer_start(&s->hub_timer, on_hub_answer, 1, 0), 0);
    return 0;
}

void
service_hub_cancel(struct service *s, void *arg)
{
    if (s->hub_arg == arg)
        s->hub_done = NULL;
}

void
service_hub_stats(const struct service *s, uint64_t *out, long *subs)
{
    (void)s;
    memset(out, 0, SERVICE_HUB_EVENTS * sizeof(*out));
    *subs = 3;
}

const char *
service_hub_event_name(enum service_hub_event e)
{
    (void)e;
    return "delivered";
}

static void
on_async(uv_async_t *a)
{
    struct server *s = a->data;
    pthread_mutex_lock(&s->mu);
    if (s->job != NULL) {
        s->job(s, s->job_arg);
        s->job = NULL;
        s->job_done = 1;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Run fn(s, arg) on the loop thread and wait for it. */
static void
on_loop(struct server *s, void (*fn)(struct server *, void *), void *arg)
{
    pthread_mutex_lock(&s->mu);
    s->job = fn;
    s->job_arg = arg;
    s->job_done = 0;
    assert_int_equal(uv_async_send(&s->async), 0);
    while (!s->job_done)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void *
loop_main(void *arg)
{
    struct server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void
on_http_stopped(void *arg)
{
    struct server *s = arg;
    s->stopped++;
}

static void
job_stop(struct server *s, void *arg)
{
    (void)arg;
    http_stop(s->http, on_http_stopped, s);
    s->http = NULL;
    assert_null(s->svc.watch);
    assert_null(s->svc.hub_render); /* unregistered, its renders answered */
    uv_close((uv_handle_t *)&s->async, NULL);
    uv_close((uv_handle_t *)&s->svc.hub_timer, NULL);
}

static void
job_renders(struct server *s, void *arg)
{
    *(unsigned long *)arg = http_renders(s->http);
}

/* The service reports a reload, as after SIGHUP. */
static void
job_invalidate(struct server *s, void *arg)
{
    (void)arg;
    s->svc.watch(s->svc.watch_arg, SERVICE_RELOADED);
}

static void
job_store_ok(struct server *s, void *arg)
{
    struct service_stats *st = &s->svc.stats;
    st->store_ok = *(int *)arg;
    snprintf(st->store_error, sizeof(st->store_error), "%s", st->store_ok > 0 ? "" : "disk full");
}

static unsigned long
renders(void)
{
    unsigned long n = 0;
    on_loop(S, job_renders, &n);
    return n;
}

/* ---- the store's content ---- */

static int64_t t0; /* dates relative to now, so nothing is pruned or stale */

static void
add_article(struct server *s, int64_t feed_id, int n, const char *title, const char *cat,
            const char *body, char **tickers)
{
    char link[128], guid[128];
    char *cats[3] = {(char *)"金融", (char *)cat, NULL};
    struct parse_article a = {0};
    enum store_outcome out;

    snprintf(link, sizeof(link), "https://finance.example.com/news/%d.html", n);
    snprintf(guid, sizeof(guid), "urn:test:%d", n);
    a.title = (char *)title;
    a.link = link;
    a.guid = guid;
    a.categories = cats;
    a.ncategories = cat != NULL ? 2 : 1;
    a.author = (char *)"新浪财经";
    a.date = t0 - 3600 * (10 - n);
    a.headimg = (char *)"https://n.sinaimg.cn/finance/343233024.png";
    a.summary = (char *)"summary";
    a.body = (char *)body;
    a.source = NULL;
    a.tickers = tickers;
    while (tickers != NULL && tickers[a.ntickers] != NULL)
        a.ntickers++;
    assert_int_equal(store_begin(s->writer), 0);
    assert_int_equal(store_add(s->writer, feed_id, &a, 1, t0, &out), 0);
    assert_int_equal(store_commit(s->writer), 0);
    assert_int_equal(out, STORE_NEW);
    __atomic_add_fetch(&s->svc.generation, 1, __ATOMIC_SEQ_CST); /* as the service's ingest */
}

static const char long_body[] =
    "<div><p>长春累计确诊20000例，社会面清零再推进。吉林省卫健委通报，当日新增本土确诊病例"
    "和无症状感染者继续下降，社区防控进入新阶段。</p><p>Markets were calm as investors "
    "weighed the outlook for interest rates and the yuan; the central bank kept its policy "
    "rate unchanged for the third month in a row, citing stable prices.</p></div>";

static void
fill_store(struct server *s)
{
    char err[256];
    assert_int_equal(store_open(s->db, &s->writer, err, sizeof(err)), 0);
    assert_int_equal(
        store_feed_ensure(s->writer, "sina", "https://example.com/sina.xml", &s->sina_id), 0);
    assert_int_equal(store_feed_ensure(s->writer, "wsj", "https://example.com/wsj.xml", &s->wsj_id),
                     0);
    static char *t1[] = {"NYSE:BABA", "HKEX:0700", NULL},
                *t3[] = {"NASDAQ:AAPL", "NYSE:BABA", NULL};
    add_article(s, s->sina_id, 1, "疫情持续胶着：长春累计确诊20000例", "新浪财经", long_body, t1);
    add_article(s, s->sina_id, 2, "央行维持利率不变 rates unchanged", NULL,
                "<p>The central bank kept its policy rate unchanged.</p>", NULL);
    add_article(s, s->wsj_id, 3, "Stocks rally & <bonds> \"slip\"", "Markets",
                "<p>Stocks rallied on Tuesday; bonds slipped as yields rose.</p>", t3);
}

/* Four feeds in the states the status page shows. */
static void
fill_feeds(struct server *s)
{
    struct service *svc = &s->svc;
    struct service_feed *f = svc->feeds;

    svc->sina_cats[0] = (char *)"金融";
    svc->sina_cats[1] = (char *)"新浪财经";
    f[0] = (struct service_feed){.name = (char *)"sina",
                                 .url = (char *)"https://example.com/sina.xml",
                                 .categories = svc->sina_cats,
                                 .ncategories = 2,
                                 .enabled = 1,
                                 .next_fetch = t0 + 600,
                                 .last_fetch = t0 - 60,
                                 .newest = t0,
                                 .http = 200,
                                 .last = SERVICE_OK,
                                 .fetched = 1,
                                 .articles = 2,
                                 .counts = {.new_ = 2, .duplicates = 1},
                                 .fetches = {3, 1, 0, 0}};
    f[1] = (struct service_feed){.name = (char *)"wsj",
                                 .enabled = 1,
                                 .url = (char *)"https://user:secret@example.com/wsj.xml",
                                 .next_fetch = t0 + 60,
                                 .last_fetch = t0 - 30,
                                 .http = 500,
                                 .errors = 3,
                                 .last = SERVICE_ERROR,
                                 .fetched = 1,
                                 .articles = 1,
                                 .fetches = {1, 0, 3, 0}};
    snprintf(f[1].error, sizeof(f[1].error), "HTTP 500: <b>&\"bad\"</b>\n\xff\xfe end");
    f[2] = (struct service_feed){.name = (char *)"old",
                                 .enabled = 0,
                                 .url = (char *)"https://example.com/old.xml",
                                 .last = SERVICE_GONE,
                                 .http = 410,
                                 .fetched = 1,
                                 .fetches = {0, 0, 0, 1}};
    f[3] = (struct service_feed){
        .name = (char *)"quote\"back\\slash", .enabled = 1, .url = (char *)"file:///srv/feed.xml"};
    svc->stats.feeds = 4;
    svc->stats.stored[0] = 3; /* new */
    svc->stats.stored[2] = 1; /* duplicate */
    for (int i = 0; i < SERVICE_BUCKETS; i++)
        svc->stats.duration_buckets[i] = i < 2 ? 1 : i < 5 ? 3 : 4;
    svc->stats.duration_count = 5;
    svc->stats.duration_sum = 42.5;
    svc->stats.started = t0 - 100;
}

static int
setup(void **state)
{
    struct server *s = calloc(1, sizeof(*s));
    char err[256];

    if (s == NULL)
        return -1;
    t0 = (int64_t)time(NULL);
    strcpy(s->dir, "/tmp/test_http.XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    snprintf(s->db, sizeof(s->db), "%s/finfeed.db", s->dir);
    if (uv_loop_init(&s->loop) != 0 || uv_async_init(&s->loop, &s->async, on_async) != 0)
        return -1;
    s->async.data = s;
    if (uv_timer_init(&s->loop, &s->svc.hub_timer) != 0)
        return -1;
    s->svc.hub_timer.data = &s->svc;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    fill_store(s);
    if (store_open(s->db, &s->svc.rstore, err, sizeof(err)) != 0)
        return -1;
    s->svc.stats.store_ok = 1;
    fill_feeds(s);
    if (http_start(&s->loop, &s->svc, "127.0.0.1:0", &s->http, err, sizeof(err)) != 0) {
        fprintf(stderr, "http_start: %s\n", err);
        return -1;
    }
    s->port = http_port(s->http);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    s->checker =
        access(PYTHON, X_OK) == 0 && system(PYTHON " -c 'import feedparser' 2>/dev/null") == 0;
    if (!s->checker) {
        print_message("[ SKIPPED  ] feed validation: %s with python3-feedparser is missing\n",
                      PYTHON);
        checks_skipped = 1;
    }
    if (pthread_create(&s->thread, NULL, loop_main, s) != 0)
        return -1;
    S = s;
    *state = s;
    return 0;
}

static void extras_stop(void);
static void gate_set(int closed, int fail);

static int
teardown(void **state)
{
    struct server *s = *state;
    char path[160];

    gate_set(0, 0); /* a failed test must not leave a render held */
    extras_stop();
    on_loop(s, job_stop, NULL);
    pthread_join(s->thread, NULL);
    assert_int_equal(s->stopped, 1);
    assert_int_equal(uv_loop_close(&s->loop), 0);
    store_close(s->svc.rstore);
    store_close(s->writer);
    hub_req_clear(&s->svc.hub_req);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", s->db, suffix[i]);
        unlink(path);
    }
    rmdir(s->dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return 0;
}

/* ---- a libcurl client ---- */

struct resp {
    long status;
    char *body;
    size_t len;
    char head[8192];
    size_t hlen;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (b == NULL)
        return 0;
    memcpy(b + r->len, p, size * n);
    r->body = b;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    if (r->hlen + size * n < sizeof(r->head)) {
        memcpy(r->head + r->hlen, p, size * n);
        r->hlen += size * n;
        r->head[r->hlen] = '\0';
    }
    return size * n;
}

/* The value of header `name` (trimmed) into a static buffer, or NULL. */
static const char *
hdr(const struct resp *r, const char *name)
{
    static char val[1024];
    size_t n = strlen(name);
    for (const char *l = r->head; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
            const char *v = l + n + 1;
            v += strspn(v, " ");
            size_t len = strcspn(v, "\r\n");
            snprintf(val, sizeof(val), "%.*s", (int)len, v);
            return val;
        }
    }
    return NULL;
}

/* METHOD path with extra header lines (NULL-terminated, may be NULL). */
static void
request(const char *method, const char *path, const char *const *headers, struct resp *r)
{
    char url[16384];
    struct curl_slist *list = NULL;
    CURL *c = curl_easy_init();

    memset(r, 0, sizeof(*r));
    assert_non_null(c);
    snprintf(url, sizeof(url), "%s%s", S->base, path);
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "a=1&b=2");
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
}

static void
get(const char *path, struct resp *r)
{
    request("GET", path, NULL, r);
}

/* POST body to path with a Content-Type (NULL: none) and extra header
 * lines (NULL-terminated, may be NULL). */
static void
post(const char *path, const char *type, const char *body, size_t len, const char *const *headers,
     struct resp *r)
{
    char url[16384], ct[256];
    struct curl_slist *list = NULL;
    CURL *c = curl_easy_init();

    memset(r, 0, sizeof(*r));
    assert_non_null(c);
    snprintf(url, sizeof(url), "%s%s", S->base, path);
    snprintf(ct, sizeof(ct), "Content-Type:%s%s", type != NULL ? " " : "",
             type != NULL ? type : "");
    list = curl_slist_append(list, ct);
    list = curl_slist_append(list, "Expect:");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode cc = curl_easy_perform(c);
    /* a body refused before it was all read may end in a reset */
    if (cc != CURLE_OK && cc != CURLE_SEND_ERROR && cc != CURLE_RECV_ERROR)
        fail_msg("POST %s (%.60s): %s", path, body, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
}

static void
resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* Raw bytes to the server, then (half_close) the end of our side; the
 * whole answer (until the server closes, at most 5 s) into out. */
static size_t
raw_send(const char *req, size_t reqlen, int half_close, char *out, size_t outsize)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)S->port)};
    struct timeval tv = {.tv_sec = 5};
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (size_t off = 0; off < reqlen; off += (size_t)n)
        if ((n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL)) <= 0)
            break;
    if (half_close)
        shutdown(fd, SHUT_WR);
    while (got + 1 < outsize && (n = recv(fd, out + got, outsize - 1 - got, 0)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fd);
    return got;
}

static size_t
raw(const char *req, size_t reqlen, char *out, size_t outsize)
{
    return raw_send(req, reqlen, 0, out, outsize);
}

static int
raw_status(const char *req)
{
    char out[16384];
    raw(req, strlen(req), out, sizeof(out));
    int status = 0;
    if (sscanf(out, "HTTP/1.%*d %d", &status) != 1)
        return 0;
    return status;
}

/* Exit status of check_feed.py FORMAT on body (0 valid); 0 when skipped. */
static int
check_feed(const char *fmt, const struct resp *r)
{
    char path[128];
    char *argv[] = {PYTHON, CHECKER, (char *)fmt, path, NULL};
    pid_t pid;
    int status;

    if (!S->checker)
        return 0;
    snprintf(path, sizeof(path), "%s/doc.%s", S->dir, fmt);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(r->body, 1, r->len, fp), r->len);
    fclose(fp);
    assert_int_equal(posix_spawn(&pid, PYTHON, NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* r, the answer to path in format fmt, holds `entries` entries and passes
 * check_feed.py (77: the checker skipped it). */
static void
check_entries(const char *path, const char *fmt, int entries, const struct resp *r)
{
    const char *tag = strcmp(fmt, "atom") == 0 ? "<entry>"
                      : strcmp(fmt, "rss") == 0 ? "<item>"
                                                : "\"content_html\"";
    if (count(r->body, tag) != entries)
        print_error("%s: %d entries, want %d\n", path, count(r->body, tag), entries);
    assert_int_equal(count(r->body, tag), entries);
    int rc = check_feed(fmt, r);
    if (rc != 0 && rc != 77)
        print_error("%s: check_feed.py exit %d\n%s\n", path, rc, r->body);
    assert_true(rc == 0 || rc == 77);
}

/* ---- tests ---- */

static void
test_feeds(void **state)
{
    (void)state;
    struct resp r;
    static const struct {
        const char *path, *type, *fmt;
        int entries;
    } cases[] = {
        {"/feed.atom", "application/atom+xml; charset=utf-8", "atom", 3},
        {"/feed.rss", "application/rss+xml; charset=utf-8", "rss", 3},
        {"/feed.json", "application/feed+json; charset=utf-8", "json", 3},
        {"/feeds/sina.atom", "application/atom+xml; charset=utf-8", "atom", 2},
        {"/feeds/wsj.rss", "application/rss+xml; charset=utf-8", "rss", 1},
        {"/categories/%E9%87%91%E8%9E%8D.atom", "application/atom+xml; charset=utf-8", "atom", 3},
        {"/categories/Markets.json", "application/feed+json; charset=utf-8", "json", 1},
        {"/feed.atom?limit=1", "application/atom+xml; charset=utf-8", "atom", 1},
        {"/feed.atom?feed=wsj", "application/atom+xml; charset=utf-8", "atom", 1},
        {"/feed.atom?category=%E6%96%B0%E6%B5%AA%E8%B4%A2%E7%BB%8F",
         "application/atom+xml; charset=utf-8", "atom", 1},
        {"/feed.atom?q=%E9%95%BF%E6%98%A5", "application/atom+xml; charset=utf-8", "atom", 1},
        {"/feed.rss?q=unchanged", "application/rss+xml; charset=utf-8", "rss", 2},
        {"/feed.atom?q=nothing+matches+this", "application/atom+xml; charset=utf-8", "atom", 0},
        /* FTS5's syntax is no syntax in ?q=: words as any other */
        {"/feed.atom?q=%22%22%22+AND+NEAR%28+%2A%5E%3A+%C4%B0%C4%B0%C4%B0",
         "application/atom+xml; charset=utf-8", "atom", 0},
        {"/feed.atom?q=%C4%B0%C3%A7%C3%AFK", "application/atom+xml; charset=utf-8", "atom", 0},
        /* a word that is no UTF-8 is in no text (no FTS5 error, no 500) */
        {"/feed.atom?q=ab%80c", "application/atom+xml; charset=utf-8", "atom", 0},
        {"/feed.json?q=unchanged+%FF%FE%FD", "application/feed+json; charset=utf-8", "json", 0},
        {"/feed.rss?q=%E9%95%BF%E6%98%A5+%C3", "application/rss+xml; charset=utf-8", "rss", 0},
        {"/feed.atom?limit=99999999999999999999", "application/atom+xml; charset=utf-8", "atom", 3},
        {"/categories/%FF%FE.atom", "application/atom+xml; charset=utf-8", "atom", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        get(cases[i].path, &r);
        if (r.status != 200)
            print_error("%s: %ld\n", cases[i].path, r.status);
        assert_int_equal(r.status, 200);
        assert_string_equal(hdr(&r, "Content-Type"), cases[i].type);
        assert_non_null(hdr(&r, "ETag"));
        assert_non_null(hdr(&r, "Last-Modified"));
        assert_non_null(hdr(&r, "Vary"));
        check_entries(cases[i].path, cases[i].fmt, cases[i].entries, &r);
        resp_free(&r);
    }

    /* newest first, the Chinese title intact, the self link absolute */
    get("/feed.atom", &r);
    const char *a = strstr(r.body, "Stocks rally &amp; &lt;bonds&gt;");
    const char *b = strstr(r.body, "央行维持利率不变");
    const char *c = strstr(r.body, "疫情持续胶着：长春累计确诊20000例");
    assert_true(a != NULL && b != NULL && c != NULL && a < b && b < c);
    assert_non_null(strstr(r.body, "rel=\"self\" type=\"application/atom+xml\" "
                                   "href=\"http://127.0.0.1:8470/feed.atom\""));
    resp_free(&r);
    get("/categories/%E9%87%91%E8%9E%8D.atom?q=Stocks", &r);
    assert_non_null(strstr(r.body, "href=\"http://127.0.0.1:8470/categories/"
                                   "%E9%87%91%E8%9E%8D.atom?q=Stocks\""));
    assert_int_equal(count(r.body, "<entry>"), 1);
    resp_free(&r);
}

static int
on_id(void *arg, const struct store_article *sa)
{
    *(int64_t *)arg = sa->id;
    return 0;
}

static void
test_article_opml(void **state)
{
    (void)state;
    struct resp r;
    char path[64];
    int64_t id = 0;

    /* the row id of the oldest article, from the store */
    get("/feed.json?q=%E9%95%BF%E6%98%A5", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    struct store_query q = {.text = "20000例", .limit = 1};
    assert_int_equal(store_articles(S->writer, &q, on_id, &id), 0);
    assert_true(id > 0);

    snprintf(path, sizeof(path), "/articles/%lld.md", (long long)id);
    get(path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "text/markdown; charset=utf-8");
    assert_non_null(hdr(&r, "ETag"));
    const char *head = "---\ntitle: '疫情持续胶着：长春累计确诊20000例'\ncategories: \n";
    assert_true(strncmp(r.body, head, strlen(head)) == 0);
    assert_non_null(strstr(r.body, "categories: \n - 金融\n - 新浪财经\n"));
    resp_free(&r);

    const char *bad[] = {"/articles/99999999.md", "/articles/abc.md",
                         "/articles/0.md",        "/articles/-1.md",
                         "/articles/1.atom",      "/articles/.md",
                         "/articles/01.md",       "/articles/123456789012345678901.md"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        get(bad[i], &r);
        assert_int_equal(r.status, 404);
        resp_free(&r);
    }

    get("/opml", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(hdr(&r, "ETag"));
    assert_non_null(strstr(r.body, "<opml version=\"2.0\">"));
    assert_non_null(strstr(r.body,
                           "<outline type=\"rss\" text=\"sina\" title=\"sina\" "
                           "xmlUrl=\"https://example.com/sina.xml\" "
                           "htmlUrl=\"https://example.com/\" category=\"/金融,/新浪财经\"/>"));
    assert_non_null(strstr(r.body, "xmlUrl=\"https://example.com/wsj.xml\""));
    assert_null(strstr(r.body, "secret"));
    assert_non_null(strstr(r.body, "text=\"quote&quot;back\\slash\""));
    /* the feeds, then the watchlists in a folder of their own (SPEC §12) */
    assert_int_equal(count(r.body, "<outline "), 4 + 1 + 2);
    assert_non_null(strstr(r.body, "    <outline text=\"Watchlists\" title=\"Watchlists\">\n"
                                   "      <outline type=\"rss\" text=\"china\" title=\"china\" "
                                   "xmlUrl=\"http://127.0.0.1:8470/watchlists/china.atom\" "
                                   "htmlUrl=\"http://127.0.0.1:8470/\"/>\n"
                                   "      <outline type=\"rss\" text=\"desk\" title=\"desk\" "
                                   "xmlUrl=\"http://127.0.0.1:8470/watchlists/desk.atom\" "
                                   "htmlUrl=\"http://127.0.0.1:8470/\"/>\n"
                                   "    </outline>\n"));
    resp_free(&r);
}

static void
test_conditional(void **state)
{
    (void)state;
    struct resp r, r2;
    char etag[64], lm[64], h1[128], h2[128];

    get("/feed.atom", &r);
    assert_int_equal(r.status, 200);
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    snprintf(lm, sizeof(lm), "%s", hdr(&r, "Last-Modified"));
    assert_true(etag[0] == '"' && etag[strlen(etag) - 1] == '"');

    const char *prefix[] = {"If-None-Match: ", "If-None-Match: \"nope\", W/", "If-None-Match: *",
                            "If-Modified-Since: "};
    for (size_t i = 0; i < 4; i++) {
        snprintf(h1, sizeof(h1), "%s%s", prefix[i], i == 2 ? "" : i == 3 ? lm : etag);
        const char *hs[] = {h1, NULL};
        request("GET", "/feed.atom", hs, &r2);
        assert_int_equal(r2.status, 304);
        assert_int_equal(r2.len, 0);
        assert_string_equal(hdr(&r2, "ETag"), etag);
        resp_free(&r2);
    }
    /* an older date, another tag, garbage: the document */
    const char *fresh[] = {"If-Modified-Since: Mon, 04 Apr 2022 02:50:26 GMT",
                           "If-None-Match: \"0000000000000000\"", "If-Modified-Since: garbage",
                           "If-None-Match: W/", "If-None-Match: \"unterminated"};
    for (size_t i = 0; i < sizeof(fresh) / sizeof(fresh[0]); i++) {
        const char *hs[] = {fresh[i], NULL};
        request("GET", "/feed.atom", hs, &r2);
        assert_int_equal(r2.status, 200);
        assert_int_equal(r2.len, r.len);
        resp_free(&r2);
    }
    /* If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2) */
    snprintf(h2, sizeof(h2), "If-Modified-Since: %s", lm);
    const char *both[] = {"If-None-Match: \"other\"", h2, NULL};
    request("GET", "/feed.atom", both, &r2);
    assert_int_equal(r2.status, 200);
    resp_free(&r2);

    /* unaffected by the next article: the category Markets */
    struct resp m;
    char metag[64];
    get("/categories/Markets.atom", &m);
    snprintf(metag, sizeof(metag), "%s", hdr(&m, "ETag"));
    resp_free(&m);

    /* a new article: a new ETag and the new entry */
    add_article(S, S->sina_id, 4, "新文章 A new story", NULL,
                "<p>A different story altogether, about copper prices and mining shares.</p>",
                NULL);
    snprintf(h1, sizeof(h1), "If-None-Match: %s", etag);
    const char *hs[] = {h1, NULL};
    request("GET", "/feed.atom", hs, &r2);
    assert_int_equal(r2.status, 200);
    assert_string_not_equal(hdr(&r2, "ETag"), etag);
    assert_non_null(strstr(r2.body, "新文章 A new story"));
    assert_int_equal(count(r2.body, "<entry>"), 4);
    resp_free(&r2);
    /* the rendering that did not change keeps its validator */
    get("/categories/Markets.atom", &m);
    assert_string_equal(hdr(&m, "ETag"), metag);
    resp_free(&m);
    /* reloading the configuration renders again; same bytes, same ETag */
    get("/feed.atom", &r2);
    snprintf(etag, sizeof(etag), "%s", hdr(&r2, "ETag"));
    resp_free(&r2);
    unsigned long before = renders();
    on_loop(S, job_invalidate, NULL);
    get("/feed.atom", &r2);
    assert_int_equal(renders(), before + 1);
    assert_string_equal(hdr(&r2, "ETag"), etag);
    resp_free(&r2);
    resp_free(&r);
}

static void
test_gzip_head(void **state)
{
    (void)state;
    struct resp plain, gz, head;
    const char *ae[] = {"Accept-Encoding: br;q=1.0, gzip;q=0.8", NULL};
    const char *no[] = {"Accept-Encoding: gzip;q=0, identity", NULL};
    const char *star[] = {"Accept-Encoding: *", NULL};

    get("/feed.atom", &plain);
    assert_null(hdr(&plain, "Content-Encoding"));
    request("GET", "/feed.atom", ae, &gz);
    assert_int_equal(gz.status, 200);
    assert_string_equal(hdr(&gz, "Content-Encoding"), "gzip");
    assert_string_equal(hdr(&gz, "Vary"), "Accept-Encoding");
    assert_true(gz.len < plain.len);
    char plain_etag[64];
    snprintf(plain_etag, sizeof(plain_etag), "%s", hdr(&plain, "ETag"));
    assert_string_not_equal(hdr(&gz, "ETag"), plain_etag);

    /* inflate and compare */
    char *out = malloc(plain.len + 1);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)gz.body;
    z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)plain.len + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, plain.len);
    assert_memory_equal(out, plain.body, plain.len);
    inflateEnd(&z);
    free(out);

    /* a 304 for the gzip tag too */
    char h[128];
    snprintf(h, sizeof(h), "If-None-Match: %s", hdr(&gz, "ETag"));
    const char *cond[] = {h, "Accept-Encoding: gzip", NULL};
    struct resp r;
    request("GET", "/feed.atom", cond, &r);
    assert_int_equal(r.status, 304);
    resp_free(&r);

    request("GET", "/feed.atom", no, &r);
    assert_null(hdr(&r, "Content-Encoding"));
    assert_int_equal(r.len, plain.len);
    resp_free(&r);
    request("GET", "/feed.atom", star, &r);
    assert_string_equal(hdr(&r, "Content-Encoding"), "gzip");
    resp_free(&r);
    const char *odd[] = {"Accept-Encoding: gzip;q=", "Accept-Encoding: gzip;q=0.000",
                         "Accept-Encoding: identity;q=0.5, *;q=0",
                         "Accept-Encoding: ,;,q=", "Accept-Encoding: x-gzip; q=0.001"};
    const char *want_gz[] = {"gzip", NULL, NULL, NULL, "gzip"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        const char *hs[] = {odd[i], NULL};
        request("GET", "/feed.atom", hs, &r);
        assert_int_equal(r.status, 200);
        if (want_gz[i] == NULL)
            assert_null(hdr(&r, "Content-Encoding"));
        else
            assert_string_equal(hdr(&r, "Content-Encoding"), want_gz[i]);
        resp_free(&r);
    }

    /* HEAD: the headers of GET, no body on the wire */
    request("HEAD", "/feed.atom", NULL, &head);
    assert_int_equal(head.status, 200);
    assert_int_equal(head.len, 0);
    assert_string_equal(hdr(&head, "ETag"), plain_etag);
    char cl[32];
    snprintf(cl, sizeof(cl), "%zu", plain.len);
    assert_string_equal(hdr(&head, "Content-Length"), cl);
    char buf[65536];
    const char *req = "HEAD /feed.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    size_t n = raw(req, strlen(req), buf, sizeof(buf));
    const char *end = strstr(buf, "\r\n\r\n");
    assert_non_null(end);
    assert_int_equal((size_t)(end + 4 - buf), n);
    resp_free(&head);
    resp_free(&gz);
    resp_free(&plain);
}

static void
test_errors(void **state)
{
    (void)state;
    struct resp r;

    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < 5; i++) {
        request(methods[i], "/feed.atom", NULL, &r);
        assert_int_equal(r.status, 405);
        assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
        resp_free(&r);
    }
    const char *missing[] = {"/nope",           "/feed.xml",    "/feed.",     "/feeds/nosuch.atom",
                             "/feeds/sina.xml", "/feeds/.atom", "/feeds/",    "/categories/",
                             "/index.html",     "/feed.atom/",  "/FEED.ATOM", "/opml/x"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        get(missing[i], &r);
        if (r.status != 404)
            print_error("%s: %ld\n", missing[i], r.status);
        assert_int_equal(r.status, 404);
        resp_free(&r);
    }
    const char *bad[] = {
        "/feed.atom?limit=abc",           "/feed.atom?limit=0", "/feed.atom?limit=-1",
        "/feed.atom?limit=1.5",           "/../etc/passwd",     "/feeds/../feed.atom",
        "/categories/..%2F..%2Fetc.atom", "/feeds/a%00b.atom"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        get(bad[i], &r);
        if (r.status != 400)
            print_error("%s: %ld\n", bad[i], r.status);
        assert_int_equal(r.status, 400);
        resp_free(&r);
    }
    /* a path over 1 KiB */
    char path[2048] = "/categories/";
    memset(path + 12, 'a', 1500);
    strcpy(path + 1512, ".atom");
    get(path, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
}

/* ---- WebSub for our own feeds (SPEC §11) ---- */

static void set_tokens(int on);

static void
job_hub(struct server *s, void *arg)
{
    s->svc.hub = *(int *)arg;
    s->svc.watch(s->svc.watch_arg, SERVICE_RELOADED); /* as a reload */
}

/* A render the hub asked for, its answer copied for the test's thread. */
struct hub_render {
    const char *path;
    int rc;   /* of the call */
    int done; /* the callback fired (atomic) */
    int drc;  /* its rc */
    char *doc, *type, *self;
    long entries;
};

static void
on_hub_doc(void *ctx, int rc, const struct service_hub_doc *d)
{
    struct hub_render *h = ctx;
    h->drc = rc;
    if (rc == 0) {
        h->doc = strndup(d->doc, d->len);
        h->type = strdup(d->type);
        h->self = strdup(d->self);
        h->entries = d->entries;
    }
    __atomic_store_n(&h->done, 1, __ATOMIC_SEQ_CST);
}

static void
job_hub_render(struct server *s, void *arg)
{
    struct hub_render *h = arg;
    assert_non_null(s->svc.hub_render);
    h->rc = s->svc.hub_render(s->svc.hub_render_arg, h->path, on_hub_doc, h);
    if (h->rc < 0)
        h->done = 1;
}

static void
hub_render(struct hub_render *h)
{
    on_loop(S, job_hub_render, h);
    for (int i = 0; i < 2000 && !__atomic_load_n(&h->done, __ATOMIC_SEQ_CST); i++)
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    assert_true(__atomic_load_n(&h->done, __ATOMIC_SEQ_CST));
}

static void
hub_render_free(struct hub_render *h)
{
    free(h->doc);
    free(h->type);
    free(h->self);
}

/* POST /hub with a form body; the answer in r. */
static void
hub_post(const char *body, struct resp *r)
{
    post("/hub", "application/x-www-form-urlencoded", body, strlen(body), NULL, r);
}

static void
test_hub(void **state)
{
    (void)state;
    struct resp r, r2;
    int hub = 0;

    /* no hub: rel="self" only, and /hub is not there */
    get("/feed.atom", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Link"), "<http://127.0.0.1:8470/feed.atom>; rel=\"self\"");
    assert_null(strstr(r.body, "rel=\"hub\""));
    resp_free(&r);
    hub_post("hub.mode=subscribe", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "[output] hub is not builtin"));
    resp_free(&r);

    /* an external hub: advertised, /hub still not ours */
    hub = 2;
    on_loop(S, job_hub, &hub);
    get("/feeds/sina.rss", &r);
    assert_non_null(strstr(r.body, "<atom:link rel=\"hub\" "
                                   "href=\"https://hub.example/publish?a=1&amp;b=2\"/>"));
    assert_string_equal(hdr(&r, "Link"), "<https://hub.example/publish?a=1&b=2>; rel=\"hub\", "
                                         "<http://127.0.0.1:8470/feeds/sina.rss>; rel=\"self\"");
    resp_free(&r);
    hub_post("hub.mode=subscribe", &r);
    assert_int_equal(r.status, 404);
    resp_free(&r);

    /* the built-in hub: every feed route advertises LINK/hub, in the
     * document and the Link header, 304s included */
    hub = 1;
    on_loop(S, job_hub, &hub);
    const char *want_link = "<http://127.0.0.1:8470/hub>; rel=\"hub\", "
                            "<http://127.0.0.1:8470/categories/%E9%87%91%E8%9E%8D.json?limit=2>; "
                            "rel=\"self\"";
    get("/categories/%E9%87%91%E8%9E%8D.json?limit=2", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Link"), want_link);
    assert_non_null(strstr(r.body, "\"hubs\":[{\"type\":\"WebSub\",\"url\":"
                                   "\"http://127.0.0.1:8470/hub\"}]"));
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", hdr(&r, "ETag"));
    const char *h304[] = {inm, NULL};
    request("GET", "/categories/%E9%87%91%E8%9E%8D.json?limit=2", h304, &r2);
    assert_int_equal(r2.status, 304);
    assert_string_equal(hdr(&r2, "Link"), want_link);
    resp_free(&r2);
    resp_free(&r);
    get("/feed.atom", &r);
    assert_non_null(strstr(r.body, "<link rel=\"hub\" href=\"http://127.0.0.1:8470/hub\"/>"));
    resp_free(&r);
    get("/articles/1.md", &r); /* no feed: no Link */
    assert_int_equal(r.status, 200);
    assert_null(hdr(&r, "Link"));
    resp_free(&r);

    /* POST only (the only POST route besides /websub/ID) */
    get("/hub", &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "POST");
    resp_free(&r);
    request("PUT", "/hub", NULL, &r);
    assert_int_equal(r.status, 405);
    resp_free(&r);
    post("/hub", "application/json", "{}", 2, NULL, &r);
    assert_int_equal(r.status, 415);
    resp_free(&r);

    /* a client's mistakes: 4xx, each saying why */
    static const struct {
        const char *body;
        long status;
        const char *why;
    } bad[] = {
        {"hub.mode=subscribe&hub.callback=http%3A%2F%2Fr.example%2Fcb", 400, "hub.topic: missing"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2Fother.example%2Ffeed.atom", 400,
         "not a feed of this hub"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeeds%2Fnosuch.atom", 400,
         "hub.topic: not found: no feed of that name"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Fopml", 400,
         "not one of this hub's feeds"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Farticles%2F1.md", 400,
         "not one of this hub's feeds"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeed.atom%3Flimit%3Dabc",
         400, "limit: a whole number"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeed.atom%23top", 400,
         "no fragment"},
        {"hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeeds%2F..%2Ffeed.atom", 400,
         "'..'"},
        {"hub.mode=subscribe&hub.topic=%zz", 400, "the form's encoding"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hub_post(bad[i].body, &r);
        if (r.status != bad[i].status || strstr(r.body, bad[i].why) == NULL)
            fail_msg("%s: %ld %s", bad[i].body, r.status, r.body);
        resp_free(&r);
    }
    char big[9000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hub_post(big, &r);
    assert_int_equal(r.status, 413);
    resp_free(&r);

    /* with [output] tokens, a subscriber is a reader too */
    set_tokens(1);
    hub_post("hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeed.atom"
             "&hub.callback=http%3A%2F%2Freader.example%2Fcb",
             &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"finfeed\"");
    assert_non_null(strstr(r.body, "unauthorized: "));
    resp_free(&r);
    post("/hub?token=" ALICE_SECRET, "application/x-www-form-urlencoded",
         "hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeed.atom"
         "&hub.callback=http%3A%2F%2Freader.example%2Fcb",
         strlen("hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeed.atom"
                "&hub.callback=http%3A%2F%2Freader.example%2Fcb"),
         NULL, &r);
    assert_int_equal(r.status, 202);
    resp_free(&r);
    set_tokens(0);

    /* a good request: handed to the service with the route it names, the
     * connection answered when the service does */
    hub_post("hub.mode=subscribe&hub.topic=http%3A%2F%2F127.0.0.1%3A8470%2Ffeeds%2Fsina.atom"
             "%3Flimit%3D5&hub.callback=http%3A%2F%2Freader.example%2Fcb%3Fid%3D7"
             "&hub.secret=s%2B3&hub.lease_seconds=3600",
             &r);
    assert_int_equal(r.status, 202);
    assert_non_null(strstr(r.body, "accepted"));
    resp_free(&r);
    const struct service_hub_req *q = &S->svc.hub_req;
    assert_string_equal(q->mode, "subscribe");
    assert_string_equal(q->topic, "http://127.0.0.1:8470/feeds/sina.atom?limit=5");
    assert_string_equal(q->path, "/feeds/sina.atom?limit=5");
    assert_string_equal(q->callback, "http://reader.example/cb?id=7");
    assert_string_equal(q->secret, "s+3");
    assert_string_equal(q->lease, "3600");
    assert_string_equal(q->client, "127.0.0.1");

    /* the hub's renders: the document a GET serves, rendered now */
    struct hub_render hr = {.path = "/feeds/sina.atom?limit=1"};
    hub_render(&hr);
    assert_int_equal(hr.rc, 0);
    assert_int_equal(hr.drc, 0);
    assert_int_equal(hr.entries, 1);
    assert_string_equal(hr.self, "http://127.0.0.1:8470/feeds/sina.atom?limit=1");
    assert_string_equal(hr.type, "application/atom+xml; charset=utf-8");
    get("/feeds/sina.atom?limit=1", &r);
    assert_string_equal(r.body, hr.doc);
    resp_free(&r);
    hub_render_free(&hr);
    const char *gone[] = {"/feeds/nosuch.atom", "/opml", "/feed.atom?limit=x", "/nope"};
    for (size_t i = 0; i < 4; i++) {
        struct hub_render g = {.path = gone[i]};
        hub_render(&g);
        assert_true(g.rc == -ENOENT || g.rc == -EINVAL);
        hub_render_free(&g);
    }
    /* a new article is in the next render, whatever the cache holds */
    add_article(S, S->sina_id, 7, "Hub story", NULL, "<p>Pushed.</p>", NULL);
    struct hub_render hn = {.path = "/feeds/sina.atom?limit=1"};
    hub_render(&hn);
    assert_int_equal(hn.drc, 0);
    assert_non_null(strstr(hn.doc, "Hub story"));
    hub_render_free(&hn);

    hub = 0;
    on_loop(S, job_hub, &hub);
}

static void
test_hostile(void **state)
{
    (void)state;
    char out[16384];
    struct resp r;

    /* MHD's own answers to broken HTTP: anything but a crash or a hang */
    assert_true(raw_status("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n") > 0);
    assert_true(raw_status("\x01\x02\x03 junk\r\nConnection: close\r\n\r\n") >= 400);
    assert_true(raw_status("GET / HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n") >= 400);
    raw_send("GET", 3, 1, out, sizeof(out));
    raw_send("GET /feed.atom HTTP/1.1\r\nHost: x\r\n", 35, 1, out, sizeof(out));
    char *big = malloc(70000);
    int n = snprintf(big, 70000, "GET /feed.atom HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'a', 65000);
    strcpy(big + n + 65000, "\r\n\r\n");
    raw(big, strlen(big), out, sizeof(out));
    int status = 0;
    sscanf(out, "HTTP/1.%*d %d", &status);
    assert_true(status == 0 || status >= 400);
    /* a URI longer than MHD's buffer */
    n = snprintf(big, 70000, "GET /feed.atom?q=");
    memset(big + n, 'q', 60000);
    strcpy(big + n + 60000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw(big, strlen(big), out, sizeof(out));
    free(big);
    /* a POST with a body, then a request on the same connection */
    const char *post = "POST /feed.atom HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                       "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw(post, strlen(post), out, sizeof(out));
    assert_int_equal(strncmp(out, "HTTP/1.1 405", 12), 0);
    /* a query with quotes and FTS5 syntax */
    get("/feed.atom?q=%22AND%20OR%20NOT%28%29*%27", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    get("/feed.atom?q=%22", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    /* still alive */
    get("/healthz", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

static void
test_healthz_metrics(void **state)
{
    (void)state;
    struct resp r;
    int ok = 0;

    get("/healthz", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok\n");
    resp_free(&r);
    on_loop(S, job_store_ok, &ok);
    get("/healthz", &r);
    /* SPEC §10: a failing store leaves the node serving its cache: 200,
     * "degraded" and why, so a load balancer keeps it */
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.body, "degraded", 8) == 0);
    assert_non_null(strstr(r.body, "disk full"));
    resp_free(&r);
    ok = -1;
    on_loop(S, job_store_ok, &ok);
    get("/healthz", &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "disk full"));
    resp_free(&r);
    ok = 1;
    on_loop(S, job_store_ok, &ok);

    get("/metrics", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    const char *want[] = {
        "# TYPE finfeed_fetch_total counter\n",
        "finfeed_fetch_total{feed=\"sina\",outcome=\"ok\"} 3\n",
        "finfeed_fetch_total{feed=\"sina\",outcome=\"not-modified\"} 1\n",
        "finfeed_fetch_total{feed=\"wsj\",outcome=\"error\"} 3\n",
        "finfeed_fetch_total{feed=\"old\",outcome=\"gone\"} 1\n",
        "finfeed_fetch_total{feed=\"quote\\\"back\\\\slash\",outcome=\"ok\"} 0\n",
        "# TYPE finfeed_articles_total counter\n",
        "finfeed_articles_total{outcome=\"new\"} 3\n",
        "finfeed_articles_total{outcome=\"duplicate\"} 1\n",
        "finfeed_articles_total{outcome=\"updated\"} 0\n",
        "finfeed_articles_total{outcome=\"unchanged\"} 0\n",
        "# TYPE finfeed_hub_events_total counter\n",
        "# TYPE finfeed_hub_subscriptions gauge\nfinfeed_hub_subscriptions 3\n",
        "# TYPE finfeed_fetch_duration_seconds histogram\n",
        "finfeed_fetch_duration_seconds_bucket{le=\"+Inf\"} 5\n",
        "finfeed_fetch_duration_seconds_sum 42.5",
        "finfeed_fetch_duration_seconds_count 5\n",
        "finfeed_feed_errors{feed=\"wsj\"} 3\n",
        "finfeed_feed_articles{feed=\"sina\"} 2\n",
        "finfeed_feed_stale{feed=\"sina\"} 0\n",
        "finfeed_feed_last_fetch_timestamp_seconds{feed=\"sina\"} ",
        "finfeed_up 1\n",
        "# HELP finfeed_up ",
        "# TYPE finfeed_node_info gauge\n",
        "finfeed_node_info{node=\"node-7 \\\"east\\\"\"} 1\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(r.body, want[i]) == NULL)
            print_error("missing: %s\n", want[i]);
        assert_non_null(strstr(r.body, want[i]));
    }
    /* the histogram: buckets ascending in le, cumulative, +Inf last = count */
    double last_le = -1;
    unsigned long last_v = 0, buckets = 0;
    for (const char *p = r.body;
         (p = strstr(p, "finfeed_fetch_duration_seconds_bucket{le=\"")) != NULL;) {
        p += strlen("finfeed_fetch_duration_seconds_bucket{le=\"");
        double le = strncmp(p, "+Inf", 4) == 0 ? 1e300 : strtod(p, NULL);
        unsigned long v = strtoul(strstr(p, "} ") + 2, NULL, 10);
        assert_true(le > last_le);
        assert_true(v >= last_v);
        last_le = le;
        last_v = v;
        buckets++;
    }
    assert_int_equal(buckets, SERVICE_BUCKETS + 1);
    assert_int_equal(last_v, 5);
    /* every sample line is NAME{labels} VALUE or NAME VALUE */
    for (const char *l = r.body; *l; l = strchr(l, '\n') + 1) {
        if (*l == '#')
            continue;
        assert_true(strncmp(l, "finfeed_", 8) == 0);
        assert_non_null(strchr(l, '\n'));
    }
    resp_free(&r);
}

static void
test_status_page(void **state)
{
    (void)state;
    struct resp r;

    get("/", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hdr(&r, "Content-Type"), "text/html; charset=utf-8");
    assert_string_equal(hdr(&r, "Referrer-Policy"), "no-referrer");
    assert_null(strstr(r.body, "<script"));
    const char *want[] = {
        ">sina</a>",
        ">wsj</a>",
        ">old</a>",
        ">quote&quot;back\\slash</a>",
        "href=\"feeds/quote%22back%5Cslash.atom\"",
        "HTTP 500: &lt;b&gt;&amp;&quot;bad&quot;&lt;/b&gt;\n\xEF\xBF\xBD\xEF\xBF\xBD end",
        "class=\"ok\">ok<",
        "class=\"error\">error<",
        "class=\"gone\">gone<",
        "class=\"new\">new<",
        "href=\"feed.atom\"",
        "href=\"opml\"",
        "href=\"categories/%E9%87%91%E8%9E%8D.atom\">金融</a>",
        "https://example.com/wsj.xml",
        "UTC",
        "<p>node node-7 &quot;east&quot; \xC2\xB7 finfeed ",
        /* instruments (SPEC §12) */
        "<p>Watchlists: <a href=\"watchlists/china.atom\">china</a> (<a "
        "href=\"watchlists/china.rss\">RSS</a>, <a href=\"watchlists/china.json\">JSON</a>)",
        "<a href=\"watchlists/desk.atom\">desk</a>",
        "<p>Most mentioned, last 24 h: <a href=\"tickers/NYSE%3ABABA.atom\">NYSE:BABA</a> (2) "
        "\xC2\xB7 <a href=\"tickers/HKEX%3A0700.atom\">HKEX:0700</a> (1) <small>counted ",
    };
    int refreshes = S->svc.top_refreshes;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(r.body, want[i]) == NULL)
            print_error("missing: %s\n", want[i]);
        assert_non_null(strstr(r.body, want[i]));
    }
    assert_null(strstr(r.body, "<b>"));
    assert_null(strstr(r.body, "secret"));
    assert_null(strstr(r.body, "\xff"));
    resp_free(&r);
    get("/", &r);
    resp_free(&r);
    /* each page asks for a fresh count (the service decides when to run it) */
    assert_true(S->svc.top_refreshes >= refreshes + 1);
}

/* The instruments' routes (SPEC §12): /tickers/EXCHANGE:SYMBOL.*, ?ticker=
 * on every feed route, /watchlists/NAME.*, each with the validators, 304,
 * gzip and HEAD of the other routes; a client's mistake is a 400 that
 * says why, an unknown watchlist a 404. */
static void
test_instrument_routes(void **state)
{
    (void)state;
    struct resp r, r2;
    static const struct {
        const char *path, *fmt;
        int entries;
    } cases[] = {
        {"/tickers/NYSE:BABA.atom", "atom", 2},
        {"/tickers/NYSE%3ABABA.rss", "rss", 2},
        {"/tickers/nyse:baba.json", "json", 2}, /* written any case */
        {"/tickers/NASDAQ:AAPL.atom", "atom", 1},
        {"/tickers/NYSE:IBM.atom", "atom", 0},
        {"/tickers/NYSE:BABA.atom?ticker=NASDAQ:AAPL", "atom", 1}, /* both */
        {"/tickers/NYSE:BABA.atom?feed=sina", "atom", 1},
        {"/feed.atom?ticker=HKEX:0700", "atom", 1},
        {"/feed.rss?ticker=HKEX:0700,NASDAQ:AAPL", "rss", 2}, /* any of them */
        {"/feed.json?ticker=HKEX:0700&ticker=nasdaq:aapl", "json", 2},
        {"/feeds/sina.atom?ticker=NASDAQ:AAPL", "atom", 0},
        {"/categories/Markets.atom?ticker=NASDAQ:AAPL", "atom", 1},
        {"/feed.atom?q=bonds&ticker=NYSE:BABA", "atom", 1},
        {"/watchlists/china.atom", "atom", 1}, /* not the Markets story */
        {"/watchlists/china.rss?limit=5", "rss", 1},
        {"/watchlists/desk.json", "json", 1},
        {"/watchlists/desk.atom?ticker=HKEX:0700", "atom", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        get(cases[i].path, &r);
        if (r.status != 200)
            print_error("%s: %ld %s\n", cases[i].path, r.status, r.body ? r.body : "");
        assert_int_equal(r.status, 200);
        assert_non_null(hdr(&r, "ETag"));
        assert_non_null(hdr(&r, "Last-Modified"));
        check_entries(cases[i].path, cases[i].fmt, cases[i].entries, &r);
        resp_free(&r);
    }

    /* the entries' tickers, in every format; the rendering's own links */
    get("/tickers/nyse:baba.atom", &r);
    assert_non_null(strstr(r.body, "<title>Finance news \xE2\x80\x94 NYSE:BABA</title>"));
    assert_non_null(strstr(r.body, "rel=\"self\" type=\"application/atom+xml\" "
                                   "href=\"http://127.0.0.1:8470/tickers/NYSE%3ABABA.atom\""));
    assert_non_null(strstr(r.body, "<category scheme=\"http://127.0.0.1:8470/tickers\" "
                                   "term=\"NASDAQ:AAPL\"/>\n    <category scheme=\""
                                   "http://127.0.0.1:8470/tickers\" term=\"NYSE:BABA\"/>"));
    resp_free(&r);
    get("/feed.rss?ticker=NASDAQ:AAPL", &r);
    assert_non_null(strstr(r.body, "<category domain=\"http://127.0.0.1:8470/tickers\">"
                                   "NASDAQ:AAPL</category>"));
    assert_non_null(strstr(r.body, "href=\"http://127.0.0.1:8470/feed.rss?ticker=NASDAQ%3AAAPL\""));
    resp_free(&r);
    get("/watchlists/china.json", &r);
    assert_non_null(strstr(r.body, "\"title\":\"Finance news \xE2\x80\x94 watchlist china\""));
    assert_non_null(strstr(r.body, "\"feed_url\":\"http://127.0.0.1:8470/watchlists/china.json\""));
    assert_non_null(strstr(r.body, "\"_finfeed\":{\"sources\":[\"sina\"],"
                                   "\"tickers\":[\"NYSE:BABA\",\"HKEX:0700\"]}"));
    resp_free(&r);
    get("/feed.json?ticker=NASDAQ:AAPL,HKEX:0700", &r);
    assert_non_null(strstr(r.body, "feed.json?ticker=HKEX%3A0700%2CNASDAQ%3AAAPL\""));
    resp_free(&r);

    /* one rendering whatever the order or the form of ?ticker= */
    get("/feed.atom?ticker=NASDAQ:AAPL,HKEX:0700", &r);
    unsigned long before = renders();
    get("/feed.atom?ticker=hkex:0700&ticker=NASDAQ%3AAAPL", &r2);
    assert_int_equal(renders(), before);
    char etag[64];
    assert_non_null(hdr(&r, "ETag"));
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    assert_string_equal(hdr(&r2, "ETag"), etag);
    resp_free(&r);
    resp_free(&r2);

    /* validators, 304, gzip, HEAD as on every route */
    const char *paths[] = {"/tickers/NYSE:BABA.atom", "/watchlists/desk.rss",
                           "/feed.json?ticker=NYSE:BABA"};
    for (size_t i = 0; i < 3; i++) {
        char inm[128];
        get(paths[i], &r);
        assert_int_equal(r.status, 200);
        snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
        snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
        const char *h304[] = {inm, NULL};
        request("GET", paths[i], h304, &r2);
        assert_int_equal(r2.status, 304);
        assert_int_equal(r2.len, 0);
        resp_free(&r2);
        const char *hgz[] = {"Accept-Encoding: gzip", NULL};
        request("GET", paths[i], hgz, &r2);
        assert_int_equal(r2.status, 200);
        assert_string_equal(hdr(&r2, "Content-Encoding"), "gzip");
        resp_free(&r2);
        request("HEAD", paths[i], NULL, &r2);
        assert_int_equal(r2.status, 200);
        assert_int_equal(r2.len, 0);
        assert_string_equal(hdr(&r2, "ETag"), etag);
        resp_free(&r2);
        resp_free(&r);
    }

    /* the client's mistakes, with their reasons */
    static const struct {
        const char *path;
        long status;
        const char *body;
    } bad[] = {
        {"/tickers/AAPL.atom", 400,
         "bad request: 'AAPL' is no ticker: not EXCHANGE:SYMBOL (no colon)\n"},
        {"/tickers/NYSE:BR%20K.atom", 400,
         "bad request: 'NYSE:BR K' is no ticker: SYMBOL: 1 to 15 letters, digits or . - _, a "
         "letter or digit first\n"},
        {"/feed.atom?ticker=AAPL", 400,
         "bad request: ticker: 'AAPL': not EXCHANGE:SYMBOL (no colon)\n"},
        {"/feeds/sina.rss?ticker=NYSE:BABA,9988", 400,
         "bad request: ticker: '9988': not EXCHANGE:SYMBOL (no colon)\n"},
        {"/watchlists/nope.atom", 404, "not found: no watchlist of that name\n"},
        {"/watchlists/china.xml", 404,
         "not found: a feed is served as .atom, .rss or .json (atom, rss or json)\n"},
        {"/tickers/NYSE:BABA", 404,
         "not found: a feed is served as .atom, .rss or .json (atom, rss or json)\n"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        get(bad[i].path, &r);
        if (r.status != bad[i].status || r.body == NULL || strcmp(r.body, bad[i].body) != 0)
            print_error("%s: %ld %s\n", bad[i].path, r.status, r.body ? r.body : "");
        assert_int_equal(r.status, bad[i].status);
        assert_string_equal(r.body, bad[i].body);
        resp_free(&r);
    }
    /* at most HTTP_TICKERS_MAX tickers */
    char many[4096] = "/feed.atom?ticker=";
    for (int i = 0; i <= HTTP_TICKERS_MAX; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sHKEX:%d", i ? "," : "",
                 i + 1);
    get(many, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "ticker: at most 64"));
    resp_free(&r);
}

static void
test_cache(void **state)
{
    (void)state;
    struct resp r;

    get("/feed.rss?limit=2", &r);
    resp_free(&r);
    unsigned long before = renders();
    /* a reader polling: cached, whatever it asks */
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    for (int i = 0; i < 200; i++) {
        request("GET", "/feed.rss?limit=2", i % 2 ? gz : NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    assert_int_equal(renders(), before);
    /* random queries cannot grow the cache past its bound */
    for (int i = 0; i < HTTP_CACHE_MAX + 20; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/feed.atom?q=word%d", i);
        get(path, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    assert_int_equal(renders(), before + HTTP_CACHE_MAX + 20);
}

/* Turns [output] tokens on or off as a reload would. */
static void
job_tokens(struct server *s, void *arg)
{
    s->svc.tokens = *(int *)arg;
    if (s->svc.watch != NULL)
        s->svc.watch(s->svc.watch_arg, SERVICE_RELOADED);
}

static void
set_tokens(int on)
{
    on_loop(S, job_tokens, &on);
}

/* GET path with one extra header (may be NULL): the status. */
static long
status_of(const char *path, const char *header, struct resp *r)
{
    const char *h[] = {header, NULL};
    request("GET", path, header != NULL ? h : NULL, r);
    return r->status;
}

static void
test_tokens(void **state)
{
    (void)state;
    struct resp r, r2;
    char basic[256], etag[64];
    const char *open_routes[] = {"/feed.atom", "/", "/metrics", "/opml", "/feeds/sina.rss",
                                 "/articles/1.md", "/no/such/route"};

    set_tokens(1);
    /* no token: 401 with the challenge and the reason, on every route but /healthz */
    for (size_t i = 0; i < sizeof(open_routes) / sizeof(open_routes[0]); i++) {
        assert_int_equal(status_of(open_routes[i], NULL, &r), 401);
        assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"finfeed\"");
        assert_non_null(strstr(r.body, "unauthorized: "));
        assert_non_null(strstr(r.body, "token"));
        assert_null(strstr(r.body, "<entry>"));
        resp_free(&r);
    }
    request("HEAD", "/feed.atom", NULL, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    assert_int_equal(status_of("/healthz", NULL, &r), 200);
    assert_string_equal(r.body, "ok\n");
    resp_free(&r);

    /* wrong tokens: 401 */
    assert_int_equal(status_of("/feed.atom?token=alice-0123456789abcdeX", NULL, &r), 401);
    assert_non_null(strstr(r.body, "not valid"));
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"finfeed\"");
    resp_free(&r);
    assert_int_equal(status_of("/feed.atom?token=alice", NULL, &r), 401);
    resp_free(&r);
    assert_int_equal(status_of("/feed.atom?token=" ALICE_SECRET "x", NULL, &r), 401);
    resp_free(&r);
    assert_int_equal(status_of("/feed.atom?token=", NULL, &r), 401);
    resp_free(&r);
    /* bob's name with alice's... no: a name is no secret */
    assert_int_equal(status_of("/feed.atom", "Authorization: Basic YWxpY2U6YWxpY2U=", &r), 401);
    resp_free(&r); /* alice:alice */
    assert_int_equal(status_of("/feed.atom", "Authorization: Basic !!!", &r), 401);
    assert_non_null(strstr(r.body, "Authorization"));
    resp_free(&r);
    assert_int_equal(status_of("/feed.atom", "Authorization: Bearer " ALICE_SECRET, &r), 401);
    resp_free(&r);

    /* ?token= good: 200, and the same rendering as without it (one cache entry) */
    assert_int_equal(status_of("/feed.atom?limit=2&token=" ALICE_SECRET, NULL, &r), 200);
    assert_null(strstr(r.body, "token"));
    assert_null(strstr(r.body, ALICE_SECRET));
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    unsigned long before = renders();
    assert_int_equal(status_of("/feed.atom?token=" BOB_SECRET "&limit=2", NULL, &r2), 200);
    assert_string_equal(hdr(&r2, "ETag"), etag);
    assert_int_equal(r2.len, r.len);
    assert_memory_equal(r2.body, r.body, r.len);
    assert_int_equal(renders(), before);
    resp_free(&r2);
    /* Basic good: any user name, the secret as password; or the secret alone */
    snprintf(basic, sizeof(basic), "Authorization: Basic %s",
             "Ym9iOmJvYn4wMTIzNDU2Nzg5LmFiY2RlZg=="); /* bob:bob~0123456789.abcdef */
    assert_int_equal(status_of("/feed.atom?limit=2", basic, &r2), 200);
    assert_string_equal(hdr(&r2, "ETag"), etag);
    assert_memory_equal(r2.body, r.body, r.len);
    assert_int_equal(renders(), before);
    resp_free(&r2);
    assert_int_equal(status_of("/metrics", "Authorization: basic "
                                           "YW55b25lOmFsaWNlLTAxMjM0NTY3ODlhYmNkZWY=", &r2), 200);
    assert_non_null(strstr(r2.body, "finfeed_http_unauthorized_total "));
    resp_free(&r2); /* anyone:alice-0123456789abcdef */
    assert_int_equal(status_of("/", "Authorization: Basic "
                                    "YWxpY2UtMDEyMzQ1Njc4OWFiY2RlZjo=", &r2), 200);
    resp_free(&r2); /* alice-0123456789abcdef: (the secret as user name) */
    resp_free(&r);

    /* a reload that drops the tokens opens the output again */
    set_tokens(0);
    assert_int_equal(status_of("/feed.atom", NULL, &r), 200);
    resp_free(&r);
    assert_int_equal(status_of("/feed.atom?token=whatever", NULL, &r), 200);
    resp_free(&r);
}

static void
test_listen(void **state)
{
    (void)state;
    struct service svc = {0};
    struct http *h = NULL;
    char err[256], addr[64];
    uv_loop_t loop;

    assert_int_equal(uv_loop_init(&loop), 0);
    const char *bad[] = {"nonsense",  "127.0.0.1",    "127.0.0.1:", "127.0.0.1:99999",
                         "[::1]8470", "127.0.0.1:8x", "[::1:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_true(http_start(&loop, &svc, bad[i], &h, err, sizeof(err)) < 0);
        assert_null(h);
        assert_non_null(strstr(err, bad[i]));
    }
    /* the port in use */
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", S->port);
    assert_int_equal(http_start(&loop, &svc, addr, &h, err, sizeof(err)), -EADDRINUSE);
    assert_non_null(strstr(err, "in use"));
    /* IPv6 loopback, when the host has it */
    int rc = http_start(&loop, &svc, "[::1]:0", &h, err, sizeof(err));
    if (rc == 0) {
        assert_true(http_port(h) > 0);
        http_stop(h, NULL, NULL);
        assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    } else {
        print_message("[ SKIPPED  ] IPv6 listen: %s\n", err);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- a second server on the test's loop, with limits of its own ---- */

struct extra {
    struct service svc; /* a copy of S's fake service, watched by this server */
    struct http_limits limits;
    int snapshot_fails; /* the service cannot copy its state */
    struct http *http;
    int port;
    int stopped;     /* loop thread */
    int job_stopped; /* stopped, as read by the loop for the test's thread */
    unsigned long evictions; /* as read by the loop */
    char base[64];
};

static void
job_extra_start(struct server *s, void *arg)
{
    struct extra *x = arg;
    char err[256];

    x->svc = s->svc;
    x->svc.watch = NULL;
    x->svc.watch_arg = NULL;
    x->svc.snapshot_fails = x->snapshot_fails;
    if (http_start_limits(&s->loop, &x->svc, "127.0.0.1:0", &x->limits, &x->http, err,
                          sizeof(err)) != 0) {
        print_error("http_start_limits: %s\n", err);
        x->http = NULL;
        return;
    }
    x->port = http_port(x->http);
    snprintf(x->base, sizeof(x->base), "http://127.0.0.1:%d", x->port);
}

static void
on_extra_stopped(void *arg)
{
    struct extra *x = arg;
    x->stopped = 1;
}

static void
job_extra_stop(struct server *s, void *arg)
{
    struct extra *x = arg;
    (void)s;
    http_stop(x->http, on_extra_stopped, x);
    x->http = NULL;
}

static void
job_extra_evictions(struct server *s, void *arg)
{
    struct extra *x = arg;
    (void)s;
    x->evictions = x->http->evictions;
}

static void
job_extra_stopped(struct server *s, void *arg)
{
    struct extra *x = arg;
    (void)s;
    x->job_stopped = x->stopped;
}

/* Servers started and not yet stopped: a failed test leaves its own for
 * the group's teardown to stop. */
static struct extra *extras[4];

/* A second server with the limits (and service failure) of `want`. */
static struct extra *
extra_start(const struct extra *want)
{
    struct extra *x = calloc(1, sizeof(*x));
    size_t slot = 0;

    assert_non_null(x);
    while (slot < sizeof(extras) / sizeof(extras[0]) && extras[slot] != NULL)
        slot++;
    assert_true(slot < sizeof(extras) / sizeof(extras[0]));
    x->limits = want->limits;
    x->snapshot_fails = want->snapshot_fails;
    on_loop(S, job_extra_start, x);
    if (x->http == NULL) {
        free(x);
        fail_msg("http_start_limits failed");
    }
    extras[slot] = x;
    return x;
}

/* Stop the server, wait until its handles are closed, free it. */
static void
extra_stop(struct extra *x)
{
    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++)
        if (extras[i] == x)
            extras[i] = NULL;
    on_loop(S, job_extra_stop, x);
    for (int i = 0; i < 5000; i++) {
        on_loop(S, job_extra_stopped, x);
        if (x->job_stopped) {
            free(x);
            return;
        }
        sleep_ms(1);
    }
    fail_msg("http_stop: done never called");
}

static void
extras_stop(void)
{
    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++)
        if (extras[i] != NULL)
            extra_stop(extras[i]);
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connected TCP socket to 127.0.0.1:port (the kernel completes the
 * handshake from the listen backlog, accepted or not), or -1. */
static int
tcp_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* GET base+path, giving up after timeout_ms; *ms gets the time it took.
 * Returns curl's result. */
static CURLcode
timed_get(const char *base, const char *path, long timeout_ms, struct resp *r, int64_t *ms)
{
    char url[256];
    CURL *c = curl_easy_init();
    CURLcode rc;

    memset(r, 0, sizeof(*r));
    assert_non_null(c);
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    int64_t t = now_ms();
    rc = curl_easy_perform(c);
    *ms = now_ms() - t;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    return rc;
}

/* /healthz answers 200, within 2 s in the plain build. */
static void
assert_healthz(const char *base, const char *when)
{
    struct resp r;
    int64_t ms;
    CURLcode rc = timed_get(base, "/healthz", TIMED ? 5000 : 60000, &r, &ms);
    if (rc != CURLE_OK || r.status != 200 || (TIMED && ms >= 2000))
        print_error("/healthz %s: %s, status %ld, %lld ms\n", when, curl_easy_strerror(rc),
                    r.status, (long long)ms);
    assert_int_equal(rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    if (TIMED)
        assert_true(ms < 2000);
    resp_free(&r);
}

#define BURST 300 /* more connections than the server's 256 */

/* Issue 10 §3 bug 1: a burst of idle connections, held past the idle
 * timeout, then closed, left the server deaf for good: at its connection
 * limit libmicrohttpd took the listening socket out of its epoll set, and
 * the timeouts closed everything in a run that left it out, with no timer
 * left and nothing ready, so MHD_run was never called again. */
static void
test_idle_burst(void **state)
{
    (void)state;
    struct extra *x = extra_start(&(struct extra){.limits = {.idle_timeout = 1,
                                                             .header_timeout_ms = 60000}});
    int fds[BURST];

    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < BURST; i++)
            assert_true((fds[i] = tcp_connect(x->port)) >= 0);
        sleep_ms(2500); /* past the idle timeout: the server closes them */
        for (int i = 0; i < BURST; i++)
            close(fds[i]);
        assert_healthz(x->base, "after a burst of idle connections");
    }
    extra_stop(x);
}

/* An attacker's connections: each sends its request head a byte at a time
 * and, when the server closes it, connects again. */
struct slowloris {
    int port;
    int fds[BURST];
    size_t sent[BURST];
    int stop; /* under mu */
    unsigned long reconnects;
    pthread_t thread;
    pthread_mutex_t mu;
};

static const char slow_head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static void *
slowloris_main(void *arg)
{
    struct slowloris *a = arg;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int stop = a->stop;
        pthread_mutex_unlock(&a->mu);
        if (stop)
            break;
        for (int i = 0; i < BURST; i++) {
            char c = slow_head[a->sent[i] % (sizeof(slow_head) - 1)];
            if (a->fds[i] < 0 || send(a->fds[i], &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
                if (a->fds[i] >= 0)
                    close(a->fds[i]);
                a->fds[i] = tcp_connect(a->port);
                a->sent[i] = 0;
                a->reconnects++;
                continue;
            }
            a->sent[i]++;
        }
        sleep_ms(1000); /* one byte a second on each */
    }
    return NULL;
}

/* Issue 10 §3 bug 3: 300 connections sending a header byte a second held
 * every slot (each byte resets the idle timeout), and /healthz waited for
 * the whole attack. The oldest connection still sending its head now makes
 * room for a newcomer. */
static void
test_slowloris(void **state)
{
    (void)state;
    /* the daemon's defaults: 256 connections, 10 s per head */
    struct extra *x = extra_start(&(struct extra){0});
    struct slowloris a = {0};

    a.port = x->port;
    pthread_mutex_init(&a.mu, NULL);
    for (int i = 0; i < BURST; i++)
        assert_true((a.fds[i] = tcp_connect(x->port)) >= 0);
    assert_int_equal(pthread_create(&a.thread, NULL, slowloris_main, &a), 0);
    sleep_ms(1500); /* every slot taken, each connection a byte or two in */
    for (int i = 0; i < 3; i++) {
        assert_healthz(x->base, "during a slowloris attack");
        sleep_ms(300);
    }
    on_loop(S, job_extra_evictions, x);
    assert_true(x->evictions > 0); /* room was made for /healthz, not found */
    pthread_mutex_lock(&a.mu);
    a.stop = 1;
    pthread_mutex_unlock(&a.mu);
    pthread_join(a.thread, NULL);
    pthread_mutex_destroy(&a.mu);
    for (int i = 0; i < BURST; i++)
        if (a.fds[i] >= 0)
            close(a.fds[i]);
    assert_healthz(x->base, "after a slowloris attack");
    extra_stop(x);
}

/* A request (its head, and a body a GET should not have) has a deadline,
 * whatever the pace of its bytes; a quick client on a kept-alive
 * connection is not hurried. */
static void
test_header_deadline(void **state)
{
    (void)state;
    struct extra *x = extra_start(&(struct extra){.limits = {.header_timeout_ms = 500}});
    char buf[4096];

    /* a head a byte each 100 ms; a GET whose body comes a byte each 100 ms */
    static const char *const starts[] = {
        "", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"};
    for (size_t k = 0; k < 2; k++) {
        int fd = tcp_connect(x->port);
        assert_true(fd >= 0);
        ssize_t n0 = (ssize_t)strlen(starts[k]);
        assert_int_equal(send(fd, starts[k], (size_t)n0, MSG_NOSIGNAL), n0);
        int64_t t = now_ms(), closed = -1;
        for (size_t i = 0; now_ms() - t < 10000; i++) {
            char c = slow_head[i % (sizeof(slow_head) - 1)];
            if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
                closed = now_ms() - t;
                break;
            }
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 100) == 1 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0) {
                closed = now_ms() - t;
                break;
            }
        }
        close(fd);
        if (closed < 0 || (TIMED && closed > 1500))
            print_error("case %zu, a byte each 100 ms: closed after %lld ms\n", k,
                        (long long)closed);
        assert_true(closed >= 0);
        if (TIMED)
            assert_true(closed <= 1500);
    }
    /* two requests on one connection, the second after a pause shorter than the deadline */
    int fd = tcp_connect(x->port);
    assert_true(fd >= 0);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 2; i++) {
        assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 5000), 1);
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
        sleep_ms(200);
    }
    close(fd);
    extra_stop(x);
}

/* Making room never costs a client that sent its request at once: a burst
 * of complete requests against a table of 2 is served whole, newcomers
 * waiting in the backlog rather than evicting one another unserved. */
static void
test_burst_served(void **state)
{
    (void)state;
    struct extra *x = extra_start(&(struct extra){.limits = {.connections = 2}});
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fds[40];
    char buf[1024];

    for (int i = 0; i < 40; i++) {
        assert_true((fds[i] = tcp_connect(x->port)) >= 0);
        assert_int_equal(send(fds[i], req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    }
    int served = 0;
    for (int i = 0; i < 40; i++) {
        struct timeval tv = {.tv_sec = 10};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n = recv(fds[i], buf, sizeof(buf) - 1, MSG_WAITALL);
        served += n > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0;
        close(fds[i]);
    }
    if (served != 40)
        print_error("%d of 40 served\n", served);
    assert_int_equal(served, 40);
    extra_stop(x);
}

/* Issue 10 §3 bug 5: client mistakes are 400 (or 404) with the reason,
 * never 500. */
static void
test_client_errors(void **state)
{
    (void)state;
    struct resp r;
    static const struct {
        const char *path;
        long status;
        const char *reason;
    } cases[] = {
        {"/feed.atom?q=a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q", 400, "q: at most 16 words"},
        {"/feed.atom?q=%E5%A4%AE%E8%A1%8C%E3%80%80a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p", 400,
         "q: at most 16 words"},
        {"/feeds/sina.rss?q=a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q+r+s+t", 400, "q: at most 16 words"},
        {"/categories/Markets.json?q=1+2+3+4+5+6+7+8+9+10+11+12+13+14+15+16+17", 400,
         "q: at most 16 words"},
        {"/feed.atom?limit=abc", 400, "limit"},
        {"/feed.atom?limit=0", 400, "limit"},
        {"/feed.atom?limit=-5", 400, "limit"},
        {"/feed.atom?limit=1e3", 400, "limit"},
        {"/feed.atom?limit=%201", 400, "limit"},
        {"/feed.atom?q=%ZZ", 400, "percent"},
        {"/feed.atom?q=abc%", 400, "percent"},
        {"/feed.atom?q=%4", 400, "percent"},
        {"/feeds/sina%G1.atom", 400, "percent"},
        {"/feeds/a%00b.atom", 400, "NUL"},
        {"/feed.atom?q=a%00b", 400, "NUL"},
        {"/feed.xml", 404, "atom, rss or json"},
        {"/feeds/sina.xml", 404, "atom, rss or json"},
        {"/categories/Markets.html", 404, "atom, rss or json"},
        {"/feed.", 404, "atom, rss or json"},
        {"/feeds/nosuch.atom", 404, "no feed of that name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        get(cases[i].path, &r);
        if (r.status != cases[i].status || r.body == NULL || strstr(r.body, cases[i].reason) == NULL)
            print_error("%s: %ld %s\n", cases[i].path, r.status, r.body ? r.body : "");
        assert_int_equal(r.status, cases[i].status);
        assert_non_null(r.body);
        assert_non_null(strstr(r.body, cases[i].reason));
        resp_free(&r);
    }
    /* at the bounds: still answered */
    const char *fine[] = {
        "/feed.atom?q=a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p", "/feed.atom?q=+++a+++", "/feed.atom?q=",
        "/feed.atom?limit=", "/feed.atom?q=%E3%80%80", "/feed.atom?q=%FF%FE", "/feed.atom?q=100%25",
        "/feed.atom?limit=1000000", "/feed.atom?feed=nosuch",
    };
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        get(fine[i], &r);
        if (r.status != 200)
            print_error("%s: %ld %s\n", fine[i], r.status, r.body ? r.body : "");
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    /* one word of 3000 bytes, and a query string at the bound */
    char path[8192] = "/feed.atom?q=";
    memset(path + strlen(path), 'x', 3000);
    get(path, &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
    strcpy(path, "/feed.atom?q=");
    memset(path + strlen(path), 'y', 5000);
    path[5013] = '\0';
    get(path, &r);
    if (r.status != 400 && r.status != 414)
        print_error("a 5000-byte query: %ld\n", r.status);
    assert_true(r.status == 400 || r.status == 414);
    resp_free(&r);
}

/* Run `path` on server x with stderr going to a file; the log into out. */
static long
get_logged(struct extra *x, const char *path, char *out, size_t outsize)
{
    char file[128];
    struct resp r;
    int64_t ms;

    snprintf(file, sizeof(file), "%s/stderr.log", S->dir);
    fflush(stderr);
    int saved = dup(2), fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    assert_int_equal(timed_get(x->base, path, 10000, &r, &ms), CURLE_OK);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *fp = fopen(file, "r");
    assert_non_null(fp);
    size_t n = fread(out, 1, outsize - 1, fp);
    out[n] = '\0';
    fclose(fp);
    unlink(file);
    resp_free(&r);
    return r.status;
}

/* A 500 is the server's fault, and always logged with the route and error. */
static void
test_500_logged(void **state)
{
    (void)state;
    struct extra *x = extra_start(&(struct extra){.snapshot_fails = 1});
    char log[4096];

    long status = get_logged(x, "/feed.atom?limit=2", log, sizeof(log));
    if (status != 500 || strstr(log, "status=500") == NULL || strstr(log, "/feed.atom") == NULL)
        print_error("status %ld, log: %s\n", status, log);
    assert_int_equal(status, 500);
    assert_non_null(strstr(log, "status=500"));
    assert_non_null(strstr(log, "/feed.atom"));
    assert_non_null(strstr(log, "error="));
    extra_stop(x);
}

/* ---- renders off the loop ---- */

/* The render hook's gate (http_int.h, render_hook): renders wait in the
 * worker while it is closed, and fail as the store would while `fail`. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int closed;     /* renders wait in the hook */
    int fail;       /* renders fail with -EIO */
    int entered;    /* renders that reached the hook */
    int inside;     /* renders in the hook now */
    int max_inside; /* the most at once */
};

static struct gate G = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* A threadpool thread's. */
static int
on_render_hook(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered++;
    if (++g->inside > g->max_inside)
        g->max_inside = g->inside;
    pthread_cond_broadcast(&g->cv);
    while (g->closed)
        pthread_cond_wait(&g->cv, &g->mu);
    int rc = g->fail ? -EIO : 0;
    g->inside--;
    pthread_mutex_unlock(&g->mu);
    return rc;
}

static void
gate_set(int closed, int fail)
{
    pthread_mutex_lock(&G.mu);
    G.closed = closed;
    G.fail = fail;
    pthread_cond_broadcast(&G.cv);
    pthread_mutex_unlock(&G.mu);
}

static int
gate_entered(void)
{
    pthread_mutex_lock(&G.mu);
    int n = G.entered;
    pthread_mutex_unlock(&G.mu);
    return n;
}

/* Wait (30 s at most) until n renders have reached the hook. */
static void
gate_wait_entered(int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&G.mu);
    while (G.entered < n && pthread_cond_timedwait(&G.cv, &G.mu, &until) == 0)
        ;
    int got = G.entered;
    pthread_mutex_unlock(&G.mu);
    if (got < n)
        fail_msg("%d renders reached the hook, not %d", got, n);
}

static void
job_hook(struct server *s, void *arg)
{
    struct http *h = arg;
    (void)s;
    h->render_hook = on_render_hook;
    h->render_hook_arg = &G;
}

/* What the loop sees of server h. */
struct work_counts {
    struct http *h;
    unsigned long renders, coalesced;
    unsigned suspended;
    int running, queued;
};

static void
job_work_counts(struct server *s, void *arg)
{
    struct work_counts *w = arg;
    (void)s;
    w->renders = w->h->renders;
    w->coalesced = w->h->coalesced;
    w->suspended = w->h->nsuspended;
    w->running = w->h->running != NULL;
    w->queued = w->h->queue_head != NULL;
}

static struct work_counts
work_counts(struct http *h)
{
    struct work_counts w = {.h = h};
    on_loop(S, job_work_counts, &w);
    return w;
}

/* Wait (30 s at most) until `suspended` connections of h wait on renders. */
static void
wait_suspended(struct http *h, unsigned suspended)
{
    for (int i = 0; i < 3000; i++) {
        if (work_counts(h).suspended >= suspended)
            return;
        sleep_ms(10);
    }
    fail_msg("never %u connections suspended", suspended);
}

/* A GET on a thread of its own. */
struct getter {
    pthread_t thread;
    const char *base;
    char path[128];
    struct resp r;
    CURLcode rc;
    int64_t ms;
};

static void *
getter_main(void *arg)
{
    struct getter *g = arg;
    g->rc = timed_get(g->base, g->path, 60000, &g->r, &g->ms);
    return NULL;
}

static void
getter_start(struct getter *g, const char *base, const char *path)
{
    memset(g, 0, sizeof(*g));
    g->base = base;
    snprintf(g->path, sizeof(g->path), "%s", path);
    assert_int_equal(pthread_create(&g->thread, NULL, getter_main, g), 0);
}

static void
getter_join(struct getter *g)
{
    assert_int_equal(pthread_join(g->thread, NULL), 0);
}

static void
bump_generation(void)
{
    __atomic_add_fetch(&S->svc.generation, 1, __ATOMIC_SEQ_CST);
}

/* SPEC §10: a slow store read holds its own request only: /healthz, the
 * status page and cached documents answer meanwhile. */
static void
test_slow_render(void **state)
{
    (void)state;
    struct getter g;
    struct resp r;
    int64_t ms;

    get("/feed.rss?limit=2", &r); /* cached before the store turns slow */
    assert_int_equal(r.status, 200);
    resp_free(&r);
    on_loop(S, job_hook, S->http);
    int entered = gate_entered();
    gate_set(1, 0);
    getter_start(&g, S->base, "/feed.atom?q=slow");
    gate_wait_entered(entered + 1);
    assert_healthz(S->base, "while a render is held");
    const char *paths[] = {"/", "/metrics", "/feed.rss?limit=2", "/opml"};
    for (size_t i = 0; i < 4; i++) {
        CURLcode rc = timed_get(S->base, paths[i], TIMED ? 5000 : 60000, &r, &ms);
        if (rc != CURLE_OK || r.status != 200 || (TIMED && ms >= 2000))
            print_error("%s while a render is held: %s, %ld, %lld ms\n", paths[i],
                        curl_easy_strerror(rc), r.status, (long long)ms);
        assert_int_equal(rc, CURLE_OK);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    assert_int_equal(work_counts(S->http).suspended, 1);
    gate_set(0, 0);
    getter_join(&g);
    assert_int_equal(g.rc, CURLE_OK);
    assert_int_equal(g.r.status, 200);
    assert_non_null(strstr(g.r.body, "<feed"));
    resp_free(&g.r);
    assert_int_equal(work_counts(S->http).suspended, 0);
}

#define WAITERS 6

/* Requests for one document while it renders wait on that one render;
 * another document's render waits its turn (one at a time on the reader
 * connection). */
static void
test_coalesce(void **state)
{
    (void)state;
    struct getter g[WAITERS], other;

    on_loop(S, job_hook, S->http);
    struct work_counts before = work_counts(S->http);
    int entered = gate_entered();
    pthread_mutex_lock(&G.mu);
    G.max_inside = 0;
    pthread_mutex_unlock(&G.mu);
    gate_set(1, 0);
    getter_start(&g[0], S->base, "/feed.json?q=central");
    gate_wait_entered(entered + 1);
    for (int i = 1; i < WAITERS; i++)
        getter_start(&g[i], S->base, "/feed.json?q=central");
    getter_start(&other, S->base, "/articles/1.md");
    wait_suspended(S->http, WAITERS + 1);
    struct work_counts held = work_counts(S->http);
    assert_int_equal(held.renders, before.renders + 1); /* the article's is queued */
    assert_int_equal(held.coalesced, before.coalesced + WAITERS - 1);
    assert_true(held.running && held.queued);
    sleep_ms(100);
    assert_int_equal(gate_entered(), entered + 1);
    gate_set(0, 0);
    for (int i = 0; i < WAITERS; i++) {
        getter_join(&g[i]);
        assert_int_equal(g[i].rc, CURLE_OK);
        assert_int_equal(g[i].r.status, 200);
        assert_int_equal(g[i].r.len, g[0].r.len);
        assert_memory_equal(g[i].r.body, g[0].r.body, g[0].r.len);
    }
    getter_join(&other);
    assert_int_equal(other.rc, CURLE_OK);
    assert_int_equal(other.r.status, 200);
    assert_non_null(strstr(other.r.body, "title: '"));
    struct work_counts after = work_counts(S->http);
    assert_int_equal(after.renders, before.renders + 2);
    assert_int_equal(after.suspended, 0);
    pthread_mutex_lock(&G.mu);
    assert_int_equal(G.max_inside, 1);
    pthread_mutex_unlock(&G.mu);
    for (int i = 0; i < WAITERS; i++)
        resp_free(&g[i].r);
    resp_free(&other.r);
}

/* SPEC §10: while the store fails, the last rendering is served (its
 * validators too); 503 only for a document never rendered. */
static void
test_stale_if_error(void **state)
{
    (void)state;
    struct resp r, r2;
    char etag[64], h1[96];

    on_loop(S, job_hook, S->http);
    gate_set(0, 0);
    get("/feeds/sina.json?limit=1", &r);
    assert_int_equal(r.status, 200);
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));

    bump_generation(); /* stale now */
    gate_set(0, 1);    /* and the store fails */
    unsigned long before = work_counts(S->http).renders;
    get("/feeds/sina.json?limit=1", &r2);
    assert_int_equal(r2.status, 200);
    assert_string_equal(hdr(&r2, "ETag"), etag);
    assert_int_equal(r2.len, r.len);
    resp_free(&r2);
    assert_int_equal(work_counts(S->http).renders, before + 1);
    /* right after a failure: served without asking the store, 304 too */
    snprintf(h1, sizeof(h1), "If-None-Match: %s", etag);
    const char *hs[] = {h1, NULL};
    request("GET", "/feeds/sina.json?limit=1", hs, &r2);
    assert_int_equal(r2.status, 304);
    resp_free(&r2);
    assert_int_equal(work_counts(S->http).renders, before + 1);
    /* nothing to serve: 503 */
    get("/feeds/wsj.json?q=never", &r2);
    assert_int_equal(r2.status, 503);
    resp_free(&r2);
    /* the store back: rendered again (same bytes, same ETag) */
    gate_set(0, 0);
    sleep_ms(HTTP_RETRY_MS + 200);
    get("/feeds/sina.json?limit=1", &r2);
    assert_int_equal(r2.status, 200);
    assert_string_equal(hdr(&r2, "ETag"), etag);
    resp_free(&r2);
    assert_int_equal(work_counts(S->http).renders, before + 3);
    get("/feeds/sina.json?limit=1", &r2); /* fresh: cached */
    resp_free(&r2);
    assert_int_equal(work_counts(S->http).renders, before + 3);
    resp_free(&r);
}

/* Stopping the server while a render runs and another waits: the waiting
 * requests are answered (503) or dropped, never left hanging; `done` waits
 * for the render in flight, whose end then frees the server (ASan: no use
 * after free, no leak). */
static void
test_stop_mid_render(void **state)
{
    (void)state;
    struct extra *x = extra_start(&(struct extra){0});
    struct getter a, b;

    on_loop(S, job_hook, x->http);
    int entered = gate_entered();
    gate_set(1, 0);
    getter_start(&a, x->base, "/feed.atom?q=stop");
    gate_wait_entered(entered + 1);
    getter_start(&b, x->base, "/categories/Markets.rss?q=queued");
    wait_suspended(x->http, 2);

    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++)
        if (extras[i] == x)
            extras[i] = NULL;
    on_loop(S, job_extra_stop, x);
    getter_join(&a);
    getter_join(&b);
    assert_true(a.rc != CURLE_OK || a.r.status == 503);
    assert_true(b.rc != CURLE_OK || b.r.status == 503);
    resp_free(&a.r);
    resp_free(&b.r);
    sleep_ms(200);
    on_loop(S, job_extra_stopped, x);
    assert_int_equal(x->job_stopped, 0); /* the render still runs */
    gate_set(0, 0);
    for (int i = 0; i < 5000 && !x->job_stopped; i++) {
        sleep_ms(1);
        on_loop(S, job_extra_stopped, x);
    }
    assert_int_equal(x->job_stopped, 1);
    assert_int_equal(gate_entered(), entered + 1); /* the queued one never ran */
    free(x);
    /* the main server is unaffected */
    struct resp r;
    get("/feed.atom?q=stop", &r);
    assert_int_equal(r.status, 200);
    resp_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feeds),
        cmocka_unit_test(test_article_opml),
        cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_gzip_head),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_healthz_metrics),
        cmocka_unit_test(test_status_page),
        cmocka_unit_test(test_instrument_routes),
        cmocka_unit_test(test_cache),           cmocka_unit_test(test_listen),
        cmocka_unit_test(test_tokens),          cmocka_unit_test(test_hub),
        cmocka_unit_test(test_client_errors),   cmocka_unit_test(test_500_logged),
        cmocka_unit_test(test_header_deadline), cmocka_unit_test(test_idle_burst),
        cmocka_unit_test(test_slowloris),       cmocka_unit_test(test_burst_served),
        cmocka_unit_test(test_slow_render),     cmocka_unit_test(test_coalesce),
        cmocka_unit_test(test_stale_if_error),  cmocka_unit_test(test_stop_mid_render),
    };
    if (getenv("TEST_FILTER") != NULL) /* e.g. TEST_FILTER=test_listen */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    if (rc == 0 && checks_skipped)
        rc = getenv("FINFEED_REQUIRE_ALL") != NULL ? 1 : 77;
    return rc;
}
