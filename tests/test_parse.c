/* tests/test_parse.c — the feed parser (parse/feed*.c, parse/jsonfeed.c).
 * 1. Every fixture in tests/fixtures/feeds/ through `finfeed parse --json`: stdout
 *    must equal <name>.expected.json byte for byte; <name>.expected.err gives the
 *    exit code ("exit N") and substrings stderr must hold (without it: exit 0 and
 *    nothing on stderr); <name>.args holds extra arguments.
 * 2. parse_feed_mem/parse_feed_file called directly: callback stop, report bits,
 *    ownership, no network, bounded entity expansion, chunk boundaries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include "parse/parse.h"

#define FEEDS FIXTURES "/feeds"

extern char **environ;

/* Sanitizers and valgrind slow everything down: time limits get a margin. */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW_BUILD 1
#endif
#endif
#ifndef SLOW_BUILD
#define SLOW_BUILD 0
#endif
#define TIME_LIMIT (SLOW_BUILD ? 2.0 : 1.0)

/* ---- helpers ---- */

/* Whole file into a NUL-terminated buffer; NULL when it does not exist. */
static char *
slurp(const char *path, size_t *len)
{
    return test_slurp(path, len);
}

struct run {
    int status;   /* exit code, or 128 + signal */
    char *out;    /* stdout */
    size_t out_len;
    char *err;    /* stderr */
    double wall;  /* seconds */
};

/* Run FINFEED_BIN with argv (NULL-terminated, argv[0] ignored) and collect
 * its output through temporary files (no pipe deadlock on big outputs). */
