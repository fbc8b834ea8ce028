/* tests/test_ctl.c — daemon/ctl/: the control socket (SPEC §5.3) served by
 * a real service on a uv loop, with a temporary socket, SQLite database and
 * configuration (file:// feeds), talked to over the socket: ping, status,
 * stats, refresh (waiting, --no-wait, unknown and disabled feeds), reload
 * (good and bad files), prune, malformed and over-long lines, lines of too
 * many words, a client gone before its answer; the socket keeps accepting after a failed allocation,
 * out of descriptors and with every client slot taken by idle clients; a
 * client that never reads its replies is dropped; a read-only database is
 * named at start. The loop runs on its own thread; the test's thread
 * speaks the protocol with blocking sockets and stops the loop with a
 * uv_async_t; every handle is closed and uv_loop_close() must succeed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <uv.h>

#include "daemon/config/config.h"
#include "daemon/ctl/ctl.h"
#include "daemon/service/service.h"
#include "test_util.h"

struct fixture {
    char dir[64], sock[128], conf[128], db[128], feed[128];
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    struct service *svc;
    struct ctl *ctl;
    int closed; /* ctl_stop and service_stop callbacks */
};

static struct fixture *F;

static const char feed_xml[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<rss version=\"2.0\"><channel><title>A</title><link>https://a.example/</link>\n"
    "<item><title>One</title><link>https://a.example/1</link><guid>urn:a:1</guid>"
    "<pubDate>Wed, 01 May 2024 08:00:00 GMT</pubDate><description>first</description></item>\n"
    "<item><title>Two</title><link>https://a.example/2</link><guid>urn:a:2</guid>"
    "<pubDate>Wed, 01 May 2024 09:00:00 GMT</pubDate><description>second</description></item>\n"
    "</channel></rss>\n";

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* The configuration: feed "a" (fetchable), "off" (disabled), and `extra`. */
static void
write_conf(struct fixture *f, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "[daemon]\ndatabase = %s\ncontrol_socket = %s\nlisten = \"\"\n"
             "allow_file_urls = yes\ninterval = 1h\nretention = 0\nnode = ctl-node-1\n\n"
             "[feed \"a\"]\nurl = file://%s\n\n"
             "[feed \"off\"]\nurl = file://%s\nenabled = no\n\n%s",
             f->db, f->sock, f->feed, f->feed, extra);
    write_file(f->conf, text);
}

static void
on_closed(void *arg)
{
    struct fixture *f = arg;
    f->closed++;
}

static void
on_stop(uv_async_t *a)
{
    struct fixture *f = a->data;
    ctl_stop(f->ctl, on_closed, f);
    service_stop(f->svc, on_closed, f);
    uv_close((uv_handle_t *)&f->stop, NULL);
}

static void *
loop_main(void *arg)
{
    struct fixture *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct config *cfg = NULL;
    char err[512];

    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/test_ctl.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->sock, sizeof(f->sock), "%s/control.sock", f->dir);
    snprintf(f->conf, sizeof(f->conf), "%s/finfeed.conf", f->dir);
    snprintf(f->db, sizeof(f->db), "%s/finfeed.db", f->dir);
    snprintf(f->feed, sizeof(f->feed), "%s/a.xml", f->dir);
    write_file(f->feed, feed_xml);
    write_conf(f, "");
    /* as `finfeed daemon` does: a reply to a client gone is an EPIPE, not a signal */
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || uv_loop_init(&f->loop) != 0 ||
        uv_async_init(&f->loop, &f->stop, on_stop) != 0)
        return -1;
    f->stop.data = f;
    if (config_load(f->conf, &cfg, err, sizeof(err)) < 0 ||
        service_new(&f->loop, cfg, f->conf, &f->svc, err, sizeof(err)) < 0 ||
        service_start(f->svc, err, sizeof(err)) < 0 ||
        ctl_start(&f->loop, f->svc, f->sock, &f->ctl, err, sizeof(err)) < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    if (pthread_create(&f->thread, NULL, loop_main, f) != 0)
        return -1;
    F = f;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    const char *files[] = {"finfeed.db", "finfeed.db-wal", "finfeed.db-shm", "finfeed.conf",
                           "a.xml", "control.sock"};
    char path[256];

    assert_int_equal(uv_async_send(&f->stop), 0);
    pthread_join(f->thread, NULL);
    assert_int_equal(f->closed, 2);
    service_free(f->svc);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    curl_global_cleanup();
    assert_int_equal(access(f->sock, F_OK), -1); /* ctl_stop removed it */
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- the client side ---- */

static int
client(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_true(strlen(F->sock) < sizeof(sun.sun_path));
    memcpy(sun.sun_path, F->sock, strlen(F->sock) + 1);
    /* a full backlog (a server that stopped accepting) fails after 10 s */
    struct timeval tv = {.tv_sec = 10};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    return fd;
}

static void
send_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        data += w;
        n -= (size_t)w;
    }
}

