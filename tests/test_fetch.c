/* tests/test_fetch.c — fetch/: the engine against a loopback server playing
 * publishers (tests/fetch_server.py): conditional GET with verbatim
 * validators, gzip, redirects and permanent URLs, statuses, Retry-After,
 * max-age, timeouts, size limits and a gzip bomb, the private-address guard,
 * file://, the concurrency and per_host queues, cancellation and close. */
/* cmocka.h needs these included before it */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <uv.h>

#include "fetch/fetch.h"

#define SERVER FIXTURES "/../fetch_server.py"
#define FEED                                                                                       \
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>\n"
#define MAX_REQ 32

extern char **environ;

static pid_t server_pid = -1;
static int server_stdin = -1;
static int port1, port2; /* 127.0.0.1 (private) and 127.0.0.2 (plays public) */
static int take_bodies;  /* on_done takes the body with fetch_take_body */

/* ---- the server ---- */

static int
server_start(void **state)
{
    int in[2], out[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {"python3", SERVER, NULL};
    char line[64];
    FILE *fp;

    (void)state;
    /* nothing here may go through a proxy of the environment */
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    if (posix_spawn(&server_pid, "/usr/bin/python3", &fa, NULL, argv, environ) != 0)
        return -1;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    server_stdin = in[1];
    fp = fdopen(out[0], "r");
    if (fp == NULL || fgets(line, sizeof(line), fp) == NULL ||
        sscanf(line, "%d %d", &port1, &port2) != 2)
        return -1;
    fclose(fp);
    return 0;
}

static int
server_stop(void **state)
{
    int status;

    (void)state;
    if (server_stdin >= 0)
        close(server_stdin); /* the server exits at EOF */
    if (server_pid > 0 && waitpid(server_pid, &status, 0) < 0)
        kill(server_pid, SIGKILL);
    curl_global_cleanup();
    return 0;
}

/* ---- running requests on a fresh loop ---- */

struct got {
    int fired;
    int seq; /* completion order */
    int error;
    char errmsg[256];
    long http;
    char *body;
    size_t len;
    char *content_type, *charset, *etag, *last_modified, *permanent_url, *effective_url;
    long retry_after, max_age;
    double seconds;
};

struct run;

struct slot {
    struct run *run;
    struct got *g;
};

struct run {
    uv_loop_t loop;
    uv_timer_t watchdog;
    struct fetch *f;
    int expect, fired, closed, expired;
    struct slot slots[MAX_REQ];
    /* test_start_from_cb: requests started from a callback */
    int chain;
    struct fetch_request next;
    struct got *chain_got;
    /* test_close_in_flight */
    uv_timer_t closer;
    int start_in_cancel;
};

static char *
dup0(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

static void
got_free(struct got *g)
{
    free(g->body);
    free(g->content_type);
    free(g->charset);
    free(g->etag);
    free(g->last_modified);
    free(g->permanent_url);
    free(g->effective_url);
    memset(g, 0, sizeof(*g));
}

static void
on_closed(void *arg)
{
    struct run *r = arg;

    r->closed = 1;
    uv_close((uv_handle_t *)&r->watchdog, NULL);
}

static void
on_done(void *arg, const struct fetch_result *res)
{
    struct slot *s = arg;
    struct run *r = s->run;
    struct got *g = s->g;

    g->fired++;
    g->seq = r->fired++;
    g->error = res->error;
    snprintf(g->errmsg, sizeof(g->errmsg), "%s", res->errmsg);
    g->http = res->http;
    if (take_bodies && res->body != NULL) {
        size_t len = res->len;
        g->body = fetch_take_body(res);
        assert_non_null(g->body);
        assert_null(res->body);
        assert_int_equal(res->len, len);
        assert_int_equal(g->body[len], '\0');
        assert_null(fetch_take_body(res)); /* once */
    } else if (res->body != NULL) {
        g->body = malloc(res->len + 1);
        memcpy(g->body, res->body, res->len);
        g->body[res->len] = '\0';
        assert_int_equal(res->body[res->len], '\0');
    }
    g->len = res->len;
    g->content_type = dup0(res->content_type);
    g->charset = dup0(res->charset);
    g->etag = dup0(res->etag);
    g->last_modified = dup0(res->last_modified);
    g->permanent_url = dup0(res->permanent_url);
    g->effective_url = dup0(res->effective_url);
    g->retry_after = res->retry_after;
    g->max_age = res->max_age;
    g->seconds = res->seconds;
    if (res->error == -ECANCELED && r->start_in_cancel) {
        struct fetch_request q = {.url = "http://127.0.0.1:1/"};
        assert_int_equal(fetch_start(r->f, &q, on_done, s), -ECANCELED);
    }
    if (r->chain > 0 && res->error != -ECANCELED) {
        /* a callback may start the next fetch */
        r->chain--;
        s->g = r->chain_got++;
        r->expect++;
        assert_int_equal(fetch_start(r->f, &r->next, on_done, s), 0);
    }
    if (r->fired == r->expect && !r->closed && res->error != -ECANCELED)
        fetch_close(r->f, on_closed, r); /* from inside a callback, on purpose */
}

static void
on_watchdog(uv_timer_t *t)
{
    struct run *r = t->data;

    r->expired = 1;
    fetch_close(r->f, on_closed, r);
}

/* Start n requests on a fresh loop and engine, run until every callback
 * fired and the engine closed; the loop must close cleanly. */
static void
run_requests(long concurrency, long per_host, const struct fetch_request *req, struct got *g, int n)
{
    struct run *r = calloc(1, sizeof(*r));
    size_t active = 99, queued = 99;

    assert_non_null(r);
    assert_true(n <= MAX_REQ);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(fetch_new(&r->loop, concurrency, per_host, &r->f), 0);
    r->expect = n;
    for (int i = 0; i < n; i++) {
        r->slots[i].run = r;
        r->slots[i].g = &g[i];
        assert_int_equal(fetch_start(r->f, &req[i], on_done, &r->slots[i]), 0);
    }
    assert_int_equal(r->fired, 0); /* never from inside fetch_start */
    fetch_counts(r->f, &active, &queued);
    assert_int_equal(active, 0);
    assert_int_equal(queued, n);
    assert_int_equal(uv_timer_init(&r->loop, &r->watchdog), 0);
    r->watchdog.data = r;
    assert_int_equal(uv_timer_start(&r->watchdog, on_watchdog, 15000, 0), 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_false(r->expired);
    assert_true(r->closed);
    assert_int_equal(r->fired, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(g[i].fired, 1);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    free(r);
}

static void
fetch1(const struct fetch_request *req, struct got *g)
{
    memset(g, 0, sizeof(*g));
    run_requests(4, 2, req, g, 1);
}

static char *
url(char *buf, size_t size, int port, const char *path)
{
    snprintf(buf, size, "http://127.0.0.%d:%d%s", port == port1 ? 1 : 2, port, path);
    return buf;
}

#define U1(path) url((char[512]){0}, 512, port1, path)

/* ---- tests ---- */

static void
test_addr_rule(void **state)
{
    static const struct {
        const char *ip;
        int want;
    } cases[] = {
        {"127.0.0.1", 1},
        {"127.255.255.254", 1},
        {"10.1.2.3", 1},
        {"172.16.0.1", 1},
        {"172.31.255.255", 1},
        {"172.32.0.1", 0},
        {"172.15.255.255", 0},
        {"192.168.1.1", 1},
        {"192.169.0.1", 0},
        {"100.64.0.1", 1},
        {"100.127.255.255", 1},
        {"100.128.0.1", 0},
        {"100.63.255.255", 0},
        {"169.254.169.254", 1},
        {"0.0.0.0", 1},
        {"8.8.8.8", 0},
        {"93.184.216.34", 0},
        {"::1", 1},
        {"::", 1},
        {"fc00::1", 1},
        {"fd12:3456::1", 1},
        {"fe80::1", 1},
        {"fe80::1%eth0", 1},
        {"febf::1", 1},
        {"2001:db8::1", 0},
        {"2606:4700::1111", 0},
        {"::ffff:127.0.0.1", 1},
        {"::ffff:10.0.0.1", 1},
        {"::ffff:8.8.8.8", 0},
        {"64:ff9b::a00:1", 1},
        {"64:ff9b::808:808", 0},
        {"", -EINVAL},
        {"localhost", -EINVAL},
        {"1.2.3", -EINVAL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = fetch_addr_is_private(cases[i].ip);
        if (got != cases[i].want)
            fail_msg("%s: got %d, want %d", cases[i].ip, got, cases[i].want);
    }
    assert_int_equal(fetch_addr_is_private(NULL), -EINVAL);
}

static void
test_bad_args(void **state)
{
    uv_loop_t loop;
    struct fetch *f = NULL;
    struct fetch_request req = {0};
    struct got g;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(fetch_new(&loop, 0, 1, &f), -EINVAL);
    assert_null(f);
    assert_int_equal(fetch_new(&loop, 1, 0, &f), -EINVAL);
    assert_int_equal(fetch_new(&loop, 1, 1, &f), 0);
    assert_int_equal(fetch_start(f, &req, on_done, NULL), -EINVAL);
    req.url = "http://[::1";
    assert_int_equal(fetch_start(f, &req, on_done, NULL), -EINVAL);
    req.url = U1("/feed");
    req.etag = "\"a\"\r\nX-Evil: 1";
    assert_int_equal(fetch_start(f, &req, on_done, NULL), -EINVAL);
    req.etag = NULL;
    req.user_agent = "ua\n";
    assert_int_equal(fetch_start(f, &req, on_done, NULL), -EINVAL);
    assert_int_equal(fetch_set_limits(f, 0, 1), -EINVAL);
    assert_int_equal(fetch_set_limits(f, 3, 1), 0);
    /* an engine closed with nothing to do */
    fetch_close(f, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* an unknown scheme parses, then fails through the callback */
    req = (struct fetch_request){.url = "gopherx://example.test/feed"};
    fetch1(&req, &g);
    assert_int_equal(g.error, -EPROTONOSUPPORT);
    got_free(&g);
}

static void
test_200_and_304(void **state)
{
    struct fetch_request req = {.url = U1("/feed")};
    struct got g;

    (void)state;
    fetch1(&req, &g);
    assert_int_equal(g.error, 0);
    assert_string_equal(g.errmsg, "");
    assert_int_equal(g.http, 200);
    assert_int_equal(g.len, strlen(FEED));
    assert_string_equal(g.body, FEED);
    assert_string_equal(g.etag, "\"v1\"");
    assert_string_equal(g.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_string_equal(g.content_type, "application/rss+xml; charset=\"UTF-8\"");
    assert_string_equal(g.charset, "UTF-8");
    assert_null(g.permanent_url);
    assert_string_equal(g.effective_url, req.url);
    assert_int_equal(g.retry_after, -1);
    assert_int_equal(g.max_age, -1);
    assert_true(g.seconds > 0 && g.seconds < 5);

    /* the validators back, as given: 304, no body */
    req.etag = "\"v1\"";
    req.last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
    got_free(&g);
    fetch1(&req, &g);
    assert_int_equal(g.error, 0);
    assert_int_equal(g.http, 304);
    assert_null(g.body);
    assert_int_equal(g.len, 0);
    assert_string_equal(g.etag, "\"v1\"");

    /* Last-Modified alone */
    req.etag = NULL;
    got_free(&g);
    fetch1(&req, &g);
    assert_int_equal(g.http, 304);

    /* a changed ETag (quotes matter): the full document again */
    req.etag = "v1";
    got_free(&g);
    fetch1(&req, &g);
    assert_int_equal(g.http, 200);
    assert_string_equal(g.body, FEED);
    got_free(&g);
}

static void
test_validators_verbatim(void **state)
{
    struct fetch_request req = {
        .url = U1("/echo"),
        .etag = "W/\"x y\"",
        .last_modified = "Wed, 21 Oct 2015 07:28:00 GMT",
        .user_agent = "finfeed/test (ops@example.com)",
    };
    struct got g;
    char want[512];

    (void)state;
    fetch1(&req, &g);
    assert_int_equal(g.error, 0);
    snprintf(want, sizeof(want), "INM=%s\nIMS=%s\nUA=%s\n", req.etag, req.last_modified,
             req.user_agent);
    assert_memory_equal(g.body, want, strlen(want)); /* byte for byte, quotes included */
    assert_non_null(strstr(g.body, "AE="));          /* Accept-Encoding offered */
    assert_non_null(strstr(g.body, "gzip"));
    got_free(&g);

    /* default User-Agent, no validators sent */
    req = (struct fetch_request){.url = U1("/echo")};
    fetch1(&req, &g);
    assert_non_null(strstr(g.body, "INM=None\nIMS=None\nUA=finfeed/"));
    got_free(&g);

    /* a weak ETag comes back as W/"x" and earns its 304 */
    req = (struct fetch_request){.url = U1("/weak")};
    fetch1(&req, &g);
    assert_int_equal(g.http, 200);
    assert_string_equal(g.etag, "W/\"x\"");
    req.etag = "W/\"x\"";
    got_free(&g);
    fetch1(&req, &g);
    assert_int_equal(g.error, 0);
    assert_int_equal(g.http, 304);
    got_free(&g);
}

static void
test_gzip(void **state)
{
    struct fetch_request req = {.url = U1("/gzip")};
    struct got g;

    (void)state;
    take_bodies = 1;
    fetch1(&req, &g);
    take_bodies = 0;
    assert_int_equal(g.error, 0);
    assert_int_equal(g.len, strlen(FEED));
    assert_string_equal(g.body, FEED);
    assert_string_equal(g.content_type, "text/xml");
    assert_null(g.charset);
    got_free(&g);
}

static void
test_redirects(void **state)
{
    static const struct {
        const char *path;
        int error;
        const char *permanent; /* path of permanent_url, or NULL */
    } cases[] = {
        {"/redir?code=301&to=/feed", 0, "/feed"},
        {"/redir?code=308&to=/feed", 0, "/feed"},
        {"/redir?code=302&to=/feed", 0, NULL},
        {"/redir?code=307&to=/feed", 0, NULL},
        {"/redir?code=303&to=/feed", 0, NULL},
        /* 301 then 302: the feed did not move for good */
        {"/redir?code=301&to=/redir%3Fcode%3D302%26to%3D/feed", 0, NULL},
        /* 302 then 301 neither */
        {"/redir?code=302&to=/redir%3Fcode%3D301%26to%3D/feed", 0, NULL},
        {"/chain/2?code=301", 0, "/chain/0?code=301"},
        {"/chain/5?code=308", 0, "/chain/0?code=308"},
        {"/chain/6?code=301", -ELOOP, NULL},
        {"/chain/6?code=302", -ELOOP, NULL},
        /* a permanent move onto an error is not taken */
        {"/redir?code=301&to=/status/500", -EREMOTEIO, NULL},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    struct fetch_request req[MAX_REQ];
    struct got g[MAX_REQ];
    char urls[MAX_REQ][256], want[256];

    (void)state;
    memset(req, 0, sizeof(req));
    memset(g, 0, sizeof(g));
    for (size_t i = 0; i < n; i++) {
        req[i].url = url(urls[i], sizeof(urls[i]), port1, cases[i].path);
        req[i].etag = "\"v1\""; /* validators are sent on every hop */
    }
    run_requests(8, 8, req, g, (int)n);
    for (size_t i = 0; i < n; i++) {
        if (g[i].error != cases[i].error)
            fail_msg("%s: error %d (%s), want %d", cases[i].path, g[i].error, g[i].errmsg,
                     cases[i].error);
        if (cases[i].permanent == NULL) {
            if (g[i].permanent_url != NULL)
                fail_msg("%s: permanent_url %s", cases[i].path, g[i].permanent_url);
        } else {
            url(want, sizeof(want), port1, cases[i].permanent);
            if (g[i].permanent_url == NULL || strcmp(g[i].permanent_url, want) != 0)
                fail_msg("%s: permanent_url %s, want %s", cases[i].path,
                         g[i].permanent_url ? g[i].permanent_url : "(null)", want);
        }
        got_free(&g[i]);
    }
    /* 304 at the end of a permanent redirect still moves the feed */
    req[0] = (struct fetch_request){.url = U1("/redir?code=301&to=/feed"), .etag = "\"v1\""};
    fetch1(&req[0], &g[0]);
    assert_int_equal(g[0].http, 304);
    assert_string_equal(g[0].permanent_url, U1("/feed"));
    assert_string_equal(g[0].effective_url, U1("/feed"));
    got_free(&g[0]);
    /* too many redirects: the message says so */
    req[0] = (struct fetch_request){.url = U1("/chain/6")};
    fetch1(&req[0], &g[0]);
    assert_int_equal(g[0].error, -ELOOP);
    assert_non_null(strstr(g[0].errmsg, "redirect"));
    got_free(&g[0]);
}

static void
test_statuses(void **state)
{
    struct fetch_request req[6] = {
        {.url = U1("/status/410")}, {.url = U1("/status/500")}, {.url = U1("/status/429")},
        {.url = U1("/status/503")}, {.url = U1("/maxage")},     {.url = U1("/nothing-here")},
    };
    struct got g[6];

    (void)state;
    memset(g, 0, sizeof(g));
    run_requests(8, 8, req, g, 6);
    assert_int_equal(g[0].error, -EREMOTEIO);
    assert_int_equal(g[0].http, 410);
    assert_string_equal(g[0].errmsg, "HTTP 410");
    assert_int_equal(g[1].error, -EREMOTEIO);
    assert_int_equal(g[1].http, 500);
    assert_string_equal(g[1].errmsg, "HTTP 500");
    assert_string_equal(g[1].body, "error page\n"); /* the page, for the log */
    assert_int_equal(g[2].http, 429);
    assert_int_equal(g[2].retry_after, 120);
    assert_int_equal(g[3].http, 503);
    /* HTTP-date an hour ahead, whole seconds: the server formats Python's
     * time.time() + 3600; the engine subtracts time(NULL), glibc's coarse
     * clock, which may still show the second before (seen under TSan) */
    assert_in_range(g[3].retry_after, 3590, 3602);
    assert_int_equal(g[4].error, 0);
    assert_int_equal(g[4].max_age, 600);
    assert_int_equal(g[4].retry_after, -1);
    assert_int_equal(g[5].http, 404);
    for (int i = 0; i < 6; i++)
        got_free(&g[i]);
}

static void
test_timeout_and_refused(void **state)
{
    uv_os_sock_t s;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    char refused[64];
    struct fetch_request req[2] = {{.url = U1("/silent?s=5"), .timeout_s = 1}};
    struct got g[2];

    (void)state;
    /* a port nobody listens on: bind, learn, close */
    s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    close(s);
    snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/feed", ntohs(sa.sin_port));
    req[1].url = refused;
    memset(g, 0, sizeof(g));
    run_requests(4, 4, req, g, 2);
    assert_int_equal(g[0].error, -ETIMEDOUT);
    assert_int_equal(g[0].http, 0);
    assert_true(g[0].seconds >= 0.9 && g[0].seconds < 2.0); /* within timeout + 1 s */
    assert_non_null(strstr(g[0].errmsg, "imed out"));
    assert_int_equal(g[1].error, -ECONNREFUSED);
    assert_true(g[1].errmsg[0] != '\0');
    got_free(&g[0]);
    got_free(&g[1]);
}

static void
test_too_large(void **state)
{
    struct fetch_request req[4] = {
        {.url = U1("/big?n=2000000"), .max_size = 1000000},           /* by Content-Length */
        {.url = U1("/big?n=2000000&chunked=1"), .max_size = 1000000}, /* counted */
        {.url = U1("/big?n=1000000&chunked=1"), .max_size = 1000000}, /* exactly the limit */
        {.url = U1("/big?n=1000001"), .max_size = 1000000},
    };
    struct got g[4];

    (void)state;
    memset(g, 0, sizeof(g));
    run_requests(4, 4, req, g, 4);
    assert_int_equal(g[0].error, -EFBIG);
    assert_non_null(strstr(g[0].errmsg, "too large"));
    assert_int_equal(g[1].error, -EFBIG);
    assert_non_null(strstr(g[1].errmsg, "too large"));
    assert_true(g[1].len <= 1000000);
    assert_int_equal(g[2].error, 0);
    assert_int_equal(g[2].len, 1000000);
    assert_int_equal(g[3].error, -EFBIG);
    for (int i = 0; i < 4; i++)
        got_free(&g[i]);
}

static void
test_gzip_bomb(void **state)
{
    /* 10 MB of zeros in ~10 KB of gzip; the limit is on what it inflates to */
    struct fetch_request req = {.url = U1("/bomb"), .max_size = 1024 * 1024};
    struct got g;

    (void)state;
    fetch1(&req, &g);
    assert_int_equal(g.error, -EFBIG);
    assert_non_null(strstr(g.errmsg, "too large"));
    assert_true(g.len <= 1024 * 1024); /* stopped at the limit, never 10 MB held */
    assert_true(g.len > 512 * 1024);
    assert_true(g.seconds < 2.0);
    got_free(&g);
}

static void
test_guard(void **state)
{
    char resolve[64], u[6][256], priv[128];
    struct fetch_request req[6];
    struct got g[6];

    (void)state;
    /* public.test is 127.0.0.2, which the test hook makes public */
    snprintf(resolve, sizeof(resolve), "public.test:%d:127.0.0.2", port2);
    snprintf(priv, sizeof(priv), "http://127.0.0.1:%d/feed", port1);
    snprintf(u[0], sizeof(u[0]), "http://public.test:%d/redir?code=302&to=%s", port2, priv);
    snprintf(u[1], sizeof(u[1]), "http://public.test:%d/redir?code=301&to=%s", port2, priv);
    snprintf(u[2], sizeof(u[2]), "http://public.test:%d/redir?code=302&to=/feed", port2);
    /* a user's own server on loopback: allowed, and so are its redirects */
    snprintf(u[3], sizeof(u[3]), "http://127.0.0.1:%d/feed", port1);
    snprintf(u[4], sizeof(u[4]), "http://127.0.0.1:%d/redir?code=302&to=%s", port1, priv);
    /* without the hook 127.0.0.2 is what it is: private from the start */
    snprintf(u[5], sizeof(u[5]), "http://public.test:%d/redir?code=302&to=%s", port2, priv);
    memset(req, 0, sizeof(req));
    memset(g, 0, sizeof(g));
    for (int i = 0; i < 6; i++) {
        req[i].url = u[i];
        req[i].resolve = resolve;
        req[i].test_public_addr = i < 5 ? "127.0.0.2" : NULL;
    }
    run_requests(8, 8, req, g, 6);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(g[i].error, -EACCES);
        assert_string_equal(g[i].errmsg, "redirect to a private address (127.0.0.1)");
        assert_null(g[i].body);
        assert_null(g[i].permanent_url);
    }
    for (int i = 2; i < 6; i++) {
        if (g[i].error != 0 || g[i].http != 200)
            fail_msg("%s: %d %s", u[i], g[i].error, g[i].errmsg);
        assert_string_equal(g[i].body, FEED);
    }
    for (int i = 0; i < 6; i++)
        got_free(&g[i]);

    /* one at a time, so the second hops reuse cached connections: the
     * address of a reused connection is checked too */
    req[0].url = u[3];
    req[1].url = u[0];
    req[2].url = u[2];
    req[3].url = u[0];
    run_requests(1, 1, req, g, 4);
    assert_int_equal(g[0].error, 0);
    assert_int_equal(g[1].error, -EACCES);
    assert_int_equal(g[2].error, 0);
    assert_int_equal(g[3].error, -EACCES);
    for (int i = 0; i < 4; i++)
        got_free(&g[i]);
}

static void
test_file(void **state)
{
    char path[] = "/tmp/test_fetch_XXXXXX";
    char u[5][256];
    struct fetch_request req[5];
    struct got g[5];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, FEED, strlen(FEED)), (ssize_t)strlen(FEED));
    close(fd);
    snprintf(u[0], sizeof(u[0]), "file://%s", path);
    snprintf(u[1], sizeof(u[1]), "file://%s", path);
    snprintf(u[2], sizeof(u[2]), "file://%s.missing", path);
    snprintf(u[3], sizeof(u[3]), "http://127.0.0.1:%d/redir?code=302&to=file:///etc/passwd", port1);
    snprintf(u[4], sizeof(u[4]), "file://%s.fifo", path);
    assert_int_equal(mkfifo(u[4] + 7, 0600), 0); /* nobody writes: open() would block */
    memset(req, 0, sizeof(req));
    memset(g, 0, sizeof(g));
    for (int i = 0; i < 5; i++) {
        req[i].url = u[i];
        req[i].allow_file = i != 1;
    }
    run_requests(4, 4, req, g, 5);
    unlink(path);
    unlink(u[4] + 7);
    assert_int_equal(g[4].error, -EINVAL);
    assert_non_null(strstr(g[4].errmsg, "not a regular file"));
    assert_int_equal(g[0].error, 0);
    assert_int_equal(g[0].http, 0);
    assert_string_equal(g[0].body, FEED);
    assert_int_equal(g[1].error, -EPROTONOSUPPORT); /* allow_file off */
    assert_null(g[1].body);
    assert_int_equal(g[2].error, -ENOENT);
    assert_int_equal(g[3].error, -EPROTONOSUPPORT); /* never file:// on redirect */
    assert_true(g[3].body == NULL || strstr(g[3].body, "root:") == NULL);
    for (int i = 0; i < 5; i++)
        got_free(&g[i]);
}

/* The server's "current max total" counters for a group of /slow requests. */
static void
group_conns(const char *group, int *max, int *total, int *conns)
{
    char u[256];
    struct fetch_request req = {.url = u};
    struct got g;
    int cur = -1;

    snprintf(u, sizeof(u), "http://127.0.0.1:%d/stats?group=%s", port1, group);
    fetch1(&req, &g);
    assert_int_equal(g.error, 0);
    assert_int_equal(sscanf(g.body, "%d %d %d %d", &cur, max, total, conns), 4);
    assert_int_equal(cur, 0);
    got_free(&g);
}

static void
group_stats(const char *group, int *max, int *total)
{
    int conns;
    group_conns(group, max, total, &conns);
}

static void
slow_requests(struct fetch_request *req, char (*u)[256], int n, const char *group,
              const char *const *hosts, const char *const *resolves)
{
    memset(req, 0, sizeof(*req) * (size_t)n);
    for (int i = 0; i < n; i++) {
        const char *host = hosts != NULL ? hosts[i] : "127.0.0.1";
        snprintf(u[i], 256, "http://%s:%d/slow?group=%s&ms=250&id=%d", host, port1, group, i);
        req[i].url = u[i];
        req[i].resolve = resolves != NULL ? resolves[i] : NULL;
    }
}

static void
test_per_host(void **state)
{
    struct fetch_request req[8];
    struct got g[8];
    char u[8][256], ra[64], rb[64];
    const char *hosts[6] = {"a.test", "a.test", "a.test", "b.test", "b.test", "b.test"};
    const char *res[6] = {ra, ra, ra, rb, rb, rb};
    int max, total;

    (void)state;
    /* six on one host, per_host 2, room for 8: never more than 2 at once */
    slow_requests(req, u, 6, "ph", NULL, NULL);
    memset(g, 0, sizeof(g));
    run_requests(8, 2, req, g, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g[i].error, 0);
        got_free(&g[i]);
    }
    group_stats("ph", &max, &total);
    assert_int_equal(total, 6);
    assert_int_equal(max, 2);

    /* two hosts at per_host 1 run side by side: a full host holds back no other */
    snprintf(ra, sizeof(ra), "a.test:%d:127.0.0.1", port1);
    snprintf(rb, sizeof(rb), "b.test:%d:127.0.0.1", port1);
    slow_requests(req, u, 6, "hosts", hosts, res);
    run_requests(8, 1, req, g, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g[i].error, 0);
        got_free(&g[i]);
    }
    group_stats("hosts", &max, &total);
    assert_int_equal(total, 6);
    assert_int_equal(max, 2);
}

static void
test_concurrency(void **state)
{
    struct fetch_request req[8];
    struct got g[8];
    char u[8][256], r[6][64];
    const char *hosts[6] = {"h0.test", "h1.test", "h2.test", "h3.test", "h4.test", "h5.test"};
    const char *res[6];
    int max, total;

    (void)state;
    for (int i = 0; i < 6; i++) {
        snprintf(r[i], sizeof(r[i]), "%s:%d:127.0.0.1", hosts[i], port1);
        res[i] = r[i];
    }
    /* six hosts, concurrency 2 */
    slow_requests(req, u, 6, "cc", hosts, res);
    memset(g, 0, sizeof(g));
    run_requests(2, 8, req, g, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g[i].error, 0);
        got_free(&g[i]);
    }
    group_stats("cc", &max, &total);
    assert_int_equal(total, 6);
    assert_int_equal(max, 2);

    /* concurrency 1: first in, first out */
    slow_requests(req, u, 5, "fifo", hosts, res);
    run_requests(1, 8, req, g, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g[i].error, 0);
        assert_int_equal(g[i].seq, i);
        got_free(&g[i]);
    }
    group_stats("fifo", &max, &total);
    assert_int_equal(max, 1);
}

/* test_reuse: its later fetches, started by timers */
struct reuse {
    struct run *r;
    struct fetch_request req;
    int first, n, chain; /* slots first..first+n, the last starting `chain` more */
};

static void
on_reuse_timer(uv_timer_t *t)
{
    struct reuse *w = t->data;
    w->r->chain = w->chain;
    for (int i = w->first; i < w->first + w->n; i++)
        assert_int_equal(fetch_start(w->r->f, &w->req, on_done, &w->r->slots[i]), 0);
    uv_close((uv_handle_t *)t, NULL);
}

/* Idle connections stay for the next fetches of their host. Nine fetches
 * at once, then seven one after another, then nine at once again: nine
 * connections in all. libcurl's cache otherwise keeps four idle
 * connections a running transfer and closed one a fetch while few ran:
 * a refresh of 1,000 feeds on one host opened 218 connections, 32 now. */
static void
test_reuse(void **state)
{
    struct run *r = calloc(1, sizeof(*r));
    struct fetch_request req = {0};
    struct got g[25];
    char u[256], u2[256];
    uv_timer_t t[2];
    struct reuse w[2];
    int max, total, conns;

    (void)state;
    memset(g, 0, sizeof(g));
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/slow?group=reuse&ms=200", port1);
    snprintf(u2, sizeof(u2), "http://127.0.0.1:%d/slow?group=reuse&ms=20", port1);
    req.url = u;
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(fetch_new(&r->loop, 9, 9, &r->f), 0);
    r->expect = 25 - 6; /* the chain adds its six */
    for (int i = 0; i < 25; i++) {
        r->slots[i].run = r;
        r->slots[i].g = &g[i];
    }
    r->next = (struct fetch_request){.url = u2};
    r->chain_got = &g[10];
    for (int i = 0; i < 9; i++)
        assert_int_equal(fetch_start(r->f, &req, on_done, &r->slots[i]), 0);
    w[0] = (struct reuse){.r = r, .req = {.url = u2}, .first = 9, .n = 1, .chain = 6};
    w[1] = (struct reuse){.r = r, .req = req, .first = 16, .n = 9, .chain = 0};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(uv_timer_init(&r->loop, &t[k]), 0);
        t[k].data = &w[k];
        assert_int_equal(uv_timer_start(&t[k], on_reuse_timer, k == 0 ? 400 : 1300, 0), 0);
    }
    assert_int_equal(uv_timer_init(&r->loop, &r->watchdog), 0);
    r->watchdog.data = r;
    assert_int_equal(uv_timer_start(&r->watchdog, on_watchdog, 15000, 0), 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_false(r->expired);
    assert_int_equal(r->fired, 25);
    for (int i = 0; i < 25; i++) {
        assert_int_equal(g[i].error, 0);
        assert_int_equal(g[i].http, 200);
        got_free(&g[i]);
    }
    assert_int_equal(uv_loop_close(&r->loop), 0);
    free(r);
    group_conns("reuse", &max, &total, &conns);
    assert_int_equal(total, 25);
    assert_int_equal(max, 9);
    assert_int_equal(conns, 9);
}

static void
test_start_from_cb(void **state)
{
    struct run *r = calloc(1, sizeof(*r));
    struct fetch_request req = {.url = U1("/feed")};
    struct got g[4];

    (void)state;
    memset(g, 0, sizeof(g));
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(fetch_new(&r->loop, 1, 1, &r->f), 0);
    r->expect = 1;
    r->chain = 3; /* each callback starts the next, three times */
    r->next = req;
    r->chain_got = &g[1];
    r->slots[0].run = r;
    r->slots[0].g = &g[0];
    assert_int_equal(fetch_start(r->f, &req, on_done, &r->slots[0]), 0);
    assert_int_equal(uv_timer_init(&r->loop, &r->watchdog), 0);
    r->watchdog.data = r;
    assert_int_equal(uv_timer_start(&r->watchdog, on_watchdog, 15000, 0), 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_false(r->expired);
    assert_true(r->closed);
    assert_int_equal(r->fired, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g[i].error, 0);
        assert_int_equal(g[i].http, 200);
        got_free(&g[i]);
    }
    assert_int_equal(uv_loop_close(&r->loop), 0);
    free(r);
}

static void
on_closer(uv_timer_t *t)
{
    struct run *r = t->data;
    size_t active, queued;

    fetch_counts(r->f, &active, &queued);
    assert_int_equal(active, 2);
    assert_int_equal(queued, 3);
    r->start_in_cancel = 1;
    fetch_close(r->f, on_closed, r);
    assert_int_equal(r->fired, r->expect); /* every callback, before fetch_close returns */
    uv_close((uv_handle_t *)t, NULL);
}

static void
test_close_in_flight(void **state)
{
    struct run *r = calloc(1, sizeof(*r));
    struct fetch_request req = {.url = U1("/silent?s=3")};
    struct got g[5];
    uint64_t t0;

    (void)state;
    memset(g, 0, sizeof(g));
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(fetch_new(&r->loop, 2, 2, &r->f), 0);
    r->expect = 5;
    for (int i = 0; i < 5; i++) {
        r->slots[i].run = r;
        r->slots[i].g = &g[i];
        assert_int_equal(fetch_start(r->f, &req, on_done, &r->slots[i]), 0);
    }
    assert_int_equal(uv_timer_init(&r->loop, &r->watchdog), 0);
    r->watchdog.data = r;
    assert_int_equal(uv_timer_start(&r->watchdog, on_watchdog, 15000, 0), 0);
    assert_int_equal(uv_timer_init(&r->loop, &r->closer), 0);
    r->closer.data = r;
    assert_int_equal(uv_timer_start(&r->closer, on_closer, 300, 0), 0);
    t0 = uv_hrtime();
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_true(uv_hrtime() - t0 < 2000000000ULL); /* nobody waited for the server */
    assert_false(r->expired);
    assert_true(r->closed);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g[i].fired, 1);
        assert_int_equal(g[i].error, -ECANCELED);
        assert_string_equal(g[i].errmsg, "cancelled");
        got_free(&g[i]);
    }
    assert_int_equal(uv_loop_close(&r->loop), 0);
    free(r);
}