static void
run_finfeed(char *const *argv, struct run *r)
{
    char out_path[] = "/tmp/test_parse.out.XXXXXX", err_path[] = "/tmp/test_parse.err.XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    assert_true(out_fd >= 0 && err_fd >= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    double t0 = test_now();
    int rc = posix_spawn(&pid, FINFEED_BIN, &fa, NULL, argv, environ);
    assert_int_equal(rc, 0);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    r->wall = test_now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    close(out_fd);
    close(err_fd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = slurp(out_path, &r->out_len);
    r->err = slurp(err_path, NULL);
    unlink(out_path);
    unlink(err_path);
}

static void
run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static int
has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* A fixture input: <format>_<case>.xml or .json, not an expectation. */
static int
is_input(const char *name)
{
    return name[0] != '.' && strstr(name, ".expected.") == NULL &&
           (has_suffix(name, ".xml") || has_suffix(name, ".json"));
}

/* "dir/stem.ext" → "dir/stem<suffix>" */
static char *
sibling(const char *name, const char *suffix)
{
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    size_t n = strlen(FEEDS) + 1 + stem + strlen(suffix) + 1;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%.*s%s", FEEDS, (int)stem, name, suffix);
    return p;
}

/* Where two outputs first differ, with some context, for the failure message. */
static void
show_diff(const char *name, const char *want, size_t want_len, const char *got, size_t got_len)
{
    size_t i = 0;
    while (i < want_len && i < got_len && want[i] == got[i])
        i++;
    size_t from = i > 60 ? i - 60 : 0;
    print_error("%s: output differs at byte %zu\n  expected: ...%.*s\n  got:      ...%.*s\n", name,
                i, (int)(want_len - from < 160 ? want_len - from : 160), want + from,
                (int)(got_len - from < 160 ? got_len - from : 160), got + from);
}

/* ---- 1. fixtures through the command line ---- */

static void
test_fixture(void **state)
{
    const char *name = *state;
    char *input = NULL, *args = NULL, *errspec = NULL, *want = NULL;
    size_t want_len = 0;
    char *argv[32];
    int argc = 0;

    input = test_fmt("%s/%s", FEEDS, name);
    char *want_path = sibling(name, ".expected.json");
    char *args_path = sibling(name, ".args");
    char *err_path = sibling(name, ".expected.err");
    want = slurp(want_path, &want_len);
    if (want == NULL)
        fail_msg("%s: no %s", name, want_path);
    args = slurp(args_path, NULL);
    errspec = slurp(err_path, NULL);

    argv[argc++] = "finfeed";
    argv[argc++] = "parse";
    argv[argc++] = "--json";
    if (args != NULL) {
        char *save = NULL;
        for (char *t = strtok_r(args, " \t\n", &save); t && argc < 28;
             t = strtok_r(NULL, " \t\n", &save))
            argv[argc++] = t;
    }
    argv[argc++] = input;
    argv[argc] = NULL;

    struct run r;
    run_finfeed(argv, &r);
    int want_status = 0;
    if (errspec != NULL && sscanf(errspec, "exit %d", &want_status) != 1)
        fail_msg("%s: first line must be \"exit N\"", err_path);
    if (r.status != want_status)
        fail_msg("%s: exit %d, expected %d; stderr: %s", name, r.status, want_status, r.err);
    if (r.out_len != want_len || memcmp(r.out, want, want_len) != 0) {
        show_diff(name, want, want_len, r.out, r.out_len);
        fail();
    }
    if (errspec == NULL) {
        if (r.err[0] != '\0')
            fail_msg("%s: unexpected stderr: %s", name, r.err);
    } else {
        /* every line after the first is a substring stderr must hold */
        char *save = NULL;
        char *line = strtok_r(errspec, "\n", &save);
        while ((line = strtok_r(NULL, "\n", &save)) != NULL)
            if (*line && strstr(r.err, line) == NULL)
                fail_msg("%s: stderr lacks \"%s\": %s", name, line, r.err);
    }
    run_free(&r);
    free(input);
    free(args);
    free(errspec);
    free(want);
    free(want_path);
    free(args_path);
    free(err_path);
}

/* SPEC §9: the billion laughs finish well under a second, whole binary. */
static void
test_billion_laughs_time(void **state)
{
    (void)state;
    char *argv[] = {"finfeed", "parse", "--json", FEEDS "/hostile_billion_laughs.xml", NULL};
    struct run r;
    run_finfeed(argv, &r);
    assert_int_equal(r.status, 0);
    if (r.wall >= TIME_LIMIT)
        fail_msg("billion laughs took %.3f s (limit %.1f s)", r.wall, TIME_LIMIT);
    assert_null(strstr(r.out, "lollol"));
    assert_non_null(strstr(r.out, "\"after\""));
    run_free(&r);
}

/* Every input has its expected output, and every expectation its input. */
static void
test_fixture_pairs(void **state)
{
    (void)state;
    DIR *d = opendir(FEEDS);
    assert_non_null(d);
    struct dirent *de;
    int inputs = 0;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (is_input(n)) {
            inputs++;
            char *w = sibling(n, ".expected.json");
            if (access(w, R_OK) != 0)
                fail_msg("%s has no expected output", n);
            free(w);
        } else if (has_suffix(n, ".expected.json") || has_suffix(n, ".expected.err") ||
                   has_suffix(n, ".args")) {
            size_t stem = (size_t)(strstr(n, has_suffix(n, ".args") ? ".args" : ".expected.") - n);
            char *x = test_fmt("%s/%.*s.xml", FEEDS, (int)stem, n);
            char *j = test_fmt("%s/%.*s.json", FEEDS, (int)stem, n);
            if (access(x, R_OK) != 0 && access(j, R_OK) != 0)
                fail_msg("%s belongs to no input", n);
            free(x);
            free(j);
        }
    }
    closedir(d);
    assert_true(inputs >= 40);
}

/* ---- 2. the API ---- */

struct collect {
    int n;
    int stop_at;          /* return stop_rc at this entry (1-based), 0: never */
    int stop_rc;
    int steal;            /* take title, link and categories */
    char titles[64][128]; /* first entries' titles */
};

static int
on_entry(void *arg, const struct parse_feed *feed, struct parse_entry *e)
{
    struct collect *c = arg;
    assert_non_null(feed);
    if (c->n < 64)
        snprintf(c->titles[c->n], sizeof(c->titles[0]), "%s", e->title ? e->title : "(null)");
    c->n++;
    if (c->steal) {
        /* The contract lets the callback steal fields: it then owns them. */
        char *t = e->title, *l = e->link;
        char **cats = e->categories;
        size_t ncats = e->ncategories;
        e->title = e->link = NULL;
        e->categories = NULL;
        e->ncategories = 0;
        free(t);
        free(l);
        for (size_t i = 0; i < ncats; i++)
            free(cats[i]);
        free(cats);
    }
    if (c->stop_at != 0 && c->n == c->stop_at)
        return c->stop_rc;
    return 0;
}