/* One reply line, parsed (10 s at most). */
static json_t *
read_reply(int fd)
{
    char buf[65536];
    size_t len = 0;
    json_error_t jerr;
    while (len == 0 || buf[len - 1] != '\n') {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 10000), 1);
        ssize_t r = read(fd, buf + len, 1); /* byte by byte: never past the line */
        assert_int_equal(r, 1);
        len++;
        assert_true(len < sizeof(buf));
    }
    json_t *o = json_loadb(buf, len, 0, &jerr);
    if (o == NULL)
        print_error("not JSON: %.*s (%s)\n", (int)len, buf, jerr.text);
    assert_non_null(o);
    return o;
}

static json_t *
ask_on(int fd, const char *line)
{
    send_all(fd, line, strlen(line));
    send_all(fd, "\n", 1);
    return read_reply(fd);
}

/* One request on a connection of its own. */
static json_t *
ask(const char *line)
{
    int fd = client();
    json_t *o = ask_on(fd, line);
    close(fd);
    return o;
}

static int
ok(json_t *o)
{
    return json_is_true(json_object_get(o, "ok"));
}

static const char *
str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void
assert_error(json_t *o, const char *want)
{
    assert_false(ok(o));
    const char *e = str(o, "error");
    assert_non_null(e);
    if (strstr(e, want) == NULL)
        print_error("error \"%s\" lacks \"%s\"\n", e, want);
    assert_non_null(strstr(e, want));
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server closed this connection: EOF (or a reset) within 10 s. */
static void
assert_closed(int fd)
{
    char c;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_true(read(fd, &c, 1) <= 0);
}

/* ---- the tests ---- */

static void
test_ping(void **state)
{
    (void)state;
    json_t *o = ask("ping");
    assert_true(ok(o));
    assert_string_equal(str(o, "version"), FINFEED_VERSION);
    json_decref(o);
}

static void
test_status(void **state)
{
    (void)state;
    json_t *o = ask("status"), *feeds = json_object_get(o, "feeds");
    assert_true(ok(o));
    assert_string_equal(str(o, "node"), "ctl-node-1");
    assert_int_equal(json_array_size(feeds), 2);
    assert_string_equal(str(json_array_get(feeds, 0), "feed"), "a");
    assert_string_equal(str(json_array_get(feeds, 1), "feed"), "off");
    json_decref(o);

    o = ask("status off");
    feeds = json_object_get(o, "feeds");
    assert_true(ok(o));
    assert_int_equal(json_array_size(feeds), 1);
    assert_true(json_is_false(json_object_get(json_array_get(feeds, 0), "enabled")));
    assert_string_equal(str(json_array_get(feeds, 0), "state"), "disabled");
    assert_true(json_is_null(json_object_get(json_array_get(feeds, 0), "next_fetch")));
    json_decref(o);

    o = ask("status nope");
    assert_error(o, "unknown feed \"nope\"");
    json_decref(o);
    o = ask("status a off");
    assert_error(o, "usage: status [FEED]");
    json_decref(o);
}

/* A bad request is answered with ok:false and the connection goes on. */
static void
test_bad_requests(void **state)
{
    (void)state;
    int fd = client();
    json_t *o = ask_on(fd, "frobnicate now");
    assert_error(o, "unknown command 'frobnicate'");
    json_decref(o);
    o = ask_on(fd, "");
    assert_error(o, "empty request");
    json_decref(o);
    o = ask_on(fd, "  \t ");
    assert_error(o, "empty request");
    json_decref(o);
    /* a NUL byte inside a line */
    send_all(fd, "ping\0x\n", 7);
    o = read_reply(fd);
    assert_error(o, "empty request");
    json_decref(o);
    /* CRLF is fine */
    o = ask_on(fd, "ping\r");
    assert_true(ok(o));
    json_decref(o);
    /* an over-long line: one error, then the next line is read again */
    char *big = malloc(10000);
    assert_non_null(big);
    memset(big, 'x', 10000);
    send_all(fd, big, 10000);
    free(big);
    o = ask_on(fd, "");
    assert_error(o, "longer than 4096 bytes");
    json_decref(o);
    o = ask_on(fd, "ping");
    assert_true(ok(o));
    json_decref(o);
    /* more words than the server splits (found by fuzz/fuzz_ctl.c): refused
     * whole, not cut after the 64th (which refreshed "a" and never saw
     * "nope") */
    FILE *f = fopen(FIXTURES "/ctl/too_many_words.line", "rb");
    assert_non_null(f);
    char line[512];
    size_t n = fread(line, 1, sizeof(line), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(line) && line[n - 1] == '\n');
    send_all(fd, line, n);
    o = read_reply(fd);
    assert_error(o, "too many words (at most 64)");
    json_decref(o);
    /* two requests in one write: two replies, in order */
    send_all(fd, "status nope\nping\n", 17);
    o = read_reply(fd);
    assert_error(o, "unknown feed");
    json_decref(o);
    o = read_reply(fd);
    assert_true(ok(o));
    assert_non_null(str(o, "version"));
    json_decref(o);
    close(fd);
}

static void
test_refresh(void **state)
{
    (void)state;
    json_t *o = ask("refresh --no-wait nope");
    assert_error(o, "unknown feed \"nope\"");
    json_decref(o);
    o = ask("refresh nope a");
    assert_error(o, "unknown feed \"nope\"");
    json_decref(o);

    o = ask("refresh --no-wait a a");
    assert_true(ok(o));
    assert_int_equal(json_array_size(json_object_get(o, "queued")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "queued"), 0)), "a");
    json_decref(o);

    /* waiting: the fetch of file://…/a.xml, its counts */
    o = ask("refresh a");
    assert_true(ok(o));
    json_t *r = json_array_get(json_object_get(o, "feeds"), 0);
    assert_non_null(r);
    assert_string_equal(str(r, "feed"), "a");
    assert_string_equal(str(r, "status"), "ok");
    assert_true(json_is_null(json_object_get(r, "error")));
    json_decref(o);

    /* a disabled feed: answered, not fetched */
    o = ask("refresh off");
    assert_true(ok(o));
    r = json_array_get(json_object_get(o, "feeds"), 0);
    assert_string_equal(str(r, "status"), "error");
    assert_string_equal(str(r, "error"), "feed is disabled");
    json_decref(o);

    /* every enabled feed */
    o = ask("refresh");
    assert_true(ok(o));
    assert_int_equal(json_array_size(json_object_get(o, "feeds")), 1);
    json_decref(o);

    o = ask("status a");
    r = json_array_get(json_object_get(o, "feeds"), 0);
    assert_string_equal(str(r, "state"), "stale"); /* items of 2024, stale_after 14 d */
    assert_string_equal(str(r, "last_status"), "ok");
    assert_int_equal(json_integer_value(json_object_get(r, "articles")), 2);
    assert_non_null(str(r, "last_fetch"));
    json_decref(o);

    /* a client gone before its answer: the service must not call it */
    for (int i = 0; i < 5; i++) {
        int fd = client();
        send_all(fd, "refresh a\nping\n", 15);
        close(fd);
    }
    o = ask("refresh a"); /* joins or follows those fetches */
    assert_true(ok(o));
    json_decref(o);
}