/* Closed before the loop ever ran: queued requests are cancelled at once. */
static void
test_close_before_run(void **state)
{
    struct run *r = calloc(1, sizeof(*r));
    struct fetch_request req = {.url = U1("/feed")};
    struct got g[3];

    (void)state;
    memset(g, 0, sizeof(g));
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(uv_timer_init(&r->loop, &r->watchdog), 0);
    assert_int_equal(fetch_new(&r->loop, 1, 1, &r->f), 0);
    r->expect = 3;
    for (int i = 0; i < 3; i++) {
        r->slots[i].run = r;
        r->slots[i].g = &g[i];
        assert_int_equal(fetch_start(r->f, &req, on_done, &r->slots[i]), 0);
    }
    assert_int_equal(r->fired, 0);
    fetch_close(r->f, on_closed, r);
    assert_int_equal(r->fired, 3);
    assert_false(r->closed); /* done comes from the loop */
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_true(r->closed);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g[i].error, -ECANCELED);
        assert_null(g[i].effective_url);
        assert_true(g[i].seconds == 0);
        got_free(&g[i]);
    }
    assert_int_equal(uv_loop_close(&r->loop), 0);
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_rule),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_200_and_304),
        cmocka_unit_test(test_validators_verbatim),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_timeout_and_refused),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_guard),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_per_host),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_start_from_cb),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_close_in_flight),
        cmocka_unit_test(test_close_before_run),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