static int
parse_str(const char *doc, const struct parse_opts *o, struct collect *c,
          struct parse_feed **feed, struct parse_report *rep)
{
    return parse_feed_mem(doc, strlen(doc), o, on_entry, c, feed, rep);
}

static const char three_items[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
    "<item><title>one</title><category>a</category><link>http://x/1</link></item>"
    "<item><title>two</title><category>b</category></item>"
    "<item><title>three</title></item></channel></rss>";

static void
test_api_callback_stop(void **state)
{
    (void)state;
    struct collect c = {.stop_at = 2, .stop_rc = 42};
    struct parse_feed *feed = (struct parse_feed *)&c; /* must be reset */
    struct parse_report rep;
    assert_int_equal(parse_str(three_items, NULL, &c, &feed, &rep), 42);
    assert_int_equal(c.n, 2);
    assert_null(feed);
    assert_string_equal(c.titles[1], "two");

    /* JSON Feed stops the same way. */
    struct collect j = {.stop_at = 1, .stop_rc = 7};
    const char *jf = "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"J\","
                     "\"items\":[{\"id\":\"1\",\"title\":\"a\"},{\"id\":\"2\",\"title\":\"b\"}]}";
    assert_int_equal(parse_str(jf, NULL, &j, &feed, &rep), 7);
    assert_int_equal(j.n, 1);
    assert_null(feed);
}

static void
test_api_steal_and_free(void **state)
{
    (void)state;
    struct collect c = {.steal = 1};
    struct parse_feed *feed = NULL;
    struct parse_report rep;
    assert_int_equal(parse_str(three_items, NULL, &c, &feed, &rep), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(rep.nentries, 3);
    assert_non_null(feed);
    assert_string_equal(feed->title, "T");
    assert_string_equal(feed->format, "rss");
    parse_feed_free(feed);
    /* No callback, no feed, no report: still fine. */
    assert_int_equal(parse_feed_mem(three_items, strlen(three_items), NULL, NULL, NULL, NULL, NULL),
                     0);
    parse_feed_free(NULL);
    parse_entry_free(NULL);
}

struct bits_case {
    const char *doc;
    const char *charset;
    unsigned want;     /* bits that must be set */
    const char *msg;   /* substring of report.message */
    int entries;
};

static void
test_api_report_bits(void **state)
{
    (void)state;
    static const struct bits_case cases[] = {
        {"<rss><channel><title>ok</title><item><title>a</title></item></channel></rss>", NULL, 0,
         "", 1},
        {"<rss><channel><item><title>a</title></item><item><title>b", NULL, PARSE_P_TRUNCATED,
         "cut off", 1},
        {"<rss><channel><item><title>a\xff" "b</title></item></channel></rss>", NULL,
         PARSE_P_BAD_BYTES, "U+FFFD", 1},
        {"<rss><channel><item><title>a & b &nbsp;</title></item></channel></rss>", NULL,
         PARSE_P_ENTITIES, "&", 1},
        {"junk<rss><channel><item><title>a</title></item></channel></rss>", NULL, PARSE_P_JUNK,
         "skipped", 1},
        {"<?xml version=\"1.0\" encoding=\"gbk\"?><rss><channel><item><title>\xb2\xe2</title>"
         "</item></channel></rss>",
         "utf-8", PARSE_P_CHARSET, "HTTP charset", 1},
        {"<rss><channel><item><title>a</b></title></item></channel></rss>", NULL,
         PARSE_P_MALFORMED, "stray end tag </b> dropped", 1},
        {"<rss><channel><item><title a='1' a='2'>a</title></item></channel></rss>", NULL,
         PARSE_P_MALFORMED, "redefined", 1},
        {"<rss><channel><item><title>a</item><item><title>b</title></item></channel></rss>",
         NULL, PARSE_P_MALFORMED, "end tag </title> missing before </item>", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bits_case *k = &cases[i];
        struct parse_opts o = {.charset = k->charset};
        struct collect c = {0};
        struct parse_report rep;
        struct parse_feed *feed = NULL;
        int rc = parse_str(k->doc, &o, &c, &feed, &rep);
        if (rc != 0)
            fail_msg("case %zu: rc %d (%s)", i, rc, rep.message);
        if ((rep.problems & k->want) != k->want || (k->want == 0 && rep.problems != 0))
            fail_msg("case %zu: problems %#x, want %#x (%s)", i, rep.problems, k->want,
                     rep.message);
        if (k->want == 0 ? rep.message[0] != '\0' : strstr(rep.message, k->msg) == NULL)
            fail_msg("case %zu: message \"%s\", want \"%s\"", i, rep.message, k->msg);
        assert_int_equal(c.n, k->entries);
        assert_int_equal(rep.nentries, (size_t)k->entries);
        parse_feed_free(feed);
    }
}

static void
test_api_not_a_feed(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        const char *msg;
    } cases[] = {
        {"", "empty"},
        {" \n\t ", "empty"},
        {"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>", "HTML"},
        {"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>", "not a feed"},
        {"just some text", "not a feed"},
        {"{\"items\": []}", "jsonfeed.org"},
        {"{broken json", "not a feed"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct collect c = {0};
        struct parse_report rep;
        struct parse_feed *feed = (struct parse_feed *)&c;
        int rc = parse_str(cases[i].doc, NULL, &c, &feed, &rep);
        if (rc != -EINVAL)
            fail_msg("case %zu: rc %d", i, rc);
        assert_null(feed);
        assert_int_equal(c.n, 0);
        if (strstr(rep.message, cases[i].msg) == NULL)
            fail_msg("case %zu: message \"%s\", want \"%s\"", i, rep.message, cases[i].msg);
    }
}

/* A document bigger than the 64 KiB chunks, in GBK, with two-byte characters
 * straddling every chunk boundary; read from memory, a file and a pipe. */
static char *
big_gbk(size_t items, size_t *len)
{
    /* "财经新闻" in GBK, and "第" — an odd number of ASCII bytes shifts the
     * alignment from item to item. */
    static const char title[] = "\xb2\xc6\xbe\xad\xd0\xc2\xce\xc5";
    size_t cap = 256 + items * 128, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    n += (size_t)snprintf(b, cap, "<?xml version=\"1.0\" encoding=\"gb2312\"?>\n<rss version=\"2.0\">"
                                  "<channel><title>%s</title><language>zh-cn</language>\n",
                          title);
    for (size_t i = 0; i < items; i++)
        n += (size_t)snprintf(b + n, cap - n,
                              "<item><title>%s %zu</title><pubDate>2022-04-04 10:50:26</pubDate>"
                              "<description>%s%.*s</description></item>\n",
                              title, i, title, (int)(i % 7), "xxxxxxx");
    n += (size_t)snprintf(b + n, cap - n, "</channel></rss>\n");
    *len = n;
    return b;
}

static void
check_big(struct collect *c, struct parse_report *rep, size_t items)
{
    assert_int_equal(rep->problems, 0);
    assert_int_equal(c->n, (int)items);
    for (int i = 0; i < 64 && i < c->n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "财经新闻 %d", i);
        assert_string_equal(c->titles[i], want);
    }
}

struct last_title {
    char title[64];
    char link[128];
    int64_t published;
    int n;
};

static int
on_last(void *arg, const struct parse_feed *feed, struct parse_entry *e)
{
    (void)feed;
    struct last_title *l = arg;
    snprintf(l->title, sizeof(l->title), "%s", e->title ? e->title : "");
    snprintf(l->link, sizeof(l->link), "%s", e->link ? e->link : "");
    l->published = e->published;
    l->n++;
    return 0;
}

static void
test_api_chunks_file_pipe(void **state)
{
    (void)state;
    const size_t items = 4000;
    size_t len;
    char *doc = big_gbk(items, &len);
    assert_true(len > 3 * 64 * 1024);

    struct collect c = {0};
    struct parse_report rep;
    struct parse_feed *feed = NULL;
    assert_int_equal(parse_feed_mem(doc, len, NULL, on_entry, &c, &feed, &rep), 0);
    check_big(&c, &rep, items);
    assert_string_equal(feed->title, "财经新闻");
    parse_feed_free(feed);

    /* The last entry, and a date read in Asia/Shanghai (zh-cn). */
    struct last_title l = {0};
    assert_int_equal(parse_feed_mem(doc, len, NULL, on_last, &l, NULL, &rep), 0);
    assert_string_equal(l.title, "财经新闻 3999");
    assert_int_equal(l.published, 1649040626); /* 2022-04-04T02:50:26Z */

    /* A seekable file. */
    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(fwrite(doc, 1, len, fp), len);
    rewind(fp);
    struct collect cf = {0};
    assert_int_equal(parse_feed_file(fp, NULL, on_entry, &cf, NULL, &rep), 0);
    check_big(&cf, &rep, items);
    fclose(fp);

    /* A pipe (spooled when the charset rules need a second pass: --charset). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        size_t off = 0;
        while (off < len) {
            ssize_t k = write(fds[1], doc + off, len - off);
            if (k <= 0)
                _exit(1);
            off += (size_t)k;
        }
        _exit(0);
    }
    close(fds[1]);
    fp = fdopen(fds[0], "rb");
    assert_non_null(fp);
    struct parse_opts o = {.charset = "utf-8"}; /* fails: the declared gb2312 is used */
    struct collect cp = {0};
    assert_int_equal(parse_feed_file(fp, &o, on_entry, &cp, NULL, &rep), 0);
    assert_true(rep.problems & PARSE_P_CHARSET);
    assert_int_equal(cp.n, (int)items);
    assert_string_equal(cp.titles[5], "财经新闻 5");
    fclose(fp);
    int st;
    waitpid(pid, &st, 0);
    free(doc);
}

/* Documents of 1 MiB and more are decoded in a thread of their own: the same
 * entries, in order; a callback that stops early stops that thread too. */
static void
test_api_big_threaded(void **state)
{
    (void)state;
    const size_t items = 12000;
    size_t len;
    char *doc = big_gbk(items, &len);
    assert_true(len > 1024 * 1024);

    struct collect c = {0};
    struct parse_report rep;
    assert_int_equal(parse_feed_mem(doc, len, NULL, on_entry, &c, NULL, &rep), 0);
    check_big(&c, &rep, items);

    struct last_title l = {0};
    assert_int_equal(parse_feed_mem(doc, len, NULL, on_last, &l, NULL, &rep), 0);
    assert_int_equal(l.n, (int)items);
    assert_string_equal(l.title, "财经新闻 11999");

    static const int stops[] = {1, 5, 6000, 12000};
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        struct collect s = {.stop_at = stops[i], .stop_rc = 42};
        struct parse_feed *feed = NULL;
        assert_int_equal(parse_feed_mem(doc, len, NULL, on_entry, &s, &feed, &rep), 42);
        assert_int_equal(s.n, stops[i]);
        assert_null(feed);
    }

    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(fwrite(doc, 1, len, fp), len);
    rewind(fp);
    struct collect cf = {0};
    assert_int_equal(parse_feed_file(fp, NULL, on_entry, &cf, NULL, &rep), 0);
    check_big(&cf, &rep, items);
    fclose(fp);
    free(doc);
}

static int
listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

struct grep {
    const char *needle;
    int found;
    int n;
};

static int
on_grep(void *arg, const struct parse_feed *feed, struct parse_entry *e)
{
    struct grep *g = arg;
    const char *fields[] = {e->title, e->link, e->id, e->summary, e->content, e->author,
                            feed->title, feed->link};
    g->n++;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i] && strstr(fields[i], g->needle))
            g->found = 1;
    return 0;
}