static void
test_stats_prune(void **state)
{
    (void)state;
    json_t *o = ask("stats");
    assert_true(ok(o));
    assert_int_equal(json_integer_value(json_object_get(o, "feeds")), 2);
    assert_true(json_is_true(json_object_get(o, "store_ok")));
    assert_non_null(json_object_get(json_object_get(o, "fetches"), "not-modified"));
    json_decref(o);
    o = ask("prune"); /* retention 0: no article; tombstones: none to expire */
    assert_true(ok(o));
    assert_int_equal(json_integer_value(json_object_get(o, "pruned")), 0);
    assert_true(json_is_integer(json_object_get(o, "tombstones")));
    assert_int_equal(json_integer_value(json_object_get(o, "tombstones")), 0);
    json_decref(o);
}

static void
test_reload(void **state)
{
    struct fixture *f = *state;
    char extra[256];

    snprintf(extra, sizeof(extra), "[feed \"b\"]\nurl = file://%s\n", f->feed);
    write_conf(f, extra);
    json_t *o = ask("reload");
    assert_true(ok(o));
    assert_int_equal(json_integer_value(json_object_get(o, "feeds")), 3);
    json_decref(o);
    o = ask("status b");
    assert_true(ok(o));
    json_decref(o);

    /* a bad file: the error, and the old configuration stays whole */
    write_file(f->conf, "[daemon]\nconcurrency = lots\n");
    o = ask("reload");
    assert_error(o, "concurrency");
    json_decref(o);
    o = ask("status");
    assert_int_equal(json_array_size(json_object_get(o, "feeds")), 3);
    json_decref(o);

    write_conf(f, ""); /* b removed */
    o = ask("reload");
    assert_true(ok(o));
    json_decref(o);
    o = ask("status b");
    assert_error(o, "unknown feed");
    json_decref(o);
}