/* SPEC §9: no external entity, no DTD, no network — not even to a listener
 * on this machine; a local file's content never shows up. */
static void
test_api_no_network_no_files(void **state)
{
    (void)state;
    int port;
    int lfd = listener(&port);
    char secret_path[] = "/tmp/test_parse.secret.XXXXXX";
    int sfd = mkstemp(secret_path);
    assert_true(sfd >= 0);
    assert_int_equal(write(sfd, "TOPSECRET-7f3a", 14), 14);
    close(sfd);

    char doc[2048];
    snprintf(doc, sizeof(doc),
             "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE rss SYSTEM \"http://127.0.0.1:%d/rss.dtd\" [\n"
             "<!ENTITY file SYSTEM \"file://%s\">\n"
             "<!ENTITY net SYSTEM \"http://127.0.0.1:%d/entity\">\n"
             "<!ENTITY %% pe SYSTEM \"http://127.0.0.1:%d/pe.dtd\">\n"
             "%%pe;\n"
             "]>\n"
             "<rss version=\"2.0\"><channel><title>t &file; &net;</title>"
             "<item><title>a &file;</title><description>&net; &file;</description>"
             "<link>http://x/?&file;</link></item></channel></rss>\n",
             port, secret_path, port, port);
    struct grep g = {.needle = "TOPSECRET"};
    struct parse_report rep;
    struct parse_feed *feed = NULL;
    assert_int_equal(parse_feed_mem(doc, strlen(doc), NULL, on_grep, &g, &feed, &rep), 0);
    assert_int_equal(g.n, 1);
    assert_false(g.found);
    assert_null(strstr(feed->title, "TOPSECRET"));
    parse_feed_free(feed);

    struct pollfd p = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 50), 0); /* nobody connected */
    close(lfd);
    unlink(secret_path);
}

/* Exponential (billion laughs) and quadratic entity expansion stay bounded in
 * time and memory, and the entries around them survive. */
static void
test_api_entity_bombs(void **state)
{
    (void)state;
    size_t len = 0;
    char *laughs = test_fmt("%s/hostile_billion_laughs.xml", FEEDS);
    char *doc = slurp(laughs, &len);
    assert_non_null(doc);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = test_now();
    struct collect c = {0};
    struct parse_report rep;
    assert_int_equal(parse_feed_mem(doc, len, NULL, on_entry, &c, NULL, &rep), 0);
    double dt = test_now() - t0;
    if (dt >= TIME_LIMIT)
        fail_msg("billion laughs: %.3f s", dt);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.titles[1], "after");
    assert_true(rep.problems & PARSE_P_MALFORMED);
    free(doc);
    free(laughs);

    /* Quadratic: a 60 kB entity referenced 20,000 times (1.2 GB expanded). */
    size_t elen = 60000, refs = 20000;
    size_t cap = elen + refs * 3 + 512;
    doc = malloc(cap);
    assert_non_null(doc);
    size_t n = (size_t)snprintf(doc, cap, "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"");
    memset(doc + n, 'A', elen);
    n += elen;
    n += (size_t)snprintf(doc + n, cap - n,
                          "\">]><rss><channel><title>q</title><item><title>x</title><description>");
    for (size_t i = 0; i < refs; i++) {
        memcpy(doc + n, "&a;", 3);
        n += 3;
    }
    n += (size_t)snprintf(doc + n, cap - n,
                          "</description></item><item><title>after</title></item></channel></rss>");
    struct collect q = {0};
    t0 = test_now();
    assert_int_equal(parse_feed_mem(doc, n, NULL, on_entry, &q, NULL, &rep), 0);
    dt = test_now() - t0;
    if (dt >= TIME_LIMIT)
        fail_msg("quadratic blow-up: %.3f s", dt);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.titles[1], "after");
    free(doc);
    getrusage(RUSAGE_SELF, &ru1);
    /* ru_maxrss in KiB: the process grew by less than 64 MiB. */
    assert_true(ru1.ru_maxrss - ru0.ru_maxrss < 64 * 1024);
}