/* Bug 7: a client the server could not allocate is accepted and closed;
 * the socket goes on accepting (it used to stop watching it for good). */
static void
test_alloc_failure(void **state)
{
    struct fixture *f = *state;
    ctl_test_fail_allocs(f->ctl, 3);
    for (int i = 0; i < 3; i++) {
        int fd = client();
        assert_closed(fd); /* accepted, then closed: not left in the backlog */
        close(fd);
    }
    json_t *o = ask("ping");
    assert_true(ok(o));
    json_decref(o);
}

/* Bug 7: out of descriptors, accepting pauses and resumes; a client that
 * connected meanwhile waits in the backlog and is answered, not dropped. */
static void
test_out_of_descriptors(void **state)
{
    (void)state;
    struct rlimit old, low;
    int fds[1024], n = 0;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    if (low.rlim_cur == RLIM_INFINITY || low.rlim_cur > 512)
        low.rlim_cur = 512;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            assert_true(errno == EMFILE);
            break;
        }
        assert_true(n < (int)(sizeof(fds) / sizeof(fds[0])));
        fds[n++] = fd;
    }
    assert_true(n > 0);
    close(fds[--n]); /* one for the client's own socket */
    int fd = client();
    send_all(fd, "ping\n", 5);
    nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL); /* it tries to accept, and cannot */
    while (n > 0)
        close(fds[--n]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    json_t *o = read_reply(fd);
    assert_true(ok(o));
    json_decref(o);
    close(fd);
    o = ask("ping");
    assert_true(ok(o));
    json_decref(o);
}

/* Bug 7: every client slot held by a silent client no longer locks the
 * operator out: the oldest idle client makes room. */
static void
test_idle_clients(void **state)
{
    (void)state;
    enum { IDLE = 300 };
    int fds[IDLE];
    for (int i = 0; i < IDLE; i++)
        fds[i] = client();
    /* they are accepted in order: by the time this one is, all are */
    int64_t t0 = now_ms();
    json_t *o = ask("ping");
    int64_t took = now_ms() - t0;
    assert_true(ok(o));
    json_decref(o);
    if (test_timed() && took > 1000)
        print_error("ping took %lld ms behind %d idle clients\n", (long long)took, IDLE);
    if (test_timed())
        assert_true(took <= 1000);
    /* the newest idle client is still served */
    o = ask_on(fds[IDLE - 1], "ping");
    assert_true(ok(o));
    json_decref(o);
    for (int i = 0; i < IDLE; i++)
        close(fds[i]);
}

/* A client that sends requests and never reads the replies is dropped (the
 * daemon never exits because of a client, SPEC §5.3). */