/* 10,000 nested elements: no crash, the items around them kept. */
static void
test_api_deep_nesting(void **state)
{
    (void)state;
    const int depth = 10000;
    size_t cap = (size_t)depth * 11 + 512, n = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    n += (size_t)snprintf(doc, cap, "<rss><channel><item><title>a</title></item><item><title>b");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(doc + n, cap - n, "<x>");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(doc + n, cap - n, "</x>");
    n += (size_t)snprintf(doc + n, cap - n, "</title></item><item><title>c</title></item>"
                                            "</channel></rss>");
    struct collect c = {0};
    struct parse_report rep;
    assert_int_equal(parse_feed_mem(doc, n, NULL, on_entry, &c, NULL, &rep), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.titles[0], "a");
    assert_string_equal(c.titles[2], "c");
    free(doc);
}

/* Text references, comments, CDATA sections and PIs cut by the 64 KiB chunk
 * boundary of the input pipeline read the same as anywhere else. */
static void
test_api_chunk_boundaries(void **state)
{
    (void)state;
    static const struct {
        const char *xml;  /* inside <title> */
        const char *want; /* the title */
    } cases[] = {
        {"a &lt;b&gt; &amp; &#x4E2D;&#25991; z", "a <b> & 中文 z"},
        {"x<!-- a -- comment -> --> y", "x y"},
        {"x<![CDATA[ <p>]] ]>&amp; ]]>y", "x <p>]] ]>&amp; y"},
        {"x<?pi a > b ?? ?>y", "xy"},
        {"]]&gt; ]]]&gt; &#93;]&gt;", "]]> ]]]> ]]>"},
        {"&#169;&apos;&quot;&#9;&#10;&#13;x", "©'\"\t\n\rx"},
    };
    const size_t chunk = 64 * 1024;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t xl = strlen(cases[i].xml);
        for (size_t shift = 0; shift < xl + 2; shift++) {
            /* <rss><channel><!--padding--><item><title>XML</title>... with XML
             * starting `shift` bytes before the chunk boundary */
            const char *head = "<rss><channel><!--";
            const char *mid = "--><item><title>";
            size_t pad = chunk - shift - strlen(head) - strlen(mid);
            size_t cap = chunk + xl + 256, n = 0;
            char *doc = malloc(cap);
            assert_non_null(doc);
            n += (size_t)snprintf(doc, cap, "%s", head);
            memset(doc + n, 'p', pad);
            n += pad;
            n += (size_t)snprintf(doc + n, cap - n, "%s%s</title></item><item><title>2</title>"
                                                    "</item></channel></rss>",
                                  mid, cases[i].xml);
            struct collect c = {0};
            struct parse_report rep;
            int rc = parse_feed_mem(doc, n, NULL, on_entry, &c, NULL, &rep);
            if (rc != 0 || c.n != 2 || strcmp(c.titles[0], cases[i].want) != 0 ||
                strcmp(c.titles[1], "2") != 0)
                fail_msg("case %zu shift %zu: rc %d, %d entries, title \"%s\" (%s)", i, shift,
                         rc, c.n, c.titles[0], rep.message);
            free(doc);
        }
    }
}

/* Options: base URL, HTTP charset, time zone. */
static void
test_api_opts(void **state)
{
    (void)state;
    const char *doc = "<rss><channel><title>t</title><item><title>x</title><link>a/b.html</link>"
                      "<pubDate>2022-04-04 10:50:26</pubDate></item></channel></rss>";
    struct parse_opts o = {.base_url = "http://example.com/dir/feed.xml", .timezone = "Asia/Tokyo"};
    struct last_title l = {0};
    struct parse_report rep;
    assert_int_equal(parse_feed_mem(doc, strlen(doc), &o, on_last, &l, NULL, &rep), 0);
    assert_int_equal(l.published, 1649037026); /* 10:50:26 +09:00 */
    assert_string_equal(l.link, "http://example.com/dir/a/b.html");

    /* An unknown HTTP charset is ignored, with a note. */
    struct parse_opts bad = {.charset = "x-no-such-charset"};
    struct collect c = {0};
    assert_int_equal(parse_str(doc, &bad, &c, NULL, &rep), 0);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(rep.message, "x-no-such-charset"));
}

int
main(void)
{
    static const struct CMUnitTest api[] = {
        cmocka_unit_test(test_fixture_pairs),
        cmocka_unit_test(test_billion_laughs_time),
        cmocka_unit_test(test_api_callback_stop),
        cmocka_unit_test(test_api_steal_and_free),
        cmocka_unit_test(test_api_report_bits),
        cmocka_unit_test(test_api_not_a_feed),
        cmocka_unit_test(test_api_chunks_file_pipe),
        cmocka_unit_test(test_api_big_threaded),
        cmocka_unit_test(test_api_no_network_no_files),
        cmocka_unit_test(test_api_entity_bombs),
        cmocka_unit_test(test_api_deep_nesting),
        cmocka_unit_test(test_api_chunk_boundaries),
        cmocka_unit_test(test_api_opts),
    };
    /* One test per fixture, named after it. */
    struct dirent **names;
    int n = scandir(FEEDS, &names, NULL, alphasort);
    if (n < 0) {
        perror(FEEDS);
        return 1;
    }
    struct CMUnitTest *fx = calloc((size_t)n + 1, sizeof(*fx));
    size_t nfx = 0;
    for (int i = 0; i < n; i++) {
        if (is_input(names[i]->d_name)) {
            fx[nfx].name = strdup(names[i]->d_name);
            fx[nfx].test_func = test_fixture;
            fx[nfx].initial_state = (void *)fx[nfx].name;
            nfx++;
        }
        free(names[i]);
    }
    free(names);
    int failed = _cmocka_run_group_tests("fixtures", fx, nfx, NULL, NULL);
    failed += cmocka_run_group_tests_name("api", api, NULL, NULL);
    for (size_t i = 0; i < nfx; i++)
        free((char *)fx[i].name);
    free(fx);
    return failed ? 1 : 0;
}