static void
test_client_not_reading(void **state)
{
    (void)state;
    static char lines[64 * 1024];
    int fd = client();
    for (size_t i = 0; i + 6 <= sizeof(lines); i += 6)
        memcpy(lines + i, "stats\n", 6);
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    /* until the server stops reading from us, or drops us */
    int64_t t0 = now_ms();
    while (now_ms() - t0 < 20000) {
        ssize_t w = send(fd, lines, sizeof(lines), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN)
            break; /* dropped */
        if (w < 0) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 2000) == 0)
                break; /* the server no longer reads */
        }
    }
    json_t *o = ask("ping");
    assert_true(ok(o));
    json_decref(o);
    close(fd);
}

/* Run service_new on the configuration `conf` in a child process (as
 * nobody when we are root and `drop` is set, so that file modes bind): its
 * error into err, "" when it started. */
static void
start_error(const char *conf, int drop, char *err, size_t size)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct config *cfg = NULL;
        struct service *svc = NULL;
        uv_loop_t loop;
        char msg[1024] = "";
        close(p[0]);
        if (drop && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            snprintf(msg, sizeof(msg), "setuid: %s", strerror(errno));
        else if (uv_loop_init(&loop) != 0)
            snprintf(msg, sizeof(msg), "uv_loop_init failed");
        else if (config_load(conf, &cfg, msg, sizeof(msg)) == 0 &&
                 service_new(&loop, cfg, conf, &svc, msg, sizeof(msg)) == 0)
            msg[0] = '\0';
        (void)!write(p[1], msg, strlen(msg));
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(p[0], err + n, size - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = '\0';
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* Bug 9: a read-only database is named, with its path, when the daemon
 * starts, not blamed on the first feed written. */
static void
test_readonly_database(void **state)
{
    (void)state;
    char dir[64] = "/tmp/test_ctl_ro.XXXXXX", db[128], conf[128], text[512], err[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/ro.db", dir);
    snprintf(conf, sizeof(conf), "%s/ro.conf", dir);
    snprintf(text, sizeof(text),
             "[daemon]\ndatabase = %s\nlisten = \"\"\nallow_file_urls = yes\n\n"
             "[feed \"c000\"]\nurl = file:///dev/null\n",
             db);
    write_file(conf, text);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(conf, 0644), 0);
    start_error(conf, 0, err, sizeof(err)); /* creates it */
    assert_string_equal(err, "");
    char wal[160], shm[160];
    snprintf(wal, sizeof(wal), "%s-wal", db);
    snprintf(shm, sizeof(shm), "%s-shm", db);
    if (geteuid() == 0)
        assert_int_equal(chown(db, 65534, 65534), 0);

    /* the file read-only (its -wal and -shm left by the last run) */
    assert_int_equal(chmod(db, 0444), 0);
    start_error(conf, 1, err, sizeof(err));
    if (strstr(err, db) == NULL || strstr(err, "read-only database") == NULL)
        print_error("read-only file: \"%s\"\n", err);
    assert_non_null(strstr(err, db));
    assert_non_null(strstr(err, "read-only database"));

    /* the file writable, its directory not (no room for the -wal file) */
    unlink(wal);
    unlink(shm);
    assert_int_equal(chmod(db, 0644), 0);
    assert_int_equal(chmod(dir, 0555), 0);
    start_error(conf, 1, err, sizeof(err));
    if (strstr(err, db) == NULL || strstr(err, "read-only database") == NULL)
        print_error("read-only directory: \"%s\"\n", err);
    assert_non_null(strstr(err, db));
    assert_non_null(strstr(err, "read-only database"));

    assert_int_equal(chmod(dir, 0755), 0);
    unlink(db);
    unlink(wal);
    unlink(shm);
    unlink(conf);
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),        cmocka_unit_test(test_status),
        cmocka_unit_test(test_bad_requests), cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_stats_prune), cmocka_unit_test(test_reload),
        cmocka_unit_test(test_alloc_failure), cmocka_unit_test(test_out_of_descriptors),
        cmocka_unit_test(test_idle_clients), cmocka_unit_test(test_client_not_reading),
        cmocka_unit_test(test_readonly_database),
    };
    if (getenv("TEST_FILTER") != NULL) /* e.g. TEST_FILTER='test_idle*' */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
